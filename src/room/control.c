/**
 * @file control.c  In-call room control (commands, keypad menu) with
 * permission checks; per-leg control state kept here by leg id.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <re.h>

#include "ctrl/log.h"
#include "room/control.h"

enum {
	CONTROL_HASH_SIZE = 64,
	CONTROL_TARGETS_MAX = 1024,   /* legs one command may touch        */
	CONTROL_GAIN_MIN = -20,
	CONTROL_GAIN_MAX = 12,
};

struct ctl_leg {
	struct le he;
	uint32_t leg_id;
	struct control_state st;
	struct menu menu;
	/* PIN admission */
	bool decided;            /* admission started or not needed     */
	bool pending;            /* waiting for the PIN                 */
	char pin[MENU_PIN_MAX + 1];
	size_t npin;
	unsigned tries;
};

struct control {
	struct media_engine *me;
	struct hash *legs;             /* struct ctl_leg by leg id          */
	struct menu_keymap km;
	control_kick_h *kickh;
	control_room_h *roomh;
	control_prompt_h *prompth;
	void *arg;
};


static void destructor(void *arg)
{
	struct control *ctl = arg;

	hash_flush(ctl->legs);
	mem_deref(ctl->legs);
}


static bool leg_cmp(struct le *le, void *arg)
{
	const struct ctl_leg *cl = le->data;

	return cl->leg_id == *(const uint32_t *)arg;
}


static struct ctl_leg *cl_find(const struct control *ctl, uint32_t id)
{
	return list_ledata(hash_lookup(ctl->legs, id, leg_cmp, &id));
}


static struct ctl_leg *cl_get(struct control *ctl, const struct leg *leg)
{
	struct ctl_leg *cl;
	uint32_t id = leg_id(leg);

	cl = cl_find(ctl, id);
	if (cl)
		return cl;

	cl = mem_zalloc(sizeof(*cl), NULL);
	if (!cl)
		return NULL;

	cl->leg_id = id;
	menu_init(&cl->menu, &ctl->km, 0, 0);
	hash_append(ctl->legs, id, &cl->he, cl);

	return cl;
}


int control_alloc(struct control **ctlp, struct media_engine *me,
		  const struct menu_keymap *km)
{
	struct control *ctl;
	int err;

	if (!ctlp)
		return EINVAL;

	ctl = mem_zalloc(sizeof(*ctl), destructor);
	if (!ctl)
		return ENOMEM;

	ctl->me = me;
	if (km)
		ctl->km = *km;
	else
		menu_keymap_default(&ctl->km);

	err = hash_alloc(&ctl->legs, CONTROL_HASH_SIZE);
	if (err)
		mem_deref(ctl);
	else
		*ctlp = ctl;

	return err;
}


void control_set_handlers(struct control *ctl, control_kick_h *kickh,
			  control_room_h *roomh, control_prompt_h *prompth,
			  void *arg)
{
	if (!ctl)
		return;

	ctl->kickh = kickh;
	ctl->roomh = roomh;
	ctl->prompth = prompth;
	ctl->arg = arg;
}


struct control_state control_state(const struct control *ctl,
				   const struct leg *leg)
{
	struct control_state st;
	const struct ctl_leg *cl = ctl && leg ? cl_find(ctl, leg_id(leg)) :
		NULL;

	if (cl)
		return cl->st;

	memset(&st, 0, sizeof(st));

	return st;
}


void control_leg_free(struct control *ctl, const struct leg *leg)
{
	struct ctl_leg *cl;

	if (!ctl || !leg)
		return;

	cl = cl_find(ctl, leg_id(leg));
	if (!cl)
		return;

	hash_unlink(&cl->he);
	mem_deref(cl);
}


/* ---- permissions ----------------------------------------------------- */

bool control_permitted(enum leg_role role, const struct ctrl_cmd *cmd,
		       bool others)
{
	if (!cmd)
		return false;

	if (role == LEG_MODERATOR)
		return true;

	switch (cmd->op) {

	case CTRL_OP_LOCK:
	case CTRL_OP_UNLOCK:
		return false;

	case CTRL_OP_ROLE:
		/* a participant can only step down, never up */
		return !others && cmd->role == CTRL_ROLE_PARTICIPANT;

	default:
		return !others;
	}
}


