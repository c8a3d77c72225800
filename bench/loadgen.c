/**
 * @file loadgen.c  SIP/RTP load generator for chorusd: N legs into one room
 *
 * One process, N SIP dialogs (libre sipsess, UAC, SDP offer in the INVITE)
 * to one room of a chorusd on the loopback interface, each leg with its own
 * UDP RTP socket (rtcp-mux offered). Every 20 ms, on an absolute
 * CLOCK_MONOTONIC deadline, every connected leg sends one real packet
 * ("everyone talking"): the audio is synthesised and encoded once at
 * start-up (libopus, G.722 from spandsp, G.711 u-law) into loops of
 * pre-encoded frames, so the generator's own CPU cost stays low. What the
 * daemon sends back is counted per leg; leg 0's stream is decoded as a
 * sanity check that the mix is not silence.
 *
 * Threads: the libre thread (re_main) owns every libre object (SIP, the
 * dialogs, timers); one media thread owns the RTP clock, sends and drains
 * the plain socket fds. They share the leg array: the libre thread fills a
 * leg's remote address and then publishes it with an atomic state store
 * (release); the media thread only touches legs it has seen in LEG_MEDIA.
 * Counters are written by the media thread only and read after it joined.
 *
 * Bounded on purpose: N <= 2000, window <= 600 s, loopback addresses only
 * (the server and every media address in its answers).
 *
 *   loadgen -s 127.0.0.1:5060 -r 1000 -n 20 -t 30 [-c opus|pcmu|g722]
 */
/* recvmmsg */
#define _GNU_SOURCE 1
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <re.h>
#include <opus/opus.h>
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
#include <spandsp/g722.h>


enum {
	MAX_LEGS      = 2000,     /* hard bound of the tool               */
	MAX_SECONDS   = 600,      /* longest measurement window           */
	PTIME_MS      = 20,
	TICKS_PER_S   = 1000 / PTIME_MS,
	NVAR          = 6,        /* distinct signals, leg i uses i % NVAR */
	LOOP_FRAMES   = 150,      /* 3 s of audio per signal, looped      */
	MAX_PAYLOAD   = 400,
	RTP_HDR       = 12,
	RX_BATCH      = 8,        /* recvmmsg batch per drain call         */
	PT_OPUS       = 111,
	OPUS_BITRATE  = 32000,
	SIP_HTSIZE    = 2048,
	BYE_WAIT_MS   = 5000,     /* bound on the wait for BYE answers    */
	CALL_TICK_MS  = 10,       /* call pacing timer                    */
};

enum leg_state {
	LEG_IDLE = 0,
	LEG_INVITING,
	LEG_MEDIA,                /* answer received: send and count      */
	LEG_FAILED,               /* never connected                      */
	LEG_CLOSED,               /* connected, then closed by the server */
};

enum phase {
	PH_SETUP = 0,             /* calls being set up; media already runs */
	PH_WINDOW,                /* measurement window                   */
	PH_STOP,                  /* media thread leaves                   */
};

struct codec_desc {
	const char *name;
	const char *rtpmap;       /* SDP encoding name/clock[/channels]   */
	uint8_t pt;
	unsigned srate;           /* audio sample rate                    */
	uint32_t ts_step;         /* RTP timestamp per 20 ms              */
};

static const struct codec_desc codecs[] = {
	{"opus", "opus/48000/2", PT_OPUS, 48000, 960},
	{"pcmu", "PCMU/8000",    0,       8000,  160},
	{"g722", "G722/8000",    9,       16000, 160},
};

struct leg {
	/* libre thread until published by state = LEG_MEDIA */
	struct sipsess *sess;
	struct sockaddr_storage raddr;
	socklen_t raddr_len;
	uint16_t lport;
	int fd;
	_Atomic int state;
	uint16_t scode;           /* final failure status, 0 = none       */
	int close_err;

	/* media thread only */
	uint32_t ssrc, ts;
	uint16_t seq;
	unsigned var, pos;
	bool started;
	uint64_t tx, rx, rx_rtcp, rx_win, tx_win;
	bool rx_seen;
	uint16_t rx_max_seq;
	uint32_t rx_cycles;
	uint16_t rx_base_seq;
};

struct frames {
	uint8_t data[NVAR][LOOP_FRAMES][MAX_PAYLOAD];
	uint16_t len[NVAR][LOOP_FRAMES];
};

static struct {
	/* options */
	struct sa server;
	char room[32];
	unsigned nrooms;          /* legs spread over room, room+1, ...  */
	unsigned nlegs;
	unsigned seconds;
	unsigned settle_s;
	unsigned setup_timeout_s;
	unsigned rate;
	const struct codec_desc *codec;
	bool per_leg;
	bool quiet;
	bool no_fec;              /* offer Opus without useinbandfec=1     */

	/* libre thread */
	struct sip *sip;
	struct sipsess_sock *sock;
	struct sa laddr;
	struct tmr tmr_call, tmr_phase, tmr_setup, tmr_exit;
	unsigned next_call;
	double call_credit;
	unsigned connected, failed, closed;
	uint64_t t_start_us, t_all_us;
	bool all_done;
	bool ending;

	/* shared */
	struct leg *legs;
	struct frames *frames;
	_Atomic int phase;

