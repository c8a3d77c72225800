/**
 * @file media.h  The media engine: worker threads that receive RTP, decode,
 * mix and encode. This is the contract between the libre thread (sip/,
 * room/) and the media workers.
 *
 * Threading rule: every function in this header is called from the libre
 * thread only. The engine turns each call into a command on the owning
 * worker's lock-free queue; the worker applies it at the next frame
 * boundary. Events travel back through libre's mqueue and the event
 * handler runs on the libre thread. No libre object crosses threads:
 * sockets are plain file descriptors, parameters are copied.
 */
#ifndef CHORUS_MEDIA_H
#define CHORUS_MEDIA_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

#include "media/codec.h"
#include "media/sdes.h"

struct media_engine;

struct media_cfg {
	unsigned workers;          /**< 0 = online CPUs                      */
	uint32_t room_srate;       /**< 48000 (default) or 16000             */
	uint32_t ptime_ms;         /**< mixer frame, 20                      */
	uint16_t rtp_port_min;     /**< even, inclusive                      */
	uint16_t rtp_port_max;     /**< inclusive                            */
	uint8_t  dscp_rtp;         /**< DSCP for RTP/RTCP (46 = EF)          */
	uint32_t rtp_timeout_ms;   /**< no RTP/RTCP this long: event, 0 = off */
	uint32_t topk;             /**< mixer top-K, 0 = all contribute      */
	int      opus_complexity;  /**< 0..10                                */
	bool     join_tones;       /**< play a tone on join/leave            */
	uint32_t jb_min_ms;        /**< jitter buffer lower bound            */
	uint32_t jb_max_ms;        /**< jitter buffer upper bound            */
	bool     encode_per_leg;   /**< (added) never share an encoder
				        between listeners (A/B tests)        */
	int      rt_priority;      /**< (added) SCHED_FIFO priority for the
				        workers (1..99), 0 = normal          */
	uint32_t rtcp_interval_ms; /**< (added) mean RTCP report interval,
				        randomised x0.5..1.5; 0 = 5000      */
};

/** Media direction seen from chorus. */
enum media_dir {
	MEDIA_INACTIVE = 0,
	MEDIA_SEND     = 1 << 0,   /**< we send the mix to the leg            */
	MEDIA_RECV     = 1 << 1,   /**< the leg's audio goes into the mix     */
	MEDIA_SENDRECV = MEDIA_SEND | MEDIA_RECV,
};

/** A bound RTP (+RTCP) socket pair from the configured port range. */
struct media_sock {
	int fd_rtp;
	int fd_rtcp;               /**< -1 when rtcp-mux                     */
	struct sa laddr_rtp;       /**< bound address, port for the SDP      */
	struct sa laddr_rtcp;
};

struct media_leg_params {
	struct codec_fmt codec;    /**< negotiated audio codec (send & recv)  */
	int      telev_pt;         /**< telephone-event PT, -1 if none       */
	uint32_t telev_rate;       /**< its clock rate                       */
	struct sa raddr_rtp;       /**< remote RTP address from SDP          */
	struct sa raddr_rtcp;      /**< remote RTCP (== rtp when rtcp_mux)   */
	bool     rtcp_mux;
	enum media_dir dir;
	char     cname[64];        /**< our RTCP CNAME                       */
	/* (added) SDES-SRTP, RFC 3711/4568: plain RTP unless srtp is set.
	 * The engine hands the keys to libsrtp and wipes its own copies;
	 * an update with the same keys keeps the contexts (ROC, replay
	 * window), different keys rekey at the next frame boundary. */
	bool     srtp;
	struct sdes_crypto srtp_tx;/**< our crypto: protects what we send  */
	struct sdes_crypto srtp_rx;/**< the peer's crypto: what it sends   */
	/* (added) media_leg_add only: the leg starts muted and deaf in the
	 * mixer (PIN entry), so no frame of it is mixed before a later
	 * media_leg_control can reach the worker. Ignored by updates. */
	bool     isolated;
};

enum media_leg_op {
	MEDIA_OP_MUTE,             /**< value: 0/1                           */
	MEDIA_OP_DEAF,             /**< value: 0/1                           */
	MEDIA_OP_GAIN_IN,          /**< value: dB (-20..12)                  */
	MEDIA_OP_GAIN_OUT,         /**< value: dB (-20..12)                  */
};

enum media_event_type {
	MEDIA_EV_LEG_RELEASED,     /**< leg removed, sockets closed          */
	MEDIA_EV_LEG_TIMEOUT,      /**< no RTP/RTCP for rtp_timeout_ms       */
	MEDIA_EV_DTMF,             /**< RFC 4733 digit (end of event)        */
	MEDIA_EV_TALKING,          /**< VAD changed; talking = value         */
	MEDIA_EV_ROOM_RELEASED,    /**< room removed from its worker         */
	MEDIA_EV_WORKER_LOAD,      /**< periodic: value = load permille,
				        late = late ticks since last event   */
};

