/**
 * @file call_timer.c  RFC 4028 session timers and RFC 3311 UPDATE for
 * calls (libre 1.1 sipsess has neither). See call.c for the limits.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <re.h>

#include "ctrl/log.h"
#include "sip/call.h"
#include "sip/call_int.h"

static void st_handler(void *arg);


void call_st_start(struct call *call)
{
	const uint64_t unit = call->env->st_unit_ms ? call->env->st_unit_ms :
		1000;
	uint64_t ms;

	if (!call->se) {
		tmr_cancel(&call->tmr_st);
		return;
	}

	if (call->we_refresh)
		ms = (uint64_t)call->se * unit / 2;
	else
		ms = ((uint64_t)call->se -
		      MIN((uint64_t)SE_GUARD_MAX, call->se / 3)) * unit;

	tmr_start(&call->tmr_st, ms, st_handler, call);
}


static void upd_resp_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	call->req_upd = mem_deref(call->req_upd);

	if (err || (msg && (msg->scode == 481 || msg->scode == 408))) {
		call_hangup(call, "session refresh failed");
		return;
	}

	if (msg && msg->scode >= 300)
		warning("sip: room %s leg %u: refresh UPDATE answered %u %r\n",
			call->number, call->leg_id, msg->scode, &msg->reason);
}


static void st_handler(void *arg)
{
	struct call *call = arg;
	struct mbuf *desc = NULL;
	int err;

	if (!call->we_refresh) {
		warning("sip: room %s leg %u: no session refresh within %u s,"
			" hanging up\n", call->number, call->leg_id, call->se);
		call_hangup(call, "session timer expired");
		return;
	}

	if (call->peer_allows_update && !call->req_upd) {
		err = sip_drequestf(&call->req_upd, call->env->sip, true,
				    "UPDATE", sipsess_dialog(call->sess), 0,
				    NULL, NULL, upd_resp_handler, call,
				    "Session-Expires: %u;refresher=uas\r\n"
				    "Supported: " CALL_SUPPORTED "\r\n"
				    "Content-Length: 0\r\n"
				    "\r\n", call->se);
	}
	else {
		err = sdp_encode(&desc, call->sdp, true);
		if (!err)
			err = sipsess_modify(call->sess, desc);
		mem_deref(desc);
	}

	if (err)
		warning("sip: room %s leg %u: session refresh not sent (%m)\n",
			call->number, call->leg_id, err);

	call_st_start(call);
}


/* Parse Session-Expires / Min-SE of a request. Returns the interval
 * (0 = none) and the refresher the peer chose ("" = none). */
uint32_t call_se_parse(const struct sip_msg *msg, char *refresher,
			 size_t sz, uint32_t *min_se)
{
	const struct sip_hdr *hdr;
	struct pl num, params, val;

	refresher[0] = '\0';
	*min_se = 0;

	hdr = sip_msg_hdr(msg, SIP_HDR_MIN_SE);
	if (hdr && !re_regex(hdr->val.p, hdr->val.l, "[0-9]+", &num))
		*min_se = pl_u32(&num);

	hdr = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	if (!hdr)
		hdr = sip_msg_xhdr(msg, "x");  /* compact form "x" */
	if (!hdr || re_regex(hdr->val.p, hdr->val.l, "[0-9]+[^]*",
			     &num, &params))
		return 0;

	if (!msg_param_decode(&params, "refresher", &val))
		(void)pl_strcpy(&val, refresher, sz);

	return pl_u32(&num);
}

/* ---- UPDATE (RFC 3311) ------------------------------------------------ */

struct call *call_find_dialog(const struct call_env *env,
			      const struct sip_msg *msg)
{
	struct le *le;

	if (!env || !msg)
		return NULL;

	for (le = env->calls.head; le; le = le->next) {
		struct call *call = le->data;

		if (call->sess &&
		    sip_dialog_cmp(sipsess_dialog(call->sess), msg))
			return call;
	}

	return NULL;
}


void call_update_request(struct call_env *env, const struct sip_msg *msg)
{
	struct call *call = call_find_dialog(env, msg);
	struct sip_contact contact;
	struct sdpneg_result res;
	struct mbuf *desc = NULL;
	char hdrs[128] = "", refresher[8];
	bool was_hold;
	uint32_t se, min_se;
	int err;

	memset(&res, 0, sizeof(res));

	if (!call || !call->established) {
		call_reject(env->sip, msg, 481, "Call/Transaction Does Not Exist",
			    NULL, "UPDATE outside a known dialog");
		return;
	}

	if (!sip_dialog_rseq_valid(sipsess_dialog(call->sess), msg)) {
		call_reject(env->sip, msg, 500, "Server Internal Error", NULL,
			    "UPDATE with an old CSeq");
		return;
	}

	if (mbuf_get_left(msg->mb)) {
		was_hold = call->hold;
		err = call_offer_take(call, msg, &desc, &res, false);
		if (err) {
			call_reject_warning(env->sip, msg,
				       res.scode ? res.scode : 488,
				       "Not Acceptable Here", res.reason[0] ?
				       res.reason : "SDP error");
			return;
		}
		call->neg = res;
		call->hold = res.hold;
		if (call->hold != was_hold)
			info("sip: room %s leg %u: %s\n", call->number,
			     call->leg_id, call->hold ? "on hold" : "resumed");
		call_media_apply(call);
	}

	se = call_se_parse(msg, refresher, sizeof(refresher), &min_se);
	if (se && se >= env->min_se) {
		call->se = se;
		call->we_refresh = !str_casecmp(refresher, "uas");
		re_snprintf(hdrs, sizeof(hdrs),
			    "Session-Expires: %u;refresher=%s\r\n"
			    "Require: timer\r\n", call->se,
			    call->we_refresh ? "uas" : "uac");
	}
	else if (call->se && !se) {
		/* a refresh without Session-Expires turns the timer off */
		call->se = 0;
	}
	call_st_start(call);

	sip_contact_set(&contact, call->number, &msg->dst, msg->tp);
	(void)sip_treplyf(NULL, NULL, env->sip, msg, true, 200, "OK",
			  "%H"
			  "Allow: " CALL_ALLOW "\r\n"
			  "Supported: " CALL_SUPPORTED "\r\n"
			  "%s"
			  "%s"
			  "Content-Length: %zu\r\n"
			  "\r\n"
			  "%b",
			  sip_contact_print, &contact, hdrs,
			  desc ? "Content-Type: application/sdp\r\n" : "",
			  desc ? mbuf_get_left(desc) : (size_t)0,
			  desc ? mbuf_buf(desc) : NULL,
			  desc ? mbuf_get_left(desc) : (size_t)0);
	mem_deref(desc);
}

