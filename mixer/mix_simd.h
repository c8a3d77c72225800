/**
 * @file mix_simd.h  SIMD kernel bodies, written once for every ISA
 *
 * Included by mix_sse2.c, mix_avx2.c, mix_avx512.c and mix_neon.c after
 * they define the vector type V, VW (int32 lanes per vector), MIX_SFX
 * (name suffix) and the primitives below, each compiled with its own
 * -m flags. One loop body per operation keeps the variants identical:
 *
 *   v_ld v_st            unaligned load/store of a whole vector
 *   v_ld_half_z          load VW int16 into the low half, zero the rest
 *   v_widen v_widen_lo   sign-extend int16 lanes to int32, in order
 *   v_ld_widen           load 2*VW int16 as two int32 vectors
 *   v_pack v_st_half     saturating int32 -> int16, in order
 *   v_add v_sub v_madd v_max32 v_min32 v_max16 v_min16 v_set1 v_zero
 *   v_srai v_srli (immediate)  v_sra (run-time count)
 *   v_mullo (32-bit multiply, once per ramp)  v_lanes1 (1, 2, .. VW)
 *   v_mulhi16 v_subs16   16-bit high multiply, saturating subtract
 *
 * A full step handles 2*VW samples, an optional half step VW samples,
 * the scalar tail the rest (with the same helpers as mix_c.c).
 */
#ifndef MIX_SFX
#error "define the ISA primitives before including mix_simd.h"
#endif

#include <string.h>

#define MIX_CAT2(a, b) a##_##b
#define MIX_CAT(a, b)  MIX_CAT2(a, b)
#define FN(name)       MIX_CAT(name, MIX_SFX)

/* Each energy lane gains at most 2^23 per step: flush before 2^32. */
#define MIX_EFLUSH 256

#define MIX_INLINE static inline __attribute__((always_inline))

/* own contribution: none, x, x * constant gain, x * gain ramp */
enum own_mode { OWN_NONE, OWN_UNITY, OWN_GAINC, OWN_GAIN };

struct vstat {
	V e, mx, mn;
	uint64_t e64;
	unsigned cnt;
};

MIX_INLINE void vstat_init(struct vstat *s)
{
	s->e = s->mx = s->mn = v_zero();
	s->e64 = 0;
	s->cnt = 0;
}

static uint64_t FN(hsum_u32)(V v)
{
	uint32_t a[VW] __attribute__((aligned(64)));
	uint64_t s = 0;
	int i;

	v_st(a, v);
	for (i = 0; i < VW; i++)
		s += a[i];
	return s;
}

/* mx lanes are >= 0 and mn lanes <= 0 (both start at zero), so the peak
 * is max(max mx, -min mn): two branch-free reductions the compiler
 * vectorises, not a data-dependent branch per lane. */
static uint32_t FN(hpeak16)(V mx, V mn)
{
	int16_t a[2 * VW] __attribute__((aligned(64)));
	int16_t b[2 * VW] __attribute__((aligned(64)));
	int16_t hi = 0, lo = 0;
	int i;

	v_st(a, mx);
	v_st(b, mn);
	for (i = 0; i < 2 * VW; i++) {
		hi = a[i] > hi ? a[i] : hi;
		lo = b[i] < lo ? b[i] : lo;
	}
	return (uint32_t)hi > (uint32_t)-lo ? (uint32_t)hi : (uint32_t)-lo;
}

static uint32_t FN(hpeak32)(V mx, V mn)
{
	int32_t a[VW] __attribute__((aligned(64)));
	int32_t b[VW] __attribute__((aligned(64)));
	int32_t hi = 0, lo = 0;
	int i;

	v_st(a, mx);
	v_st(b, mn);
	for (i = 0; i < VW; i++) {
		hi = a[i] > hi ? a[i] : hi;
		lo = b[i] < lo ? b[i] : lo;
	}
	return (uint32_t)hi > mix_abs32(lo) ? (uint32_t)hi : mix_abs32(lo);
}

MIX_INLINE void vstat_step(struct vstat *s, V x)
{
	s->e  = v_add(s->e, v_srli(v_madd(x, x), MIX_ESHIFT));
	s->mx = v_max16(s->mx, x);
	s->mn = v_min16(s->mn, x);
	if (++s->cnt == MIX_EFLUSH) {
		s->e64 += FN(hsum_u32)(s->e);
		s->e = v_zero();
		s->cnt = 0;
	}
}

