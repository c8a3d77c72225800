/**
 * @file wleg.c  A leg on a media worker: the object, receiving (SRTP,
 * RTP/RTCP validation, symmetric latching, RFC 4733 digits), RTCP
 * reports and BYE, and the stats it publishes for the libre thread.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <re.h>

#include <chorus/mixer.h>
#include "ctrl/log.h"
#include "media/worker.h"

/* (added) old inbound SRTP context kept this long after a rekey */
#define WLEG_REKEY_GRACE_MS 2000
/* (added) consecutive in-sequence packets a source other than the SDP
 * address must send, with none from the SDP address meanwhile, before it
 * latches (strict RTP, like rtpengine/Asterisk strictrtp) */
#define WLEG_LATCH_PROBATION 4


static uint64_t realtime_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}


/* xorshift32: the worker must not call rand()/libre rand from its loop */
static uint32_t leg_rand(struct wleg *leg)
{
	uint32_t x = leg->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	leg->rng = x;

	return x;
}


void leg_pub_write(struct leg_pub *pub, const struct media_leg_stats *st)
{
	const uint64_t v[LPUB_N] = {
		[LPUB_RX_PACKETS] = st->rx_packets,
		[LPUB_RX_BYTES] = st->rx_bytes,
		[LPUB_TX_PACKETS] = st->tx_packets,
		[LPUB_TX_BYTES] = st->tx_bytes,
		[LPUB_RX_LOST] = st->rx_lost,
		[LPUB_RX_LATE] = st->rx_late,
		[LPUB_RX_DUP] = st->rx_dup,
		[LPUB_RX_DROPPED_SRC] = st->rx_dropped_src,
		[LPUB_RX_DROPPED_PT] = st->rx_dropped_pt,
		[LPUB_PLC] = st->plc_frames,
		[LPUB_FEC] = st->fec_frames,
		[LPUB_JITTER] = st->jitter_ms,
		[LPUB_JB_DELAY] = st->jb_delay_ms,
		[LPUB_LEVEL] = st->level,
		[LPUB_LATCHED] = st->latched,
		[LPUB_RX_MALFORMED] = st->rx_malformed,
		[LPUB_TX_SHARED] = st->tx_shared_frames,
		[LPUB_RX_SRTP_FAIL] = st->rx_srtp_fail,
	};
	unsigned s = atomic_load_explicit(&pub->seq, memory_order_relaxed);
	unsigned i;

	atomic_store_explicit(&pub->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);

	for (i = 0; i < LPUB_N; i++)
		atomic_store_explicit(&pub->v[i], v[i], memory_order_relaxed);

	atomic_store_explicit(&pub->seq, s + 2, memory_order_release);
}


bool leg_pub_read(struct leg_pub *pub, struct media_leg_stats *st)
{
	uint64_t v[LPUB_N];
	unsigned tries, i;

	for (tries = 0; tries < 1000; tries++) {
		unsigned s1, s2;

		s1 = atomic_load_explicit(&pub->seq, memory_order_acquire);
		if (s1 & 1)
			continue;

		for (i = 0; i < LPUB_N; i++)
			v[i] = atomic_load_explicit(&pub->v[i],
						    memory_order_relaxed);

		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&pub->seq, memory_order_relaxed);
		if (s1 != s2)
			continue;

		memset(st, 0, sizeof(*st));
		st->rx_packets     = v[LPUB_RX_PACKETS];
		st->rx_bytes       = v[LPUB_RX_BYTES];
		st->tx_packets     = v[LPUB_TX_PACKETS];
		st->tx_bytes       = v[LPUB_TX_BYTES];
		st->rx_lost        = v[LPUB_RX_LOST];
		st->rx_late        = v[LPUB_RX_LATE];
		st->rx_dup         = v[LPUB_RX_DUP];
		st->rx_dropped_src = v[LPUB_RX_DROPPED_SRC];
		st->rx_dropped_pt  = v[LPUB_RX_DROPPED_PT];
		st->plc_frames     = v[LPUB_PLC];
		st->fec_frames     = v[LPUB_FEC];
		st->jitter_ms      = (uint32_t)v[LPUB_JITTER];
		st->jb_delay_ms    = (uint32_t)v[LPUB_JB_DELAY];
		st->level          = (uint8_t)v[LPUB_LEVEL];
		st->latched        = v[LPUB_LATCHED] != 0;
		st->rx_malformed   = v[LPUB_RX_MALFORMED];
		st->tx_shared_frames = v[LPUB_TX_SHARED];
		st->rx_srtp_fail   = v[LPUB_RX_SRTP_FAIL];
		return true;
	}

	return false;
}


