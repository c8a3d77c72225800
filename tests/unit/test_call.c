/**
 * @file test_call.c  The SIP endpoint over real sockets on 127.0.0.1: a
 * second libre SIP stack in the same process plays the phone (UAC)
 * against the endpoint, with the real cfg, room registry and media
 * engine behind it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>

#include "cfg/cfg.h"
#include "ctrl/log.h"
#include "media/media.h"
#include "room/room.h"
#include "sip/call.h"
#include "sip/endpoint.h"
#include "testutil.h"

enum { WAIT_MS = 3000, RAW_MAX = 4096, LOG_MAX = 8192 };

/* one phone call from the UAC side */
struct uac {
	struct sipsess *sess;
	uint16_t scode;           /* last final response seen           */
	bool     answered;        /* 2xx with SDP (answer handler)      */
	bool     got_offer;       /* 2xx carried an offer (late offer)  */
	bool     ringing;         /* 180 seen                           */
	bool     estab;
	bool     closed;
	int      close_err;
	bool     closed_by_bye;
	char     raw[RAW_MAX];    /* the last response, as received     */
	char     sdp[RAW_MAX];    /* the last SDP body                  */
	const char *answer_sdp;   /* what we answer a late offer with   */
};

struct fixture {
	char dir[64];
	struct cfg *cfg;
	struct registry *reg;
	struct media_engine *me;
	struct endpoint *ep;
	struct sa ep_udp;
	struct sa ep_tcp;
	bool use_tcp;

	struct sip *csip;         /* the phone */
	struct sipsess_sock *csock;
	struct sa caddr;

	char log[LOG_MAX];
	size_t loglen;

	char trace[LOG_MAX];      /* what the phone received */
	size_t tracelen;

	bool shutdown_done;
};

static struct fixture *g_fix;   /* for the trace handler */
static unsigned g_rtp_timeout_s = 30;


/* ---- helpers ----------------------------------------------------------- */

static void log_handler(enum log_level level, const char *line, void *arg)
{
	struct fixture *f = arg;
	size_t n = strlen(line);
	(void)level;

	if (f->loglen + n + 1 < sizeof(f->log)) {
		memcpy(f->log + f->loglen, line, n + 1);
		f->loglen += n;
	}
}


static void trace_handler(bool tx, enum sip_transp tp, const struct sa *src,
			  const struct sa *dst, const uint8_t *pkt, size_t len,
			  void *arg)
{
	struct fixture *f = g_fix;
	(void)tp;
	(void)src;
	(void)dst;
	(void)arg;

	if (!f || tx || f->tracelen + len + 1 >= sizeof(f->trace))
		return;

	memcpy(f->trace + f->tracelen, pkt, len);
	f->tracelen += len;
	f->trace[f->tracelen] = '\0';
}


static void timeout_handler(void *arg)
{
	bool *expired = arg;

	*expired = true;
	re_cancel();
}


/* Run the loop until cond(arg) holds or WAIT_MS pass. */
static bool run_until(bool (*cond)(void *), void *arg, uint32_t ms)
{
	struct tmr tmr;
	bool expired = false;

	tmr_init(&tmr);
	tmr_start(&tmr, ms, timeout_handler, &expired);

	while (!expired && !(cond && cond(arg))) {
		/* poll the condition every few ms */
		struct tmr tick;
		bool dummy = false;

		tmr_init(&tick);
		tmr_start(&tick, 5, timeout_handler, &dummy);
		(void)re_main(NULL);
		tmr_cancel(&tick);
	}

	tmr_cancel(&tmr);

	return cond ? cond(arg) : true;
}


static bool uac_done(void *arg)
{
	const struct uac *u = arg;

	return u->closed || u->estab;
}


static bool uac_closed(void *arg)
{
	const struct uac *u = arg;

	return u->closed;
}


static void copy_raw(char *dst, const struct sip_msg *msg)
{
	size_t n = MIN(msg->mb->end, (size_t)RAW_MAX - 1);

	memcpy(dst, msg->mb->buf, n);
	dst[n] = '\0';
}


static void copy_body(char *dst, const struct sip_msg *msg)
{
	size_t n = MIN(mbuf_get_left(msg->mb), (size_t)RAW_MAX - 1);

	memcpy(dst, mbuf_buf(msg->mb), n);
	dst[n] = '\0';
}


static struct mbuf *sdp_mb(const char *sdp)
{
	struct mbuf *mb = mbuf_alloc(512);

	assert_non_null(mb);
	assert_int_equal(0, mbuf_write_str(mb, sdp));
	mb->pos = 0;

	return mb;
}


/* ---- UAC handlers ---------------------------------------------------- */

static int uac_offer_h(struct mbuf **descp, const struct sip_msg *msg,
		       void *arg)
{
	struct uac *u = arg;

	/* the 200 OK to our SDP-less INVITE carries chorus's offer */
	u->got_offer = true;
	u->scode = msg->scode;
	copy_raw(u->raw, msg);
	copy_body(u->sdp, msg);
	*descp = sdp_mb(u->answer_sdp);

	return 0;
}