MIX_INLINE uint64_t vstat_done(struct vstat *s, const int16_t *x,
			       size_t i, size_t n, uint32_t *peak)
{
	uint32_t pk = FN(hpeak16)(s->mx, s->mn);
	uint64_t e = s->e64 + FN(hsum_u32)(s->e);

	e += mix_energy_scalar(x + i, n - i, &pk);
	*peak = pk;
	return e;
}

/* Ramp lanes: r_lo holds base + step*(t+1) for the VW samples of t. */
struct vramp {
	V lo, hi, inc_full, inc_half;
	V gc;      /* the gain itself, for a constant ramp */
};

/* Lanes past the end of a short ramp may leave int32: wrap, unused. */
static inline int32_t wrap32(int64_t v)
{
	return (int32_t)(uint32_t)(uint64_t)v;
}

MIX_INLINE void vramp_init(struct vramp *r, struct mix_ramp g)
{
	r->lo = v_set1(wrap32((int64_t)g.base + g.step));
	if (g.step) {
		/* lane i: base + step*(i+1) */
		r->lo = v_add(v_set1(g.base),
			      v_mullo(v_set1(g.step), v_lanes1()));
	}
	r->hi = v_add(r->lo, v_set1(wrap32((int64_t)g.step * VW)));
	r->inc_full = v_set1(wrap32((int64_t)g.step * 2 * VW));
	r->inc_half = v_set1(wrap32((int64_t)g.step * VW));
	r->gc = v_set1(g.base >> MIX_Q);
}

MIX_INLINE V own_gain(V xw, V rr)
{
	return v_srai(v_madd(xw, v_srai(rr, MIX_Q)), MIX_Q);
}

/* --- acc / energy ------------------------------------------------ */

MIX_INLINE uint64_t acc_body(int32_t *sum, const int16_t *x, size_t n,
			     struct mix_ramp g, uint32_t *peak,
			     enum own_mode mode)
{
	struct vstat st;
	struct vramp r;
	size_t i = 0, t;

	vstat_init(&st);
	vramp_init(&r, g);

	for (; i + 2 * VW <= n; i += 2 * VW) {
		V xv = v_ld(x + i), lo, hi;

		vstat_step(&st, xv);
		if (mode == OWN_NONE)
			continue;
		v_ld_widen(x + i, &lo, &hi);   /* cheaper than lane moves */
		if (mode == OWN_GAINC) {
			lo = v_srai(v_madd(lo, r.gc), MIX_Q);
			hi = v_srai(v_madd(hi, r.gc), MIX_Q);
		}
		if (mode == OWN_GAIN) {
			lo = own_gain(lo, r.lo);
			hi = own_gain(hi, r.hi);
			r.lo = v_add(r.lo, r.inc_full);
			r.hi = v_add(r.hi, r.inc_full);
		}
		v_st(sum + i, v_add(v_ld(sum + i), lo));
		v_st(sum + i + VW, v_add(v_ld(sum + i + VW), hi));
	}
	if (i + VW <= n) {
		V xv = v_ld_half_z(x + i);

		vstat_step(&st, xv);
		if (mode != OWN_NONE) {
			V lo = v_widen_lo(xv);

			if (mode == OWN_GAINC)
				lo = v_srai(v_madd(lo, r.gc), MIX_Q);
			if (mode == OWN_GAIN)
				lo = own_gain(lo, r.lo);
			v_st(sum + i, v_add(v_ld(sum + i), lo));
		}
		i += VW;
	}
	if (mode != OWN_NONE) {
		for (t = i; t < n; t++)
			sum[t] += mode == OWN_UNITY ? x[t] :
				mix_mul16(x[t], mix_ramp_gain(g, t)) >> MIX_Q;
	}

	return vstat_done(&st, x, i, n, peak);
}

static uint64_t FN(mix_acc)(int32_t *sum, const int16_t *x, size_t n,
			    struct mix_ramp g, uint32_t *peak)
{
	if (mix_ramp_is(g, MIX_ONE))
		return acc_body(sum, x, n, g, peak, OWN_UNITY);
	if (!g.step)
		return acc_body(sum, x, n, g, peak, OWN_GAINC);
	return acc_body(sum, x, n, g, peak, OWN_GAIN);
}

/* Two legs with constant gains in one pass: the sum is loaded and
 * stored once for both (integer adds: the same sum in any order). */
