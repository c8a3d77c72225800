/**
 * @file endpoint.c  The SIP endpoint: transports, INVITE routing to rooms,
 * OPTIONS, errors for what we do not handle, graceful shutdown.
 *
 * Listeners, in the order libre asks them: sipsess (INVITE, ACK, BYE,
 * in-dialog INFO/REFER), then ours (OPTIONS, UPDATE, 405/501 for the
 * rest). A wildcard listen address becomes one transport per local
 * address (IPv4 for 0.0.0.0, IPv4 and IPv6 for [::]), because libre 1.1
 * refuses to bind SIP to a wildcard and the arrival address is what goes
 * into Contact and SDP.
 *
 * DSCP: libre 1.1 gives no access to the sockets of its SIP transports,
 * so after binding them we find them among our file descriptors by their
 * local address (getsockname) and set IP_TOS / IPV6_TCLASS there. Linux
 * copies the TOS of a listening TCP socket to the connections it accepts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <re.h>

#include "ctrl/log.h"
#include "sip/call.h"
#include "sip/call_int.h"
#include "sip/endpoint.h"
#include "sip/focus.h"
#include "sip/guard.h"
#include "sip/sanity.h"
#include "sip/sip_tls.h"

enum {
	EP_HASH_SIZE      = 64,
	EP_SHUTDOWN_MS    = 3000,   /* bound for BYE transactions          */
	EP_SHUTDOWN_POLL  = 50,
	EP_RETRY_AFTER    = 30,     /* s, in 503 while shutting down       */
	EP_MIN_SE         = 90,     /* RFC 4028 default Min-SE             */
	EP_FD_SCAN_MAX    = 4096,   /* fds searched for the SIP sockets    */
	EP_LADDR_MAX      = 32,     /* transports we remember              */
};

struct endpoint {
	struct call_env env;
	struct dnsc *dnsc;
	struct sipsess_sock *sock;
	struct sip_lsnr *lsnr;
	struct sip_lsnr *lsnr_check; /* mandatory headers, before sipsess */
	struct guard *guard;         /* rate limit and caps (guard.c)   */
	unsigned ntransp;
	struct sa laddrv[EP_LADDR_MAX];  /* bound SIP addresses, for DSCP */

	/* shutdown */
	bool closing;
	struct tmr tmr_close;
	uint64_t close_deadline;
	endpoint_done_h *doneh;
	void *done_arg;
};


static void destructor(void *arg)
{
	struct endpoint *ep = arg;
	struct le *le;

	tmr_cancel(&ep->tmr_close);

	/* calls first: each sipsess still needs the stack */
	le = ep->env.calls.head;
	while (le) {
		struct call *call = le->data;

		le = le->next;
		call_hangup(call, "server stopping");
	}

	mem_deref(ep->env.focus);
	mem_deref(ep->lsnr);
	mem_deref(ep->lsnr_check);
	mem_deref(ep->guard);
	mem_deref(ep->sock);
	if (ep->env.sip)
		sip_close(ep->env.sip, true);
	mem_deref(ep->env.sip);
	mem_deref(ep->dnsc);
}


/* ---- mandatory headers (every request, before sipsess) ---------------- */

/*
 * RFC 3261 8.1.1: every request carries Via, From, To, Call-ID, CSeq (and
 * Max-Forwards, which we do not insist on). A response copies exactly
 * those (8.2.6.2) and the client matches it by branch and CSeq method
 * (17.1.3), so without one of them no valid response can be built: such a
 * request is dropped and logged, as Kamailio's sanity module does
 * (libre 1.1 already drops a request without Via or branch). What can be
 * answered is: Contact missing where it is mandatory (INVITE, SUBSCRIBE,
 * REFER: dialog-creating), and a CSeq whose method is not the request's.
 * Without this, sipsess answered 200 without CSeq/To and created a leg,
 * or failed with 500 "sipsess_accept failed (Bad message)".
 */
