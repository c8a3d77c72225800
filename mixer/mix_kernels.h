/**
 * @file mix_kernels.h  Per-sample kernels of the mixer (internal)
 *
 * The scalar functions mix_*_c() are the specification. Every SIMD
 * variant (mix_sse2.c, mix_avx2.c, mix_avx512.c, mix_neon.c) computes
 * bit-identical results for inputs within the documented contract and
 * is reached only through the dispatch table (mix_kernels_get()).
 *
 * All gains are non-negative Q13 fixed point (MIX_ONE = 1.0) below
 * 2^15, so a gain fits the second half of a 16x16->32 multiply-add
 * (pmaddwd): the same integer product on every ISA.
 */
#ifndef MIX_KERNELS_H
#define MIX_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <chorus/mixer.h>

enum {
	MIX_Q       = 13,
	MIX_ONE     = 1 << MIX_Q,
	MIX_GMAX_Q  = 32767,     /**< largest representable Q13 gain */
	MIX_ESHIFT  = 8,         /**< energy: (a^2 + b^2) >> 8 per pair */
	MIX_KERNEL_MAX_N = 2880, /**< 60 ms at 48 kHz */
};

/**
 * A linear gain ramp: the gain of sample t (t = 0..n-1) is
 * (base + step*(t+1)) >> MIX_Q. A constant gain g is {g << MIX_Q, 0}.
 * Contract: 0 <= base + step*(t+1) < 2^28 for every t < n.
 */
struct mix_ramp {
	int32_t base;
	int32_t step;
};

static inline struct mix_ramp mix_ramp_const(int32_t g)
{
	struct mix_ramp r = { g * MIX_ONE, 0 };
	return r;
}

/** Ramp from g0 (before sample 0) to about g1 (at sample n-1). */
static inline struct mix_ramp mix_ramp_make(int32_t g0, int32_t g1,
					    size_t n)
{
	struct mix_ramp r;

	r.base = g0 * MIX_ONE;
	/* steady state (nearly always): no division in the tick */
	r.step = g0 == g1 ? 0 :
		(int32_t)(((int64_t)(g1 - g0) * MIX_ONE) / (int64_t)n);
	return r;
}

/** The same ramp seen from sample off on. */
static inline struct mix_ramp mix_ramp_at(struct mix_ramp r, size_t off)
{
	r.base += r.step * (int32_t)off;
	return r;
}

static inline int32_t mix_ramp_gain(struct mix_ramp r, size_t t)
{
	return (r.base + r.step * (int32_t)(t + 1)) >> MIX_Q;
}

static inline bool mix_ramp_is(struct mix_ramp r, int32_t g)
{
	return r.step == 0 && r.base == g * MIX_ONE;
}

/* Scalar building blocks shared by mix_c.c and the SIMD tails. */

/** x * g as pmaddwd computes it: both operands taken as int16. */
static inline int32_t mix_mul16(int32_t x, int32_t g)
{
	return (int32_t)(int16_t)x * (int32_t)(int16_t)g;
}

static inline int16_t mix_sat16(int32_t v)
{
	return v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN :
		(int16_t)v;
}

static inline uint32_t mix_abs32(int32_t v)
{
	return v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
}

/**
 * Energy and peak of x[0..n) by the pairing rule of the kernels; the
 * reference, also used for the tails of the SIMD loops (from an even
 * offset).
 */
static inline uint64_t mix_energy_scalar(const int16_t *x, size_t n,
					 uint32_t *peak)
{
	uint64_t e = 0;
	uint32_t pk = *peak;
	size_t i;

	for (i = 0; i < n; i += 2) {
		int32_t a = x[i];
		int32_t b = i + 1 < n ? x[i + 1] : 0;

		e += ((uint32_t)(a * a) + (uint32_t)(b * b)) >> MIX_ESHIFT;
		if (mix_abs32(a) > pk)
			pk = mix_abs32(a);
		if (mix_abs32(b) > pk)
			pk = mix_abs32(b);
	}

	*peak = pk;
	return e;
}

/**
 * Kernel table. n is any length 0..MIX_KERNEL_MAX_N; pointers need no
 * particular alignment (the mixer passes 64-byte aligned frames).
 */
