/**
 * @file resamp.c  Integer-ratio mono resampler (librem auresamp).
 *
 * librem 0.6 auresamp only does integer ratios; every pair we need
 * (8k/16k/48k codec <-> 16k/48k room) is one, so no own FIR is needed.
 * Note its down-sampler filters in place into out, so out must hold n
 * samples, not just n / ratio.
 */
#include <errno.h>
#include <string.h>
#include "media/resamp.h"


int resamp_setup(struct resamp *r, uint32_t irate, uint32_t orate)
{
	int err;

	if (!r || !irate || !orate)
		return EINVAL;

	auresamp_init(&r->rs);
	r->irate = irate;
	r->orate = orate;
	r->bypass = irate == orate;
	if (r->bypass)
		return 0;

	if ((orate > irate && orate % irate) ||
	    (irate > orate && irate % orate))
		return ENOTSUP;

	err = auresamp_setup(&r->rs, irate, 1, orate, 1);

	return err;
}


size_t resamp_outlen(const struct resamp *r, size_t n)
{
	if (!r || r->bypass)
		return n;

	return (size_t)((uint64_t)n * r->orate / r->irate);
}


size_t resamp_run(struct resamp *r, int16_t *out, size_t osize,
		  const int16_t *in, size_t n)
{
	size_t outc = osize;

	if (!r || !out || !in)
		return 0;

	if (r->bypass) {
		if (osize < n)
			return 0;
		memcpy(out, in, n * sizeof(*in));
		return n;
	}

	if (auresamp(&r->rs, out, &outc, in, n))
		return 0;

	return outc;
}
