/**
 * @file call.c  One participant dialog (libre 1.1 sipsess) bound to a
 * room leg.
 *
 * Media timing: with an offer in the INVITE the leg's media is added
 * right after the 200 OK is sent (the peer may start RTP before its ACK
 * arrives, and we have everything we need: its address and codec).
 * With a late offer (INVITE without SDP) our offer goes into the 200 OK
 * and the media is added when the answer arrives in the ACK.
 *
 * Hold: a re-INVITE (or UPDATE) that makes the stream sendonly, inactive
 * or c=0.0.0.0 takes the leg out of the mix entirely (MEDIA_INACTIVE),
 * so music-on-hold never reaches the room and we stop sending a mix
 * nobody hears; the SDP answer still carries the RFC 3264 complement.
 * A sendonly stream in the initial INVITE is honoured literally
 * (MEDIA_RECV: a listen-only source such as a presenter feed).
 *
 * Session timers (RFC 4028): libre 1.1 sipsess has none, so they live
 * here (call_timer.c, with UPDATE). Only when the peer asks (Session-Expires in the INVITE). We
 * answer with Session-Expires and, if the peer supports it, Require:
 * timer; refresher=uac unless the peer chose. Limitation: libre 1.1
 * answers re-INVITEs itself and cannot add Session-Expires to that 200
 * OK, which per RFC 4028 7.4 switches the timer off at the peer, so a
 * refresh by re-INVITE switches ours off too (never a wrong BYE).
 * Refreshes by UPDATE are answered here with Session-Expires and keep
 * the timer. When we are the refresher we send UPDATE if the peer
 * allows it, else a re-INVITE.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <re.h>

#include "ctrl/log.h"
#include "sip/call.h"
#include "sip/call_int.h"
#include "sip/leg_stats.h"
#include "sip/sec_sdp.h"
#include "sip/focus.h"
#include "sip/info.h"
#include "sip/refer.h"


static void call_free(struct call *call, const char *why);


void call_reject(struct sip *sip, const struct sip_msg *msg, uint16_t scode,
		 const char *reason, const char *hdrs, const char *why)
{
	warning("sip: %r %r from %J rejected %u: %s\n", &msg->met,
		&msg->ruri, &msg->src, scode, why);

	(void)sip_treplyf(NULL, NULL, sip, msg, false, scode, reason,
			  "%s"
			  "Content-Length: 0\r\n"
			  "\r\n",
			  hdrs ? hdrs : "");
}


void call_reject_warning(struct sip *sip, const struct sip_msg *msg,
			   uint16_t scode, const char *reason,
			   const char *text)
{
	char hdrs[256], safe[128];
	size_t i;

	/* the text may quote the peer's SDP: keep the quoted-string valid */
	for (i = 0; text[i] && i < sizeof(safe) - 1; i++) {
		const char c = text[i];

		safe[i] = (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) ?
			'_' : c;
	}
	safe[i] = '\0';

	/* RFC 3261 20.43: 399 = miscellaneous warning, host = our address */
	re_snprintf(hdrs, sizeof(hdrs), "Warning: 399 %s%j%s \"%s\"\r\n",
		    sa_af(&msg->dst) == AF_INET6 ? "[" : "", &msg->dst,
		    sa_af(&msg->dst) == AF_INET6 ? "]" : "", safe);
	call_reject(sip, msg, scode, reason, hdrs, safe);
}


/* shared by incoming calls and the focus's dial-out calls (refer.c) */
void call_destructor(void *arg)
{
	struct call *call = arg;

	tmr_cancel(&call->tmr_st);
	tmr_cancel(&call->tmr_answer);
	list_unlink(&call->le);
	mem_deref(call->desc);
	mem_deref(call->req_upd);

	/* a sipsess that is not yet terminated answers or BYEs by itself */
	mem_deref(call->sess);

	if (call->leg) {
		leg_set_udata(call->leg, NULL);
		leg_set_state(call->leg, LEG_CLOSED);
	}
	/* the registry's leg destructor removes the media (leg_set_media) */
	mem_deref(call->leg);

	if (call->ms_owned)
		media_sock_close(&call->ms);

	mem_deref(call->sdp);
	sdes_crypto_wipe(&call->neg.srtp_tx);
	sdes_crypto_wipe(&call->neg.srtp_rx);
	sdes_crypto_wipe(&call->srtp_ours);
}


