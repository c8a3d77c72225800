/**
 * @file rooms.c  rooms.conf: static rooms and the auto-create pattern.
 *
 * Format (one directive per line, '#' starts a comment):
 *
 *   room <number> [name="<text>"] [max=<legs>] [pin=<digits>]
 *                 [modpin=<digits>] [mod=<sip-uri>[,<sip-uri>...]]
 *                 [srtp=off|optional|mandatory]
 *   default_max_legs <n>     max= of rooms that do not set it (50)
 *   auto_create <pattern>    'd' = any digit, '0'-'9' itself; off = none
 *   auto_max_legs <n>        max legs of an auto-created room (50)
 *
 * mod= may repeat. A parsed table replaces the previous one only when the
 * whole file is valid, so a bad edit followed by SIGHUP keeps the old rooms.
 */
#include <stdint.h>
#include <ctype.h>
#include <string.h>
#include <re.h>

#include "ctrl/log.h"
#include "cfg/cfg.h"
#include "cfg/cfg_int.h"

enum { PIN_MIN_LEN = 1 };

struct rooms_tab {
	struct cfg_room *rooms;
	unsigned *lines;           /* line of each room, for error messages */
	unsigned nrooms, cap;
	char auto_pattern[32];
	uint32_t auto_max_legs;
	uint32_t default_max_legs;
	unsigned line_auto, line_auto_max, line_default_max;
	int srtp;                  /* global policy, inherited by rooms */
};


static bool number_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(((struct cfg_room *)0)->number))
		return false;

	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && !strchr("._+-", s[i]))
			return false;
	}

	return true;
}


static bool pattern_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(((struct cfg *)0)->auto_pattern))
		return false;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != 'd' && !isdigit((unsigned char)s[i]))
			return false;
	}

	return true;
}


static bool get_pin(struct cfg_parser *p, const char *key, const char *val,
		    char *dst, size_t size)
{
	if (!cfg_get_str(p, key, val, dst, size))
		return false;

	for (const char *c = dst; *c; c++) {
		if (!isdigit((unsigned char)*c)) {
			cfg_perr(p, key, "'%s' is not all digits (a PIN is "
				 "typed on the keypad)", dst);
			return false;
		}
	}

	return true;
}


/* append one or more comma-separated URIs to room->moderators */
static bool add_mods(struct cfg_parser *p, const char *val,
		     struct cfg_room *room)
{
	char buf[sizeof(room->moderators)];
	char *s, *save = NULL;

	if (!cfg_get_str(p, "mod", val, buf, sizeof(buf)))
		return false;

	for (s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		char uri[sizeof(room->moderators)];
		size_t have = strlen(room->moderators);

		if (!cfg_get_uri(p, "mod", s, uri, sizeof(uri)))
			return false;

		if (have + strlen(uri) + 2 > sizeof(room->moderators)) {
			cfg_perr(p, "mod", "moderator list longer than %zu "
				 "characters", sizeof(room->moderators) - 1);
			return false;
		}

		re_snprintf(room->moderators + have,
			    sizeof(room->moderators) - have, "%s%s",
			    have ? "," : "", uri);
	}

	return true;
}


/*
 * Next attribute of a room line: key=value or key="value with blanks".
 * Returns false at the end of the line; *errp on a malformed attribute.
 */
static bool next_attr(char **sp, char **keyp, char **valp, bool *errp)
{
	char *s = *sp, *key, *val;

	while (*s == ' ' || *s == '\t')
		s++;

	if (!*s)
		return false;

	key = s;
	s += strcspn(s, "= \t");
	if (*s != '=') {
		*s = '\0';
		*keyp = key;
		*errp = true;
		return false;
	}
	*s++ = '\0';

	val = s;
	if (*s == '"') {
		char *q = strchr(s + 1, '"');
		if (!q) {
			*keyp = key;
			*errp = true;
			return false;
		}
		s = q + 1;
		if (*s && *s != ' ' && *s != '\t') {
			*keyp = key;
			*errp = true;
			return false;
		}
	}
	else {
		s += strcspn(s, " \t");
	}

	if (*s)
		*s++ = '\0';

	*sp = s;
	*keyp = key;
	*valp = val;

	return true;
}


