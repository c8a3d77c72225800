/**
 * @file test_mix_limiter.c  Limiter: twenty full-scale talkers never wrap
 * or exceed the threshold, gain is smooth, attack is immediate, release
 * is gradual and ends bit-exact.
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

#define PI 3.14159265358979323846
#define NT 20           /* talkers */
#define N  960

static struct mixer *mix;
static unsigned ids[NT + 1];
static double phase[NT + 1];

static int setup(void **state)
{
	struct mix_cfg cfg = { 48000, 20, NT + 1, 0, MIX_ISA_AUTO };
	unsigned i;

	if (mix_alloc(&mix, &cfg))
		return -1;
	for (i = 0; i <= NT; i++) {
		if (mix_leg_add(mix, &ids[i]))
			return -1;
		phase[i] = 0;
	}
	return 0;
}

static int teardown(void **state)
{
	mix_free(mix);
	return 0;
}

/* Talkers: cosines of amplitude amp, slightly different frequencies. */
static void feed(double amp, int32_t sum_others[NT + 1][N])
{
	unsigned i, j;
	size_t s;

	for (i = 0; i < NT; i++) {
		int16_t *x = mix_leg_input(mix, ids[i]);

		for (s = 0; s < N; s++) {
			x[s] = (int16_t)lrint(amp * cos(phase[i]));
			phase[i] += 2 * PI * (300.0 + 7.0 * i) / 48000.0;
		}
	}
	if (!sum_others)
		return;
	for (j = 0; j <= NT; j++) {
		for (s = 0; s < N; s++) {
			int32_t t = 0;

			for (i = 0; i < NT; i++)
				if (i != j)
					t += mix_leg_input(mix, ids[i])[s];
			sum_others[j][s] = t;
		}
	}
}

static int32_t want[NT + 1][N];
static double gprevs[NT + 1];

static void test_twenty_full_scale_talkers(void **state)
{
	struct mix_stats st;
	unsigned t, j;
	size_t s;

	for (t = 0; t < 3; t++) {        /* silence first */
		feed(0, NULL);
		mix_tick(mix);
	}

	/* Onset at the crest of 20 in-phase full-scale cosines. */
	for (t = 0; t < 30; t++) {
		feed(32767, want);
		mix_tick(mix);
		for (j = 0; j <= NT; j++) {
			const int16_t *o = mix_leg_output(mix, ids[j]);
			double gmin = 1e9, gmax = 0, dmax = 0, dstart = 0;

			for (s = 0; s < N; s++) {
				int32_t w = want[j][s];

				/* Never above the ceiling, never wrapped. */
				assert_true(abs(o[s]) <= MIX_LIMIT_THRESHOLD);
				if (w > 1000)
					assert_true(o[s] >= 0);
				if (w < -1000)
					assert_true(o[s] <= 0);
				if (t >= 3 && abs(w) > 100000) {
					double g = (double)o[s] / w;

					if (g < gmin) gmin = g;
					if (g > gmax) gmax = g;
					double gp = gprevs[j];

					if (gp > 0 && s == 0)
						dstart = fabs(g - gp) / gp;
					else if (gp > 0 && fabs(g - gp) / gp > dmax)
						dmax = fabs(g - gp) / gp;
					gprevs[j] = g;
				}
				else {
					gprevs[j] = -1;
				}
			}
			/* Smooth gain: nearly constant under steady load. */
			/* Smooth gain: at most 3 % change from one sample to
			 * the next inside a frame; an unforeseen rise of the
			 * envelope at a frame start may step the gain down. */
			if (t >= 3) {
				assert_true(dmax < 0.03);
				assert_true(dstart < 0.1);
				assert_true(gmax < 0.3);
			}
		}
	}
	/* The peak comes close to the threshold: not over-attenuated. */
	{
		const int16_t *o = mix_leg_output(mix, ids[NT]);
		int pk = 0;

		for (s = 0; s < N; s++)
			if (abs(o[s]) > pk)
				pk = abs(o[s]);
		assert_true(pk > MIX_LIMIT_THRESHOLD * 0.8);
	}

	mix_stats_get(mix, &st);
	assert_true(st.limited_frames >= 30);

	/* Release: talker 0 alone at 10000 is heard quieter at first and
	 * recovers gradually, then passes bit-exact. */
	{
		int prev_pk = 0;
		bool exact = false;

		for (t = 0; t < 40; t++) {
			int16_t *x;
			int16_t in[N];
			const int16_t *o;
			int pk = 0;

			feed(0, NULL);
			x = mix_leg_input(mix, ids[0]);
			for (s = 0; s < N; s++)
				x[s] = (int16_t)lrint(10000 * sin(2 * PI * 1000.0 *
						       (double)(t * N + s) / 48000.0));
			memcpy(in, x, sizeof(in));
			mix_tick(mix);
			o = mix_leg_output(mix, ids[NT]);
			for (s = 0; s < N; s++)
				if (abs(o[s]) > pk)
					pk = abs(o[s]);
			if (t == 0)
				assert_true(pk < 9000);     /* still reduced */
			if (t < 4)
				assert_true(pk >= prev_pk); /* recovering */
			prev_pk = pk;
			if (t >= 30) {
				assert_memory_equal(o, in, sizeof(in));
				exact = true;
			}
		}
		assert_true(exact);
	}
}

