/**
 * @file sdpneg.h  SDP offer/answer for one audio stream (RFC 3264).
 *
 * The decision is a pure function of a decoded SDP (libre sdp_session
 * after sdp_decode) and our preferences: no sockets, no SIP. The call
 * layer keeps one sdp_session per dialog (o= version, m= line order
 * across re-INVITEs) and uses sdpneg_apply() to shape the answer.
 *
 * Usage for an offer:
 *   sdpneg_session_alloc(&sess, &laddr, &prefs);
 *   sdp_decode(sess, offer, true);
 *   sdpneg_decide(&res, sess, &prefs, true);   error: res.scode/res.reason
 *   sdpneg_apply(sess, &res, rtp_port, rtcp_port);
 *   sdp_encode(&answer, sess, false);
 */
#ifndef CHORUS_SDPNEG_H
#define CHORUS_SDPNEG_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

#include "media/codec.h"
#include "media/media.h"

enum {
	SDPNEG_PTIME_MIN     = 10,
	SDPNEG_PTIME_MAX     = 60,
	SDPNEG_PTIME_DEFAULT = 20,
	SDPNEG_CODECS_MAX    = 8,
};

/** What we accept, in our preference order (used for our own offers). */
struct sdpneg_prefs {
	enum codec_id codecs[SDPNEG_CODECS_MAX];
	unsigned ncodecs;          /**< 0 = every codec we implement        */
	uint32_t ptime_ms;         /**< send ptime when the peer has no wish */
	bool     telev;            /**< offer/accept telephone-event         */
};

/** Outcome of one offer (or answer) for the audio stream. */
struct sdpneg_result {
	/* on error */
	uint16_t scode;            /**< 488 / 400 to send                   */
	char     reason[96];       /**< for the Warning header and the log  */

	/* on success */
	unsigned mindex;           /**< index of the accepted m= line       */
	struct codec_fmt codec;    /**< PT as the peer numbered it          */
	int      telev_pt;         /**< -1 if none                          */
	uint32_t telev_rate;
	struct sa raddr_rtp;
	struct sa raddr_rtcp;      /**< == raddr_rtp when rtcp_mux          */
	bool     rtcp_mux;         /**< peer offered/accepted a=rtcp-mux     */
	bool     hold;             /**< sendonly, inactive or c=0.0.0.0     */
	bool     zero_addr;        /**< c=0.0.0.0 (RFC 2543 hold)           */
	enum media_dir dir;        /**< faithful to the SDP (see sdpneg.c)  */

	/* (added) SDES-SRTP, set by sec_sdp.c after sdpneg_decide() */
	bool     srtp;
	struct sdes_crypto srtp_tx;/**< our key (protects what we send)     */
	struct sdes_crypto srtp_rx;/**< the peer's key                      */
};

void sdpneg_prefs_default(struct sdpneg_prefs *prefs);
/** Our sdp_session with one audio m= line carrying every allowed codec. */
int  sdpneg_session_alloc(struct sdp_session **sessp, const struct sa *laddr,
			  const struct sdpneg_prefs *prefs);
/** The audio m= line of a session made by sdpneg_session_alloc(). */
struct sdp_media *sdpneg_audio(const struct sdp_session *sess);

/**
 * Decide the audio parameters from the remote SDP decoded into sess.
 * offer: true when the remote SDP is an offer (offerer's codec order
 * wins), false for an answer to our offer.
 * Returns 0, or an errno with res->scode and res->reason set.
 */
int  sdpneg_decide(struct sdpneg_result *res, const struct sdp_session *sess,
		   const struct sdpneg_prefs *prefs, bool offer);

/**
 * Shape our answer after a successful decision: only the chosen codec
 * and telephone-event, the answer direction, rtcp-mux / a=rtcp.
 * rtcp_port 0 = none (rtcp-mux).
 */
int  sdpneg_apply(struct sdp_session *sess, const struct sdpneg_result *res,
		  uint16_t rtp_port, uint16_t rtcp_port);

/** Prepare our own offer (late offer): every allowed codec, sendrecv. */
int  sdpneg_offer_prepare(struct sdp_session *sess,
			  const struct sdpneg_prefs *prefs,
			  uint16_t rtp_port, uint16_t rtcp_port);

/** Restore every allowed local format before decoding a new offer
 *  (a previous answer narrowed them). */
int  sdpneg_formats_reset(struct sdp_session *sess,
			  const struct sdpneg_prefs *prefs);

/** Map an SDP direction as libre stores it (our view) to media_dir. */
enum media_dir sdpneg_media_dir(enum sdp_dir rdir);

#endif
