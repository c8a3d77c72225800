/**
 * @file test_mix_room.c  A large, loud room: every output limited, own
 * voice removed (to 2 LSB in the shared 16-bit path), bit-exact across
 * ISAs, top-K output sharing at scale.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <chorus/mixer.h>

#define NL 200
#define N  960

static int16_t inbuf[NL][N];

static void feed(struct mixer *mix, const unsigned *id, unsigned t)
{
	unsigned i;
	size_t s;

	for (i = 0; i < NL; i++) {
		int16_t *x = mix_leg_input(mix, id[i]);

		for (s = 0; s < N; s++) {
			if (i == 0)
				x[s] = 1;          /* tiny own signal   */
			else if (i == 1)
				x[s] = 1000;       /* DC, small vs room */
			else
				x[s] = (int16_t)lrint(12000 * sin(
					(double)(t * N + s) * (0.01 + 0.001 * i)));
		}
		memcpy(inbuf[i], x, sizeof(inbuf[i]));
	}
}

static void run(enum mix_isa isa, uint32_t topk, int16_t (*out)[NL][N],
		unsigned ticks)
{
	struct mix_cfg cfg = { 48000, 20, NL + 1, topk, isa };
	struct mixer *mix;
	unsigned id[NL], i, t;

	assert_int_equal(mix_alloc(&mix, &cfg), 0);
	for (i = 0; i < NL; i++) {
		assert_int_equal(mix_leg_add(mix, &id[i]), 0);
		if (i >= 2)
			mix_leg_set_gain(mix, id[i], i % 3 ? 0.0f : -6.0f,
					 i % 5 ? 0.0f : 3.0f);
	}
	for (t = 0; t < ticks; t++) {
		feed(mix, id, t);
		mix_tick(mix);
		for (i = 0; i < NL; i++)
			memcpy(out[t][i], mix_leg_output(mix, id[i]),
			       sizeof(out[t][i]));
	}
	mix_free(mix);
}

static void test_loud_room(void **state)
{
	const unsigned ticks = 8;
	int16_t (*ref)[NL][N] = malloc(sizeof(*ref) * ticks);
	int16_t (*got)[NL][N] = malloc(sizeof(*got) * ticks);
	unsigned i, t, k;
	size_t s;

	assert_non_null(ref);
	assert_non_null(got);

	for (k = 0; k < 2; k++) {
		run(MIX_ISA_SCALAR, k ? 3 : 0, ref, ticks);
		for (i = MIX_ISA_SSE2; i < MIX_ISA_COUNT; i++) {
			if (!(mix_isa_supported() & (1u << i)))
				continue;
			run((enum mix_isa)i, k ? 3 : 0, got, ticks);
			if (memcmp(ref, got, sizeof(*ref) * ticks))
				fail_msg("%s differs (topk %u)",
					 mix_isa_name((enum mix_isa)i), k);
		}
	}

	const int32_t g6 = (int32_t)lrintf(powf(10.0f, -6.0f / 20) * 8192);

	run(MIX_ISA_AUTO, 0, ref, ticks);
	/* inbuf holds the inputs of the last tick. */
	for (t = ticks - 1; t < ticks; t++) {
		for (s = 0; s < N; s++) {
			int32_t sum = 0;
			double g;

			for (i = 0; i < NL; i++)
				sum += (i >= 2 && i % 3 == 0) ?
					(inbuf[i][s] * g6) >> 13 :
					inbuf[i][s];
			for (i = 0; i < NL; i++)
				assert_true(abs(ref[t][i][s]) <=
					    MIX_LIMIT_THRESHOLD);
			/* Legs 0 (own 1) and 1 (own 1000) share the plan:
			 * their difference is 999 after the same gain. */
			if (abs(ref[t][0][s]) < 2000)
				continue;
			g = (double)ref[t][0][s] / (double)(sum - 1);
			if (fabs((double)(ref[t][0][s] - ref[t][1][s]) -
				 999.0 * g) > 3.0)
				fail_msg("t=%u s=%zu out0 %d out1 %d sum %d g %f",
					 t, s, ref[t][0][s], ref[t][1][s], sum,
					 g);
		}
	}
	free(ref);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loud_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