	/* media thread */
	pthread_t thr;
	bool thr_running;
	uint64_t ticks, late_ticks, win_ticks;
	uint64_t win_start_us, win_end_us;
	struct timespec cpu_proc0, cpu_proc1, cpu_thr0, cpu_thr1;
	OpusDecoder *dec;
	g722_decode_state_t *g722dec;
	double sample_sumsq;
	uint64_t sample_n, sample_frames, sample_loud_frames;
} g;


static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}


static double ts_diff_s(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
		(double)(b->tv_nsec - a->tv_nsec) / 1e9;
}


/* ---- audio: synthesise and pre-encode -------------------------------- */

/*
 * Speech-like: a glottal pulse train (harmonics of a wandering f0, falling
 * 1/k with two formant bumps) under a syllable envelope that never goes
 * fully quiet (everyone keeps talking), plus a little noise. Variants 0 and
 * 1 are steady two-tone chords, easy to recognise in a recording.
 */
static void synth(int16_t *pcm, size_t n, unsigned srate, unsigned var)
{
	const double two_pi = 2.0 * M_PI;
	const double f0_base = 100.0 + 25.0 * var;
	const double syl_hz = 3.0 + 0.4 * var;
	double phase = 0.0;
	uint32_t rnd = 0x1234567u + var * 7919u;

	for (size_t i = 0; i < n; i++) {
		const double t = (double)i / srate;
		double v = 0.0;

		if (var < 2) {
			const double f1 = var ? 523.25 : 440.0;

			v = 0.35 * sin(two_pi * f1 * t) +
				0.2 * sin(two_pi * f1 * 1.5 * t);
		}
		else {
			const double f0 = f0_base *
				(1.0 + 0.12 * sin(two_pi * 0.7 * t) +
				 0.05 * sin(two_pi * 5.3 * t));
			const double env = 0.45 + 0.55 *
				fabs(sin(M_PI * syl_hz * t));
			const double nyq = srate / 2.0 - 200.0;

			phase += two_pi * f0 / srate;
			if (phase > two_pi * 1000.0)
				phase -= two_pi * 1000.0;

			for (unsigned k = 1; k * f0 < nyq && k <= 40; k++) {
				const double fk = k * f0;
				/* formants near 500-700 Hz and 1500-1800 Hz */
				const double fm1 = 500.0 + 60.0 * var;
				const double fm2 = 1500.0 + 80.0 * var;
				const double a = 1.0 / k *
					(1.0 + 2.0 * exp(-pow((fk - fm1) / 200.0,
							      2)) +
					 1.2 * exp(-pow((fk - fm2) / 300.0,
							2)));

				v += a * sin(phase * k);
			}

			rnd = rnd * 1664525u + 1013904223u;
			v = env * (0.12 * v + 0.02 *
				   ((double)(rnd >> 8) / 8388608.0 - 1.0));
		}

		if (v > 0.95)
			v = 0.95;
		if (v < -0.95)
			v = -0.95;
		pcm[i] = (int16_t)lrint(v * 32767.0);
	}
}


static int frames_encode(struct frames *fr, const struct codec_desc *cd)
{
	const size_t spf = cd->srate * PTIME_MS / 1000;  /* samples/frame */
	const size_t n = spf * LOOP_FRAMES;
	int16_t *pcm = malloc(n * sizeof(*pcm));
	int err = 0;

	if (!pcm)
		return ENOMEM;

	for (unsigned v = 0; v < NVAR && !err; v++) {
		OpusEncoder *enc = NULL;
		g722_encode_state_t *g722 = NULL;
		int oerr;

		synth(pcm, n, cd->srate, v);

		if (cd->pt == PT_OPUS) {
			enc = opus_encoder_create(48000, 1,
						  OPUS_APPLICATION_VOIP,
						  &oerr);
			if (!enc) {
				err = ENOMEM;
				break;
			}
			opus_encoder_ctl(enc, OPUS_SET_BITRATE(OPUS_BITRATE));
			opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(10));
			opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
			opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(5));
		}
		else if (cd->pt == 9) {
			g722 = g722_encode_init(NULL, 64000, 0);
			if (!g722) {
				err = ENOMEM;
				break;
			}
		}

		for (unsigned f = 0; f < LOOP_FRAMES; f++) {
			const int16_t *in = pcm + f * spf;
			uint8_t *out = fr->data[v][f];
			int len;

			if (enc) {
				len = opus_encode(enc, in, (int)spf, out,
						  MAX_PAYLOAD);
			}
			else if (g722) {
				len = g722_encode(g722, out, in, (int)spf);
			}
			else {
				for (size_t i = 0; i < spf; i++)
					out[i] = linear_to_ulaw(in[i]);
				len = (int)spf;
			}

			if (len <= 0 || len > MAX_PAYLOAD) {
				fprintf(stderr, "loadgen: encode failed (%d)\n",
					len);
				err = EIO;
				break;
			}
			fr->len[v][f] = (uint16_t)len;
		}

		if (enc)
			opus_encoder_destroy(enc);
		if (g722)
			g722_encode_free(g722);
	}

	free(pcm);
	return err;
}


/* ---- media thread ---------------------------------------------------- */

