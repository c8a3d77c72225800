/**
 * @file refer.c  REFER to the conference focus (RFC 3515, RFC 4579).
 *
 * Three things a REFER can ask of a room:
 *  - Refer-To: <sip:bob@host>: dial bob into the room (moderators only).
 *    chorus sends the INVITE itself (sipsess_connect, via the outbound
 *    proxy when one is configured) with Referred-By, and the dialed leg
 *    is an ordinary participant once it answers ("dialed-out" in the
 *    roster);
 *  - Refer-To: <sip:carol@host;method=BYE>: remove carol (moderators, or
 *    anyone removing themselves); the sipfrag says 200 once she is gone,
 *    404 when no such participant is in the room;
 *  - Refer-To: another room on this server, in a participant's own
 *    dialog: move the sender there, same dialog, the audio switches at a
 *    frame boundary (media_leg_move, also across workers).
 *
 * The REFER is answered 202 and the implicit subscription (libre
 * sipevent_accept) gets "SIP/2.0 100 Trying" then the final status, and
 * ends (Subscription-State: terminated). RFC 4488 "Refer-Sub: false": no
 * subscription, no NOTIFY, and the 202 carries Refer-Sub: false.
 * Errors before acceptance: 400 (no, several or an unparseable
 * Refer-To), 403 (not allowed), 404 (no such room, out of dialog).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <re.h>

#include "ctrl/log.h"
#include "sip/call.h"
#include "sip/call_int.h"
#include "sip/sec_sdp.h"
#include "sip/focus.h"
#include "sip/info.h"
#include "sip/refer.h"
#include "sip/auth.h"
#include "room/control.h"

enum {
	REFER_EXPIRES   = 120,   /* s, the implicit subscription         */
	REFER_URI_MAX   = 256,
};

enum refer_action {
	REFER_DIAL,
	REFER_BYE,
	REFER_MOVE,
};

/* one accepted REFER; kept while its dialed leg lives (roster) */
struct refer_job {
	struct le le;
	struct focus *focus;
	struct sipnot *not;      /* NULL: Refer-Sub: false, or finished  */
	enum refer_action action;
	uint32_t leg_id;         /* dialed leg, or the leg to remove     */
	bool done;               /* final status reported                */
	bool dialed;             /* a leg we dialed out                  */
};


static void job_destructor(void *arg)
{
	struct refer_job *j = arg;

	list_unlink(&j->le);
	mem_deref(j->not);
}


static void not_close_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct refer_job *j = arg;
	(void)msg;

	debug("refer: implicit subscription closed (%m)\n", err);
	j->not = mem_deref(j->not);
}


static void job_notify(struct refer_job *j, uint16_t scode,
		       const char *reason)
{
	struct mbuf *mb = NULL;
	bool final = scode >= 200;
	int err;

	if (j->done)
		return;
	if (final)
		j->done = true;

	if (!j->not)
		return;

	err = sipevent_notifyf(j->not, &mb,
			       final ? SIPEVENT_TERMINATED : SIPEVENT_ACTIVE,
			       SIPEVENT_NORESOURCE, 0,
			       "SIP/2.0 %u %s\r\n", scode, reason);
	mem_deref(mb);
	if (err)
		warning("refer: NOTIFY %u failed (%m)\n", scode, err);

	if (final)
		j->not = mem_deref(j->not);
}


static struct refer_job *job_by_leg(struct focus *f, uint32_t leg_id,
				    enum refer_action action)
{
	struct le *le;

	for (le = list_head(focus_refers(f)); le; le = le->next) {
		struct refer_job *j = le->data;

		if (j->leg_id == leg_id && j->action == action && !j->done)
			return j;
	}

	return NULL;
}


/* ---- Refer-To --------------------------------------------------------- */

struct target {
	char uri[REFER_URI_MAX];     /* without <>, parameters kept       */
	char dial[REFER_URI_MAX];    /* what we INVITE: no method/headers */
	struct uri u;
	struct pl upl;
	bool bye;
};