static void parse_room(struct cfg_parser *p, char *val, struct rooms_tab *t)
{
	struct cfg_room room;
	char *s = val, *number, *key, *aval;
	bool bad = false;
	uint32_t v;

	memset(&room, 0, sizeof(room));
	room.srtp = t->srtp;

	number = s;
	s += strcspn(s, " \t");
	if (*s)
		*s++ = '\0';

	if (!*number) {
		cfg_perr(p, "room", "missing room number");
		return;
	}
	if (!number_valid(number)) {
		cfg_perr(p, "room", "'%s' is not a room number (1..%zu of "
			 "0-9 A-Z a-z . _ + -)", number,
			 sizeof(room.number) - 1);
		return;
	}
	str_ncpy(room.number, number, sizeof(room.number));

	for (unsigned i = 0; i < t->nrooms; i++) {
		if (!strcmp(t->rooms[i].number, number)) {
			cfg_perr(p, "room", "room %s defined twice (first on "
				 "line %u)", number, t->lines[i]);
			return;
		}
	}

	while (next_attr(&s, &key, &aval, &bad)) {
		char what[48];

		re_snprintf(what, sizeof(what), "room %s %s", number, key);

		if (!strcmp(key, "name")) {
			if (!cfg_get_str(p, what, aval, room.name,
					 sizeof(room.name)))
				return;
		}
		else if (!strcmp(key, "max")) {
			if (!cfg_get_u32(p, what, aval, 1, CFG_ROOM_LEGS_MAX,
					 &v))
				return;
			room.max_legs = v;
		}
		else if (!strcmp(key, "pin")) {
			if (!get_pin(p, what, aval, room.pin,
				     sizeof(room.pin)))
				return;
		}
		else if (!strcmp(key, "modpin")) {
			if (!get_pin(p, what, aval, room.mod_pin,
				     sizeof(room.mod_pin)))
				return;
		}
		else if (!strcmp(key, "mod")) {
			if (!add_mods(p, aval, &room))
				return;
		}
		else if (!strcmp(key, "srtp")) {
			int srtp;
			if (!cfg_get_srtp(p, what, aval, &srtp))
				return;
			room.srtp = srtp;
		}
		else {
			cfg_perr(p, what, "unknown room attribute (known: "
				 "name max pin modpin mod srtp)");
			return;
		}
	}

	if (bad) {
		cfg_perr(p, "room", "room %s: malformed attribute '%s' "
			 "(expected key=value or key=\"value\")", number, key);
		return;
	}

	if (room.pin[0] && !strcmp(room.pin, room.mod_pin)) {
		cfg_perr(p, "room", "room %s: pin and modpin are the same, "
			 "moderators could not be told apart", number);
		return;
	}

	if (!room.name[0])
		str_ncpy(room.name, room.number, sizeof(room.name));

	if (t->nrooms >= CFG_ROOMS_MAX) {
		cfg_perr(p, "room", "more than %u rooms", CFG_ROOMS_MAX);
		return;
	}

	if (t->nrooms == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 16;
		struct cfg_room *r;
		unsigned *l;

		r = mem_reallocarray(t->rooms, cap, sizeof(*r), NULL);
		if (!r)
			goto nomem;
		t->rooms = r;

		l = mem_reallocarray(t->lines, cap, sizeof(*l), NULL);
		if (!l)
			goto nomem;
		t->lines = l;

		t->cap = cap;
	}

	t->rooms[t->nrooms] = room;
	t->lines[t->nrooms] = p->line;
	t->nrooms++;
	return;

 nomem:
	cfg_perr(p, "room", "out of memory");
}