/* ---- media ---------------------------------------------------------- */

static enum media_dir engine_dir(const struct call *call)
{
	if (call->hold)
		return MEDIA_INACTIVE;

	return call->neg.dir;
}


static void media_params(const struct call *call, struct media_leg_params *p)
{
	memset(p, 0, sizeof(*p));
	p->codec      = call->neg.codec;
	p->telev_pt   = call->neg.telev_pt;
	p->telev_rate = call->neg.telev_rate;
	p->raddr_rtp  = call->neg.raddr_rtp;
	p->raddr_rtcp = call->neg.raddr_rtcp;
	p->rtcp_mux   = call->neg.rtcp_mux || call->mux_only;
	p->dir        = engine_dir(call);
	p->srtp       = call->neg.srtp;
	p->srtp_tx    = call->neg.srtp_tx;
	p->srtp_rx    = call->neg.srtp_rx;
	p->isolated   = focus_leg_isolated(call->env->focus, call->leg);
	re_snprintf(p->cname, sizeof(p->cname), "chorus-%u-%u@%j",
		    call->room_id, call->leg_id, &call->ms.laddr_rtp);
}


static int media_start(struct call *call)
{
	struct media_leg_params prm;
	int err;

	if (call->media_added || !call->env->me)
		return 0;

	media_params(call, &prm);

	/* the engine owns the sockets from here on, also on error */
	call->ms_owned = false;
	err = media_leg_add(call->env->me, call->room_id, call->leg_id,
			    &call->ms, &prm);
	if (err) {
		warning("sip: room %s leg %u: media_leg_add failed (%m)\n",
			call->number, call->leg_id, err);
		return err;
	}

	call->media_added = true;
	leg_set_media(call->leg, true);

	info("sip: room %s leg %u: media %s/%u pt %u ptime %u -> %J%s%s%s%s\n",
	     call->number, call->leg_id, codec_name(prm.codec.id),
	     prm.codec.rtp_clock, prm.codec.pt, prm.codec.ptime_ms,
	     &prm.raddr_rtp, prm.rtcp_mux ? " rtcp-mux" : "",
	     call->hold ? " (hold)" : "", prm.srtp ? " SRTP " : "",
	     prm.srtp ? sdes_suite_name(prm.srtp_tx.suite) : "");

	return 0;
}


void call_media_apply(struct call *call)
{
	struct media_leg_params prm;
	int err;

	if (!call->env->me)
		return;

	if (!call->media_added) {
		(void)media_start(call);
		return;
	}

	media_params(call, &prm);
	err = media_leg_update(call->env->me, call->leg_id, &prm);
	if (err)
		warning("sip: room %s leg %u: media_leg_update failed (%m)\n",
			call->number, call->leg_id, err);
	else
		info("sip: room %s leg %u: media updated: %s pt %u -> %J%s\n",
		     call->number, call->leg_id, codec_name(prm.codec.id),
		     prm.codec.pt, &prm.raddr_rtp,
		     call->hold ? " (on hold, out of the mix)" : "");
}


static uint16_t rtcp_port(const struct call *call, bool mux)
{
	if (mux)
		return 0;

	/* a mux-only socket: RTCP on the RTP port (RFC 5761 section 5.1.3) */
	if (call->mux_only)
		return sa_port(&call->ms.laddr_rtp);

	return sa_port(&call->ms.laddr_rtcp);
}