static int target_parse(struct target *t, const struct sip_hdr *hdr)
{
	struct pl v = hdr->val, m;
	const char *lt, *gt;
	char *q;

	memset(t, 0, sizeof(*t));

	lt = pl_strchr(&v, '<');
	if (lt) {
		gt = memchr(lt, '>', v.l - (size_t)(lt - v.p));
		if (!gt)
			return EBADMSG;
		v.p = lt + 1;
		v.l = (size_t)(gt - lt - 1);
	}
	else {
		/* addr-spec without <>: header parameters follow ';' */
		const char *sc = pl_strchr(&v, ';');

		if (sc)
			v.l = (size_t)(sc - v.p);
	}

	if (!v.l || v.l >= sizeof(t->uri))
		return EBADMSG;

	(void)pl_strcpy(&v, t->uri, sizeof(t->uri));
	pl_set_str(&t->upl, t->uri);
	if (uri_decode(&t->u, &t->upl))
		return EBADMSG;
	if (pl_strcasecmp(&t->u.scheme, "sip") &&
	    pl_strcasecmp(&t->u.scheme, "sips"))
		return EBADMSG;
	if (!pl_isset(&t->u.host))
		return EBADMSG;

	if (!msg_param_decode(&t->u.params, "method", &m))
		t->bye = !pl_strcasecmp(&m, "BYE");

	/* the INVITE goes to the URI without its ?headers and method= */
	str_ncpy(t->dial, t->uri, sizeof(t->dial));
	q = strchr(t->dial, '?');
	if (q)
		*q = '\0';
	q = strstr(t->dial, ";method=");
	if (q) {
		char *end = strchr(q + 1, ';');

		if (end)
			memmove(q, end, strlen(end) + 1);
		else
			*q = '\0';
	}

	return 0;
}


/* Is the target one of our rooms (user part a room number, host the
   address the REFER was sent to)? */
static bool target_room(const struct focus *f, const struct target *t,
			const struct sip_msg *msg, char *number, size_t sz)
{
	const struct cfg *cfg = focus_env((struct focus *)f)->cfg;
	struct sa sa;

	if (!pl_isset(&t->u.user) || t->u.user.l >= sz)
		return false;

	if (pl_casecmp(&t->u.host, &msg->uri.host)) {
		if (sa_set(&sa, &t->u.host, 0) ||
		    !sa_cmp(&sa, &msg->dst, SA_ADDR))
			return false;
	}
	if (t->u.port && msg->uri.port && t->u.port != msg->uri.port &&
	    t->u.port != sa_port(&msg->dst))
		return false;

	(void)pl_strcpy(&t->u.user, number, sz);

	return registry_room_find(focus_env((struct focus *)f)->reg, number) ||
		cfg_room_find(cfg, number) || cfg_room_auto(cfg, number);
}


static struct leg *room_leg_by_uri(struct room *room, const char *uri)
{
	struct le *le;

	for (le = list_head(room_legs(room)); le; le = le->next) {
		struct leg *leg = le->data;

		if (leg_state(leg) == LEG_ESTABLISHED &&
		    control_uri_match(uri, leg_remote_uri(leg)))
			return leg;
	}

	return NULL;
}


/* ---- dial-out call ------------------------------------------------------ */

static int dial_offer_handler(struct mbuf **descp, const struct sip_msg *msg,
			      void *arg)
{
	struct call *call = arg;
	struct sdpneg_result res;
	bool was_hold = call->hold;
	int err;

	memset(&res, 0, sizeof(res));
	if (!mbuf_get_left(msg->mb))
		return sdp_encode(descp, call->sdp, true);

	err = call_offer_take(call, msg, descp, &res, false);
	if (err)
		return err;

	call->neg = res;
	call->neg_valid = true;
	call->hold = res.hold;
	call_media_apply(call);
	if (call->hold != was_hold)
		leg_changed(call->leg);

	return 0;
}


static void dial_progress_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	debug("refer: room %s leg %u: %u %r\n", call->number, call->leg_id,
	      msg->scode, &msg->reason);
}