static bool check_handler(const struct sip_msg *msg, void *arg)
{
	static const struct {
		enum sip_hdrid id;
		const char *name;
	} quad[] = {
		{SIP_HDR_VIA, "Via"}, {SIP_HDR_FROM, "From"},
		{SIP_HDR_TO, "To"}, {SIP_HDR_CALL_ID, "Call-ID"},
		{SIP_HDR_CSEQ, "CSeq"},
	};
	struct endpoint *ep = arg;
	char why[96], unsup[256];
	uint16_t scode;

	for (size_t i = 0; i < ARRAY_SIZE(quad); i++) {
		if (sip_msg_hdr(msg, quad[i].id))
			continue;

		warning("sip: %r %r from %J dropped: missing %s (no valid"
			" response can be built)\n", &msg->met, &msg->ruri,
			&msg->src, quad[i].name);
		return true;
	}

	if (!pl_strcmp(&msg->met, "ACK"))
		return false;

	/* RFC 4475 3.1.2 / RFC 5118: duplicates, ranges, quoting, URI */
	if (sanity_request(msg, &scode, why, sizeof(why))) {
		call_reject_warning(ep->env.sip, msg, scode,
				    scode == 416 ? "Unsupported URI Scheme" :
				    "Bad Request", why);
		return true;
	}

	/* RFC 3261 8.2.2.3 (RFC 4475 3.3.5): INVITE's is in call.c */
	if (!pl_strcmp(&msg->met, "OPTIONS") &&
	    call_require_unsupported(msg, unsup, sizeof(unsup))) {
		char hdrs[300];

		re_snprintf(hdrs, sizeof(hdrs), "Unsupported: %s\r\n", unsup);
		call_reject(ep->env.sip, msg, 420, "Bad Extension", hdrs,
			    "unsupported Require");
		return true;
	}

	if (pl_cmp(&msg->cseq.met, &msg->met)) {
		call_reject_warning(ep->env.sip, msg, 400,
				    "Bad Request (CSeq method mismatch)",
				    "CSeq method mismatch");
		return true;
	}

	if ((!pl_strcmp(&msg->met, "INVITE") ||
	     !pl_strcmp(&msg->met, "SUBSCRIBE") ||
	     !pl_strcmp(&msg->met, "REFER")) &&
	    !sip_msg_hdr(msg, SIP_HDR_CONTACT)) {
		call_reject_warning(ep->env.sip, msg, 400,
				    "Bad Request (Missing Contact)",
				    "Missing Contact");
		return true;
	}

	return false;
}


/* ---- OPTIONS and the rest --------------------------------------------- */

static bool method_known(const struct pl *met)
{
	static const char *known[] = {
		"REGISTER", "SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE",
		"REFER", "INFO", "PRACK", "UPDATE",
	};

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!pl_strcmp(met, known[i]))
			return true;

	return false;
}


static bool request_handler(const struct sip_msg *msg, void *arg)
{
	struct endpoint *ep = arg;
	struct sip *sip = ep->env.sip;

	if (!pl_strcmp(&msg->met, "OPTIONS")) {
		(void)sip_treplyf(NULL, NULL, sip, msg, false, 200, "OK",
				  "Allow: " CALL_ALLOW "\r\n"
				  "Accept: application/sdp\r\n"
				  "Supported: " CALL_SUPPORTED "\r\n"
				  CALL_RECV_INFO
				  "Allow-Events: conference, refer\r\n"
				  "Content-Length: 0\r\n"
				  "\r\n");
		return true;
	}

	if (!pl_strcmp(&msg->met, "UPDATE") && pl_isset(&msg->to.tag)) {
		call_update_request(&ep->env, msg);
		return true;
	}

	/* ACK for a dialog that is gone, or a stray one: nothing to say */
	if (!pl_strcmp(&msg->met, "ACK"))
		return true;

	/* CANCEL without a transaction: libre answers 481 */
	if (!pl_strcmp(&msg->met, "CANCEL"))
		return false;

	if (method_known(&msg->met)) {
		call_reject(sip, msg, 405, "Method Not Allowed",
			    "Allow: " CALL_ALLOW "\r\n",
			    "method not supported");
	}
	else {
		call_reject(sip, msg, 501, "Not Implemented",
			    "Allow: " CALL_ALLOW "\r\n", "unknown method");
	}

	return true;
}


/* ---- INVITE ----------------------------------------------------------- */

