/**
 * @file test_engine.c  The media engine end to end over real UDP sockets
 * on 127.0.0.1, with the real codec chains and mixer: minus-one audio
 * (by Goertzel), RTP header sequence, symmetric latching against forged
 * sources, RFC 4733 digits, RTP timeout, RTCP BYE on removal, moves
 * between workers, port-range allocation.
 *
 * Each test runs libre's main loop (the engine's events need it) with a
 * 20 ms timer that drives the test's phases and a hard deadline.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <re.h>
#include <cmocka.h>

#include "media/media.h"
#include "media/rtp.h"
#include "media/srtpctx.h"
#include "testutil.h"

enum {
	NCLI = 6,                  /**< A, B, C, a forger D, E, F       */
	TICK_MS = 20,
	SAMPLES = 160,             /**< PCMU 20 ms                       */
	MAXREC = 8000 * 6,         /**< received samples per stream       */
	HARD_DEADLINE_MS = 15000,
};

/* ---- G.711 mu-law, written here independently of codec.c ------------- */

static uint8_t ulaw_enc(int16_t pcm)
{
	static const int16_t seg_end[8] = { 0x3f, 0x7f, 0xff, 0x1ff,
					    0x3ff, 0x7ff, 0xfff, 0x1fff };
	int v = pcm >> 2, mask, seg;

	if (v < 0) {
		v = -v;
		mask = 0x7f;
	}
	else {
		mask = 0xff;
	}
	if (v > 8159)
		v = 8159;
	v += 0x84 >> 2;

	for (seg = 0; seg < 8 && v > seg_end[seg]; seg++)
		;
	if (seg >= 8)
		return (uint8_t)(0x7f ^ mask);

	return (uint8_t)(((seg << 4) | ((v >> (seg + 1)) & 0xf)) ^ mask);
}


static int16_t ulaw_dec(uint8_t u)
{
	int t;

	u = (uint8_t)~u;
	t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;

	return (int16_t)((u & 0x80) ? (0x84 - t) : (t - 0x84));
}


static int16_t alaw_dec(uint8_t a)
{
	int t, seg;

	a ^= 0x55;
	t = (a & 0x0f) << 4;
	seg = (a & 0x70) >> 4;
	switch (seg) {
	case 0:
		t += 8;
		break;
	case 1:
		t += 0x108;
		break;
	default:
		t += 0x108;
		t <<= seg - 1;
	}

	return (int16_t)((a & 0x80) ? t : -t);
}


static double goertzel(const int16_t *x, size_t n, double f, double fs)
{
	double k = 2 * cos(2 * M_PI * f / fs), s1 = 0, s2 = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double s = x[i] + k * s1 - s2;
		s2 = s1;
		s1 = s;
	}

	return s1 * s1 + s2 * s2 - k * s1 * s2;
}


/* share of the signal's energy at f: ~1 for a pure tone at f */
static double tone_share(const int16_t *x, size_t n, double f)
{
	double e = 0;
	size_t i;

	for (i = 0; i < n; i++)
		e += (double)x[i] * x[i];

	if (e <= 0)
		return 0;

	return 2 * goertzel(x, n, f, 8000) / ((double)n * e);
}


enum { WIN = 1600 };   /**< 0.2 s: 440 and 1000 Hz fall on exact bins */

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}


/*
 * Median share over 0.2 s windows: a glitch from a late tick on a
 * loaded machine spoils one window, not the verdict.
 */
static double share_median(const int16_t *x, size_t n, double f)
{
	double v[64];
	size_t k = 0;

	while ((k + 1) * WIN <= n && k < 64) {
		v[k] = tone_share(x + k * WIN, WIN, f);
		++k;
	}
	assert_true(k > 0);
	qsort(v, k, sizeof(*v), dcmp);

	return v[k / 2];
}


/* the largest share in any window: for a tone that must be absent */
static double share_max(const int16_t *x, size_t n, double f)
{
	double m = 0;
	size_t k;

	for (k = 0; (k + 1) * WIN <= n; k++) {
		double v = tone_share(x + k * WIN, WIN, f);

		if (v > m)
			m = v;
	}

	return m;
}


/* ---- the test rig ----------------------------------------------------- */

struct cli {
	int fd;
	struct sec_srtp *stx;      /**< SRTP: protects what the client sends */
	struct sec_srtp *srx;      /**< SRTP: unprotects what chorus sends */
	struct sa addr;            /**< the client's own address         */
	struct sa leg_addr;        /**< the chorus leg it talks to       */
	double freq;               /**< 0: silent                        */
	uint32_t phase;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;

	/* received */
	int16_t *rec;
	size_t nrec;
	unsigned rtp_pkts, rtcp_pkts, byes, bad, srtp_ok, srs;
	bool have_reply;
	struct rtcpx_info reply;   /**< chorus' report after our SR      */
	uint16_t reply_seq;        /**< our next seq when it arrived     */
	bool got_marker_first;
	bool have_first;
	uint32_t rx_ssrc;
	uint16_t last_seq;
	uint32_t last_ts;
	unsigned seq_errors, ts_errors, pt_errors, ssrc_errors;
	uint8_t expect_pt;         /**< 0 PCMU unless a test changes it  */
};

struct rig {
	struct media_engine *me;
	struct cli c[NCLI];
	struct tmr tick, deadline;
	unsigned t;                /**< ticks since start                */
	uint64_t t0_us;            /**< first tone packet                */
	uint64_t sent;             /**< tone packets sent by A and B     */
	bool timed_out;

	unsigned released, room_released, load_events, released_with_stats;
	unsigned timeouts[NCLI];
	char digits[16];
	unsigned ndigits;
	unsigned talking_on;
	uint64_t worker_late;
	int phase;
	int fail_line;             /**< first CHECK that failed          */
};


static void event_handler(const struct media_event *ev, void *arg)
{
	struct rig *r = arg;

	switch (ev->type) {

	case MEDIA_EV_LEG_RELEASED: {
		struct media_leg_stats st;

		++r->released;
		/* the final figures are still there for the handler */
		if (!media_leg_stats(r->me, ev->leg_id, &st) && st.tx_packets)
			++r->released_with_stats;
		break;
	}

	case MEDIA_EV_ROOM_RELEASED:
		++r->room_released;
		break;

	case MEDIA_EV_LEG_TIMEOUT:
		if (ev->leg_id >= 1 && ev->leg_id <= NCLI)
			++r->timeouts[ev->leg_id - 1];
		break;

	case MEDIA_EV_DTMF:
		if (r->ndigits < sizeof(r->digits) - 1)
			r->digits[r->ndigits++] = ev->digit;
		break;

	case MEDIA_EV_TALKING:
		if (ev->value)
			++r->talking_on;
		break;

	case MEDIA_EV_WORKER_LOAD:
		++r->load_events;
		r->worker_late += ev->late;
		break;
	}
}


static void cli_open(struct cli *c)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(c->fd >= 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(0, bind(c->fd, (struct sockaddr *)&sin, sizeof(sin)));
	assert_int_equal(0, getsockname(c->fd, (struct sockaddr *)&sin, &len));
	assert_int_equal(0, sa_set_sa(&c->addr, (struct sockaddr *)&sin));

	c->rec = calloc(MAXREC, sizeof(*c->rec));
	assert_non_null(c->rec);
	c->ssrc = rand_u32();
	c->seq = rand_u16();
	c->ts = rand_u32();
}


static void cli_close(struct cli *c)
{
	c->stx = mem_deref(c->stx);
	c->srx = mem_deref(c->srx);
	if (c->fd >= 0)
		close(c->fd);
	free(c->rec);
	c->fd = -1;
	c->rec = NULL;
}


static void cli_send_rtp(struct cli *c, uint8_t pt, bool marker,
			 const uint8_t *pay, size_t len, bool advance_ts)
{
	uint8_t buf[512 + SEC_SRTP_TRAILER_MAX];
	struct rtph h;
	size_t n;

	memset(&h, 0, sizeof(h));
	h.pt = pt;
	h.marker = marker;
	h.seq = c->seq++;
	h.ts = c->ts;
	h.ssrc = c->ssrc;
	n = rtph_encode(buf, sizeof(buf), &h);
	memcpy(buf + n, pay, len);
	n += len;
	len = 0;
	if (c->stx)
		assert_int_equal(0, sec_srtp_protect_rtp(c->stx, buf, &n,
							 sizeof(buf)));

	(void)sendto(c->fd, buf, n + len, 0, &c->leg_addr.u.sa,
		     c->leg_addr.len);
	if (advance_ts)
		c->ts += SAMPLES;
}