static void dial_estab_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct refer_job *j;
	(void)msg;

	call->established = true;
	call->answered = true;
	leg_set_state(call->leg, LEG_ESTABLISHED);
	info("refer: room %s leg %u: %s answered, joined (%u in room)\n",
	     call->number, call->leg_id, call->peer,
	     room_leg_count(leg_room(call->leg)));

	j = job_by_leg(call->env->focus, call->leg_id, REFER_DIAL);
	if (j)
		job_notify(j, 200, "OK");
}


static void dial_info_handler(struct sip *sip, const struct sip_msg *msg,
			      void *arg)
{
	info_handle(arg, sip, msg);
}


static void dial_refer_handler(struct sip *sip, const struct sip_msg *msg,
			       void *arg)
{
	refer_handle(arg, sip, msg);
}


static void dial_close_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct refer_job *j = job_by_leg(call->env->focus, call->leg_id,
					 REFER_DIAL);

	if (msg && !msg->req)
		info("refer: room %s leg %u: %s: %u %r\n", call->number,
		     call->leg_id, call->peer, msg->scode, &msg->reason);
	else
		info("refer: room %s leg %u: %s closed (%m)\n", call->number,
		     call->leg_id, call->peer, err);

	if (j && !call->established) {
		char reason[64];

		if (msg && !msg->req && msg->scode >= 300) {
			pl_strcpy(&msg->reason, reason, sizeof(reason));
			job_notify(j, msg->scode, reason);
		}
		else if (err == ETIMEDOUT) {
			job_notify(j, 408, "Request Timeout");
		}
		else {
			job_notify(j, 503, "Service Unavailable");
		}
	}

	if (call->leg)
		leg_set_state(call->leg, LEG_CLOSING);
	mem_deref(call);
}


static int dial(struct focus *f, struct room *room, const struct target *t,
		const char *referred_by, const struct sip_msg *msg,
		uint32_t *leg_idp)
{
	struct call_env *env = focus_env(f);
	const struct cfg_room *rc = room_cfg(room);
	struct mbuf *desc = NULL;
	struct call *call;
	struct sa laddr;
	char from[160], route[300];
	const char *routev[1];
	int err;

	call = mem_zalloc(sizeof(*call), call_destructor);
	if (!call)
		return ENOMEM;

	call->env = env;
	call->ms.fd_rtp = call->ms.fd_rtcp = -1;
	str_ncpy(call->number, room_number(room), sizeof(call->number));
	call->room_id = room_id(room);
	str_ncpy(call->peer, t->dial, sizeof(call->peer));

	if (str_isset(env->cfg->public_addr))
		err = sa_set_str(&laddr, env->cfg->public_addr, 0);
	else {
		sa_cpy(&laddr, &msg->dst);
		sa_set_port(&laddr, 0);
		err = 0;
	}
	if (!err)
		err = sdpneg_session_alloc(&call->sdp, &laddr, &env->prefs);
	if (err)
		goto out;

	err = leg_alloc(&call->leg, room, t->dial, NULL);
	if (err)
		goto out;

	call->leg_id = leg_id(call->leg);
	leg_set_udata(call->leg, call);
	leg_set_state(call->leg, LEG_PROCEEDING);
	/* invited by a moderator: no PIN to enter */
	control_admit(focus_control(f), call->leg, LEG_PARTICIPANT);

	sa_cpy(&laddr, &msg->dst);
	sa_set_port(&laddr, 0);
	if (env->me) {
		err = media_sock_alloc(env->me, &call->ms, &laddr, false);
		if (err)
			goto out;
		call->ms_owned = true;
	}
	else {
		sa_cpy(&call->ms.laddr_rtp, &laddr);
		sa_set_port(&call->ms.laddr_rtp, 9);
		sa_cpy(&call->ms.laddr_rtcp, &laddr);
		sa_set_port(&call->ms.laddr_rtcp, 10);
	}

	err = sdpneg_offer_prepare(call->sdp, &env->prefs,
				   sa_port(&call->ms.laddr_rtp),
				   sa_port(&call->ms.laddr_rtcp));
	/* the room's SRTP policy applies to the callee too */
	if (!err)
		err = sec_sdp_offer_prepare(call->sdp,
					    sec_sdp_policy(env->cfg, room),
					    &call->srtp_ours);
	if (!err)
		err = sdp_encode(&desc, call->sdp, true);
	if (err)
		goto out;

	if (sa_af(&msg->dst) == AF_INET6)
		re_snprintf(from, sizeof(from), "sip:%s@[%j]:%u",
			    call->number, &msg->dst, sa_port(&msg->dst));
	else
		re_snprintf(from, sizeof(from), "sip:%s@%j:%u",
			    call->number, &msg->dst, sa_port(&msg->dst));

	if (str_isset(env->cfg->outbound_proxy)) {
		re_snprintf(route, sizeof(route), "%s%s",
			    env->cfg->outbound_proxy,
			    strstr(env->cfg->outbound_proxy, ";lr") ?
			    "" : ";lr");
		routev[0] = route;
	}

	err = sipsess_connect(&call->sess, env->sock, t->dial,
			      rc->name[0] && !strpbrk(rc->name, "\"\\\r\n") ?
			      rc->name : NULL, from,
			      call->number,
			      str_isset(env->cfg->outbound_proxy) ? routev :
			      NULL,
			      str_isset(env->cfg->outbound_proxy) ? 1 : 0,
			      "application/sdp", desc, NULL, NULL, false,
			      dial_offer_handler, call_answer_handler,
			      dial_progress_handler, dial_estab_handler,
			      dial_info_handler, dial_refer_handler,
			      dial_close_handler, call,
			      "Referred-By: %s\r\n"
			      "Allow: " CALL_ALLOW "\r\n"
			      "Supported: " CALL_SUPPORTED "\r\n"
			      CALL_RECV_INFO,
			      referred_by);
	if (err)
		goto out;

	list_append(&env->calls, &call->le, call);
	*leg_idp = call->leg_id;

	info("refer: room %s leg %u: dialing %s (Referred-By %s)\n",
	     call->number, call->leg_id, t->dial, referred_by);

 out:
	mem_deref(desc);
	if (err)
		mem_deref(call);

	return err;
}


