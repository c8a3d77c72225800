/**
 * @file wsend.c  The send path of a media worker: encode a leg's mix
 * (once per output group and format when listeners share it), RTP
 * header per leg, SRTP, and the join/leave tone.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <re.h>

#include <chorus/mixer.h>
#include "media/worker.h"

enum { SHENC_FEC_LOSS = 10 };   /* (added) percent, opus shared encoders */


static void tone_mix(struct worker *w, struct wleg *leg, int16_t *out,
		     size_t ns)
{
	size_t n = w->me->cfg.room_srate * TONE_MS / 1000;
	size_t i, off = n - leg->tone_left;

	for (i = 0; i < ns && leg->tone_left; i++, leg->tone_left--) {
		int32_t s = out[i] + w->tone[(off + i) % n];

		out[i] = (int16_t)(s > INT16_MAX ? INT16_MAX :
				   s < INT16_MIN ? INT16_MIN : s);
	}
}


/* one room frame through a send chain: 0..WORKER_PKTS_MAX packets
 * (several when the leg's ptime is shorter than the frame; a zero
 * length with a timestamp step is opus DTX) */
static void encode_frame(struct txchain *tx, const int16_t *frame,
			 struct wpkts *ps)
{
	size_t len = 0;
	uint32_t inc = 0;
	unsigned i;

	ps->n = 0;

	if (txchain_put(tx, frame, ps->buf[0], sizeof(ps->buf[0]), &len, &inc))
		return;

	for (i = 0; i < WORKER_PKTS_MAX; i++) {

		if (len || inc) {
			ps->len[ps->n] = len;
			ps->ts_inc[ps->n] = inc;
			++ps->n;
		}

		if (ps->n == WORKER_PKTS_MAX)
			break;

		len = 0;
		inc = 0;
		if (txchain_pull(tx, ps->buf[ps->n], sizeof(ps->buf[0]),
				 &len, &inc) || (!len && !inc))
			break;
	}
}


static void tx_count(struct wleg *leg, size_t paylen, size_t wirelen)
{
	leg->sent_first = true;
	leg->talkspurt = false;
	++leg->psent;
	leg->osent += (uint32_t)paylen;
	++leg->st.tx_packets;
	leg->st.tx_bytes += wirelen;
}


/* SRTP needs header and payload in one buffer with trailer room */
static void leg_send_srtp(struct wleg *leg, const uint8_t *hdr,
			  const uint8_t *pay, size_t paylen)
{
	uint8_t buf[RTPH_HDR_SIZE + CODEC_MAX_PAYLOAD + SEC_SRTP_TRAILER_MAX];
	size_t n = RTPH_HDR_SIZE + paylen;
	int err;

	if (paylen > CODEC_MAX_PAYLOAD)
		return;

	memcpy(buf, hdr, RTPH_HDR_SIZE);
	memcpy(buf + RTPH_HDR_SIZE, pay, paylen);

	err = sec_srtp_protect_rtp(leg->srtp_tx, buf, &n, sizeof(buf));
	if (err) {
		++leg->tx_errors;
		wleg_srtp_expired(leg, err);
		return;
	}

	if (sendto(leg->fd_rtp, buf, n, MSG_DONTWAIT, &leg->raddr_rtp.u.sa,
		   leg->raddr_rtp.len) < 0) {
		++leg->tx_errors;
		return;
	}

	tx_count(leg, paylen, n);
}


/* our RTP header on each payload; the payload itself is not copied */
static void leg_send(struct wleg *leg, const struct wpkts *ps,
		     uint64_t now_us)
{
	uint8_t hdr[RTPH_HDR_SIZE];
	unsigned i;

	for (i = 0; i < ps->n; i++) {
		struct iovec iov[2];
		struct msghdr msg;
		struct rtph h;

		if (!ps->len[i]) {
			/* opus DTX: time passes, nothing is sent; the packet
			 * after the gap starts a talkspurt (RFC 3551 4.1) */
			leg->ts += ps->ts_inc[i];
			leg->talkspurt = true;
			continue;
		}

		memset(&h, 0, sizeof(h));
		h.marker = !leg->sent_first || leg->talkspurt;
		h.pt     = leg->prm.codec.pt;
		h.seq    = leg->seq;
		h.ts     = leg->ts;
		h.ssrc   = leg->ssrc;

		if (rtph_encode(hdr, sizeof(hdr), &h) != sizeof(hdr))
			return;

		leg->seq++;
		leg->last_tx_ts = leg->ts;
		leg->ts += ps->ts_inc[i];
		leg->last_tx_us = now_us;

		if (!wleg_sa_usable(&leg->raddr_rtp))
			continue;

		if (leg->srtp_tx) {
			leg_send_srtp(leg, hdr, ps->buf[i], ps->len[i]);
			continue;
		}

		iov[0].iov_base = hdr;
		iov[0].iov_len  = sizeof(hdr);
		iov[1].iov_base = (void *)ps->buf[i];
		iov[1].iov_len  = ps->len[i];
		memset(&msg, 0, sizeof(msg));
		msg.msg_name    = (void *)&leg->raddr_rtp.u.sa;
		msg.msg_namelen = leg->raddr_rtp.len;
		msg.msg_iov     = iov;
		msg.msg_iovlen  = 2;

		if (sendmsg(leg->fd_rtp, &msg, MSG_DONTWAIT) < 0) {
			++leg->tx_errors;
			continue;
		}

		tx_count(leg, ps->len[i], sizeof(hdr) + ps->len[i]);
	}
}