static void conn_handler(const struct sip_msg *msg, void *arg)
{
	struct endpoint *ep = arg;
	struct room *room = NULL;
	char number[64], hdrs[64], why[128];
	enum leg_role role = LEG_PARTICIPANT;
	char *pin;
	int err;

	if (ep->closing) {
		re_snprintf(hdrs, sizeof(hdrs), "Retry-After: %u\r\n",
			    EP_RETRY_AFTER);
		call_reject(ep->env.sip, msg, 503, "Service Unavailable",
			    hdrs, "shutting down");
		return;
	}

	/* RFC 3261 18.3: over UDP a body shorter than Content-Length is
	   a truncated datagram, answer 400 (libre 1.1 passes it on) */
	if (msg->tp == SIP_TRANSP_UDP && pl_isset(&msg->clen) &&
	    pl_u32(&msg->clen) > mbuf_get_left(msg->mb)) {
		re_snprintf(why, sizeof(why), "Content-Length %u exceeds the"
			    " %zu bytes of body received", pl_u32(&msg->clen),
			    mbuf_get_left(msg->mb));
		call_reject(ep->env.sip, msg, 400, "Bad Request", NULL, why);
		return;
	}

	if (!pl_isset(&msg->uri.user) ||
	    msg->uri.user.l >= sizeof(number)) {
		call_reject(ep->env.sip, msg, 404, "Not Found", NULL,
			    "no room number in the Request-URI");
		return;
	}

	(void)pl_strcpy(&msg->uri.user, number, sizeof(number));

	/* "1000*1234": room 1000 with its PIN (focus.c admits the leg) */
	pin = strchr(number, '*');
	if (pin)
		*pin++ = '\0';

	err = registry_room_get(ep->env.reg, number, &room);
	if (err == ENOENT) {
		call_reject(ep->env.sip, msg, 404, "Not Found", NULL,
			    "no such room");
		return;
	}
	else if (err) {
		re_snprintf(why, sizeof(why), "room %s: %m", number, err);
		call_reject(ep->env.sip, msg, 500, "Server Internal Error",
			    NULL, why);
		return;
	}

	if (room_locked(room)) {
		call_reject(ep->env.sip, msg, 403, "Forbidden", NULL,
			    "room locked");
		return;
	}

	if (room_full(room)) {
		call_reject(ep->env.sip, msg, 486, "Busy Here", NULL,
			    "room full");
		return;
	}

	/* caps: legs in total, dialogs per source, media worker load */
	{
		uint32_t ra;
		uint16_t sc = guard_admit(ep->guard, msg, room, &ra, why,
					  sizeof(why));
		if (sc) {
			re_snprintf(hdrs, sizeof(hdrs), "Retry-After: %u\r\n",
				    ra);
			call_reject(ep->env.sip, msg, sc,
				    "Service Unavailable", hdrs, why);
			return;
		}
	}

	if (pin && room_pin_check(room, pin, &role)) {
		call_reject(ep->env.sip, msg, 403, "Forbidden", NULL,
			    "wrong PIN in the Request-URI");
		return;
	}

	if (!call_incoming(&ep->env, msg, room) && ep->env.calls.tail) {
		guard_dialog_added(ep->guard, msg,
			leg_id(call_leg(ep->env.calls.tail->data)));
		if (pin)
			focus_admit(ep->env.focus,
				    call_leg(ep->env.calls.tail->data), role);
	}
}


/* ---- transports --------------------------------------------------------- */

static int transp_add(struct endpoint *ep, const struct sa *laddr)
{
	int err = 0;

	if (ep->env.cfg->sip_udp) {
		err = sip_transp_add(ep->env.sip, SIP_TRANSP_UDP, laddr);
		if (err) {
			warning("sip: UDP listen on %J failed (%m)\n",
				laddr, err);
			return err;
		}
		info("sip: listening on udp:%J\n", laddr);
	}

	if (ep->env.cfg->sip_tcp) {
		err = sip_transp_add(ep->env.sip, SIP_TRANSP_TCP, laddr);
		if (err) {
			warning("sip: TCP listen on %J failed (%m)\n",
				laddr, err);
			return err;
		}
		info("sip: listening on tcp:%J\n", laddr);
	}

	if (ep->ntransp < EP_LADDR_MAX)
		ep->laddrv[ep->ntransp] = *laddr;
	++ep->ntransp;

	return 0;
}


static bool laddr_is_sip(const struct endpoint *ep, const struct sa *sa)
{
	struct sa tp;

	for (unsigned i = 0; i < ep->ntransp && i < EP_LADDR_MAX; i++) {
		if (sa_port(&ep->laddrv[i])) {
			if (sa_cmp(&ep->laddrv[i], sa, SA_ALL))
				return true;
		}
		else if (sa_cmp(&ep->laddrv[i], sa, SA_ADDR)) {
			/* port 0 (tests): the stack knows the port it got */
			for (int t = SIP_TRANSP_UDP; t <= SIP_TRANSP_TCP; t++)
				if (!sip_transp_laddr(ep->env.sip, &tp, t,
						      sa) &&
				    sa_cmp(&tp, sa, SA_ALL))
					return true;
		}
	}

	return false;
}


