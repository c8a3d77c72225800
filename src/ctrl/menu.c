/**
 * @file menu.c  DTMF keypad menu and PIN entry
 */
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>

#include "ctrl/menu.h"

/* Longest name=value item we look at in a key map string. */
#define ITEM_MAX 64

static const struct {
	const char *name;
	bool moderator;
} funcs[MENU_FN_COUNT] = {
	[MENU_FN_MUTE]      = {"mute",      false},
	[MENU_FN_HEAR_DOWN] = {"hear_down", false},
	[MENU_FN_HEAR_UP]   = {"hear_up",   false},
	[MENU_FN_TALK_DOWN] = {"talk_down", false},
	[MENU_FN_TALK_UP]   = {"talk_up",   false},
	[MENU_FN_LOCK]      = {"lock",      true},
	[MENU_FN_MUTEALL]   = {"muteall",   true},
	[MENU_FN_HELP]      = {"help",      false},
};


static bool is_key(char c)
{
	return (c >= '0' && c <= '9') || c == '*' || c == '#' ||
		(c >= 'A' && c <= 'D');
}


static int fail(char *reason, size_t rsz, const char *fmt, ...)
{
	va_list ap;

	if (reason && rsz) {
		va_start(ap, fmt);
		(void)vsnprintf(reason, rsz, fmt, ap);
		va_end(ap);
	}

	return EINVAL;
}


const char *menu_func_name(enum menu_func f)
{
	return (unsigned)f < MENU_FN_COUNT ? funcs[f].name : "?";
}


const char *menu_action_name(enum menu_action a)
{
	switch (a) {

	case MENU_NONE:           return "none";
	case MENU_MUTE_TOGGLE:    return "mute-toggle";
	case MENU_HEAR_GAIN:      return "hear-gain";
	case MENU_TALK_GAIN:      return "talk-gain";
	case MENU_LOCK_TOGGLE:    return "lock-toggle";
	case MENU_MUTEALL_TOGGLE: return "muteall-toggle";
	case MENU_HELP:           return "help";
	case MENU_INVALID:        return "invalid";
	case MENU_DENIED:         return "denied";
	case MENU_TIMEOUT:        return "timeout";
	case MENU_PIN_OK:         return "pin-ok";
	case MENU_PIN_BAD:        return "pin-bad";
	case MENU_HANGUP:         return "hangup";
	default:                  return "?";
	}
}


static void trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t')) {
		++*p;
		--*n;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		--*n;
}


/* No two functions on the same keys, no sequence a prefix of another:
 * either would make one function unreachable. */
static int keymap_check(const struct menu_keymap *km, char *reason,
			size_t rsz)
{
	for (int i = 0; i < MENU_FN_COUNT; i++) {
		size_t li = strlen(km->seq[i]);

		if (!li)
			continue;
		for (int j = 0; j < MENU_FN_COUNT; j++) {
			size_t lj = strlen(km->seq[j]);

			if (i == j || !lj || lj < li)
				continue;
			if (memcmp(km->seq[i], km->seq[j], li))
				continue;
			if (li == lj && i < j)
				return fail(reason, rsz,
					    "%s and %s both on '%s'",
					    funcs[i].name, funcs[j].name,
					    km->seq[i]);
			if (li < lj)
				return fail(reason, rsz,
					    "%s '%s' is a prefix of %s '%s'",
					    funcs[i].name, km->seq[i],
					    funcs[j].name, km->seq[j]);
		}
	}

	return 0;
}


void menu_keymap_default(struct menu_keymap *km)
{
	static const struct menu_keymap def = {{
		[MENU_FN_MUTE]      = "*6",
		[MENU_FN_HEAR_DOWN] = "*4",
		[MENU_FN_HEAR_UP]   = "*7",
		[MENU_FN_TALK_DOWN] = "*1",
		[MENU_FN_TALK_UP]   = "*3",
		[MENU_FN_LOCK]      = "*5",
		[MENU_FN_MUTEALL]   = "*8",
		[MENU_FN_HELP]      = "*0",
	}};

	if (km)
		*km = def;
}