static void cli_send_tone(struct cli *c)
{
	uint8_t pay[SAMPLES];
	unsigned i;

	for (i = 0; i < SAMPLES; i++, c->phase++) {
		double s = 8000 * sin(2 * M_PI * c->freq * c->phase / 8000.0);

		pay[i] = ulaw_enc((int16_t)s);
	}

	cli_send_rtp(c, 0, c->seq == 0, pay, sizeof(pay), true);
}


static void cli_recv(struct cli *c)
{
	uint8_t buf[2048];
	unsigned guard;

	for (guard = 0; guard < 256; guard++) {
		struct rtph h;
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		size_t i;

		if (n <= 0)
			break;

		if (c->srx) {
			size_t len = (size_t)n;
			int err = rtph_is_rtcp(buf, len)
				? sec_srtp_unprotect_rtcp(c->srx, buf, &len)
				: sec_srtp_unprotect_rtp(c->srx, buf, &len);

			if (err) {
				++c->bad;
				continue;
			}
			n = (ssize_t)len;
			++c->srtp_ok;
		}

		if (rtph_is_rtcp(buf, (size_t)n)) {
			struct rtcpx_info info;

			++c->rtcp_pkts;
			if (rtcpx_decode(&info, buf, (size_t)n)) {
				++c->bad;
				continue;
			}
			if (info.bye)
				++c->byes;
			if (info.has_sr)
				++c->srs;
			/* the first report that answers our SR */
			if (info.has_rb && info.rb.lsr && !c->have_reply) {
				c->reply = info;
				c->reply_seq = c->seq;
				c->have_reply = true;
			}
			continue;
		}

		if (rtph_decode(&h, buf, (size_t)n)) {
			++c->bad;
			continue;
		}

		if (!c->have_first) {
			c->have_first = true;
			c->got_marker_first = h.marker;
			c->rx_ssrc = h.ssrc;
		}
		else {
			if (h.seq != (uint16_t)(c->last_seq + 1))
				++c->seq_errors;
			if (h.ts != c->last_ts + SAMPLES)
				++c->ts_errors;
			if (h.ssrc != c->rx_ssrc)
				++c->ssrc_errors;
		}
		if (h.pt != c->expect_pt || h.pay_len != SAMPLES)
			++c->pt_errors;

		c->last_seq = h.seq;
		c->last_ts = h.ts;
		++c->rtp_pkts;

		for (i = 0; i < h.pay_len && c->nrec < MAXREC; i++) {
			uint8_t b = buf[h.hdr_len + i];

			c->rec[c->nrec++] = h.pt == 8 ? alaw_dec(b)
						      : ulaw_dec(b);
		}
	}
}


static uint64_t mono_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}


/*
 * A and B send in real time: libre's timer fires late, never early, so
 * one packet per timer call would run slow and starve the jitter
 * buffer; send what the wall clock says is due (at most a few at once).
 */
static void send_tones(struct rig *r)
{
	uint64_t due;
	unsigned k;

	if (!r->t0_us)
		r->t0_us = mono_us();

	due = (mono_us() - r->t0_us) / (TICK_MS * 1000) + 1;

	for (k = 0; k < 5 && r->sent < due; k++, r->sent++) {
		cli_send_tone(&r->c[0]);
		cli_send_tone(&r->c[1]);
	}
}


/* inside the libre loop a failed assert would longjmp out of re_main;
 * note the first failing line and assert after the loop instead */
#define CHECK(r, cond) \
	do { \
		if (!(cond) && !(r)->fail_line) \
			(r)->fail_line = __LINE__; \
	} while (0)


static void deadline_handler(void *arg)
{
	struct rig *r = arg;

	r->timed_out = true;
	re_cancel();
}


static bool rig_join_tones;
static uint32_t rig_rtcp_ms;


static struct rig *cur_rig;   /**< open rig, for the teardown        */


static int rig_init(struct rig *r, unsigned workers, bool per_leg)
{
	struct media_cfg cfg;
	unsigned i, base;

	memset(r, 0, sizeof(*r));
	cur_rig = r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.workers = workers;
	cfg.room_srate = 48000;
	cfg.ptime_ms = 20;
	/* a per-process range so parallel test runs do not collide */
	base = 40000 + (unsigned)(getpid() % 500) * 40;
	cfg.rtp_port_min = (uint16_t)base;
	cfg.rtp_port_max = (uint16_t)(base + 39);
	cfg.dscp_rtp = 46;
	cfg.rtp_timeout_ms = 1500;
	cfg.jb_min_ms = 20;
	cfg.jb_max_ms = 200;
	cfg.encode_per_leg = per_leg;
	cfg.join_tones = rig_join_tones;
	cfg.rtcp_interval_ms = rig_rtcp_ms;

	for (i = 0; i < NCLI; i++)
		cli_open(&r->c[i]);

	tmr_init(&r->tick);
	tmr_init(&r->deadline);
	tmr_start(&r->deadline, HARD_DEADLINE_MS, deadline_handler, r);

	return media_engine_alloc(&r->me, &cfg, event_handler, r);
}


static void rig_close(struct rig *r)
{
	unsigned i;

	cur_rig = NULL;

	tmr_cancel(&r->tick);
	tmr_cancel(&r->deadline);
	r->me = mem_deref(r->me);

	for (i = 0; i < NCLI; i++)
		cli_close(&r->c[i]);
}


static void leg_prm(struct media_leg_params *prm, const struct cli *c,
		    bool mux)
{
	memset(prm, 0, sizeof(*prm));
	codec_fmt_default(&prm->codec, CODEC_PCMU);
	prm->telev_pt = 101;
	prm->telev_rate = 8000;
	prm->raddr_rtp = c->addr;
	prm->raddr_rtcp = c->addr;
	if (!mux)
		sa_set_port(&prm->raddr_rtcp,
			    (uint16_t)(sa_port(&c->addr) + 1));
	prm->rtcp_mux = mux;
	prm->dir = MEDIA_SENDRECV;
	str_ncpy(prm->cname, "chorus@test", sizeof(prm->cname));
}


static void add_leg_prm(struct rig *r, uint32_t room, uint32_t id, bool mux,
			struct media_leg_params *prm);

static void add_leg(struct rig *r, uint32_t room, uint32_t id, bool mux)
{
	struct media_leg_params prm;

	memset(&prm, 0, sizeof(prm));
	add_leg_prm(r, room, id, mux, &prm);
}


/* an SRTP leg: the client holds the opposite ends of both keys */
static void add_leg_srtp(struct rig *r, uint32_t room, uint32_t id,
			 struct media_leg_params *prm)
{
	struct cli *c = &r->c[id - 1];

	memset(prm, 0, sizeof(*prm));
	prm->srtp = true;
	assert_int_equal(0, sdes_crypto_generate(&prm->srtp_tx, 1,
					 SDES_AES_CM_128_HMAC_SHA1_80));
	assert_int_equal(0, sdes_crypto_generate(&prm->srtp_rx, 1,
					 SDES_AES_CM_128_HMAC_SHA1_80));
	assert_int_equal(0, sec_srtp_alloc(&c->srx, &prm->srtp_tx,
					   SEC_SRTP_INBOUND));
	assert_int_equal(0, sec_srtp_alloc(&c->stx, &prm->srtp_rx,
					   SEC_SRTP_OUTBOUND));
	add_leg_prm(r, room, id, true, prm);
}


static void add_leg_prm(struct rig *r, uint32_t room, uint32_t id, bool mux,
			struct media_leg_params *prm_io)
{
	struct media_leg_params prm;
	struct media_sock ms;
	struct sa laddr;
	struct cli *c = &r->c[id - 1];

	assert_int_equal(0, sa_set_str(&laddr, "127.0.0.1", 0));
	assert_int_equal(0, media_sock_alloc(r->me, &ms, &laddr, mux));
	assert_true(ms.fd_rtp >= 0);
	assert_true(mux ? ms.fd_rtcp < 0 : ms.fd_rtcp >= 0);
	assert_int_equal(0, sa_port(&ms.laddr_rtp) % 2);