static void line_handler(struct cfg_parser *p, const char *key, char *val,
			 void *arg)
{
	struct rooms_tab *t = arg;

	if (!strcmp(key, "room")) {
		parse_room(p, val, t);
	}
	else if (!strcmp(key, "auto_create")) {
		if (t->line_auto) {
			cfg_perr(p, key, "set twice (first on line %u)",
				 t->line_auto);
			return;
		}
		t->line_auto = p->line;

		if (!*val || !str_casecmp(val, "off") ||
		    !str_casecmp(val, "no")) {
			t->auto_pattern[0] = '\0';
		}
		else if (!pattern_valid(val)) {
			cfg_perr(p, key, "'%s' is not a pattern of 'd' (any "
				 "digit) and digits, up to %zu long, or off",
				 val, sizeof(t->auto_pattern) - 1);
		}
		else {
			str_ncpy(t->auto_pattern, val,
				 sizeof(t->auto_pattern));
		}
	}
	else if (!strcmp(key, "auto_max_legs")) {
		if (t->line_auto_max) {
			cfg_perr(p, key, "set twice (first on line %u)",
				 t->line_auto_max);
			return;
		}
		t->line_auto_max = p->line;
		cfg_get_u32(p, key, val, 1, CFG_ROOM_LEGS_MAX,
			    &t->auto_max_legs);
	}
	else if (!strcmp(key, "default_max_legs")) {
		if (t->line_default_max) {
			cfg_perr(p, key, "set twice (first on line %u)",
				 t->line_default_max);
			return;
		}
		t->line_default_max = p->line;
		cfg_get_u32(p, key, val, 1, CFG_ROOM_LEGS_MAX,
			    &t->default_max_legs);
	}
	else {
		cfg_perr(p, key, "unknown key (known: room, auto_create, "
			 "auto_max_legs, default_max_legs)");
	}
}


static const struct cfg_room *find(const struct cfg_room *rooms, unsigned n,
				   const char *number)
{
	for (unsigned i = 0; i < n; i++) {
		if (!strcmp(rooms[i].number, number))
			return &rooms[i];
	}

	return NULL;
}


static void log_diff(const struct cfg *cfg, const struct rooms_tab *t)
{
	for (unsigned i = 0; i < t->nrooms; i++) {
		const struct cfg_room *n = &t->rooms[i];
		const struct cfg_room *o = find(cfg->rooms, cfg->nrooms,
						n->number);

		if (!o) {
			info("cfg: room %s added (max %u)\n", n->number,
			     n->max_legs);
			continue;
		}

		if (o->max_legs != n->max_legs)
			info("cfg: room %s: max legs %u -> %u\n", n->number,
			     o->max_legs, n->max_legs);
		if (strcmp(o->name, n->name))
			info("cfg: room %s: name \"%s\" -> \"%s\"\n",
			     n->number, o->name, n->name);
		/* PINs are secrets: say that, not what, they changed */
		if (strcmp(o->pin, n->pin))
			info("cfg: room %s: pin changed\n", n->number);
		if (strcmp(o->mod_pin, n->mod_pin))
			info("cfg: room %s: moderator pin changed\n",
			     n->number);
		if (strcmp(o->moderators, n->moderators))
			info("cfg: room %s: moderators \"%s\" -> \"%s\"\n",
			     n->number, o->moderators, n->moderators);
		if (o->srtp != n->srtp)
			info("cfg: room %s: srtp %s -> %s\n", n->number,
			     cfg_srtp_name(o->srtp), cfg_srtp_name(n->srtp));
	}

	for (unsigned i = 0; i < cfg->nrooms; i++) {
		if (!find(t->rooms, t->nrooms, cfg->rooms[i].number))
			info("cfg: room %s removed\n", cfg->rooms[i].number);
	}

	if (strcmp(cfg->auto_pattern, t->auto_pattern))
		info("cfg: auto_create %s -> %s\n",
		     cfg->auto_pattern[0] ? cfg->auto_pattern : "off",
		     t->auto_pattern[0] ? t->auto_pattern : "off");
	if (cfg->auto_max_legs != t->auto_max_legs)
		info("cfg: auto_max_legs %u -> %u\n", cfg->auto_max_legs,
		     t->auto_max_legs);
}


