/**
 * @file codec.h  Audio codecs (Opus, G.722, PCMU, PCMA) with conversion to
 * and from the room rate, and the per-leg receive chain
 * (jitter buffer -> decode/PLC/FEC -> resample) and send chain
 * (resample -> encode -> packetise at the leg's ptime).
 *
 * Pure media code: no SIP, no threads. Objects belong to one thread.
 */
#ifndef CHORUS_CODEC_H
#define CHORUS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum codec_id {
	CODEC_NONE = 0,
	CODEC_OPUS,
	CODEC_G722,
	CODEC_PCMU,
	CODEC_PCMA,
};

/** A negotiated audio format. */
struct codec_fmt {
	enum codec_id id;
	uint8_t  pt;           /**< RTP payload type                          */
	uint32_t rtp_clock;    /**< RTP clock: 48000 opus, 8000 G.722/G.711   */
	uint32_t srate;        /**< audio rate: 48000, 16000 (G.722), 8000    */
	uint8_t  channels;     /**< channels on the wire (opus: 1 or 2)       */
	uint32_t ptime_ms;     /**< packet time we send (10..60, default 20)  */
	bool     fec;          /**< opus useinbandfec=1 from the peer         */
	bool     dtx;          /**< opus usedtx=1                             */
	uint32_t maxavgbitrate;/**< opus, 0 = default                         */
};

const char *codec_name(enum codec_id id);    /**< "opus", "G722", ... */
/** Fill fmt with the defaults for id (static PT for G.711/G.722). */
void codec_fmt_default(struct codec_fmt *fmt, enum codec_id id);

/** Maximum RTP payload we produce. */
enum { CODEC_MAX_PAYLOAD = 1500 };

/* ---- the receive chain ---------------------------------------------- */

struct rxchain;

/*
 * Notes for the media engine (codec chains):
 * - room_srate must be an integer multiple (<= 6x) of 8 and 16 kHz, or
 *   equal: 48000 and 16000 work for every codec. Opus runs at the room
 *   rate itself; G.722 (16k) and G.711 (8k) go through resamp.c.
 * - Algorithmic delay tx+rx, without jitter buffer: Opus ~6.5 ms, G.722
 *   ~2-4 ms, G.711 ~4 ms (resampler FIR). The jitter buffer adds its
 *   target (>= jb_min_ms; 3 x jitter + packet + frame).
 * - No allocation in rxchain_put/get or txchain_put/pull; alloc and
 *   set_fmt allocate. One thread per object; no libre calls inside.
 */
struct rx_cfg {
	uint32_t room_srate;   /**< mixer rate                               */
	uint32_t room_ptime;   /**< mixer frame in ms (20)                   */
	uint32_t jb_min_ms;    /**< adaptive playout delay bounds            */
	uint32_t jb_max_ms;    /**< (0: 40 and 200 ms)                       */
};

struct rx_stats {
	uint64_t packets, lost, late, dup, plc_frames, fec_frames, resets;
	uint32_t jitter_ms;    /**< RFC 3550 interarrival jitter estimate    */
	uint32_t delay_ms;     /**< current playout delay                    */
	/* added by the codec chains (additive) */
	uint64_t invalid;      /**< payloads rejected (malformed, >120 ms)   */
	uint64_t underruns;    /**< jitter buffer ran dry while playing      */
	uint64_t skipped;      /**< packets skipped: drift, stale backlog    */
	uint64_t inserted;     /**< frames concealed to grow delay (drift)   */
};

int  rxchain_alloc(struct rxchain **rxp, const struct codec_fmt *fmt,
		   const struct rx_cfg *cfg);
void rxchain_free(struct rxchain *rx);
/** Change the codec (re-INVITE); keeps playing without a gap. */
int  rxchain_set_fmt(struct rxchain *rx, const struct codec_fmt *fmt);

/**
 * Put one received audio packet (RTP header already validated, PT is the
 * negotiated audio PT). Handles reordering, duplicates, timestamp jumps,
 * SSRC changes and sender clock drift. now_us: CLOCK_MONOTONIC in µs.
 * Returns 0 when stored; EBADMSG malformed payload (counted in invalid),
 * EALREADY duplicate, ETIMEDOUT too late, ENOSPC buffer full: all of
 * these are counted and need no action from the caller.
 */
int  rxchain_put(struct rxchain *rx, uint32_t ssrc, uint16_t seq,
		 uint32_t ts, bool marker, const uint8_t *payload, size_t len,
		 uint64_t now_us);

/**
 * Produce one room frame (room_srate * room_ptime / 1000 samples) into
 * frame: decoded audio, PLC/FEC when a packet is missing, or silence
 * before the stream starts / after it stopped.
 * Returns true when the frame carries the leg's audio (decoded or
 * concealed), false when it is silence the caller may skip.
 */
bool rxchain_get(struct rxchain *rx, int16_t *frame, uint64_t now_us);

void rxchain_stats(const struct rxchain *rx, struct rx_stats *st);

/* ---- the send chain -------------------------------------------------- */

struct txchain;

int  txchain_alloc(struct txchain **txp, const struct codec_fmt *fmt,
		   uint32_t room_srate, uint32_t room_ptime, int complexity);
void txchain_free(struct txchain *tx);
int  txchain_set_fmt(struct txchain *tx, const struct codec_fmt *fmt);

/**
 * Feed one room frame. When a full packet (fmt->ptime_ms) is ready,
 * writes its payload to buf and sets *lenp (> 0) and *ts_incp (RTP
 * timestamp units the packet spans); otherwise *lenp = 0.
 * *lenp == 0 with *ts_incp > 0: opus DTX silence, send nothing but
 * advance the RTP timestamp by *ts_incp.
 */
int  txchain_put(struct txchain *tx, const int16_t *frame, uint8_t *buf,
		 size_t size, size_t *lenp, uint32_t *ts_incp);

/**
 * Next packet of the same frame (added): when ptime_ms is shorter than
 * the room frame (10 ms packets, 20 ms room), one frame yields several
 * packets. After txchain_put(), call this until *lenp == 0 and
 * *ts_incp == 0. Harmless (returns nothing) for ptime >= room frame.
 */
int  txchain_pull(struct txchain *tx, uint8_t *buf, size_t size,
		  size_t *lenp, uint32_t *ts_incp);

/**
 * (added) One RTCP receiver report from the peer about our stream: the
 * packet loss it saw, in percent (fraction lost x 100 / 256, rounded up).
 * Opus with in-band FEC negotiated (fmt->fec) starts with an expected
 * loss of 0, which codes no FEC; the chain tells the encoder the worst of
 * the last 4 reports, capped at 25 %, so LBRR (FEC) data is sent while
 * the path loses packets (without fec libopus still uses it to lean less
 * on inter-frame prediction). No-op for other codecs. Cheap: the encoder
 * is only told on a change.
 */
void     txchain_set_loss(struct txchain *tx, unsigned percent);
/** (added) The expected loss the encoder currently uses, percent. */
unsigned txchain_loss(const struct txchain *tx);

#endif