static int uac_answer_h(const struct sip_msg *msg, void *arg)
{
	struct uac *u = arg;

	u->answered = true;
	u->scode = msg->scode;
	copy_raw(u->raw, msg);
	copy_body(u->sdp, msg);

	return 0;
}


static void uac_progr_h(const struct sip_msg *msg, void *arg)
{
	struct uac *u = arg;

	if (msg->scode == 180)
		u->ringing = true;
}


static void uac_estab_h(const struct sip_msg *msg, void *arg)
{
	struct uac *u = arg;
	(void)msg;

	u->estab = true;
}


static void uac_close_h(int err, const struct sip_msg *msg, void *arg)
{
	struct uac *u = arg;

	u->closed = true;
	u->close_err = err;
	if (msg && !msg->req) {
		u->scode = msg->scode;
		copy_raw(u->raw, msg);
	}
	else if (err == ECONNRESET) {
		/* libre 1.1 reports a received BYE as ECONNRESET, no msg */
		u->closed_by_bye = true;
	}

	u->sess = mem_deref(u->sess);
}


static int uac_call(struct fixture *f, struct uac *u, const char *user,
		    const char *sdp, const char *hdrs)
{
	struct mbuf *desc = sdp ? sdp_mb(sdp) : NULL;
	char to[128], from[128];
	int err;

	memset(u, 0, sizeof(*u));
	if (f->use_tcp)
		re_snprintf(to, sizeof(to), "sip:%s@%J;transport=tcp", user,
			    &f->ep_tcp);
	else
		re_snprintf(to, sizeof(to), "sip:%s@%J", user, &f->ep_udp);
	re_snprintf(from, sizeof(from), "sip:phone@%J", &f->caddr);

	err = sipsess_connect(&u->sess, f->csock, to, "Phone", from, "phone",
			      NULL, 0, "application/sdp", desc,
			      NULL, NULL, false,
			      uac_offer_h, uac_answer_h, uac_progr_h,
			      uac_estab_h,
			      NULL, NULL, uac_close_h, u,
			      "%s", hdrs ? hdrs : "");
	mem_deref(desc);

	return err;
}


static void uac_call_wait(struct fixture *f, struct uac *u, const char *user,
			  const char *sdp, const char *hdrs)
{
	assert_int_equal(0, uac_call(f, u, user, sdp, hdrs));
	assert_true(run_until(uac_done, u, WAIT_MS));
}


static void uac_bye(struct uac *u)
{
	u->sess = mem_deref(u->sess);
}


static void assert_has(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("missing \"%s\" in:\n%s", needle, text);
}


/* ---- out-of-dialog requests -------------------------------------------- */

struct oreq {
	uint16_t scode;
	char raw[RAW_MAX];
	bool done;
};


static void oreq_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct oreq *r = arg;

	if (!err && msg) {
		if (msg->scode < 200)
			return;
		r->scode = msg->scode;
		copy_raw(r->raw, msg);
	}
	r->done = true;
}


static bool oreq_done(void *arg)
{
	return ((struct oreq *)arg)->done;
}


static void send_request(struct fixture *f, struct oreq *r, const char *met,
			 const char *user)
{
	struct sip_dialog *dlg = NULL;
	struct sip_request *req = NULL;
	char uri[128], from[128];

	memset(r, 0, sizeof(*r));
	re_snprintf(uri, sizeof(uri), "sip:%s@%J", user, &f->ep_udp);
	re_snprintf(from, sizeof(from), "sip:phone@%J", &f->caddr);

	assert_int_equal(0, sip_dialog_alloc(&dlg, uri, uri, NULL, from,
					     NULL, 0));
	assert_int_equal(0, sip_drequestf(&req, f->csip, true, met, dlg, 0,
					  NULL, NULL, oreq_resp_h, r,
					  "Content-Length: 0\r\n\r\n"));
	assert_true(run_until(oreq_done, r, WAIT_MS));
	mem_deref(req);
	mem_deref(dlg);
}


/* ---- fixture ----------------------------------------------------------- */

static void on_media_event(const struct media_event *ev, void *arg)
{
	struct fixture *f = arg;

	if (f->ep)
		endpoint_media_event(f->ep, ev);
}


