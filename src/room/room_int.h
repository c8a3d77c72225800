/**
 * @file room_int.h  Room module internals shared by registry.c, room.c
 * and leg.c. Not for other modules: use room.h.
 */
#ifndef CHORUS_ROOM_INT_H
#define CHORUS_ROOM_INT_H

#include "room/room.h"

struct registry {
	struct cfg *cfg;            /* not owned                            */
	struct media_engine *me;    /* not owned, NULL = signalling only    */
	struct list rooms;          /* every room, in creation order        */
	struct hash *rooms_num;     /* by number                            */
	struct hash *rooms_id;      /* by id                                */
	struct hash *legs;          /* by leg id                            */
	uint32_t next_room_id;
	uint32_t next_leg_id;
	uint32_t nlegs;
	uint32_t releasing;         /* rooms waiting for ROOM_RELEASED      */
	uint32_t idle_ms;           /* life of a room nobody joined         */
	registry_obs_h *obsh;       /* leg observer (focus), may be NULL    */
	void *obs_arg;
};

struct room {
	struct le le;               /* in reg->rooms (holds the reg's ref)   */
	struct le le_num;
	struct le le_id;
	struct registry *reg;       /* NULL once removed from the registry  */
	struct cfg_room cfg;        /* own copy: cfg->rooms is replaced on reload */
	uint32_t id;
	struct list legs;           /* struct leg, join order               */
	struct tmr tmr_idle;        /* removes a room nobody joined          */
	bool locked;
	bool is_auto;               /* from the auto_create pattern         */
	bool stale;                 /* gone from rooms.conf, lives on legs  */
	bool media;                 /* media_room_add succeeded             */
};

struct leg {
	struct le le;               /* in room->legs                        */
	struct le le_id;            /* in reg->legs                         */
	struct room *room;          /* referenced                           */
	uint32_t id;
	char *remote_uri;
	char *display_name;
	enum leg_state state;
	enum leg_role role;
	bool media;
	bool talking;
	bool joined;                /* JOINED told to the observer          */
	void *udata;
};

/* leg.c */
void leg_notify(struct leg *leg, enum registry_leg_ev ev);

/* room.c */
int  room_alloc(struct room **roomp, struct registry *reg,
		const struct cfg_room *rcfg, bool is_auto);
/** Take the room out of the registry (media_room_remove) and drop the
 *  registry's reference; legs still in it keep it alive. */
void room_detach(struct room *room);
/** A leg left: remove the room if it is now empty. */
void room_leg_left(struct room *room);
void room_leg_joined(struct room *room);
/** Apply new settings (reload), logging what changed for live rooms. */
void room_update(struct room *room, const struct cfg_room *rcfg,
		 bool is_auto);
/** Settings of an auto-created room for number. */
void room_auto_cfg(struct cfg_room *rcfg, const struct cfg *cfg,
		   const char *number);

#endif
