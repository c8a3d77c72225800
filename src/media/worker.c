/**
 * @file worker.c  A media worker thread: every ptime, on an absolute
 * CLOCK_MONOTONIC deadline, it applies queued commands, then for each of
 * its rooms receives RTP/RTCP, feeds the receive chains into the mixer,
 * mixes, encodes and sends, and takes care of RTCP and timeouts.
 *
 * Nothing here calls a libre loop API or touches a libre object; the only
 * libre calls are pure helpers on struct sa and mqueue_push(), which is
 * thread-safe (a write to a pipe).
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <re.h>

#include <chorus/mixer.h>
#include "ctrl/log.h"
#include "media/worker.h"

enum {
	RTCP_INTERVAL_MS = 5000,   /**< RFC 3550 minimum for our rate       */
	STATS_INTERVAL_US = 1000000,
	LATE_FACTOR_RESYNC = 5,    /**< frames behind before resyncing      */
	LOG_INTERVAL_US = 10000000,/**< rate limit for late-tick warnings   */
	RTCP_BUFSZ = 512,
	TONE_MS = 120,             /**< join/leave beep length              */
	TONE_AMPL = 3000,
	SHENC_IDLE_TICKS = 50,     /**< free a shared encoder unused 1 s    */
};

struct wleg {
	uint32_t id;
	struct wroom *room;        /**< NULL while detached                 */
	unsigned slot;             /**< mixer slot in room                  */
	struct leg_pub *pub;

	int fd_rtp;
	int fd_rtcp;               /**< -1: rtcp-mux                        */
	struct media_leg_params prm;
	struct sa raddr_rtp;       /**< send to: from SDP, then latched     */
	struct sa raddr_rtcp;
	bool latched;
	bool latched_rtcp;

	struct rxchain *rx;
	struct txchain *tx;
	struct sec_srtp *srtp_tx;  /**< NULL: plain RTP                     */
	struct sec_srtp *srtp_rx;
	bool srtp_expired_logged;

	unsigned user_flags;       /**< MIX_MUTE/MIX_DEAF from control      */
	float gain_in, gain_out;
	bool vad;

	/* sending */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	bool sent_first;
	bool talkspurt;            /**< next packet gets the marker bit     */
	uint32_t last_tx_ts;
	uint64_t last_tx_us;
	uint32_t psent, osent;

	/* receiving */
	struct rtph_seq rseq;
	struct telev_rx telev;
	uint64_t last_rx_us;
	bool timeout_sent;
	bool have_sr;
	uint32_t lsr;
	uint64_t lsr_rx_us;

	uint64_t next_rtcp_us;
	uint64_t next_pub_us;
	uint32_t rng;
	unsigned tone_left;        /**< samples of join tone still to play  */
	struct shenc *shenc;       /**< this tick's shared encoder or NULL  */
	uint64_t shared_frames;    /**< frames sent from a shared encoder   */
	uint64_t tx_errors;

	struct media_leg_stats st;
};

/** One encoder for every leg of a (output group, format). */
struct shenc {
	unsigned group;
	struct codec_fmt fmt;
	struct txchain *tx;        /**< allocated on first use              */
	unsigned users;            /**< legs this tick                      */
	bool done;                 /**< encoded this tick                   */
	unsigned idle;             /**< ticks without users                 */
	struct wpkts pkts;
};

struct wroom {
	uint32_t id;
	struct mixer *mix;
	struct mix_cfg mcfg;
	struct wleg **slot;        /**< mcfg.capacity entries               */
	unsigned nlegs;
	struct shenc **shenc;
	size_t nshenc, shenc_cap;
};


uint64_t media_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}


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


/* ---- stats publication ----------------------------------------------- */

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


/* ---- events ---------------------------------------------------------- */

static void ring_bell(struct worker *w)
{
	if (!atomic_exchange(&w->bell, true))
		mqueue_push(w->me->mq, (int)w->idx, NULL);
}


/* events that found the ring full wait here, in order */
static void flush_overflow(struct worker *w)
{
	size_t i = 0;

	while (i < w->nover && spsc_push(&w->evq, &w->over[i]))
		++i;

	if (i) {
		memmove(w->over, w->over + i, (w->nover - i) * sizeof(*w->over));
		w->nover -= i;
		ring_bell(w);
	}
}