MIX_INLINE void acc2_body(int32_t *sum, const int16_t *xa,
			  const int16_t *xb, size_t n, int32_t ga, int32_t gb,
			  uint64_t *e, uint32_t *peak, bool unity)
{
	const V gva = v_set1(ga), gvb = v_set1(gb);
	struct vstat sa, sb;
	size_t i = 0, t;

	vstat_init(&sa);
	vstat_init(&sb);
	for (; i + 2 * VW <= n; i += 2 * VW) {
		V alo, ahi, blo, bhi;

		vstat_step(&sa, v_ld(xa + i));
		vstat_step(&sb, v_ld(xb + i));
		v_ld_widen(xa + i, &alo, &ahi);
		v_ld_widen(xb + i, &blo, &bhi);
		if (!unity) {
			alo = v_srai(v_madd(alo, gva), MIX_Q);
			ahi = v_srai(v_madd(ahi, gva), MIX_Q);
			blo = v_srai(v_madd(blo, gvb), MIX_Q);
			bhi = v_srai(v_madd(bhi, gvb), MIX_Q);
		}
		v_st(sum + i, v_add(v_ld(sum + i), v_add(alo, blo)));
		v_st(sum + i + VW, v_add(v_ld(sum + i + VW), v_add(ahi, bhi)));
	}
	if (i + VW <= n) {
		V a = v_ld_half_z(xa + i), b = v_ld_half_z(xb + i);
		V alo = v_widen_lo(a), blo = v_widen_lo(b);

		vstat_step(&sa, a);
		vstat_step(&sb, b);
		if (!unity) {
			alo = v_srai(v_madd(alo, gva), MIX_Q);
			blo = v_srai(v_madd(blo, gvb), MIX_Q);
		}
		v_st(sum + i, v_add(v_ld(sum + i), v_add(alo, blo)));
		i += VW;
	}
	for (t = i; t < n; t++)
		sum[t] += (mix_mul16(xa[t], ga) >> MIX_Q) +
			(mix_mul16(xb[t], gb) >> MIX_Q);

	e[0] = vstat_done(&sa, xa, i, n, &peak[0]);
	e[1] = vstat_done(&sb, xb, i, n, &peak[1]);
}

static void FN(mix_acc2)(int32_t *sum, const int16_t *xa, const int16_t *xb,
			 size_t n, int32_t ga, int32_t gb, uint64_t *e,
			 uint32_t *peak)
{
	if (ga == MIX_ONE && gb == MIX_ONE)
		acc2_body(sum, xa, xb, n, ga, gb, e, peak, true);
	else
		acc2_body(sum, xa, xb, n, ga, gb, e, peak, false);
}

static uint64_t FN(mix_energy)(const int16_t *x, size_t n, uint32_t *peak)
{
	return acc_body(NULL, x, n, mix_ramp_const(0), peak, OWN_NONE);
}

/* energy() that clears each vector right after loading it (the line is
 * in L1 then): no second pass over the frame. */
static uint64_t FN(mix_energy_z)(int16_t *x, size_t n, uint32_t *peak)
{
	struct vstat st;
	uint64_t e;
	size_t i = 0;

	vstat_init(&st);
	for (; i + 2 * VW <= n; i += 2 * VW) {
		vstat_step(&st, v_ld(x + i));
		v_st(x + i, v_zero());
	}
	if (i + VW <= n) {
		vstat_step(&st, v_ld_half_z(x + i));
		v_st_half(x + i, v_zero());
		i += VW;
	}
	e = vstat_done(&st, x, i, n, peak);
	memset(x + i, 0, (n - i) * sizeof(*x));
	return e;
}

/* --- d = sum - own ----------------------------------------------- */

MIX_INLINE void load_d(const int32_t *sum, const int16_t *x, size_t i,
		       struct vramp *r, enum own_mode mode, V *dlo, V *dhi)
{
	*dlo = v_ld(sum + i);
	*dhi = v_ld(sum + i + VW);
	if (mode != OWN_NONE) {
		V lo, hi;

		v_ld_widen(x + i, &lo, &hi);
		if (mode == OWN_GAINC) {
			lo = v_srai(v_madd(lo, r->gc), MIX_Q);
			hi = v_srai(v_madd(hi, r->gc), MIX_Q);
		}
		if (mode == OWN_GAIN) {
			lo = own_gain(lo, r->lo);
			hi = own_gain(hi, r->hi);
			r->lo = v_add(r->lo, r->inc_full);
			r->hi = v_add(r->hi, r->inc_full);
		}
		*dlo = v_sub(*dlo, lo);
		*dhi = v_sub(*dhi, hi);
	}
}