	c->leg_addr = ms.laddr_rtp;
	leg_prm(&prm, c, mux);
	if (prm_io->srtp) {
		prm.srtp = true;
		prm.srtp_tx = prm_io->srtp_tx;
		prm.srtp_rx = prm_io->srtp_rx;
	}
	assert_int_equal(0, media_leg_add(r->me, room, id, &ms, &prm));
	*prm_io = prm;
}


/* the clients read all that has arrived */
static void recv_all(struct rig *r)
{
	unsigned i;

	for (i = 0; i < NCLI; i++)
		cli_recv(&r->c[i]);
}


/* remove legs 1..n; rig_wind_down() then waits for their release */
static void remove_legs(struct rig *r, uint32_t n)
{
	uint32_t id;

	for (id = 1; id <= n; id++)
		CHECK(r, 0 == media_leg_remove(r->me, id));
	r->phase = 1;
}


/*
 * The end of a tick function once its legs are removed (phase 1): when
 * all @legs are released remove room @room, and when that is released
 * stop the loop -- with @linger a few ticks later, so that the last
 * packets (RTCP BYE) arrive.
 */
static void rig_wind_down(struct rig *r, unsigned legs, uint32_t room,
			  bool linger)
{
	if (r->phase == 1 && r->released == legs) {
		CHECK(r, 0 == media_room_remove(r->me, room));
		r->phase = 2;
	}

	if (r->phase == 2 && r->room_released == 1) {
		if (linger) {
			r->phase = 3;
			r->t = 10000;
		}
		else
			re_cancel();
	}

	if (r->phase == 3 && r->t > 10005)
		re_cancel();
}


/* a rig whose A talks at 440 Hz and B at 1000 Hz */
static void rig_init_ab(struct rig *r, unsigned workers, bool per_leg)
{
	assert_int_equal(0, rig_init(r, workers, per_leg));
	r->c[0].freq = 440;
	r->c[1].freq = 1000;
}


/* run the loop with @th first called after @ms until it stops the loop:
 * no CHECK failed and the hard deadline did not hit */
static void rig_run(struct rig *r, uint64_t ms, tmr_h *th)
{
	tmr_start(&r->tick, ms, th, r);
	assert_int_equal(0, re_main(NULL));
	assert_int_equal(0, r->fail_line);
	assert_false(r->timed_out);
}


static void cli_telev(struct cli *c, uint8_t event, bool end,
		       uint16_t dur, uint32_t ts)
{
	uint8_t p[4] = { event, (uint8_t)((end ? 0x80 : 0) | 10),
			 (uint8_t)(dur >> 8), (uint8_t)dur };
	uint32_t save = c->ts;

	c->ts = ts;
	cli_send_rtp(c, 101, false, p, sizeof(p), false);
	c->ts = save;
}


/* ---- test 1: a room with three legs ---------------------------------- */

enum {
	T1_AUDIO_END = 150,        /**< 3 s of tones from A and B        */
	T1_DTMF_AT = 60,
	T1_FORGE_AT = 80,
	T1_BADPT_AT = 100,
	T1_REMOVE_AT = 175,
};

static uint32_t dtmf_ts;

static struct {
	struct media_leg_stats st_a, st_c, st_none;
	int err_a, err_c, err_none, err_busy, err_rm[3], err_rm_again;
} t1;


static void t1_tick(void *arg)
{
	struct rig *r = arg;
	unsigned i;

	tmr_start(&r->tick, TICK_MS, t1_tick, r);
	++r->t;

	if (r->t < T1_AUDIO_END)
		send_tones(r);

	/* '7' from B: start, two updates, three end packets */
	if (r->t == T1_DTMF_AT)
		dtmf_ts = r->c[1].ts;
	if (r->t >= T1_DTMF_AT && r->t < T1_DTMF_AT + 3)
		cli_telev(&r->c[1], 7, false,
			   (uint16_t)((r->t - T1_DTMF_AT + 1) * SAMPLES),
			   dtmf_ts);
	if (r->t == T1_DTMF_AT + 3) {
		cli_telev(&r->c[1], 7, true, 4 * SAMPLES, dtmf_ts);
		cli_telev(&r->c[1], 7, true, 4 * SAMPLES, dtmf_ts);
		cli_telev(&r->c[1], 7, true, 4 * SAMPLES, dtmf_ts);
	}

	/* from A's own address: 3 packets of a PT not negotiated, and 2
	 * that are not RTP version 2 -- counted, never played */
	if (r->t == T1_BADPT_AT) {
		struct cli *a = &r->c[0];
		uint8_t pkt[12 + SAMPLES];
		struct rtph h;

		memset(&h, 0, sizeof(h));
		h.pt = 18;
		h.ssrc = a->ssrc;
		h.seq = 7;
		h.ts = 1000;
		rtph_encode(pkt, sizeof(pkt), &h);
		memset(pkt + 12, 0x55, SAMPLES);
		for (i = 0; i < 3; i++)
			(void)sendto(a->fd, pkt, sizeof(pkt), 0,
				     &a->leg_addr.u.sa, a->leg_addr.len);

		pkt[0] = 0x40;   /* version 1 */
		pkt[1] = 0;
		for (i = 0; i < 2; i++)
			(void)sendto(a->fd, pkt, sizeof(pkt), 0,
				     &a->leg_addr.u.sa, a->leg_addr.len);
	}

	/* D forges RTP towards A's port after A has latched: 5 packets */
	if (r->t >= T1_FORGE_AT && r->t < T1_FORGE_AT + 5) {
		struct cli *d = &r->c[3];
		uint8_t pay[SAMPLES];

		memset(pay, 0xff, sizeof(pay));
		d->leg_addr = r->c[0].leg_addr;
		cli_send_rtp(d, 0, false, pay, sizeof(pay), true);
	}

	recv_all(r);

	if (r->t == T1_REMOVE_AT) {
		/* checked after the loop: an assert in here would jump out
		 * of re_main */
		t1.err_a = media_leg_stats(r->me, 1, &t1.st_a);
		t1.err_c = media_leg_stats(r->me, 3, &t1.st_c);
		t1.err_none = media_leg_stats(r->me, 99, &t1.st_none);
		t1.err_busy = media_room_remove(r->me, 1);

		for (i = 1; i <= 3; i++)
			t1.err_rm[i - 1] = media_leg_remove(r->me, i);
		t1.err_rm_again = media_leg_remove(r->me, 1);
		r->phase = 1;
	}

	rig_wind_down(r, 3, 1, true);
}


static void check_minus_one(const struct cli *c, double own, double other,
			    const char *who)
{
	/* skip the first second: jitter buffer fill, mixer ramps */
	const size_t skip = 8000;
	const size_t n = c->nrec > skip + 8000 ? 8000 : 0;
	double s_own, s_other;

	assert_true(n > 0);
	s_own = share_max(c->rec + skip, n, own);
	s_other = share_median(c->rec + skip, n, other);

	print_message("%s: %.0f Hz share %.4f, %.0f Hz share %.4f\n", who,
		      own, s_own, other, s_other);

	assert_true(s_other > 0.5);
	assert_true(s_own < 0.01);
}


