/**
 * @file topk.c  Top-K speaker selection with hysteresis
 *
 * Decided at the end of a tick for the next one, from the levels just
 * measured. A free slot goes to the loudest voice-active leg at once. When
 * all K slots are taken, a newcomer replaces the weakest speaker only
 * after leading it by MIX_TOPK_HYST_DB for MIX_TOPK_HYST_MS, so two
 * nearly equal talkers do not flap; a speaker whose voice activity has
 * been off for MIX_TOPK_HOLD_MS leaves, and a muted leg leaves at once.
 * Joining and leaving fade over one frame like any contribution change.
 */
#include "mix_priv.h"

static bool eligible(const struct mix_leg *leg)
{
	return !(leg->flags & MIX_MUTE);
}

/* Weakest speaker's loudness; a speaker without voice counts as 0 dB. */
static float strength(const struct mix_leg *leg)
{
	return leg->vad ? leg->loud : 0.0f;
}

void mix_topk_update(struct mixer *mix)
{
	const unsigned K = mix->cfg.topk;
	struct mix_leg *weak = NULL, *best = NULL;
	unsigned i, nspk = 0;

	for (i = 0; i < mix->count; i++) {
		struct mix_leg *leg = &mix->legs[mix->ids[i]];

		leg->loud += ((float)(MIX_LEVEL_SILENT - leg->level) -
			      leg->loud) * MIX_TOPK_SMOOTH;

		if (leg->speaker && (!eligible(leg) ||
				     leg->quiet >= mix->hold_frames))
			leg->speaker = false;
		if (leg->speaker) {
			nspk++;
			if (!weak || strength(leg) < strength(weak))
				weak = leg;
		}
	}

	/* Free slots: loudest voice-active legs join immediately. */
	if (nspk < K) {
		for (i = 0; i < mix->count; i++)
			mix->legs[mix->ids[i]].challenge = 0;
	}
	while (nspk < K) {
		best = NULL;
		for (i = 0; i < mix->count; i++) {
			struct mix_leg *leg = &mix->legs[mix->ids[i]];

			if (leg->speaker || !leg->vad || !eligible(leg))
				continue;
			if (!best || leg->loud > best->loud)
				best = leg;
		}
		if (!best)
			return;
		best->speaker = true;
		nspk++;
		weak = NULL;
	}

	if (!weak)
		return;

	/* Full: count how long each newcomer has led the weakest one. */
	best = NULL;
	for (i = 0; i < mix->count; i++) {
		struct mix_leg *leg = &mix->legs[mix->ids[i]];

		if (leg->speaker)
			continue;
		if (leg->vad && eligible(leg) &&
		    leg->loud >= strength(weak) + MIX_TOPK_HYST_DB) {
			leg->challenge++;
			if (leg->challenge >= mix->hyst_frames &&
			    (!best || leg->loud > best->loud))
				best = leg;
		}
		else {
			leg->challenge = 0;
		}
	}

	if (best) {
		weak->speaker = false;
		weak->challenge = 0;
		best->speaker = true;
		best->challenge = 0;
	}
}