/* Returns how many SIP sockets got the DSCP. */
static unsigned dscp_apply(const struct endpoint *ep, uint8_t dscp)
{
	const int tos = dscp << 2;
	unsigned n = 0;

	for (int fd = 0; fd < EP_FD_SCAN_MAX; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct stat st;
		struct sa sa;
		int err;

		if (fstat(fd, &st) || !S_ISSOCK(st.st_mode))
			continue;
		if (getsockname(fd, (struct sockaddr *)&ss, &len))
			continue;
		if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
			continue;
		if (sa_set_sa(&sa, (struct sockaddr *)&ss))
			continue;
		if (!laddr_is_sip(ep, &sa))
			continue;

		if (ss.ss_family == AF_INET)
			err = setsockopt(fd, IPPROTO_IP, IP_TOS, &tos,
					 sizeof(tos));
		else
			err = setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos,
					 sizeof(tos));
		if (!err)
			++n;
	}

	return n;
}


struct ifwalk {
	struct endpoint *ep;
	uint16_t port;
	bool loopback;     /* this pass takes loopback addresses only */
	bool v6;           /* "[::]": IPv6 addresses too               */
	int err;
};


static bool if_handler(const char *ifname, const struct sa *sa, void *arg)
{
	struct ifwalk *w = arg;
	struct sa laddr;
	(void)ifname;

	if (sa_af(sa) != AF_INET && !(w->v6 && sa_af(sa) == AF_INET6))
		return false;
	if (sa_is_linklocal(sa))
		return false;
	if (sa_is_loopback(sa) != w->loopback)
		return false;

	sa_cpy(&laddr, sa);
	sa_set_port(&laddr, w->port);

	/* a duplicate address (two interfaces) is not worth failing for */
	if (sip_transp_isladdr(w->ep->env.sip, SIP_TRANSP_UDP, &laddr) ||
	    sip_transp_isladdr(w->ep->env.sip, SIP_TRANSP_TCP, &laddr))
		return false;

	w->err = transp_add(w->ep, &laddr);

	return w->err != 0;
}


static int listen_all(struct endpoint *ep)
{
	struct sa laddr;
	int err;

	err = sa_decode(&laddr, ep->env.cfg->sip_listen,
			strlen(ep->env.cfg->sip_listen));
	if (err) {
		warning("sip: bad sip_listen \"%s\" (%m)\n",
			ep->env.cfg->sip_listen, err);
		return err;
	}

	if (!sa_is_any(&laddr))
		return transp_add(ep, &laddr);

	/* libre 1.1 sends requests (BYE) from the first transport of the
	   address family: put a routable address before loopback */
	for (int pass = 0; pass < 2 && !err; pass++) {
		struct ifwalk w = {ep, sa_port(&laddr), pass == 1,
				   sa_af(&laddr) == AF_INET6, 0};

		err = net_if_apply(if_handler, &w);
		if (!err)
			err = w.err;
	}

	if (!err && !ep->ntransp)
		err = EADDRNOTAVAIL;

	return err;
}


static void dns_init(struct endpoint *ep)
{
	struct sa nsv[4];
	uint32_t nsn = ARRAY_SIZE(nsv);
	char domain[64] = "";

	/* only for dialog targets given as host names; optional */
	if (dns_srv_get(domain, sizeof(domain), nsv, &nsn) || !nsn)
		return;

	(void)dnsc_alloc(&ep->dnsc, NULL, nsv, nsn);
}


int endpoint_alloc(struct endpoint **epp, struct cfg *cfg,
		   struct registry *reg, struct media_engine *me)
{
	struct endpoint *ep;
	int err;

	if (!epp || !cfg || !reg)
		return EINVAL;

	ep = mem_zalloc(sizeof(*ep), destructor);
	if (!ep)
		return ENOMEM;

	ep->env.cfg = cfg;
	ep->env.reg = reg;
	ep->env.me  = me;
	ep->env.min_se = EP_MIN_SE;

	sdpneg_prefs_default(&ep->env.prefs);
	for (unsigned i = 0; i < cfg->ncodecs && i < SDPNEG_CODECS_MAX; i++)
		ep->env.prefs.codecs[ep->env.prefs.ncodecs++] = cfg->codecs[i];

	dns_init(ep);

	err = sip_alloc(&ep->env.sip, ep->dnsc, 32, 32, 32,
			"chorus/" CHORUS_VERSION, NULL, NULL);
	if (err) {
		warning("sip: sip_alloc failed (%m)\n", err);
		goto out;
	}

	err = listen_all(ep);
	if (!err)
		err = sip_tls_listen(ep->env.sip, cfg);
	if (err)
		goto out;

