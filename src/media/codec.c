/**
 * @file codec.c  Opus (libopus), G.722 (spandsp), PCMU/PCMA (spandsp
 * G.711) behind one small interface used by the receive and send chains.
 *
 * Opus runs at the room rate when libopus supports it (8/12/16/24/48 kHz):
 * its own band-limiting is better and cheaper than decoding at 48 kHz and
 * resampling. G.722 runs at 16 kHz and G.711 at 8 kHz; the chains resample.
 */
#include <errno.h>
#include <string.h>
#include "media/codec_priv.h"

enum {
	G711_MAX_BYTES = 8 * CODEC_MAX_PKT_MS,    /* 8 kHz, 1 byte/sample  */
	G722_MAX_BYTES = 8 * CODEC_MAX_PKT_MS,    /* 64 kbit/s             */
	G722_BITRATE   = 64000,
	OPUS_PT        = 111,     /* dynamic; what most endpoints offer    */
	OPUS_MAX_10MS  = 6,       /* 10 ms pieces in a 60 ms packet        */
};


const char *codec_name(enum codec_id id)
{
	switch (id) {

	case CODEC_OPUS: return "opus";
	case CODEC_G722: return "G722";
	case CODEC_PCMU: return "PCMU";
	case CODEC_PCMA: return "PCMA";
	default:         return "none";
	}
}


void codec_fmt_default(struct codec_fmt *fmt, enum codec_id id)
{
	if (!fmt)
		return;

	memset(fmt, 0, sizeof(*fmt));
	fmt->id = id;
	fmt->channels = 1;
	fmt->ptime_ms = 20;

	switch (id) {

	case CODEC_OPUS:
		fmt->pt = OPUS_PT;
		fmt->rtp_clock = 48000;
		fmt->srate = 48000;
		fmt->fec = true;
		break;

	case CODEC_G722:
		/* RFC 3551: clock 8000 although the audio is 16 kHz */
		fmt->pt = 9;
		fmt->rtp_clock = 8000;
		fmt->srate = 16000;
		break;

	case CODEC_PCMU:
		fmt->pt = 0;
		fmt->rtp_clock = 8000;
		fmt->srate = 8000;
		break;

	case CODEC_PCMA:
		fmt->pt = 8;
		fmt->rtp_clock = 8000;
		fmt->srate = 8000;
		break;

	default:
		fmt->id = CODEC_NONE;
		break;
	}
}


bool codec_opus_rate_ok(uint32_t srate)
{
	return srate == 8000 || srate == 12000 || srate == 16000 ||
		srate == 24000 || srate == 48000;
}


/*
 * RFC 6716 4.2.3-4.2.4: a SILK (or hybrid) frame starts with one VAD flag
 * per 20 ms SILK frame, then the LBRR flag, each a 50/50 range-coded bit,
 * which is exactly the next most significant bit of the first byte.
 * libopus 1.3 has no opus_packet_has_lbrr(), hence this.
 */
bool codec_opus_has_fec(const uint8_t *p, size_t len)
{
	const unsigned char *frames[48];
	opus_int16 size[48];
	int nb, spf, silk_frames, ch;
	bool lbrr;

	if (!p || !len || len > CODEC_MAX_PAYLOAD)
		return false;

	if (opus_packet_get_bandwidth(p) < 0)
		return false;

	/* config 16..31 is CELT only: no LBRR */
	if ((p[0] >> 3) >= 16)
		return false;

	nb = opus_packet_parse(p, (opus_int32)len, NULL, frames, size, NULL);
	if (nb <= 0 || size[0] == 0)
		return false;

	spf = opus_packet_get_samples_per_frame(p, 48000);
	silk_frames = spf > 960 ? spf / 960 : 1;
	ch = opus_packet_get_nb_channels(p);

	lbrr = (frames[0][0] >> (7 - silk_frames)) & 1;
	if (ch == 2)
		lbrr = lbrr || ((frames[0][0] >> (6 - 2 * silk_frames)) & 1);

	return lbrr;
}