static void post(struct worker *w, const struct wevent *wev)
{
	if (w->nover == 0 && spsc_push(&w->evq, wev)) {
		ring_bell(w);
		return;
	}

	if (w->nover == w->over_cap) {
		size_t cap = w->over_cap ? 2 * w->over_cap : 64;
		struct wevent *o = realloc(w->over, cap * sizeof(*o));

		if (!o) {
			/* a detached leg must not be lost: it owns fds */
			++w->ev_dropped;
			if (wev->kind == WEV_LEG_DETACHED)
				wleg_free(wev->leg);
			return;
		}
		w->over = o;
		w->over_cap = cap;
	}

	w->over[w->nover++] = *wev;
}


static void post_ev(struct worker *w, enum media_event_type type,
		    uint32_t room_id, uint32_t leg_id, int value)
{
	struct wevent wev;

	memset(&wev, 0, sizeof(wev));
	wev.kind = WEV_PUBLIC;
	wev.ev.type = type;
	wev.ev.room_id = room_id;
	wev.ev.leg_id = leg_id;
	wev.ev.worker = w->idx;
	wev.ev.value = value;

	post(w, &wev);
}


/* ---- objects --------------------------------------------------------- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}


static void shenc_free(struct shenc *se);


int wroom_alloc(struct wroom **roomp, const struct media_cfg *cfg,
		uint32_t room_id, uint32_t capacity)
{
	struct wroom *room;
	int err;

	if (!roomp || !cfg)
		return EINVAL;

	room = calloc(1, sizeof(*room));
	if (!room)
		return ENOMEM;

	room->id = room_id;
	room->mcfg.srate = cfg->room_srate;
	room->mcfg.ptime_ms = cfg->ptime_ms;
	room->mcfg.capacity = capacity ? capacity : ROOM_CAPACITY_DEFAULT;
	room->mcfg.topk = cfg->topk;
	room->mcfg.isa = MIX_ISA_AUTO;

	room->slot = calloc(room->mcfg.capacity, sizeof(*room->slot));
	if (!room->slot) {
		err = ENOMEM;
		goto out;
	}

	err = mix_alloc(&room->mix, &room->mcfg);

 out:
	if (err)
		wroom_free(room);
	else
		*roomp = room;

	return err;
}


void wroom_free(struct wroom *room)
{
	if (!room)
		return;

	while (room->nshenc)
		shenc_free(room->shenc[--room->nshenc]);
	free(room->shenc);
	mix_free(room->mix);
	free(room->slot);
	free(room);
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
	free(leg);
}


void wleg_set_srtp(struct wleg *leg, struct sec_srtp *tx,
		   struct sec_srtp *rx)
{
	mem_deref(leg->srtp_tx);
	mem_deref(leg->srtp_rx);
	leg->srtp_tx = tx;
	leg->srtp_rx = rx;
}


void wcmd_discard(struct wcmd *cmd)
{
	if (!cmd)
		return;

	switch (cmd->type) {

	case WCMD_ROOM_ADD:
		wroom_free(cmd->room);
		break;

	case WCMD_LEG_ATTACH:
	case WCMD_LEG_RELEASE:
		wleg_free(cmd->leg);
		break;

	default:
		break;
	}

	mem_deref(cmd->srtp_tx);
	mem_deref(cmd->srtp_rx);
	free(cmd);
}


static void srtp_expired(struct wleg *leg, int err)
{
	if (err != EKEYEXPIRED || leg->srtp_expired_logged)
		return;

	/* the SDES lifetime is used up: only a rekey (re-INVITE) helps */
	leg->srtp_expired_logged = true;
	log_printf(LOG_LVL_WARN, "media: leg %u: SRTP key lifetime used up\n",
		   leg->id);
}


/* ---- RTCP send ------------------------------------------------------- */

static bool sa_usable(const struct sa *sa)
{
	return sa_isset(sa, SA_ALL) && !sa_is_any(sa);
}