/* ---- the REFER ----------------------------------------------------------- */

static bool refer_sub_false(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_REFER_SUB);

	return h && !pl_strcasecmp(&h->val, "false");
}


/* 202 and (unless Refer-Sub: false) the implicit subscription */
static struct refer_job *job_accept(struct focus *f, const struct sip_msg *msg,
				    struct sip_dialog *dlg, const char *cuser,
				    enum refer_action action)
{
	struct call_env *env = focus_env(f);
	struct refer_job *j;
	int err;

	j = mem_zalloc(sizeof(*j), job_destructor);
	if (!j)
		return NULL;

	j->focus = f;
	j->action = action;

	if (refer_sub_false(msg)) {
		(void)sip_treplyf(NULL, NULL, env->sip, msg, false, 202,
				  "Accepted",
				  "Refer-Sub: false\r\n"
				  "Content-Length: 0\r\n"
				  "\r\n");
	}
	else {
		err = sipevent_accept(&j->not, focus_sipevent(f), msg, dlg,
				      NULL, 202, "Accepted", REFER_EXPIRES,
				      REFER_EXPIRES, REFER_EXPIRES, cuser,
				      "message/sipfrag;version=2.0",
				      NULL, NULL, false, not_close_handler, j,
				      NULL);
		if (err) {
			warning("refer: sipevent_accept failed (%m)\n", err);
			mem_deref(j);
			call_reject(env->sip, msg, 500,
				    "Server Internal Error", NULL,
				    "REFER subscription");
			return NULL;
		}
	}

	list_append(focus_refers(f), &j->le, j);
	job_notify(j, 100, "Trying");

	return j;
}


static void referred_by(const struct sip_msg *msg, char *buf, size_t sz)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_REFERRED_BY);

	if (h)
		re_snprintf(buf, sz, "%r", &h->val);
	else
		re_snprintf(buf, sz, "<%r>", &msg->from.auri);
}