int menu_keymap_parse(struct menu_keymap *km, const char *str,
		      char *reason, size_t rsz)
{
	struct menu_keymap tmp;
	bool seen[MENU_FN_COUNT] = {false};
	const char *p;

	if (reason && rsz)
		reason[0] = '\0';
	if (!km || !str)
		return EINVAL;

	tmp = *km;
	p = str;

	for (;;) {
		const char *comma = strchr(p, ',');
		const char *item = p, *eq, *val;
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		size_t nl, vl;
		int f;

		trim(&item, &n);
		if (n > ITEM_MAX)
			return fail(reason, rsz, "menu item too long");
		if (n) {
			eq = memchr(item, '=', n);
			if (!eq)
				return fail(reason, rsz,
					    "menu item '%.*s' has no '='",
					    (int)n, item);
			nl = (size_t)(eq - item);
			val = eq + 1;
			vl = n - nl - 1;
			trim(&item, &nl);
			trim(&val, &vl);

			for (f = 0; f < MENU_FN_COUNT; f++) {
				if (strlen(funcs[f].name) == nl &&
				    !memcmp(funcs[f].name, item, nl))
					break;
			}
			if (f == MENU_FN_COUNT)
				return fail(reason, rsz,
					    "unknown menu function '%.*s'",
					    (int)nl, item);
			if (seen[f])
				return fail(reason, rsz, "%s given twice",
					    funcs[f].name);
			seen[f] = true;

			if (vl > MENU_SEQ_MAX)
				return fail(reason, rsz,
					    "%s: more than %d keys",
					    funcs[f].name, MENU_SEQ_MAX);
			for (size_t i = 0; i < vl; i++) {
				if (!is_key(val[i]))
					return fail(reason, rsz,
						    "%s: '%c' is not a DTMF key",
						    funcs[f].name, val[i]);
			}
			memset(tmp.seq[f], 0, sizeof(tmp.seq[f]));
			memcpy(tmp.seq[f], val, vl);
		}

		if (!comma)
			break;
		p = comma + 1;
	}

	if (keymap_check(&tmp, reason, rsz))
		return EINVAL;

	*km = tmp;

	return 0;
}


int menu_keymap_str(char *buf, size_t sz, const struct menu_keymap *km)
{
	size_t pos = 0;

	if (!buf || !sz || !km)
		return -1;

	for (int f = 0; f < MENU_FN_COUNT; f++) {
		int n = snprintf(buf + pos, sz - pos, "%s%s=%s", f ? "," : "",
				 funcs[f].name, km->seq[f]);

		if (n < 0 || (size_t)n >= sz - pos) {
			buf[0] = '\0';
			return -1;
		}
		pos += (size_t)n;
	}

	return (int)pos;
}


void menu_init(struct menu *m, const struct menu_keymap *km,
	       uint32_t timeout_ms, int step_db)
{
	if (!m)
		return;

	memset(m, 0, sizeof(*m));
	if (km)
		m->km = *km;
	else
		menu_keymap_default(&m->km);
	m->timeout_ms = timeout_ms ? timeout_ms : MENU_TIMEOUT_MS;
	m->step_db = step_db ? step_db : MENU_GAIN_STEP_DB;
}


void menu_set_moderator(struct menu *m, bool moderator)
{
	if (m)
		m->moderator = moderator;
}


static void entry_clear(struct menu *m)
{
	/* keep the rest zero: the PIN compare relies on it */
	memset(m->buf, 0, sizeof(m->buf));
	m->len = 0;
}


int menu_pin_start(struct menu *m, const char *pin, unsigned max_tries)
{
	size_t n;

	if (!m || !pin)
		return EINVAL;

	n = strlen(pin);
	if (!n || n > MENU_PIN_MAX)
		return EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!is_key(pin[i]) || pin[i] == '*' || pin[i] == '#')
			return EINVAL;
	}

	memset(m->pin, 0, sizeof(m->pin));
	memcpy(m->pin, pin, n);
	m->pin_mode = true;
	m->tries_left = max_tries ? max_tries : MENU_PIN_TRIES;
	entry_clear(m);

	return 0;
}


bool menu_pin_active(const struct menu *m)
{
	return m && m->pin_mode;
}


static bool timed_out(const struct menu *m, uint64_t now)
{
	return m->len && now >= m->last_ms &&
		now - m->last_ms >= m->timeout_ms;
}


static struct menu_event ev(enum menu_action a, int value)
{
	struct menu_event e = {a, value};

	return e;
}


