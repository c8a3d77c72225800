/**
 * @file test_mix_mixer.c  Mixer behaviour: minus-one, gains and ramps,
 * mute/deaf/hold, leg add/remove, levels and VAD, bit-exact across ISAs.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <chorus/mixer.h>

#define PI 3.14159265358979323846

static struct mixer *mk(uint32_t srate, uint32_t ptime, uint32_t cap,
			uint32_t topk, enum mix_isa isa)
{
	struct mix_cfg cfg = { srate, ptime, cap, topk, isa };
	struct mixer *mix = NULL;

	assert_int_equal(mix_alloc(&mix, &cfg), 0);
	return mix;
}

static void fill_const(struct mixer *mix, unsigned id, int16_t v)
{
	int16_t *x = mix_leg_input(mix, id);
	size_t i;

	for (i = 0; i < mix_frame_samples(mix); i++)
		x[i] = v;
}

/* Sine of amplitude a, continuous over ticks through *ph. */
static void fill_sine(struct mixer *mix, unsigned id, double a, double hz,
		      double srate, double *ph)
{
	int16_t *x = mix_leg_input(mix, id);
	size_t i;

	for (i = 0; i < mix_frame_samples(mix); i++) {
		x[i] = (int16_t)lrint(a * sin(*ph));
		*ph += 2 * PI * hz / srate;
	}
}

static void test_alloc_validation(void **state)
{
	struct mix_cfg cfg = { 48000, 20, 4, 0, MIX_ISA_AUTO };
	struct mixer *mix = NULL;
	unsigned i;

	assert_int_equal(mix_alloc(NULL, &cfg), EINVAL);
	assert_int_equal(mix_alloc(&mix, NULL), EINVAL);
	cfg.srate = 44100;
	assert_int_equal(mix_alloc(&mix, &cfg), EINVAL);
	cfg.srate = 48000; cfg.ptime_ms = 5;
	assert_int_equal(mix_alloc(&mix, &cfg), EINVAL);
	cfg.ptime_ms = 70;
	assert_int_equal(mix_alloc(&mix, &cfg), EINVAL);
	cfg.ptime_ms = 20; cfg.capacity = 0;
	assert_int_equal(mix_alloc(&mix, &cfg), EINVAL);
	cfg.capacity = MIX_CAPACITY_MAX + 1;
	assert_int_equal(mix_alloc(&mix, &cfg), EINVAL);
	cfg.capacity = 4;

	for (i = MIX_ISA_SCALAR; i < MIX_ISA_COUNT; i++) {
		cfg.isa = (enum mix_isa)i;
		if (mix_isa_supported() & (1u << i)) {
			assert_int_equal(mix_alloc(&mix, &cfg), 0);
			assert_int_equal(mix_isa_active(mix), i);
			mix_free(mix);
		}
		else {
			assert_int_equal(mix_alloc(&mix, &cfg), ENOTSUP);
		}
	}

	cfg.isa = MIX_ISA_AUTO; cfg.ptime_ms = 0;
	assert_int_equal(mix_alloc(&mix, &cfg), 0);
	assert_int_equal(mix_frame_samples(mix), 960);
	assert_int_equal(mix_isa_active(mix), mix_isa_default());
	mix_free(mix);

	cfg.srate = 8000; cfg.ptime_ms = 10;
	assert_int_equal(mix_alloc(&mix, &cfg), 0);
	assert_int_equal(mix_frame_samples(mix), 80);
	mix_free(mix);

	setenv("CHORUS_MIX_ISA", "scalar", 1);
	assert_int_equal(mix_alloc(&mix, &cfg), 0);
	assert_int_equal(mix_isa_active(mix), MIX_ISA_SCALAR);
	mix_free(mix);
	unsetenv("CHORUS_MIX_ISA");
	mix_free(NULL);
}

