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
	if (leg)
		leg->media = media;
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


void leg_set_state(struct leg *leg, enum leg_state st)
{
	if (leg)
		leg->state = st;
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
	if (leg)
		leg->role = role;
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
