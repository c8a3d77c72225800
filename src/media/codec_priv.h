/**
 * @file codec_priv.h  Codec instances shared by rxchain.c and txchain.c
 * (private to src/media/codec*.c, rxchain.c, txchain.c).
 */
#ifndef CHORUS_CODEC_PRIV_H
#define CHORUS_CODEC_PRIV_H

#include <opus/opus.h>
/* the few spandsp headers we use: <spandsp.h> drags in tiffio.h and
   goertzel_* names that clash with librem */
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
#include <spandsp/g722.h>
#include <spandsp/plc.h>
#include "media/codec.h"

enum {
	CODEC_MAX_PKT_MS   = 120,              /**< longest packet accepted */
	CODEC_MAX_SAMPLES  = 48 * CODEC_MAX_PKT_MS, /**< at 48 kHz         */
	CODEC_OPUS_FEC_LOSS = 10,              /**< expected loss, %       */
	/* (added) adaptive in-band FEC and the default bitrate; see
	   codec_enc_init() and txchain_set_loss() */
	CODEC_OPUS_LOSS_MAX = 25,              /**< cap of the expected loss */
	CODEC_OPUS_LOSS_REPORTS = 4,           /**< reports smoothed (max) */
	CODEC_OPUS_BITRATE  = 32000,           /**< mono voice mix, bit/s  */
	CODEC_OPUS_BITRATE_MIN = 6000,         /**< RFC 7587 lower bound   */
};

struct codec_dec {
	enum codec_id id;
	uint32_t srate;          /**< PCM rate the decoder produces         */
	uint32_t clock;          /**< RTP clock                             */
	OpusDecoder *opus;
	g722_decode_state_t *g722;
	plc_state_t *plc;        /**< G.711 / G.722 concealment             */
};

struct codec_enc {
	enum codec_id id;
	uint32_t srate;          /**< PCM rate the encoder takes            */
	uint32_t clock;
	OpusEncoder *opus;
	OpusRepacketizer *rp;    /**< opus ptime 30/50: 10 ms frames joined */
	g722_encode_state_t *g722;
	uint8_t part[CODEC_MAX_PAYLOAD]; /**< opus 10 ms pieces          */
};

/** Opus decodes/encodes natively at these rates: no resampler needed. */
bool     codec_opus_rate_ok(uint32_t srate);

int      codec_dec_init(struct codec_dec *d, const struct codec_fmt *fmt,
			uint32_t room_srate);
void     codec_dec_close(struct codec_dec *d);
/** Validate a payload: RTP timestamp units it spans, 0 = reject. */
uint32_t codec_dec_duration(const struct codec_dec *d, const uint8_t *p,
			    size_t len);
/** Decode; returns samples at d->srate, < 0 on decoder error. */
int      codec_dec_decode(struct codec_dec *d, const uint8_t *p, size_t len,
			  int16_t *pcm, size_t max);
/** Conceal n samples (n at d->srate). */
int      codec_dec_conceal(struct codec_dec *d, int16_t *pcm, size_t n);
/**
 * Recover the n samples before packet p from its inband FEC (opus).
 * Returns n, or 0 when p carries no FEC (caller conceals instead).
 */
int      codec_dec_fec(struct codec_dec *d, const uint8_t *p, size_t len,
		       int16_t *pcm, size_t n);
/** Does this opus packet carry LBRR (inband FEC) data? */
bool     codec_opus_has_fec(const uint8_t *p, size_t len);

int      codec_enc_init(struct codec_enc *e, const struct codec_fmt *fmt,
			uint32_t room_srate, int complexity);
/** (added) Expected packet loss in percent for the encoder (opus; in-band
 * FEC is only coded when fmt->fec and loss > 0; capped at
 * CODEC_OPUS_LOSS_MAX). No-op for other codecs. */
void     codec_enc_set_loss(struct codec_enc *e, unsigned percent);
void     codec_enc_close(struct codec_enc *e);
/** Encode n samples at e->srate; returns bytes (> 0) or -errno. */
int      codec_enc_encode(struct codec_enc *e, const int16_t *pcm, size_t n,
			  uint8_t *buf, size_t size);

#endif