static void test_leg_add_remove(void **state)
{
	struct mixer *mix = mk(16000, 20, 3, 0, MIX_ISA_AUTO);
	unsigned a, b, c, d;

	assert_int_equal(mix_leg_add(mix, &a), 0);
	assert_int_equal(mix_leg_add(mix, &b), 0);
	assert_int_equal(mix_leg_add(mix, &c), 0);
	assert_int_equal(mix_leg_add(mix, &d), ENOSPC);
	assert_int_equal(mix_leg_count(mix), 3);
	assert_true(a != b && b != c && a != c);
	assert_true(a < 3 && b < 3 && c < 3);
	assert_int_equal((uintptr_t)mix_leg_input(mix, a) % 64, 0);
	assert_int_equal((uintptr_t)mix_leg_output(mix, b) % 64, 0);

	assert_int_equal(mix_leg_remove(mix, b), 0);
	assert_int_equal(mix_leg_remove(mix, b), ENOENT);
	assert_null(mix_leg_input(mix, b));
	assert_null(mix_leg_output(mix, b));
	assert_int_equal(mix_leg_count(mix), 2);

	/* a talks, c listens; the removed leg's slot is reused. */
	fill_const(mix, a, 1000);
	mix_tick(mix);
	fill_const(mix, a, 1000);
	mix_tick(mix);
	assert_int_equal(mix_leg_output(mix, c)[100], 1000);
	assert_int_equal(mix_leg_add(mix, &d), 0);
	assert_int_equal(d, b);
	assert_int_equal(mix_leg_input(mix, d)[5], 0);
	assert_int_equal(mix_leg_set_flags(mix, 7, MIX_MUTE), ENOENT);
	assert_int_equal(mix_leg_set_flags(mix, a, 0x10), EINVAL);
	mix_free(mix);
}

/* Each leg hears exactly the sum of the others, bit for bit. */
static void test_minus_one(void **state)
{
	const int16_t v[5] = { 1000, -2000, 300, 7, -20000 };
	struct mixer *mix = mk(48000, 20, 8, 0, MIX_ISA_AUTO);
	unsigned id[5], i, t;
	size_t s;

	for (i = 0; i < 5; i++)
		assert_int_equal(mix_leg_add(mix, &id[i]), 0);

	for (t = 0; t < 3; t++) {
		for (i = 0; i < 5; i++) {
			int16_t *x = mix_leg_input(mix, id[i]);

			for (s = 0; s < 960; s++)
				x[s] = (int16_t)(v[i] / (int)(1 + s % 3));
		}
		mix_tick(mix);
	}
	/* The legs faded in during tick 1; ticks 2 and 3 are steady. */
	for (i = 0; i < 5; i++) {
		const int16_t *o = mix_leg_output(mix, id[i]);

		assert_int_equal(mix_leg_output_group(mix, id[i]), id[i]);
		for (s = 0; s < 960; s++) {
			int32_t want = 0;
			unsigned j;

			for (j = 0; j < 5; j++)
				if (j != i)
					want += v[j] / (int)(1 + s % 3);
			assert_int_equal(o[s], want);
		}
	}
	/* Inputs were consumed. */
	assert_int_equal(mix_leg_input(mix, id[0])[10], 0);
	mix_free(mix);
}

/* Odd frame sizes: 8 kHz 10 ms (80) and 24 kHz 30 ms (720). */
static void test_small_frames(void **state)
{
	static const uint32_t cfgs[][2] = { { 8000, 10 }, { 24000, 30 },
					    { 32000, 60 } };
	unsigned c;

	for (c = 0; c < 3; c++) {
		struct mixer *mix = mk(cfgs[c][0], cfgs[c][1], 3, 0,
				       MIX_ISA_AUTO);
		size_t n = mix_frame_samples(mix), s;
		unsigned a, b, t;

		assert_int_equal(n, cfgs[c][0] / 1000 * cfgs[c][1]);
		mix_leg_add(mix, &a);
		mix_leg_add(mix, &b);
		for (t = 0; t < 2; t++) {
			int16_t *x = mix_leg_input(mix, a);

			for (s = 0; s < n; s++)
				x[s] = (int16_t)(s * 7 - 300);
			mix_tick(mix);
		}
		for (s = 0; s < n; s++)
			assert_int_equal(mix_leg_output(mix, b)[s],
					 (int16_t)(s * 7 - 300));
		mix_free(mix);
	}
}

/* A single talker below the threshold passes bit-exact. */
static void test_single_talker_transparent(void **state)
{
	struct mixer *mix = mk(48000, 20, 4, 0, MIX_ISA_AUTO);
	unsigned a, b, c, t;
	double ph = 0;
	int16_t in[960];
	struct mix_stats st;

	mix_leg_add(mix, &a);
	mix_leg_add(mix, &b);
	mix_leg_add(mix, &c);
	for (t = 0; t < 10; t++) {
		fill_sine(mix, a, 29000, 997, 48000, &ph);
		memcpy(in, mix_leg_input(mix, a), sizeof(in));
		mix_tick(mix);
		if (t == 0)
			continue;
		assert_memory_equal(mix_leg_output(mix, b), in, sizeof(in));
		assert_memory_equal(mix_leg_output(mix, c), in, sizeof(in));
	}
	mix_stats_get(mix, &st);
	assert_int_equal(st.ticks, 10);
	assert_int_equal(st.limited_frames, 0);
	/* b and c are silent: they share the common output. */
	assert_int_equal(mix_leg_output_group(mix, b), 4);
	assert_ptr_equal(mix_leg_output(mix, b), mix_leg_output(mix, c));
	mix_free(mix);
}

