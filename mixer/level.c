/**
 * @file level.c  RFC 6464 audio level and voice activity
 *
 * The level is the frame's mean square relative to a full-scale square
 * wave, in -dB (so a full-scale sine reads 3, as in WebRTC), rounded to
 * whole dB and clamped to 0..127; digital silence is 127. Instead of a
 * logarithm per leg per tick, each mixer holds the energy threshold of
 * every level for its frame length and the tick does a binary search.
 */
#include <math.h>
#include <string.h>
#include "mix_priv.h"

#define MIX_DB_PER_OCTAVE 3.0103f   /* 10 log10(2) */

void mix_level_init(struct mixer *mix)
{
	/* Full scale: mean square 2^30, energy n * 2^30 >> MIX_ESHIFT. */
	const double full = (double)mix->n * (double)(1u << 30) /
		(double)(1u << MIX_ESHIFT);
	unsigned l;

	mix->lvl_a = (float)(10.0 * log10(full) - 0.5);
	for (l = 0; l < MIX_LEVELS; l++) {
		double t = full * pow(10.0, -((double)l + 0.5) / 10.0);

		mix->lvl_thr[l] = (uint64_t)ceil(t);
		if (!mix->lvl_thr[l])
			mix->lvl_thr[l] = 1;
	}
}

/*
 * Smallest l with energy >= thr[l] (thresholds decrease with l), without
 * a chain of dependent loads: the float's exponent and mantissa give
 * log2(energy) to within 0.09 (0.26 dB), hence an estimate within one
 * level; the exact answer is l0 plus the number of thresholds in a window
 * of six around it that the energy is below (thresholds past the last
 * level are 0). Checked against the binary search for every frame size,
 * at each threshold +-3 and on random energies.
 */
uint8_t mix_level_of(const struct mixer *mix, uint64_t energy)
{
	const uint64_t *thr = mix->lvl_thr;
	const float f = (float)energy;
	uint32_t u;
	float lg, x;
	int l0;

	memcpy(&u, &f, sizeof(u));
	lg = (float)u * (1.0f / (1u << 23)) - 127.0f;
	x = mix->lvl_a - MIX_DB_PER_OCTAVE * lg;
	l0 = x < 2.0f ? 0 : x > (float)(MIX_LEVELS - 1) ? MIX_LEVELS - 3 :
		(int)x - 2;
	if (l0 > MIX_LEVELS - 3)
		l0 = MIX_LEVELS - 3;

	return (uint8_t)(l0 + (energy < thr[l0]) + (energy < thr[l0 + 1]) +
			 (energy < thr[l0 + 2]) + (energy < thr[l0 + 3]) +
			 (energy < thr[l0 + 4]) + (energy < thr[l0 + 5]));
}

void mix_vad_update(struct mixer *mix, struct mix_leg *leg)
{
	leg->level = mix_level_of(mix, leg->energy);

	if (leg->level <= MIX_VAD_LEVEL) {
		leg->vad  = true;
		leg->hang = mix->hang_frames;
		leg->quiet = 0;
	}
	else if (leg->hang) {
		leg->hang--;
		leg->quiet = 0;
	}
	else {
		leg->vad = false;
		if (leg->quiet < UINT32_MAX)
			leg->quiet++;
	}
}