/* Decode and decide a new offer; on success the answer is in *descp. */
int call_offer_take(struct call *call, const struct sip_msg *msg,
		      struct mbuf **descp, struct sdpneg_result *res,
		      bool initial)
{
	int err;

	err = sdpneg_formats_reset(call->sdp, &call->env->prefs);
	if (err)
		return err;

	err = sdp_decode(call->sdp, msg->mb, true);
	if (err) {
		res->scode = 400;
		re_snprintf(res->reason, sizeof(res->reason),
			    "Malformed SDP (%m)", err);
		return err;
	}

	err = sdpneg_decide(res, call->sdp, &call->env->prefs, true);
	if (err)
		return err;

	/* SDES: same key from the peer keeps ours (no rekey) */
	err = sec_sdp_offer(res, call->sdp,
			    sec_sdp_policy(call->env->cfg, leg_room(call->leg)),
			    call->neg_valid ? &call->neg : NULL);
	if (err)
		return err;

	/* a socket pair can also carry muxed RTCP; a mux-only socket
	   cannot take RTCP elsewhere */
	if (!initial && call->mux_only && !res->rtcp_mux)
		res->raddr_rtcp = res->raddr_rtp;

	err = sdpneg_apply(call->sdp, res, sa_port(&call->ms.laddr_rtp),
			   rtcp_port(call, res->rtcp_mux));
	if (err)
		return err;

	return sdp_encode(descp, call->sdp, false);
}



/* ---- sipsess handlers ------------------------------------------------ */

static int offer_handler(struct mbuf **descp, const struct sip_msg *msg,
			 void *arg)
{
	struct call *call = arg;
	struct sdpneg_result res;
	bool was_hold = call->hold;
	int err;

	memset(&res, 0, sizeof(res));

	if (call->se) {
		/* our 200 OK to a re-INVITE has no Session-Expires (libre
		   1.1), so the peer's timer is off from now on: ours too */
		info("sip: room %s leg %u: refreshed by re-INVITE;"
		     " session timer off (libre cannot answer it)\n",
		     call->number, call->leg_id);
		call->se = 0;
		call_st_start(call);
	}

	if (!mbuf_get_left(msg->mb)) {
		/* re-INVITE without SDP: we offer, the answer is in the ACK */
		err = sdpneg_offer_prepare(call->sdp, &call->env->prefs,
					   sa_port(&call->ms.laddr_rtp),
					   rtcp_port(call, false));
		if (!err)
			err = sec_sdp_offer_prepare(call->sdp,
				sec_sdp_policy(call->env->cfg,
					       leg_room(call->leg)),
				&call->srtp_ours);
		if (!err)
			err = sdp_encode(descp, call->sdp, true);
		return err;
	}

	err = call_offer_take(call, msg, descp, &res, false);
	if (err) {
		/* libre answers 488; the old session stays as it was */
		warning("sip: room %s leg %u: re-INVITE rejected 488: %s\n",
			call->number, call->leg_id, res.reason[0] ?
			res.reason : "SDP error");
		return err ? err : EPROTO;
	}

	call->neg = res;
	call->neg_valid = true;
	call->hold = res.hold;
	if (call->hold != was_hold)
		info("sip: room %s leg %u: %s\n", call->number, call->leg_id,
		     call->hold ? "on hold" : "resumed");

	call_media_apply(call);
	if (call->hold != was_hold)
		leg_changed(call->leg);     /* roster: on-hold / connected */

	return 0;
}


/* the SDP answer to our offer: in the ACK of a late-offer call, or in
 * the 200 to a dial-out INVITE (refer.c) */
int call_answer_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	struct sdpneg_result res;
	int err;

	if (!mbuf_get_left(msg->mb)) {
		warning("sip: room %s leg %u: ACK without the SDP answer\n",
			call->number, call->leg_id);
		return EPROTO;
	}

	err = sdp_decode(call->sdp, msg->mb, false);
	if (err) {
		warning("sip: room %s leg %u: malformed SDP answer (%m)\n",
			call->number, call->leg_id, err);
		return err;
	}

	err = sdpneg_decide(&res, call->sdp, &call->env->prefs, false);
	if (!err)
		err = sec_sdp_answer(&res, call->sdp,
				     sec_sdp_policy(call->env->cfg,
						    leg_room(call->leg)),
				     &call->srtp_ours);
	if (err) {
		warning("sip: room %s leg %u: SDP answer refused: %s\n",
			call->number, call->leg_id, res.reason);
		return err;
	}

	call->neg = res;
	call->neg_valid = true;
	call_media_apply(call);

	return call->env->me && !call->media_added ? EIO : 0;
}