static void leg_send(struct leg *leg)
{
	uint8_t pkt[RTP_HDR + MAX_PAYLOAD];
	const uint16_t len = g.frames->len[leg->var][leg->pos];

	pkt[0] = 0x80;
	pkt[1] = (uint8_t)(g.codec->pt | (leg->started ? 0 : 0x80));
	pkt[2] = (uint8_t)(leg->seq >> 8);
	pkt[3] = (uint8_t)leg->seq;
	pkt[4] = (uint8_t)(leg->ts >> 24);
	pkt[5] = (uint8_t)(leg->ts >> 16);
	pkt[6] = (uint8_t)(leg->ts >> 8);
	pkt[7] = (uint8_t)leg->ts;
	pkt[8] = (uint8_t)(leg->ssrc >> 24);
	pkt[9] = (uint8_t)(leg->ssrc >> 16);
	pkt[10] = (uint8_t)(leg->ssrc >> 8);
	pkt[11] = (uint8_t)leg->ssrc;
	memcpy(pkt + RTP_HDR, g.frames->data[leg->var][leg->pos], len);

	/* the timestamp runs on even if a send fails: time went by */
	leg->started = true;
	++leg->seq;
	leg->ts += g.codec->ts_step;
	leg->pos = (leg->pos + 1) % LOOP_FRAMES;

	if (sendto(leg->fd, pkt, RTP_HDR + len, 0,
		   (struct sockaddr *)&leg->raddr, leg->raddr_len) < 0)
		return;

	++leg->tx;
}


static void sample_decode(const uint8_t *p, size_t len)
{
	int16_t pcm[960 * 6];
	int n = 0;

	if (g.codec->pt == PT_OPUS) {
		if (!g.dec)
			return;
		n = opus_decode(g.dec, p, (opus_int32)len, pcm, 960 * 6, 0);
	}
	else if (g.codec->pt == 9) {
		if (!g.g722dec || len > 960)
			return;
		n = g722_decode(g.g722dec, pcm, p, (int)len);
	}
	else {
		if (len > 960 * 6)
			return;
		for (size_t i = 0; i < len; i++)
			pcm[i] = ulaw_to_linear(p[i]);
		n = (int)len;
	}

	if (n <= 0)
		return;

	double ss = 0.0;

	for (int i = 0; i < n; i++)
		ss += (double)pcm[i] * pcm[i];

	g.sample_sumsq += ss;
	g.sample_n += (uint64_t)n;
	++g.sample_frames;
	/* louder than -50 dBFS: somebody is audible in the mix */
	if (ss / n > pow(32768.0 * pow(10.0, -50.0 / 20.0), 2))
		++g.sample_loud_frames;
}


static void leg_rx_rtp(struct leg *leg, const uint8_t *p, size_t len,
		       bool inwin, bool sample)
{
	const uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
	size_t hdr = RTP_HDR + 4u * (p[0] & 0x0f);

	++leg->rx;
	if (inwin)
		++leg->rx_win;

	if (!leg->rx_seen) {
		leg->rx_seen = true;
		leg->rx_base_seq = seq;
		leg->rx_max_seq = seq;
	}
	else {
		const uint16_t delta = (uint16_t)(seq - leg->rx_max_seq);

		if (delta && delta < 0x8000) {
			if (seq < leg->rx_max_seq)
				++leg->rx_cycles;
			leg->rx_max_seq = seq;
		}
	}

	if (!sample)
		return;

	if (p[0] & 0x10) {   /* header extension */
		if (len < hdr + 4)
			return;
		hdr += 4 + 4u * (size_t)(p[hdr + 2] << 8 | p[hdr + 3]);
	}
	if (len <= hdr)
		return;
	if (p[0] & 0x20) {   /* padding */
		const size_t pad = p[len - 1];

		if (pad >= len - hdr)
			return;
		len -= pad;
	}

	sample_decode(p + hdr, len - hdr);
}


