/**
 * @file test_mix_topk.c  Top-K selection: hysteresis, hold, mute, and
 * output groups shared by every non-contributing listener.
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

static uint32_t rng = 99;

static double urand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return (double)(rng >> 8) / (double)(1u << 24);
}

/* Noise with RMS at -dbov dBov (uniform noise: rms = a / sqrt(3)). */
static void noise(struct mixer *mix, unsigned id, double dbov)
{
	int16_t *x = mix_leg_input(mix, id);
	double a = 32768.0 * pow(10, -dbov / 20) * sqrt(3.0);
	size_t s;

	for (s = 0; s < mix_frame_samples(mix); s++)
		x[s] = (int16_t)lrint((2 * urand() - 1) * a);
}

static struct mixer *mk(uint32_t cap, uint32_t k)
{
	struct mix_cfg cfg = { 16000, 20, cap, k, MIX_ISA_AUTO };
	struct mixer *mix = NULL;

	assert_int_equal(mix_alloc(&mix, &cfg), 0);
	return mix;
}

/* Two nearly equal talkers, K = 1: the first speaker keeps the slot. */
static void test_no_flapping(void **state)
{
	struct mixer *mix = mk(3, 1);
	unsigned a, b, c, t, changes = 0, takeover = 0;
	bool prev_a = true;

	mix_leg_add(mix, &a);
	mix_leg_add(mix, &b);
	mix_leg_add(mix, &c);

	noise(mix, a, 20);
	noise(mix, b, 21);
	mix_tick(mix);
	assert_true(mix_leg_speaker(mix, a));   /* louder one first */
	assert_false(mix_leg_speaker(mix, b));

	for (t = 0; t < 200; t++) {
		/* b sometimes 2 dB louder than a: within the hysteresis */
		noise(mix, a, 20 + (t % 3));
		noise(mix, b, 19 + (t % 5) * 0.5);
		mix_tick(mix);
		if (mix_leg_speaker(mix, a) != prev_a)
			changes++;
		prev_a = mix_leg_speaker(mix, a);
		assert_true(mix_leg_contributing(mix, a));
		assert_false(mix_leg_contributing(mix, b));
	}
	assert_int_equal(changes, 0);

	/* b 12 dB louder: takes over after the hysteresis time, not at
	 * once (200 ms = 10 frames; the smoothed level needs a few more). */
	for (t = 1; t <= 40 && !takeover; t++) {
		noise(mix, a, 20);
		noise(mix, b, 8);
		mix_tick(mix);
		if (mix_leg_speaker(mix, b))
			takeover = t;
	}
	assert_true(takeover >= 10);
	assert_true(takeover <= 20);
	assert_false(mix_leg_speaker(mix, a));
	mix_free(mix);
}

/* K = 2 of 6: speakers hear each other; all others share one buffer
 * with the speakers' mix, bit-exact. */
static void test_output_groups(void **state)
{
	struct mixer *mix = mk(8, 2);
	unsigned id[6], i, t, spk[2], nsp = 0;
	const int16_t *common;
	int16_t xin[6][320];
	size_t s;

	for (i = 0; i < 6; i++)
		mix_leg_add(mix, &id[i]);
	for (t = 0; t < 5; t++) {
		noise(mix, id[0], 15);
		noise(mix, id[1], 18);
		noise(mix, id[2], 30);   /* talking, but third */
		for (i = 0; i < 6; i++)
			memcpy(xin[i], mix_leg_input(mix, id[i]),
			       sizeof(xin[i]));
		mix_tick(mix);
	}
	for (i = 0; i < 6; i++) {
		if (mix_leg_contributing(mix, id[i]))
			spk[nsp++] = i;
	}
	assert_int_equal(nsp, 2);
	assert_int_equal(spk[0], 0);
	assert_int_equal(spk[1], 1);

	assert_int_equal(mix_leg_output_group(mix, id[0]), id[0]);
	assert_int_equal(mix_leg_output_group(mix, id[1]), id[1]);
	common = mix_leg_output(mix, id[2]);
	for (i = 2; i < 6; i++) {
		assert_int_equal(mix_leg_output_group(mix, id[i]), 8);
		assert_ptr_equal(mix_leg_output(mix, id[i]), common);
	}
	for (s = 0; s < 320; s++) {
		assert_int_equal(common[s], xin[0][s] + xin[1][s]);
		assert_int_equal(mix_leg_output(mix, id[0])[s], xin[1][s]);
		assert_int_equal(mix_leg_output(mix, id[1])[s], xin[0][s]);
	}

	/* A listener with its own output gain gets its own buffer. */
	mix_leg_set_gain(mix, id[4], 0, -6);
	noise(mix, id[0], 15);
	noise(mix, id[1], 18);
	mix_tick(mix);
	assert_int_equal(mix_leg_output_group(mix, id[4]), id[4]);
	assert_int_equal(mix_leg_output_group(mix, id[5]), 8);

	/* Active speakers are ordered loudest first, beyond the top-K. */
	noise(mix, id[0], 15);
	noise(mix, id[1], 18);
	noise(mix, id[2], 30);
	mix_tick(mix);
	{
		unsigned act[6];

		assert_int_equal(mix_active_speakers(mix, act, 6), 3);
		assert_int_equal(act[0], id[0]);
		assert_int_equal(act[1], id[1]);
		assert_int_equal(act[2], id[2]);
	}
	mix_free(mix);
}

/* A muted speaker leaves at once; a silent one after hangover + hold. */
static void test_mute_and_hold(void **state)
{
	struct mixer *mix = mk(4, 1);
	unsigned a, b, t, left = 0;

	mix_leg_add(mix, &a);
	mix_leg_add(mix, &b);
	for (t = 0; t < 5; t++) {
		noise(mix, a, 20);
		mix_tick(mix);
	}
	assert_true(mix_leg_speaker(mix, a));

	/* a goes silent; b talks quietly (not enough to challenge? it is:
	 * a silent speaker counts as 0 dB) -- but first b is silent too. */
	for (t = 1; t <= 200 && !left; t++) {
		mix_tick(mix);
		if (!mix_leg_speaker(mix, a))
			left = t;
	}
	/* 300 ms hangover (15) + 1500 ms hold (75 frames) */
	assert_true(left >= 89 && left <= 92);

	noise(mix, b, 40);
	mix_tick(mix);
	assert_true(mix_leg_speaker(mix, b));   /* free slot: at once */
	noise(mix, b, 40);
	mix_tick(mix);
	assert_true(mix_leg_contributing(mix, b));

	mix_leg_set_flags(mix, b, MIX_MUTE);
	noise(mix, b, 40);
	mix_tick(mix);
	assert_false(mix_leg_speaker(mix, b));
	mix_free(mix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_flapping),
		cmocka_unit_test(test_output_groups),
		cmocka_unit_test(test_mute_and_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