static void test_engine_room_of_three_minus_one(void **state)
{
	/* static: a failed assert leaves it for the teardown */
	static struct rig r;
	double a, b;
	(void)state;

	assert_int_equal(0, rig_init(&r, 1, false));
	assert_int_equal(1, media_engine_workers(r.me));

	r.c[0].freq = 440;
	r.c[1].freq = 1000;

	assert_int_equal(0, media_room_add(r.me, 1));
	assert_int_equal(EALREADY, media_room_add(r.me, 1));
	add_leg(&r, 1, 1, true);
	add_leg(&r, 1, 2, true);
	add_leg(&r, 1, 3, false);

	rig_run(&r, TICK_MS, t1_tick);
	assert_int_equal(3, r.released);
	assert_int_equal(3, r.released_with_stats);
	assert_int_equal(1, r.room_released);

	/* the stats snapshot is at most a second old */
	assert_int_equal(0, t1.err_a);
	assert_true(t1.st_a.latched);
	assert_int_equal(5, t1.st_a.rx_dropped_src);
	assert_true(t1.st_a.rx_packets > 100);
	assert_true(t1.st_a.tx_packets > 100);
	assert_int_equal(3, t1.st_a.rx_dropped_pt);
	assert_int_equal(2, t1.st_a.rx_malformed);

	assert_int_equal(0, t1.err_c);
	assert_false(t1.st_c.latched);
	assert_int_equal(0, t1.st_c.rx_packets);
	assert_true(t1.st_c.tx_packets > 100);

	assert_int_equal(ENOENT, t1.err_none);
	/* a room with legs cannot go */
	assert_int_equal(EBUSY, t1.err_busy);
	assert_int_equal(0, t1.err_rm[0]);
	assert_int_equal(0, t1.err_rm[1]);
	assert_int_equal(0, t1.err_rm[2]);
	assert_int_equal(ENOENT, t1.err_rm_again);

	/* A hears B, not itself; B the other way round */
	check_minus_one(&r.c[0], 440, 1000, "A");
	check_minus_one(&r.c[1], 1000, 440, "B");

	/* C hears both */
	a = share_median(r.c[2].rec + 8000, 8000, 440);
	b = share_median(r.c[2].rec + 8000, 8000, 1000);
	print_message("C: 440 Hz share %.4f, 1000 Hz share %.4f\n", a, b);
	assert_true(a > 0.2);
	assert_true(b > 0.2);

	/* the RTP we send: PCMU, continuous seq/ts, marker first */
	assert_true(r.c[0].rtp_pkts > 150);
	assert_true(r.c[0].got_marker_first);
	assert_int_equal(0, r.c[0].seq_errors);
	assert_int_equal(0, r.c[0].ts_errors);
	assert_int_equal(0, r.c[0].ssrc_errors);
	assert_int_equal(0, r.c[0].pt_errors);
	assert_int_equal(0, r.c[0].bad);

	/* the digit once, never in the audio */
	assert_int_equal(1, r.ndigits);
	assert_int_equal('7', r.digits[0]);

	/* C never sent: timeout once; A and B were alive until removal */
	assert_int_equal(0, r.timeouts[0]);
	assert_int_equal(0, r.timeouts[1]);
	assert_int_equal(1, r.timeouts[2]);

	/* RTCP BYE on removal: A (mux) on its RTP socket */
	assert_true(r.c[0].byes >= 1);
	assert_true(r.c[1].byes >= 1);

	/* the forger got nothing back */
	assert_int_equal(0, r.c[3].rtp_pkts);

	assert_true(r.talking_on >= 2);
	assert_true(r.load_events >= 2);

	{
		struct media_worker_stats ws;

		assert_int_equal(0, media_worker_stats(r.me, 0, &ws));
		assert_true(ws.ticks > 150);
		assert_int_equal(0, ws.rooms);
		assert_int_equal(0, ws.legs);
		assert_true(ws.load_permille < 1000);
		print_message("worker: ticks %llu late %llu load %u max %u"
			      " us\n",
			      (unsigned long long)ws.ticks,
			      (unsigned long long)ws.late_ticks,
			      ws.load_permille, ws.max_tick_us);
		assert_int_equal(EINVAL, media_worker_stats(r.me, 1, &ws));
	}

	rig_close(&r);
}


/* ---- test 2: a move between workers ---------------------------------- */

enum { T2_MOVE_AT = 50, T2_END = 150 };


static void t2_tick(void *arg)
{
	struct rig *r = arg;

	tmr_start(&r->tick, TICK_MS, t2_tick, r);
	++r->t;

	if (r->t < T2_END)
		send_tones(r);

	recv_all(r);

	if (r->t == T2_MOVE_AT) {
		/* C has been alone in room 20 and heard silence so far */
		CHECK(r, (0) == (media_leg_move(r->me, 1, 20)));
		CHECK(r, (ENOENT) == (media_leg_move(r->me, 1, 77)));
		/* a command while the leg travels follows it */
		CHECK(r, (0) == (media_leg_control(r->me, 1,
						      MEDIA_OP_GAIN_IN, 0)));
		r->c[2].nrec = 0;
		r->c[1].nrec = 0;
	}

	if (r->t == T2_END)
		remove_legs(r, 3);

	if (r->phase == 1 && r->released == 3) {
		CHECK(r, (0) == (media_room_remove(r->me, 10)));
		CHECK(r, (0) == (media_room_remove(r->me, 20)));
		r->phase = 2;
	}

	if (r->phase == 2 && r->room_released == 2)
		re_cancel();
}


static void test_engine_move_between_workers(void **state)
{
	struct media_worker_stats ws;
	/* static: a failed assert leaves it for the teardown */
	static struct rig r;
	double s440, s1000;
	(void)state;

	rig_init_ab(&r, 2, false);

	/* least loaded: the second room goes to the other worker */
	assert_int_equal(0, media_room_add(r.me, 10));
	add_leg(&r, 10, 1, true);   /* A */
	add_leg(&r, 10, 2, true);   /* B */
	assert_int_equal(0, media_room_add(r.me, 20));
	add_leg(&r, 20, 3, true);   /* C */

	rig_run(&r, TICK_MS, t2_tick);
	assert_int_equal(3, r.released);
	assert_int_equal(2, r.room_released);

	/* after the move C hears A, and B (left alone) hears silence */
	assert_true(r.c[2].nrec > 8000 + 4000);
	s440 = share_median(r.c[2].rec + 4000, 8000, 440);
	s1000 = share_max(r.c[2].rec + 4000, 8000, 1000);
	print_message("C after move: 440 %.4f 1000 %.4f\n", s440, s1000);
	assert_true(s440 > 0.5);
	assert_true(s1000 < 0.01);

	{
		double e = 0;
		size_t i;

		for (i = 4000; i < r.c[1].nrec; i++)
			e += (double)r.c[1].rec[i] * r.c[1].rec[i];
		print_message("B alone: energy per sample %.1f\n",
			      e / (double)(r.c[1].nrec - 4000));
		assert_true(e / (double)(r.c[1].nrec - 4000) < 100.0);
	}

	/* both workers ran a room */
	assert_int_equal(0, media_worker_stats(r.me, 0, &ws));
	assert_true(ws.ticks > 100);
	assert_int_equal(0, media_worker_stats(r.me, 1, &ws));
	assert_true(ws.ticks > 100);

	rig_close(&r);
}


/* ---- test 3: port range ---------------------------------------------- */

static void test_engine_port_range_round_robin_and_exhaustion(void **state)
{
	struct media_engine *me;
	struct media_cfg cfg;
	struct media_sock s1, s2, s3, s4;
	struct sa laddr;
	/* exact ports are asserted here: stay below the kernel's ephemeral
	 * range (32768-) and away from the rigs' ranges (40000-) */
	unsigned base = 10000 + (unsigned)(getpid() % 500) * 40;
	(void)state;

	memset(&cfg, 0, sizeof(cfg));
	cfg.workers = 1;
	cfg.rtp_port_min = (uint16_t)(base + 1);   /* odd: rounded up */
	cfg.rtp_port_max = (uint16_t)(base + 5);
	assert_int_equal(0, media_engine_alloc(&me, &cfg, NULL, NULL));
	assert_int_equal(0, sa_set_str(&laddr, "127.0.0.1", 0));

	assert_int_equal(0, media_sock_alloc(me, &s1, &laddr, false));
	assert_int_equal(base + 2, sa_port(&s1.laddr_rtp));
	assert_int_equal(base + 3, sa_port(&s1.laddr_rtcp));

	assert_int_equal(0, media_sock_alloc(me, &s2, &laddr, false));
	assert_int_equal(base + 4, sa_port(&s2.laddr_rtp));

	/* no pair left (base+6 is out of range), not even for rtcp-mux:
	 * every even port is taken */
	assert_int_equal(EADDRINUSE, media_sock_alloc(me, &s3, &laddr, false));
	assert_int_equal(EADDRINUSE, media_sock_alloc(me, &s3, &laddr, true));

	/* round robin: the search goes on from the cursor, wrapping */
	media_sock_close(&s1);
	assert_int_equal(-1, s1.fd_rtp);
	assert_int_equal(0, media_sock_alloc(me, &s3, &laddr, true));
	assert_int_equal(base + 2, sa_port(&s3.laddr_rtp));
	assert_int_equal(-1, s3.fd_rtcp);
	media_sock_close(&s2);
	assert_int_equal(0, media_sock_alloc(me, &s4, &laddr, true));
	assert_int_equal(base + 4, sa_port(&s4.laddr_rtp));

	media_sock_close(&s3);
	media_sock_close(&s4);

	/* unknown room / bad sockets: the sockets are closed anyway */
	assert_int_equal(0, media_sock_alloc(me, &s1, &laddr, true));
	{
		struct media_leg_params prm;
		struct cli c;

		cli_open(&c);
		leg_prm(&prm, &c, true);
		assert_int_equal(ENOENT, media_leg_add(me, 5, 1, &s1, &prm));
		/* the port is free again */
		assert_int_equal(0, media_sock_alloc(me, &s2, &laddr, true));
		media_sock_close(&s2);
		cli_close(&c);
	}

	mem_deref(me);
}


