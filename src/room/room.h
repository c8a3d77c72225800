/**
 * @file room.h  Rooms and legs as the libre thread sees them (signalling
 * state, roster, roles). The audio of a room lives on a media worker,
 * reached only through media/media.h.
 */
#ifndef CHORUS_ROOM_H
#define CHORUS_ROOM_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

#include "cfg/cfg.h"

struct room;
struct leg;
struct registry;

enum leg_state {
	LEG_NEW = 0,        /**< INVITE received, not answered         */
	LEG_PROCEEDING,     /**< 100 Trying sent, waiting (PIN, late offer ACK) */
	LEG_ESTABLISHED,    /**< 200 OK sent and ACKed, in the mix      */
	LEG_CLOSING,        /**< BYE sent/received, media being released */
	LEG_CLOSED,
};

enum leg_role { LEG_PARTICIPANT = 0, LEG_MODERATOR };

/**
 * Registry of rooms by number; owned by the libre thread.
 *
 * me may be NULL: signalling-only mode (no media_room_add/remove,
 * media_leg_remove), used by tests and tools that have no media engine.
 * cfg must outlive the registry; reload it with cfg_reload_rooms() and then
 * call registry_reload().
 *
 * Room lifetime: a room is set up by registry_room_get() on the first call
 * and removed (media_room_remove) when its last leg leaves - listed
 * (static) and auto-created rooms alike, so locks and other room state
 * reset when a room empties. A room that got no leg within
 * REGISTRY_IDLE_MS of being set up is removed by a timer.
 */
enum { REGISTRY_IDLE_MS = 30000 };

int  registry_alloc(struct registry **regp, struct cfg *cfg,
		    struct media_engine *me);
/**
 * Find or (static or auto-create pattern) create the room for number.
 * ENOENT: no such room and the number is not auto-creatable.
 */
int  registry_room_get(struct registry *reg, const char *number,
		       struct room **roomp);
struct room *registry_room_find(const struct registry *reg, const char *number);
struct room *registry_room_by_id(const struct registry *reg, uint32_t id);
struct leg  *registry_leg_by_id(const struct registry *reg, uint32_t leg_id);
/** Apply a reloaded rooms.conf: limits/PINs change, live legs stay. */
int  registry_reload(struct registry *reg);
/** Total legs in all rooms. */
uint32_t registry_leg_count(const struct registry *reg);
/** Visit every leg (e.g. to BYE them all on SIGTERM). */
typedef void (registry_leg_h)(struct leg *leg, void *arg);
void registry_leg_apply(struct registry *reg, registry_leg_h *h, void *arg);
/**
 * Leg observer (one per registry; the conference focus): told when a leg
 * enters a room's roster (JOINED: established, or moved in), leaves it
 * (LEFT: closing, freed or moved out; leg_room() is still the old room),
 * changes what the roster shows (CHANGED: hold, role, control state),
 * when it is freed (FREE, after LEFT when it had joined) and when its
 * media was added (MEDIA: e.g. to isolate it until a PIN is entered).
 */
enum registry_leg_ev {
	REGISTRY_LEG_JOINED,
	REGISTRY_LEG_LEFT,
	REGISTRY_LEG_CHANGED,
	REGISTRY_LEG_FREE,
	REGISTRY_LEG_MEDIA,     /* leg_set_media(leg, true): audio is up */
};
typedef void (registry_obs_h)(struct leg *leg, enum registry_leg_ev ev,
			      void *arg);
void registry_set_observer(struct registry *reg, registry_obs_h *h,
			   void *arg);
/** Called by the endpoint on media events (released, timeout, ...). */
void registry_media_event(struct registry *reg, const struct media_event *ev);
/** Rooms that currently exist (including ones waiting for legs to leave). */
uint32_t registry_room_count(const struct registry *reg);
/** How long a room nobody joined lives (default REGISTRY_IDLE_MS);
 *  applies to rooms set up afterwards. */
void registry_set_idle_timeout(struct registry *reg, uint32_t ms);

const char *room_number(const struct room *room);
uint32_t room_id(const struct room *room);
uint32_t room_leg_count(const struct room *room);
bool room_full(const struct room *room);
bool room_locked(const struct room *room);
void room_set_locked(struct room *room, bool locked);
/** The room's own copy of its settings (stays valid across reloads). */
const struct cfg_room *room_cfg(const struct room *room);
/** Created from the auto_create pattern rather than listed in rooms.conf. */
bool room_auto(const struct room *room);
/** Legs in join order. */
struct list *room_legs(struct room *room);

/** Callers must enter the room PIN before joining (pin= is set). */
bool room_pin_required(const struct room *room);
/**
 * Check keypad digits: the moderator PIN gives LEG_MODERATOR, the PIN (or
 * anything when the room has no PIN) LEG_PARTICIPANT; EACCES otherwise.
 * Compared in constant time.
 */
int  room_pin_check(const struct room *room, const char *digits,
		    enum leg_role *rolep);
/**
 * Is uri one of the room's mod= URIs? Compares user and host (host
 * case-insensitive; port only when the configured URI has one); sip: and
 * sips: match each other; parameters and a "Name <uri>" wrapper are
 * ignored.
 */
bool room_moderator_uri(const struct room *room, const char *uri);

/**
 * Create a leg in room (counts toward max_legs at once so concurrent
 * INVITEs cannot overfill the room). The leg is the list element in
 * room_legs(). ENOSPC full, EPERM locked, ENOENT when the room is being
 * removed (deleted from rooms.conf, or the registry is gone).
 */
int  leg_alloc(struct leg **legp, struct room *room, const char *remote_uri,
	       const char *display_name);
/**
 * mem_deref(leg) leaves the room and releases its media: if
 * leg_set_media(leg, true) was called (after a successful media_leg_add),
 * the destructor calls media_leg_remove(). Whoever removes the media
 * itself first calls leg_set_media(leg, false).
 */
void leg_set_media(struct leg *leg, bool media);
bool leg_media(const struct leg *leg);
uint32_t leg_id(const struct leg *leg);
struct room *leg_room(const struct leg *leg);
enum leg_state leg_state(const struct leg *leg);
void leg_set_state(struct leg *leg, enum leg_state st);
const char *leg_remote_uri(const struct leg *leg);
const char *leg_display_name(const struct leg *leg);
/** Last MEDIA_EV_TALKING state seen by registry_media_event(). */
bool leg_talking(const struct leg *leg);
enum leg_role leg_role(const struct leg *leg);
void leg_set_role(struct leg *leg, enum leg_role role);
/** Tell the observer that something the roster shows changed. */
void leg_changed(struct leg *leg);
/**
 * Move a leg to another room of the same registry without a new call:
 * bookkeeping here, audio by media_leg_move() at a frame boundary.
 * ENOSPC full, EPERM locked, ENOENT room gone, EALREADY same room.
 */
int  leg_move(struct leg *leg, struct room *to);
/** Signalling-side user data (the endpoint's call object). */
void leg_set_udata(struct leg *leg, void *udata);
void *leg_udata(const struct leg *leg);

#endif
