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

/** Registry of rooms by number; owned by the libre thread. */
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
/** Called by the endpoint on media events (released, timeout, ...). */
void registry_media_event(struct registry *reg, const struct media_event *ev);

const char *room_number(const struct room *room);
uint32_t room_id(const struct room *room);
uint32_t room_leg_count(const struct room *room);
bool room_full(const struct room *room);
bool room_locked(const struct room *room);
void room_set_locked(struct room *room, bool locked);
const struct cfg_room *room_cfg(const struct room *room);
/** Legs in join order. */
struct list *room_legs(struct room *room);

/**
 * Create a leg in room (counts toward max_legs at once so concurrent
 * INVITEs cannot overfill the room). The leg is the list element in
 * room_legs(). ENOSPC full, EPERM locked.
 */
int  leg_alloc(struct leg **legp, struct room *room, const char *remote_uri,
	       const char *display_name);
/** mem_deref(leg) leaves the room and releases its media. */
uint32_t leg_id(const struct leg *leg);
struct room *leg_room(const struct leg *leg);
enum leg_state leg_state(const struct leg *leg);
void leg_set_state(struct leg *leg, enum leg_state st);
const char *leg_remote_uri(const struct leg *leg);
enum leg_role leg_role(const struct leg *leg);
void leg_set_role(struct leg *leg, enum leg_role role);
/** Signalling-side user data (the endpoint's call object). */
void leg_set_udata(struct leg *leg, void *udata);
void *leg_udata(const struct leg *leg);

#endif