static void estab_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	(void)msg;

	call->established = true;
	leg_set_state(call->leg, LEG_ESTABLISHED);
	info("sip: room %s leg %u: %s joined (%u in room)\n", call->number,
	     call->leg_id, call->peer, room_leg_count(leg_room(call->leg)));
}


static void close_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	char why[128];

	if (msg && msg->req)
		re_snprintf(why, sizeof(why), "%r from peer", &msg->met);
	else if (msg)
		re_snprintf(why, sizeof(why), "%u %r", msg->scode,
			    &msg->reason);
	else if (err == ETIMEDOUT)
		re_snprintf(why, sizeof(why), "no ACK (timeout)");
	else if (err == ECONNRESET)
		/* libre 1.1 reports a peer's BYE and CANCEL alike */
		re_snprintf(why, sizeof(why), "%s from peer",
			    call->answered ? "BYE" : "CANCEL");
	else
		re_snprintf(why, sizeof(why), "%m", err);

	call_free(call, why);
}


/* in-dialog INFO and REFER: the conference focus (info.c, refer.c) */
static void info_handler(struct sip *sip, const struct sip_msg *msg,
			 void *arg)
{
	info_handle(arg, sip, msg);
}


static void refer_handler(struct sip *sip, const struct sip_msg *msg,
			  void *arg)
{
	refer_handle(arg, sip, msg);
}


/* ---- set-up ---------------------------------------------------------- */

static int sdp_laddr(const struct call_env *env, const struct sip_msg *msg,
		     struct sa *laddr)
{
	if (str_isset(env->cfg->public_addr))
		return sa_set_str(laddr, env->cfg->public_addr, 0);

	sa_cpy(laddr, &msg->dst);
	sa_set_port(laddr, 0);

	return 0;
}


/* the local address the kernel would send to peer from (a connected UDP
   socket's name): a media address in the peer's family */
static int laddr_towards(struct sa *laddr, const struct sa *peer)
{
	struct sa dst = *peer, me;
	socklen_t len = sizeof(me.u);
	int fd, err = 0;

	if (!sa_port(&dst))
		sa_set_port(&dst, 9);

	fd = socket(sa_af(&dst), SOCK_DGRAM, 0);
	if (fd < 0)
		return errno;

	sa_init(&me, sa_af(&dst));
	if (connect(fd, &dst.u.sa, dst.len) < 0 ||
	    getsockname(fd, &me.u.sa, &len) < 0)
		err = errno;
	(void)close(fd);
	if (err)
		return err;

	me.len = len;
	sa_set_port(&me, 0);
	*laddr = me;

	return 0;
}


bool call_require_unsupported(const struct sip_msg *msg, char *buf,
			      size_t sz)
{
	struct le *le;
	bool bad = false;
	size_t n = 0;

	buf[0] = '\0';

	for (le = list_head(&msg->hdrl); le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (hdr->id != SIP_HDR_REQUIRE)
			continue;
		if (!pl_strcasecmp(&hdr->val, "timer"))
			continue;

		bad = true;
		if (n + hdr->val.l + 3 < sz)
			n += re_snprintf(buf + n, sz - n, "%s%r",
					 n ? ", " : "", &hdr->val);
	}

	return bad;
}


/* The 200 OK is out: timers and (with an offer in the INVITE) media. */
static int call_answered(struct call *call)
{
	int err;

	call->answered = true;
	call_st_start(call);

	if (call->has_offer && call->env->me) {
		err = media_start(call);
		if (err) {
			call_hangup(call, "media could not start");
			return err;
		}
	}

	return 0;
}


static void answer_tmr_handler(void *arg)
{
	struct call *call = arg;
	int err;

	err = sipsess_answer(call->sess, 200, "OK", call->desc,
			     "Allow: " CALL_ALLOW "\r\n"
			     "Supported: " CALL_SUPPORTED "\r\n"
			     CALL_RECV_INFO
			     "%s", call->hdrs);
	call->desc = mem_deref(call->desc);
	if (err) {
		warning("sip: room %s leg %u: 200 OK not sent (%m)\n",
			call->number, call->leg_id, err);
		call_hangup(call, "answer failed");
		return;
	}

	info("sip: room %s leg %u: answered 200%s%s\n", call->number,
	     call->leg_id, call->has_offer ? "" : " (late offer)",
	     call->se ? " with session timer" : "");

	(void)call_answered(call);
}