struct media_event {
	enum media_event_type type;
	uint32_t room_id;
	uint32_t leg_id;
	unsigned worker;
	int      value;            /**< see type                             */
	char     digit;            /**< MEDIA_EV_DTMF: '0'-'9','*','#','A'-'D' */
	uint64_t late;
};

/** Runs on the libre thread. */
typedef void (media_event_h)(const struct media_event *ev, void *arg);

/** Per-leg figures, copied out by the worker once per second. */
struct media_leg_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_lost, rx_late, rx_dup, rx_dropped_src, rx_dropped_pt;
	uint64_t plc_frames, fec_frames;
	uint32_t jitter_ms;        /**< RFC 3550 interarrival jitter          */
	uint32_t jb_delay_ms;
	uint8_t  level;            /**< RFC 6464 -dBov                        */
	bool     latched;
	uint64_t rx_malformed;     /**< bad RTP/RTCP headers (added)         */
	uint64_t tx_shared_frames; /**< frames sent from an encoder shared
				        with other listeners (added)         */
	uint64_t rx_srtp_fail;     /**< SRTP/SRTCP auth/replay failures,
				        dropped before latching (added)      */
};

struct media_worker_stats {
	uint64_t ticks, late_ticks;
	uint32_t load_permille;    /**< busy share of the last second's ticks */
	uint32_t max_tick_us;
	uint32_t rooms, legs;
	uint64_t resyncs;          /**< (added) schedule restarted after
				        falling > 5 frames behind            */
};

int  media_engine_alloc(struct media_engine **mep, const struct media_cfg *cfg,
			media_event_h *eh, void *arg);
/* mem_deref(engine) stops and joins the workers and closes every socket */

unsigned media_engine_workers(const struct media_engine *me);
int  media_worker_stats(const struct media_engine *me, unsigned worker,
			struct media_worker_stats *st);
/** The worker a room runs on (ENOENT: no such room). (added) */
int  media_room_worker(const struct media_engine *me, uint32_t room_id,
		       unsigned *worker);

/** Bind an RTP/RTCP pair on laddr (port taken from the range). */
int  media_sock_alloc(struct media_engine *me, struct media_sock *ms,
		      const struct sa *laddr, bool rtcp_mux);
/** Close a pair that was never handed to media_leg_add(). */
void media_sock_close(struct media_sock *ms);

/** Create a room on the least-loaded worker. */
int  media_room_add(struct media_engine *me, uint32_t room_id);
/**
 * Same with a mixer sized for capacity legs (0 = 64). The mixer still
 * grows (between two frames) when more legs join. (added)
 */
int  media_room_add2(struct media_engine *me, uint32_t room_id,
		     uint32_t capacity);
/** Remove a room (its legs must be gone); MEDIA_EV_ROOM_RELEASED follows. */
int  media_room_remove(struct media_engine *me, uint32_t room_id);

/**
 * Add a leg to a room. Ownership of the sockets in ms passes to the
 * engine (also on error: they are closed).
 */
int  media_leg_add(struct media_engine *me, uint32_t room_id, uint32_t leg_id,
		   const struct media_sock *ms,
		   const struct media_leg_params *prm);
/** re-INVITE: new remote address, codec or direction, without a gap. */
int  media_leg_update(struct media_engine *me, uint32_t leg_id,
		      const struct media_leg_params *prm);
/** Send RTCP BYE, close sockets; MEDIA_EV_LEG_RELEASED follows. */
int  media_leg_remove(struct media_engine *me, uint32_t leg_id);
int  media_leg_control(struct media_engine *me, uint32_t leg_id,
		       enum media_leg_op op, int value);
/**
 * (added) Play n samples of mono PCM at the room rate to this leg only,
 * in place of its mix (a prompt: PIN request, menu). The samples are
 * copied; a new prompt replaces one still playing; n == 0 stops it.
 * Combine with MEDIA_OP_MUTE/MEDIA_OP_DEAF to keep a leg out of the
 * room until it is admitted.
 */
int  media_leg_prompt(struct media_engine *me, uint32_t leg_id,
		      const int16_t *pcm, size_t n);
/** Move a leg to another room (may live on another worker). */
int  media_leg_move(struct media_engine *me, uint32_t leg_id,
		    uint32_t new_room_id);
/**
 * Last stats snapshot the worker published for the leg (about once per
 * second, and a final one before MEDIA_EV_LEG_RELEASED: the handler of
 * that event can still read it; afterwards ENOENT).
 */
int  media_leg_stats(const struct media_engine *me, uint32_t leg_id,
		     struct media_leg_stats *st);

#endif
