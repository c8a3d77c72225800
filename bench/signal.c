/**
 * @file signal.c  speech-like test signals for mixbench
 *
 * Each leg talks with one of SIG_VOICES synthetic voices: a harmonic tone
 * (fundamental 95..255 Hz, six harmonics falling 1/k) under a syllable-rate
 * (3..5.4 Hz) amplitude envelope, plus white noise. Most voices peak at a
 * moderate level; every SIG_LOUD_EVERY-th voice peaks near full scale so
 * sums clip and the limiter has work to do. A voice is one second long and
 * loops; legs sharing a voice start at different offsets, so no two legs
 * send identical frames in the same tick unless N > voices * frames.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mixbench.h"

enum {
	SIG_VOICES      = 24,
	SIG_FRAMES      = 50,    /* 1 s of 20 ms frames per voice            */
	SIG_HARMONICS   = 6,
	SIG_LOUD_EVERY  = 6,     /* voices 0, 6, 12, 18 are loud             */
	SIG_LEG_STRIDE  = 7,     /* frame offset between legs of one voice   */
};

static const double SIG_PEAK_MODERATE = 4000.0;   /* about -18 dBFS peak */
static const double SIG_PEAK_LOUD     = 28000.0;  /* about -1.4 dBFS     */
static const double SIG_NOISE         = 0.08;     /* relative to tone    */
static const double SIG_ENV_FLOOR     = 0.1;      /* -20 dB between syll.*/

struct sigbank {
	uint32_t rate;
	size_t fs;               /* samples per frame                        */
	int16_t *pcm;            /* SIG_VOICES * SIG_FRAMES * fs             */
};


/* Deterministic noise so every run feeds the same signal. */
static double noise_next(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return ((double)(*state >> 8) / (double)(1u << 24)) * 2.0 - 1.0;
}


static void voice_render(int16_t *dst, size_t len, uint32_t rate,
			 unsigned v)
{
	const double f0 = 95.0 + (double)((v * 37u) % 160u);
	const double fm = 3.0 + 0.6 * (double)(v % 5u);
	const double phase = 0.7 * (double)v;
	const double peak = (v % SIG_LOUD_EVERY) ? SIG_PEAK_MODERATE
						 : SIG_PEAK_LOUD;
	uint32_t seed = 0x9e3779b9u ^ (v * 2654435761u);
	double *tmp, maxabs = 0.0;
	size_t i;

	tmp = malloc(len * sizeof(*tmp));
	if (!tmp) {
		memset(dst, 0, len * sizeof(*dst));
		return;
	}

	for (i = 0; i < len; i++) {
		const double t = (double)i / rate;
		double env, x = 0.0;
		unsigned k;

		env = 0.5 * (1.0 - cos(2.0 * M_PI * fm * t + phase));
		env = SIG_ENV_FLOOR + (1.0 - SIG_ENV_FLOOR) * pow(env, 1.5);

		for (k = 1; k <= SIG_HARMONICS; k++) {
			if (f0 * k >= rate / 2.0)
				break;
			x += sin(2.0 * M_PI * f0 * k * t + k * phase) / k;
		}
		x += SIG_NOISE * noise_next(&seed) * SIG_HARMONICS;

		tmp[i] = env * x;
		if (fabs(tmp[i]) > maxabs)
			maxabs = fabs(tmp[i]);
	}

	for (i = 0; i < len; i++)
		dst[i] = (int16_t)lrint(tmp[i] * peak / maxabs);

	free(tmp);
}


int sigbank_alloc(struct sigbank **sbp, uint32_t rate)
{
	struct sigbank *sb;
	size_t voice_len;
	unsigned v;

	if (!sbp || !rate || rate % 1000)
		return EINVAL;

	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return ENOMEM;

	sb->rate = rate;
	sb->fs = (size_t)rate * MB_PTIME_MS / 1000;
	voice_len = sb->fs * SIG_FRAMES;

	sb->pcm = malloc(SIG_VOICES * voice_len * sizeof(int16_t));
	if (!sb->pcm) {
		free(sb);
		return ENOMEM;
	}

	for (v = 0; v < SIG_VOICES; v++)
		voice_render(sb->pcm + v * voice_len, voice_len, rate, v);

	*sbp = sb;
	return 0;
}


void sigbank_free(struct sigbank *sb)
{
	if (!sb)
		return;

	free(sb->pcm);
	free(sb);
}


const int16_t *sigbank_frame(const struct sigbank *sb, unsigned leg,
			     uint64_t tick)
{
	const unsigned v = leg % SIG_VOICES;
	const uint64_t f = (leg / SIG_VOICES * SIG_LEG_STRIDE + v + tick)
		% SIG_FRAMES;

	return sb->pcm + ((size_t)v * SIG_FRAMES + f) * sb->fs;
}


size_t sigbank_frame_samples(const struct sigbank *sb)
{
	return sb ? sb->fs : 0;
}


uint32_t sigbank_rate(const struct sigbank *sb)
{
	return sb ? sb->rate : 0;
}


/* A quarter of the legs boost what they hear (so the limiter works on
 * their output), a quarter are attenuated at the input, a quarter have
 * both gains off unity; the rest are at 0 dB. */
void sigbank_leg_gain(unsigned leg, float *in_db, float *out_db)
{
	static const float gain_in[4]  = { 0.0f, 0.0f, -6.0f, 3.0f };
	static const float gain_out[4] = { 0.0f, 6.0f,  0.0f, -2.0f };

	*in_db  = gain_in[leg % 4];
	*out_db = gain_out[leg % 4];
}