int codec_dec_init(struct codec_dec *d, const struct codec_fmt *fmt,
		   uint32_t room_srate)
{
	int err = 0;

	if (!d || !fmt)
		return EINVAL;

	memset(d, 0, sizeof(*d));
	d->id = fmt->id;

	switch (fmt->id) {

	case CODEC_OPUS:
		d->clock = 48000;
		d->srate = codec_opus_rate_ok(room_srate) ? room_srate : 48000;
		/* a mono decoder down-mixes stereo packets itself */
		d->opus = opus_decoder_create((opus_int32)d->srate, 1, &err);
		if (!d->opus || err != OPUS_OK)
			return ENOMEM;
		break;

	case CODEC_G722:
		d->clock = 8000;
		d->srate = 16000;
		d->g722 = g722_decode_init(NULL, G722_BITRATE, 0);
		d->plc = plc_init(NULL);
		if (!d->g722 || !d->plc) {
			codec_dec_close(d);
			return ENOMEM;
		}
		break;

	case CODEC_PCMU:
	case CODEC_PCMA:
		d->clock = 8000;
		d->srate = 8000;
		d->plc = plc_init(NULL);
		if (!d->plc)
			return ENOMEM;
		break;

	default:
		return ENOTSUP;
	}

	return 0;
}


void codec_dec_close(struct codec_dec *d)
{
	if (!d)
		return;

	if (d->opus)
		opus_decoder_destroy(d->opus);
	if (d->g722)
		g722_decode_free(d->g722);
	if (d->plc)
		plc_free(d->plc);

	memset(d, 0, sizeof(*d));
}


uint32_t codec_dec_duration(const struct codec_dec *d, const uint8_t *p,
			    size_t len)
{
	const unsigned char *frames[48];
	opus_int16 size[48];
	int nb;

	if (!d || !p || !len)
		return 0;

	switch (d->id) {

	case CODEC_OPUS:
		if (len > CODEC_MAX_PAYLOAD)
			return 0;
		/* full framing check (code 3 padding, VBR sizes, ...) */
		if (opus_packet_parse(p, (opus_int32)len, NULL, frames, size,
				      NULL) <= 0)
			return 0;
		nb = opus_packet_get_nb_samples(p, (opus_int32)len, 48000);
		if (nb <= 0 || nb > CODEC_MAX_SAMPLES)
			return 0;
		return (uint32_t)nb;   /* RTP clock is 48 kHz */

	case CODEC_G722:
		/* 64 kbit/s: one byte per two 16 kHz samples = per 8 kHz tick */
		return len <= G722_MAX_BYTES ? (uint32_t)len : 0;

	case CODEC_PCMU:
	case CODEC_PCMA:
		return len <= G711_MAX_BYTES ? (uint32_t)len : 0;

	default:
		return 0;
	}
}


int codec_dec_decode(struct codec_dec *d, const uint8_t *p, size_t len,
		     int16_t *pcm, size_t max)
{
	size_t i;
	int n;

	if (!d || !p || !pcm)
		return -EINVAL;

	switch (d->id) {

	case CODEC_OPUS:
		n = opus_decode(d->opus, p, (opus_int32)len, pcm, (int)max, 0);
		return n < 0 ? -EBADMSG : n;

	case CODEC_G722:
		if (len * 2 > max)
			return -ENOSPC;
		n = g722_decode(d->g722, pcm, p, (int)len);
		if (n < 0)
			return -EBADMSG;
		plc_rx(d->plc, pcm, n);
		return n;

	case CODEC_PCMU:
	case CODEC_PCMA:
		if (len > max)
			return -ENOSPC;
		for (i = 0; i < len; i++) {
			pcm[i] = d->id == CODEC_PCMU ? ulaw_to_linear(p[i])
						     : alaw_to_linear(p[i]);
		}
		plc_rx(d->plc, pcm, (int)len);
		return (int)len;

	default:
		return -ENOTSUP;
	}
}


/*
 * spandsp 0.0.6 rotates its history ring with an overlapping memcpy()
 * (normalise_history) at the first missing packet: undefined behaviour,
 * and fatal under ASan. Rotate it ourselves with memmove() first, then
 * spandsp finds buf_ptr == 0 and leaves the ring alone.
 */
