/**
 * @file sec_sdp.h  SDES-SRTP in offer/answer (RFC 4568 on top of
 * sdpneg): the SRTP policy of a room, which transports our audio line
 * accepts, the a=crypto choice and our own key.
 *
 * Policy (cfg srtp, per room in rooms.conf, the room's value wins):
 *   off        RTP/AVP(F) only; an RTP/SAVP offer gets 488 (no usable
 *              audio stream); a=crypto on RTP/AVP is ignored
 *   optional   RTP/SAVP(F) with a usable a=crypto -> SRTP; RTP/AVP with
 *              a usable a=crypto -> SRTP too; plain RTP/AVP -> plain RTP
 *   mandatory  SRTP or 488 with a Warning
 * An RTP/SAVP offer whose a=crypto lines are all unusable gets 488.
 *
 * The keys travel in struct sdpneg_result (srtp, srtp_tx, srtp_rx) to
 * the media engine. Nothing here logs key material.
 */
#ifndef CHORUS_SIP_SEC_SDP_H
#define CHORUS_SIP_SEC_SDP_H

#include <stdbool.h>
#include <re.h>

#include "cfg/cfg.h"
#include "media/sdes.h"
#include "room/room.h"
#include "sip/sdpneg.h"

/** The policy that applies to room (its own value, else cfg's). */
enum cfg_srtp sec_sdp_policy(const struct cfg *cfg, const struct room *room);

/** Let our audio line match RTP/SAVP(F) offers unless policy is off. */
int  sec_sdp_prepare(struct sdp_session *sess, enum cfg_srtp policy);

/**
 * After sdpneg_decide() accepted a remote offer decoded into sess:
 * decide SRTP, fill res->srtp/srtp_tx/srtp_rx and put our a=crypto on
 * the local line (or remove it for plain RTP).
 * prev: what runs now (a re-offer), or NULL. If the peer keeps its key
 * we keep ours, so the media engine keeps its contexts.
 * @return 0, or an errno with res->scode (488) and res->reason set.
 */
int  sec_sdp_offer(struct sdpneg_result *res, struct sdp_session *sess,
		   enum cfg_srtp policy, const struct sdpneg_result *prev);

/**
 * Our own offer (INVITE without SDP, re-INVITE without SDP): unless
 * policy is off, put a fresh AES_CM_128_HMAC_SHA1_80 a=crypto (tag 1)
 * on the line and return it in *ours (RTP/AVP with a=crypto: a peer
 * that does not do SDES still gets a usable offer, unless mandatory).
 * With policy off any a=crypto is removed and ours->suite is NONE.
 */
int  sec_sdp_offer_prepare(struct sdp_session *sess, enum cfg_srtp policy,
			   struct sdes_crypto *ours);

/**
 * The answer to our own offer, decoded into sess: the peer's a=crypto
 * must carry our tag and suite. Fills res like sec_sdp_offer().
 */
int  sec_sdp_answer(struct sdpneg_result *res, struct sdp_session *sess,
		    enum cfg_srtp policy, const struct sdes_crypto *ours);

#endif