/* ---- URIs ------------------------------------------------------------- */

static int uri_parse(struct uri *uri, const char *s)
{
	const char *lt = strchr(s, '<');
	struct pl pl;

	pl_set_str(&pl, s);
	if (lt) {
		const char *gt = strchr(lt, '>');

		if (!gt)
			return EINVAL;
		pl.p = lt + 1;
		pl.l = (size_t)(gt - lt - 1);
	}

	return uri_decode(uri, &pl);
}


bool control_uri_match(const char *pattern, const char *uri)
{
	struct uri a, b;

	if (!pattern || !uri)
		return false;
	if (uri_parse(&a, pattern) || uri_parse(&b, uri))
		return false;

	if (pl_cmp(&a.user, &b.user))
		return false;
	if (pl_casecmp(&a.host, &b.host))
		return false;
	if (a.port && b.port && a.port != b.port)
		return false;

	return true;
}


/* ---- applying --------------------------------------------------------- */

static int clamp_gain(int db)
{
	return db < CONTROL_GAIN_MIN ? CONTROL_GAIN_MIN :
		db > CONTROL_GAIN_MAX ? CONTROL_GAIN_MAX : db;
}


static void media_op(struct control *ctl, const struct leg *leg,
		     enum media_leg_op op, int value)
{
	int err;

	if (!ctl->me || !leg_media(leg))
		return;

	err = media_leg_control(ctl->me, leg_id(leg), op, value);
	if (err)
		warning("control: leg %u: media_leg_control %d: %m\n",
			leg_id(leg), op, err);
}


static void set_mute(struct control *ctl, struct leg *leg, bool on)
{
	struct ctl_leg *cl = cl_get(ctl, leg);

	if (!cl || cl->st.muted == on)
		return;

	cl->st.muted = on;
	media_op(ctl, leg, MEDIA_OP_MUTE, on);
	leg_changed(leg);
}


static void set_deaf(struct control *ctl, struct leg *leg, bool on)
{
	struct ctl_leg *cl = cl_get(ctl, leg);

	if (!cl || cl->st.deaf == on)
		return;

	cl->st.deaf = on;
	media_op(ctl, leg, MEDIA_OP_DEAF, on);
	leg_changed(leg);
}


static void set_gain(struct control *ctl, struct leg *leg, bool in, int db)
{
	struct ctl_leg *cl = cl_get(ctl, leg);
	int *g;

	if (!cl)
		return;

	g = in ? &cl->st.gain_in : &cl->st.gain_out;
	db = clamp_gain(db);
	if (*g == db)
		return;

	*g = db;
	media_op(ctl, leg, in ? MEDIA_OP_GAIN_IN : MEDIA_OP_GAIN_OUT, db);
	leg_changed(leg);
}


static void set_locked(struct control *ctl, struct room *room, bool on)
{
	if (room_locked(room) == on)
		return;

	room_set_locked(room, on);
	info("control: room %s %s\n", room_number(room),
	     on ? "locked" : "unlocked");
	if (ctl->roomh)
		ctl->roomh(room, ctl->arg);
}


bool control_admitted(const struct control *ctl, const struct leg *leg)
{
	const struct ctl_leg *cl;

	if (!ctl || !leg)
		return false;

	cl = cl_find(ctl, leg_id(leg));
	if (cl && cl->decided)
		return !cl->pending;

	return !room_pin_required(leg_room(leg));
}


/* in the roster: established (joined) and admitted legs only */
static bool leg_present_in(const struct control *ctl, const struct leg *leg)
{
	return leg_state(leg) == LEG_ESTABLISHED && control_admitted(ctl, leg);
}


/* Collect the target legs; 0 or ENOENT. */
static int targets(const struct control *ctl, struct leg **v, size_t *n,
		   struct leg *from, const struct ctrl_cmd *cmd)
{
	struct room *room = leg_room(from);
	struct le *le;