static void leg_drain(struct leg *leg, bool inwin, bool sample)
{
	static uint8_t buf[RX_BATCH][1500];
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	int n;

	/* bounded: a socket buffer holds a finite number of packets, and we
	 * stop after 64 batches whatever happens */
	for (unsigned round = 0; round < 64; round++) {
		memset(msgs, 0, sizeof(msgs));
		for (unsigned i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = sizeof(buf[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}

		n = recvmmsg(leg->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;

		for (int i = 0; i < n; i++) {
			const uint8_t *p = buf[i];
			const size_t len = msgs[i].msg_len;

			if (len < RTP_HDR || (p[0] >> 6) != 2)
				continue;
			/* rtcp-mux: RTCP packet types 200..206 */
			if ((p[1] & 0x7f) >= 72 && (p[1] & 0x7f) <= 78) {
				++leg->rx_rtcp;
				continue;
			}
			leg_rx_rtp(leg, p, len, inwin, sample);
		}

		if (n < RX_BATCH)
			return;
	}
}


static void *media_main(void *arg)
{
	struct timespec dl;
	int last_phase = PH_SETUP;
	(void)arg;

	clock_gettime(CLOCK_MONOTONIC, &dl);

	for (;;) {
		const int ph = atomic_load_explicit(&g.phase,
						    memory_order_acquire);
		uint64_t start, dlus;
		bool inwin;

		if (ph != last_phase) {
			if (ph == PH_WINDOW) {
				g.win_start_us = now_us();
				clock_gettime(CLOCK_PROCESS_CPUTIME_ID,
					      &g.cpu_proc0);
				clock_gettime(CLOCK_THREAD_CPUTIME_ID,
					      &g.cpu_thr0);
				printf("WINDOW START t=%.3f\n",
				       (g.win_start_us - g.t_start_us) / 1e6);
				fflush(stdout);
			}
			else if (ph == PH_STOP) {
				g.win_end_us = now_us();
				clock_gettime(CLOCK_PROCESS_CPUTIME_ID,
					      &g.cpu_proc1);
				clock_gettime(CLOCK_THREAD_CPUTIME_ID,
					      &g.cpu_thr1);
				if (last_phase == PH_WINDOW) {
					printf("WINDOW END t=%.3f\n",
					       (g.win_end_us - g.t_start_us)
					       / 1e6);
					fflush(stdout);
				}
				break;
			}
			last_phase = ph;
		}

		dl.tv_nsec += PTIME_MS * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_nsec -= 1000000000L;
			dl.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl,
				       NULL) == EINTR)
			;

		start = now_us();
		dlus = (uint64_t)dl.tv_sec * 1000000u +
			(uint64_t)dl.tv_nsec / 1000u;
		++g.ticks;
		if (start > dlus + PTIME_MS * 1000u) {
			++g.late_ticks;
			/* more than 5 frames behind: new schedule, no burst */
			if (start > dlus + 5u * PTIME_MS * 1000u) {
				dl.tv_sec = (time_t)(start / 1000000u);
				dl.tv_nsec = (long)(start % 1000000u) * 1000L;
			}
		}

		inwin = ph == PH_WINDOW;
		if (inwin)
			++g.win_ticks;

		for (unsigned i = 0; i < g.nlegs; i++) {
			struct leg *leg = &g.legs[i];
			const int st = atomic_load_explicit(
				&leg->state, memory_order_acquire);

			if (st != LEG_MEDIA)
				continue;

			leg_send(leg);
			if (inwin)
				++leg->tx_win;
			leg_drain(leg, inwin, i == 0 && inwin);
		}
	}

	return NULL;
}


/* ---- SIP (libre thread) ---------------------------------------------- */

static struct mbuf *offer_mb(const struct leg *leg, unsigned idx)
{
	struct mbuf *mb = mbuf_alloc(512);

	if (!mb)
		return NULL;

	(void)mbuf_printf(mb,
			  "v=0\r\n"
			  "o=loadgen %u 1 IN IP4 127.0.0.1\r\n"
			  "s=loadgen\r\n"
			  "c=IN IP4 127.0.0.1\r\n"
			  "t=0 0\r\n"
			  "m=audio %u RTP/AVP %u\r\n"
			  "a=rtpmap:%u %s\r\n"
			  "%s"
			  "a=ptime:20\r\n"
			  "a=rtcp-mux\r\n"
			  "a=sendrecv\r\n",
			  1000 + idx, leg->lport, g.codec->pt, g.codec->pt,
			  g.codec->rtpmap,
			  g.codec->pt == PT_OPUS && !g.no_fec ?
			  "a=fmtp:111 useinbandfec=1\r\n" : "");
	mb->pos = 0;

	return mb;
}


/* The answer's media address, port and payload type. Loopback only. */
static int answer_parse(struct leg *leg, const struct sip_msg *msg)
{
	struct pl body, line;
	struct sa addr;
	char host[64] = "";
	unsigned port = 0, pt = 256;
	bool rtcp_mux = false;
	const char *p, *end;

	pl_set_mbuf(&body, msg->mb);
	p = body.p;
	end = body.p + body.l;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct pl a, b, c;

		line.p = p;
		line.l = (size_t)((eol ? eol : end) - p);
		if (line.l && line.p[line.l - 1] == '\r')
			--line.l;
		p = eol ? eol + 1 : end;

		if (!re_regex(line.p, line.l, "c=IN IP4 [^ ]+", &a))
			(void)pl_strcpy(&a, host, sizeof(host));
		else if (!re_regex(line.p, line.l,
				   "m=audio [0-9]+ [^ ]+ [0-9]+", &a, &b, &c)) {
			port = pl_u32(&a);
			pt = pl_u32(&c);
		}
		else if (!pl_strcmp(&line, "a=rtcp-mux"))
			rtcp_mux = true;
	}

	if (!port || pt != g.codec->pt || !host[0])
		return EPROTO;
	if (sa_set_str(&addr, host, (uint16_t)port) || !sa_is_loopback(&addr))
		return EPERM;   /* never send media off this machine */
	(void)rtcp_mux;

	memset(&leg->raddr, 0, sizeof(leg->raddr));
	memcpy(&leg->raddr, &addr.u.sa, addr.len);
	leg->raddr_len = addr.len;

	return 0;
}


static void setup_check_done(void);


static int leg_answer_h(const struct sip_msg *msg, void *arg)
{
	struct leg *leg = arg;
	int err;

	if (atomic_load(&leg->state) != LEG_INVITING)
		return 0;

	err = answer_parse(leg, msg);
	if (err) {
		fprintf(stderr, "loadgen: leg %u: unusable SDP answer (%s)\n",
			(unsigned)(leg - g.legs), strerror(err));
		return err;
	}

	atomic_store_explicit(&leg->state, LEG_MEDIA, memory_order_release);
	++g.connected;
	setup_check_done();

	return 0;
}


/* A re-offer from the server: answer with the same offer. */
static int leg_offer_h(struct mbuf **descp, const struct sip_msg *msg,
		       void *arg)
{
	struct leg *leg = arg;
	(void)msg;

	*descp = offer_mb(leg, (unsigned)(leg - g.legs));

	return *descp ? 0 : ENOMEM;
}


static void leg_estab_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
}