static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	unsigned base;

	if (!f)
		return -1;

	snprintf(f->dir, sizeof(f->dir), "/tmp/chorus-test-call-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;

	/* a per-process RTP range so parallel test runs do not collide */
	base = 40000 + (unsigned)(getpid() % 500) * 40;
	{
		char conf[256];

		snprintf(conf, sizeof(conf),
			 "sip_listen 127.0.0.1:5060\n"
			 "media_workers 1\n"
			 "rtp_timeout %u\n"
			 "rtp_port_min %u\nrtp_port_max %u\n"
			 "codecs opus,G722,PCMU,PCMA\n", g_rtp_timeout_s,
			 base, base + 39);
		tu_write_file(f->dir, "chorus.conf", conf);
	}
	tu_write_file(f->dir, "rooms.conf",
		      "room 1000 name=\"Main room\" max=10\n"
		      "room 2000 name=Small max=1\n"
		      "auto_create dddd\n"
		      "auto_max_legs 5\n");

	g_fix = f;
	log_set_level(LOG_LVL_DEBUG);
	log_set_handler(log_handler, f);

	if (cfg_load(&f->cfg, f->dir))
		return -1;

	/* any free port: the phone learns it from the endpoint */
	str_ncpy(f->cfg->sip_listen, "127.0.0.1:0", sizeof(f->cfg->sip_listen));
	f->cfg->sip_udp = true;
	f->cfg->sip_tcp = true;

	if (media_engine_alloc(&f->me, &f->cfg->media, on_media_event, f))
		return -1;
	if (registry_alloc(&f->reg, f->cfg, f->me))
		return -1;
	if (endpoint_alloc(&f->ep, f->cfg, f->reg, f->me))
		return -1;
	if (endpoint_laddr(f->ep, SIP_TRANSP_UDP, &f->ep_udp))
		return -1;
	if (endpoint_laddr(f->ep, SIP_TRANSP_TCP, &f->ep_tcp))
		return -1;

	/* the phone */
	if (sip_alloc(&f->csip, NULL, 32, 32, 32, "test-phone", NULL, NULL))
		return -1;
	sa_set_str(&f->caddr, "127.0.0.1", 0);
	if (sip_transp_add(f->csip, SIP_TRANSP_UDP, &f->caddr))
		return -1;
	if (sip_transp_laddr(f->csip, &f->caddr, SIP_TRANSP_UDP, NULL))
		return -1;
	{
		struct sa tcp;

		sa_set_str(&tcp, "127.0.0.1", 0);
		if (sip_transp_add(f->csip, SIP_TRANSP_TCP, &tcp))
			return -1;
	}
	sip_set_trace_handler(f->csip, trace_handler);
	if (sipsess_listen(&f->csock, f->csip, 32, NULL, NULL))
		return -1;

	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	/* let pending BYEs and ACKs go out */
	(void)run_until(NULL, NULL, 100);

	if (getenv("CHORUS_TEST_LOG"))
		fprintf(stderr, "---- log:\n%s", f->log);

	f->ep = mem_deref(f->ep);
	mem_deref(f->csock);
	sip_close(f->csip, true);
	mem_deref(f->csip);
	mem_deref(f->reg);
	mem_deref(f->me);
	mem_deref(f->cfg);
	log_set_handler(NULL, NULL);
	g_fix = NULL;

	tu_conf_dir_remove(f->dir);
	free(f);

	return 0;
}


#define OFFER_HEAD "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n" \
	"c=IN IP4 127.0.0.1\r\nt=0 0\r\n"

static const char *offer_pcmu = OFFER_HEAD
	"m=audio 7000 RTP/AVP 0 101\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=sendrecv\r\n";


static struct call *server_call(struct fixture *f, const char *number)
{
	struct room *room = registry_room_find(f->reg, number);
	struct le *le;

	if (!room)
		return NULL;

	le = list_head(room_legs(room));

	return le ? leg_udata(le->data) : NULL;
}


static bool no_calls(void *arg)
{
	struct fixture *f = arg;

	return endpoint_call_count(f->ep) == 0;
}


/* ---- tests --------------------------------------------------------------- */

static void unknown_room_is_404_and_logged(void **state)
{
	struct fixture *f = *state;
	struct uac u;

	f->cfg->auto_pattern[0] = '\0';   /* no auto-created rooms */
	uac_call_wait(f, &u, "9999", offer_pcmu, NULL);

	assert_true(u.closed);
	assert_int_equal(404, u.scode);
	assert_has(f->log, "rejected 404: no such room");
	assert_has(f->log, "sip:9999@");
	assert_int_equal(0, endpoint_call_count(f->ep));
}


