/**
 * @file rxchain.c  Receive chain: jitter buffer -> decode / FEC / PLC ->
 * resample to the room rate -> PCM FIFO that hands out exact room frames.
 *
 * Packets may span 10..120 ms while the room pulls 20 ms; the FIFO holds
 * the rest of a decoded packet. Concealment is capped: full level for
 * CONCEAL_FULL_MS, a linear fade to silence by CONCEAL_END_MS, then
 * nothing (the leg goes quiet and rxchain_get() reports false).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "media/codec_priv.h"
#include "media/jbuf.h"
#include "media/resamp.h"

enum {
	CONCEAL_FULL_MS = 60,
	CONCEAL_END_MS  = 120,
	FIFO_SIZE       = 16384,  /* 340 ms at 48 kHz: a packet + a frame,
				     and old-codec audio at a switch   */
	GET_GUARD       = 2 * JITBUF_SLOTS,
	DROP_QUIET_RMS  = 512,    /* -36 dBov: a drift skip is inaudible  */
	DROP_DEFER_MAX  = 150,    /* packets (3 s at 20 ms), then force   */
	JB_MIN_DEFAULT  = 40,
	JB_MAX_DEFAULT  = 200,
};

struct rxchain {
	struct codec_fmt fmt;
	struct rx_cfg cfg;
	struct codec_dec dec;
	struct resamp rs;
	struct jitbuf *jb;
	uint32_t frame;          /* room samples per frame                */

	int16_t *fifo;           /* room-rate ring                        */
	uint64_t rd, wr;         /* absolute sample counters              */
	uint64_t live_end;       /* wr after the last decoded/concealed   */

	int16_t *pcm;            /* codec-rate scratch                    */
	int16_t *rsb;            /* room-rate scratch                     */

	uint64_t conceal_run;    /* codec samples concealed in a row      */
	bool was_live;           /* last rxchain_get() returned audio     */
	unsigned drop_deferred;  /* drift skips postponed (loud packets)  */
	uint64_t plc_frames, fec_frames, invalid;
};


static size_t fifo_level(const struct rxchain *rx)
{
	return (size_t)(rx->wr - rx->rd);
}


static void fifo_push(struct rxchain *rx, const int16_t *v, size_t n,
		      bool live)
{
	size_t i;

	/* cannot happen with the pull loop below; never overwrite unread */
	if (fifo_level(rx) + n > FIFO_SIZE)
		n = FIFO_SIZE - fifo_level(rx);

	for (i = 0; i < n; i++)
		rx->fifo[(rx->wr + i) & (FIFO_SIZE - 1)] = v[i];

	rx->wr += n;
	if (live)
		rx->live_end = rx->wr;
}


/* codec-rate samples -> room rate -> FIFO */
static void emit(struct rxchain *rx, const int16_t *pcm, size_t n, bool live)
{
	size_t m;

	m = resamp_run(&rx->rs, rx->rsb, CODEC_MAX_SAMPLES, pcm, n);
	fifo_push(rx, rx->rsb, m, live);
}


static size_t ts_to_samples(const struct rxchain *rx, uint32_t dur)
{
	size_t n = (size_t)((uint64_t)dur * rx->dec.srate / rx->dec.clock);

	return n > CODEC_MAX_SAMPLES ? CODEC_MAX_SAMPLES : n;
}


/* concealment gain for sample k of the current loss run, Q15 */
static int32_t fade_q15(const struct rxchain *rx, uint64_t k)
{
	const uint64_t full = (uint64_t)rx->dec.srate * CONCEAL_FULL_MS / 1000;
	const uint64_t end  = (uint64_t)rx->dec.srate * CONCEAL_END_MS / 1000;

	if (k < full)
		return 32768;
	if (k >= end)
		return 0;

	return (int32_t)((end - k) * 32768 / (end - full));
}


/*
 * Conceal dur timestamp units. Returns false when concealment is used up
 * (the caller then produces silence instead).
 */
static bool conceal(struct rxchain *rx, uint32_t dur, bool keep_timing)
{
	const uint64_t end = (uint64_t)rx->dec.srate * CONCEAL_END_MS / 1000;
	size_t n = ts_to_samples(rx, dur);
	size_t i;
	int r;

	if (!n)
		return true;

	if (rx->conceal_run >= end) {
		if (keep_timing) {
			/* a gap inside a stream that goes on: keep its length */
			memset(rx->pcm, 0, n * sizeof(*rx->pcm));
			emit(rx, rx->pcm, n, false);
		}
		return false;
	}

	r = codec_dec_conceal(&rx->dec, rx->pcm, n);
	if (r < 0 || (size_t)r != n)
		memset(rx->pcm, 0, n * sizeof(*rx->pcm));

	for (i = 0; i < n; i++) {
		const int32_t g = fade_q15(rx, rx->conceal_run + i);

		rx->pcm[i] = (int16_t)(((int32_t)rx->pcm[i] * g) >> 15);
	}

	rx->conceal_run += n;
	++rx->plc_frames;
	emit(rx, rx->pcm, n, true);

	return true;
}


