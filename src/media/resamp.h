/**
 * @file resamp.h  Integer-ratio mono resampler between codec rates
 * (8, 16, 48 kHz) and the room rate: polyphase FIR, Kaiser-windowed sinc.
 * Both chains use it; nothing else in the media path should resample.
 *
 * Why not librem's auresamp: librem 0.6.0 (Debian bookworm) picks its
 * 48 kHz / 4 kHz-cutoff FIR for 8 <-> 16 kHz too, which at 16 kHz cuts at
 * ~1.3 kHz (measured -1.7 dB at 1 kHz per pass, -3.6 dB for a G.711 leg in
 * a 16 kHz room); and it up-samples by sample repetition. Newer librem has
 * a proper 16 kHz table, bookworm does not.
 */
#ifndef CHORUS_RESAMP_H
#define CHORUS_RESAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	RESAMP_TAPS_PHASE = 32,                 /**< taps per output phase */
	RESAMP_MAX_RATIO  = 6,                  /**< 8 kHz <-> 48 kHz      */
	RESAMP_MAX_TAPS   = RESAMP_TAPS_PHASE * RESAMP_MAX_RATIO,
	RESAMP_MAX_IN     = 5760,               /**< 120 ms at 48 kHz      */
};

struct resamp {
	uint32_t irate, orate;
	unsigned up, down;       /**< ratio: one of them is 1             */
	bool bypass;             /**< same rate: plain copy               */
	unsigned ntaps;          /**< prototype length                    */
	unsigned nhist;          /**< input samples kept between calls    */
	float h[RESAMP_MAX_TAPS];/**< up: phase-major, scaled by the ratio */
	int16_t buf[RESAMP_MAX_TAPS + RESAMP_MAX_IN];
};

/** ENOTSUP unless one rate is an integer multiple (<= 6) of the other. */
int    resamp_setup(struct resamp *r, uint32_t irate, uint32_t orate);
/** Forget the signal history (keeps the filter). */
void   resamp_reset(struct resamp *r);
/** Output sample count for n input samples. */
size_t resamp_outlen(const struct resamp *r, size_t n);
/**
 * Resample n (<= RESAMP_MAX_IN) mono samples; when down-sampling n must
 * be a multiple of the ratio. Returns samples written to out, 0 when
 * osize is too small or n is not acceptable.
 */
size_t resamp_run(struct resamp *r, int16_t *out, size_t osize,
		  const int16_t *in, size_t n);
/** Group delay in output samples. */
unsigned resamp_delay(const struct resamp *r);

#endif
