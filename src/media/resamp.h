/**
 * @file resamp.h  Integer-ratio mono resampler between codec rates
 * (8, 16, 48 kHz) and the room rate, on top of librem's auresamp
 * (sample-repeat + 32-tap FIR low-pass when up-sampling, FIR + decimate
 * when down-sampling). Both chains use it; nothing else should resample.
 */
#ifndef CHORUS_RESAMP_H
#define CHORUS_RESAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/* not <re.h>/<rem.h>: they clash with spandsp (goertzel_*) and, without
   HAVE_STDBOOL_H, redefine bool */
#include <rem_fir.h>
#include <rem_auresamp.h>

struct resamp {
	struct auresamp rs;
	uint32_t irate, orate;
	bool bypass;             /**< same rate: plain copy              */
};

/** ENOTSUP unless one rate is an integer multiple of the other. */
int    resamp_setup(struct resamp *r, uint32_t irate, uint32_t orate);
/** Output sample count for n input samples. */
size_t resamp_outlen(const struct resamp *r, size_t n);
/**
 * Resample n mono samples. When down-sampling n must be a multiple of
 * the ratio. out may not alias in. Returns samples written, or 0 when
 * out (osize samples) is too small.
 */
size_t resamp_run(struct resamp *r, int16_t *out, size_t osize,
		  const int16_t *in, size_t n);

#endif