static uint32_t pcm_rms(const int16_t *v, size_t n)
{
	uint64_t e = 0;
	size_t i;

	for (i = 0; i < n; i++)
		e += (uint64_t)((int32_t)v[i] * v[i]);

	return n ? (uint32_t)sqrt((double)(e / n)) : 0;
}


static void decode_pkt(struct rxchain *rx, const struct jitbuf_out *out)
{
	int n;

	n = codec_dec_decode(&rx->dec, out->data, out->len, rx->pcm,
			     CODEC_MAX_SAMPLES);
	if (n <= 0) {
		/* passed validation but the decoder refused it */
		++rx->invalid;
		(void)conceal(rx, out->dur, true);
		return;
	}

	rx->conceal_run = 0;

	if (out->drop) {
		/* drift skip: cut in a pause if one comes within ~3 s */
		if (rx->drop_deferred < DROP_DEFER_MAX &&
		    pcm_rms(rx->pcm, (size_t)n) > DROP_QUIET_RMS) {
			++rx->drop_deferred;
			jitbuf_skip_undo(rx->jb, out->dur);
		}
		else {
			rx->drop_deferred = 0;
			return;
		}
	}

	emit(rx, rx->pcm, (size_t)n, true);
}


static void missing(struct rxchain *rx, const struct jitbuf_out *out)
{
	size_t n = ts_to_samples(rx, out->dur);

	if (out->next && rx->fmt.fec &&
	    codec_dec_fec(&rx->dec, out->next, out->next_len, rx->pcm, n)) {
		++rx->fec_frames;
		rx->conceal_run = 0;
		emit(rx, rx->pcm, n, true);
		return;
	}

	(void)conceal(rx, out->dur, true);
}


static int chain_setup(struct rxchain *rx, const struct codec_fmt *fmt)
{
	struct jitbuf_cfg jc;
	int err;

	err = codec_dec_init(&rx->dec, fmt, rx->cfg.room_srate);
	if (err)
		return err;

	err = resamp_setup(&rx->rs, rx->dec.srate, rx->cfg.room_srate);
	if (err)
		goto out;

	jc.clock = rx->dec.clock;
	jc.min_ms = rx->cfg.jb_min_ms;
	jc.max_ms = rx->cfg.jb_max_ms;
	jc.frame_ms = rx->cfg.room_ptime;

	jitbuf_free(rx->jb);
	rx->jb = NULL;
	err = jitbuf_alloc(&rx->jb, &jc);
	if (err)
		goto out;

	rx->fmt = *fmt;
	rx->conceal_run = 0;

 out:
	if (err)
		codec_dec_close(&rx->dec);

	return err;
}


int rxchain_alloc(struct rxchain **rxp, const struct codec_fmt *fmt,
		  const struct rx_cfg *cfg)
{
	struct rxchain *rx;
	int err;

	if (!rxp || !fmt || !cfg || !cfg->room_srate || !cfg->room_ptime)
		return EINVAL;

	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return ENOMEM;

	rx->cfg = *cfg;
	if (!rx->cfg.jb_min_ms)
		rx->cfg.jb_min_ms = JB_MIN_DEFAULT;
	if (!rx->cfg.jb_max_ms)
		rx->cfg.jb_max_ms = JB_MAX_DEFAULT;
	rx->frame = cfg->room_srate * cfg->room_ptime / 1000;

	rx->fifo = calloc(FIFO_SIZE, sizeof(int16_t));
	rx->pcm = calloc(CODEC_MAX_SAMPLES, sizeof(int16_t));
	rx->rsb = calloc(CODEC_MAX_SAMPLES, sizeof(int16_t));
	if (!rx->fifo || !rx->pcm || !rx->rsb || rx->frame > FIFO_SIZE / 2) {
		err = rx->frame > FIFO_SIZE / 2 ? EINVAL : ENOMEM;
		goto out;
	}

	err = chain_setup(rx, fmt);

 out:
	if (err)
		rxchain_free(rx);
	else
		*rxp = rx;

	return err;
}


void rxchain_free(struct rxchain *rx)
{
	if (!rx)
		return;

	codec_dec_close(&rx->dec);
	jitbuf_free(rx->jb);
	free(rx->fifo);
	free(rx->pcm);
	free(rx->rsb);
	free(rx);
}