static bool fmt_equal(const struct codec_fmt *a, const struct codec_fmt *b)
{
	return a->id == b->id && a->pt == b->pt && a->srate == b->srate &&
		a->rtp_clock == b->rtp_clock && a->channels == b->channels &&
		a->ptime_ms == b->ptime_ms && a->fec == b->fec &&
		a->dtx == b->dtx && a->maxavgbitrate == b->maxavgbitrate;
}


/*
 * Shared encoders: legs whose mixer output group is shared (everyone
 * who does not contribute hears the same full mix; deaf legs hear the
 * same silence) and who negotiated the same format get ONE encode per
 * frame; each leg only adds its own RTP header. A leg with an output of
 * its own (it contributes) or a join tone playing uses its own chain.
 */
static struct shenc *shenc_get(struct wroom *room, unsigned group,
			       const struct codec_fmt *fmt)
{
	struct shenc *se;
	size_t i;

	for (i = 0; i < room->nshenc; i++) {
		se = room->shenc[i];
		if (se->group == group && fmt_equal(&se->fmt, fmt))
			return se;
	}

	if (room->nshenc == room->shenc_cap) {
		size_t cap = room->shenc_cap ? 2 * room->shenc_cap : 4;
		struct shenc **a = realloc(room->shenc, cap * sizeof(*a));

		if (!a)
			return NULL;
		room->shenc = a;
		room->shenc_cap = cap;
	}

	se = calloc(1, sizeof(*se));
	if (!se)
		return NULL;

	se->group = group;
	se->fmt = *fmt;
	room->shenc[room->nshenc++] = se;

	return se;
}


void wsend_shenc_free(struct shenc *se)
{
	if (!se)
		return;

	if (se->tx)
		txchain_free(se->tx);
	free(se);
}


/* before sending: count the legs per (group, format) */
void wsend_plan(struct worker *w, struct wroom *room)
{
	size_t i;

	for (i = 0; i < room->nshenc; i++) {
		room->shenc[i]->users = 0;
		room->shenc[i]->done = false;
	}

	for (i = 0; i < room->mcfg.capacity; i++) {
		struct wleg *leg = room->slot[i];
		unsigned g;

		if (!leg)
			continue;

		leg->shenc = NULL;
		if (!(leg->prm.dir & MEDIA_SEND) || leg->tone_left ||
		    leg->prompt || w->me->cfg.encode_per_leg)
			continue;

		g = mix_leg_output_group(room->mix, (unsigned)i);
		if (g == i)
			continue;   /* an output of its own */

		leg->shenc = shenc_get(room, g, &leg->prm.codec);
		if (leg->shenc)
			++leg->shenc->users;
	}
}


/* after sending: drop encoders nobody used for a while */
void wsend_gc(struct wroom *room)
{
	size_t i = 0;

	while (i < room->nshenc) {
		struct shenc *se = room->shenc[i];

		se->idle = se->users ? 0 : se->idle + 1;
		if (se->idle > SHENC_IDLE_TICKS) {
			wsend_shenc_free(se);
			room->shenc[i] = room->shenc[--room->nshenc];
			continue;
		}
		++i;
	}
}


void wsend_leg(struct worker *w, struct wroom *room,
			 struct wleg *leg, uint64_t now_us)
{
	const size_t ns = mix_frame_samples(room->mix);
	const int16_t *out = mix_leg_output(room->mix, leg->slot);
	struct shenc *se = leg->shenc;

	/* a prompt replaces the mix for this leg alone (own encoder) */
	if (leg->prompt && ns <= WORKER_FRAME_MAX) {
		size_t k = MIN(ns, leg->prompt_n - leg->prompt_pos);

		memcpy(w->frame, leg->prompt + leg->prompt_pos,
		       k * sizeof(*w->frame));
		memset(w->frame + k, 0, (ns - k) * sizeof(*w->frame));
		leg->prompt_pos += k;
		if (leg->prompt_pos >= leg->prompt_n) {
			free(leg->prompt);
			leg->prompt = NULL;
		}
		encode_frame(leg->tx, w->frame, &w->pkts);
		leg_send(leg, &w->pkts, now_us);
		return;
	}

	if (se && se->users >= 2) {

		if (!se->done) {
			se->done = true;

			const struct media_cfg *cfg = &w->me->cfg;

			if (!se->tx && txchain_alloc(&se->tx, &se->fmt,
						     cfg->room_srate,
						     cfg->ptime_ms,
						     cfg->opus_complexity))
				se->tx = NULL;
			/* (added) one encode for many listeners, whose
			 * paths are not tracked per group: in-band FEC
			 * stays on as if 10 % were lost (per-leg encoders
			 * follow their peer's reports, wleg.c) */
			else if (se->fmt.fec && !txchain_loss(se->tx))
				txchain_set_loss(se->tx, SHENC_FEC_LOSS);

			if (se->tx)
				encode_frame(se->tx, out, &se->pkts);
			else
				se->pkts.n = 0;
		}

		if (se->tx) {
			leg_send(leg, &se->pkts, now_us);
			++leg->shared_frames;
			return;
		}
	}

	if (leg->tone_left && ns <= WORKER_FRAME_MAX) {
		memcpy(w->frame, out, ns * sizeof(*w->frame));
		tone_mix(w, leg, w->frame, ns);
		out = w->frame;
	}

	encode_frame(leg->tx, out, &w->pkts);
	leg_send(leg, &w->pkts, now_us);
}