static void room_1000_answers_200_with_sdp_then_bye(void **state)
{
	struct fixture *f = *state;
	const struct sdpneg_result *neg;
	struct call *call;
	struct uac u;

	uac_call_wait(f, &u, "1000", offer_pcmu, NULL);

	assert_true(u.estab);
	assert_true(u.answered);
	assert_int_equal(200, u.scode);
	assert_has(u.raw, "Server: chorus/" CHORUS_VERSION "\r\n");
	assert_has(u.raw, "Content-Type: application/sdp\r\n");
	assert_has(u.raw, "Contact: <sip:1000@127.0.0.1:");
	assert_has(u.raw, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS");
	assert_has(u.sdp, "c=IN IP4 127.0.0.1\r\n");
	assert_has(u.sdp, " RTP/AVP 0 101\r\n");
	assert_has(u.sdp, "a=sendrecv\r\n");
	assert_null(strstr(u.sdp, "m=audio 0 "));

	assert_int_equal(1, endpoint_call_count(f->ep));
	call = server_call(f, "1000");
	assert_non_null(call);
	neg = call_media(call);
	assert_non_null(neg);
	assert_int_equal(CODEC_PCMU, neg->codec.id);
	assert_int_equal(7000, sa_port(&neg->raddr_rtp));
	assert_int_equal(LEG_ESTABLISHED, leg_state(call_leg(call)));
	assert_true(leg_media(call_leg(call)));

	/* the phone hangs up: the leg leaves the room */
	uac_bye(&u);
	assert_true(run_until(no_calls, f, WAIT_MS));
	assert_has(f->log, "left: BYE from peer");
	assert_int_equal(0, registry_leg_count(f->reg));
}


static void no_common_codec_is_488_with_warning(void **state)
{
	struct fixture *f = *state;
	struct uac u;

	uac_call_wait(f, &u, "1000", OFFER_HEAD
		      "m=audio 7000 RTP/AVP 18\r\n"
		      "a=rtpmap:18 G729/8000\r\n", NULL);

	assert_true(u.closed);
	assert_int_equal(488, u.scode);
	assert_has(u.raw, "Warning: 399 127.0.0.1");
	assert_has(u.raw, "\"No common codec\"");
	assert_has(f->log, "rejected 488: No common codec");
	assert_int_equal(0, endpoint_call_count(f->ep));
	/* the leg never existed: the room is as empty as before */
	assert_int_equal(0, registry_leg_count(f->reg));
}


static void malformed_sdp_is_400_with_warning(void **state)
{
	struct fixture *f = *state;
	struct uac u;

	uac_call_wait(f, &u, "1000", "v=0\r\nthis is not sdp\r\n", NULL);

	assert_int_equal(400, u.scode);
	assert_has(u.raw, "Warning: 399 ");
	assert_has(u.raw, "Malformed SDP");
	assert_int_equal(0, registry_leg_count(f->reg));

	/* a quote from the peer's SDP cannot break the Warning header */
	uac_call_wait(f, &u, "1000", OFFER_HEAD
		      "m=audio 7000 RTP/\"X 0\r\n", NULL);
	assert_int_equal(488, u.scode);
	assert_has(u.raw, "(transport RTP/_X not supported)\"\r\n");
}


static void unsupported_require_is_420(void **state)
{
	struct fixture *f = *state;
	struct uac u;

	uac_call_wait(f, &u, "1000", offer_pcmu, "Require: 100rel\r\n");

	assert_int_equal(420, u.scode);
	assert_has(u.raw, "Unsupported: 100rel\r\n");
	assert_int_equal(0, registry_leg_count(f->reg));
}


static void full_room_486_locked_room_403(void **state)
{
	struct fixture *f = *state;
	struct room *room;
	struct uac a, b, c;

	uac_call_wait(f, &a, "2000", offer_pcmu, NULL);
	assert_true(a.estab);

	uac_call_wait(f, &b, "2000", offer_pcmu, NULL);
	assert_int_equal(486, b.scode);
	assert_has(f->log, "rejected 486: room full");

	assert_int_equal(0, registry_room_get(f->reg, "1000", &room));
	room_set_locked(room, true);
	uac_call_wait(f, &c, "1000", offer_pcmu, NULL);
	assert_int_equal(403, c.scode);
	assert_has(f->log, "rejected 403: room locked");

	uac_bye(&a);
	assert_true(run_until(no_calls, f, WAIT_MS));
}


static void late_offer_answer_from_ack(void **state)
{
	struct fixture *f = *state;
	const struct sdpneg_result *neg;
	struct call *call;
	struct uac u;

	memset(&u, 0, sizeof(u));
	assert_int_equal(0, uac_call(f, &u, "1000", NULL, NULL));
	u.answer_sdp = OFFER_HEAD "m=audio 7010 RTP/AVP 8\r\na=sendrecv\r\n";
	assert_true(run_until(uac_done, &u, WAIT_MS));

	assert_true(u.estab);
	assert_true(u.got_offer);
	/* our offer lists every configured codec, opus first */
	assert_has(u.sdp, " RTP/AVP 111 9 0 8 101 110\r\n");
	assert_has(u.sdp, "a=rtpmap:111 opus/48000/2\r\n");

	call = server_call(f, "1000");
	assert_non_null(call);
	neg = call_media(call);
	assert_non_null(neg);
	assert_int_equal(CODEC_PCMA, neg->codec.id);
	assert_int_equal(7010, sa_port(&neg->raddr_rtp));
	assert_true(leg_media(call_leg(call)));

	uac_bye(&u);
	assert_true(run_until(no_calls, f, WAIT_MS));
}


static bool uac_answered(void *arg)
{
	return ((struct uac *)arg)->answered;
}


static void reinvite_hold_and_resume(void **state)
{
	struct fixture *f = *state;
	struct mbuf *desc;
	struct call *call;
	struct uac u;

	uac_call_wait(f, &u, "1000", offer_pcmu, NULL);
	assert_true(u.estab);
	call = server_call(f, "1000");
	assert_non_null(call);
	assert_false(call_on_hold(call));

	/* hold: sendonly */
	u.answered = false;
	desc = sdp_mb(OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\na=sendonly\r\n");
	assert_int_equal(0, sipsess_modify(u.sess, desc));
	mem_deref(desc);
	assert_true(run_until(uac_answered, &u, WAIT_MS));
	assert_has(u.sdp, "a=recvonly\r\n");
	assert_true(call_on_hold(call));
	assert_has(f->log, "on hold");

	/* resume on a new port */
	u.answered = false;
	desc = sdp_mb(OFFER_HEAD "m=audio 7020 RTP/AVP 0\r\na=sendrecv\r\n");
	assert_int_equal(0, sipsess_modify(u.sess, desc));
	mem_deref(desc);
	assert_true(run_until(uac_answered, &u, WAIT_MS));
	assert_has(u.sdp, "a=sendrecv\r\n");
	assert_false(call_on_hold(call));
	assert_int_equal(7020, sa_port(&call_media(call)->raddr_rtp));

	uac_bye(&u);
	assert_true(run_until(no_calls, f, WAIT_MS));
}


static void options_and_other_methods(void **state)
{
	struct fixture *f = *state;
	struct oreq r;

	send_request(f, &r, "OPTIONS", "1000");
	assert_int_equal(200, r.scode);
	assert_has(r.raw, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, "
		   "INFO, REFER, SUBSCRIBE, NOTIFY, MESSAGE\r\n");
	assert_has(r.raw, "Accept: application/sdp\r\n");
	assert_has(r.raw, "Supported: timer\r\n");
	assert_has(r.raw, "Recv-Info: chorus-control\r\n");

	/* MESSAGE to an empty room (the focus relays only to participants) */
	send_request(f, &r, "MESSAGE", "1000");
	assert_int_equal(404, r.scode);

	send_request(f, &r, "PUBLISH", "1000");
	assert_int_equal(405, r.scode);
	assert_has(r.raw, "Allow: INVITE");

	send_request(f, &r, "FROBNICATE", "1000");
	assert_int_equal(501, r.scode);
}


static void session_timer_422_and_accept(void **state)
{
	struct fixture *f = *state;
	struct uac u;

	uac_call_wait(f, &u, "1000", offer_pcmu,
		      "Session-Expires: 60\r\nSupported: timer\r\n");
	assert_int_equal(422, u.scode);
	assert_has(u.raw, "Min-SE: 90\r\n");

	uac_call_wait(f, &u, "1000", offer_pcmu,
		      "Session-Expires: 1800\r\nSupported: timer\r\n");
	assert_true(u.estab);
	assert_has(u.raw, "Session-Expires: 1800;refresher=uac\r\n");
	assert_has(u.raw, "Require: timer\r\n");
	assert_int_equal(1800, call_session_expires(server_call(f, "1000")));

	uac_bye(&u);
	assert_true(run_until(no_calls, f, WAIT_MS));
}


static void update_refresh_answered_with_session_expires(void **state)
{
	struct fixture *f = *state;
	struct sip_request *req = NULL;
	struct oreq r;
	struct uac u;

	uac_call_wait(f, &u, "1000", offer_pcmu,
		      "Session-Expires: 1800\r\nSupported: timer\r\n");
	assert_true(u.estab);

	memset(&r, 0, sizeof(r));
	assert_int_equal(0, sip_drequestf(&req, f->csip, true, "UPDATE",
					  sipsess_dialog(u.sess), 0, NULL,
					  NULL, oreq_resp_h, &r,
					  "Session-Expires: 1800;refresher=uac\r\n"
					  "Supported: timer\r\n"
					  "Content-Length: 0\r\n\r\n"));
	assert_true(run_until(oreq_done, &r, WAIT_MS));
	mem_deref(req);

	assert_int_equal(200, r.scode);
	assert_has(r.raw, "Session-Expires: 1800;refresher=uac\r\n");
	assert_has(r.raw, "Contact: <sip:1000@");

	uac_bye(&u);
	assert_true(run_until(no_calls, f, WAIT_MS));
}


static void shutdown_done_h(void *arg)
{
	struct fixture *f = arg;

	f->shutdown_done = true;
}


static bool shutdown_done(void *arg)
{
	return ((struct fixture *)arg)->shutdown_done;
}


static void shutdown_byes_calls_and_refuses_503(void **state)
{
	struct fixture *f = *state;
	struct uac u, v;

	uac_call_wait(f, &u, "1000", offer_pcmu, NULL);
	assert_true(u.estab);

	endpoint_shutdown(f->ep, shutdown_done_h, f);
	assert_true(run_until(uac_closed, &u, WAIT_MS));
	assert_true(u.closed_by_bye);
	assert_true(run_until(shutdown_done, f, WAIT_MS + 1000));
	assert_int_equal(0, registry_leg_count(f->reg));

	uac_call_wait(f, &v, "1000", offer_pcmu, NULL);
	assert_int_equal(503, v.scode);
	assert_has(v.raw, "Retry-After: 30\r\n");
	assert_has(f->log, "rejected 503: shutting down");
}


static bool uac_ringing(void *arg)
{
	return ((struct uac *)arg)->ringing;
}


static unsigned open_fds(void)
{
	unsigned n = 0;

	/* bounded: the fd numbers a test process uses */
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			++n;

	return n;
}


static unsigned g_fds;

static bool fds_back(void *arg)
{
	(void)arg;

	return open_fds() == g_fds;
}


static bool nothing_left(void *arg)
{
	struct fixture *f = arg;

	return endpoint_call_count(f->ep) == 0 &&
		registry_leg_count(f->reg) == 0;
}


static void answer_delay_rings_and_cancel_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	unsigned fds;
	struct uac u;

	endpoint_set_answer_delay(f->ep, 300);
	fds = open_fds();

	/* rings, then answers */
	uac_call_wait(f, &u, "1000", offer_pcmu, NULL);
	assert_true(u.ringing);
	assert_true(u.estab);
	assert_has(u.sdp, " RTP/AVP 0 101\r\n");
	uac_bye(&u);
	assert_true(run_until(nothing_left, f, WAIT_MS));

	/* CANCEL while ringing: 487, no leg, no sockets */
	assert_int_equal(0, uac_call(f, &u, "1000", offer_pcmu, NULL));
	assert_true(run_until(uac_ringing, &u, WAIT_MS));
	assert_int_equal(1, registry_leg_count(f->reg));
	assert_true(open_fds() > fds);      /* the RTP/RTCP pair */

	f->tracelen = 0;
	uac_bye(&u);                        /* before the 200: CANCEL */
	assert_true(run_until(nothing_left, f, WAIT_MS));
	(void)run_until(NULL, NULL, 100);
	assert_has(f->trace, "SIP/2.0 487 Request Terminated");
	assert_has(f->log, "left: CANCEL from peer");
	/* the first call's sockets are closed by the media worker, a
	   moment after its leg left: wait (bounded) for the count */
	g_fds = fds;
	(void)run_until(fds_back, NULL, WAIT_MS);
	assert_int_equal(fds, open_fds());
}


static void rtp_timeout_sends_bye(void **state)
{
	struct fixture *f = *state;
	struct uac u;

	/* rtp_timeout is 1 s here and the phone never sends RTP */
	uac_call_wait(f, &u, "1000", offer_pcmu, NULL);
	assert_true(u.estab);

	assert_true(run_until(uac_closed, &u, 4000));
	assert_true(u.closed_by_bye);
	assert_has(f->log, "no RTP/RTCP for 1000 ms, sending BYE");
	assert_true(run_until(nothing_left, f, WAIT_MS));
}


static int setup_rtp_timeout(void **state)
{
	int err;

	g_rtp_timeout_s = 1;
	err = setup(state);
	g_rtp_timeout_s = 30;

	return err;
}


static int sock_tos_n(const struct sa *laddr, int type, unsigned *countp);

static void invite_over_tcp(void **state)
{
	struct fixture *f = *state;
	unsigned n = 0;
	struct uac u;

	f->use_tcp = true;
	uac_call_wait(f, &u, "1000", offer_pcmu, NULL);

	assert_true(u.estab);
	/* the accepted connection inherits the listener's DSCP (CS3) */
	assert_int_equal(24 << 2, sock_tos_n(&f->ep_tcp, SOCK_STREAM, &n));
	assert_int_equal(2, n);
	assert_has(u.raw, "SIP/2.0 200 OK\r\n");
	assert_has(u.raw, ";transport=tcp>");
	assert_has(u.raw, "Via: SIP/2.0/TCP ");

	uac_bye(&u);
	assert_true(run_until(nothing_left, f, WAIT_MS));
}


static bool uac_got_offer(void *arg)
{
	return ((struct uac *)arg)->got_offer;
}


static void reinvite_without_sdp_takes_answer_from_ack(void **state)
{
	struct fixture *f = *state;
	const struct sdpneg_result *neg;
	struct call *call;
	struct uac u;

	uac_call_wait(f, &u, "1000", offer_pcmu, NULL);
	assert_true(u.estab);
	call = server_call(f, "1000");
	assert_non_null(call);

	u.got_offer = false;
	u.answer_sdp = OFFER_HEAD "m=audio 7030 RTP/AVP 8\r\na=sendrecv\r\n";
	assert_int_equal(0, sipsess_modify(u.sess, NULL));
	assert_true(run_until(uac_got_offer, &u, WAIT_MS));
	(void)run_until(NULL, NULL, 100);     /* the ACK reaches chorus */

	neg = call_media(call);
	assert_non_null(neg);
	assert_int_equal(CODEC_PCMA, neg->codec.id);
	assert_int_equal(7030, sa_port(&neg->raddr_rtp));
	assert_has(f->log, "media updated: PCMA");

	uac_bye(&u);
	assert_true(run_until(nothing_left, f, WAIT_MS));
}


struct rawudp {
	struct udp_sock *us;
	char rx[RAW_MAX];
	bool got;
};


static void rawudp_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct rawudp *r = arg;
	size_t n = MIN(mbuf_get_left(mb), (size_t)RAW_MAX - 1);
	(void)src;

	/* skip the 100 Trying, keep the final answer */
	if (n > 12 && !memcmp(mbuf_buf(mb), "SIP/2.0 100 ", 12))
		return;

	memcpy(r->rx, mbuf_buf(mb), n);
	r->rx[n] = '\0';
	r->got = true;
}