/* ---- test 4: listeners share one encoder ------------------------------ */

enum { T4_END = 125, T4_CHECK = 140 };

static struct media_leg_stats t4_st[NCLI];


static void t4_tick(void *arg)
{
	struct rig *r = arg;
	unsigned i;

	tmr_start(&r->tick, TICK_MS, t4_tick, r);
	++r->t;

	if (r->t < T4_END)
		send_tones(r);

	recv_all(r);

	if (r->t == T4_CHECK) {
		static const uint32_t legs[] = { 1, 2, 3, 5, 6 };

		for (i = 0; i < ARRAY_SIZE(legs); i++) {
			CHECK(r, (0) == (media_leg_stats(r->me, legs[i],
						    &t4_st[legs[i] - 1])));
			CHECK(r, (0) == (media_leg_remove(r->me, legs[i])));
		}
		r->phase = 1;
	}

	rig_wind_down(r, 5, 1, false);
}


static void run_listeners(bool per_leg)
{
	static const unsigned listeners[] = { 2, 4, 5 };   /* C, E, F */
	/* static: a failed assert leaves it for the teardown */
	static struct rig r;
	unsigned i;

	rig_init_ab(&r, 1, per_leg);

	assert_int_equal(0, media_room_add(r.me, 1));
	add_leg(&r, 1, 1, true);
	add_leg(&r, 1, 2, true);
	add_leg(&r, 1, 3, true);
	add_leg(&r, 1, 5, true);
	add_leg(&r, 1, 6, true);

	rig_run(&r, TICK_MS, t4_tick);
	assert_int_equal(5, r.released);

	/* talkers have outputs of their own once their audio plays (before
	 * that, while their jitter buffer fills, they are listeners too) */
	print_message("talkers: shared frames %llu %llu\n",
		      (unsigned long long)t4_st[0].tx_shared_frames,
		      (unsigned long long)t4_st[1].tx_shared_frames);
	assert_true(t4_st[0].tx_shared_frames < 50);
	assert_true(t4_st[1].tx_shared_frames < 50);

	for (i = 0; i < ARRAY_SIZE(listeners); i++) {
		const struct cli *c = &r.c[listeners[i]];
		double a, b;

		if (per_leg)
			assert_int_equal(0, t4_st[listeners[i]]
					 .tx_shared_frames);
		else
			/* snapshot <= 1 s old, ~2.8 s into the call */
			assert_true(t4_st[listeners[i]].tx_shared_frames
				    > 50);

		/* each listener keeps its own continuous RTP stream */
		assert_true(c->rtp_pkts > 100);
		assert_int_equal(0, c->seq_errors);
		assert_int_equal(0, c->ts_errors);
		assert_int_equal(0, c->ssrc_errors);
		assert_true(c->nrec >= 16000);

		a = share_median(c->rec + 8000, 8000, 440);
		b = share_median(c->rec + 8000, 8000, 1000);
		print_message("listener %u: 440 %.4f 1000 %.4f\n",
			      listeners[i], a, b);
		assert_true(a > 0.2);
		assert_true(b > 0.2);
	}

	/* distinct SSRCs */
	assert_true(r.c[2].rx_ssrc != r.c[4].rx_ssrc);
	assert_true(r.c[4].rx_ssrc != r.c[5].rx_ssrc);

	/* they all heard the very same mix */
	assert_int_equal(r.c[2].nrec, r.c[4].nrec);
	assert_int_equal(r.c[2].nrec, r.c[5].nrec);
	assert_memory_equal(r.c[2].rec + 8000, r.c[4].rec + 8000,
			    8000 * sizeof(int16_t));
	assert_memory_equal(r.c[2].rec + 8000, r.c[5].rec + 8000,
			    8000 * sizeof(int16_t));

	rig_close(&r);
}


static void test_engine_listeners_share_one_encoder(void **state)
{
	(void)state;
	run_listeners(false);
}


static void test_engine_listeners_encode_per_leg_when_asked(void **state)
{
	(void)state;
	run_listeners(true);
}


/* ---- test 5: SRTP legs ------------------------------------------------ */

enum { T5_TONES_AT = 5, T5_UPDATE_AT = 60, T5_END = 130 };

static struct {
	struct media_leg_params prm_b;
	struct media_leg_stats st_a, st_b;
	int err_a, err_b, err_upd;
} t5;


static void t5_tick(void *arg)
{
	struct rig *r = arg;

	tmr_start(&r->tick, TICK_MS, t5_tick, r);
	++r->t;

	/* D sends plain RTP to A's port before A speaks: it must neither
	 * latch nor reach the mix */
	if (r->t >= 1 && r->t <= 3) {
		struct cli *d = &r->c[3];
		uint8_t pay[SAMPLES];

		memset(pay, 0x55, sizeof(pay));
		d->leg_addr = r->c[0].leg_addr;
		cli_send_rtp(d, 0, false, pay, sizeof(pay), true);
	}

	if (r->t >= T5_TONES_AT && r->t < T5_END)
		send_tones(r);

	/* a session refresh repeats the keys: the contexts stay */
	if (r->t == T5_UPDATE_AT)
		t5.err_upd = media_leg_update(r->me, 2, &t5.prm_b);

	recv_all(r);

	if (r->t == T5_END) {
		t5.err_a = media_leg_stats(r->me, 1, &t5.st_a);
		t5.err_b = media_leg_stats(r->me, 2, &t5.st_b);
		remove_legs(r, 2);
	}

	rig_wind_down(r, 2, 1, true);
}


static void test_engine_srtp_legs_authenticate_before_latching(void **state)
{
	struct media_leg_params prm_a;
	/* static: a failed assert leaves it for the teardown */
	static struct rig r;
	size_t k;
	(void)state;

	rig_init_ab(&r, 1, false);

	assert_int_equal(0, media_room_add(r.me, 1));
	add_leg_srtp(&r, 1, 1, &prm_a);
	add_leg_srtp(&r, 1, 2, &t5.prm_b);

	rig_run(&r, TICK_MS, t5_tick);
	assert_int_equal(0, t5.err_upd);

	/* the forger's three plain packets failed authentication and
	 * did not latch: A latched to its client, whose packets passed */
	assert_int_equal(0, t5.err_a);
	assert_int_equal(3, t5.st_a.rx_srtp_fail);
	assert_int_equal(0, t5.st_a.rx_dropped_src);
	assert_true(t5.st_a.latched);
	assert_true(t5.st_a.rx_packets > 50);   /* snapshot <= 1 s old */
	assert_int_equal(0, t5.err_b);
	assert_int_equal(0, t5.st_b.rx_srtp_fail);
	assert_true(t5.st_b.rx_packets > 50);

	/* what chorus sent authenticated at the clients, BYE in SRTCP */
	assert_int_equal(0, r.c[0].bad);
	assert_int_equal(0, r.c[1].bad);
	assert_true(r.c[0].srtp_ok > 100);
	assert_true(r.c[0].byes >= 1);
	assert_true(r.c[1].byes >= 1);
	assert_int_equal(0, r.c[0].seq_errors);

	/* minus-one through SRTP, before and after the refresh */
	check_minus_one(&r.c[0], 440, 1000, "A (srtp)");
	check_minus_one(&r.c[1], 1000, 440, "B (srtp)");
	k = (T5_UPDATE_AT + 10) * SAMPLES;
	assert_true(r.c[0].nrec > k + 8000);
	assert_true(share_median(r.c[0].rec + k, 8000, 1000) > 0.5);

	/* D never heard anything */
	assert_int_equal(0, r.c[3].rtp_pkts);

	sdes_crypto_wipe(&prm_a.srtp_tx);
	sdes_crypto_wipe(&prm_a.srtp_rx);
	sdes_crypto_wipe(&t5.prm_b.srtp_tx);
	sdes_crypto_wipe(&t5.prm_b.srtp_rx);
	rig_close(&r);
}