static void plc_history_rotate(plc_state_t *s)
{
	int16_t tmp[PLC_HISTORY_LEN];
	const size_t p = (size_t)s->buf_ptr;

	if (s->missing_samples || !p || p >= PLC_HISTORY_LEN)
		return;

	memcpy(tmp, s->history, p * sizeof(*tmp));
	memmove(s->history, s->history + p,
		(PLC_HISTORY_LEN - p) * sizeof(*tmp));
	memcpy(s->history + PLC_HISTORY_LEN - p, tmp, p * sizeof(*tmp));
	s->buf_ptr = 0;
}


int codec_dec_conceal(struct codec_dec *d, int16_t *pcm, size_t n)
{
	int r;

	if (!d || !pcm)
		return -EINVAL;

	switch (d->id) {

	case CODEC_OPUS:
		r = opus_decode(d->opus, NULL, 0, pcm, (int)n, 0);
		if (r < 0) {
			memset(pcm, 0, n * sizeof(*pcm));
			return (int)n;
		}
		return r;

	case CODEC_G722:
	case CODEC_PCMU:
	case CODEC_PCMA:
		plc_history_rotate(d->plc);
		return plc_fillin(d->plc, pcm, (int)n);

	default:
		return -ENOTSUP;
	}
}


int codec_dec_fec(struct codec_dec *d, const uint8_t *p, size_t len,
		  int16_t *pcm, size_t n)
{
	int r;

	if (!d || d->id != CODEC_OPUS || !p || !pcm)
		return 0;

	if (!codec_opus_has_fec(p, len))
		return 0;

	r = opus_decode(d->opus, p, (opus_int32)len, pcm, (int)n, 1);

	return r == (int)n ? r : 0;
}


/*
 * The room mix is mono voice: 32 kbit/s is fullband hybrid Opus, the
 * rate libopus's own guidance gives for fullband speech (28-40 kbit/s).
 * OPUS_AUTO at 48 kHz mono would aim at 51 kbit/s, ~5 % more encoder
 * CPU for no audible gain in a voice mix (docs/LOAD.md, bench/opuscost.c).
 * The peer's maxaveragebitrate (RFC 7587: what it wants to receive at
 * most) lowers it, never raises it.
 */
static opus_int32 opus_bitrate(const struct codec_fmt *fmt)
{
	uint32_t br = CODEC_OPUS_BITRATE;

	if (fmt->maxavgbitrate && fmt->maxavgbitrate < br)
		br = fmt->maxavgbitrate;
	if (br < CODEC_OPUS_BITRATE_MIN)
		br = CODEC_OPUS_BITRATE_MIN;

	return (opus_int32)br;
}


void codec_enc_set_loss(struct codec_enc *e, unsigned percent)
{
	if (!e || e->id != CODEC_OPUS || !e->opus)
		return;

	if (percent > CODEC_OPUS_LOSS_MAX)
		percent = CODEC_OPUS_LOSS_MAX;

	opus_encoder_ctl(e->opus, OPUS_SET_PACKET_LOSS_PERC((int)percent));
}