static bool rawudp_got(void *arg)
{
	return ((struct rawudp *)arg)->got;
}


static void udp_content_length_beyond_datagram_is_400(void **state)
{
	struct fixture *f = *state;
	struct rawudp r;
	struct sa laddr;
	struct mbuf *mb;
	const char *sdp = OFFER_HEAD "m=audio 7000 RTP/AVP 0\r\n";

	memset(&r, 0, sizeof(r));
	sa_set_str(&laddr, "127.0.0.1", 0);
	assert_int_equal(0, udp_listen(&r.us, &laddr, rawudp_recv, &r));
	assert_int_equal(0, udp_local_get(r.us, &laddr));

	mb = mbuf_alloc(1024);
	assert_non_null(mb);
	assert_int_equal(0, mbuf_printf(mb,
		"INVITE sip:1000@%J SIP/2.0\r\n"
		"Via: SIP/2.0/UDP %J;branch=z9hG4bKlong1;rport\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:raw@%J>;tag=r1\r\n"
		"To: <sip:1000@%J>\r\n"
		"Call-ID: clen-test-1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:raw@%J>\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 4000\r\n"
		"\r\n%s", &f->ep_udp, &laddr, &laddr, &f->ep_udp, &laddr, sdp));
	mb->pos = 0;
	assert_int_equal(0, udp_send(r.us, &f->ep_udp, mb));
	mem_deref(mb);

	assert_true(run_until(rawudp_got, &r, WAIT_MS));
	assert_has(r.rx, "SIP/2.0 400 Bad Request\r\n");
	assert_has(f->log, "rejected 400: Content-Length 4000 exceeds");
	assert_int_equal(0, registry_leg_count(f->reg));
	mem_deref(r.us);
}