	/* first listener: sees every new request before sipsess does */
	err = guard_alloc(&ep->guard, cfg, ep->env.sip, reg, me);
	if (err)
		goto out;

	/* second: malformed requests never reach sipsess or the focus */
	err = sip_listen(&ep->lsnr_check, ep->env.sip, true, check_handler,
			 ep);
	if (err)
		goto out;

	err = sipsess_listen(&ep->sock, ep->env.sip, EP_HASH_SIZE,
			     conn_handler, ep);
	if (err)
		goto out;
	ep->env.sock = ep->sock;

	/* the focus listens before our catch-all (SUBSCRIBE, REFER, ...) */
	err = focus_alloc(&ep->env.focus, &ep->env);
	if (err)
		goto out;

	err = sip_listen(&ep->lsnr, ep->env.sip, true, request_handler, ep);
	if (err)
		goto out;

	if (cfg->dscp_sip) {
		unsigned n = dscp_apply(ep, cfg->dscp_sip);

		if (n)
			info("sip: DSCP %u on %u SIP socket%s\n",
			     cfg->dscp_sip, n, n == 1 ? "" : "s");
		else
			warning("sip: DSCP %u: SIP sockets not found\n",
				cfg->dscp_sip);
	}

 out:
	if (err)
		mem_deref(ep);
	else
		*epp = ep;

	return err;
}


int endpoint_laddr(const struct endpoint *ep, enum sip_transp tp,
		   struct sa *laddr)
{
	if (!ep || !laddr)
		return EINVAL;

	return sip_transp_laddr(ep->env.sip, laddr, tp, NULL);
}


void endpoint_set_answer_delay(struct endpoint *ep, uint32_t ms)
{
	if (ep)
		ep->env.answer_delay_ms = ms;
}


void endpoint_set_session_timer_unit(struct endpoint *ep, uint32_t ms)
{
	if (ep)
		ep->env.st_unit_ms = ms;
}


uint32_t endpoint_call_count(const struct endpoint *ep)
{
	return ep ? list_count(&ep->env.calls) : 0;
}


/* ---- media events --------------------------------------------------------- */

void endpoint_media_event(struct endpoint *ep, const struct media_event *ev)
{
	struct leg *leg;
	struct call *call;

	if (!ep || !ev)
		return;

	if (ev->type == MEDIA_EV_DTMF)
		focus_media_event(ep->env.focus, ev);

	if (ev->type != MEDIA_EV_LEG_TIMEOUT) {
		registry_media_event(ep->env.reg, ev);
		return;
	}

	leg = registry_leg_by_id(ep->env.reg, ev->leg_id);
	call = leg ? leg_udata(leg) : NULL;
	if (!call) {
		registry_media_event(ep->env.reg, ev);
		return;
	}

	warning("sip: room %s leg %u: no RTP/RTCP for %u ms, sending BYE\n",
		room_number(leg_room(leg)), ev->leg_id,
		ep->env.cfg->media.rtp_timeout_ms);
	call_hangup(call, "RTP timeout");
}


/* ---- shutdown ------------------------------------------------------------ */

static void close_poll(void *arg)
{
	struct endpoint *ep = arg;
	endpoint_done_h *doneh;
	bool idle;

	/* every sipsess holds a reference to the stack until its BYE
	   transaction has finished: only ours left means all are done */
	idle = list_isempty(&ep->env.calls) && mem_nrefs(ep->env.sip) == 1;

	if (!idle && tmr_jiffies() < ep->close_deadline) {
		tmr_start(&ep->tmr_close, EP_SHUTDOWN_POLL, close_poll, ep);
		return;
	}

	info("sip: shutdown %s\n", idle ? "complete" :
	     "timed out waiting for BYE responses");

	doneh = ep->doneh;
	ep->doneh = NULL;
	if (doneh)
		doneh(ep->done_arg);
}


void endpoint_shutdown(struct endpoint *ep, endpoint_done_h *doneh, void *arg)
{
	struct le *le;
	uint32_t n;

	if (!ep)
		return;

	ep->closing  = true;
	ep->doneh    = doneh;
	ep->done_arg = arg;
	ep->close_deadline = tmr_jiffies() + EP_SHUTDOWN_MS;

	n = list_count(&ep->env.calls);
	info("sip: shutting down: BYE to %u call%s\n", n, n == 1 ? "" : "s");

	le = ep->env.calls.head;
	while (le) {
		struct call *call = le->data;

		le = le->next;
		call_hangup(call, "server shutting down");
	}

	tmr_start(&ep->tmr_close, 0, close_poll, ep);
}
