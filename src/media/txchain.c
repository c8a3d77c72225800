/**
 * @file txchain.c  Send chain: room frames -> accumulate to the leg's
 * ptime -> resample to the codec rate -> encode one packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "media/codec_priv.h"
#include "media/resamp.h"

enum {
	PTIME_MIN = 10,
	PTIME_MAX = 60,
	PTIME_DEFAULT = 20,
};

struct txchain {
	struct codec_fmt fmt;
	struct codec_enc enc;
	struct resamp rs;
	uint32_t room_srate;
	uint32_t room_frame;     /* samples per room frame                */
	uint32_t pkt_room;       /* samples per packet at the room rate   */
	int complexity;
	int16_t *acc;            /* room-rate samples not yet encoded     */
	size_t nacc;
	size_t acc_size;
	int16_t *cbuf;           /* one packet at the codec rate          */
	size_t cbuf_size;
	/* expected loss (opus FEC): the last reports, newest at loss_pos */
	uint8_t loss_hist[CODEC_OPUS_LOSS_REPORTS];
	unsigned loss_pos;
	unsigned loss;           /* what the encoder was told, percent    */
};


static uint32_t ptime_fix(const struct codec_fmt *fmt)
{
	uint32_t p = fmt->ptime_ms ? fmt->ptime_ms : PTIME_DEFAULT;

	if (p < PTIME_MIN)
		p = PTIME_MIN;
	if (p > PTIME_MAX)
		p = PTIME_MAX;

	/* opus frames are multiples of 10 ms here (2.5/5 ms not offered) */
	if (fmt->id == CODEC_OPUS)
		p -= p % 10;

	return p;
}


static int chain_setup(struct txchain *tx, const struct codec_fmt *fmt)
{
	uint32_t ptime;
	int err;

	err = codec_enc_init(&tx->enc, fmt, tx->room_srate, tx->complexity);
	if (err)
		return err;

	err = resamp_setup(&tx->rs, tx->room_srate, tx->enc.srate);
	if (err) {
		codec_enc_close(&tx->enc);
		return err;
	}

	/* a new encoder (re-INVITE) keeps what we know about the path */
	codec_enc_set_loss(&tx->enc, tx->loss);

	ptime = ptime_fix(fmt);
	tx->fmt = *fmt;
	tx->fmt.ptime_ms = ptime;
	tx->pkt_room = tx->room_srate * ptime / 1000;
	tx->nacc = 0;

	return 0;
}


int txchain_alloc(struct txchain **txp, const struct codec_fmt *fmt,
		  uint32_t room_srate, uint32_t room_ptime, int complexity)
{
	struct txchain *tx;
	int err;

	if (!txp || !fmt || !room_srate || !room_ptime)
		return EINVAL;

	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return ENOMEM;

	tx->room_srate = room_srate;
	tx->room_frame = room_srate * room_ptime / 1000;
	tx->complexity = complexity;

	/* worst case: just under one packet left over plus a new frame */
	tx->acc_size = (size_t)room_srate * PTIME_MAX / 1000 + tx->room_frame;
	tx->cbuf_size = (size_t)room_srate * PTIME_MAX / 1000;
	tx->acc = calloc(tx->acc_size, sizeof(int16_t));
	tx->cbuf = calloc(tx->cbuf_size, sizeof(int16_t));
	if (!tx->acc || !tx->cbuf) {
		err = ENOMEM;
		goto out;
	}

	err = chain_setup(tx, fmt);

 out:
	if (err)
		txchain_free(tx);
	else
		*txp = tx;

	return err;
}


void txchain_free(struct txchain *tx)
{
	if (!tx)
		return;

	codec_enc_close(&tx->enc);
	free(tx->acc);
	free(tx->cbuf);
	free(tx);
}


int txchain_set_fmt(struct txchain *tx, const struct codec_fmt *fmt)
{
	struct codec_enc old;
	int err;

	if (!tx || !fmt)
		return EINVAL;

	/* keep the old encoder until the new one is up */
	old = tx->enc;
	err = chain_setup(tx, fmt);
	if (err) {
		tx->enc = old;
		(void)resamp_setup(&tx->rs, tx->room_srate, tx->enc.srate);
		return err;
	}

	codec_enc_close(&old);

	return 0;
}