static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}


int wleg_alloc(struct wleg **legp, const struct media_cfg *cfg,
	       uint32_t leg_id, const struct media_sock *ms,
	       const struct media_leg_params *prm, struct leg_pub *pub)
{
	struct rx_cfg rxc;
	struct wleg *leg;
	int err;

	if (!legp || !cfg || !ms || !prm)
		return EINVAL;

	leg = calloc(1, sizeof(*leg));
	if (!leg)
		return ENOMEM;

	leg->id = leg_id;
	leg->pub = pub;
	leg->fd_rtp = ms->fd_rtp;
	leg->fd_rtcp = ms->fd_rtcp;

	/* rtcp-mux was agreed although a pair was bound (an offer with
	 * fallback): RTCP shares the RTP socket, the other one is unused
	 * (the leg's "fd_rtcp < 0" means mux everywhere) */
	if (prm->rtcp_mux)
		close_fd(&leg->fd_rtcp);
	leg->prm = *prm;
	leg->prm.cname[sizeof(leg->prm.cname) - 1] = '\0';
	/* keys live in libsrtp only (see wleg_set_srtp) */
	sdes_crypto_wipe(&leg->prm.srtp_tx);
	sdes_crypto_wipe(&leg->prm.srtp_rx);
	leg->raddr_rtp = prm->raddr_rtp;
	leg->raddr_rtcp = prm->rtcp_mux ? prm->raddr_rtp : prm->raddr_rtcp;

	/* random SSRC, sequence and timestamp origin (RFC 3550 5.1) */
	leg->ssrc = rand_u32();
	leg->seq  = rand_u16();
	leg->ts   = rand_u32();
	leg->rng  = rand_u32() | 1;
	leg->rtcp_ms = cfg->rtcp_interval_ms ? cfg->rtcp_interval_ms
					     : RTCP_INTERVAL_MS;

	rxc.room_srate = cfg->room_srate;
	rxc.room_ptime = cfg->ptime_ms;
	rxc.jb_min_ms  = cfg->jb_min_ms;
	rxc.jb_max_ms  = cfg->jb_max_ms;

	err = rxchain_alloc(&leg->rx, &prm->codec, &rxc);
	if (err)
		goto out;

	err = txchain_alloc(&leg->tx, &prm->codec, cfg->room_srate,
			    cfg->ptime_ms, cfg->opus_complexity);

 out:
	if (err)
		wleg_free(leg);
	else
		*legp = leg;

	return err;
}


void wleg_free(struct wleg *leg)
{
	if (!leg)
		return;

	close_fd(&leg->fd_rtp);
	close_fd(&leg->fd_rtcp);
	if (leg->rx)
		rxchain_free(leg->rx);
	if (leg->tx)
		txchain_free(leg->tx);
	/* libsrtp contexts have no thread affinity; the leg is their only
	 * owner, so whichever thread holds the leg frees them */
	mem_deref(leg->srtp_tx);
	mem_deref(leg->srtp_rx);
	mem_deref(leg->srtp_rx_old);
	free(leg->prompt);
	free(leg);
}


void wleg_set_srtp(struct wleg *leg, struct sec_srtp *tx,
		   struct sec_srtp *rx)
{
	mem_deref(leg->srtp_tx);
	leg->srtp_rx_old = mem_deref(leg->srtp_rx_old);
	/* a rekey (not the first keys, not a switch to plain RTP): keep
	   the old inbound context for a grace period */
	if (leg->srtp_rx && rx && leg->srtp_rx != rx) {
		leg->srtp_rx_old = leg->srtp_rx;
		leg->srtp_rx_old_until_us = media_now_us() +
			WLEG_REKEY_GRACE_MS * 1000;
	}
	else {
		mem_deref(leg->srtp_rx);
	}
	leg->srtp_tx = tx;
	leg->srtp_rx = rx;
}


void wleg_srtp_expired(struct wleg *leg, int err)
{
	if (err != EKEYEXPIRED || leg->srtp_expired_logged)
		return;

	/* the SDES lifetime is used up: only a rekey (re-INVITE) helps */
	leg->srtp_expired_logged = true;
	log_printf(LOG_LVL_WARN, "media: leg %u: SRTP key lifetime used up\n",
		   leg->id);
}


bool wleg_sa_usable(const struct sa *sa)
{
	return sa_isset(sa, SA_ALL) && !sa_is_any(sa);
}


static void send_to(int fd, const uint8_t *buf, size_t len,
		    const struct sa *dst)
{
	if (fd < 0 || !wleg_sa_usable(dst))
		return;

	(void)sendto(fd, buf, len, MSG_DONTWAIT, &dst->u.sa, dst->len);
}