	*n = 0;

	switch (cmd->target_kind) {

	case CTRL_TARGET_NONE:
		return 0;

	case CTRL_TARGET_SELF:
		v[(*n)++] = from;
		return 0;

	default:
		break;
	}

	for (le = list_head(room_legs(room)); le; le = le->next) {
		struct leg *leg = le->data;
		bool hit;

		if (!leg_present_in(ctl, leg) && leg != from)
			continue;

		switch (cmd->target_kind) {

		case CTRL_TARGET_ALL:
			hit = leg != from;
			break;

		case CTRL_TARGET_URI:
			hit = control_uri_match(cmd->target,
						leg_remote_uri(leg));
			break;

		case CTRL_TARGET_ID:
			hit = leg_id(leg) == cmd->target_id;
			break;

		default:
			hit = false;
			break;
		}

		if (hit && *n < CONTROL_TARGETS_MAX)
			v[(*n)++] = leg;
	}

	if (*n == 0 && cmd->target_kind != CTRL_TARGET_ALL)
		return ENOENT;

	return 0;
}


static void apply_one(struct control *ctl, struct leg *leg,
		      const struct ctrl_cmd *cmd)
{
	switch (cmd->op) {

	case CTRL_OP_MUTE:
		set_mute(ctl, leg, true);
		break;

	case CTRL_OP_UNMUTE:
		set_mute(ctl, leg, false);
		break;

	case CTRL_OP_DEAF:
		set_deaf(ctl, leg, true);
		break;

	case CTRL_OP_UNDEAF:
		set_deaf(ctl, leg, false);
		break;

	case CTRL_OP_GAIN:
		if (cmd->has_in)
			set_gain(ctl, leg, true, (int)lround(cmd->in_db));
		if (cmd->has_out)
			set_gain(ctl, leg, false, (int)lround(cmd->out_db));
		break;

	case CTRL_OP_ROLE: {
		struct ctl_leg *cl = cl_get(ctl, leg);
		const bool mod = cmd->role == CTRL_ROLE_MODERATOR;

		leg_set_role(leg, mod ? LEG_MODERATOR : LEG_PARTICIPANT);
		if (cl)
			menu_set_moderator(&cl->menu, mod);
		break;
	}

	case CTRL_OP_KICK:
		if (ctl->kickh)
			ctl->kickh(leg, "kicked", ctl->arg);
		break;

	default:
		break;
	}
}


uint16_t control_apply(struct control *ctl, struct leg *from,
		       const struct ctrl_cmd *cmd, char *reason, size_t rsz)
{
	struct leg *v[64];
	struct leg **tv = v;
	bool others = false;
	size_t n = 0, i;
	uint16_t scode = 200;
	int err;

	if (!ctl || !from || !cmd || !reason || !rsz)
		return 500;

	reason[0] = '\0';

	if (!control_admitted(ctl, from)) {
		re_snprintf(reason, rsz, "enter the room PIN first");
		return 403;
	}

	if (cmd->op == CTRL_OP_LOCK || cmd->op == CTRL_OP_UNLOCK) {
		if (!control_permitted(leg_role(from), cmd, true)) {
			re_snprintf(reason, rsz, "%s needs a moderator",
				    ctrl_op_name(cmd->op));
			return 403;
		}
		set_locked(ctl, leg_room(from), cmd->op == CTRL_OP_LOCK);
		return 200;
	}

	if (room_leg_count(leg_room(from)) > ARRAY_SIZE(v)) {
		tv = mem_zalloc(CONTROL_TARGETS_MAX * sizeof(*tv), NULL);
		if (!tv)
			return 500;
	}

	err = targets(ctl, tv, &n, from, cmd);
	if (err) {
		re_snprintf(reason, rsz, "no participant %s", cmd->target);
		scode = 404;
		goto out;
	}

	for (i = 0; i < n; i++)
		others |= tv[i] != from;

	if (!control_permitted(leg_role(from), cmd, others)) {
		re_snprintf(reason, rsz, "%s on %s needs a moderator",
			    ctrl_op_name(cmd->op),
			    cmd->op == CTRL_OP_ROLE ? "roles" :
			    "other participants");
		scode = 403;
		goto out;
	}

	info("control: room %s leg %u (%s): %s %s (%zu leg%s)\n",
	     room_number(leg_room(from)), leg_id(from),
	     leg_role(from) == LEG_MODERATOR ? "moderator" : "participant",
	     ctrl_op_name(cmd->op), cmd->target[0] ? cmd->target :
	     cmd->target_kind == CTRL_TARGET_SELF ? "self" : "all",
	     n, n == 1 ? "" : "s");

	for (i = 0; i < n; i++)
		apply_one(ctl, tv[i], cmd);

 out:
	if (tv != v)
		mem_deref(tv);

	return scode;
}


