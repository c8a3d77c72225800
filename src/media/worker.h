/**
 * @file worker.h  Media engine internals shared by engine.c (libre
 * thread), worker.c (worker threads) and sock.c.
 *
 * Ownership: struct media_engine and the libre-side maps belong to the
 * libre thread. A struct worker is split: the command ring is produced
 * by the libre thread and consumed by the worker, the event ring the
 * other way round; the fields marked "worker only" are touched by the
 * worker thread alone while it runs; published stats are atomics.
 * Rooms (struct wroom) and legs (struct wleg) are allocated on the libre
 * thread, handed to a worker by command and from then on touched only by
 * that worker (or by the engine after the worker has been joined).
 */
#ifndef CHORUS_MEDIA_WORKER_H
#define CHORUS_MEDIA_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <chorus/mixer.h>
#include "media/media.h"
#include "media/rtp.h"
#include "media/spsc.h"
#include "media/srtpctx.h"

enum {
	WORKER_CMDQ_SIZE  = 4096,   /**< commands per worker ring           */
	WORKER_EVQ_SIZE   = 4096,   /**< events per worker ring             */
	WORKER_RX_BATCH   = 64,     /**< datagrams per socket per tick      */
	WORKER_RX_BUFSZ   = 2048,
	ROOM_CAPACITY_DEFAULT = 64,
	WORKER_PKTS_MAX   = 8,      /**< packets one frame may yield         */
	WORKER_FRAME_MAX  = 48 * 60,/**< samples: 48 kHz x 60 ms             */
};

/** The packets one room frame produced in a send chain. */
struct wpkts {
	unsigned n;
	size_t len[WORKER_PKTS_MAX];       /**< 0: DTX, advance ts only   */
	uint32_t ts_inc[WORKER_PKTS_MAX];
	uint8_t buf[WORKER_PKTS_MAX][CODEC_MAX_PAYLOAD];
};

struct wroom;
struct wleg;

/** A control operation, queued libre -> worker (malloc'd). */
enum wcmd_type {
	WCMD_ROOM_ADD,         /**< room: hand over a new room            */
	WCMD_ROOM_REMOVE,      /**< room                                  */
	WCMD_LEG_ATTACH,       /**< leg into room (new, or moved in)      */
	WCMD_LEG_UPDATE,       /**< leg, prm                              */
	WCMD_LEG_REMOVE,       /**< leg: BYE, close, LEG_RELEASED         */
	WCMD_LEG_CONTROL,      /**< leg, op, value                        */
	WCMD_LEG_MOVE,         /**< leg to room on this worker, or
				    room == NULL: detach and hand back    */
	WCMD_LEG_RELEASE,      /**< leg in no room: BYE, close, released  */
	WCMD_LEG_PROMPT,       /**< leg, pcm/npcm: private playout (added) */
};

struct wcmd {
	struct le le;              /**< libre side only: backlog/pending   */
	enum wcmd_type type;
	struct wroom *room;
	struct wleg *leg;
	uint32_t room_id;          /**< WCMD_LEG_MOVE target (libre side)  */
	struct media_leg_params prm;
	enum media_leg_op op;
	int value;
	bool srtp_set;             /**< WCMD_LEG_UPDATE: replace contexts  */
	struct sec_srtp *srtp_tx;  /**< owned by the command until applied */
	struct sec_srtp *srtp_rx;
	int16_t *pcm;              /**< WCMD_LEG_PROMPT, malloc'd, owned by
				        the command until applied          */
	size_t npcm;
};

/** Events worker -> libre, copied through the event ring. */
enum wev_kind {
	WEV_PUBLIC = 0,            /**< ev goes to the media_event_h       */
	WEV_LEG_DETACHED,          /**< leg left its worker for a move     */
};

struct wevent {
	enum wev_kind kind;
	struct media_event ev;
	struct wleg *leg;
};

/* Per-leg stats published by the worker, read by the libre thread. */
enum leg_pub_field {
	LPUB_RX_PACKETS, LPUB_RX_BYTES, LPUB_TX_PACKETS, LPUB_TX_BYTES,
	LPUB_RX_LOST, LPUB_RX_LATE, LPUB_RX_DUP, LPUB_RX_DROPPED_SRC,
	LPUB_RX_DROPPED_PT, LPUB_PLC, LPUB_FEC, LPUB_JITTER, LPUB_JB_DELAY,
	LPUB_LEVEL, LPUB_LATCHED, LPUB_RX_MALFORMED, LPUB_TX_SHARED,
	LPUB_RX_SRTP_FAIL,
	LPUB_N
};