/*
 * One receiver report's loss. RTCP comes every few seconds and the
 * fraction lost is noisy (one lost packet of 250 is 0.4 %), so the
 * encoder gets the worst of the last few reports: FEC switches on at the
 * first report with loss and stays on until that many clean reports
 * (about 20 s at the default 5 s interval) have followed, rather than
 * flapping with every report.
 */
void txchain_set_loss(struct txchain *tx, unsigned percent)
{
	unsigned i, worst = 0;

	if (!tx || tx->fmt.id != CODEC_OPUS)
		return;

	if (percent > CODEC_OPUS_LOSS_MAX)
		percent = CODEC_OPUS_LOSS_MAX;

	tx->loss_pos = (tx->loss_pos + 1) % CODEC_OPUS_LOSS_REPORTS;
	tx->loss_hist[tx->loss_pos] = (uint8_t)percent;

	for (i = 0; i < CODEC_OPUS_LOSS_REPORTS; i++) {
		if (tx->loss_hist[i] > worst)
			worst = tx->loss_hist[i];
	}

	if (worst == tx->loss)
		return;

	tx->loss = worst;
	codec_enc_set_loss(&tx->enc, worst);
}


unsigned txchain_loss(const struct txchain *tx)
{
	return tx ? tx->loss : 0;
}


/* encode one packet from the accumulator if it holds enough */
static int encode_one(struct txchain *tx, uint8_t *buf, size_t size,
		      size_t *lenp, uint32_t *ts_incp)
{
	size_t cn;
	int r;

	*lenp = 0;
	*ts_incp = 0;

	if (tx->nacc < tx->pkt_room)
		return 0;

	cn = resamp_run(&tx->rs, tx->cbuf, tx->cbuf_size, tx->acc,
			tx->pkt_room);
	if (!cn)
		return EINVAL;

	tx->nacc -= tx->pkt_room;
	memmove(tx->acc, tx->acc + tx->pkt_room, tx->nacc * sizeof(*tx->acc));

	r = codec_enc_encode(&tx->enc, tx->cbuf, cn, buf, size);
	if (r < 0)
		return -r;

	/* opus DTX: 1-2 byte packets mean "silence, send nothing"; the
	   timestamp still advances so the peer sees the gap */
	*lenp = (tx->fmt.id == CODEC_OPUS && tx->fmt.dtx && r <= 2) ?
		0 : (size_t)r;
	/* G.722: 16 kHz audio, 8 kHz RTP clock (RFC 3551) */
	*ts_incp = (uint32_t)((uint64_t)cn * tx->enc.clock / tx->enc.srate);

	return 0;
}


int txchain_put(struct txchain *tx, const int16_t *frame, uint8_t *buf,
		size_t size, size_t *lenp, uint32_t *ts_incp)
{
	if (!tx || !frame || !buf || !lenp || !ts_incp)
		return EINVAL;

	/* ptime below the room frame and txchain_pull() not called: drop
	   the stale packet's worth rather than grow without bound */
	while (tx->nacc + tx->room_frame > tx->acc_size &&
	       tx->nacc >= tx->pkt_room) {
		tx->nacc -= tx->pkt_room;
		memmove(tx->acc, tx->acc + tx->pkt_room,
			tx->nacc * sizeof(*tx->acc));
	}

	memcpy(tx->acc + tx->nacc, frame, tx->room_frame * sizeof(*frame));
	tx->nacc += tx->room_frame;

	return encode_one(tx, buf, size, lenp, ts_incp);
}


int txchain_pull(struct txchain *tx, uint8_t *buf, size_t size,
		 size_t *lenp, uint32_t *ts_incp)
{
	if (!tx || !buf || !lenp || !ts_incp)
		return EINVAL;

	return encode_one(tx, buf, size, lenp, ts_incp);
}