MIX_INLINE V load_d_half(const int32_t *sum, const int16_t *x, size_t i,
			 struct vramp *r, enum own_mode mode)
{
	V d = v_ld(sum + i);

	if (mode != OWN_NONE) {
		V lo = v_widen_lo(v_ld_half_z(x + i));

		if (mode == OWN_GAINC)
			lo = v_srai(v_madd(lo, r->gc), MIX_Q);
		if (mode == OWN_GAIN) {
			lo = own_gain(lo, r->lo);
			r->lo = v_add(r->lo, r->inc_half);
		}
		d = v_sub(d, lo);
	}
	return d;
}

MIX_INLINE int32_t d_scalar(const int32_t *sum, const int16_t *x, size_t t,
			    struct mix_ramp gi, enum own_mode mode)
{
	if (mode == OWN_NONE)
		return sum[t];
	if (mode == OWN_UNITY)
		return sum[t] - x[t];
	return sum[t] - (mix_mul16(x[t], mix_ramp_gain(gi, t)) >> MIX_Q);
}

static inline enum own_mode own_mode_of(const int16_t *x, struct mix_ramp gi)
{
	if (!x)
		return OWN_NONE;
	if (mix_ramp_is(gi, MIX_ONE))
		return OWN_UNITY;
	return gi.step ? OWN_GAIN : OWN_GAINC;
}

/* --- peak -------------------------------------------------------- */

MIX_INLINE uint32_t peak_body(const int32_t *sum, const int16_t *x, size_t n,
			      struct mix_ramp gi, enum own_mode mode)
{
	V mx = v_zero(), mn = v_zero();
	struct vramp r;
	uint32_t pk;
	size_t i = 0;

	vramp_init(&r, gi);
	for (; i + 2 * VW <= n; i += 2 * VW) {
		V lo, hi;

		load_d(sum, x, i, &r, mode, &lo, &hi);
		mx = v_max32(mx, v_max32(lo, hi));
		mn = v_min32(mn, v_min32(lo, hi));
	}
	if (i + VW <= n) {
		V d = load_d_half(sum, x, i, &r, mode);

		mx = v_max32(mx, d);
		mn = v_min32(mn, d);
		i += VW;
	}
	pk = FN(hpeak32)(mx, mn);
	for (; i < n; i++) {
		uint32_t a = mix_abs32(d_scalar(sum, x, i, gi, mode));

		if (a > pk)
			pk = a;
	}
	return pk;
}

static uint32_t FN(mix_peak)(const int32_t *sum, const int16_t *x, size_t n,
			     struct mix_ramp gi)
{
	switch (own_mode_of(x, gi)) {
	case OWN_NONE:  return peak_body(sum, x, n, gi, OWN_NONE);
	case OWN_UNITY: return peak_body(sum, x, n, gi, OWN_UNITY);
	case OWN_GAINC: return peak_body(sum, x, n, gi, OWN_GAINC);
	default:        return peak_body(sum, x, n, gi, OWN_GAIN);
	}
}

/* --- out --------------------------------------------------------- */

/* goc: constant output gain and no shift (the unlimited path) */
MIX_INLINE void out_span(int16_t *out, const int32_t *sum, const int16_t *x,
			 size_t n, struct mix_ramp gi, unsigned sh,
			 struct mix_ramp go, enum own_mode mode, bool goc)
{
	struct vramp r, q;
	size_t i = 0, t;

	vramp_init(&r, gi);
	vramp_init(&q, go);
	for (; i + 2 * VW <= n; i += 2 * VW) {
		V lo, hi;

		load_d(sum, x, i, &r, mode, &lo, &hi);
		if (goc) {
			lo = v_srai(v_madd(lo, q.gc), MIX_Q);
			hi = v_srai(v_madd(hi, q.gc), MIX_Q);
		}
		else {
			lo = v_srai(v_madd(v_sra(lo, sh), v_srai(q.lo, MIX_Q)),
				    MIX_Q);
			hi = v_srai(v_madd(v_sra(hi, sh), v_srai(q.hi, MIX_Q)),
				    MIX_Q);
			q.lo = v_add(q.lo, q.inc_full);
			q.hi = v_add(q.hi, q.inc_full);
		}
		v_st(out + i, v_pack(lo, hi));
	}
	if (i + VW <= n) {
		V d = load_d_half(sum, x, i, &r, mode);

		d = v_srai(v_madd(v_sra(d, sh), v_srai(q.lo, MIX_Q)), MIX_Q);
		v_st_half(out + i, d);
		i += VW;
	}
	for (t = i; t < n; t++) {
		int32_t d = d_scalar(sum, x, t, gi, mode) >> sh;

		out[t] = mix_sat16(mix_mul16(d, mix_ramp_gain(go, t)) >> MIX_Q);
	}
}