int call_incoming(struct call_env *env, const struct sip_msg *msg,
		  struct room *room)
{
	struct sdpneg_result res;
	struct mbuf *desc = NULL;
	struct call *call;
	struct sa laddr, maddr;
	char buf[256], remote[256], dname[64], refresher[8];
	uint32_t se, min_se_req;
	bool has_offer, peer_timer;
	bool other_af = false;     /* media in the offer's address family */
	const char *why = NULL;
	uint32_t delay;
	enum cfg_srtp policy;
	int err;

	if (!env || !msg || !room)
		return EINVAL;

	memset(&res, 0, sizeof(res));

	/* RFC 3261 8.2.2.3: option tags we do not know */
	if (call_require_unsupported(msg, buf, sizeof(buf))) {
		char hdrs[320];

		re_snprintf(hdrs, sizeof(hdrs), "Unsupported: %s\r\n", buf);
		re_snprintf(remote, sizeof(remote), "unsupported Require: %s",
			    buf);
		call_reject(env->sip, msg, 420, "Bad Extension", hdrs, remote);
		return ENOTSUP;
	}

	has_offer = mbuf_get_left(msg->mb) > 0;
	if (has_offer && !msg_ctype_cmp(&msg->ctyp, "application", "sdp")) {
		call_reject(env->sip, msg, 415, "Unsupported Media Type",
			    "Accept: application/sdp\r\n",
			    "body is not application/sdp");
		return EPROTO;
	}

	/* RFC 4028: the peer asks for a session timer */
	se = call_se_parse(msg, refresher, sizeof(refresher), &min_se_req);
	peer_timer = sip_msg_hdr_has_value(msg, SIP_HDR_SUPPORTED, "timer") ||
		sip_msg_hdr_has_value(msg, SIP_HDR_REQUIRE, "timer");
	if (se && se < env->min_se) {
		char hdrs[64];

		re_snprintf(hdrs, sizeof(hdrs), "Min-SE: %u\r\n", env->min_se);
		re_snprintf(remote, sizeof(remote),
			    "Session-Expires %u below our Min-SE %u",
			    se, env->min_se);
		call_reject(env->sip, msg, 422, "Session Interval Too Small",
			    hdrs, remote);
		return EPROTO;
	}

	call = mem_zalloc(sizeof(*call), call_destructor);
	if (!call)
		return ENOMEM;

	call->env = env;
	call->ms.fd_rtp = call->ms.fd_rtcp = -1;
	str_ncpy(call->number, room_number(room), sizeof(call->number));
	call->room_id = room_id(room);
	re_snprintf(call->peer, sizeof(call->peer), "%r", &msg->from.auri);

	policy = sec_sdp_policy(env->cfg, room);
	err = sdp_laddr(env, msg, &laddr);
	if (!err)
		err = sdpneg_session_alloc(&call->sdp, &laddr, &env->prefs);
	if (!err)
		err = sec_sdp_prepare(call->sdp, policy);
	if (err) {
		call_reject(env->sip, msg, 500, "Server Internal Error", NULL,
			    "SDP session");
		goto out;
	}

