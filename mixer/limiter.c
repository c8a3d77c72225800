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
 * Plans are shared: a leg whose own signal is small against the room
 * (peak at most 1/16 or 1/4 of the frame's peak sum: two classes) is
 * planned from the class bound peak|sum| + (peak sum)/16 or /4, so all legs of a class with the same output gain and a limiter
 * state within MIX_PLAN_LIM_TOL (0.14 dB) get the same plan, computed
 * once per tick (a small cache); in a large room nearly every leg is one
 * of them. The bound costs a loud talker at most 2 dB of extra gain
 * reduction of what he hears, only while the room is being limited.
 *
 * Such a leg's output in a limited frame is the plan's limited mix of the
 * whole room minus its own signal scaled to 16 bits (sub_mulhi: two
 * vector operations per 32 samples): its own voice is removed to within
 * 2 LSB of the exact 32-bit path, which every other case uses.
 *
 * Cheap first: peak|sum - own| <= peak|sum| + peak|own| per block. When
 * that bound times the output gain stays under the threshold and the
 * limiter is fully released, the frame is one pass of the out kernel
 * (or pack-saturate at unity, which then cannot saturate): a talker below
 * the threshold passes bit-exact. Only blocks whose bound is over the
 * threshold get their exact peak computed.
 */
#include <math.h>
#include <string.h>
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

/* v / blk (C division, toward zero) with the divisor known to the
 * compiler: a multiply instead of a 20-40 cycle idiv per block. */
static int32_t div_blk(int32_t v, size_t blk)
{
	switch (blk) {
	case 8:  return v / 8;
	case 16: return v / 16;
	case 24: return v / 24;
	case 32: return v / 32;
	case 48: return v / 48;
	default: return v / (int32_t)blk;
	}
}

static int32_t q13_floor(const struct mixer *mix, float g, unsigned sh)
{
	float v = g * mix->qscale[sh];

	if (v <= 0.0f)
		return 0;
	return v >= (float)MIX_GMAX_Q ? MIX_GMAX_Q : (int32_t)v;
}

/* Once per tick, after the block peaks of the sum are known. */
void mix_plan_reset(struct mixer *mix)
{
	unsigned b;

	unsigned c;

	mix->nplans = 0;
	for (c = 0; c < MIX_SHARE_CLASSES; c++) {
		uint32_t *pk = mix->pk_share + c * mix->nblk;

		mix->ob_share[c] = mix->spk_max >>
			(MIX_SHARE_SHIFT - MIX_SHARE_STEP * c);
		for (b = 0; b < mix->nblk; b++)
			pk[b] = mix->spk[b] + mix->ob_share[c];
	}
}

static void plan_compute(const struct mixer *mix, struct mix_plan *p,
			 const uint32_t *pk)
{
	const unsigned nb = mix->nblk;
	const float thr = mix->thr;
	const float gm0 = (float)p->go0 / MIX_ONE, gm1 = (float)p->go1 / MIX_ONE;
	const float gmhi = gm0 > gm1 ? gm0 : gm1;
	float *gp = mix->gp;
	const float keep = 1.0f - mix->rel;
	float growth = 1.0f, lmin = 1.0f, u;
	unsigned b, sh_prev = 0;
	int32_t q1_prev = 0;

	p->limited = false;
	p->a_ready = false;
	p->hcnt = 0;
	p->unlimited = p->lim0 == 1.0f;
	for (b = 0; b < nb && p->unlimited; b++) {
		if ((float)pk[b] * gmhi > thr)
			p->unlimited = false;
	}
	if (p->unlimited) {
		p->lim1 = 1.0f;
		return;
	}

	if (nb >= 2 && pk[nb - 2] && pk[nb - 1] > pk[nb - 2]) {
		growth = (float)pk[nb - 1] / (float)pk[nb - 2];
		growth *= growth;
		if (growth > MIX_LIMIT_GROWTH_MAX)
			growth = MIX_LIMIT_GROWTH_MAX;
	}

	/* Plan the limiter factor at each block boundary. One division per
	 * boundary: the smaller of thr / need over the two adjacent blocks
	 * is thr / (the larger need), exactly, as float rounding is
	 * monotonic. The loop carries the reduction u = 1 - factor, so the
	 * release is one multiply (u *= 1 - rel) on the loop-carried chain;
	 * locals, as a store to gp[] could alias mix->rel. */
	u = 1.0f - p->lim0;
	for (b = 0; b <= nb; b++) {
		float gmk = gm0 == gm1 ? gm0 :
			gm0 + (gm1 - gm0) * (float)b / (float)nb;
		float need = 0.0f, n2, ureq, l;

		if (b > 0) {
			u *= keep;
			need = (float)pk[b - 1] * gmk;
		}
		/* fully released below 1/4096: exactly 1 again */
		u = u < 1.0f / 4096 ? 0.0f : u;
		n2 = (float)pk[b < nb ? b : nb - 1] * gmk *
			(b < nb ? 1.0f : growth);
		need = n2 > need ? n2 : need;
		/* thr / thr = 1: no reduction (branch-free: the data
		 * decides, so branches would mispredict) */
		ureq = 1.0f - thr / (need > thr ? need : thr);
		u = ureq > u ? ureq : u;
		l = 1.0f - u;
		gp[b] = l;
		lmin = l < lmin ? l : lmin;
	}
	p->limited = lmin < 1.0f;
	p->lim1 = gp[nb];

	/* Per block: the shift that keeps d in int16, and the gain ramp
	 * (Q13, linear within the block; the kernels build it in registers),
	 * shared by every leg using this plan. */
	for (b = 0; b < nb; b++) {
		unsigned bl = bitlen(pk[b]);
		unsigned sh = bl > 15 ? bl - 15 : 0;
		/* a constant gain (nearly always) needs no division; the
		 * general expression gives the same float then */
		float gmb = gm0 == gm1 ? gm0 :
			gm0 + (gm1 - gm0) * (float)b / (float)nb;
		float gme = gm0 == gm1 ? gm0 :
			gm0 + (gm1 - gm0) * (float)(b + 1) / (float)nb;
		/* the previous block's end point, if its shift was ours */
		int32_t q0 = b && sh == sh_prev ? q1_prev :
			q13_floor(mix, gp[b] * gmb, sh);
		int32_t q1 = q13_floor(mix, gp[b + 1] * gme, sh);

		sh_prev = sh;
		q1_prev = q1;

		/* mix_ramp_make() in 32 bits: |q1 - q0| << 13 < 2^28 */
		p->sh[b] = (uint8_t)sh;
		p->g[b].base = q0 * MIX_ONE;
		p->g[b].step = q0 == q1 ? 0 :
			div_blk((q1 - q0) * MIX_ONE, mix->blk);
	}
}

/* A limiter state within MIX_PLAN_LIM_TOL of the plan's joins it: a gain
 * step of at most 0.14 dB at a frame boundary, and from then on the legs
 * share one trajectory. */
static bool plan_match(const struct mix_plan *p, unsigned cls,
		       float lim, int32_t go0, int32_t go1)
{
	return p->cls == cls && p->go0 == go0 &&
		p->go1 == go1 && fabsf(p->lim0 - lim) <=
		p->lim0 * MIX_PLAN_LIM_TOL;
}

static struct mix_plan *plan_shared(struct mixer *mix, unsigned cls,
				    float lim, int32_t go0, int32_t go1,
				    unsigned *hint)
{
	struct mix_plan *p;
	unsigned i;

	/* Legs are visited in the same order every tick, so the plan a
	 * leg used last tick usually sits at the same index. */
	if (*hint < mix->nplans &&
	    plan_match(&mix->plans[*hint], cls, lim, go0, go1))
		return &mix->plans[*hint];

	for (i = 0; i < mix->nplans; i++) {
		p = &mix->plans[i];
		if (plan_match(p, cls, lim, go0, go1)) {
			*hint = i;
			return p;
		}
	}

	*hint = mix->nplans;
	p = mix->nplans < MIX_PLAN_CACHE ? &mix->plans[mix->nplans++] :
		&mix->plans[MIX_PLAN_CACHE];
	mix->stats.plans_shared++;
	p->cls = cls;
	p->lim0 = lim;
	p->go0 = go0;
	p->go1 = go1;
	p->uses = 0;
	plan_compute(mix, p, cls ? mix->pk_share + (cls - 1) * mix->nblk :
		     mix->spk);
	return p;
}

/* The plan's limited mix of the whole room (no own signal removed). */
static bool plan_mix(struct mixer *mix, struct mix_plan *p)
{
	if (!p->a_ready) {
		mix->k->out_curve(p->a, mix->sum, NULL, mix->blk, mix->nblk,
				  mix_ramp_const(MIX_ONE), p->g, p->sh);
		p->a_ready = true;
	}
	return true;
}

/*
 * Gain of the own signal after the limiter, as a 16-bit multiplier:
 * ((x * gi) >> 13 >> sh) * g >> 13 ~= (x * h) >> 16 with
 * h = (g * gi) >> (10 + sh). Only when every h fits int16; else the leg
 * takes the exact 32-bit path.
 */
static const int16_t *plan_own_gain(const struct mixer *mix,
				    struct mix_plan *p, int32_t gi)
{
	unsigned i, n = p->hcnt < MIX_PLAN_H ? p->hcnt : MIX_PLAN_H;

	for (i = 0; i < n; i++) {
		if (p->hgi[i] == gi)
			return p->h_ok[i] ? p->h[i] : NULL;
	}

	i = p->hcnt++ % MIX_PLAN_H;
	p->hgi[i] = gi;
	p->h_ok[i] = mix->k->curve16(p->h[i], p->g, p->sh, mix->blk,
				     mix->nblk, gi, MIX_Q - 3) <= INT16_MAX;
	return p->h_ok[i] ? p->h[i] : NULL;
}

static struct mix_plan *plan_own(struct mixer *mix, const int16_t *x,
				 struct mix_ramp gi, uint32_t ob, float lim,
				 int32_t go0, int32_t go1)
{
	struct mix_plan *p = &mix->plans[MIX_PLAN_CACHE];
	const int32_t gohi = go0 > go1 ? go0 : go1;
	const float gmhi = (float)gohi / MIX_ONE;
	const size_t L = mix->blk;
	uint32_t *pk = mix->pk;
	unsigned b;

	for (b = 0; b < mix->nblk; b++) {
		pk[b] = mix->spk[b] + ob;
		if ((float)pk[b] * gmhi > mix->thr)
			pk[b] = mix->k->peak(mix->sum + b * L, x + b * L, L,
					     mix_ramp_at(gi, b * L));
	}

	mix->stats.plans_own++;
	p->cls = ~0u;
	p->uses = 0;
	p->lim0 = lim;
	p->go0 = go0;
	p->go1 = go1;
	plan_compute(mix, p, pk);
	return p;
}

unsigned mix_render(struct mixer *mix, int16_t *out, int16_t *x,
		struct mix_ramp gi, uint32_t xpeak, int32_t go0, int32_t go1,
		float *lim, unsigned *hint)
{
	const struct mix_kernels *k = mix->k;
	const int32_t gohi = go0 > go1 ? go0 : go1;
	uint32_t ob = x ? own_bound(xpeak, gi, mix->n) : 0;
	const int16_t *h;
	struct mix_plan *p;

	/* Fast path: nothing anywhere near the threshold, fully released. */
	if (*lim == 1.0f &&
	    (float)(mix->spk_max + ob) * ((float)gohi / MIX_ONE) <= mix->thr) {
		if (go0 == MIX_ONE && go1 == MIX_ONE &&
		    (!x || mix_ramp_is(gi, MIX_ONE)))
			k->sub_sat(out, mix->sum, x, mix->n);
		else
			k->out(out, mix->sum, x, mix->n, gi, 0,
			       mix_ramp_make(go0, go1, mix->n));
		return 0;
	}

	if (!ob) {
		p = plan_shared(mix, 0, *lim, go0, go1, hint);
	}
	else {
		unsigned c = 0;

		while (c < MIX_SHARE_CLASSES && ob > mix->ob_share[c])
			c++;
		if (c < MIX_SHARE_CLASSES && !gi.step)
			p = plan_shared(mix, 1 + c, *lim, go0, go1, hint);
		else
			p = plan_own(mix, x, gi, ob, *lim, go0, go1);
	}
	p->uses++;

	if (p->unlimited) {
		if (go0 == MIX_ONE && go1 == MIX_ONE &&
		    (!x || mix_ramp_is(gi, MIX_ONE)))
			k->sub_sat(out, mix->sum, x, mix->n);
		else
			k->out(out, mix->sum, x, mix->n, gi, 0,
			       mix_ramp_make(go0, go1, mix->n));
	}
	else if (p->cls == 0) {
		/* No own signal: the plan's mix is the output. */
		plan_mix(mix, p);
		memcpy(out, p->a, mix->n * sizeof(*out));
	}
	else if (p->cls != ~0u && p->uses > 1 && plan_mix(mix, p) &&
		 (h = plan_own_gain(mix, p, gi.base >> MIX_Q))) {
		/* The second leg on a plan pays for its 16-bit mix. */
		k->sub_mulhi_z(out, p->a, x, h, mix->n);
		*lim = p->lim1;
		return (p->limited ? MIX_R_LIMITED : 0) | MIX_R_CONSUMED;
	}
	else {
		k->out_curve(out, mix->sum, x, mix->blk, mix->nblk, gi,
			     p->g, p->sh);
	}

	*lim = p->lim1;
	return p->limited ? MIX_R_LIMITED : 0;
}
