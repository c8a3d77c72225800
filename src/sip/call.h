/**
 * @file call.h  One participant dialog: a libre sipsess bound to a room
 * leg, its SDP session, its media sockets and its session timer.
 * Lives on the libre thread; created and owned by the endpoint.
 */
#ifndef CHORUS_CALL_H
#define CHORUS_CALL_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

#include "cfg/cfg.h"
#include "media/media.h"
#include "room/room.h"
#include "sip/sdpneg.h"

/** What the endpoint shares with its calls; outlives every call. */
struct call_env {
	struct sip *sip;
	struct sipsess_sock *sock;
	struct cfg *cfg;
	struct registry *reg;
	struct media_engine *me;     /**< NULL: signalling only (tests)      */
	struct sdpneg_prefs prefs;
	struct list calls;           /**< struct call, oldest first          */
	uint32_t min_se;             /**< our RFC 4028 Min-SE, s             */
	uint32_t answer_delay_ms;    /**< ring (180) this long first, 0 = no */
	struct focus *focus;         /**< conference focus (sip/focus.h)     */
	uint32_t st_unit_ms;         /**< length of a session-timer second:
					  1000 (0 = 1000); tests shorten it */
};

/** Methods we implement (Allow header). */
#define CALL_ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, " \
	"INFO, REFER, SUBSCRIBE, NOTIFY, MESSAGE"
/** RFC 6086: the info package we take (200 OK, OPTIONS). */
#define CALL_RECV_INFO "Recv-Info: chorus-control\r\n"
/** Option tags we implement (Supported header, Require check). */
#define CALL_SUPPORTED "timer"

struct call;

/**
 * Take a new INVITE for room: negotiate, create the leg, answer
 * 100 then 200 (or reject with a logged reason). Returns 0 when the call
 * was set up; otherwise the request has already been answered.
 */
int  call_incoming(struct call_env *env, const struct sip_msg *msg,
		   struct room *room);
/** End the call (BYE, or the pending transaction answered) and free it. */
void call_hangup(struct call *call, const char *why);
/** In-dialog UPDATE (RFC 3311): session refresh and/or a new offer. */
void call_update_request(struct call_env *env, const struct sip_msg *msg);

struct call *call_find_dialog(const struct call_env *env,
			      const struct sip_msg *msg);
struct leg  *call_leg(const struct call *call);
bool call_on_hold(const struct call *call);
/** Current negotiated parameters (NULL before the offer/answer). */
const struct sdpneg_result *call_media(const struct call *call);
/** Session interval in seconds, 0 = no session timer. */
uint32_t call_session_expires(const struct call *call);

/**
 * Reply to a request with an error and log one line with the code and
 * why. hdrs (may be NULL) are extra header lines, each ending in CRLF.
 */
void call_reject(struct sip *sip, const struct sip_msg *msg, uint16_t scode,
		 const char *reason, const char *hdrs, const char *why);

/**
 * Every Require option we do not support (all but "timer"), comma
 * separated into buf for an Unsupported header. True if there is one.
 */
bool call_require_unsupported(const struct sip_msg *msg, char *buf,
			      size_t sz);

#endif
