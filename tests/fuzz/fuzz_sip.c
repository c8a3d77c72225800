/**
 * @file fuzz_sip.c  A SIP request as the endpoint sees it, without
 * sockets: sip_msg_decode() (libre's parser, what every datagram goes
 * through first), then the checks and header lookups the endpoint and the
 * call layer make on an INVITE/UPDATE/INFO before they touch a dialog:
 * Request-URI room number, Content-Length against the datagram, Require
 * option tags, Content-Type, Session-Expires/Min-SE (call_se_parse), From
 * address, Via/Contact decoding, the SDP offer through sdpneg, and an INFO
 * body through the control parser.
 *
 * The handlers themselves (endpoint.c request_handler/conn_handler,
 * call_incoming) are static and run only inside a live libre SIP stack;
 * fuzz_endpoint.c drives those through a real socket.
 *
 * Input: the whole datagram.
 */
#include <stdbool.h>
#include <re.h>

#include "ctrl/command.h"
#include "sip/call_int.h"
#include "sip/sdpneg.h"
#include "fuzz_common.h"


static void sdp_offer(const struct sip_msg *msg)
{
	struct sdp_session *sess = NULL;
	struct sdpneg_prefs prefs;
	struct sdpneg_result res;
	struct mbuf *out = NULL;

	sdpneg_prefs_default(&prefs);
	if (sdpneg_session_alloc(&sess, &msg->dst, &prefs))
		return;

	/* call.c decodes msg->mb at its current position (the body) */
	if (!sdp_decode(sess, msg->mb, true) &&
	    !sdpneg_decide(&res, sess, &prefs, true) &&
	    !sdpneg_apply(sess, &res, 40000, res.rtcp_mux ? 0 : 40001))
		(void)sdp_encode(&out, sess, false);

	mem_deref(out);
	mem_deref(sess);
}


static void info_body(const struct sip_msg *msg)
{
	struct ctrl_info info;
	struct ctrl_result res;
	char ctype[128];

	if (!pl_isset(&msg->ctyp.type))
		return;

	re_snprintf(ctype, sizeof(ctype), "%r/%r%r", &msg->ctyp.type,
		    &msg->ctyp.subtype, &msg->ctyp.params);

	if (0 == ctrl_info_parse(&info, &res, ctype,
				 (const char *)mbuf_buf(msg->mb),
				 mbuf_get_left(msg->mb)))
		FUZZ_CHECK(res.scode == 0);
	else
		FUZZ_CHECK(res.scode >= 400 && res.scode < 500);
}


static bool hdr_handler(const struct sip_hdr *hdr, const struct sip_msg *msg,
			void *arg)
{
	struct sip_addr addr;
	struct sip_via via;
	(void)msg;
	(void)arg;

	switch (hdr->id) {

	case SIP_HDR_CONTACT:
	case SIP_HDR_RECORD_ROUTE:
	case SIP_HDR_ROUTE:
		(void)sip_addr_decode(&addr, &hdr->val);
		break;

	case SIP_HDR_VIA:
		(void)sip_via_decode(&via, &hdr->val);
		break;

	default:
		break;
	}

	return false;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb;
	char number[64], refresher[8], peer[256];
	uint32_t min_se;

	mb = mbuf_alloc(size ? size : 1);
	if (!mb)
		return 0;
	(void)mbuf_write_mem(mb, data, size);
	mb->pos = 0;

	if (sip_msg_decode(&msg, mb))
		goto out;

	/* endpoint.c conn_handler/request_handler */
	(void)pl_strcmp(&msg->met, "OPTIONS");
	if (pl_isset(&msg->clen))
		(void)(pl_u32(&msg->clen) > mbuf_get_left(msg->mb));
	if (pl_isset(&msg->uri.user) && msg->uri.user.l < sizeof(number))
		(void)pl_strcpy(&msg->uri.user, number, sizeof(number));

	/* call.c call_incoming */
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_REQUIRE, NULL, NULL);
	(void)sip_msg_hdr_has_value(msg, SIP_HDR_SUPPORTED, "timer");
	(void)sip_msg_hdr_has_value(msg, SIP_HDR_ALLOW, "UPDATE");
	(void)call_se_parse(msg, refresher, sizeof(refresher), &min_se);
	FUZZ_CHECK(memchr(refresher, '\0', sizeof(refresher)));
	re_snprintf(peer, sizeof(peer), "%r", &msg->from.auri);
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_CONTACT, hdr_handler,
				NULL);
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_VIA, hdr_handler, NULL);

	if (msg->req && mbuf_get_left(msg->mb)) {
		size_t pos = msg->mb->pos;

		if (msg_ctype_cmp(&msg->ctyp, "application", "sdp"))
			sdp_offer(msg);
		msg->mb->pos = pos;

		if (!pl_strcmp(&msg->met, "INFO"))
			info_body(msg);
	}

 out:
	mem_deref(msg);
	mem_deref(mb);

	return 0;
}
