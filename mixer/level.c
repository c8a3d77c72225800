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
#include "mix_priv.h"

void mix_level_init(struct mixer *mix)
{
	/* Full scale: mean square 2^30, energy n * 2^30 >> MIX_ESHIFT. */
	const double full = (double)mix->n * (double)(1u << 30) /
		(double)(1u << MIX_ESHIFT);
	unsigned l;

	for (l = 0; l < MIX_LEVELS; l++) {
		double t = full * pow(10.0, -((double)l + 0.5) / 10.0);

		mix->lvl_thr[l] = (uint64_t)ceil(t);
		if (!mix->lvl_thr[l])
			mix->lvl_thr[l] = 1;
	}
}

/* Smallest l with energy >= thr[l] (thresholds decrease with l). */
uint8_t mix_level_of(const struct mixer *mix, uint64_t energy)
{
	unsigned lo = 0, len = MIX_LEVELS;

	/* Branch-free: every leg's level is data, a branch per step would
	 * mispredict half the time. Invariant: the answer is in
	 * [lo, lo + len]. */
	while (len > 1) {
		unsigned half = len / 2;

		lo = energy >= mix->lvl_thr[lo + half - 1] ? lo : lo + half;
		len -= half;
	}
	return (uint8_t)(lo + (energy >= mix->lvl_thr[lo] ? 0 : 1));
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