static size_t rtcp_build(struct wleg *leg, uint8_t *buf, size_t size,
			 uint64_t now_us, bool bye)
{
	struct rtcpx_rb rb, *rbp = NULL;
	uint32_t clock = leg->prm.codec.rtp_clock ? leg->prm.codec.rtp_clock
						   : 8000;
	size_t n, k;

	if (leg->rseq.init) {
		struct rx_stats rs;

		rxchain_stats(leg->rx, &rs);

		memset(&rb, 0, sizeof(rb));
		rb.ssrc     = leg->rseq.ssrc;
		rb.fraction = rtph_seq_fraction(&leg->rseq);
		rb.lost     = rtph_seq_lost(&leg->rseq);
		rb.ext_seq  = rtph_seq_ext_max(&leg->rseq);
		rb.jitter   = (uint32_t)((uint64_t)rs.jitter_ms * clock / 1000);
		if (leg->have_sr) {
			rb.lsr  = leg->lsr;
			rb.dlsr = (uint32_t)((now_us - leg->lsr_rx_us) *
					     65536 / 1000000);
		}
		rbp = &rb;
	}

	if (leg->psent) {
		struct rtcpx_sr sr;
		uint64_t dt = now_us - leg->last_tx_us;

		sr.ssrc = leg->ssrc;
		rtcpx_ntp(&sr.ntp_sec, &sr.ntp_frac, realtime_ns());
		sr.rtp_ts = leg->last_tx_ts + (uint32_t)(dt * clock / 1000000);
		sr.psent = leg->psent;
		sr.osent = leg->osent;
		n = rtcpx_encode_sr(buf, size, &sr, rbp);
	}
	else {
		n = rtcpx_encode_rr(buf, size, leg->ssrc, rbp);
	}

	k = rtcpx_encode_sdes(buf + n, size - n, leg->ssrc, leg->prm.cname);
	n += k;

	if (bye)
		n += rtcpx_encode_bye(buf + n, size - n, leg->ssrc);

	return n;
}


void wleg_rtcp_send(struct wleg *leg, uint64_t now_us, bool bye)
{
	uint8_t buf[RTCP_BUFSZ + SEC_SRTP_TRAILER_MAX];
	size_t n = rtcp_build(leg, buf, RTCP_BUFSZ, now_us, bye);
	int err;

	if (!n)
		return;

	if (leg->srtp_tx) {
		err = sec_srtp_protect_rtcp(leg->srtp_tx, buf, &n, sizeof(buf));
		if (err) {
			wleg_srtp_expired(leg, err);
			return;
		}
	}

	if (leg->fd_rtcp < 0)
		send_to(leg->fd_rtp, buf, n, &leg->raddr_rtp);
	else
		send_to(leg->fd_rtcp, buf, n, &leg->raddr_rtcp);
}


void wleg_rtcp_schedule(struct wleg *leg, uint64_t now_us)
{
	/* randomised 0.5..1.5 x interval (RFC 3550 6.3.1) */
	uint64_t ms = leg->rtcp_ms / 2 + leg_rand(leg) % leg->rtcp_ms;

	leg->next_rtcp_us = now_us + ms * 1000;
}


/* SRTP(C) before anything is believed: no latching on forged packets */
static bool rx_unprotect(struct wleg *leg, uint8_t *buf, size_t *len,
			 bool rtcp)
{
	int err;

	if (!leg->srtp_rx)
		return true;

	if (leg->srtp_rx_old) {
		uint8_t copy[WORKER_RX_BUFSZ];
		size_t n = *len;

		if (media_now_us() >= leg->srtp_rx_old_until_us ||
		    n > sizeof(copy)) {
			leg->srtp_rx_old = mem_deref(leg->srtp_rx_old);
		}
		else {
			/* libsrtp may have touched the buffer on failure
			   (AEAD): the old context gets the original */
			memcpy(copy, buf, n);
			err = rtcp ?
				sec_srtp_unprotect_rtcp(leg->srtp_rx, buf, len)
				: sec_srtp_unprotect_rtp(leg->srtp_rx, buf, len);
			if (!err)
				return true;
			err = rtcp ?
				sec_srtp_unprotect_rtcp(leg->srtp_rx_old, copy,
							&n)
				: sec_srtp_unprotect_rtp(leg->srtp_rx_old, copy,
							 &n);
			if (!err) {
				memcpy(buf, copy, n);
				*len = n;
				return true;
			}
			++leg->st.rx_srtp_fail;
			return false;
		}
	}

	err = rtcp ? sec_srtp_unprotect_rtcp(leg->srtp_rx, buf, len)
		   : sec_srtp_unprotect_rtp(leg->srtp_rx, buf, len);
	if (err) {
		++leg->st.rx_srtp_fail;
		wleg_srtp_expired(leg, err);
		return false;
	}

	return true;
}


