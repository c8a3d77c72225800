/**
 * @file registry.c  Rooms by number and id, legs by id; creates listed and
 * auto-created rooms on demand and applies reloaded rooms.conf.
 */
#include <stdint.h>
#include <string.h>
#include <re.h>

#include "ctrl/log.h"
#include "room/room_int.h"

enum {
	ROOMS_HASH_SIZE = 256,
	LEGS_HASH_SIZE  = 1024,
};


static void destructor(void *arg)
{
	struct registry *reg = arg;
	struct le *le;

	/* legs are owned by their calls: forget them, do not free them */
	hash_clear(reg->legs);

	/* rooms still holding legs stay alive, detached, until those go */
	le = reg->rooms.head;
	while (le) {
		struct room *room = le->data;
		le = le->next;
		room_detach(room);
	}

	mem_deref(reg->legs);
	mem_deref(reg->rooms_id);
	mem_deref(reg->rooms_num);
}


int registry_alloc(struct registry **regp, struct cfg *cfg,
		   struct media_engine *me)
{
	struct registry *reg;
	int err;

	if (!regp || !cfg)
		return EINVAL;

	reg = mem_zalloc(sizeof(*reg), destructor);
	if (!reg)
		return ENOMEM;

	reg->cfg = cfg;
	reg->me = me;
	reg->idle_ms = REGISTRY_IDLE_MS;
	list_init(&reg->rooms);

	err  = hash_alloc(&reg->rooms_num, ROOMS_HASH_SIZE);
	err |= hash_alloc(&reg->rooms_id, ROOMS_HASH_SIZE);
	err |= hash_alloc(&reg->legs, LEGS_HASH_SIZE);
	if (err) {
		err = ENOMEM;
		goto out;
	}

	if (!me)
		info("room: registry without media engine (signalling "
		     "only)\n");

 out:
	if (err)
		mem_deref(reg);
	else
		*regp = reg;

	return err;
}


static bool number_cmp(struct le *le, void *arg)
{
	const struct room *room = le->data;

	return !strcmp(room->cfg.number, arg);
}


struct room *registry_room_find(const struct registry *reg, const char *number)
{
	struct le *le;

	if (!reg || !number)
		return NULL;

	le = hash_lookup(reg->rooms_num, hash_joaat_str(number), number_cmp,
			 (void *)number);

	return le ? le->data : NULL;
}


int registry_room_get(struct registry *reg, const char *number,
		      struct room **roomp)
{
	const struct cfg_room *rcfg;
	struct cfg_room acfg;
	struct room *room;
	bool is_auto = false;
	int err;

	if (!reg || !number || !roomp)
		return EINVAL;

	room = registry_room_find(reg, number);
	if (room) {
		/* removed from rooms.conf: only its present legs remain */
		if (room->stale)
			return ENOENT;

		*roomp = room;
		return 0;
	}

	rcfg = cfg_room_find(reg->cfg, number);
	if (!rcfg) {
		if (!cfg_room_auto(reg->cfg, number))
			return ENOENT;

		room_auto_cfg(&acfg, reg->cfg, number);
		rcfg = &acfg;
		is_auto = true;
	}

	err = room_alloc(&room, reg, rcfg, is_auto);
	if (err)
		return err;

	*roomp = room;

	return 0;
}


static bool id_cmp(struct le *le, void *arg)
{
	const struct room *room = le->data;

	return room->id == *(uint32_t *)arg;
}


struct room *registry_room_by_id(const struct registry *reg, uint32_t id)
{
	struct le *le;

	if (!reg)
		return NULL;

	le = hash_lookup(reg->rooms_id, id, id_cmp, &id);

	return le ? le->data : NULL;
}


static bool leg_id_cmp(struct le *le, void *arg)
{
	const struct leg *leg = le->data;

	return leg->id == *(uint32_t *)arg;
}


struct leg *registry_leg_by_id(const struct registry *reg, uint32_t leg_id)
{
	struct le *le;

	if (!reg)
		return NULL;

	le = hash_lookup(reg->legs, leg_id, leg_id_cmp, &leg_id);

	return le ? le->data : NULL;
}


