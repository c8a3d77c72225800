/**
 * @file endpoint.h  The SIP endpoint: listens, routes INVITEs to rooms,
 * runs the dialogs (libre sipsess), answers OPTIONS and errors.
 * Lives on the libre thread.
 */
#ifndef CHORUS_ENDPOINT_H
#define CHORUS_ENDPOINT_H

#include <re.h>

#include "cfg/cfg.h"
#include "media/media.h"
#include "room/room.h"

struct endpoint;

/** Start listening on the transports in cfg. */
int  endpoint_alloc(struct endpoint **epp, struct cfg *cfg,
		    struct registry *reg, struct media_engine *me);
/** Route a media event (leg timeout -> BYE, released -> free, ...). */
void endpoint_media_event(struct endpoint *ep, const struct media_event *ev);

typedef void (endpoint_done_h)(void *arg);
/**
 * Graceful shutdown (SIGTERM): BYE every leg, refuse new INVITEs with
 * 503, call doneh when all dialogs are gone or after a bound (~3 s).
 */
void endpoint_shutdown(struct endpoint *ep, endpoint_done_h *doneh, void *arg);

/** Bound address of the first transport of type tp (tests: port 0). */
int  endpoint_laddr(const struct endpoint *ep, enum sip_transp tp,
		    struct sa *laddr);
/** Ring (180) for ms before the 200 OK; 0 (default) answers at once. */
void endpoint_set_answer_delay(struct endpoint *ep, uint32_t ms);
/** Milliseconds per second of RFC 4028 session interval (default 1000).
 *  Only tests change it, to run a 90 s interval in a fraction of that. */
void endpoint_set_session_timer_unit(struct endpoint *ep, uint32_t ms);
/** Dialogs currently up or being set up. */
uint32_t endpoint_call_count(const struct endpoint *ep);

#endif