int codec_enc_init(struct codec_enc *e, const struct codec_fmt *fmt,
		   uint32_t room_srate, int complexity)
{
	int err = 0;

	if (!e || !fmt)
		return EINVAL;

	memset(e, 0, sizeof(*e));
	e->id = fmt->id;

	switch (fmt->id) {

	case CODEC_OPUS:
		e->clock = 48000;
		e->srate = codec_opus_rate_ok(room_srate) ? room_srate : 48000;
		/* the room mix is mono */
		e->opus = opus_encoder_create((opus_int32)e->srate, 1,
					      OPUS_APPLICATION_VOIP, &err);
		if (!e->opus || err != OPUS_OK)
			return ENOMEM;
		e->rp = opus_repacketizer_create();
		if (!e->rp) {
			codec_enc_close(e);
			return ENOMEM;
		}
		if (complexity < 0)
			complexity = 0;
		if (complexity > 10)
			complexity = 10;
		opus_encoder_ctl(e->opus, OPUS_SET_COMPLEXITY(complexity));
		/*
		 * In-band FEC as the peer asked, but with an expected loss
		 * of 0 libopus codes no LBRR at all: on a clean path it
		 * would cost ~8 % of the encode and bits for nothing. The
		 * send chain raises the loss from the peer's RTCP receiver
		 * reports (txchain_set_loss), and LBRR follows.
		 */
		opus_encoder_ctl(e->opus, OPUS_SET_INBAND_FEC(fmt->fec ? 1 : 0));
		opus_encoder_ctl(e->opus, OPUS_SET_PACKET_LOSS_PERC(0));
		opus_encoder_ctl(e->opus, OPUS_SET_DTX(fmt->dtx ? 1 : 0));
		opus_encoder_ctl(e->opus, OPUS_SET_BITRATE(opus_bitrate(fmt)));
		break;

	case CODEC_G722:
		e->clock = 8000;
		e->srate = 16000;
		e->g722 = g722_encode_init(NULL, G722_BITRATE, 0);
		if (!e->g722)
			return ENOMEM;
		break;

	case CODEC_PCMU:
	case CODEC_PCMA:
		e->clock = 8000;
		e->srate = 8000;
		break;

	default:
		return ENOTSUP;
	}

	return 0;
}


void codec_enc_close(struct codec_enc *e)
{
	if (!e)
		return;

	if (e->opus)
		opus_encoder_destroy(e->opus);
	if (e->rp)
		opus_repacketizer_destroy(e->rp);
	if (e->g722)
		g722_encode_free(e->g722);

	e->opus = NULL;
	e->rp = NULL;
	e->g722 = NULL;
}


/* opus frames are 10/20/40/60 ms; 30 and 50 ms are joined 10 ms frames */
static int opus_encode_pkt(struct codec_enc *e, const int16_t *pcm,
			   size_t n, uint8_t *buf, size_t size)
{
	const size_t s10 = e->srate / 100;
	const size_t ms = n * 1000 / e->srate;
	size_t k, pieces, off = 0;
	int r;

	if (ms == 10 || ms == 20 || ms == 40 || ms == 60) {
		r = opus_encode(e->opus, pcm, (int)n, buf, (opus_int32)size);
		return r < 0 ? -EBADMSG : r;
	}

	if (n % s10)
		return -EINVAL;

	pieces = n / s10;
	if (pieces > OPUS_MAX_10MS)
		return -EINVAL;

	opus_repacketizer_init(e->rp);
	for (k = 0; k < pieces; k++) {
		const size_t room = (sizeof(e->part) - off) / (pieces - k);

		r = opus_encode(e->opus, pcm + k * s10, (int)s10,
				e->part + off, (opus_int32)room);
		if (r < 0)
			return -EBADMSG;
		if (opus_repacketizer_cat(e->rp, e->part + off, r) != OPUS_OK)
			return -EBADMSG;
		off += (size_t)r;
	}

	r = opus_repacketizer_out(e->rp, buf, (opus_int32)size);

	return r < 0 ? -ENOSPC : r;
}


int codec_enc_encode(struct codec_enc *e, const int16_t *pcm, size_t n,
		     uint8_t *buf, size_t size)
{
	size_t i;
	int r;

	if (!e || !pcm || !buf)
		return -EINVAL;

	switch (e->id) {

	case CODEC_OPUS:
		return opus_encode_pkt(e, pcm, n, buf, size);

	case CODEC_G722:
		if (n / 2 > size)
			return -ENOSPC;
		r = g722_encode(e->g722, buf, pcm, (int)n);
		return r <= 0 ? -EBADMSG : r;

	case CODEC_PCMU:
	case CODEC_PCMA:
		if (n > size)
			return -ENOSPC;
		for (i = 0; i < n; i++) {
			buf[i] = e->id == CODEC_PCMU ? linear_to_ulaw(pcm[i])
						     : linear_to_alaw(pcm[i]);
		}
		return (int)n;

	default:
		return -ENOTSUP;
	}
}
