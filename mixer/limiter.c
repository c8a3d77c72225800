/**
 * @file limiter.c  Rendering one output frame: minus-one, gain, limiter
 *
 * The whole frame is known before any sample is written, so the limiter
 * looks ahead for free. Per 1 ms block it takes the peak of |sum - own|,
 * derives the largest gain that keeps the block under the threshold and
 * plans a gain point at every block boundary:
 *
 *   lim[k] = min(release(lim[k-1]), req[k-1], req[k])
 *
 * The gain is linear within a block, so the attack completes in the block
 * before a peak (<= 1 ms) and every sample of a block stays under its
 * limit; between blocks the factor recovers exponentially towards 1
 * (MIX_LIMIT_RELEASE_MS). The first block of the next frame is not known
 * yet: the last gain point also respects the last block's peak grown by
 * the square of the envelope's rise over the last two blocks (with
 * margin; at most MIX_LIMIT_GROWTH_MAX), so a steadily rising
 * envelope does not force a gain step at the next frame start (a true
 * onset still does: the gain then drops at the frame's first sample
 * rather than let a sample clip). This control is scalar float and shared by all
 * ISAs; the kernels only apply integer Q13 ramps, so outputs are
 * bit-identical across ISAs.
 *
 * Cheap first: peak|sum - own| <= peak|sum| + peak|own| per block. When
 * that bound times the output gain stays under the threshold and the
 * limiter is fully released, the frame is one pass of the out kernel
 * (or pack-saturate at unity, which then cannot saturate): a talker below
 * the threshold passes bit-exact. Only blocks whose bound is over the
 * threshold get their exact peak computed.
 */
#include <math.h>
#include "mix_priv.h"

static unsigned bitlen(uint32_t v)
{
	return v ? 32u - (unsigned)__builtin_clz(v) : 0u;
}

/* Largest Q13 gain of the ramp gi: bound of |own| from the input peak. */
static uint32_t own_bound(uint32_t xpeak, struct mix_ramp gi, size_t n)
{
	int32_t g0 = gi.base >> MIX_Q;
	int32_t g1 = mix_ramp_gain(gi, n - 1);
	int32_t g = g0 > g1 ? g0 : g1;

	return (uint32_t)(((uint64_t)xpeak * (uint32_t)g + MIX_ONE - 1) >>
			  MIX_Q);
}

static int32_t q13_floor(float g, unsigned sh)
{
	float v = floorf(ldexpf(g, MIX_Q + (int)sh));

	if (v <= 0.0f)
		return 0;
	return v >= (float)MIX_GMAX_Q ? MIX_GMAX_Q : (int32_t)v;
}

bool mix_render(struct mixer *mix, int16_t *out, const int16_t *x,
		struct mix_ramp gi, uint32_t xpeak, int32_t go0, int32_t go1,
		float *lim)
{
	const struct mix_kernels *k = mix->k;
	const unsigned nb = mix->nblk;
	const size_t L = mix->blk;
	const float thr = mix->thr;
	const float gm0 = (float)go0 / MIX_ONE, gm1 = (float)go1 / MIX_ONE;
	const float gmhi = gm0 > gm1 ? gm0 : gm1;
	uint32_t ob = x ? own_bound(xpeak, gi, mix->n) : 0;
	uint32_t *pk = mix->pk;
	float *gp = mix->gp;
	bool over = false, limited = false, filled = false;
	float growth = 1.0f;
	unsigned b;

	/* Fast decision on the frame maximum, then per block. */
	if ((float)(mix->spk_max + ob) * gmhi > thr) {
		filled = true;
		for (b = 0; b < nb; b++) {
			pk[b] = mix->spk[b] + ob;
			if ((float)pk[b] * gmhi > thr) {
				pk[b] = k->peak(mix->sum + b * L,
						x ? x + b * L : NULL, L,
						mix_ramp_at(gi, b * L));
				if ((float)pk[b] * gmhi > thr)
					over = true;
			}
		}
	}

	if (!over && *lim == 1.0f) {
		if (go0 == MIX_ONE && go1 == MIX_ONE &&
		    (!x || mix_ramp_is(gi, MIX_ONE)))
			k->sub_sat(out, mix->sum, x, mix->n);
		else
			k->out(out, mix->sum, x, mix->n, gi, 0,
			       mix_ramp_make(go0, go1, mix->n));
		return false;
	}

	if (!filled) {
		/* Releasing only: the bound is good enough for every block. */
		for (b = 0; b < nb; b++)
			pk[b] = mix->spk[b] + ob;
	}

	/* Plan the limiter factor at each block boundary. */
	if (nb >= 2 && pk[nb - 2] && pk[nb - 1] > pk[nb - 2]) {
		growth = (float)pk[nb - 1] / (float)pk[nb - 2];
		growth *= growth;
		if (growth > MIX_LIMIT_GROWTH_MAX)
			growth = MIX_LIMIT_GROWTH_MAX;
	}
	gp[0] = *lim;
	for (b = 0; b <= nb; b++) {
		float gmk = gm0 + (gm1 - gm0) * (float)b / (float)nb;
		float l = b ? gp[b - 1] + (1.0f - gp[b - 1]) * mix->rel : gp[0];
		unsigned j;

		if (l > 1.0f - 1.0f / 4096)
			l = 1.0f;
		for (j = b ? b - 1 : 0; j <= b && j < nb; j++) {
			float need = (float)pk[j] * gmk;

			if (need > thr && thr / need < l)
				l = thr / need;
		}
		if (b == nb) {
			/* The next frame's first block is unknown: extrapolate
			 * a rising envelope so the next frame need not start
			 * with a gain step. */
			float need = (float)pk[nb - 1] * gmk * growth;

			if (need > thr && thr / need < l)
				l = thr / need;
		}
		gp[b] = l;
		if (l < 1.0f)
			limited = true;
	}
	*lim = gp[nb];

	/* Apply per block with the shift that keeps d in int16. */
	for (b = 0; b < nb; b++) {
		unsigned bl = bitlen(pk[b]);
		unsigned sh = bl > 15 ? bl - 15 : 0;
		float gmb = gm0 + (gm1 - gm0) * (float)b / (float)nb;
		float gme = gm0 + (gm1 - gm0) * (float)(b + 1) / (float)nb;
		int32_t q0 = q13_floor(gp[b] * gmb, sh);
		int32_t q1 = q13_floor(gp[b + 1] * gme, sh);

		k->out(out + b * L, mix->sum + b * L, x ? x + b * L : NULL, L,
		       mix_ramp_at(gi, b * L), sh, mix_ramp_make(q0, q1, L));
	}

	return limited;
}