/* Two loud talkers: each hears the other unlimited, a listener limited. */
static void test_minus_one_not_ducked(void **state)
{
	struct mix_cfg cfg = { 16000, 20, 3, 0, MIX_ISA_AUTO };
	struct mixer *m;
	unsigned a, b, c, t;
	size_t s;

	assert_int_equal(mix_alloc(&m, &cfg), 0);
	mix_leg_add(m, &a);
	mix_leg_add(m, &b);
	mix_leg_add(m, &c);
	for (t = 0; t < 5; t++) {
		int16_t *xa = mix_leg_input(m, a), *xb = mix_leg_input(m, b);

		for (s = 0; s < 320; s++) {
			xa[s] = (int16_t)(s % 2 ? 28000 : -28000);
			xb[s] = (int16_t)(s % 2 ? 20000 : -20000);
		}
		mix_tick(m);
	}
	/* a hears b exactly and b hears a exactly: the sum 48000 is over
	 * full scale but sum - own is not. */
	for (s = 0; s < 320; s++) {
		assert_int_equal(mix_leg_output(m, a)[s],
				 s % 2 ? 20000 : -20000);
		assert_int_equal(mix_leg_output(m, b)[s],
				 s % 2 ? 28000 : -28000);
		assert_true(abs(mix_leg_output(m, c)[s]) <=
			    MIX_LIMIT_THRESHOLD);
		assert_true(abs(mix_leg_output(m, c)[s]) >
			    MIX_LIMIT_THRESHOLD - 100);
	}
	mix_free(m);
}

/* +12 dB output gain on a loud input is limited, not clipped. */
static void test_output_gain_limited(void **state)
{
	struct mix_cfg cfg = { 8000, 10, 2, 0, MIX_ISA_AUTO };
	struct mixer *m;
	unsigned a, b, t;
	size_t s;

	assert_int_equal(mix_alloc(&m, &cfg), 0);
	mix_leg_add(m, &a);
	mix_leg_add(m, &b);
	mix_leg_set_gain(m, b, 0, 12);
	for (t = 0; t < 10; t++) {
		int16_t *x = mix_leg_input(m, a);

		for (s = 0; s < 80; s++)
			x[s] = (int16_t)lrint(20000 * sin(2 * PI * 200 *
					       (double)(t * 80 + s) / 8000.0));
		mix_tick(m);
		for (s = 0; s < 80; s++)
			assert_true(abs(mix_leg_output(m, b)[s]) <=
				    MIX_LIMIT_THRESHOLD);
	}
	mix_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twenty_full_scale_talkers),
		cmocka_unit_test(test_minus_one_not_ducked),
		cmocka_unit_test(test_output_gain_limited),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