	if (has_offer) {
		err = sdp_decode(call->sdp, msg->mb, true);
		if (err) {
			re_snprintf(buf, sizeof(buf), "Malformed SDP (%m)",
				    err);
			call_reject_warning(env->sip, msg, 400, "Bad Request", buf);
			goto out;
		}

		err = sdpneg_decide(&res, call->sdp, &env->prefs, true);
		if (!err)
			err = sec_sdp_offer(&res, call->sdp, policy, NULL);
		if (err) {
			call_reject_warning(env->sip, msg, res.scode,
				       "Not Acceptable Here", res.reason);
			goto out;
		}

		/* c=IN IP6 to an IPv4 arrival (or the reverse): an IPv4
		   socket cannot send to [::1], so bind the media in the
		   offer's family if we have an address of it towards the
		   peer (not with public_addr: that is what we advertise);
		   else 488 (RFC 3261 Warning 301) */
		if (!res.zero_addr &&
		    sa_af(&res.raddr_rtp) != sa_af(&laddr)) {
			err = str_isset(env->cfg->public_addr) ?
				EAFNOSUPPORT :
				laddr_towards(&laddr, &res.raddr_rtp);
			if (err) {
				char w[160];

				re_snprintf(w, sizeof(w), "Warning: 301 %s%j%s"
					    " \"Incompatible network address"
					    " formats: address family mismatch"
					    "\"\r\n",
					    sa_af(&msg->dst) == AF_INET6 ?
					    "[" : "", &msg->dst,
					    sa_af(&msg->dst) == AF_INET6 ?
					    "]" : "");
				call_reject(env->sip, msg, 488,
					    "Not Acceptable Here", w,
					    "address family mismatch");
				goto out;
			}
			sdp_session_set_laddr(call->sdp, &laddr);
			other_af = true;
		}
	}

	/* the leg counts toward max_legs from here */
	pl_strcpy(&msg->from.auri, remote, sizeof(remote));
	dname[0] = '\0';
	if (pl_isset(&msg->from.dname))
		pl_strcpy(&msg->from.dname, dname, sizeof(dname));

	err = leg_alloc(&call->leg, room, remote, dname);
	switch (err) {

	case 0:
		break;
	case ENOSPC:
		call_reject(env->sip, msg, 486, "Busy Here", NULL,
			    "room full");
		goto out;
	case EPERM:
		call_reject(env->sip, msg, 403, "Forbidden", NULL,
			    "room locked");
		goto out;
	case ENOENT:
		call_reject(env->sip, msg, 404, "Not Found", NULL,
			    "room is being removed");
		goto out;
	default:
		re_snprintf(buf, sizeof(buf), "leg_alloc: %m", err);
		call_reject(env->sip, msg, 500, "Server Internal Error", NULL,
			    buf);
		goto out;
	}

	call->leg_id = leg_id(call->leg);
	leg_set_udata(call->leg, call);
	leg_set_state(call->leg, LEG_PROCEEDING);

	/* bind media on the address the INVITE arrived on (or the one of
	   the offer's family) */
	sa_cpy(&maddr, other_af ? &laddr : &msg->dst);
	sa_set_port(&maddr, 0);
	call->mux_only = has_offer && res.rtcp_mux;
	if (env->me) {
		err = media_sock_alloc(env->me, &call->ms, &maddr,
				       call->mux_only);
		if (err) {
			re_snprintf(buf, sizeof(buf),
				    "no media port (%m)", err);
			call_reject(env->sip, msg, 503, "Service Unavailable",
				    "Retry-After: 10\r\n", buf);
			goto out;
		}
		call->ms_owned = true;
	}
	else {
		/* signalling only: advertise the discard port, never used */
		sa_cpy(&call->ms.laddr_rtp, &maddr);
		sa_set_port(&call->ms.laddr_rtp, 9);
		sa_cpy(&call->ms.laddr_rtcp, &maddr);
		sa_set_port(&call->ms.laddr_rtcp, 9);
	}

	if (has_offer) {
		err = sdpneg_apply(call->sdp, &res,
				   sa_port(&call->ms.laddr_rtp),
				   rtcp_port(call, res.rtcp_mux));
		if (!err)
			err = sdp_encode(&desc, call->sdp, false);
		call->neg = res;
		call->neg_valid = true;
		call->hold = res.zero_addr;
	}
	else {
		err = sdpneg_offer_prepare(call->sdp, &env->prefs,
					   sa_port(&call->ms.laddr_rtp),
					   rtcp_port(call, false));
		if (!err)
			err = sec_sdp_offer_prepare(call->sdp, policy,
						    &call->srtp_ours);
		if (!err)
			err = sdp_encode(&desc, call->sdp, true);
	}
	if (err) {
		why = "SDP encode";
		goto fail500;
	}