static void FN(mix_out)(int16_t *out, const int32_t *sum, const int16_t *x,
			size_t n, struct mix_ramp gi, unsigned sh,
			struct mix_ramp go)
{
	const bool goc = !go.step && !sh;

	switch (own_mode_of(x, gi)) {
	case OWN_NONE:
		if (goc)
			out_span(out, sum, x, n, gi, sh, go, OWN_NONE, true);
		else
			out_span(out, sum, x, n, gi, sh, go, OWN_NONE, false);
		break;
	case OWN_UNITY:
		if (goc)
			out_span(out, sum, x, n, gi, sh, go, OWN_UNITY, true);
		else
			out_span(out, sum, x, n, gi, sh, go, OWN_UNITY, false);
		break;
	case OWN_GAINC:
		if (goc)
			out_span(out, sum, x, n, gi, sh, go, OWN_GAINC, true);
		else
			out_span(out, sum, x, n, gi, sh, go, OWN_GAINC, false);
		break;
	default:
		out_span(out, sum, x, n, gi, sh, go, OWN_GAIN, false);
		break;
	}
}

MIX_INLINE void out_curve_body(int16_t *out, const int32_t *sum,
			       const int16_t *x, size_t blk, unsigned nblk,
			       struct mix_ramp gi, const struct mix_ramp *g,
			       const uint8_t *sh, enum own_mode mode)
{
	struct vramp r, q;
	unsigned b;

	vramp_init(&r, gi);
	for (b = 0; b < nblk; b++) {
		const size_t off = b * blk, end = off + blk;
		const unsigned s = sh[b];
		size_t i = off, t;

		/* A ramped own gain restarts at each block (rare). */
		if (mode == OWN_GAIN)
			vramp_init(&r, mix_ramp_at(gi, off));
		/* The block's gain ramp is built in registers. */
		vramp_init(&q, g[b]);
		for (; i + 2 * VW <= end; i += 2 * VW) {
			V lo, hi;

			load_d(sum, x, i, &r, mode, &lo, &hi);
			lo = v_srai(v_madd(v_sra(lo, s), v_srai(q.lo, MIX_Q)),
				    MIX_Q);
			hi = v_srai(v_madd(v_sra(hi, s), v_srai(q.hi, MIX_Q)),
				    MIX_Q);
			q.lo = v_add(q.lo, q.inc_full);
			q.hi = v_add(q.hi, q.inc_full);
			v_st(out + i, v_pack(lo, hi));
		}
		if (i + VW <= end) {
			V d = load_d_half(sum, x, i, &r, mode);

			d = v_srai(v_madd(v_sra(d, s), v_srai(q.lo, MIX_Q)),
				   MIX_Q);
			v_st_half(out + i, d);
			i += VW;
		}
		for (t = i; t < end; t++) {
			int32_t d = d_scalar(sum, x, t, gi, mode) >> s;
			int32_t gt = mix_ramp_gain(g[b], t - off);

			out[t] = mix_sat16(mix_mul16(d, gt) >> MIX_Q);
		}
	}
}

static void FN(mix_out_curve)(int16_t *out, const int32_t *sum,
			      const int16_t *x, size_t blk, unsigned nblk,
			      struct mix_ramp gi, const struct mix_ramp *g,
			      const uint8_t *sh)
{
	switch (own_mode_of(x, gi)) {
	case OWN_NONE:
		out_curve_body(out, sum, x, blk, nblk, gi, g, sh, OWN_NONE);
		break;
	case OWN_UNITY:
		out_curve_body(out, sum, x, blk, nblk, gi, g, sh, OWN_UNITY);
		break;
	case OWN_GAINC:
		out_curve_body(out, sum, x, blk, nblk, gi, g, sh, OWN_GAINC);
		break;
	default:
		out_curve_body(out, sum, x, blk, nblk, gi, g, sh, OWN_GAIN);
		break;
	}
}

/* --- curve16 ---------------------------------------------------- */

