/**
 * @file fuzz_mixer.c  Random operation sequences on the minus-one mixer,
 * run on every kernel family the CPU supports side by side; after every
 * tick each SIMD mixer must be bit-exact with the scalar one (outputs,
 * levels, VAD, contribution, output groups) and every output sample
 * within the limiter ceiling.
 *
 * Input: 3 config bytes (rate, ptime, capacity/top-K), then operations,
 * one byte each plus arguments:
 *   0 add leg                 1 remove leg <slot>
 *   2 set flags <slot> <f>    3 set gain <slot> <in> <out> (int8 / 4 dB)
 *   4 fill constant <slot> <int16>
 *   5 fill from input <slot> <n> <n*2 bytes, repeated over the frame>
 *   6 fill full-scale square <slot> <period>
 *   7 tick
 */
#include <stdbool.h>
#include <stdlib.h>

#include <chorus/mixer.h>
#include "fuzz_common.h"

enum { MAX_OPS = 400, MAX_TICKS = 48, CAP_MAX = 12 };

struct fleet {
	struct mixer *mix[MIX_ISA_COUNT];
	enum mix_isa isa[MIX_ISA_COUNT];
	unsigned n;              /* mix[0] is the scalar reference */
	bool used[CAP_MAX];
	unsigned cap;
	size_t ns;
};


static void compare(const struct fleet *f)
{
	const struct mixer *ref = f->mix[0];

	for (unsigned id = 0; id < f->cap; id++) {
		const int16_t *o0;

		if (!f->used[id])
			continue;

		o0 = mix_leg_output(ref, id);
		FUZZ_CHECK(o0 != NULL);
		for (size_t i = 0; i < f->ns; i++)
			FUZZ_CHECK(abs(o0[i]) <= MIX_LIMIT_THRESHOLD);

		for (unsigned k = 1; k < f->n; k++) {
			const struct mixer *m = f->mix[k];
			const int16_t *o = mix_leg_output(m, id);

			if (memcmp(o0, o, f->ns * sizeof(*o))) {
				size_t i = 0;

				while (o0[i] == o[i])
					i++;
				fprintf(stderr, "mixer %s leg %u sample %zu: "
					"%d, scalar %d\n",
					mix_isa_name(f->isa[k]), id, i, o[i],
					o0[i]);
				FUZZ_CHECK(0 && "SIMD output differs");
			}
			FUZZ_CHECK(mix_leg_level(m, id) ==
				   mix_leg_level(ref, id));
			FUZZ_CHECK(mix_leg_vad(m, id) == mix_leg_vad(ref, id));
			FUZZ_CHECK(mix_leg_contributing(m, id) ==
				   mix_leg_contributing(ref, id));
			FUZZ_CHECK(mix_leg_speaker(m, id) ==
				   mix_leg_speaker(ref, id));
			FUZZ_CHECK(mix_leg_output_group(m, id) ==
				   mix_leg_output_group(ref, id));
		}
		FUZZ_CHECK(mix_leg_output_group(ref, id) < 2 * f->cap + 2);
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t rates[5] = {8000, 16000, 24000, 32000, 48000};
	static const uint32_t ptimes[4] = {10, 20, 30, 60};
	struct fuzz_in in = {data, size};
	struct fleet f;
	struct mix_cfg cfg;
	unsigned mask, ticks = 0;
	uint8_t b;

	if (size < 3)
		return 0;

	memset(&f, 0, sizeof(f));
	cfg.srate = rates[fin_u8(&in) % 5];
	cfg.ptime_ms = ptimes[fin_u8(&in) & 3];
	b = fin_u8(&in);
	cfg.capacity = 1 + (b & 0x0f) % CAP_MAX;
	cfg.topk = (b >> 4) % (cfg.capacity + 1);
	f.cap = cfg.capacity;

	mask = mix_isa_supported();
	for (int isa = MIX_ISA_SCALAR; isa < MIX_ISA_COUNT; isa++) {
		if (!(mask & (1u << isa)))
			continue;
		cfg.isa = (enum mix_isa)isa;
		if (mix_alloc(&f.mix[f.n], &cfg))
			goto out;
		f.isa[f.n++] = (enum mix_isa)isa;
	}
	FUZZ_CHECK(f.n >= 1 && f.isa[0] == MIX_ISA_SCALAR);
	f.ns = mix_frame_samples(f.mix[0]);

	for (int k = 0; k < MAX_OPS && in.n && ticks < MAX_TICKS; k++) {
		uint8_t op = fin_u8(&in) & 7;
		unsigned id = 0, id0 = 0;
		int err0 = 0;

		switch (op) {

		case 0:
			for (unsigned m = 0; m < f.n; m++) {
				int err = mix_leg_add(f.mix[m], &id);

				if (m == 0) {
					err0 = err;
					id0 = id;
				}
				FUZZ_CHECK(err == err0);
				FUZZ_CHECK(err || id == id0);
			}
			if (!err0) {
				FUZZ_CHECK(id0 < f.cap && !f.used[id0]);
				f.used[id0] = true;
			}
			else {
				FUZZ_CHECK(mix_leg_count(f.mix[0]) == f.cap);
			}
			break;

		case 1:
			id = fin_u8(&in) % f.cap;
			for (unsigned m = 0; m < f.n; m++) {
				int err = mix_leg_remove(f.mix[m], id);

				FUZZ_CHECK(!err == f.used[id]);
			}
			f.used[id] = false;
			break;

		case 2: {
			unsigned fl;

			id = fin_u8(&in) % f.cap;
			fl = fin_u8(&in) & 3;
			for (unsigned m = 0; m < f.n; m++)
				(void)mix_leg_set_flags(f.mix[m], id, fl);
			break;
		}

		case 3: {
			float gi, go;

			id = fin_u8(&in) % f.cap;
			gi = (float)(int8_t)fin_u8(&in) / 4.0f;
			go = (float)(int8_t)fin_u8(&in) / 4.0f;
			for (unsigned m = 0; m < f.n; m++)
				(void)mix_leg_set_gain(f.mix[m], id, gi, go);
			break;
		}

		case 4:
		case 5:
		case 6: {
			int16_t pat[64];
			size_t np = 1;

			id = fin_u8(&in) % f.cap;
			if (op == 4) {
				pat[0] = (int16_t)fin_u16(&in);
			}
			else if (op == 5) {
				np = 1 + fin_u8(&in) % 64;
				for (size_t i = 0; i < np; i++)
					pat[i] = (int16_t)fin_u16(&in);
			}
			else {
				np = 2 * (1 + fin_u8(&in) % 32);
				for (size_t i = 0; i < np; i++)
					pat[i] = i < np / 2 ? 32767 : -32768;
			}

			if (!f.used[id])
				break;
			for (unsigned m = 0; m < f.n; m++) {
				int16_t *x = mix_leg_input(f.mix[m], id);

				FUZZ_CHECK(x != NULL);
				for (size_t i = 0; i < f.ns; i++)
					x[i] = pat[i % np];
			}
			break;
		}

		case 7:
			for (unsigned m = 0; m < f.n; m++)
				mix_tick(f.mix[m]);
			++ticks;
			compare(&f);
			break;
		}
	}

	/* a last tick so every sequence ends with a comparison */
	for (unsigned m = 0; m < f.n; m++)
		mix_tick(f.mix[m]);
	compare(&f);

 out:
	for (unsigned m = 0; m < f.n; m++)
		mix_free(f.mix[m]);

	return 0;
}