static void leg_close_h(int err, const struct sip_msg *msg, void *arg)
{
	struct leg *leg = arg;
	const int st = atomic_load(&leg->state);

	leg->close_err = err;
	if (msg && !msg->req)
		leg->scode = msg->scode;

	if (st == LEG_MEDIA) {
		atomic_store(&leg->state, LEG_CLOSED);
		++g.closed;
		if (!g.ending)
			fprintf(stderr, "loadgen: leg %u closed by server "
				"(%s, %u)\n", (unsigned)(leg - g.legs),
				err ? strerror(err) : "final response",
				leg->scode);
	}
	else if (st == LEG_INVITING) {
		atomic_store(&leg->state, LEG_FAILED);
		++g.failed;
		if (!g.quiet)
			fprintf(stderr, "loadgen: leg %u failed: %u %s\n",
				(unsigned)(leg - g.legs), leg->scode,
				err ? strerror(err) : "");
		setup_check_done();
	}

	leg->sess = mem_deref(leg->sess);
}


static int leg_call(unsigned idx)
{
	struct leg *leg = &g.legs[idx];
	struct mbuf *desc;
	char to[128], from[128], cuser[32];
	int err;

	if (g.nrooms > 1)
		re_snprintf(to, sizeof(to), "sip:%lu@%J",
			    strtoul(g.room, NULL, 10) + idx % g.nrooms,
			    &g.server);
	else
		re_snprintf(to, sizeof(to), "sip:%s@%J", g.room, &g.server);
	re_snprintf(from, sizeof(from), "sip:load%u@%J", idx, &g.laddr);
	re_snprintf(cuser, sizeof(cuser), "load%u", idx);

	desc = offer_mb(leg, idx);
	if (!desc)
		return ENOMEM;

	atomic_store(&leg->state, LEG_INVITING);
	err = sipsess_connect(&leg->sess, g.sock, to, "loadgen", from, cuser,
			      NULL, 0, "application/sdp", desc,
			      NULL, NULL, false,
			      leg_offer_h, leg_answer_h, NULL, leg_estab_h,
			      NULL, NULL, leg_close_h, leg, "");
	mem_deref(desc);
	if (err) {
		atomic_store(&leg->state, LEG_FAILED);
		++g.failed;
		fprintf(stderr, "loadgen: leg %u: sipsess_connect: %s\n",
			idx, strerror(err));
	}

	return err;
}


static void phase_window_end(void *arg);


static void phase_window_start(void *arg)
{
	(void)arg;

	atomic_store_explicit(&g.phase, PH_WINDOW, memory_order_release);
	tmr_start(&g.tmr_phase, (uint64_t)g.seconds * 1000,
		  phase_window_end, NULL);
}


static void setup_finish(bool timeout)
{
	if (g.all_done)
		return;
	g.all_done = true;
	g.t_all_us = now_us();
	tmr_cancel(&g.tmr_setup);
	tmr_cancel(&g.tmr_call);

	printf("SETUP %s: %u connected, %u failed in %.2f s\n",
	       timeout ? "TIMEOUT" : "DONE", g.connected, g.failed,
	       (g.t_all_us - g.t_start_us) / 1e6);
	fflush(stdout);

	if (!g.connected) {
		atomic_store(&g.phase, PH_STOP);
		tmr_start(&g.tmr_phase, 0, phase_window_end, NULL);
		return;
	}

	/* let every jitter buffer fill and the daemon settle first */
	tmr_start(&g.tmr_phase, (uint64_t)g.settle_s * 1000,
		  phase_window_start, NULL);
}


static void setup_check_done(void)
{
	if (!g.all_done && g.connected + g.failed >= g.nlegs)
		setup_finish(false);
}


static void setup_timeout(void *arg)
{
	(void)arg;

	/* stop launching; legs still ringing will not be counted */
	for (unsigned i = 0; i < g.nlegs; i++) {
		struct leg *leg = &g.legs[i];
		const int st = atomic_load(&leg->state);

		if (st == LEG_IDLE || st == LEG_INVITING) {
			atomic_store(&leg->state, LEG_FAILED);
			++g.failed;
			leg->sess = mem_deref(leg->sess);
		}
	}
	setup_finish(true);
}


static void call_tick(void *arg)
{
	(void)arg;

	g.call_credit += g.rate * (double)CALL_TICK_MS / 1000.0;

	while (g.call_credit >= 1.0 && g.next_call < g.nlegs) {
		(void)leg_call(g.next_call++);
		g.call_credit -= 1.0;
	}

	if (g.next_call < g.nlegs)
		tmr_start(&g.tmr_call, CALL_TICK_MS, call_tick, NULL);
	else
		setup_check_done();
}


static void exit_h(void *arg)
{
	(void)arg;
	re_cancel();
}


static void exit_timeout(void *arg)
{
	(void)arg;
	fprintf(stderr, "loadgen: BYE answers still missing after %d ms\n",
		BYE_WAIT_MS);
	re_cancel();
}


static void report(void);


static void phase_window_end(void *arg)
{
	(void)arg;

	atomic_store_explicit(&g.phase, PH_STOP, memory_order_release);
	if (g.thr_running) {
		pthread_join(g.thr, NULL);
		g.thr_running = false;
	}

	report();

	/* BYE everyone; wait (bounded) for the transactions to finish */
	g.ending = true;
	for (unsigned i = 0; i < g.nlegs; i++)
		g.legs[i].sess = mem_deref(g.legs[i].sess);

	tmr_start(&g.tmr_exit, BYE_WAIT_MS, exit_timeout, NULL);
	sip_close(g.sip, false);
}