/* Mute ramps down over one frame, without a jump, then silence. */
static void test_mute_ramp(void **state)
{
	struct mixer *mix = mk(48000, 20, 2, 0, MIX_ISA_AUTO);
	const int16_t *o;
	unsigned a, b, t;
	size_t s;

	mix_leg_add(mix, &a);
	mix_leg_add(mix, &b);
	for (t = 0; t < 2; t++) {
		fill_const(mix, a, 10000);
		mix_tick(mix);
	}
	o = mix_leg_output(mix, b);
	assert_int_equal(o[0], 10000);
	assert_int_equal(o[959], 10000);

	assert_int_equal(mix_leg_set_flags(mix, a, MIX_MUTE), 0);
	assert_int_equal(mix_leg_flags(mix, a), MIX_MUTE);
	fill_const(mix, a, 10000);
	mix_tick(mix);
	o = mix_leg_output(mix, b);
	assert_true(o[0] > 9900);
	assert_true(o[959] < 20);
	for (s = 1; s < 960; s++) {
		assert_true(o[s] <= o[s - 1]);         /* monotonic */
		assert_true(o[s - 1] - o[s] <= 20);    /* no jump   */
	}
	assert_true(mix_leg_contributing(mix, a)); /* fading out */

	fill_const(mix, a, 10000);
	mix_tick(mix);
	assert_false(mix_leg_contributing(mix, a));
	o = mix_leg_output(mix, b);
	for (s = 0; s < 960; s++)
		assert_int_equal(o[s], 0);
	/* Muted still measures its level, and its input is consumed. */
	assert_int_equal(mix_leg_level(mix, a), 10);  /* 10000 DC */
	for (s = 0; s < 960; s++)
		assert_int_equal(mix_leg_input(mix, a)[s], 0);

	/* Unmute fades back in. */
	mix_leg_set_flags(mix, a, 0);
	fill_const(mix, a, 10000);
	mix_tick(mix);
	o = mix_leg_output(mix, b);
	assert_true(o[0] < 20);
	assert_true(o[959] > 9900);
	mix_free(mix);
}

/* Output gain change ramps; the steady state is the exact Q13 gain. */
static void test_gain_ramp(void **state)
{
	struct mixer *mix = mk(16000, 20, 2, 0, MIX_ISA_AUTO);
	const int16_t *o;
	unsigned a, b, t;
	size_t s, n = 320;
	int32_t g6 = (int32_t)lrintf(powf(10.0f, 6.0f / 20) * 8192);

	mix_leg_add(mix, &a);
	mix_leg_add(mix, &b);
	for (t = 0; t < 2; t++) {
		fill_const(mix, a, 8000);
		mix_tick(mix);
	}
	assert_int_equal(mix_leg_set_gain(mix, b, 0, 6), 0);
	fill_const(mix, a, 8000);
	mix_tick(mix);
	o = mix_leg_output(mix, b);
	assert_int_equal(mix_leg_output_group(mix, b), b);
	assert_true(o[0] >= 8000 && o[0] < 8200);
	for (s = 1; s < n; s++) {
		assert_true(o[s] >= o[s - 1]);
		assert_true(o[s] - o[s - 1] <= 40);
	}
	for (t = 0; t < 3; t++) {
		fill_const(mix, a, 8000);
		mix_tick(mix);
	}
	o = mix_leg_output(mix, b);
	for (s = 0; s < n; s++)
		assert_int_equal(o[s], (8000 * g6) >> 13);

	/* Input gain -20 dB on a: b hears (x * g) >> 13 after the ramp. */
	mix_leg_set_gain(mix, a, -20, 0);
	mix_leg_set_gain(mix, b, 0, 0);
	for (t = 0; t < 3; t++) {
		fill_const(mix, a, 8000);
		mix_tick(mix);
	}
	o = mix_leg_output(mix, b);
	for (s = 0; s < n; s++)
		assert_int_equal(o[s], (8000 * 819) >> 13);

	/* Clamping to the documented range. */
	mix_leg_set_gain(mix, a, 40, 0);
	for (t = 0; t < 3; t++) {
		fill_const(mix, a, 1000);
		mix_tick(mix);
	}
	assert_int_equal(mix_leg_output(mix, b)[7],
			 (1000 * lrintf(powf(10.0f, 12.0f / 20) * 8192)) >> 13);
	mix_free(mix);
}