/* ---- test 6: control and re-INVITE updates at frame boundaries -------- */

enum {
	T6_MUTE_A = 50, T6_UNMUTE_A = 100, T6_NEWADDR_C = 150,
	T6_DEAF_A = 200, T6_END = 250,
};

static struct {
	struct media_leg_params prm_a, prm_b, prm_c;
	size_t c_at[5];            /**< C's samples at the phase changes */
	unsigned a_pkts_at_deaf;
	int err[6];
} t6;


static void t6_tick(void *arg)
{
	struct rig *r = arg;
	struct media_leg_params prm;

	tmr_start(&r->tick, TICK_MS, t6_tick, r);
	++r->t;

	if (r->t < T6_END)
		send_tones(r);

	recv_all(r);

	switch (r->t) {

	case T6_MUTE_A:
		t6.c_at[0] = r->c[2].nrec;
		t6.err[0] = media_leg_control(r->me, 1, MEDIA_OP_MUTE, 1);
		break;

	case T6_UNMUTE_A:
		/* A speaks again; B goes on hold (its audio leaves the mix,
		 * it still hears the room) */
		t6.c_at[1] = r->c[2].nrec;
		t6.err[1] = media_leg_control(r->me, 1, MEDIA_OP_MUTE, 0);
		prm = t6.prm_b;
		prm.dir = MEDIA_SEND;
		t6.err[2] = media_leg_update(r->me, 2, &prm);
		break;

	case T6_NEWADDR_C:
		/* C moves to E's address and switches to PCMA */
		t6.c_at[2] = r->c[2].nrec;
		prm = t6.prm_c;
		prm.raddr_rtp = r->c[4].addr;
		prm.raddr_rtcp = r->c[4].addr;
		codec_fmt_default(&prm.codec, CODEC_PCMA);
		r->c[4].expect_pt = 8;
		t6.err[3] = media_leg_update(r->me, 3, &prm);
		break;

	case T6_DEAF_A:
		/* A only talks: we stop sending to it */
		t6.a_pkts_at_deaf = r->c[0].rtp_pkts;
		prm = t6.prm_a;
		prm.dir = MEDIA_RECV;
		t6.err[4] = media_leg_update(r->me, 1, &prm);
		break;

	case T6_END:
		remove_legs(r, 3);
		break;
	}

	rig_wind_down(r, 3, 1, false);
}


static void test_engine_control_and_updates_apply_between_frames(void **state)
{
	/* a settle margin after each change: ramps, jitter buffer */
	const size_t settle = 10 * SAMPLES;
	/* static: a failed assert leaves it for the teardown */
	static struct rig r;
	size_t from, len;
	unsigned i;
	(void)state;

	rig_init_ab(&r, 1, false);

	assert_int_equal(0, media_room_add(r.me, 1));
	memset(&t6, 0, sizeof(t6));
	add_leg_prm(&r, 1, 1, true, &t6.prm_a);
	add_leg_prm(&r, 1, 2, true, &t6.prm_b);
	add_leg_prm(&r, 1, 3, true, &t6.prm_c);

	rig_run(&r, TICK_MS, t6_tick);
	for (i = 0; i < 5; i++)
		assert_int_equal(0, t6.err[i]);

	/* A muted: C hears B only */
	from = t6.c_at[0] + settle;
	len = t6.c_at[1] - from;
	print_message("C, A muted: 440 %.4f 1000 %.4f\n",
		      share_median(r.c[2].rec + from, len, 440),
		      share_median(r.c[2].rec + from, len, 1000));
	assert_true(share_max(r.c[2].rec + from, len, 440) < 0.01);
	assert_true(share_median(r.c[2].rec + from, len, 1000) > 0.5);

	/* A back, B on hold: C hears A only */
	from = t6.c_at[1] + settle;
	len = t6.c_at[2] - from;
	print_message("C, B on hold: 440 %.4f 1000 %.4f\n",
		      share_median(r.c[2].rec + from, len, 440),
		      share_median(r.c[2].rec + from, len, 1000));
	assert_true(share_median(r.c[2].rec + from, len, 440) > 0.5);
	assert_true(share_max(r.c[2].rec + from, len, 1000) < 0.01);

	/* B on hold still hears A */
	assert_true(share_median(r.c[1].rec + t6.c_at[1] + settle, 8000, 440)
		    > 0.5);

	/* C's stream moved to E's address, in PCMA, same RTP stream */
	assert_int_equal(0, r.c[2].pt_errors);
	assert_true(r.c[2].nrec <= t6.c_at[2] + 3 * SAMPLES);
	assert_true(r.c[4].rtp_pkts > 50);
	assert_int_equal(0, r.c[4].pt_errors);
	assert_int_equal(r.c[2].rx_ssrc, r.c[4].rx_ssrc);
	assert_int_equal((uint16_t)(r.c[2].last_seq + 1),
			 (uint16_t)(r.c[4].last_seq - r.c[4].rtp_pkts + 1));
	print_message("E (PCMA): 440 %.4f\n",
		      share_median(r.c[4].rec + settle, 4800, 440));
	assert_true(share_median(r.c[4].rec + settle, 4800, 440) > 0.5);

	/* A receive-only from our side: nothing sent to it after that */
	assert_true(r.c[0].rtp_pkts <= t6.a_pkts_at_deaf + 3);

	rig_close(&r);
}


/* ---- test 7: join and leave tones -------------------------------------- */

enum { T7_JOIN = 40, T7_LEAVE = 90, T7_END = 130, TONE_HZ = 660 };

static struct {
	size_t a_at_join, a_at_leave;
	int err_join;
} t7;


static void t7_tick(void *arg)
{
	struct rig *r = arg;

	tmr_start(&r->tick, TICK_MS, t7_tick, r);
	++r->t;

	recv_all(r);

	if (r->t == T7_JOIN) {
		struct media_leg_params prm;

		t7.a_at_join = r->c[0].nrec;
		memset(&prm, 0, sizeof(prm));
		add_leg_prm(r, 1, 2, true, &prm);
	}

	if (r->t == T7_LEAVE) {
		t7.a_at_leave = r->c[0].nrec;
		CHECK(r, 0 == media_leg_remove(r->me, 2));
	}

	if (r->t == T7_END)
		remove_legs(r, 1);

	rig_wind_down(r, 2, 1, false);
}


/* 20 ms blocks of x[0..n) in which the tone dominates */
static unsigned tone_blocks(const int16_t *x, size_t n, double f)
{
	unsigned k, cnt = 0;

	for (k = 0; (k + 1) * SAMPLES <= n; k++)
		if (tone_share(x + k * SAMPLES, SAMPLES, f) > 0.5)
			++cnt;

	return cnt;
}


static void test_engine_join_and_leave_tones(void **state)
{
	/* static: a failed assert leaves it for the teardown */
	static struct rig r;
	unsigned before, join, leave, b_own;
	(void)state;

	rig_join_tones = true;
	assert_int_equal(0, rig_init(&r, 1, false));
	rig_join_tones = false;

	/* nobody talks: all that is heard is the tones */
	assert_int_equal(0, media_room_add(r.me, 1));
	add_leg(&r, 1, 1, true);

	rig_run(&r, TICK_MS, t7_tick);

	before = tone_blocks(r.c[0].rec, t7.a_at_join, TONE_HZ);
	join = tone_blocks(r.c[0].rec + t7.a_at_join,
			   t7.a_at_leave - t7.a_at_join, TONE_HZ);
	leave = tone_blocks(r.c[0].rec + t7.a_at_leave,
			    r.c[0].nrec - t7.a_at_leave, TONE_HZ);
	b_own = tone_blocks(r.c[1].rec, r.c[1].nrec, TONE_HZ);
	print_message("tone blocks: before %u join %u leave %u, joiner %u\n",
		      before, join, leave, b_own);

	/* 120 ms beep = ~6 blocks (edges are faded) */
	assert_int_equal(0, before);
	assert_true(join >= 3 && join <= 7);
	assert_true(leave >= 3 && leave <= 7);
	/* the joiner does not hear its own arrival */
	assert_int_equal(0, b_own);

	rig_close(&r);
}