/* ---- keypad menu ------------------------------------------------------- */

static void prompt(struct control *ctl, struct leg *leg,
		   enum control_prompt p)
{
	if (ctl->prompth)
		ctl->prompth(leg, p, ctl->arg);
}


/* *8: mute every other participant, or unmute them all when all of them
   are muted already */
static void mute_all_toggle(struct control *ctl, struct leg *from)
{
	struct le *le;
	bool all_muted = true;

	for (le = list_head(room_legs(leg_room(from))); le; le = le->next) {
		struct leg *leg = le->data;

		if (leg != from && leg_present_in(ctl, leg) &&
		    !control_state(ctl, leg).muted)
			all_muted = false;
	}

	le = list_head(room_legs(leg_room(from)));
	while (le) {
		struct leg *leg = le->data;

		le = le->next;
		if (leg != from && leg_present_in(ctl, leg))
			set_mute(ctl, leg, !all_muted);
	}

	info("control: room %s leg %u: keypad %s all others\n",
	     room_number(leg_room(from)), leg_id(from),
	     all_muted ? "unmuted" : "muted");
}


/* ---- PIN admission ------------------------------------------------------ */

/* the mix sees what the leg's own mute/deaf say, or nothing at all */
static void isolate(struct control *ctl, struct ctl_leg *cl,
		    const struct leg *leg, bool on)
{
	media_op(ctl, leg, MEDIA_OP_MUTE, on || cl->st.muted);
	media_op(ctl, leg, MEDIA_OP_DEAF, on || cl->st.deaf);
}


void control_leg_media(struct control *ctl, struct leg *leg)
{
	struct ctl_leg *cl;

	if (!ctl || !leg)
		return;

	cl = cl_get(ctl, leg);
	if (!cl || cl->decided)
		return;

	cl->decided = true;
	if (!room_pin_required(leg_room(leg)))
		return;

	cl->pending = true;
	cl->npin = 0;
	cl->tries = CONTROL_PIN_TRIES;
	isolate(ctl, cl, leg, true);
	prompt(ctl, leg, CONTROL_PROMPT_PIN);

	info("control: room %s leg %u: waiting for the PIN\n",
	     room_number(leg_room(leg)), leg_id(leg));
}


void control_admit(struct control *ctl, struct leg *leg, enum leg_role role)
{
	struct ctl_leg *cl;
	bool was_pending;

	if (!ctl || !leg)
		return;

	cl = cl_get(ctl, leg);
	if (!cl)
		return;

	was_pending = cl->pending;
	cl->decided = true;
	cl->pending = false;
	memset(cl->pin, 0, sizeof(cl->pin));
	cl->npin = 0;

	if (role == LEG_MODERATOR)
		leg_set_role(leg, LEG_MODERATOR);
	menu_set_moderator(&cl->menu, leg_role(leg) == LEG_MODERATOR);

	if (was_pending) {
		isolate(ctl, cl, leg, false);
		prompt(ctl, leg, CONTROL_PROMPT_WELCOME);
	}

	info("control: room %s leg %u: admitted as %s\n",
	     room_number(leg_room(leg)), leg_id(leg),
	     leg_role(leg) == LEG_MODERATOR ? "moderator" : "participant");

	/* now the roster lists it */
	leg_changed(leg);
}


