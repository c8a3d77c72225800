/**
 * @file jbuf.h  Packet jitter buffer with timestamp-driven playout.
 *
 * Packets are stored whole (preallocated slots, no allocation per packet)
 * and ordered by RTP timestamp. The consumer asks for the next piece of
 * the stream in timestamp order; the buffer answers with a packet, a gap
 * to conceal, or "nothing yet". The playout delay adapts to the measured
 * RFC 3550 jitter and is kept bounded against sender clock drift by
 * skipping a packet or asking for one extra concealed frame.
 *
 * All durations and depths are in RTP timestamp units. One thread only.
 */
#ifndef CHORUS_JBUF_H
#define CHORUS_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	JITBUF_SLOTS     = 64,    /**< packets held at most                  */
	JITBUF_SLOT_SIZE = 1500,  /**< largest payload stored                */
};

struct jitbuf_cfg {
	uint32_t clock;         /**< RTP clock rate (Hz)                   */
	uint32_t min_ms;        /**< playout delay bounds                  */
	uint32_t max_ms;
	uint32_t frame_ms;      /**< consumer frame (room ptime)           */
};

enum jitbuf_res {
	JITBUF_NODATA = 0,        /**< not started: play silence             */
	JITBUF_PKT,               /**< out->data/len: decode it              */
	JITBUF_MISSING,           /**< out->dur lost; out->next may be FEC   */
	JITBUF_UNDERRUN,          /**< ran dry: conceal out->dur             */
	JITBUF_INSERT,            /**< drift: conceal out->dur, stay in place*/
};

struct jitbuf_out {
	const uint8_t *data;    /**< JITBUF_PKT payload                      */
	size_t len;
	uint32_t ts;
	uint32_t dur;           /**< timestamp units covered               */
	bool drop;              /**< JITBUF_PKT: decode, then discard (drift)*/
	const uint8_t *next;    /**< JITBUF_MISSING: the packet right after  */
	size_t next_len;        /**< the gap (for FEC), else NULL          */
};

struct jitbuf_stats {
	uint64_t packets;       /**< packets stored                        */
	uint64_t lost;          /**< packets never received (gaps)         */
	uint64_t late;          /**< arrived after their playout time      */
	uint64_t dup;           /**< duplicates dropped                    */
	uint64_t resets;        /**< SSRC change / timestamp jump          */
	uint64_t underruns;     /**< ran empty while playing               */
	uint64_t skipped;       /**< packets dropped to shrink the delay   */
	uint64_t inserted;      /**< frames inserted to grow the delay     */
	uint64_t overflow;      /**< packets evicted because all slots full*/
	uint32_t jitter;        /**< RFC 3550 jitter, timestamp units      */
	uint32_t target;        /**< current target delay, ts units        */
	uint32_t depth;         /**< buffered ahead of the play point      */
};

struct jitbuf;

int  jitbuf_alloc(struct jitbuf **jbp, const struct jitbuf_cfg *cfg);
void jitbuf_free(struct jitbuf *jb);
/** Drop every packet and forget the stream (codec change). */
void jitbuf_flush(struct jitbuf *jb);

/**
 * Store a packet. dur: timestamp units it spans (> 0, from the codec).
 * @return 0 stored, EALREADY duplicate, ETIMEDOUT late, EINVAL bad
 */
int  jitbuf_put(struct jitbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
	      uint32_t dur, const uint8_t *data, size_t len, uint64_t now_us);

/**
 * Next piece of the stream. A returned packet stays valid until the next
 * jitbuf_put/jitbuf_get/jitbuf_flush call.
 */
enum jitbuf_res jitbuf_get(struct jitbuf *jb, struct jitbuf_out *out,
		       uint64_t now_us);

/**
 * The consumer played a packet flagged drop after all (it was loud; a
 * skip is less audible in a pause): undo the skip's accounting; the
 * buffer asks again on one of the next packets.
 */
void jitbuf_skip_undo(struct jitbuf *jb, uint32_t dur);

/** true once playout started and not yet idle again */
bool jitbuf_playing(const struct jitbuf *jb);

void jitbuf_stats(const struct jitbuf *jb, struct jitbuf_stats *st);

#endif