/** A seqlock whose payload fields are atomics too (no data race). */
struct leg_pub {
	atomic_uint seq;
	_Atomic uint64_t v[LPUB_N];
};

void leg_pub_write(struct leg_pub *pub, const struct media_leg_stats *st);
bool leg_pub_read(struct leg_pub *pub, struct media_leg_stats *st);

struct worker {
	struct media_engine *me;
	unsigned idx;
	pthread_t thr;
	bool started;
	atomic_bool run;

	struct spsc cmdq;          /**< struct wcmd *, libre -> worker      */
	struct spsc evq;           /**< struct wevent, worker -> libre      */
	atomic_bool bell;          /**< a wake-up is in the mqueue          */

	/* published (any thread reads) */
	_Atomic uint64_t pub_ticks, pub_late, pub_resyncs;
	atomic_uint pub_load, pub_max_tick_us, pub_rooms, pub_legs;

	/* libre thread only */
	unsigned nlegs_l, nrooms_l;
	struct list backlog;       /**< commands waiting for ring space    */

	/* worker only */
	struct wroom *rooms;       /**< intrusive list                      */
	size_t nrooms;
	unsigned nlegs;
	struct wevent *over;       /**< events waiting for ring space       */
	size_t nover, over_cap;
	uint64_t ev_dropped;
	struct mmsghdr msgs[WORKER_RX_BATCH];
	struct iovec iov[WORKER_RX_BATCH];
	struct sockaddr_storage from[WORKER_RX_BATCH];
	uint8_t (*rxbuf)[WORKER_RX_BUFSZ];
	int16_t *tone;             /**< join/leave tone, room frame         */
	int16_t frame[WORKER_FRAME_MAX];   /**< scratch: output + tone     */
	struct wpkts pkts;         /**< scratch: a leg's own encoder       */
};

struct media_engine {
	struct media_cfg cfg;
	media_event_h *eh;
	void *arg;
	struct mqueue *mq;
	struct worker *workers;
	unsigned nworkers;
	struct hash *legs;         /**< struct leg_ent by leg id           */
	struct hash *rooms;        /**< struct room_ent by room id         */
	unsigned port_next;        /**< round-robin cursor (sock.c)        */
	struct tmr tmr_backlog;
};

/* worker.c: objects built on the libre thread, run on a worker */
int  wroom_alloc(struct wroom **roomp, const struct media_cfg *cfg,
		 uint32_t room_id, uint32_t capacity);
void wroom_free(struct wroom *room);
int  wleg_alloc(struct wleg **legp, const struct media_cfg *cfg,
		uint32_t leg_id, const struct media_sock *ms,
		const struct media_leg_params *prm, struct leg_pub *pub);
/** Give the leg its SRTP contexts (libre thread, before handing over). */
void wleg_set_srtp(struct wleg *leg, struct sec_srtp *tx,
		   struct sec_srtp *rx);
/** Close and free without events (shutdown or never handed over). */
void wleg_free(struct wleg *leg);

int  worker_start(struct worker *w);
/** Stop and join the thread, then free everything it owned. */
void worker_stop(struct worker *w);
/** Free a command that never reached (or was left by) a worker. */
void wcmd_discard(struct wcmd *cmd);

uint64_t media_now_us(void);


/* ---- worker-private objects (worker.c, wleg.c, wroom.c, wsend.c) ----- */

enum {
	RTCP_INTERVAL_MS = 5000,   /**< RFC 3550 minimum for our rate       */
	STATS_INTERVAL_US = 1000000,
	LATE_FACTOR_RESYNC = 5,    /**< frames behind before resyncing      */
	LOG_INTERVAL_US = 10000000,/**< rate limit for late-tick warnings   */
	RTCP_BUFSZ = 512,
	TONE_MS = 120,             /**< join/leave beep length              */
	TONE_AMPL = 3000,
	SHENC_IDLE_TICKS = 50,     /**< free a shared encoder unused 1 s    */
};

struct wleg {
	uint32_t id;
	struct wroom *room;        /**< NULL while detached                 */
	unsigned slot;             /**< mixer slot in room                  */
	struct leg_pub *pub;