static void send_to(int fd, const uint8_t *buf, size_t len,
		    const struct sa *dst)
{
	if (fd < 0 || !sa_usable(dst))
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


static void rtcp_send(struct wleg *leg, uint64_t now_us, bool bye)
{
	uint8_t buf[RTCP_BUFSZ + SEC_SRTP_TRAILER_MAX];
	size_t n = rtcp_build(leg, buf, RTCP_BUFSZ, now_us, bye);
	int err;

	if (!n)
		return;

	if (leg->srtp_tx) {
		err = sec_srtp_protect_rtcp(leg->srtp_tx, buf, &n, sizeof(buf));
		if (err) {
			srtp_expired(leg, err);
			return;
		}
	}

	if (leg->fd_rtcp < 0)
		send_to(leg->fd_rtp, buf, n, &leg->raddr_rtp);
	else
		send_to(leg->fd_rtcp, buf, n, &leg->raddr_rtcp);
}


static void rtcp_schedule(struct wleg *leg, uint64_t now_us)
{
	/* randomised 0.5..1.5 x interval (RFC 3550 6.3.1) */
	uint64_t ms = RTCP_INTERVAL_MS / 2 + leg_rand(leg) % RTCP_INTERVAL_MS;

	leg->next_rtcp_us = now_us + ms * 1000;
}


/* ---- receive --------------------------------------------------------- */

/* SRTP(C) before anything is believed: no latching on forged packets */
static bool rx_unprotect(struct wleg *leg, uint8_t *buf, size_t *len,
			 bool rtcp)
{
	int err;

	if (!leg->srtp_rx)
		return true;

	err = rtcp ? sec_srtp_unprotect_rtcp(leg->srtp_rx, buf, len)
		   : sec_srtp_unprotect_rtp(leg->srtp_rx, buf, len);
	if (err) {
		++leg->st.rx_srtp_fail;
		srtp_expired(leg, err);
		return false;
	}

	return true;
}


static void rx_rtcp(struct worker *w, struct wleg *leg, uint8_t *buf,
		    size_t len, const struct sa *src, uint64_t now_us)
{
	struct rtcpx_info info;
	struct sa *latch = leg->fd_rtcp < 0 ? &leg->raddr_rtp
					    : &leg->raddr_rtcp;
	bool latched = leg->fd_rtcp < 0 ? leg->latched : leg->latched_rtcp;
	(void)w;

	if (len < 8 || (buf[0] >> 6) != RTPH_VERSION) {
		++leg->st.rx_malformed;
		return;
	}

	if (latched && !sa_cmp(src, latch, SA_ALL)) {
		++leg->st.rx_dropped_src;
		return;
	}

	if (!rx_unprotect(leg, buf, &len, true))
		return;

	if (rtcpx_decode(&info, buf, len)) {
		++leg->st.rx_malformed;
		return;
	}

	if (leg->fd_rtcp >= 0 && !leg->latched_rtcp) {
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
}


static void rx_rtp(struct worker *w, struct wleg *leg, uint8_t *buf,
		   size_t len, const struct sa *src, uint64_t now_us)
{
	const uint8_t *pay;
	struct rtph h;

	if (len < RTPH_HDR_SIZE || (buf[0] >> 6) != RTPH_VERSION) {
		++leg->st.rx_malformed;
		return;
	}

	if (leg->latched && !sa_cmp(src, &leg->raddr_rtp, SA_ALL)) {
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

	/* symmetric RTP: the first valid packet fixes the remote address */
	if (!leg->latched) {
		leg->raddr_rtp = *src;
		leg->latched = true;

		if (leg->fd_rtcp < 0) {
			leg->raddr_rtcp = *src;
		}
		else if (!leg->latched_rtcp) {
			/* behind NAT the SDP address is useless: guess
			 * port + 1 until RTCP arrives and latches */
			leg->raddr_rtcp = *src;
			sa_set_port(&leg->raddr_rtcp,
				    (uint16_t)(sa_port(src) + 1));
		}
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
			post(w, &wev);
		}
	}
}


static void rx_socket(struct worker *w, struct wleg *leg, int fd, bool rtcp,
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


/* ---- mixer slots ----------------------------------------------------- */

static unsigned leg_mix_flags(const struct wleg *leg)
{
	unsigned f = leg->user_flags;

	if (!(leg->prm.dir & MEDIA_RECV))
		f |= MIX_MUTE;
	if (!(leg->prm.dir & MEDIA_SEND))
		f |= MIX_DEAF;

	return f;
}


static void leg_apply_mix(struct wleg *leg)
{
	struct mixer *mix = leg->room->mix;

	(void)mix_leg_set_flags(mix, leg->slot, leg_mix_flags(leg));
	(void)mix_leg_set_gain(mix, leg->slot, leg->gain_in, leg->gain_out);
}


/* a mixer's capacity is fixed: build a bigger one and move every leg */
static int room_grow(struct wroom *room)
{
	struct mix_cfg mcfg = room->mcfg;
	struct mixer *mix;
	struct wleg **slot;
	unsigned i;
	int err;

	mcfg.capacity *= 2;

	slot = calloc(mcfg.capacity, sizeof(*slot));
	if (!slot)
		return ENOMEM;

	err = mix_alloc(&mix, &mcfg);
	if (err) {
		free(slot);
		return err;
	}

	for (i = 0; i < room->mcfg.capacity; i++) {
		struct wleg *leg = room->slot[i];
		unsigned id;

		if (!leg)
			continue;

		err = mix_leg_add(mix, &id);
		if (err)
			break;
		slot[id] = leg;
		leg->slot = id;
	}

	if (err) {
		/* cannot happen with twice the capacity; keep the old one */
		for (i = 0; i < room->mcfg.capacity; i++)
			if (room->slot[i])
				room->slot[i]->slot = i;
		mix_free(mix);
		free(slot);
		return err;
	}

	mix_free(room->mix);
	free(room->slot);
	room->mix = mix;
	room->slot = slot;
	room->mcfg = mcfg;

	for (i = 0; i < mcfg.capacity; i++)
		if (slot[i])
			leg_apply_mix(slot[i]);

	return 0;
}


static void tone_start(struct worker *w, struct wroom *room,
		       struct wleg *except)
{
	unsigned i, n;

	if (!w->me->cfg.join_tones || !w->tone)
		return;

	n = (unsigned)(w->me->cfg.room_srate * TONE_MS / 1000);
	for (i = 0; i < room->mcfg.capacity; i++) {
		struct wleg *leg = room->slot[i];

		if (leg && leg != except)
			leg->tone_left = n;
	}
}


static int leg_attach(struct worker *w, struct wleg *leg, struct wroom *room,
		      uint64_t now_us)
{
	unsigned id;
	int err;

	err = mix_leg_add(room->mix, &id);
	if (err == ENOSPC) {
		err = room_grow(room);
		if (!err)
			err = mix_leg_add(room->mix, &id);
	}
	if (err)
		return err;

	leg->room = room;
	leg->slot = id;
	room->slot[id] = leg;
	++room->nlegs;
	++w->nlegs;
	leg->vad = false;

	if (!leg->last_rx_us)
		leg->last_rx_us = now_us;
	if (!leg->next_rtcp_us)
		rtcp_schedule(leg, now_us);
	if (!leg->next_pub_us)
		leg->next_pub_us = now_us + STATS_INTERVAL_US;

	leg_apply_mix(leg);
	tone_start(w, room, leg);

	return 0;
}


static void leg_detach(struct worker *w, struct wleg *leg)
{
	struct wroom *room = leg->room;

	if (!room)
		return;

	if (leg->vad)
		post_ev(w, MEDIA_EV_TALKING, room->id, leg->id, 0);
	leg->vad = false;

	(void)mix_leg_remove(room->mix, leg->slot);
	room->slot[leg->slot] = NULL;
	--room->nlegs;
	--w->nlegs;
	leg->room = NULL;
	tone_start(w, room, NULL);
}


static void leg_publish(struct wleg *leg)
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


/* RTCP BYE, close, LEG_RELEASED; the leg is gone afterwards */
static void leg_release(struct worker *w, struct wleg *leg, uint32_t room_id)
{
	uint32_t id = leg->id;

	if (leg->room) {
		room_id = leg->room->id;
		leg_detach(w, leg);
	}

	rtcp_send(leg, media_now_us(), true);
	leg_publish(leg);
	wleg_free(leg);

	post_ev(w, MEDIA_EV_LEG_RELEASED, room_id, id, 0);
}


/* ---- commands -------------------------------------------------------- */

static int room_insert(struct worker *w, struct wroom *room)
{
	if (w->nrooms == w->rooms_cap) {
		size_t cap = w->rooms_cap ? 2 * w->rooms_cap : 16;
		struct wroom **r = realloc(w->rooms, cap * sizeof(*r));

		if (!r)
			return ENOMEM;
		w->rooms = r;
		w->rooms_cap = cap;
	}

	w->rooms[w->nrooms++] = room;
	return 0;
}


static void room_unlink(struct worker *w, struct wroom *room)
{
	size_t i;

	for (i = 0; i < w->nrooms; i++) {
		if (w->rooms[i] == room) {
			w->rooms[i] = w->rooms[--w->nrooms];
			return;
		}
	}
}


static void leg_update(struct wleg *leg, const struct media_leg_params *prm,
		       uint64_t now_us)
{
	const struct codec_fmt *o = &leg->prm.codec, *n = &prm->codec;

	if (o->id != n->id || o->pt != n->pt || o->srate != n->srate ||
	    o->rtp_clock != n->rtp_clock || o->channels != n->channels ||
	    o->ptime_ms != n->ptime_ms || o->fec != n->fec ||
	    o->dtx != n->dtx || o->maxavgbitrate != n->maxavgbitrate) {

		if (rxchain_set_fmt(leg->rx, n) || txchain_set_fmt(leg->tx, n))
			log_printf(LOG_LVL_WARN, "media: leg %u: codec change to %s"
				" failed\n", leg->id, codec_name(n->id));
	}

	/* re-latch only when the SDP address really changed: a session
	 * refresh repeats the (maybe private) address of the first offer */
	if (!sa_cmp(&prm->raddr_rtp, &leg->prm.raddr_rtp, SA_ALL)) {
		leg->raddr_rtp = prm->raddr_rtp;
		leg->latched = false;
		if (leg->fd_rtcp < 0) {
			leg->raddr_rtcp = prm->raddr_rtp;
		}
		else {
			leg->raddr_rtcp = prm->raddr_rtcp;
			leg->latched_rtcp = false;
		}
	}
	else if (leg->fd_rtcp >= 0 &&
		 !sa_cmp(&prm->raddr_rtcp, &leg->prm.raddr_rtcp, SA_ALL)) {
		leg->raddr_rtcp = prm->raddr_rtcp;
		leg->latched_rtcp = false;
	}

	/* the sockets were bound once; a change of rtcp-mux cannot change
	 * them, so the original choice is kept */
	leg->prm.codec = prm->codec;
	leg->prm.telev_pt = prm->telev_pt;
	leg->prm.telev_rate = prm->telev_rate;
	leg->prm.raddr_rtp = prm->raddr_rtp;
	leg->prm.raddr_rtcp = prm->raddr_rtcp;
	leg->prm.dir = prm->dir;
	if (prm->cname[0])
		memcpy(leg->prm.cname, prm->cname, sizeof(leg->prm.cname));
	leg->prm.cname[sizeof(leg->prm.cname) - 1] = '\0';

	/* a fresh grace period for the timeout after a re-INVITE */
	leg->last_rx_us = now_us;
	leg->timeout_sent = false;

	if (leg->room)
		leg_apply_mix(leg);
}


static void leg_control(struct wleg *leg, enum media_leg_op op, int value)
{
	switch (op) {

	case MEDIA_OP_MUTE:
		leg->user_flags = value ? (leg->user_flags | MIX_MUTE)
					: (leg->user_flags & ~(unsigned)MIX_MUTE);
		break;

	case MEDIA_OP_DEAF:
		leg->user_flags = value ? (leg->user_flags | MIX_DEAF)
					: (leg->user_flags & ~(unsigned)MIX_DEAF);
		break;

	case MEDIA_OP_GAIN_IN:
		leg->gain_in = (float)value;
		break;

	case MEDIA_OP_GAIN_OUT:
		leg->gain_out = (float)value;
		break;

	default:
		return;
	}

	if (leg->room)
		leg_apply_mix(leg);
}


static void cmd_apply(struct worker *w, struct wcmd *cmd, uint64_t now_us)
{
	struct wleg *leg = cmd->leg;
	struct wevent wev;
	size_t i;

	switch (cmd->type) {

	case WCMD_ROOM_ADD:
		if (room_insert(w, cmd->room)) {
			/* keep the contract: the room is announced released */
			post_ev(w, MEDIA_EV_ROOM_RELEASED, cmd->room->id, 0, 0);
			wroom_free(cmd->room);
		}
		break;

	case WCMD_ROOM_REMOVE:
		for (i = 0; i < cmd->room->mcfg.capacity; i++) {
			if (cmd->room->slot[i])
				leg_release(w, cmd->room->slot[i], 0);
		}
		room_unlink(w, cmd->room);
		post_ev(w, MEDIA_EV_ROOM_RELEASED, cmd->room->id, 0, 0);
		wroom_free(cmd->room);
		break;

	case WCMD_LEG_ATTACH:
		if (leg_attach(w, leg, cmd->room, now_us)) {
			log_printf(LOG_LVL_WARN, "media: worker %u: leg %u cannot join"
				" room %u\n", w->idx, leg->id, cmd->room->id);
			leg_release(w, leg, cmd->room->id);
		}
		break;

	case WCMD_LEG_UPDATE:
		leg_update(leg, &cmd->prm, now_us);
		if (cmd->srtp_set) {
			/* rekey between two frames; the command frees
			 * nothing it handed over */
			wleg_set_srtp(leg, cmd->srtp_tx, cmd->srtp_rx);
			cmd->srtp_tx = NULL;
			cmd->srtp_rx = NULL;
			leg->srtp_expired_logged = false;
		}
		break;

	case WCMD_LEG_CONTROL:
		leg_control(leg, cmd->op, cmd->value);
		break;

	case WCMD_LEG_REMOVE:
	case WCMD_LEG_RELEASE:
		leg_release(w, leg, 0);
		break;

	case WCMD_LEG_MOVE:
		if (cmd->room) {
			/* same worker: switch rooms between two frames */
			uint32_t old = leg->room ? leg->room->id : 0;

			leg_detach(w, leg);
			if (leg_attach(w, leg, cmd->room, now_us))
				leg_release(w, leg, old);
			break;
		}

		leg_detach(w, leg);
		memset(&wev, 0, sizeof(wev));
		wev.kind = WEV_LEG_DETACHED;
		wev.ev.leg_id = leg->id;
		wev.ev.worker = w->idx;
		wev.leg = leg;
		post(w, &wev);
		break;
	}

	mem_deref(cmd->srtp_tx);
	mem_deref(cmd->srtp_rx);
	free(cmd);
}


/* ---- the tick -------------------------------------------------------- */

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
		srtp_expired(leg, err);
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

		if (!sa_usable(&leg->raddr_rtp))
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


static void shenc_free(struct shenc *se)
{
	if (!se)
		return;

	if (se->tx)
		txchain_free(se->tx);
	free(se);
}


/* before sending: count the legs per (group, format) */
static void shenc_plan(struct worker *w, struct wroom *room)
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
		    w->me->cfg.encode_per_leg)
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
static void shenc_gc(struct wroom *room)
{
	size_t i = 0;

	while (i < room->nshenc) {
		struct shenc *se = room->shenc[i];

		se->idle = se->users ? 0 : se->idle + 1;
		if (se->idle > SHENC_IDLE_TICKS) {
			shenc_free(se);
			room->shenc[i] = room->shenc[--room->nshenc];
			continue;
		}
		++i;
	}
}


static void leg_transmit(struct worker *w, struct wroom *room,
			 struct wleg *leg, uint64_t now_us)
{
	const size_t ns = mix_frame_samples(room->mix);
	const int16_t *out = mix_leg_output(room->mix, leg->slot);
	struct shenc *se = leg->shenc;

	if (se && se->users >= 2) {

		if (!se->done) {
			se->done = true;

			if (!se->tx && txchain_alloc(&se->tx, &se->fmt,
						     w->me->cfg.room_srate,
						     w->me->cfg.ptime_ms,
						     w->me->cfg.opus_complexity))
				se->tx = NULL;

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


static void room_tick(struct worker *w, struct wroom *room, uint64_t now_us)
{
	const uint32_t timeout_ms = w->me->cfg.rtp_timeout_ms;
	unsigned i;

	for (i = 0; i < room->mcfg.capacity; i++) {
		struct wleg *leg = room->slot[i];

		if (!leg)
			continue;

		rx_socket(w, leg, leg->fd_rtp, false, now_us);
		rx_socket(w, leg, leg->fd_rtcp, true, now_us);

		/* a false return leaves the (zeroed) input as silence */
		(void)rxchain_get(leg->rx, mix_leg_input(room->mix, i),
				  now_us);
	}

	mix_tick(room->mix);
	shenc_plan(w, room);

	for (i = 0; i < room->mcfg.capacity; i++) {
		struct wleg *leg = room->slot[i];
		bool vad;

		if (!leg)
			continue;

		vad = mix_leg_vad(room->mix, i);
		if (vad != leg->vad) {
			leg->vad = vad;
			post_ev(w, MEDIA_EV_TALKING, room->id, leg->id, vad);
		}

		if (leg->prm.dir & MEDIA_SEND)
			leg_transmit(w, room, leg, now_us);

		if (now_us >= leg->next_rtcp_us) {
			rtcp_send(leg, now_us, false);
			rtcp_schedule(leg, now_us);
		}

		if (timeout_ms && (leg->prm.dir & MEDIA_RECV) &&
		    !leg->timeout_sent &&
		    now_us - leg->last_rx_us > (uint64_t)timeout_ms * 1000) {
			leg->timeout_sent = true;
			post_ev(w, MEDIA_EV_LEG_TIMEOUT, room->id, leg->id, 0);
		}

		if (now_us >= leg->next_pub_us) {
			leg_publish(leg);
			leg->next_pub_us = now_us + STATS_INTERVAL_US;
		}
	}

	shenc_gc(room);
}


static void tick(struct worker *w, uint64_t now_us)
{
	struct wcmd *cmd;
	size_t i;

	flush_overflow(w);

	/* control operations only ever take effect between frames */
	while (spsc_pop(&w->cmdq, &cmd))
		cmd_apply(w, cmd, now_us);

	for (i = 0; i < w->nrooms; i++)
		room_tick(w, w->rooms[i], now_us);

	atomic_store_explicit(&w->pub_rooms, (unsigned)w->nrooms,
			      memory_order_relaxed);
	atomic_store_explicit(&w->pub_legs, w->nlegs, memory_order_relaxed);
}


static void ts_add_us(struct timespec *t, uint64_t us)
{
	t->tv_nsec += (long)(us % 1000000) * 1000;
	t->tv_sec  += (time_t)(us / 1000000);
	if (t->tv_nsec >= 1000000000) {
		t->tv_nsec -= 1000000000;
		t->tv_sec++;
	}
}


static uint64_t ts_us(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000u + (uint64_t)t->tv_nsec / 1000u;
}


static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const uint64_t ptime_us = (uint64_t)w->me->cfg.ptime_ms * 1000;
	const unsigned ticks_per_s = 1000 / w->me->cfg.ptime_ms;
	uint64_t busy_us = 0, win_start, last_log = 0, late_win = 0;
	uint64_t ticks = 0, late = 0, resync = 0;
	uint32_t max_tick_us = 0;
	unsigned win_ticks = 0;
	struct timespec deadline;
	char name[16];

	snprintf(name, sizeof(name), "chorus-media%u", w->idx);
	pthread_setname_np(pthread_self(), name);

	if (w->me->cfg.rt_priority > 0) {
		struct sched_param sp = {
			.sched_priority = w->me->cfg.rt_priority,
		};
		int err = pthread_setschedparam(pthread_self(), SCHED_FIFO,
						&sp);

		/* without CAP_SYS_NICE / RLIMIT_RTPRIO: run normally */
		if (err)
			log_printf(LOG_LVL_WARN, "media: worker %u: no "
				   "real-time priority %d (%s)\n", w->idx,
				   sp.sched_priority, strerror(err));
	}

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	win_start = ts_us(&deadline);

	while (atomic_load_explicit(&w->run, memory_order_acquire)) {
		uint64_t start, end, dl, lateness;
		int err;

		ts_add_us(&deadline, ptime_us);

		do {
			err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
					      &deadline, NULL);
		} while (err == EINTR);

		start = media_now_us();
		dl = ts_us(&deadline);
		lateness = start > dl ? start - dl : 0;

		if (lateness > ptime_us) {
			++late;
			++late_win;

			if (lateness > LATE_FACTOR_RESYNC * ptime_us) {
				/* hopelessly behind: catching up would only
				 * burst; start a new schedule from now */
				deadline.tv_sec  = (time_t)(start / 1000000);
				deadline.tv_nsec = (long)(start % 1000000) *
					1000;
				++resync;
			}

			if (start - last_log > LOG_INTERVAL_US) {
				log_printf(LOG_LVL_WARN, "media: worker %u: tick %llu us"
					" late (%llu late ticks, %llu resyncs)"
					"\n", w->idx,
					(unsigned long long)lateness,
					(unsigned long long)late,
					(unsigned long long)resync);
				last_log = start;
			}
		}

		tick(w, start);

		end = media_now_us();
		busy_us += end - start;
		if (end - start > max_tick_us)
			max_tick_us = (uint32_t)(end - start);
		++ticks;

		atomic_store_explicit(&w->pub_ticks, ticks,
				      memory_order_relaxed);
		atomic_store_explicit(&w->pub_late, late,
				      memory_order_relaxed);
		atomic_store_explicit(&w->pub_resyncs, resync,
				      memory_order_relaxed);

		if (++win_ticks >= ticks_per_s) {
			uint64_t span = end - win_start;
			uint32_t load = span ? (uint32_t)(busy_us * 1000 / span)
					     : 0;
			struct wevent wev;

			atomic_store_explicit(&w->pub_load, load,
					      memory_order_relaxed);
			atomic_store_explicit(&w->pub_max_tick_us, max_tick_us,
					      memory_order_relaxed);

			memset(&wev, 0, sizeof(wev));
			wev.ev.type = MEDIA_EV_WORKER_LOAD;
			wev.ev.worker = w->idx;
			wev.ev.value = (int)load;
			wev.ev.late = late_win;
			post(w, &wev);

			busy_us = 0;
			max_tick_us = 0;
			late_win = 0;
			win_ticks = 0;
			win_start = end;
		}
	}

	return NULL;
}


int worker_start(struct worker *w)
{
	size_t n = (size_t)w->me->cfg.room_srate * TONE_MS / 1000;
	size_t i;
	int err;

	w->rxbuf = calloc(WORKER_RX_BATCH, sizeof(*w->rxbuf));
	if (!w->rxbuf)
		return ENOMEM;

	if (w->me->cfg.join_tones) {
		/* a soft 660 Hz beep with raised-cosine edges */
		w->tone = calloc(n, sizeof(*w->tone));
		if (!w->tone)
			return ENOMEM;

		for (i = 0; i < n; i++) {
			double t = (double)i / w->me->cfg.room_srate;
			double env = sin(M_PI * (double)i / (double)n);

			w->tone[i] = (int16_t)(TONE_AMPL * env *
					       sin(2 * M_PI * 660.0 * t));
		}
	}

	atomic_store(&w->run, true);

	err = pthread_create(&w->thr, NULL, worker_main, w);
	if (err)
		return err;

	w->started = true;
	return 0;
}


void worker_stop(struct worker *w)
{
	struct wcmd *cmd;
	struct wevent wev;
	size_t i, j;

	if (w->started) {
		atomic_store(&w->run, false);
		pthread_join(w->thr, NULL);
		w->started = false;
	}

	/* the thread is gone: everything below is ours */
	if (w->cmdq.buf) {
		while (spsc_pop(&w->cmdq, &cmd))
			wcmd_discard(cmd);
	}

	for (i = 0; i < w->nrooms; i++) {
		struct wroom *room = w->rooms[i];

		for (j = 0; j < room->mcfg.capacity; j++) {
			if (room->slot[j]) {
				rtcp_send(room->slot[j], media_now_us(), true);
				wleg_free(room->slot[j]);
			}
		}
		wroom_free(room);
	}
	free(w->rooms);
	w->rooms = NULL;
	w->nrooms = 0;

	if (w->evq.buf) {
		while (spsc_pop(&w->evq, &wev))
			if (wev.kind == WEV_LEG_DETACHED)
				wleg_free(wev.leg);
	}
	for (i = 0; i < w->nover; i++)
		if (w->over[i].kind == WEV_LEG_DETACHED)
			wleg_free(w->over[i].leg);
	free(w->over);
	w->over = NULL;
	w->nover = 0;

	free(w->rxbuf);
	w->rxbuf = NULL;
	free(w->tone);
	w->tone = NULL;
}