/* Deaf fades out, then shares the silent buffer; hold = mute + deaf. */
static void test_deaf_and_hold(void **state)
{
	struct mixer *mix = mk(48000, 20, 4, 0, MIX_ISA_AUTO);
	const int16_t *o;
	unsigned a, b, c, t;
	size_t s;

	mix_leg_add(mix, &a);
	mix_leg_add(mix, &b);
	mix_leg_add(mix, &c);
	for (t = 0; t < 2; t++) {
		fill_const(mix, a, 5000);
		mix_tick(mix);
	}
	mix_leg_set_flags(mix, b, MIX_DEAF);
	mix_leg_set_flags(mix, c, MIX_HOLD);
	fill_const(mix, a, 5000);
	fill_const(mix, c, 3000);
	mix_tick(mix);
	o = mix_leg_output(mix, b);
	assert_true(o[0] > 4900 && o[959] < 10);
	for (s = 1; s < 960; s++)
		assert_true(o[s] <= o[s - 1]);

	fill_const(mix, a, 5000);
	fill_const(mix, c, 3000);
	mix_tick(mix);
	assert_int_equal(mix_leg_output_group(mix, b), 4 + 1);
	assert_int_equal(mix_leg_output_group(mix, c), 4 + 1);
	assert_ptr_equal(mix_leg_output(mix, b), mix_leg_output(mix, c));
	for (s = 0; s < 960; s++)
		assert_int_equal(mix_leg_output(mix, b)[s], 0);
	/* c on hold does not contribute: a hears nothing. */
	assert_false(mix_leg_contributing(mix, c));
	for (s = 0; s < 960; s++)
		assert_int_equal(mix_leg_output(mix, a)[s], 0);
	mix_free(mix);
}

static void test_all_muted_all_deaf(void **state)
{
	struct mixer *mix = mk(16000, 20, 5, 0, MIX_ISA_AUTO);
	unsigned id[5], i, t;
	size_t s;

	for (i = 0; i < 5; i++) {
		mix_leg_add(mix, &id[i]);
		mix_leg_set_flags(mix, id[i], MIX_MUTE);
	}
	for (t = 0; t < 2; t++) {
		for (i = 0; i < 5; i++)
			fill_const(mix, id[i], (int16_t)(1000 * (i + 1)));
		mix_tick(mix);
	}
	for (i = 0; i < 5; i++) {
		assert_int_equal(mix_leg_output_group(mix, id[i]), 5);
		for (s = 0; s < 320; s++)
			assert_int_equal(mix_leg_output(mix, id[i])[s], 0);
	}
	for (i = 0; i < 5; i++)
		mix_leg_set_flags(mix, id[i], MIX_DEAF);
	for (t = 0; t < 2; t++) {
		for (i = 0; i < 5; i++)
			fill_const(mix, id[i], (int16_t)(1000 * (i + 1)));
		mix_tick(mix);
	}
	for (i = 0; i < 5; i++) {
		assert_int_equal(mix_leg_output_group(mix, id[i]), 6);
		for (s = 0; s < 320; s++)
			assert_int_equal(mix_leg_output(mix, id[i])[s], 0);
	}
	mix_free(mix);
}

/* RFC 6464 levels: -20 dBov sine reads 20, silence 127; VAD hangover. */
static void test_level_and_vad(void **state)
{
	struct mixer *mix = mk(48000, 20, 3, 0, MIX_ISA_AUTO);
	unsigned a, b, c, t, ids[3];
	double ph = 0, ph2 = 0;

	mix_leg_add(mix, &a);
	mix_leg_add(mix, &b);
	mix_leg_add(mix, &c);
	assert_int_equal(mix_leg_level(mix, a), 127);

	/* RMS 32768 * 10^(-20/20) -> amplitude * sqrt(2). */
	fill_sine(mix, a, 3276.8 * sqrt(2.0), 1000, 48000, &ph);
	fill_sine(mix, b, 32767 * pow(10, -35 / 20.0) * sqrt(2.0), 440,
		  48000, &ph2);
	fill_const(mix, c, 0);
	mix_tick(mix);
	assert_int_equal(mix_leg_level(mix, a), 20);
	assert_int_equal(mix_leg_level(mix, b), 35);
	assert_int_equal(mix_leg_level(mix, c), 127);
	assert_true(mix_leg_vad(mix, a));
	assert_true(mix_leg_vad(mix, b));
	assert_false(mix_leg_vad(mix, c));

	assert_int_equal(mix_active_speakers(mix, ids, 3), 2);
	assert_int_equal(ids[0], a);
	assert_int_equal(ids[1], b);
	assert_int_equal(mix_active_speakers(mix, ids, 1), 1);
	assert_int_equal(ids[0], a);

	/* Full-scale square wave: 0; full-scale sine: 3. */
	fill_const(mix, a, -32768);
	fill_sine(mix, b, 32767, 1000, 48000, &ph2);
	mix_tick(mix);
	assert_int_equal(mix_leg_level(mix, a), 0);
	assert_int_equal(mix_leg_level(mix, b), 3);

	/* Silence: VAD holds for 300 ms (15 frames), then drops. */
	for (t = 0; t < 15; t++) {
		mix_tick(mix);
		assert_int_equal(mix_leg_level(mix, a), 127);
		assert_true(mix_leg_vad(mix, a));
	}
	mix_tick(mix);
	assert_false(mix_leg_vad(mix, a));
	assert_int_equal(mix_active_speakers(mix, ids, 3), 0);

	/* Quiet noise below the VAD level does not trigger it. */
	fill_sine(mix, a, 32767 * pow(10, -60 / 20.0) * sqrt(2.0), 300,
		  48000, &ph);
	mix_tick(mix);
	assert_int_equal(mix_leg_level(mix, a), 60);
	assert_false(mix_leg_vad(mix, a));
	mix_free(mix);
}

