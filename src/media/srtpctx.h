/**
 * @file srtpctx.h  Thin wrapper around libsrtp2 for one direction of one
 * leg: an outbound context protects what we send (our key), an inbound
 * context unprotects what the leg sends (its key). Each context covers
 * RTP and RTCP for any SSRC in that direction.
 *
 * Threading: allocate and free on the libre thread; protect/unprotect
 * from the one media worker that owns the leg. A context is never used
 * by two threads at once (libsrtp contexts are not thread-safe).
 *
 * Errors are errno values, distinct per cause so the caller can count
 * and log them differently:
 *   EBADMSG    authentication failed (tampered, wrong key, garbage)
 *   EALREADY   replayed or too old for the replay window
 *   EKEYEXPIRED the SDES lifetime (packets per master key, RFC 4568
 *              6.1, counted for SRTP and SRTCP each) is used up: the
 *              caller must rekey (re-INVITE) or hang up
 *   EOVERFLOW  no room in the buffer for the SRTP trailer
 *   EINVAL     bad arguments, or a packet too short to be RTP/RTCP
 *   EPROTO     any other libsrtp failure
 */
#ifndef CHORUS_MEDIA_SRTPCTX_H
#define CHORUS_MEDIA_SRTPCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <re.h>

#include "media/sdes.h"

/**
 * Room protect needs after the packet. Our suites add at most tag (16)
 * + MKI (4) + SRTCP index (4), but libsrtp2's contract is that it may
 * write SRTP_MAX_TRAILER_LEN (144) + 4 octets, so that is what we ask:
 * buffers given to protect must have size >= len + SEC_SRTP_TRAILER_MAX.
 */
#define SEC_SRTP_TRAILER_MAX 148
/** Replay window in packets (RFC 3711 minimum is 64). */
#define SEC_SRTP_WINDOW      1024

enum sec_srtp_dir {
	SEC_SRTP_OUTBOUND = 0,    /**< protect: we send                      */
	SEC_SRTP_INBOUND,         /**< unprotect: the leg sends              */
};

struct sec_srtp_stats {
	uint64_t rtp_ok;          /**< packets protected / unprotected       */
	uint64_t rtcp_ok;
	uint64_t auth_fail;       /**< EBADMSG results                       */
	uint64_t replay_fail;     /**< EALREADY results                      */
	uint64_t expired;         /**< EKEYEXPIRED results                   */
	uint64_t other_fail;      /**< everything else                       */
};

struct sec_srtp;

/** libsrtp2 global init; safe to call any number of times, any thread. */
int sec_srtp_init(void);

/**
 * Create a context from an SDES crypto (our own for OUTBOUND, the peer's
 * for INBOUND). The key is copied into libsrtp and the local copy wiped.
 */
int sec_srtp_alloc(struct sec_srtp **sp, const struct sdes_crypto *crypto,
		   enum sec_srtp_dir dir);

/** Protect in place: *len grows by the trailer; size = buffer capacity. */
int sec_srtp_protect_rtp(struct sec_srtp *s, uint8_t *buf, size_t *len,
			 size_t size);
int sec_srtp_protect_rtcp(struct sec_srtp *s, uint8_t *buf, size_t *len,
			  size_t size);

/** Unprotect in place: on success *len is the plain packet length. */
int sec_srtp_unprotect_rtp(struct sec_srtp *s, uint8_t *buf, size_t *len);
int sec_srtp_unprotect_rtcp(struct sec_srtp *s, uint8_t *buf, size_t *len);

const struct sec_srtp_stats *sec_srtp_stats(const struct sec_srtp *s);

/** %H printer: suite, direction, counters. Never the key. */
int sec_srtp_debug(struct re_printf *pf, const struct sec_srtp *s);

#endif