static void pin_submit(struct control *ctl, struct ctl_leg *cl,
		       struct leg *leg)
{
	enum leg_role role = LEG_PARTICIPANT;
	int err;

	cl->pin[cl->npin] = '\0';
	err = cl->npin ? room_pin_check(leg_room(leg), cl->pin, &role) :
		EACCES;
	memset(cl->pin, 0, sizeof(cl->pin));
	cl->npin = 0;

	if (!err) {
		control_admit(ctl, leg, role);
		return;
	}

	if (cl->tries)
		--cl->tries;

	warning("control: room %s leg %u: wrong PIN (%u tr%s left)\n",
		room_number(leg_room(leg)), leg_id(leg), cl->tries,
		cl->tries == 1 ? "y" : "ies");

	if (!cl->tries) {
		prompt(ctl, leg, CONTROL_PROMPT_GOODBYE);
		if (ctl->kickh)
			ctl->kickh(leg, "wrong PIN", ctl->arg);
		return;
	}

	prompt(ctl, leg, CONTROL_PROMPT_PIN_BAD);
}


static void pin_key(struct control *ctl, struct ctl_leg *cl,
		    struct leg *leg, char key)
{
	if (key == '#') {
		pin_submit(ctl, cl, leg);
		return;
	}

	if (key == '*') {
		cl->npin = 0;
		return;
	}

	if (!((key >= '0' && key <= '9') || (key >= 'A' && key <= 'D')))
		return;

	cl->pin[cl->npin++] = key;
	if (cl->npin >= MENU_PIN_MAX)
		pin_submit(ctl, cl, leg);
}


void control_key(struct control *ctl, struct leg *leg, char key)
{
	struct menu_event ev;
	struct ctl_leg *cl;

	if (!ctl || !leg)
		return;

	cl = cl_get(ctl, leg);
	if (!cl)
		return;

	if (cl->pending) {
		pin_key(ctl, cl, leg, key);
		return;
	}

	menu_set_moderator(&cl->menu, leg_role(leg) == LEG_MODERATOR);
	ev = menu_feed(&cl->menu, key, tmr_jiffies());

	debug("control: leg %u: key %c -> %s\n", leg_id(leg), key,
	      menu_action_name(ev.action));

	switch (ev.action) {

	case MENU_MUTE_TOGGLE:
		set_mute(ctl, leg, !cl->st.muted);
		prompt(ctl, leg, cl->st.muted ? CONTROL_PROMPT_MUTED :
		       CONTROL_PROMPT_UNMUTED);
		break;

	case MENU_HEAR_GAIN:
		set_gain(ctl, leg, false, cl->st.gain_out + ev.value);
		break;

	case MENU_TALK_GAIN:
		set_gain(ctl, leg, true, cl->st.gain_in + ev.value);
		break;

	case MENU_LOCK_TOGGLE:
		set_locked(ctl, leg_room(leg), !room_locked(leg_room(leg)));
		prompt(ctl, leg, room_locked(leg_room(leg)) ?
		       CONTROL_PROMPT_LOCKED : CONTROL_PROMPT_UNLOCKED);
		break;

	case MENU_MUTEALL_TOGGLE:
		mute_all_toggle(ctl, leg);
		break;

	case MENU_HELP:
		prompt(ctl, leg, CONTROL_PROMPT_MENU);
		break;

	case MENU_INVALID:
	case MENU_DENIED:
		info("control: room %s leg %u: keypad %s\n",
		     room_number(leg_room(leg)), leg_id(leg),
		     menu_action_name(ev.action));
		prompt(ctl, leg, CONTROL_PROMPT_ERROR);
		break;

	default:
		break;
	}

	if (ev.action != MENU_NONE && ev.action != MENU_INVALID &&
	    ev.action != MENU_DENIED)
		info("control: room %s leg %u: keypad %s\n",
		     room_number(leg_room(leg)), leg_id(leg),
		     menu_action_name(ev.action));
}
