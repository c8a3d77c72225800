/**
 * @file leg.c  A participant's leg in a room (signalling side).
 */
#include <stdint.h>
#include <string.h>
#include <re.h>

#include "ctrl/log.h"
#include "room/room_int.h"

enum { LEG_ID_TRIES = 16 };


static void destructor(void *arg)
{
	struct leg *leg = arg;
	struct room *room = leg->room;
	struct registry *reg = room ? room->reg : NULL;

	if (leg->joined)
		leg_notify(leg, REGISTRY_LEG_LEFT);
	leg_notify(leg, REGISTRY_LEG_FREE);

	list_unlink(&leg->le);

	if (reg && leg->le_id.list) {
		hash_unlink(&leg->le_id);
		reg->nlegs--;
	}

	if (leg->media && reg && reg->me) {
		int err = media_leg_remove(reg->me, leg->id);
		if (err)
			warning("room: %s: leg %u: media_leg_remove: %m\n",
				room->cfg.number, leg->id, err);
	}

	if (room) {
		debug("room: %s: leg %u (%s) left, %u remain\n",
		      room->cfg.number, leg->id, leg->remote_uri,
		      list_count(&room->legs));
		room_leg_left(room);
	}

	mem_deref(leg->remote_uri);
	mem_deref(leg->display_name);
	mem_deref(leg->room);
}


static bool leg_id_used(const struct registry *reg, uint32_t id)
{
	return id == 0 || registry_leg_by_id(reg, id) != NULL;
}


int leg_alloc(struct leg **legp, struct room *room, const char *remote_uri,
	      const char *display_name)
{
	struct registry *reg;
	struct leg *leg;
	uint32_t id;
	int err;

	if (!legp || !room)
		return EINVAL;

	reg = room->reg;
	if (!reg || room->stale)
		return ENOENT;

	if (room->locked) {
		debug("room: %s: locked, %s refused\n", room->cfg.number,
		      remote_uri);
		return EPERM;
	}

	if (list_count(&room->legs) >= room->cfg.max_legs) {
		debug("room: %s: full (%u), %s refused\n", room->cfg.number,
		      room->cfg.max_legs, remote_uri);
		return ENOSPC;
	}

	/* ids are not reused until the 32-bit counter wraps; skip any
	   still in use then (bounded: there are far fewer legs than ids) */
	id = ++reg->next_leg_id;
	for (int i = 0; leg_id_used(reg, id) && i < LEG_ID_TRIES; i++)
		id = ++reg->next_leg_id;
	if (leg_id_used(reg, id))
		return EOVERFLOW;

	leg = mem_zalloc(sizeof(*leg), destructor);
	if (!leg)
		return ENOMEM;

	leg->id = id;
	leg->state = LEG_NEW;
	leg->role = LEG_PARTICIPANT;

	err = str_dup(&leg->remote_uri, remote_uri ? remote_uri : "");
	if (err)
		goto out;

	if (display_name) {
		err = str_dup(&leg->display_name, display_name);
		if (err)
			goto out;
	}

	leg->room = mem_ref(room);
	list_append(&room->legs, &leg->le, leg);
	hash_append(reg->legs, leg->id, &leg->le_id, leg);
	reg->nlegs++;
	room_leg_joined(room);

	debug("room: %s: leg %u (%s) joined, %u/%u\n", room->cfg.number,
	      leg->id, leg->remote_uri, list_count(&room->legs),
	      room->cfg.max_legs);

 out:
	if (err)
		mem_deref(leg);
	else
		*legp = leg;

	return err;
}


void leg_set_media(struct leg *leg, bool media)
{
	if (!leg)
		return;

	leg->media = media;
	if (media)
		leg_notify(leg, REGISTRY_LEG_MEDIA);
}


bool leg_media(const struct leg *leg)
{
	return leg ? leg->media : false;
}


uint32_t leg_id(const struct leg *leg)
{
	return leg ? leg->id : 0;
}


struct room *leg_room(const struct leg *leg)
{
	return leg ? leg->room : NULL;
}


enum leg_state leg_state(const struct leg *leg)
{
	return leg ? leg->state : LEG_CLOSED;
}


void leg_notify(struct leg *leg, enum registry_leg_ev ev)
{
	struct registry *reg = leg && leg->room ? leg->room->reg : NULL;

	if (ev == REGISTRY_LEG_JOINED)
		leg->joined = true;
	else if (ev == REGISTRY_LEG_LEFT)
		leg->joined = false;

	if (reg && reg->obsh)
		reg->obsh(leg, ev, reg->obs_arg);
}


void leg_set_state(struct leg *leg, enum leg_state st)
{
	if (!leg || leg->state == st)
		return;

	leg->state = st;

	if (st == LEG_ESTABLISHED && !leg->joined)
		leg_notify(leg, REGISTRY_LEG_JOINED);
	else if (st > LEG_ESTABLISHED && leg->joined)
		leg_notify(leg, REGISTRY_LEG_LEFT);
}


void leg_changed(struct leg *leg)
{
	if (leg && leg->joined)
		leg_notify(leg, REGISTRY_LEG_CHANGED);
}


int leg_move(struct leg *leg, struct room *to)
{
	struct room *from;
	struct registry *reg;
	bool joined;
	int err;

	if (!leg || !to || !leg->room)
		return EINVAL;

	from = leg->room;
	reg = from->reg;
	if (from == to)
		return EALREADY;
	if (!reg || to->reg != reg || to->stale)
		return ENOENT;
	if (to->locked)
		return EPERM;
	if (list_count(&to->legs) >= to->cfg.max_legs)
		return ENOSPC;

	if (leg->media && reg->me) {
		err = media_leg_move(reg->me, leg->id, to->id);
		if (err)
			return err;
	}

	joined = leg->joined;
	if (joined)
		leg_notify(leg, REGISTRY_LEG_LEFT);

	list_unlink(&leg->le);
	leg->room = mem_ref(to);
	list_append(&to->legs, &leg->le, leg);
	room_leg_joined(to);

	info("room: leg %u (%s) moved from %s to %s\n", leg->id,
	     leg->remote_uri, from->cfg.number, to->cfg.number);

	/* the old room goes if this was its last leg */
	room_leg_left(from);
	mem_deref(from);

	if (joined)
		leg_notify(leg, REGISTRY_LEG_JOINED);

	return 0;
}


const char *leg_remote_uri(const struct leg *leg)
{
	return leg ? leg->remote_uri : NULL;
}


const char *leg_display_name(const struct leg *leg)
{
	return leg ? leg->display_name : NULL;
}


bool leg_talking(const struct leg *leg)
{
	return leg ? leg->talking : false;
}


enum leg_role leg_role(const struct leg *leg)
{
	return leg ? leg->role : LEG_PARTICIPANT;
}


void leg_set_role(struct leg *leg, enum leg_role role)
{
	if (!leg || leg->role == role)
		return;

	leg->role = role;
	leg_changed(leg);
}


void leg_set_udata(struct leg *leg, void *udata)
{
	if (leg)
		leg->udata = udata;
}


void *leg_udata(const struct leg *leg)
{
	return leg ? leg->udata : NULL;
}