/* ---- test 8: RTCP sender reports --------------------------------------- */

enum { T8_SR_AT = 20, T8_END = 100 };

static uint16_t t8_seq_at_sr;


static void t8_tick(void *arg)
{
	struct rig *r = arg;

	tmr_start(&r->tick, TICK_MS, t8_tick, r);
	++r->t;

	if (r->t < T8_END)
		send_tones(r);

	if (r->t == T8_SR_AT) {
		struct cli *a = &r->c[0];
		struct rtcpx_sr sr = { a->ssrc, 0x12345678, 0x9abcdef0,
				       a->ts, 20, 20 * SAMPLES };
		uint8_t buf[256];
		size_t n;

		n = rtcpx_encode_sr(buf, sizeof(buf), &sr, NULL);
		n += rtcpx_encode_sdes(buf + n, sizeof(buf) - n, a->ssrc,
				       "alice@test");
		t8_seq_at_sr = a->seq;
		(void)sendto(a->fd, buf, n, 0, &a->leg_addr.u.sa,
			     a->leg_addr.len);
	}

	recv_all(r);

	if (r->t == T8_END) {
		remove_legs(r, 2);
	}

	rig_wind_down(r, 2, 1, false);
}


/* a pair was bound (offer with fallback) but rtcp-mux was agreed */
static void add_leg_pair_muxed(struct rig *r, uint32_t room, uint32_t id)
{
	struct media_leg_params prm;
	struct media_sock ms;
	struct sa laddr;
	struct cli *c = &r->c[id - 1];

	assert_int_equal(0, sa_set_str(&laddr, "127.0.0.1", 0));
	assert_int_equal(0, media_sock_alloc(r->me, &ms, &laddr, false));
	assert_true(ms.fd_rtcp >= 0);
	c->leg_addr = ms.laddr_rtp;
	leg_prm(&prm, c, true);
	assert_int_equal(0, media_leg_add(r->me, room, id, &ms, &prm));
}


static void test_engine_rtcp_reports_answer_our_sr(void **state)
{
	const struct cli *a;
	/* static: a failed assert leaves it for the teardown */
	static struct rig r;
	(void)state;

	rig_rtcp_ms = 400;
	assert_int_equal(0, rig_init(&r, 1, false));
	rig_rtcp_ms = 0;
	r.c[0].freq = 440;
	r.c[1].freq = 1000;

	assert_int_equal(0, media_room_add(r.me, 1));
	add_leg_pair_muxed(&r, 1, 1);
	add_leg(&r, 1, 2, true);

	rig_run(&r, TICK_MS, t8_tick);

	a = &r.c[0];
	/* ~2 s at a 0.2..0.6 s interval */
	print_message("A got %u RTCP, %u SR, %u RTP, %u bad\n", a->rtcp_pkts,
		      a->srs, a->rtp_pkts, a->bad);
	assert_true(a->srs >= 3);
	assert_true(a->have_reply);

	/* we send, so it is an SR about our stream ... */
	assert_true(a->reply.has_sr);
	assert_int_equal(a->rx_ssrc, a->reply.sr.ssrc);
	assert_true(a->reply.sr.psent > 10);
	assert_int_equal(a->reply.sr.osent, a->reply.sr.psent * SAMPLES);
	assert_true(a->reply.has_cname);
	assert_string_equal("chorus@test", a->reply.cname);

	/* ... with a block about A's stream that answers A's SR */
	assert_int_equal(a->ssrc, a->reply.rb.ssrc);
	assert_int_equal(0x56789abc, a->reply.rb.lsr);
	/* DLSR is counted from the tick that read the SR: it may be 0
	 * when the report went out in that same tick */
	assert_true(a->reply.rb.dlsr < 2 * 65536);
	assert_int_equal(0, a->reply.rb.lost);
	assert_int_equal(0, a->reply.rb.fraction);
	/* highest seq: at least the last one before our SR (same socket,
	 * read in order), and none we had not sent when it arrived */
	assert_true(rtph_seq_diff((uint16_t)a->reply.rb.ext_seq,
				  t8_seq_at_sr) >= -1);
	assert_true(rtph_seq_diff((uint16_t)a->reply.rb.ext_seq,
				  a->reply_seq) < 0);

	rig_close(&r);
}


/* ---- test 9: a room outgrows its mixer ---------------------------------- */

enum { T9_END = 110 };


static void t9_tick(void *arg)
{
	struct rig *r = arg;
	unsigned i;

	tmr_start(&r->tick, TICK_MS, t9_tick, r);
	++r->t;

	if (r->t < T9_END)
		send_tones(r);

	recv_all(r);

	if (r->t == T9_END) {
		static const uint32_t legs[] = { 1, 2, 3, 5, 6 };

		for (i = 0; i < ARRAY_SIZE(legs); i++)
			CHECK(r, 0 == media_leg_remove(r->me, legs[i]));
		r->phase = 1;
	}

	rig_wind_down(r, 5, 1, false);
}


static void test_engine_room_grows_beyond_capacity(void **state)
{
	struct media_worker_stats ws;
	/* static: a failed assert leaves it for the teardown */
	static struct rig r;
	(void)state;

	rig_init_ab(&r, 1, false);

	/* a mixer for two legs; five join (it doubles twice) */
	assert_int_equal(0, media_room_add2(r.me, 1, 2));
	add_leg(&r, 1, 1, true);
	add_leg(&r, 1, 2, true);
	add_leg(&r, 1, 3, true);
	add_leg(&r, 1, 5, true);
	add_leg(&r, 1, 6, true);

	rig_run(&r, TICK_MS, t9_tick);
	assert_int_equal(5, r.released);

	check_minus_one(&r.c[0], 440, 1000, "A");
	check_minus_one(&r.c[1], 1000, 440, "B");
	assert_true(share_median(r.c[5].rec + 8000, 8000, 440) > 0.2);
	assert_true(share_median(r.c[5].rec + 8000, 8000, 1000) > 0.2);

	assert_int_equal(0, media_worker_stats(r.me, 0, &ws));
	assert_int_equal(0, ws.legs);

	rig_close(&r);
}


/* ---- test 10: destroying a busy engine ---------------------------------- */

static void stop_soon(void *arg)
{
	struct rig *r = arg;

	/* a move between workers is now in flight */
	CHECK(r, 0 == media_leg_move(r->me, 1, 2));
	CHECK(r, 0 == media_leg_control(r->me, 1, MEDIA_OP_DEAF, 1));
	re_cancel();
}


static void test_engine_destroy_with_live_rooms_and_moving_leg(void **state)
{
	/* static: a failed assert leaves it for the teardown */
	static struct rig r;
	(void)state;

	assert_int_equal(0, rig_init(&r, 2, false));
	assert_int_equal(0, media_room_add(r.me, 1));
	add_leg(&r, 1, 1, true);
	add_leg(&r, 1, 2, true);
	assert_int_equal(0, media_room_add(r.me, 2));
	add_leg(&r, 2, 3, true);

	rig_run(&r, 300, stop_soon);

	/* no remove: the engine must close every socket and free every
	 * leg, room and command wherever it is (LeakSanitizer checks) */
	rig_close(&r);
}


/* ---- test 11: garbage does not hurt a call ------------------------------ */

enum { T11_FLOOD_AT = 30, T11_FLOOD_TICKS = 10, T11_END = 150 };

static struct {
	struct media_leg_stats st_a;
	int err_a;
	size_t b_at_clean;
	uint32_t rng;
} t11;


static uint32_t t11_rand(void)
{
	t11.rng ^= t11.rng << 13;
	t11.rng ^= t11.rng >> 17;
	t11.rng ^= t11.rng << 5;
	return t11.rng;
}


static void garbage(const struct cli *from, const struct sa *to, unsigned n,
		    uint32_t ssrc)
{
	uint8_t buf[1500];
	unsigned k;

	for (k = 0; k < n; k++) {
		size_t len = t11_rand() % sizeof(buf), i;

		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)t11_rand();

		/* half of it looks like RTP v2 with our PTs and SSRC */
		if ((k & 1) && len >= 12) {
			buf[0] = (uint8_t)(0x80 | (buf[0] & 0x3f));
			buf[1] = (uint8_t)((buf[1] & 0x80) |
					   ((k & 2) ? 0 : 101));
			buf[8] = (uint8_t)(ssrc >> 24);
			buf[9] = (uint8_t)(ssrc >> 16);
			buf[10] = (uint8_t)(ssrc >> 8);
			buf[11] = (uint8_t)ssrc;
		}

		(void)sendto(from->fd, buf, len, 0, &to->u.sa, to->len);
	}
}