static int32_t FN(mix_curve16)(int16_t *h, const struct mix_ramp *g,
			       const uint8_t *sh, size_t blk, unsigned nblk,
			       int32_t gi, unsigned q)
{
	const V giv = v_set1(gi);
	V mx = v_zero();
	int32_t hmax = 0, a[VW] __attribute__((aligned(64)));
	struct vramp r;
	unsigned b;
	int k;

	for (b = 0; b < nblk; b++) {
		const size_t off = b * blk, end = off + blk;
		const unsigned s = q + sh[b];
		size_t i = off, t;

		vramp_init(&r, g[b]);
		for (; i + 2 * VW <= end; i += 2 * VW) {
			/* gain < 2^15 in the low half: madd is gain * gi */
			V lo = v_sra(v_madd(v_srai(r.lo, MIX_Q), giv), s);
			V hi = v_sra(v_madd(v_srai(r.hi, MIX_Q), giv), s);

			r.lo = v_add(r.lo, r.inc_full);
			r.hi = v_add(r.hi, r.inc_full);
			mx = v_max32(mx, v_max32(lo, hi));
			v_st(h + i, v_pack(lo, hi));
		}
		if (i + VW <= end) {
			V lo = v_sra(v_madd(v_srai(r.lo, MIX_Q), giv), s);

			mx = v_max32(mx, lo);
			v_st_half(h + i, lo);
			i += VW;
		}
		for (t = i; t < end; t++) {
			int32_t v = (mix_ramp_gain(g[b], t - off) * gi) >> s;

			hmax = v > hmax ? v : hmax;
			h[t] = mix_sat16(v);
		}
	}

	v_st(a, mx);
	for (k = 0; k < VW; k++)
		hmax = a[k] > hmax ? a[k] : hmax;
	return hmax;
}

/* --- sub_mulhi: 16-bit lanes throughout ------------------------- */

static void FN(mix_sub_mulhi)(int16_t *out, const int16_t *a,
			      const int16_t *x, const int16_t *h, size_t n)
{
	size_t i = 0, t;

	for (; i + 2 * VW <= n; i += 2 * VW)
		v_st(out + i, v_subs16(v_ld(a + i),
				       v_mulhi16(v_ld(x + i), v_ld(h + i))));
	for (t = i; t < n; t++)
		out[t] = mix_sat16(a[t] - (((int32_t)x[t] * h[t]) >> 16));
}

static void FN(mix_sub_mulhi_z)(int16_t *out, const int16_t *a, int16_t *x,
				const int16_t *h, size_t n)
{
	size_t i = 0, t;

	for (; i + 2 * VW <= n; i += 2 * VW) {
		V xv = v_ld(x + i);

		v_st(x + i, v_zero());
		v_st(out + i, v_subs16(v_ld(a + i),
				       v_mulhi16(xv, v_ld(h + i))));
	}
	for (t = i; t < n; t++) {
		out[t] = mix_sat16(a[t] - (((int32_t)x[t] * h[t]) >> 16));
		x[t] = 0;
	}
}

/* --- sub_sat ----------------------------------------------------- */

MIX_INLINE void sub_sat_body(int16_t *out, const int32_t *sum,
			     const int16_t *x, size_t n, enum own_mode mode)
{
	struct vramp r;
	size_t i = 0, t;

	vramp_init(&r, mix_ramp_const(MIX_ONE));
	for (; i + 2 * VW <= n; i += 2 * VW) {
		V lo, hi;

		load_d(sum, x, i, &r, mode, &lo, &hi);
		v_st(out + i, v_pack(lo, hi));
	}
	if (i + VW <= n) {
		v_st_half(out + i, load_d_half(sum, x, i, &r, mode));
		i += VW;
	}
	for (t = i; t < n; t++)
		out[t] = mix_sat16(sum[t] - (mode == OWN_NONE ? 0 : x[t]));
}

static void FN(mix_sub_sat)(int16_t *out, const int32_t *sum,
			    const int16_t *x, size_t n)
{
	if (x)
		sub_sat_body(out, sum, x, n, OWN_UNITY);
	else
		sub_sat_body(out, sum, x, n, OWN_NONE);
}

const struct mix_kernels MIX_CAT(mix_kernels, MIX_SFX) = {
	.acc     = FN(mix_acc),
	.acc2    = FN(mix_acc2),
	.energy  = FN(mix_energy),
	.energy_z = FN(mix_energy_z),
	.peak    = FN(mix_peak),
	.out     = FN(mix_out),
	.out_curve = FN(mix_out_curve),
	.curve16 = FN(mix_curve16),
	.sub_mulhi = FN(mix_sub_mulhi),
	.sub_mulhi_z = FN(mix_sub_mulhi_z),
	.sub_sat = FN(mix_sub_sat),
};