static void do_bye(struct focus *f, struct refer_job *j, struct room *room,
		   const struct target *t)
{
	struct leg *leg = room_leg_by_uri(room, t->uri);

	if (!leg) {
		info("refer: room %s: BYE for %s: no such participant\n",
		     room_number(room), t->uri);
		job_notify(j, 404, "Not Found");
		return;
	}

	j->leg_id = leg_id(leg);
	focus_kick(f, leg, "removed by REFER");
}


static void do_dial(struct focus *f, struct refer_job *j, struct room *room,
		    const struct target *t, const struct sip_msg *msg)
{
	char rb[REFER_URI_MAX];
	int err;

	referred_by(msg, rb, sizeof(rb));

	err = dial(f, room, t, rb, msg, &j->leg_id);
	switch (err) {

	case 0:
		j->dialed = true;
		return;
	case ENOSPC:
		job_notify(j, 486, "Busy Here");
		break;
	case EPERM:
		job_notify(j, 403, "Forbidden");
		break;
	default:
		warning("refer: room %s: dialing %s failed (%m)\n",
			room_number(room), t->dial, err);
		job_notify(j, 500, "Server Internal Error");
		break;
	}
}


static void do_move(struct focus *f, struct refer_job *j, struct call *call,
		    const char *number)
{
	struct call_env *env = focus_env(f);
	struct room *to = NULL;
	unsigned w_from = 0, w_to = 0;
	bool workers = false;
	int err;

	if (env->me)
		workers = !media_room_worker(env->me, call->room_id, &w_from);

	err = registry_room_get(env->reg, number, &to);
	if (!err && to == leg_room(call->leg)) {
		job_notify(j, 200, "OK");
		return;
	}
	if (!err && room_pin_required(to) &&
	    leg_role(call->leg) != LEG_MODERATOR)
		err = EACCES;
	if (!err)
		err = leg_move(call->leg, to);

	switch (err) {

	case 0:
		str_ncpy(call->number, number, sizeof(call->number));
		call->room_id = room_id(to);
		if (workers &&
		    !media_room_worker(env->me, call->room_id, &w_to))
			info("refer: leg %u moved to room %s (media worker"
			     " %u -> %u)\n", call->leg_id, number, w_from,
			     w_to);
		else
			info("refer: leg %u moved to room %s\n",
			     call->leg_id, number);
		job_notify(j, 200, "OK");
		break;
	case ENOSPC:
		job_notify(j, 486, "Busy Here");
		break;
	case EPERM:
	case EACCES:
		job_notify(j, 403, "Forbidden");
		break;
	case ENOENT:
		job_notify(j, 404, "Not Found");
		break;
	default:
		job_notify(j, 500, "Server Internal Error");
		break;
	}
}


/* A job that has reported its final status and watches no leg goes. */
static void job_settle(struct refer_job *j)
{
	if (j && j->done && !j->dialed)
		mem_deref(j);
}


/* Common checks; returns false when msg was answered with an error. */
static bool refer_to(struct focus *f, const struct sip_msg *msg,
		     struct target *t)
{
	struct sip *sip = focus_env(f)->sip;
	uint32_t n = sip_msg_hdr_count(msg, SIP_HDR_REFER_TO);

	if (n == 0) {
		call_reject(sip, msg, 400, "Missing Refer-To", NULL,
			    "REFER without Refer-To");
		return false;
	}
	if (n > 1) {
		call_reject(sip, msg, 400, "Bad Request", NULL,
			    "REFER with more than one Refer-To");
		return false;
	}
	if (target_parse(t, sip_msg_hdr(msg, SIP_HDR_REFER_TO))) {
		call_reject_warning(sip, msg, 400, "Bad Request",
				    "Refer-To is not a SIP URI");
		return false;
	}

	return true;
}


