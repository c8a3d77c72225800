/**
 * @file call_int.h  Internals shared by call.c and call_timer.c.
 */
#ifndef CHORUS_CALL_INT_H
#define CHORUS_CALL_INT_H

#include "sip/call.h"

enum {
	SE_GUARD_MAX  = 32,     /* BYE this long before expiry at most */
};

struct call {
	struct le le;                /* in env->calls                      */
	struct call_env *env;
	struct sipsess *sess;
	struct leg *leg;
	struct sdp_session *sdp;
	struct sdpneg_result neg;    /* what the media runs with now       */
	bool     neg_valid;
	struct media_sock ms;
	bool     ms_owned;           /* sockets not yet given to the engine */
	bool     mux_only;           /* socket bound without an RTCP port  */
	bool     media_added;
	bool     hold;
	bool     established;
	uint32_t leg_id;
	uint32_t room_id;
	char     number[32];
	char     peer[128];          /* for logs: From URI                 */

	/* RFC 4028 */
	struct tmr tmr_st;
	uint32_t se;                 /* session interval, 0 = off          */
	bool     we_refresh;
	bool     peer_allows_update;
	struct sip_request *req_upd; /* our refreshing UPDATE              */

	/* answer delay (env->answer_delay_ms) */
	struct tmr tmr_answer;
	struct mbuf *desc;           /* the SDP for the pending 200 OK     */
	char     hdrs[160];          /* its session timer headers          */
	bool     has_offer;          /* the INVITE carried SDP             */
	bool     answered;           /* 200 OK sent                        */

	/* SDES key of our own offer (late offer), until the answer */
	struct sdes_crypto srtp_ours;
};

void call_destructor(void *arg);
int  call_answer_handler(const struct sip_msg *msg, void *arg);
void call_st_start(struct call *call);
uint32_t call_se_parse(const struct sip_msg *msg, char *refresher, size_t sz,
		       uint32_t *min_se);
int  call_offer_take(struct call *call, const struct sip_msg *msg,
		     struct mbuf **descp, struct sdpneg_result *res,
		     bool initial);
void call_media_apply(struct call *call);
void call_reject_warning(struct sip *sip, const struct sip_msg *msg,
			 uint16_t scode, const char *reason, const char *text);

#endif