/* the phone answers our refreshing UPDATEs (libre 1.1 sipsess does not) */
struct updrx {
	unsigned n;
	char raw[RAW_MAX];
	struct sip *sip;
};


static bool phone_update_h(const struct sip_msg *msg, void *arg)
{
	struct updrx *u = arg;

	if (pl_strcmp(&msg->met, "UPDATE"))
		return false;

	++u->n;
	copy_raw(u->raw, msg);
	(void)sip_treplyf(NULL, NULL, u->sip, msg, false, 200, "OK",
			  "Content-Length: 0\r\n\r\n");

	return true;
}


static void session_timer_expiry_sends_bye(void **state)
{
	struct fixture *f = *state;
	struct uac u;

	/* 10 ms per second: Session-Expires 90 = 0.9 s, BYE 30 s early */
	endpoint_set_session_timer_unit(f->ep, 10);

	uac_call_wait(f, &u, "1000", offer_pcmu,
		      "Session-Expires: 90;refresher=uac\r\n"
		      "Supported: timer\r\n");
	assert_true(u.estab);
	assert_has(u.raw, "Session-Expires: 90;refresher=uac\r\n");

	/* the phone never refreshes: BYE after about 600 ms */
	assert_true(run_until(uac_closed, &u, WAIT_MS));
	assert_true(u.closed_by_bye);
	assert_has(f->log, "no session refresh within 90 s, hanging up");
	assert_true(run_until(nothing_left, f, WAIT_MS));
}