static void rx_rtcp(struct worker *w, struct wleg *leg, uint8_t *buf,
		    size_t len, const struct sa *src, uint64_t now_us)
{
	struct rtcpx_info info;
	struct rtcpx_rb rb;
	struct sa *latch = leg->fd_rtcp < 0 ? &leg->raddr_rtp
					    : &leg->raddr_rtcp;
	bool latched = leg->fd_rtcp < 0 ? leg->latched : leg->latched_rtcp;
	bool from_sdp = leg->fd_rtcp >= 0 &&
		sa_isset(&leg->prm.raddr_rtcp, SA_ALL) &&
		sa_cmp(src, &leg->prm.raddr_rtcp, SA_ALL);
	(void)w;

	if (len < 8 || (buf[0] >> 6) != RTPH_VERSION) {
		++leg->st.rx_malformed;
		return;
	}

	if (latched && !from_sdp && !sa_cmp(src, latch, SA_ALL)) {
		++leg->st.rx_dropped_src;
		return;
	}

	/* a separate RTCP socket latches only to the SDP RTCP address or
	 * to the host the RTP comes from, never to a stranger */
	if (leg->fd_rtcp >= 0 && !latched && !from_sdp &&
	    !sa_cmp(src, &leg->raddr_rtp, SA_ADDR)) {
		++leg->st.rx_dropped_src;
		return;
	}

	if (!rx_unprotect(leg, buf, &len, true))
		return;

	if (rtcpx_decode(&info, buf, len)) {
		++leg->st.rx_malformed;
		return;
	}

	if (leg->fd_rtcp >= 0 && (!leg->latched_rtcp || from_sdp)) {
		leg->raddr_rtcp = *src;
		leg->latched_rtcp = true;
	}

	leg->last_rx_us = now_us;
	leg->timeout_sent = false;

	if (info.has_sr) {
		leg->have_sr = true;
		leg->lsr = rtcpx_ntp_mid(info.sr.ntp_sec, info.sr.ntp_frac);
		leg->lsr_rx_us = now_us;
	}

	/* (added) the peer's loss on our stream drives Opus in-band FEC
	 * (txchain_set_loss: off on a clean path, on while it loses) */
	if (info.nrb && !rtcpx_rb_find(&rb, buf, len, leg->ssrc))
		txchain_set_loss(leg->tx, (rb.fraction * 100u + 255u) / 256u);
}


/* a source other than the SDP address: true once it has sent
 * WLEG_LATCH_PROBATION consecutive in-sequence packets */
static bool latch_probation(struct wleg *leg, const struct sa *src,
			    uint16_t seq)
{
	if (leg->cand_n && sa_cmp(src, &leg->cand, SA_ALL) &&
	    seq == (uint16_t)(leg->cand_seq + 1)) {
		++leg->cand_n;
	}
	else {
		leg->cand = *src;
		leg->cand_n = 1;
	}
	leg->cand_seq = seq;

	return leg->cand_n >= WLEG_LATCH_PROBATION;
}


static void latch_to(struct wleg *leg, const struct sa *src)
{
	leg->raddr_rtp = *src;
	leg->latched = true;
	leg->cand_n = 0;

	if (leg->fd_rtcp < 0) {
		leg->raddr_rtcp = *src;
	}
	else if (!leg->latched_rtcp) {
		/* behind NAT the SDP address is useless: guess
		 * port + 1 until RTCP arrives and latches */
		leg->raddr_rtcp = *src;
		sa_set_port(&leg->raddr_rtcp, (uint16_t)(sa_port(src) + 1));
	}
}