int cfg_rooms_load(struct cfg *cfg, bool log_changes)
{
	struct rooms_tab t;
	char path[512];
	int err;

	if (!cfg)
		return EINVAL;

	memset(&t, 0, sizeof(t));
	str_ncpy(t.auto_pattern, "", sizeof(t.auto_pattern));
	t.auto_max_legs = 50;
	t.default_max_legs = 50;
	t.srtp = cfg->srtp;

	re_snprintf(path, sizeof(path), "%s/rooms.conf", cfg->dir);

	err = cfg_parse_file(path, line_handler, &t);
	if (err)
		goto out;

	/* max= may come before default_max_legs: resolve afterwards */
	for (unsigned i = 0; i < t.nrooms; i++) {
		if (!t.rooms[i].max_legs)
			t.rooms[i].max_legs = t.default_max_legs;
	}

	if (log_changes)
		log_diff(cfg, &t);

	mem_deref(cfg->rooms);
	cfg->rooms = t.rooms;
	cfg->nrooms = t.nrooms;
	t.rooms = NULL;
	str_ncpy(cfg->auto_pattern, t.auto_pattern, sizeof(cfg->auto_pattern));
	cfg->auto_max_legs = t.auto_max_legs;
	cfg->default_max_legs = t.default_max_legs;

 out:
	mem_deref(t.rooms);
	mem_deref(t.lines);

	return err;
}


int cfg_reload_rooms(struct cfg *cfg)
{
	int err;

	if (!cfg)
		return EINVAL;

	err = cfg_rooms_load(cfg, true);
	if (err)
		warning("cfg: %s/rooms.conf not reloaded (%m): keeping the "
			"previous rooms\n", cfg->dir, err);

	return err;
}


const struct cfg_room *cfg_room_find(const struct cfg *cfg, const char *number)
{
	if (!cfg || !number)
		return NULL;

	return find(cfg->rooms, cfg->nrooms, number);
}


bool cfg_room_auto(const struct cfg *cfg, const char *number)
{
	size_t n;

	if (!cfg || !number || !cfg->auto_pattern[0])
		return false;

	n = strlen(cfg->auto_pattern);
	if (strlen(number) != n)
		return false;

	for (size_t i = 0; i < n; i++) {
		char c = cfg->auto_pattern[i];

		if (!isdigit((unsigned char)number[i]))
			return false;
		if (c != 'd' && c != number[i])
			return false;
	}

	return true;
}


int cfg_rooms_print(struct re_printf *pf, const struct cfg *cfg)
{
	int err = 0;

	err |= re_hprintf(pf, "# %s/rooms.conf as loaded (PINs hidden)\n",
			  cfg->dir);

	for (unsigned i = 0; i < cfg->nrooms; i++) {
		const struct cfg_room *r = &cfg->rooms[i];

		err |= re_hprintf(pf, "room %s name=\"%s\" max=%u", r->number,
				  r->name, r->max_legs);
		if (r->pin[0])
			err |= re_hprintf(pf, " pin=***");
		if (r->mod_pin[0])
			err |= re_hprintf(pf, " modpin=***");
		if (r->moderators[0])
			err |= re_hprintf(pf, " mod=%s", r->moderators);
		err |= re_hprintf(pf, " srtp=%s\n", cfg_srtp_name(r->srtp));
	}

	err |= re_hprintf(pf, "default_max_legs %u\n", cfg->default_max_legs);
	err |= re_hprintf(pf, "auto_create %s\n",
			  cfg->auto_pattern[0] ? cfg->auto_pattern : "off");
	err |= re_hprintf(pf, "auto_max_legs %u\n", cfg->auto_max_legs);

	return err;
}