static void t11_tick(void *arg)
{
	struct rig *r = arg;

	tmr_start(&r->tick, TICK_MS, t11_tick, r);
	++r->t;

	if (r->t < T11_END)
		send_tones(r);

	/* from A's own (latched) address, and from a stranger */
	if (r->t >= T11_FLOOD_AT && r->t < T11_FLOOD_AT + T11_FLOOD_TICKS) {
		garbage(&r->c[0], &r->c[0].leg_addr, 20, r->c[0].ssrc);
		garbage(&r->c[3], &r->c[0].leg_addr, 40, r->c[0].ssrc);
	}

	recv_all(r);

	if (r->t == T11_FLOOD_AT + T11_FLOOD_TICKS)
		t11.b_at_clean = r->c[1].nrec;

	if (r->t == T11_END) {
		t11.err_a = media_leg_stats(r->me, 1, &t11.st_a);
		remove_legs(r, 2);
	}

	rig_wind_down(r, 2, 1, false);
}


static void test_engine_garbage_flood_keeps_the_call(void **state)
{
	/* static: a failed assert leaves it for the teardown */
	static struct rig r;
	size_t from;
	double s440;
	(void)state;

	rig_init_ab(&r, 1, false);
	t11.rng = 0xc0ffee;

	assert_int_equal(0, media_room_add(r.me, 1));
	add_leg(&r, 1, 1, true);
	add_leg(&r, 1, 2, true);

	rig_run(&r, TICK_MS, t11_tick);

	assert_int_equal(0, t11.err_a);
	print_message("A after garbage: malformed %llu pt %llu src %llu\n",
		      (unsigned long long)t11.st_a.rx_malformed,
		      (unsigned long long)t11.st_a.rx_dropped_pt,
		      (unsigned long long)t11.st_a.rx_dropped_src);
	{
		struct media_worker_stats ws;

		assert_int_equal(0, media_worker_stats(r.me, 0, &ws));
		print_message("worker: late %llu resyncs %llu max %u us\n",
			      (unsigned long long)ws.late_ticks,
			      (unsigned long long)ws.resyncs, ws.max_tick_us);
	}
	assert_true(t11.st_a.rx_malformed > 0);
	assert_true(t11.st_a.rx_dropped_src > 0);
	assert_true(t11.st_a.latched);

	/* B hears A again after the flood (1 s to settle) */
	from = t11.b_at_clean + 8000;
	assert_true(r.c[1].nrec >= from + 8000);
	s440 = share_median(r.c[1].rec + from, 8000, 440);
	print_message("B after the flood: 440 %.4f\n", s440);
	assert_true(s440 > 0.5);
	assert_true(share_max(r.c[1].rec + from, 8000, 1000) < 0.01);

	rig_close(&r);
}


/* ---- test 12: IPv6 legs, DSCP ------------------------------------------- */

static void cli_reopen6(struct cli *c)
{
	struct sockaddr_in6 sin6;
	socklen_t len = sizeof(sin6);

	close(c->fd);
	c->fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(c->fd >= 0);

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	assert_int_equal(0, bind(c->fd, (struct sockaddr *)&sin6,
				 sizeof(sin6)));
	assert_int_equal(0, getsockname(c->fd, (struct sockaddr *)&sin6,
					&len));
	assert_int_equal(0, sa_set_sa(&c->addr, (struct sockaddr *)&sin6));
}


enum { T12_END = 110 };


static void t12_tick(void *arg)
{
	struct rig *r = arg;

	tmr_start(&r->tick, TICK_MS, t12_tick, r);
	++r->t;

	if (r->t < T12_END)
		send_tones(r);

	recv_all(r);

	if (r->t == T12_END) {
		remove_legs(r, 2);
	}

	rig_wind_down(r, 2, 1, false);
}


static void test_engine_ipv6_leg_with_ipv4_leg_and_dscp(void **state)
{
	/* static: a failed assert leaves it for the teardown */
	static struct rig r;
	struct media_leg_params prm;
	struct media_sock ms;
	struct sa l6;
	int v = 0;
	socklen_t vl = sizeof(v);
	(void)state;

	rig_init_ab(&r, 1, false);

	/* RTP sockets carry DSCP 46 (EF) in the traffic class */
	assert_int_equal(0, sa_set_str(&l6, "::1", 0));
	assert_int_equal(0, media_sock_alloc(r.me, &ms, &l6, false));
	assert_int_equal(AF_INET6, sa_af(&ms.laddr_rtp));
	assert_int_equal(0, getsockopt(ms.fd_rtp, IPPROTO_IPV6, IPV6_TCLASS,
				       &v, &vl));
	assert_int_equal(46 << 2, v);
	media_sock_close(&ms);

	/* A talks over IPv6, B over IPv4, in one room */
	cli_reopen6(&r.c[0]);
	assert_int_equal(0, media_room_add(r.me, 1));
	assert_int_equal(0, media_sock_alloc(r.me, &ms, &l6, true));
	r.c[0].leg_addr = ms.laddr_rtp;
	leg_prm(&prm, &r.c[0], true);
	assert_int_equal(0, media_leg_add(r.me, 1, 1, &ms, &prm));
	add_leg(&r, 1, 2, true);

	rig_run(&r, TICK_MS, t12_tick);

	check_minus_one(&r.c[0], 440, 1000, "A (IPv6)");
	check_minus_one(&r.c[1], 1000, 440, "B (IPv4)");

	rig_close(&r);
}


static void test_engine_ipv4_dscp(void **state)
{
	struct media_engine *me;
	struct media_cfg cfg;
	struct media_sock ms;
	struct sa l4;
	int v = 0;
	socklen_t vl = sizeof(v);
	unsigned base = 10000 + (unsigned)(getpid() % 500) * 40 + 20;
	(void)state;

	memset(&cfg, 0, sizeof(cfg));
	cfg.workers = 1;
	cfg.rtp_port_min = (uint16_t)base;
	cfg.rtp_port_max = (uint16_t)(base + 9);
	cfg.dscp_rtp = 34;   /* AF41 */
	assert_int_equal(0, media_engine_alloc(&me, &cfg, NULL, NULL));
	assert_int_equal(0, sa_set_str(&l4, "127.0.0.1", 0));
	assert_int_equal(0, media_sock_alloc(me, &ms, &l4, false));
	assert_int_equal(0, getsockopt(ms.fd_rtp, IPPROTO_IP, IP_TOS, &v,
				       &vl));
	assert_int_equal(34 << 2, v);
	vl = sizeof(v);
	assert_int_equal(0, getsockopt(ms.fd_rtcp, IPPROTO_IP, IP_TOS, &v,
				       &vl));
	assert_int_equal(34 << 2, v);
	media_sock_close(&ms);
	mem_deref(me);
}


/* after a failed assert: stop the engine and close the sockets, so the
 * next test starts clean instead of failing along */
static int test_teardown(void **state)
{
	(void)state;

	if (cur_rig)
		rig_close(cur_rig);

	return 0;
}


#define T(f) cmocka_unit_test_teardown(f, test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_engine_port_range_round_robin_and_exhaustion),
		T(test_engine_room_of_three_minus_one),
		T(test_engine_move_between_workers),
		T(test_engine_listeners_share_one_encoder),
		T(test_engine_listeners_encode_per_leg_when_asked),
		T(test_engine_srtp_legs_authenticate_before_latching),
		T(test_engine_control_and_updates_apply_between_frames),
		T(test_engine_join_and_leave_tones),
		T(test_engine_rtcp_reports_answer_our_sr),
		T(test_engine_room_grows_beyond_capacity),
		T(test_engine_destroy_with_live_rooms_and_moving_leg),
		T(test_engine_garbage_flood_keeps_the_call),
		T(test_engine_ipv6_leg_with_ipv4_leg_and_dscp),
		T(test_engine_ipv4_dscp),
	};

	/* e.g. TEST_FILTER='*rtcp*' to run one test in a loop */
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));

	return cmocka_run_group_tests(tests, tu_libre_init, tu_libre_close);
}
