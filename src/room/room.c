/**
 * @file room.c  A conference room as the libre thread sees it: number,
 * settings, legs in join order, lock. Its audio lives on a media worker.
 */
#include <stdint.h>
#include <string.h>
#include <re.h>

#include "ctrl/log.h"
#include "room/room_int.h"


static void destructor(void *arg)
{
	struct room *room = arg;

	tmr_cancel(&room->tmr_idle);
	list_unlink(&room->le);
	hash_unlink(&room->le_num);
	hash_unlink(&room->le_id);

	/* legs hold references, so there are none left here */
}


static void idle_timeout(void *arg)
{
	struct room *room = arg;

	if (!list_isempty(&room->legs))
		return;

	debug("room: %s: nobody joined, removing\n", room->cfg.number);

	room_detach(room);
}


void room_auto_cfg(struct cfg_room *rcfg, const struct cfg *cfg,
		   const char *number)
{
	memset(rcfg, 0, sizeof(*rcfg));
	str_ncpy(rcfg->number, number, sizeof(rcfg->number));
	str_ncpy(rcfg->name, number, sizeof(rcfg->name));
	rcfg->max_legs = cfg->auto_max_legs;
	rcfg->srtp = cfg->srtp;
}


int room_alloc(struct room **roomp, struct registry *reg,
	       const struct cfg_room *rcfg, bool is_auto)
{
	struct room *room;
	int err = 0;

	if (!roomp || !reg || !rcfg)
		return EINVAL;

	room = mem_zalloc(sizeof(*room), destructor);
	if (!room)
		return ENOMEM;

	room->cfg = *rcfg;
	room->is_auto = is_auto;
	list_init(&room->legs);
	tmr_init(&room->tmr_idle);

	/* ids are never reused while the daemon runs; 0 means none */
	room->id = ++reg->next_room_id;
	if (!room->id)
		room->id = ++reg->next_room_id;

	if (reg->me) {
		/* size the mixer for the room's limit up front */
		err = media_room_add2(reg->me, room->id, rcfg->max_legs);
		if (err) {
			warning("room: %s: media_room_add2 failed: %m\n",
				rcfg->number, err);
			goto out;
		}
		room->media = true;
	}

	room->reg = reg;
	list_append(&reg->rooms, &room->le, room);
	hash_append(reg->rooms_num, hash_joaat_str(room->cfg.number),
		    &room->le_num, room);
	hash_append(reg->rooms_id, room->id, &room->le_id, room);

	tmr_start(&room->tmr_idle, reg->idle_ms, idle_timeout, room);

	info("room: %s (\"%s\", id %u, max %u%s) set up\n", room->cfg.number,
	     room->cfg.name, room->id, room->cfg.max_legs,
	     is_auto ? ", auto" : "");

 out:
	if (err)
		mem_deref(room);
	else
		*roomp = room;

	return err;
}


void room_detach(struct room *room)
{
	struct registry *reg;

	if (!room || !room->reg)
		return;

	reg = room->reg;
	room->reg = NULL;

	tmr_cancel(&room->tmr_idle);
	hash_unlink(&room->le_num);
	hash_unlink(&room->le_id);
	list_unlink(&room->le);

	if (room->media && reg->me) {
		int err = media_room_remove(reg->me, room->id);
		if (err)
			warning("room: %s: media_room_remove failed: %m\n",
				room->cfg.number, err);
		else
			reg->releasing++;
	}
	room->media = false;

	info("room: %s (id %u) removed\n", room->cfg.number, room->id);

	mem_deref(room);   /* the registry's reference */
}


void room_leg_joined(struct room *room)
{
	tmr_cancel(&room->tmr_idle);
}


void room_leg_left(struct room *room)
{
	if (!list_isempty(&room->legs))
		return;

	/* every room goes when it empties: static ones come back on the
	   next call with the settings from rooms.conf */
	room_detach(room);
}