/* ---- report ---------------------------------------------------------- */

static void report(void)
{
	/* no window when no leg connected */
	const double win_s = g.win_start_us && g.win_end_us > g.win_start_us ?
		(g.win_end_us - g.win_start_us) / 1e6 : 0.0;
	uint64_t tx = 0, rx = 0, rx_win = 0, tx_win = 0, rtcp = 0;
	uint64_t rx_min = UINT64_MAX, rx_max = 0, seq_lost = 0;
	unsigned nmedia = 0;
	struct rusage ru;
	double level_db = -120.0;

	getrusage(RUSAGE_SELF, &ru);

	for (unsigned i = 0; i < g.nlegs; i++) {
		const struct leg *leg = &g.legs[i];
		const int st = atomic_load(&leg->state);

		if (st != LEG_MEDIA && st != LEG_CLOSED)
			continue;
		++nmedia;
		tx += leg->tx;
		rx += leg->rx;
		tx_win += leg->tx_win;
		rx_win += leg->rx_win;
		rtcp += leg->rx_rtcp;
		if (leg->rx_win < rx_min)
			rx_min = leg->rx_win;
		if (leg->rx_win > rx_max)
			rx_max = leg->rx_win;
		if (leg->rx_seen) {
			const uint64_t ext = (uint64_t)leg->rx_cycles * 65536u
				+ leg->rx_max_seq;
			const uint64_t exp = ext - leg->rx_base_seq + 1;

			if (exp > leg->rx)
				seq_lost += exp - leg->rx;
		}
	}
	if (!nmedia)
		rx_min = 0;

	/* a daemon that keeps up sends one frame per leg per 20 ms of wall
	 * clock (not per tick of ours: a late loadgen tick is our problem) */
	const uint64_t expected = (uint64_t)llround(win_s * TICKS_PER_S) *
		nmedia;
	const double loss = expected ?
		100.0 * (1.0 - (double)rx_win / (double)expected) : 0.0;
	const double cpu_proc = ts_diff_s(&g.cpu_proc0, &g.cpu_proc1);
	const double cpu_thr = ts_diff_s(&g.cpu_thr0, &g.cpu_thr1);

	if (g.sample_n)
		level_db = 10.0 * log10(g.sample_sumsq / g.sample_n /
					(32768.0 * 32768.0) + 1e-12);

	fflush(stdout);
	(void)re_printf("loadgen: server %J room %s (%u rooms) codec %s\n",
			&g.server, g.room, g.nrooms, g.codec->name);
	printf("legs: requested %u connected %u failed %u closed-by-server "
	       "%u\n", g.nlegs, g.connected, g.failed, g.closed);
	printf("setup: %.2f s; window %.2f s (%llu ticks), loadgen late "
	       "ticks %llu of %llu\n",
	       (g.t_all_us - g.t_start_us) / 1e6, win_s,
	       (unsigned long long)g.win_ticks,
	       (unsigned long long)g.late_ticks,
	       (unsigned long long)g.ticks);
	printf("sent: %llu RTP packets (%llu in window, %.1f per leg)\n",
	       (unsigned long long)tx, (unsigned long long)tx_win,
	       nmedia ? (double)tx_win / nmedia : 0.0);
	printf("received: %llu RTP (+%llu RTCP); in window %llu of %llu "
	       "expected, per leg min %llu max %llu, receive loss %.3f %%, "
	       "sequence gaps %llu\n",
	       (unsigned long long)rx, (unsigned long long)rtcp,
	       (unsigned long long)rx_win, (unsigned long long)expected,
	       (unsigned long long)rx_min, (unsigned long long)rx_max,
	       loss, (unsigned long long)seq_lost);
	printf("sample (leg 0 decoded): %llu frames, level %.1f dBFS, "
	       "%.1f %% frames audible\n",
	       (unsigned long long)g.sample_frames, level_db,
	       g.sample_frames ? 100.0 * g.sample_loud_frames /
	       g.sample_frames : 0.0);
	printf("loadgen cpu: window %.2f s process (%.1f %% of one core), "
	       "media thread %.2f s; whole run user %.2f s sys %.2f s\n",
	       cpu_proc, win_s > 0 ? 100.0 * cpu_proc / win_s : 0.0, cpu_thr,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);

	if (g.per_leg) {
		printf("%6s %6s %8s %8s %8s %6s %6s\n", "leg", "state",
		       "tx", "rx", "rx_win", "rtcp", "scode");
		for (unsigned i = 0; i < g.nlegs; i++) {
			const struct leg *leg = &g.legs[i];
			static const char *sn[] = {"idle", "ring", "media",
						   "failed", "closed"};

			printf("%6u %6s %8llu %8llu %8llu %6llu %6u\n", i,
			       sn[atomic_load(&leg->state)],
			       (unsigned long long)leg->tx,
			       (unsigned long long)leg->rx,
			       (unsigned long long)leg->rx_win,
			       (unsigned long long)leg->rx_rtcp, leg->scode);
		}
	}

	printf("JSON {\"legs\":%u,\"connected\":%u,\"failed\":%u,"
	       "\"closed\":%u,\"codec\":\"%s\",\"window_s\":%.3f,"
	       "\"win_ticks\":%llu,\"tx_win\":%llu,\"rx_win\":%llu,"
	       "\"rx_expected\":%llu,\"rx_loss_pct\":%.4f,"
	       "\"rx_min_leg\":%llu,\"rx_max_leg\":%llu,\"seq_lost\":%llu,"
	       "\"rtcp\":%llu,\"gen_late_ticks\":%llu,"
	       "\"gen_cpu_s\":%.4f,\"gen_thr_cpu_s\":%.4f,"
	       "\"sample_level_dbfs\":%.2f,\"sample_audible_pct\":%.2f,"
	       "\"setup_s\":%.3f}\n",
	       g.nlegs, g.connected, g.failed, g.closed, g.codec->name,
	       win_s, (unsigned long long)g.win_ticks,
	       (unsigned long long)tx_win, (unsigned long long)rx_win,
	       (unsigned long long)expected, loss,
	       (unsigned long long)rx_min, (unsigned long long)rx_max,
	       (unsigned long long)seq_lost, (unsigned long long)rtcp,
	       (unsigned long long)g.late_ticks, cpu_proc, cpu_thr,
	       level_db, g.sample_frames ? 100.0 * g.sample_loud_frames /
	       g.sample_frames : 0.0,
	       (g.t_all_us - g.t_start_us) / 1e6);
	fflush(stdout);
}