int registry_reload(struct registry *reg)
{
	const struct cfg *cfg;
	struct le *le;

	if (!reg)
		return EINVAL;

	cfg = reg->cfg;

	le = reg->rooms.head;
	while (le) {
		struct room *room = le->data;
		const struct cfg_room *rcfg;
		struct cfg_room acfg;

		/* room_detach() unlinks only this element */
		le = le->next;

		rcfg = cfg_room_find(cfg, room->cfg.number);
		if (rcfg) {
			room_update(room, rcfg, false);
			continue;
		}

		if (cfg_room_auto(cfg, room->cfg.number)) {
			room_auto_cfg(&acfg, cfg, room->cfg.number);
			/* keep the name an auto room had */
			str_ncpy(acfg.name, room->cfg.name, sizeof(acfg.name));
			room_update(room, &acfg, true);
			continue;
		}

		if (list_isempty(&room->legs)) {
			info("room: %s: no longer configured, removing\n",
			     room->cfg.number);
			room_detach(room);
			continue;
		}

		if (!room->stale)
			info("room: %s: no longer configured; its %u legs "
			     "stay until they leave, new callers get 404\n",
			     room->cfg.number, list_count(&room->legs));
		room->stale = true;
	}

	info("room: reload done: %u static rooms, auto_create %s, %u rooms "
	     "in use, %u legs\n", cfg->nrooms,
	     cfg->auto_pattern[0] ? cfg->auto_pattern : "off",
	     list_count(&reg->rooms), reg->nlegs);

	return 0;
}


uint32_t registry_leg_count(const struct registry *reg)
{
	return reg ? reg->nlegs : 0;
}


uint32_t registry_room_count(const struct registry *reg)
{
	return reg ? list_count(&reg->rooms) : 0;
}


void registry_set_observer(struct registry *reg, registry_obs_h *h,
			   void *arg)
{
	if (!reg)
		return;

	reg->obsh = h;
	reg->obs_arg = arg;
}


void registry_set_idle_timeout(struct registry *reg, uint32_t ms)
{
	if (reg)
		reg->idle_ms = ms;
}


void registry_leg_apply(struct registry *reg, registry_leg_h *h, void *arg)
{
	uint32_t *ids, n = 0;
	struct le *rle;

	if (!reg || !h || !reg->nlegs)
		return;

	/* snapshot the ids: h may free legs and so empty and remove rooms */
	ids = mem_alloc(reg->nlegs * sizeof(*ids), NULL);
	if (!ids) {
		warning("room: leg_apply: out of memory\n");
		return;
	}

	for (rle = reg->rooms.head; rle; rle = rle->next) {
		struct room *room = rle->data;

		for (struct le *le = room->legs.head; le && n < reg->nlegs;
		     le = le->next) {
			const struct leg *leg = le->data;
			ids[n++] = leg->id;
		}
	}

	for (uint32_t i = 0; i < n; i++) {
		struct leg *leg = registry_leg_by_id(reg, ids[i]);
		if (leg)
			h(leg, arg);
	}

	mem_deref(ids);
}


void registry_media_event(struct registry *reg, const struct media_event *ev)
{
	struct leg *leg;

	if (!reg || !ev)
		return;

	switch (ev->type) {

	case MEDIA_EV_ROOM_RELEASED:
		if (reg->releasing)
			reg->releasing--;
		debug("room: id %u released by worker %u\n", ev->room_id,
		      ev->worker);
		break;

	case MEDIA_EV_LEG_RELEASED:
		debug("room: leg %u released by worker %u\n", ev->leg_id,
		      ev->worker);
		break;

	case MEDIA_EV_LEG_TIMEOUT:
		leg = registry_leg_by_id(reg, ev->leg_id);
		info("room: %s: leg %u: no RTP for %u s\n",
		     leg ? leg->room->cfg.number : "?", ev->leg_id,
		     reg->cfg->media.rtp_timeout_ms / 1000);
		break;

	case MEDIA_EV_TALKING:
		leg = registry_leg_by_id(reg, ev->leg_id);
		if (leg)
			leg->talking = ev->value != 0;
		break;

	case MEDIA_EV_WORKER_LOAD:
		/* the engine warns about late ticks itself */
		debug("media: worker %u: load %d permille, %llu late ticks\n",
		      ev->worker, ev->value, (unsigned long long)ev->late);
		break;

	case MEDIA_EV_DTMF:
	default:
		break;
	}
}