void room_update(struct room *room, const struct cfg_room *rcfg,
		 bool is_auto)
{
	const struct cfg_room *o = &room->cfg;
	const char *num = o->number;
	uint32_t n = list_count(&room->legs);

	if (room->stale)
		info("room: %s: back in rooms.conf\n", num);

	if (room->is_auto != is_auto)
		info("room: %s: now %s\n", num,
		     is_auto ? "auto-created" : "listed in rooms.conf");

	if (o->max_legs != rcfg->max_legs) {
		info("room: %s: max legs %u -> %u\n", num, o->max_legs,
		     rcfg->max_legs);
		if (n > rcfg->max_legs)
			info("room: %s: %u legs stay although above the new "
			     "max; new callers are refused until below\n",
			     num, n);
	}

	if (strcmp(o->name, rcfg->name))
		info("room: %s: name \"%s\" -> \"%s\"\n", num, o->name,
		     rcfg->name);
	if (strcmp(o->pin, rcfg->pin))
		info("room: %s: pin changed (callers already in stay)\n",
		     num);
	if (strcmp(o->mod_pin, rcfg->mod_pin))
		info("room: %s: moderator pin changed\n", num);
	if (strcmp(o->moderators, rcfg->moderators))
		info("room: %s: moderators now \"%s\"\n", num,
		     rcfg->moderators);

	room->cfg = *rcfg;
	room->is_auto = is_auto;
	room->stale = false;
}


const char *room_number(const struct room *room)
{
	return room ? room->cfg.number : NULL;
}


uint32_t room_id(const struct room *room)
{
	return room ? room->id : 0;
}


uint32_t room_leg_count(const struct room *room)
{
	return room ? list_count(&room->legs) : 0;
}


bool room_full(const struct room *room)
{
	if (!room)
		return true;

	return list_count(&room->legs) >= room->cfg.max_legs;
}


bool room_locked(const struct room *room)
{
	return room ? room->locked : false;
}


void room_set_locked(struct room *room, bool locked)
{
	if (!room || room->locked == locked)
		return;

	room->locked = locked;
	info("room: %s: %s\n", room->cfg.number,
	     locked ? "locked" : "unlocked");
}


const struct cfg_room *room_cfg(const struct room *room)
{
	return room ? &room->cfg : NULL;
}


bool room_auto(const struct room *room)
{
	return room ? room->is_auto : false;
}


struct list *room_legs(struct room *room)
{
	return room ? &room->legs : NULL;
}


bool room_pin_required(const struct room *room)
{
	return room && room->cfg.pin[0] != '\0';
}


/* constant time for equal lengths, so timing does not leak digits */
static bool pin_equal(const char *pin, const char *digits)
{
	size_t n = strlen(pin);
	unsigned char diff = 0;

	if (!n || strlen(digits) != n)
		return false;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(pin[i] ^ digits[i]);

	return diff == 0;
}


int room_pin_check(const struct room *room, const char *digits,
		   enum leg_role *rolep)
{
	enum leg_role role;

	if (!room || !digits || !rolep)
		return EINVAL;

	if (pin_equal(room->cfg.mod_pin, digits))
		role = LEG_MODERATOR;
	else if (!room->cfg.pin[0] || pin_equal(room->cfg.pin, digits))
		role = LEG_PARTICIPANT;
	else
		return EACCES;

	*rolep = role;

	return 0;
}


/* "Name <sip:u@h;p>" or "sip:u@h;p" -> uri */
static int uri_from_str(struct uri *uri, const char *s, struct pl *buf)
{
	const char *lt = strchr(s, '<');

	pl_set_str(buf, s);
	if (lt) {
		const char *gt = strchr(lt, '>');
		if (!gt)
			return EINVAL;
		buf->p = lt + 1;
		buf->l = (size_t)(gt - lt - 1);
	}

	return uri_decode(uri, buf);
}


static bool mod_match(const struct uri *mod, const struct uri *who)
{
	if (pl_cmp(&mod->user, &who->user))
		return false;
	if (pl_casecmp(&mod->host, &who->host))
		return false;
	if (mod->port && mod->port != who->port)
		return false;

	return true;
}


bool room_moderator_uri(const struct room *room, const char *uri)
{
	char list[sizeof(room->cfg.moderators)];
	struct uri who;
	struct pl wpl;
	char *s, *save = NULL;

	if (!room || !uri || !room->cfg.moderators[0])
		return false;

	if (uri_from_str(&who, uri, &wpl))
		return false;

	str_ncpy(list, room->cfg.moderators, sizeof(list));

	for (s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		struct uri mod;
		struct pl mpl;

		if (uri_from_str(&mod, s, &mpl))
			continue;

		if (mod_match(&mod, &who))
			return true;
	}

	return false;
}
