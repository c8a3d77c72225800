/**
 * @file resamp.c  Integer-ratio polyphase FIR resampler.
 *
 * One low-pass prototype at the higher rate, cut at 0.46 x the lower rate
 * (3.7 kHz for 8 kHz, 7.4 kHz for 16 kHz), Kaiser window beta 8 (about
 * 80 dB stop band), 32 taps per phase. Up by L: each output phase p uses
 * taps h[k*L + p]; down by M: the full filter runs only at kept samples.
 * Float taps, int16 in/out; no allocation after setup.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "media/resamp.h"

#define CUTOFF  0.46     /* of the lower sample rate                  */
#define BETA    8.0      /* Kaiser: ~80 dB stop band attenuation      */


static double bessel_i0(double x)
{
	double sum = 1, term = 1;
	unsigned k;

	for (k = 1; k < 50; k++) {
		term *= (x / (2 * k)) * (x / (2 * k));
		sum += term;
		if (term < 1e-12 * sum)
			break;
	}

	return sum;
}


static void design(struct resamp *r, unsigned ratio)
{
	const double hi = r->irate > r->orate ? r->irate : r->orate;
	const double lo = r->irate > r->orate ? r->orate : r->irate;
	const double fc = CUTOFF * lo / hi;        /* cycles per sample  */
	const unsigned n = RESAMP_TAPS_PHASE * ratio;
	const double c = (n - 1) / 2.0;
	double proto[RESAMP_MAX_TAPS], sum = 0;
	unsigned j, p, k;

	for (j = 0; j < n; j++) {
		const double t = j - c;
		const double x = 2 * fc * t;
		const double s = fabs(t) < 1e-9 ? 1.0 : sin(M_PI * x) / (M_PI * x);
		const double u = 2 * t / (n - 1);
		const double w = bessel_i0(BETA * sqrt(1 - u * u)) /
			bessel_i0(BETA);

		proto[j] = 2 * fc * s * w;
		sum += proto[j];
	}

	r->ntaps = n;

	if (r->up > 1) {
		/* phase-major so each output phase reads contiguous taps */
		for (p = 0; p < ratio; p++) {
			for (k = 0; k < RESAMP_TAPS_PHASE; k++) {
				r->h[p * RESAMP_TAPS_PHASE + k] = (float)
					(proto[k * ratio + p] * ratio / sum);
			}
		}
		r->nhist = RESAMP_TAPS_PHASE - 1;
	}
	else {
		for (j = 0; j < n; j++)
			r->h[j] = (float)(proto[j] / sum);
		r->nhist = n - 1;
	}
}


int resamp_setup(struct resamp *r, uint32_t irate, uint32_t orate)
{
	if (!r || !irate || !orate)
		return EINVAL;

	memset(r, 0, sizeof(*r));
	r->irate = irate;
	r->orate = orate;
	r->up = r->down = 1;
	r->bypass = irate == orate;
	if (r->bypass)
		return 0;

	if (orate > irate) {
		if (orate % irate || orate / irate > RESAMP_MAX_RATIO)
			return ENOTSUP;
		r->up = orate / irate;
		design(r, r->up);
	}
	else {
		if (irate % orate || irate / orate > RESAMP_MAX_RATIO)
			return ENOTSUP;
		r->down = irate / orate;
		design(r, r->down);
	}

	return 0;
}


void resamp_reset(struct resamp *r)
{
	if (r)
		memset(r->buf, 0, sizeof(r->buf));
}


size_t resamp_outlen(const struct resamp *r, size_t n)
{
	if (!r || r->bypass)
		return n;

	return n * r->up / r->down;
}


unsigned resamp_delay(const struct resamp *r)
{
	if (!r || r->bypass)
		return 0;

	/* (N - 1) / 2 at the high rate */
	return r->up > 1 ? (r->ntaps - 1) / 2 : (r->ntaps - 1) / 2 / r->down;
}


static inline int16_t sat16(float v)
{
	if (v >= 32767.0f)
		return INT16_MAX;
	if (v <= -32768.0f)
		return INT16_MIN;

	return (int16_t)lrintf(v);
}


size_t resamp_run(struct resamp *r, int16_t *out, size_t osize,
		  const int16_t *in, size_t n)
{
	const int16_t *x;
	size_t i, m, outn;
	unsigned p, k;

	if (!r || !out || !in || n > RESAMP_MAX_IN)
		return 0;

	outn = resamp_outlen(r, n);
	if (osize < outn)
		return 0;

	if (r->bypass) {
		memcpy(out, in, n * sizeof(*in));
		return n;
	}

	if (r->down > 1 && n % r->down)
		return 0;

	/* buf = [history | input]; x[i] is input sample i */
	memcpy(r->buf + r->nhist, in, n * sizeof(*in));
	x = r->buf + r->nhist;

	if (r->up > 1) {
		for (i = 0; i < n; i++) {
			for (p = 0; p < r->up; p++) {
				const float *h = &r->h[p * RESAMP_TAPS_PHASE];
				float acc = 0;

				for (k = 0; k < RESAMP_TAPS_PHASE; k++)
					acc += h[k] * x[(ptrdiff_t)i - k];

				out[i * r->up + p] = sat16(acc);
			}
		}
	}
	else {
		for (m = 0; m < outn; m++) {
			const ptrdiff_t last = (ptrdiff_t)(m * r->down +
							   r->down - 1);
			float acc = 0;

			for (k = 0; k < r->ntaps; k++)
				acc += r->h[k] * x[last - k];

			out[m] = sat16(acc);
		}
	}

	memmove(r->buf, r->buf + n, r->nhist * sizeof(*r->buf));

	return outn;
}