static void session_timer_update_refresh_keeps_call(void **state)
{
	struct fixture *f = *state;
	struct uac u;

	endpoint_set_session_timer_unit(f->ep, 10);

	uac_call_wait(f, &u, "1000", offer_pcmu,
		      "Session-Expires: 90\r\nSupported: timer\r\n");
	assert_true(u.estab);

	/* refresh every 400 ms (40 "s") for 1.6 s: well past expiry */
	for (int i = 0; i < 4; i++) {
		struct sip_request *req = NULL;
		struct oreq r;

		(void)run_until(uac_closed, &u, 400);
		assert_false(u.closed);

		memset(&r, 0, sizeof(r));
		assert_int_equal(0, sip_drequestf(&req, f->csip, true,
				"UPDATE", sipsess_dialog(u.sess), 0, NULL,
				NULL, oreq_resp_h, &r,
				"Session-Expires: 90;refresher=uac\r\n"
				"Supported: timer\r\n"
				"Content-Length: 0\r\n\r\n"));
		assert_true(run_until(oreq_done, &r, WAIT_MS));
		mem_deref(req);
		assert_int_equal(200, r.scode);
	}
	assert_false(u.closed);

	/* and when the refreshes stop, the call ends */
	assert_true(run_until(uac_closed, &u, WAIT_MS));
	assert_true(u.closed_by_bye);
}