static void rx_rtp(struct worker *w, struct wleg *leg, uint8_t *buf,
		   size_t len, const struct sa *src, uint64_t now_us)
{
	const uint8_t *pay;
	struct rtph h;
	bool from_sdp, known;

	if (len < RTPH_HDR_SIZE || (buf[0] >> 6) != RTPH_VERSION) {
		++leg->st.rx_malformed;
		return;
	}

	/* strict latching: the SDP-signalled address is always believed
	 * (and re-latches), anyone else only before a latch, on probation */
	from_sdp = sa_isset(&leg->prm.raddr_rtp, SA_ALL) &&
		sa_cmp(src, &leg->prm.raddr_rtp, SA_ALL);
	known = leg->latched && sa_cmp(src, &leg->raddr_rtp, SA_ALL);

	if (leg->latched && !known && !from_sdp) {
		++leg->st.rx_dropped_src;
		return;
	}

	/* the padding bit and length only make sense after SRTP */
	if (!rx_unprotect(leg, buf, &len, false))
		return;

	if (rtph_decode(&h, buf, len)) {
		++leg->st.rx_malformed;
		return;
	}

	if (h.pt != leg->prm.codec.pt &&
	    (leg->prm.telev_pt < 0 || h.pt != leg->prm.telev_pt)) {
		++leg->st.rx_dropped_pt;
		return;
	}

	/* symmetric RTP: only a packet that passed every check latches;
	 * a stranger's first packets must not take over the leg */
	if (from_sdp) {
		leg->cand_n = 0;
		if (!known)
			latch_to(leg, src);
	}
	else if (!leg->latched) {
		if (!latch_probation(leg, src, h.seq)) {
			++leg->st.rx_dropped_src;
			return;
		}
		latch_to(leg, src);
	}

	leg->last_rx_us = now_us;
	leg->timeout_sent = false;
	++leg->st.rx_packets;
	leg->st.rx_bytes += len;

	(void)rtph_seq_update(&leg->rseq, h.ssrc, h.seq);

	pay = buf + h.hdr_len;

	if (h.pt == leg->prm.codec.pt) {
		(void)rxchain_put(leg->rx, h.ssrc, h.seq, h.ts, h.marker,
				  pay, h.pay_len, now_us);
	}
	else {
		struct rtph_telev ev;
		char digit;

		if (rtph_telev_decode(&ev, pay, h.pay_len)) {
			++leg->st.rx_malformed;
			return;
		}

		digit = telev_rx_put(&leg->telev, h.ts, &ev);
		if (digit) {
			struct wevent wev;

			memset(&wev, 0, sizeof(wev));
			wev.ev.type = MEDIA_EV_DTMF;
			wev.ev.room_id = leg->room ? leg->room->id : 0;
			wev.ev.leg_id = leg->id;
			wev.ev.worker = w->idx;
			wev.ev.digit = digit;
			worker_post(w, &wev);
		}
	}
}


void wleg_rx(struct worker *w, struct wleg *leg, int fd, bool rtcp,
		      uint64_t now_us)
{
	int n, i;

	if (fd < 0)
		return;

	for (i = 0; i < WORKER_RX_BATCH; i++) {
		w->iov[i].iov_base = w->rxbuf[i];
		w->iov[i].iov_len = WORKER_RX_BUFSZ;
		memset(&w->msgs[i], 0, sizeof(w->msgs[i]));
		w->msgs[i].msg_hdr.msg_iov = &w->iov[i];
		w->msgs[i].msg_hdr.msg_iovlen = 1;
		w->msgs[i].msg_hdr.msg_name = &w->from[i];
		w->msgs[i].msg_hdr.msg_namelen = sizeof(w->from[i]);
	}

	/* one bounded batch per socket per tick: a flood costs at most
	 * WORKER_RX_BATCH packets of work per leg per frame */
	n = recvmmsg(fd, w->msgs, WORKER_RX_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;

	for (i = 0; i < n; i++) {
		uint8_t *buf = w->rxbuf[i];
		size_t len = w->msgs[i].msg_len;
		struct sa src;

		if (w->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			++leg->st.rx_malformed;
			continue;
		}

		if (sa_set_sa(&src, (struct sockaddr *)&w->from[i]))
			continue;

		if (rtcp || (leg->fd_rtcp < 0 && rtph_is_rtcp(buf, len)))
			rx_rtcp(w, leg, buf, len, &src, now_us);
		else
			rx_rtp(w, leg, buf, len, &src, now_us);
	}
}


void wleg_publish(struct wleg *leg)
{
	struct rx_stats rs;

	rxchain_stats(leg->rx, &rs);

	leg->st.rx_lost     = (uint64_t)(rtph_seq_lost(&leg->rseq) > 0 ?
					 rtph_seq_lost(&leg->rseq) : 0);
	leg->st.rx_late     = rs.late;
	leg->st.rx_dup      = rs.dup;
	leg->st.plc_frames  = rs.plc_frames;
	leg->st.fec_frames  = rs.fec_frames;
	leg->st.jitter_ms   = rs.jitter_ms;
	leg->st.jb_delay_ms = rs.delay_ms;
	leg->st.latched     = leg->latched;
	leg->st.tx_shared_frames = leg->shared_frames;
	leg->st.level = leg->room ? mix_leg_level(leg->room->mix, leg->slot)
				  : MIX_LEVEL_SILENT;

	if (leg->pub)
		leg_pub_write(leg->pub, &leg->st);
}
