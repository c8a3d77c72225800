/**
 * @file info.c  In-dialog INFO: chorus-control commands and legacy DTMF.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <re.h>

#include "ctrl/command.h"
#include "ctrl/log.h"
#include "sip/call.h"
#include "sip/call_int.h"
#include "sip/focus.h"
#include "sip/info.h"


static bool ctype_is(const struct sip_msg *msg, const char *type,
		     const char *sub)
{
	return msg_ctype_cmp(&msg->ctyp, type, sub);
}


static bool ctype_legacy_dtmf(const struct sip_msg *msg)
{
	return ctype_is(msg, "application", "dtmf-relay") ||
		ctype_is(msg, "application", "dtmf");
}


static void reply(struct sip *sip, const struct sip_msg *msg,
		  uint16_t scode, const char *reason, const char *hdrs)
{
	(void)sip_treplyf(NULL, NULL, sip, msg, false, scode, reason,
			  "%s"
			  "Content-Length: 0\r\n"
			  "\r\n", hdrs ? hdrs : "");
}


static const char *reason_phrase(uint16_t scode)
{
	switch (scode) {

	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	default:  return "Server Internal Error";
	}
}


void info_handle(struct call *call, struct sip *sip,
		 const struct sip_msg *msg)
{
	const struct sip_hdr *pkg = sip_msg_xhdr(msg, "Info-Package");
	struct focus *focus = call->env->focus;
	struct ctrl_result res;
	struct ctrl_info ci;
	char ctype[96], why[CTRL_REASON_SIZE];
	const size_t len = mbuf_get_left(msg->mb);
	bool legacy = ctype_legacy_dtmf(msg);
	uint16_t scode;

	if (!call->leg || !focus) {
		reply(sip, msg, 481, "Call Does Not Exist", NULL);
		return;
	}

	/* RFC 6086 4.2.2: no or an unknown package is 469, except the
	   legacy DTMF INFO that phones send without one (RFC 6086 9) */
	if (!legacy && (!pkg || pl_strcasecmp(&pkg->val, FOCUS_INFO_PACKAGE))) {
		call_reject(sip, msg, 469, "Bad Info Package",
			    "Recv-Info: " FOCUS_INFO_PACKAGE "\r\n",
			    pkg ? "unknown Info-Package" :
			    "INFO without Info-Package");
		return;
	}

	if (!legacy && !ctype_is(msg, "application", "json")) {
		call_reject(sip, msg, 415, "Unsupported Media Type",
			    "Accept: application/json\r\n",
			    "chorus-control body is not application/json");
		return;
	}

	if (len > CTRL_BODY_MAX) {
		call_reject(sip, msg, 413, "Request Entity Too Large", NULL,
			    "INFO body too large");
		return;
	}

	re_snprintf(ctype, sizeof(ctype), "%r/%r", &msg->ctyp.type,
		    &msg->ctyp.subtype);

	memset(&res, 0, sizeof(res));
	if (ctrl_info_parse(&ci, &res, ctype, (const char *)mbuf_buf(msg->mb),
			    len) || res.scode) {
		call_reject_warning(sip, msg, res.scode ? res.scode : 400,
				    reason_phrase(res.scode ? res.scode : 400),
				    res.reason[0] ? res.reason : "bad body");
		return;
	}

	if (ci.kind == CTRL_INFO_DTMF) {
		info("sip: room %s leg %u: DTMF %c (INFO)\n", call->number,
		     call->leg_id, ci.dtmf.digit);
		reply(sip, msg, 200, "OK", NULL);
		control_key(focus_control(focus), call->leg, ci.dtmf.digit);
		return;
	}

	scode = control_apply(focus_control(focus), call->leg, &ci.cmd, why,
			      sizeof(why));
	if (scode == 200) {
		reply(sip, msg, 200, "OK", NULL);
		return;
	}

	call_reject_warning(sip, msg, scode, reason_phrase(scode), why);
}