static void session_timer_we_refresh_by_update(void **state)
{
	struct fixture *f = *state;
	struct sip_lsnr *lsnr = NULL;
	struct updrx rx;
	struct uac u;

	memset(&rx, 0, sizeof(rx));
	rx.sip = f->csip;
	assert_int_equal(0, sip_listen(&lsnr, f->csip, true, phone_update_h,
				       &rx));
	endpoint_set_session_timer_unit(f->ep, 10);

	uac_call_wait(f, &u, "1000", offer_pcmu,
		      "Session-Expires: 90;refresher=uas\r\n"
		      "Supported: timer\r\n"
		      "Allow: INVITE, ACK, BYE, CANCEL, UPDATE\r\n");
	assert_true(u.estab);
	assert_has(u.raw, "Session-Expires: 90;refresher=uas\r\n");

	/* we refresh at half the interval: 450 ms, so 2 in about 1.2 s */
	(void)run_until(uac_closed, &u, 1200);
	assert_false(u.closed);
	assert_true(rx.n >= 2);
	assert_has(rx.raw, "UPDATE sip:phone@");
	assert_has(rx.raw, "Session-Expires: 90;refresher=uas\r\n");

	uac_bye(&u);
	assert_true(run_until(nothing_left, f, WAIT_MS));
	mem_deref(lsnr);
}


/* IP_TOS of the socket bound to laddr with the given type, -1 if none;
 * *countp (optional) gets how many such sockets carry that same TOS */
static int sock_tos_n(const struct sa *laddr, int type, unsigned *countp)
{
	int first = -1;
	unsigned n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int t = 0, tos = 0;
		socklen_t tl = sizeof(t), ol = sizeof(tos);
		struct sa sa;

		if (getsockname(fd, (struct sockaddr *)&ss, &len) ||
		    ss.ss_family != AF_INET)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &tl) || t != type)
			continue;
		if (sa_set_sa(&sa, (struct sockaddr *)&ss) ||
		    !sa_cmp(&sa, laddr, SA_ALL))
			continue;
		if (getsockopt(fd, IPPROTO_IP, IP_TOS, &tos, &ol))
			return -1;
		if (first < 0)
			first = tos;
		if (tos == first)
			++n;
	}

	if (countp)
		*countp = n;

	return first;
}


static int sock_tos(const struct sa *laddr, int type)
{
	return sock_tos_n(laddr, type, NULL);
}


static void sip_sockets_carry_dscp_cs3(void **state)
{
	struct fixture *f = *state;

	/* chorus.conf default dscp_sip 24 (CS3): TOS byte 24 << 2 */
	assert_int_equal(24, f->cfg->dscp_sip);
	assert_int_equal(24 << 2, sock_tos(&f->ep_udp, SOCK_DGRAM));
	assert_int_equal(24 << 2, sock_tos(&f->ep_tcp, SOCK_STREAM));
	/* the phone's sockets are untouched */
	assert_int_equal(0, sock_tos(&f->caddr, SOCK_DGRAM));
	assert_has(f->log, "sip: DSCP 24 on 2 SIP sockets");
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			unknown_room_is_404_and_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(
			room_1000_answers_200_with_sdp_then_bye,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			no_common_codec_is_488_with_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(
			malformed_sdp_is_400_with_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(
			unsupported_require_is_420, setup, teardown),
		cmocka_unit_test_setup_teardown(
			full_room_486_locked_room_403, setup, teardown),
		cmocka_unit_test_setup_teardown(
			late_offer_answer_from_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(
			reinvite_hold_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(
			options_and_other_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(
			session_timer_422_and_accept, setup, teardown),
		cmocka_unit_test_setup_teardown(
			update_refresh_answered_with_session_expires,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			shutdown_byes_calls_and_refuses_503, setup, teardown),
		cmocka_unit_test_setup_teardown(
			answer_delay_rings_and_cancel_leaves_nothing,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			rtp_timeout_sends_bye, setup_rtp_timeout, teardown),
		cmocka_unit_test_setup_teardown(
			invite_over_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(
			reinvite_without_sdp_takes_answer_from_ack,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			udp_content_length_beyond_datagram_is_400,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			session_timer_expiry_sends_bye, setup, teardown),
		cmocka_unit_test_setup_teardown(
			session_timer_update_refresh_keeps_call,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			session_timer_we_refresh_by_update, setup, teardown),
		cmocka_unit_test_setup_teardown(
			sip_sockets_carry_dscp_cs3, setup, teardown),
	};

	return cmocka_run_group_tests(tests, tu_libre_init, tu_libre_close);
}