/* ---- start-up -------------------------------------------------------- */

static int legs_open(void)
{
	for (unsigned i = 0; i < g.nlegs; i++) {
		struct leg *leg = &g.legs[i];
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		int rcvbuf = 64 * 1024;

		leg->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
				 SOCK_CLOEXEC, IPPROTO_UDP);
		if (leg->fd < 0)
			return errno;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(leg->fd, (struct sockaddr *)&sin, sizeof(sin)) ||
		    getsockname(leg->fd, (struct sockaddr *)&sin, &sl))
			return errno;
		(void)setsockopt(leg->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf));

		leg->lport = ntohs(sin.sin_port);
		leg->ssrc = rand_u32();
		leg->seq = rand_u16();
		leg->ts = rand_u32();
		leg->var = i % NVAR;
		leg->pos = rand_u32() % LOOP_FRAMES;
	}

	return 0;
}


static void legs_close(void)
{
	if (!g.legs)
		return;
	for (unsigned i = 0; i < g.nlegs; i++)
		if (g.legs[i].fd >= 0)
			close(g.legs[i].fd);
}


static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen [options]\n"
		"  -s, --server ADDR:PORT  chorusd SIP/UDP, loopback only "
		"(127.0.0.1:5060)\n"
		"  -r, --room NUMBER       room to dial (1000)\n"
		"  -k, --rooms K           spread the legs over rooms NUMBER"
		"..NUMBER+K-1 (1)\n"
		"  -n, --legs N            participants, 1..%d (20)\n"
		"  -t, --seconds S         measurement window, 1..%d (30)\n"
		"  -c, --codec C           opus | pcmu | g722 (opus)\n"
		"  -w, --settle S          wait after set-up before the "
		"window (2)\n"
		"  -R, --rate R            new calls per second (100)\n"
		"  -T, --setup-timeout S   bound on call set-up (60)\n"
		"  -F, --no-fec            offer Opus without useinbandfec=1\n"
		"  -p, --per-leg           print one line per leg\n"
		"  -q, --quiet             no line per failed leg\n",
		MAX_LEGS, MAX_SECONDS);
}


