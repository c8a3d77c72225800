/**
 * @file mix_c.c  Scalar reference kernels (the specification)
 */
#include <string.h>
#include "mix_kernels.h"

static uint64_t energy_c(const int16_t *x, size_t n, uint32_t *peak)
{
	*peak = 0;
	return mix_energy_scalar(x, n, peak);
}

static uint64_t energy_z_c(int16_t *x, size_t n, uint32_t *peak)
{
	uint64_t e = energy_c(x, n, peak);

	memset(x, 0, n * sizeof(*x));
	return e;
}

static uint64_t acc_c(int32_t *sum, const int16_t *x, size_t n,
		      struct mix_ramp g, uint32_t *peak)
{
	size_t t;

	if (mix_ramp_is(g, MIX_ONE)) {
		for (t = 0; t < n; t++)
			sum[t] += x[t];
	}
	else {
		for (t = 0; t < n; t++)
			sum[t] += mix_mul16(x[t], mix_ramp_gain(g, t)) >> MIX_Q;
	}

	return energy_c(x, n, peak);
}

static void acc2_c(int32_t *sum, const int16_t *xa, const int16_t *xb,
		   size_t n, int32_t ga, int32_t gb, uint64_t *e,
		   uint32_t *peak)
{
	e[0] = acc_c(sum, xa, n, mix_ramp_const(ga), &peak[0]);
	e[1] = acc_c(sum, xb, n, mix_ramp_const(gb), &peak[1]);
}

static inline int32_t own_c(const int16_t *x, size_t t, struct mix_ramp gi,
			    bool unity)
{
	if (!x)
		return 0;
	if (unity)
		return x[t];
	return mix_mul16(x[t], mix_ramp_gain(gi, t)) >> MIX_Q;
}

static uint32_t peak_c(const int32_t *sum, const int16_t *x, size_t n,
		       struct mix_ramp gi)
{
	bool unity = mix_ramp_is(gi, MIX_ONE);
	uint32_t pk = 0;
	size_t t;

	for (t = 0; t < n; t++) {
		uint32_t a = mix_abs32(sum[t] - own_c(x, t, gi, unity));

		if (a > pk)
			pk = a;
	}

	return pk;
}

static void out_c(int16_t *out, const int32_t *sum, const int16_t *x,
		  size_t n, struct mix_ramp gi, unsigned sh,
		  struct mix_ramp go)
{
	bool unity = mix_ramp_is(gi, MIX_ONE);
	size_t t;

	for (t = 0; t < n; t++) {
		int32_t d = (sum[t] - own_c(x, t, gi, unity)) >> sh;

		out[t] = mix_sat16(mix_mul16(d, mix_ramp_gain(go, t)) >> MIX_Q);
	}
}

static void out_curve_c(int16_t *out, const int32_t *sum, const int16_t *x,
			size_t blk, unsigned nblk, struct mix_ramp gi,
			const struct mix_ramp *g, const uint8_t *sh)
{
	bool unity = mix_ramp_is(gi, MIX_ONE);
	size_t t, n = blk * nblk;

	for (t = 0; t < n; t++) {
		const size_t b = t / blk;
		int32_t d = (sum[t] - own_c(x, t, gi, unity)) >> sh[b];
		int32_t gt = mix_ramp_gain(g[b], t - b * blk);

		out[t] = mix_sat16(mix_mul16(d, gt) >> MIX_Q);
	}
}

static int32_t curve16_c(int16_t *h, const struct mix_ramp *g,
			 const uint8_t *sh, size_t blk, unsigned nblk,
			 int32_t gi, unsigned q)
{
	int32_t hmax = 0;
	size_t t;
	unsigned b;

	for (b = 0; b < nblk; b++) {
		for (t = 0; t < blk; t++) {
			/* both factors < 2^15: the product fits int32 */
			int32_t v = (mix_ramp_gain(g[b], t) * gi) >>
				(q + sh[b]);

			hmax = v > hmax ? v : hmax;
			h[b * blk + t] = mix_sat16(v);
		}
	}
	return hmax;
}

static void sub_mulhi_c(int16_t *out, const int16_t *a, const int16_t *x,
			const int16_t *h, size_t n)
{
	size_t t;

	for (t = 0; t < n; t++)
		out[t] = mix_sat16(a[t] - (((int32_t)x[t] * h[t]) >> 16));
}

static void sub_mulhi_z_c(int16_t *out, const int16_t *a, int16_t *x,
			  const int16_t *h, size_t n)
{
	sub_mulhi_c(out, a, x, h, n);
	memset(x, 0, n * sizeof(*x));
}

static void sub_sat_c(int16_t *out, const int32_t *sum, const int16_t *x,
		      size_t n)
{
	size_t t;

	for (t = 0; t < n; t++)
		out[t] = mix_sat16(sum[t] - (x ? x[t] : 0));
}

const struct mix_kernels mix_kernels_c = {
	.acc     = acc_c,
	.acc2    = acc2_c,
	.energy  = energy_c,
	.energy_z = energy_z_c,
	.peak    = peak_c,
	.out     = out_c,
	.out_curve = out_curve_c,
	.curve16 = curve16_c,
	.sub_mulhi = sub_mulhi_c,
	.sub_mulhi_z = sub_mulhi_z_c,
	.sub_sat = sub_sat_c,
};