	buf[0] = '\0';
	if (se) {
		call->se = se;
		if (env->cfg->session_expires &&
		    env->cfg->session_expires < se)
			call->se = MAX(env->cfg->session_expires,
				       MAX(min_se_req, env->min_se));
		if (!str_casecmp(refresher, "uas") || !peer_timer)
			call->we_refresh = true;

		call->peer_allows_update =
			sip_msg_hdr_has_value(msg, SIP_HDR_ALLOW, "UPDATE");

		re_snprintf(buf, sizeof(buf),
			    "Session-Expires: %u;refresher=%s\r\n%s",
			    call->se, call->we_refresh ? "uas" : "uac",
			    peer_timer ? "Require: timer\r\n" : "");
	}

	/* 100 Trying is hop-by-hop: sent without a transaction, because
	   sipsess_accept() in libre 1.1 refuses 100 and creates the
	   INVITE server transaction itself */
	(void)sip_reply(env->sip, msg, 100, "Trying");

	/* with an answer delay the INVITE rings first, so a CANCEL can
	   still end it (487, leg and sockets freed by close_handler) */
	delay = env->answer_delay_ms;
	err = sipsess_accept(&call->sess, env->sock, msg,
			     delay ? 180 : 200, delay ? "Ringing" : "OK",
			     call->number, "application/sdp",
			     delay ? NULL : desc,
			     NULL, NULL, false,
			     offer_handler, call_answer_handler, estab_handler,
			     info_handler, refer_handler, close_handler, call,
			     "Allow: " CALL_ALLOW "\r\n"
			     "Supported: " CALL_SUPPORTED "\r\n"
			     CALL_RECV_INFO
			     "%s", delay ? "" : buf);
	if (err) {
		why = "sipsess_accept";
		goto fail500;
	}

	list_append(&env->calls, &call->le, call);
	call->has_offer = has_offer;

	if (delay) {
		call->desc = desc;
		str_ncpy(call->hdrs, buf, sizeof(call->hdrs));
		tmr_start(&call->tmr_answer, delay, answer_tmr_handler, call);
		info("sip: INVITE %r from %J: room %s leg %u ringing,"
		     " answer in %u ms\n", &msg->ruri, &msg->src,
		     call->number, call->leg_id, delay);
		return 0;
	}

	mem_deref(desc);
	info("sip: INVITE %r from %J: room %s leg %u answered 200%s%s\n",
	     &msg->ruri, &msg->src, call->number, call->leg_id,
	     has_offer ? "" : " (late offer)",
	     call->se ? " with session timer" : "");

	return call_answered(call);

 fail500:
	re_snprintf(remote, sizeof(remote), "%s failed (%m)", why, err);
	call_reject(env->sip, msg, 500, "Server Internal Error", NULL, remote);
	goto out;

 out:
	mem_deref(desc);
	mem_deref(call);

	return err ? err : EPROTO;
}


/* ---- teardown --------------------------------------------------------- */

static void call_free(struct call *call, const char *why)
{
	info("sip: room %s leg %u: %s left: %s\n", call->number,
	     call->leg_id, call->peer, why);
	if (call->media_added)
		leg_stats_log(call->env->me, call->number, call->leg_id);

	if (call->leg)
		leg_set_state(call->leg, LEG_CLOSING);

	mem_deref(call);
}


void call_hangup(struct call *call, const char *why)
{
	if (!call)
		return;

	if (call->sess && why)
		(void)sipsess_set_close_headers(call->sess,
				"Reason: SIP;cause=200;text=\"%s\"\r\n", why);

	/* mem_deref(sess) sends BYE (after the ACK, if still pending) */
	call_free(call, why ? why : "hung up");
}



/* ---- accessors ---------------------------------------------------------- */

struct leg *call_leg(const struct call *call)
{
	return call ? call->leg : NULL;
}


bool call_on_hold(const struct call *call)
{
	return call ? call->hold : false;
}


const struct sdpneg_result *call_media(const struct call *call)
{
	return call && call->neg_valid ? &call->neg : NULL;
}


uint32_t call_session_expires(const struct call *call)
{
	return call ? call->se : 0;
}