static int parse_args(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{"server", required_argument, NULL, 's'},
		{"room", required_argument, NULL, 'r'},
		{"rooms", required_argument, NULL, 'k'},
		{"legs", required_argument, NULL, 'n'},
		{"seconds", required_argument, NULL, 't'},
		{"codec", required_argument, NULL, 'c'},
		{"settle", required_argument, NULL, 'w'},
		{"rate", required_argument, NULL, 'R'},
		{"setup-timeout", required_argument, NULL, 'T'},
		{"no-fec", no_argument, NULL, 'F'},
		{"per-leg", no_argument, NULL, 'p'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *server = "127.0.0.1:5060";
	int c;

	str_ncpy(g.room, "1000", sizeof(g.room));
	g.nrooms = 1;
	g.nlegs = 20;
	g.seconds = 30;
	g.settle_s = 2;
	g.rate = 100;
	g.setup_timeout_s = 60;
	g.codec = &codecs[0];

	while ((c = getopt_long(argc, argv, "s:r:k:n:t:c:w:R:T:Fpqh", lopts,
				NULL)) != -1) {
		switch (c) {

		case 's': server = optarg; break;
		case 'r': str_ncpy(g.room, optarg, sizeof(g.room)); break;
		case 'k': g.nrooms = (unsigned)atoi(optarg); break;
		case 'n': g.nlegs = (unsigned)atoi(optarg); break;
		case 't': g.seconds = (unsigned)atoi(optarg); break;
		case 'w': g.settle_s = (unsigned)atoi(optarg); break;
		case 'R': g.rate = (unsigned)atoi(optarg); break;
		case 'T': g.setup_timeout_s = (unsigned)atoi(optarg); break;
		case 'F': g.no_fec = true; break;
		case 'p': g.per_leg = true; break;
		case 'q': g.quiet = true; break;
		case 'c':
			g.codec = NULL;
			for (size_t i = 0; i < ARRAY_SIZE(codecs); i++)
				if (!str_casecmp(optarg, codecs[i].name))
					g.codec = &codecs[i];
			if (!g.codec) {
				fprintf(stderr, "loadgen: unknown codec %s\n",
					optarg);
				return EINVAL;
			}
			break;
		default:
			usage();
			return EINVAL;
		}
	}

	if (sa_decode(&g.server, server, strlen(server)) ||
	    !sa_port(&g.server)) {
		fprintf(stderr, "loadgen: bad server address %s\n", server);
		return EINVAL;
	}
	if (!sa_is_loopback(&g.server)) {
		fprintf(stderr, "loadgen: refusing %s: loopback only\n",
			server);
		return EPERM;
	}
	if (g.nlegs < 1 || g.nlegs > MAX_LEGS) {
		fprintf(stderr, "loadgen: legs must be 1..%d\n", MAX_LEGS);
		return EINVAL;
	}
	if (g.seconds < 1 || g.seconds > MAX_SECONDS) {
		fprintf(stderr, "loadgen: seconds must be 1..%d\n",
			MAX_SECONDS);
		return EINVAL;
	}
	if (g.settle_s > 60 || g.rate < 1 || g.rate > 2000 ||
	    g.setup_timeout_s < 1 || g.setup_timeout_s > 600) {
		fprintf(stderr, "loadgen: settle 0..60, rate 1..2000, "
			"setup-timeout 1..600\n");
		return EINVAL;
	}
	if (g.nrooms < 1 || g.nrooms > 100 || (g.nrooms > 1 &&
	    strspn(g.room, "0123456789") != strlen(g.room))) {
		fprintf(stderr, "loadgen: rooms 1..100, several rooms need a "
			"numeric room\n");
		return EINVAL;
	}
	for (const char *p = g.room; *p; p++) {
		if (!strchr("0123456789abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ._+-", *p)) {
			fprintf(stderr, "loadgen: bad room %s\n", g.room);
			return EINVAL;
		}
	}

	return 0;
}


int main(int argc, char *argv[])
{
	struct rlimit rl;
	int oerr, err;

	setvbuf(stdout, NULL, _IOLBF, 0);

	err = parse_args(argc, argv);
	if (err)
		return 2;

	/* one socket per leg plus SIP: ask for the hard limit */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}

	err = libre_init();
	if (err) {
		fprintf(stderr, "loadgen: libre_init: %s\n", strerror(err));
		return 1;
	}

	g.frames = calloc(1, sizeof(*g.frames));
	g.legs = calloc(g.nlegs, sizeof(*g.legs));
	if (!g.frames || !g.legs) {
		err = ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < g.nlegs; i++)
		g.legs[i].fd = -1;

	err = frames_encode(g.frames, g.codec);
	if (err)
		goto out;

	if (g.codec->pt == PT_OPUS)
		g.dec = opus_decoder_create(48000, 1, &oerr);
	else if (g.codec->pt == 9)
		g.g722dec = g722_decode_init(NULL, 64000, 0);

	err = legs_open();
	if (err) {
		fprintf(stderr, "loadgen: RTP sockets: %s\n", strerror(err));
		goto out;
	}

	err = sip_alloc(&g.sip, NULL, SIP_HTSIZE, SIP_HTSIZE, 256,
			"chorus-loadgen", exit_h, NULL);
	if (err)
		goto out;
	sa_set_str(&g.laddr, sa_af(&g.server) == AF_INET6 ? "::1" :
		   "127.0.0.1", 0);
	err = sip_transp_add(g.sip, SIP_TRANSP_UDP, &g.laddr);
	if (!err)
		err = sip_transp_laddr(g.sip, &g.laddr, SIP_TRANSP_UDP, NULL);
	if (!err)
		err = sipsess_listen(&g.sock, g.sip, SIP_HTSIZE, NULL, NULL);
	if (err) {
		fprintf(stderr, "loadgen: SIP: %s\n", strerror(err));
		goto out;
	}

	g.t_start_us = now_us();
	err = pthread_create(&g.thr, NULL, media_main, NULL);
	if (err)
		goto out;
	g.thr_running = true;

	tmr_start(&g.tmr_call, 0, call_tick, NULL);
	tmr_start(&g.tmr_setup, (uint64_t)g.setup_timeout_s * 1000,
		  setup_timeout, NULL);

	err = re_main(NULL);

	/* a signal ended the loop early: stop media, report what we have */
	if (g.thr_running) {
		atomic_store(&g.phase, PH_STOP);
		pthread_join(g.thr, NULL);
		g.thr_running = false;
		report();
	}

 out:
	tmr_cancel(&g.tmr_call);
	tmr_cancel(&g.tmr_phase);
	tmr_cancel(&g.tmr_setup);
	tmr_cancel(&g.tmr_exit);
	if (g.legs)
		for (unsigned i = 0; i < g.nlegs; i++)
			g.legs[i].sess = mem_deref(g.legs[i].sess);
	g.sock = mem_deref(g.sock);
	if (g.sip)
		sip_close(g.sip, true);
	g.sip = mem_deref(g.sip);
	legs_close();
	if (g.dec)
		opus_decoder_destroy(g.dec);
	if (g.g722dec)
		g722_decode_free(g.g722dec);
	free(g.legs);
	free(g.frames);
	libre_close();

	if (err) {
		fprintf(stderr, "loadgen: %s\n", strerror(err));
		return 1;
	}

	return g.connected == g.nlegs && !g.closed ? 0 : 3;
}