/* Same random scenario on every ISA: all outputs bit-identical. */
static void run_scenario(enum mix_isa isa, uint16_t *hash, unsigned ticks,
			 uint32_t topk)
{
	struct mixer *mix = mk(48000, 20, 12, topk, isa);
	uint32_t r = 777;
	unsigned id[12], i, t;
	size_t s;

	for (i = 0; i < 12; i++)
		mix_leg_add(mix, &id[i]);
	for (t = 0; t < ticks; t++) {
		for (i = 0; i < 12; i++) {
			int16_t *x = mix_leg_input(mix, id[i]);
			int amp = (i % 4 == 0) ? 32767 : (i % 4 == 1) ? 3000 :
				(i % 4 == 2) ? 300 : 0;

			if ((t / 7 + i) % 5 == 0)
				amp = 0;
			for (s = 0; s < 960; s++) {
				r = r * 1103515245u + 12345u;
				x[s] = (int16_t)(((int32_t)(r >> 16) - 32768) *
						 amp / 32768);
			}
		}
		if (t % 5 == 2) {
			r = r * 1103515245u + 12345u;
			i = (r >> 16) % 12;
			mix_leg_set_gain(mix, id[i],
					 (float)((r >> 8) % 33) - 20.0f,
					 (float)((r >> 4) % 33) - 20.0f);
			mix_leg_set_flags(mix, id[(i + 3) % 12],
					  (r >> 20) % 4);
		}
		mix_tick(mix);
		for (i = 0; i < 12; i++) {
			const int16_t *o = mix_leg_output(mix, id[i]);

			for (s = 0; s < 960; s++)
				hash[(t * 12 + i) * 960 + s] = (uint16_t)o[s];
		}
	}
	mix_free(mix);
}

static void test_bitexact_across_isas(void **state)
{
	const unsigned ticks = 60;
	size_t sz = (size_t)ticks * 12 * 960 * sizeof(uint16_t);
	uint16_t *ref = malloc(sz), *got = malloc(sz);
	unsigned i, k;

	assert_non_null(ref);
	assert_non_null(got);
	for (k = 0; k < 2; k++) {
		uint32_t topk = k ? 3 : 0;

		run_scenario(MIX_ISA_SCALAR, ref, ticks, topk);
		for (i = MIX_ISA_SSE2; i < MIX_ISA_COUNT; i++) {
			if (!(mix_isa_supported() & (1u << i)))
				continue;
			memset(got, 0, sz);
			run_scenario((enum mix_isa)i, got, ticks, topk);
			if (memcmp(ref, got, sz))
				fail_msg("%s differs from scalar (topk %u)",
					 mix_isa_name((enum mix_isa)i), topk);
		}
	}
	free(ref);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_validation),
		cmocka_unit_test(test_leg_add_remove),
		cmocka_unit_test(test_minus_one),
		cmocka_unit_test(test_small_frames),
		cmocka_unit_test(test_single_talker_transparent),
		cmocka_unit_test(test_mute_ramp),
		cmocka_unit_test(test_gain_ramp),
		cmocka_unit_test(test_deaf_and_hold),
		cmocka_unit_test(test_all_muted_all_deaf),
		cmocka_unit_test(test_level_and_vad),
		cmocka_unit_test(test_bitexact_across_isas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