	int fd_rtp;
	int fd_rtcp;               /**< -1: rtcp-mux                        */
	struct media_leg_params prm;
	struct sa raddr_rtp;       /**< send to: from SDP, then latched     */
	struct sa raddr_rtcp;
	bool latched;
	bool latched_rtcp;
	/* (added) strict latching: a source other than the SDP address
	 * latches only after WLEG_LATCH_PROBATION in-sequence packets */
	struct sa cand;
	uint16_t cand_seq;
	unsigned cand_n;

	struct rxchain *rx;
	struct txchain *tx;
	struct sec_srtp *srtp_tx;  /**< NULL: plain RTP                     */
	struct sec_srtp *srtp_rx;
	bool srtp_expired_logged;
	/* (added) the inbound context before the last rekey, tried for
	 * packets that fail the new one until srtp_rx_old_until_us: the
	 * peer's packets in flight under its old key are not lost */
	struct sec_srtp *srtp_rx_old;
	uint64_t srtp_rx_old_until_us;

	unsigned user_flags;       /**< MIX_MUTE/MIX_DEAF from control      */
	float gain_in, gain_out;
	bool vad;

	/* sending */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	bool sent_first;
	bool talkspurt;            /**< next packet gets the marker bit     */
	uint32_t last_tx_ts;
	uint64_t last_tx_us;
	uint32_t psent, osent;

	/* receiving */
	struct rtph_seq rseq;
	struct telev_rx telev;
	uint64_t last_rx_us;
	bool timeout_sent;
	bool have_sr;
	uint32_t lsr;
	uint64_t lsr_rx_us;

	uint64_t next_rtcp_us;
	uint32_t rtcp_ms;          /**< mean report interval                */
	uint64_t next_pub_us;
	uint32_t rng;
	unsigned tone_left;        /**< samples of join tone still to play  */
	int16_t *prompt;           /**< private playout replacing the mix   */
	size_t prompt_n, prompt_pos;
	struct shenc *shenc;       /**< this tick's shared encoder or NULL  */
	uint64_t shared_frames;    /**< frames sent from a shared encoder   */
	uint64_t tx_errors;

	struct media_leg_stats st;
};

/** One encoder for every leg of a (output group, format). */
struct shenc {
	unsigned group;
	struct codec_fmt fmt;
	struct txchain *tx;        /**< allocated on first use              */
	unsigned users;            /**< legs this tick                      */
	bool done;                 /**< encoded this tick                   */
	unsigned idle;             /**< ticks without users                 */
	struct wpkts pkts;
};

struct wroom {
	uint32_t id;
	struct mixer *mix;
	struct mix_cfg mcfg;
	struct wleg **slot;        /**< mcfg.capacity entries               */
	unsigned nlegs;
	struct shenc **shenc;
	size_t nshenc, shenc_cap;
	struct wroom *prev, *next; /**< the worker's list                   */
};

/* worker.c */
void worker_post(struct worker *w, const struct wevent *wev);
void worker_post_ev(struct worker *w, enum media_event_type type,
		    uint32_t room_id, uint32_t leg_id, int value);

/* wleg.c */
void wleg_rx(struct worker *w, struct wleg *leg, int fd, bool rtcp,
	     uint64_t now_us);
void wleg_rtcp_send(struct wleg *leg, uint64_t now_us, bool bye);
void wleg_rtcp_schedule(struct wleg *leg, uint64_t now_us);
void wleg_publish(struct wleg *leg);
void wleg_srtp_expired(struct wleg *leg, int err);
bool wleg_sa_usable(const struct sa *sa);

/* wroom.c */
void wroom_apply_mix(struct wleg *leg);
int  wroom_attach(struct worker *w, struct wleg *leg, struct wroom *room,
		  uint64_t now_us);
void wroom_detach(struct worker *w, struct wleg *leg);
void wroom_release(struct worker *w, struct wleg *leg, uint32_t room_id);
void wroom_tick(struct worker *w, struct wroom *room, uint64_t now_us);

/* wsend.c */
void wsend_plan(struct worker *w, struct wroom *room);
void wsend_leg(struct worker *w, struct wroom *room, struct wleg *leg,
	       uint64_t now_us);
void wsend_gc(struct wroom *room);
void wsend_shenc_free(struct shenc *se);

#endif
