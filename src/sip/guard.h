/**
 * @file guard.h  SIP admission control: the first thing every incoming
 * request meets (per-source rate limit with bans, pike.c) and the caps
 * a new INVITE must pass before any room, leg or socket is touched
 * (legs in total, dialogs per source IP, media worker load).
 *
 * Lives on the libre thread (pike is not thread-safe; the worker loads
 * are read from the engine's published atomics).
 */
#ifndef CHORUS_SIP_GUARD_H
#define CHORUS_SIP_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

#include "cfg/cfg.h"
#include "media/media.h"
#include "room/room.h"
#include "sip/pike.h"

struct guard;

struct guard_stats {
	uint64_t dropped;          /**< requests dropped while banned       */
	uint64_t bans;             /**< bans started                        */
	uint64_t rej_total;        /**< 503: max_legs_total                 */
	uint64_t rej_source;       /**< 503: max_dialogs_per_source         */
	uint64_t rej_overload;     /**< 503: media worker overloaded        */
};

/** Load of a media worker in permille (tests replace the engine). */
typedef uint32_t (guard_load_h)(unsigned worker, void *arg);

/**
 * Create the guard and register its SIP listener. Call it before
 * sipsess_listen() and any other sip_listen(): libre offers each request
 * to the listeners in registration order (after its server transaction
 * layer, which only absorbs retransmissions), so the guard sees every
 * new request first and can drop it before any work is done.
 * me may be NULL (signalling-only tests): no load check then.
 */
int  guard_alloc(struct guard **gp, const struct cfg *cfg, struct sip *sip,
		 struct registry *reg, struct media_engine *me);

/**
 * May this INVITE (already routed to room) create a dialog?
 * @return 0, or the status to answer (503) with *retry_after set and a
 *         reason for the log in why.
 */
uint16_t guard_admit(struct guard *g, const struct sip_msg *msg,
		     const struct room *room, uint32_t *retry_after,
		     char *why, size_t sz);

/** A dialog was created for msg's source; leg_id is its leg. */
void guard_dialog_added(struct guard *g, const struct sip_msg *msg,
			uint32_t leg_id);

/** Live dialogs counted for the source address of sa (IP only). */
uint32_t guard_source_dialogs(struct guard *g, const struct sa *src);

/**
 * Check a pike_exempt list: addresses or prefixes ("192.0.2.1",
 * "10.0.0.0/8", "2001:db8::/32"), separated by commas or blanks.
 * @return 0, or EINVAL with the offending item in bad.
 */
int  guard_exempt_check(const char *list, char *bad, size_t sz);

/** Is src exempt from the per-source limits? */
bool guard_exempt(const struct guard *g, const struct sa *src);

/** A MEDIA_EV_WORKER_LOAD event (the load the engine last published). */
void guard_worker_load(struct guard *g, unsigned worker, uint32_t permille);

/** Tests: read worker loads from h instead of the engine. */
void guard_set_load_handler(struct guard *g, guard_load_h *h, void *arg);
/** Tests: the guard's clock in ms (default tmr_jiffies). */
void guard_set_clock(struct guard *g, uint64_t (*now)(void));

const struct guard_stats *guard_stats(const struct guard *g);
/** %H printer: settings, counters, pike table. */
int  guard_debug(struct re_printf *pf, const struct guard *g);

#endif