static struct menu_event pin_submit(struct menu *m)
{
	unsigned char diff = 0;

	if (!m->len)
		return ev(MENU_PIN_BAD, (int)m->tries_left);

	/* constant time over the whole buffer; both are zero-padded */
	for (size_t i = 0; i < MENU_PIN_MAX; i++)
		diff |= (unsigned char)(m->buf[i] ^ m->pin[i]);
	entry_clear(m);

	if (!diff) {
		m->pin_mode = false;
		memset(m->pin, 0, sizeof(m->pin));
		return ev(MENU_PIN_OK, 0);
	}

	if (m->tries_left)
		--m->tries_left;

	return m->tries_left ? ev(MENU_PIN_BAD, (int)m->tries_left) :
		ev(MENU_HANGUP, 0);
}


static struct menu_event pin_feed(struct menu *m, char key, uint64_t now)
{
	if (!m->tries_left)
		return ev(MENU_HANGUP, 0);

	/* a half-typed PIN left standing is dropped, not submitted */
	if (timed_out(m, now))
		entry_clear(m);
	m->last_ms = now;

	if (key == '*') {
		entry_clear(m);
		return ev(MENU_NONE, 0);
	}
	if (key == '#')
		return pin_submit(m);

	m->buf[m->len++] = key;
	if (m->len == MENU_PIN_MAX)
		return pin_submit(m);

	return ev(MENU_NONE, 0);
}


static struct menu_event func_event(const struct menu *m, enum menu_func f)
{
	if (funcs[f].moderator && !m->moderator)
		return ev(MENU_DENIED, (int)f);

	switch (f) {

	case MENU_FN_MUTE:      return ev(MENU_MUTE_TOGGLE, 0);
	case MENU_FN_HEAR_DOWN: return ev(MENU_HEAR_GAIN, -m->step_db);
	case MENU_FN_HEAR_UP:   return ev(MENU_HEAR_GAIN, m->step_db);
	case MENU_FN_TALK_DOWN: return ev(MENU_TALK_GAIN, -m->step_db);
	case MENU_FN_TALK_UP:   return ev(MENU_TALK_GAIN, m->step_db);
	case MENU_FN_LOCK:      return ev(MENU_LOCK_TOGGLE, 0);
	case MENU_FN_MUTEALL:   return ev(MENU_MUTEALL_TOGGLE, 0);
	case MENU_FN_HELP:      return ev(MENU_HELP, 0);
	default:                return ev(MENU_INVALID, 0);
	}
}


/* Match the entry: exact function, still a prefix, or nothing. */
static struct menu_event match(struct menu *m, bool *prefix)
{
	*prefix = false;

	for (int f = 0; f < MENU_FN_COUNT; f++) {
		size_t l = strlen(m->km.seq[f]);

		if (!l || l < m->len || memcmp(m->km.seq[f], m->buf, m->len))
			continue;
		if (l == m->len) {
			entry_clear(m);
			return func_event(m, (enum menu_func)f);
		}
		*prefix = true;
	}

	return ev(MENU_NONE, 0);
}


struct menu_event menu_feed(struct menu *m, char key, uint64_t now_ms)
{
	struct menu_event e;
	bool prefix;

	if (!m)
		return ev(MENU_NONE, 0);
	if (key >= 'a' && key <= 'd')
		key = (char)(key - 'a' + 'A');
	if (!is_key(key))
		return ev(MENU_NONE, 0);

	if (m->pin_mode)
		return pin_feed(m, key, now_ms);

	if (timed_out(m, now_ms))
		entry_clear(m);
	m->last_ms = now_ms;

	m->buf[m->len++] = key;
	e = match(m, &prefix);
	if (e.action != MENU_NONE || prefix)
		return e;

	/* no such sequence; the key may still start one ("**6") */
	if (m->len > 1) {
		entry_clear(m);
		m->buf[m->len++] = key;
		e = match(m, &prefix);
		if (e.action != MENU_NONE || prefix)
			return e;
	}

	entry_clear(m);

	return ev(MENU_INVALID, 0);
}


struct menu_event menu_poll(struct menu *m, uint64_t now_ms)
{
	if (!m || !timed_out(m, now_ms))
		return ev(MENU_NONE, 0);

	entry_clear(m);

	return ev(MENU_TIMEOUT, 0);
}