void refer_handle(struct call *call, struct sip *sip,
		  const struct sip_msg *msg)
{
	struct focus *f = call->env->focus;
	struct refer_job *j;
	struct target t;
	struct room *room;
	char number[32];
	bool mod;

	if (!f || !call->leg || !call->sess) {
		call_reject(sip, msg, 481, "Call Does Not Exist", NULL,
			    "REFER: no leg");
		return;
	}

	if (!control_admitted(focus_control(f), call->leg)) {
		call_reject(sip, msg, 403, "Forbidden", NULL,
			    "REFER before the PIN");
		return;
	}

	if (!refer_to(f, msg, &t))
		return;

	room = leg_room(call->leg);
	mod = leg_role(call->leg) == LEG_MODERATOR;

	if (t.bye) {
		if (!mod && !control_uri_match(t.uri,
					       leg_remote_uri(call->leg))) {
			call_reject(sip, msg, 403, "Forbidden", NULL,
				    "REFER BYE by a non-moderator");
			return;
		}
		j = job_accept(f, msg, sipsess_dialog(call->sess),
			       call->number, REFER_BYE);
		if (j) {
			do_bye(f, j, room, &t);
			job_settle(j);
		}
		return;
	}

	if (target_room(f, &t, msg, number, sizeof(number))) {
		j = job_accept(f, msg, sipsess_dialog(call->sess),
			       call->number, REFER_MOVE);
		if (j) {
			do_move(f, j, call, number);
			job_settle(j);
		}
		return;
	}

	if (!mod) {
		call_reject(sip, msg, 403, "Forbidden", NULL,
			    "REFER dial-out by a non-moderator");
		return;
	}

	j = job_accept(f, msg, sipsess_dialog(call->sess), call->number,
		       REFER_DIAL);
	if (j) {
		do_dial(f, j, room, &t, msg);
		job_settle(j);
	}
}


void refer_ood_handle(struct focus *f, const struct sip_msg *msg)
{
	struct call_env *env = focus_env(f);
	struct refer_job *j;
	struct room *room = NULL;
	struct target t;
	char number[32], from[REFER_URI_MAX], dummy[32];
	int err;

	if (!pl_isset(&msg->uri.user) || msg->uri.user.l >= sizeof(number)) {
		call_reject(env->sip, msg, 404, "Not Found", NULL,
			    "REFER: no room in the Request-URI");
		return;
	}
	(void)pl_strcpy(&msg->uri.user, number, sizeof(number));

	if (!refer_to(f, msg, &t))
		return;

	err = registry_room_get(env->reg, number, &room);
	if (err) {
		call_reject(env->sip, msg, err == ENOENT ? 404 : 500,
			    err == ENOENT ? "Not Found" :
			    "Server Internal Error", NULL,
			    "REFER: no such room");
		return;
	}

	/* authorised: digest credentials of a moderator of this room, or
	   (no users configured, or auth_trust_from_uri) a mod= From URI */
	re_snprintf(from, sizeof(from), "%r", &msg->from.auri);
	if (!auth_authorise(focus_auth(f), env->sip, msg, number,
			    room_moderator_uri(room, from), true,
			    "REFER to the room from a non-moderator"))
		return;

	if (!t.bye && target_room(f, &t, msg, dummy, sizeof(dummy))) {
		call_reject_warning(env->sip, msg, 403, "Forbidden",
				    "only a participant can move itself,"
				    " in its own dialog");
		return;
	}

	j = job_accept(f, msg, NULL, number, t.bye ? REFER_BYE : REFER_DIAL);
	if (!j)
		return;

	if (t.bye)
		do_bye(f, j, room, &t);
	else
		do_dial(f, j, room, &t, msg);
	job_settle(j);
}


void refer_leg_gone(struct focus *f, const struct leg *leg)
{
	struct le *le;

	le = list_head(focus_refers(f));
	while (le) {
		struct refer_job *j = le->data;

		le = le->next;
		if (j->leg_id != leg_id(leg))
			continue;

		if (j->action == REFER_BYE)
			job_notify(j, 200, "OK");
		else if (j->action == REFER_DIAL)
			/* hung up by us (kick, shutdown) before it answered;
			   a peer's answer or error was reported already */
			job_notify(j, 487, "Request Terminated");

		mem_deref(j);
	}
}


bool refer_leg_dialed_out(const struct focus *f, const struct leg *leg)
{
	struct le *le;

	for (le = list_head(focus_refers((struct focus *)f)); le;
	     le = le->next) {
		const struct refer_job *j = le->data;

		if (j->dialed && j->leg_id == leg_id(leg))
			return true;
	}

	return false;
}