struct mix_kernels {
	/**
	 * sum[t] += (x[t] * g(t)) >> MIX_Q. Returns the frame energy
	 * sum over sample pairs of (x[2i]^2 + x[2i+1]^2) >> MIX_ESHIFT
	 * (an odd last sample pairs with 0) and in *peak max |x[t]|.
	 */
	uint64_t (*acc)(int32_t *sum, const int16_t *x, size_t n,
			struct mix_ramp g, uint32_t *peak);

	/**
	 * acc() of two frames with constant gains ga, gb (0..32767) in one
	 * pass: e[0], peak[0] of xa; e[1], peak[1] of xb.
	 */
	void (*acc2)(int32_t *sum, const int16_t *xa, const int16_t *xb,
		     size_t n, int32_t ga, int32_t gb, uint64_t *e,
		     uint32_t *peak);

	/** Energy and peak as acc(), without touching any sum. */
	uint64_t (*energy)(const int16_t *x, size_t n, uint32_t *peak);

	/** energy(), then x[0..n) = 0 (the frame is consumed). */
	uint64_t (*energy_z)(int16_t *x, size_t n, uint32_t *peak);

	/**
	 * max |d[t]| with d[t] = sum[t] - ((x[t] * gi(t)) >> MIX_Q);
	 * x == NULL means d = sum.
	 */
	uint32_t (*peak)(const int32_t *sum, const int16_t *x, size_t n,
			 struct mix_ramp gi);

	/**
	 * out[t] = sat16((int16(d[t] >> sh) * go(t)) >> MIX_Q), d as in
	 * peak(). Contract: d[t] >> sh fits int16 (the limiter picks sh).
	 */
	void (*out)(int16_t *out, const int32_t *sum, const int16_t *x,
		    size_t n, struct mix_ramp gi, unsigned sh,
		    struct mix_ramp go);

	/**
	 * out() with a gain ramp and a shift per block:
	 * out[off + t] = sat16((int16(d[off + t] >> sh[b]) * gain(g[b], t))
	 * >> MIX_Q) for block b at off = b * blk, 0 <= t < blk, where
	 * gain(r, t) = mix_ramp_gain(r, t) lies in 0..32767 (the limiter's
	 * gain curve, one linear piece per block); the own ramp gi runs over
	 * the whole span.
	 */
	void (*out_curve)(int16_t *out, const int32_t *sum, const int16_t *x,
			  size_t blk, unsigned nblk, struct mix_ramp gi,
			  const struct mix_ramp *g, const uint8_t *sh);

	/**
	 * The gain curve of out_curve() times gi, as 16-bit multipliers:
	 * h[off + t] = sat16((gain(g[b], t) * gi) >> (q + sh[b])) for block
	 * b at off = b * blk, 0 <= t < blk, 0 <= gi <= 32767. Returns the
	 * largest value before saturation (0 if nblk * blk is 0).
	 */
	int32_t (*curve16)(int16_t *h, const struct mix_ramp *g,
			   const uint8_t *sh, size_t blk, unsigned nblk,
			   int32_t gi, unsigned q);

	/**
	 * out[t] = sat16(a[t] - ((x[t] * h[t]) >> 16)): remove a small own
	 * signal from an already limited 16-bit mix (see limiter.c).
	 */
	void (*sub_mulhi)(int16_t *out, const int16_t *a, const int16_t *x,
			  const int16_t *h, size_t n);

	/** sub_mulhi(), then x[0..n) = 0 (the frame is consumed). */
	void (*sub_mulhi_z)(int16_t *out, const int16_t *a, int16_t *x,
			    const int16_t *h, size_t n);

	/** out[t] = sat16(sum[t] - x[t]); x == NULL: sat16(sum[t]). */
	void (*sub_sat)(int16_t *out, const int32_t *sum, const int16_t *x,
			size_t n);
};

extern const struct mix_kernels mix_kernels_c;
#if defined(__x86_64__) || defined(__i386__)
#define MIX_HAVE_X86 1
extern const struct mix_kernels mix_kernels_sse2;
extern const struct mix_kernels mix_kernels_avx2;
extern const struct mix_kernels mix_kernels_avx512;
#endif
#if defined(__aarch64__) || defined(__ARM_NEON)
#define MIX_HAVE_NEON 1
extern const struct mix_kernels mix_kernels_neon;
#endif

/** Kernel table of an ISA, or NULL if not compiled in. */
const struct mix_kernels *mix_kernels_get(enum mix_isa isa);

#endif