static void drain(struct rxchain *rx)
{
	struct jitbuf_out out;
	unsigned guard = 0;

	/* while the FIFO surely has room for one more packet (and the loss
	   gaps between them); now far ahead ends any pre-buffering */
	while (fifo_level(rx) + CODEC_MAX_SAMPLES + rx->frame <= FIFO_SIZE &&
	       guard++ < JITBUF_SLOTS) {
		enum jitbuf_res r = jitbuf_get(rx->jb, &out, UINT64_MAX / 2);

		if (r == JITBUF_PKT)
			decode_pkt(rx, &out);
		else if (r == JITBUF_MISSING)
			missing(rx, &out);
		else
			break;
	}
}


int rxchain_set_fmt(struct rxchain *rx, const struct codec_fmt *fmt)
{
	struct codec_dec old;
	struct jitbuf *oldjb;
	int err;

	if (!rx || !fmt)
		return EINVAL;

	/* decode what the old codec still has queued into the FIFO: it
	   plays while the new stream pre-buffers (no gap at a re-INVITE) */
	drain(rx);

	old = rx->dec;
	oldjb = rx->jb;
	rx->jb = NULL;

	err = chain_setup(rx, fmt);
	if (err) {
		rx->dec = old;
		rx->jb = oldjb;
		(void)resamp_setup(&rx->rs, rx->dec.srate, rx->cfg.room_srate);
		return err;
	}

	codec_dec_close(&old);
	jitbuf_free(oldjb);

	return 0;
}


int rxchain_put(struct rxchain *rx, uint32_t ssrc, uint16_t seq,
		uint32_t ts, bool marker, const uint8_t *payload, size_t len,
		uint64_t now_us)
{
	uint32_t dur;

	if (!rx || !payload)
		return EINVAL;

	dur = codec_dec_duration(&rx->dec, payload, len);
	if (!dur) {
		++rx->invalid;
		return EBADMSG;
	}

	return jitbuf_put(rx->jb, ssrc, seq, ts, dur, payload, len, now_us);
}


bool rxchain_get(struct rxchain *rx, int16_t *frame, uint64_t now_us)
{
	struct jitbuf_out out;
	size_t n, i;
	uint64_t rd0;
	unsigned guard = 0;

	if (!rx || !frame)
		return false;

	while (fifo_level(rx) < rx->frame && guard++ < GET_GUARD) {

		enum jitbuf_res r = jitbuf_get(rx->jb, &out, now_us);

		if (r == JITBUF_NODATA) {
			/* stream reset (new SSRC, ts jump, codec change) while
			   we were playing: bridge its pre-buffer */
			if (rx->was_live &&
			    conceal(rx, rx->dec.clock * rx->cfg.room_ptime
				    / 1000, false))
				continue;
			break;
		}

		if (r == JITBUF_PKT) {
			decode_pkt(rx, &out);
		}
		else if (r == JITBUF_MISSING) {
			missing(rx, &out);
		}
		else {
			/* underrun or drift insert: one frame, no timing */
			if (!conceal(rx, out.dur, false))
				break;
		}
	}

	rd0 = rx->rd;
	n = fifo_level(rx);
	if (n > rx->frame)
		n = rx->frame;

	for (i = 0; i < n; i++)
		frame[i] = rx->fifo[(rx->rd + i) & (FIFO_SIZE - 1)];
	if (n < rx->frame)
		memset(frame + n, 0, (rx->frame - n) * sizeof(*frame));

	rx->rd += n;
	rx->was_live = n > 0 && rd0 < rx->live_end;

	return rx->was_live;
}


void rxchain_stats(const struct rxchain *rx, struct rx_stats *st)
{
	struct jitbuf_stats js;

	if (!rx || !st)
		return;

	jitbuf_stats(rx->jb, &js);

	memset(st, 0, sizeof(*st));
	st->packets    = js.packets;
	st->lost       = js.lost;
	st->late       = js.late;
	st->dup        = js.dup;
	st->plc_frames = rx->plc_frames;
	st->fec_frames = rx->fec_frames;
	st->resets     = js.resets;
	st->invalid    = rx->invalid;
	st->underruns  = js.underruns;
	st->skipped    = js.skipped;
	st->inserted   = js.inserted;
	st->jitter_ms  = (uint32_t)((uint64_t)js.jitter * 1000 / rx->dec.clock);
	st->delay_ms   = (uint32_t)((uint64_t)js.depth * 1000 / rx->dec.clock
				    + fifo_level(rx) * 1000
				    / rx->cfg.room_srate);
}
