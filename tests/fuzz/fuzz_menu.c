/**
 * @file fuzz_menu.c  The DTMF keypad menu and PIN entry (ctrl/menu.c): a
 * participant controls every key and its timing (RFC 4733 events or INFO).
 *
 * Invariants checked:
 *  - PIN mode: every answer equals that of a reference model written
 *    from menu.h (PIN_OK only for exactly the PIN, tries counted, HANGUP
 *    for good after the last try, timeouts drop the entry);
 *  - a participant who is not a moderator never gets LOCK/MUTEALL;
 *  - the keymap parser: a map that parses prints (menu_keymap_str) and
 *    parses back to the same map.
 *
 * Input: byte 0 flags (bit 0 moderator, bit 1 PIN mode, bits 2-3 tries),
 * byte 1 PIN length (1..8, keys taken from the next bytes), then pairs of
 * (key, milliseconds since the previous key). A second part after a NUL
 * byte is given to menu_keymap_parse().
 */
#include <stdbool.h>
#include <re.h>

#include "ctrl/menu.h"
#include "fuzz_common.h"

static const char keys[] = "0123456789*#ABCD";


static void keymap_roundtrip(const uint8_t *p, size_t n)
{
	struct menu_keymap km, km2;
	char str[256], reason[MENU_REASON_SIZE];
	char *s = malloc(n + 1);

	if (!s)
		return;
	memcpy(s, p, n);
	s[n] = '\0';

	menu_keymap_default(&km);
	if (!menu_keymap_parse(&km, s, reason, sizeof(reason))) {
		FUZZ_CHECK(menu_keymap_str(str, sizeof(str), &km) > 0);
		memset(&km2, 0, sizeof(km2));
		FUZZ_CHECK(0 == menu_keymap_parse(&km2, str, reason,
						  sizeof(reason)));
		FUZZ_CHECK(!memcmp(&km, &km2, sizeof(km)));
	}
	else {
		FUZZ_CHECK(memchr(reason, '\0', sizeof(reason)));
	}
	free(s);
}


/* Reference model of PIN entry, from menu.h: keys collect until '#' (or a
 * full buffer), '*' clears, an entry left for the timeout is dropped (not
 * submitted), '#' on an empty entry costs no try, after max_tries wrong
 * entries every key answers HANGUP. */
struct pin_model {
	bool active, hung;
	char entry[MENU_PIN_MAX + 1];
	size_t len;
	unsigned tries_left;
	uint64_t last;
};


static struct menu_event model_submit(struct pin_model *pm, const char *pin)
{
	struct menu_event e = {MENU_NONE, 0};
	bool ok;

	if (!pm->len) {
		e.action = MENU_PIN_BAD;
		e.value = (int)pm->tries_left;
		return e;
	}
	ok = pm->len == strlen(pin) && !memcmp(pm->entry, pin, pm->len);
	pm->len = 0;
	if (ok) {
		pm->active = false;
		e.action = MENU_PIN_OK;
		return e;
	}
	--pm->tries_left;
	if (pm->tries_left) {
		e.action = MENU_PIN_BAD;
		e.value = (int)pm->tries_left;
	}
	else {
		pm->hung = true;
		e.action = MENU_HANGUP;
	}
	return e;
}


static struct menu_event model_key(struct pin_model *pm, const char *pin,
				   char key, uint64_t now)
{
	struct menu_event e = {MENU_NONE, 0};

	if (pm->hung) {
		e.action = MENU_HANGUP;
		return e;
	}
	pm->last = now;
	if (key == '*') {
		pm->len = 0;
		return e;
	}
	if (key == '#')
		return model_submit(pm, pin);
	pm->entry[pm->len++] = key;
	if (pm->len == MENU_PIN_MAX)
		return model_submit(pm, pin);
	return e;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct pin_model pm;
	struct menu m;
	char pin[MENU_PIN_MAX + 1];
	const uint8_t *nul;
	uint8_t flags;
	size_t pl;
	uint64_t now = 1000;

	if (size < 2)
		return 0;

	nul = memchr(data, '\0', size);
	if (nul) {
		keymap_roundtrip(nul + 1, size - (size_t)(nul + 1 - data));
		in.n = (size_t)(nul - data);
	}

	flags = fin_u8(&in);
	pl = 1 + fin_u8(&in) % 8;
	for (size_t i = 0; i < pl; i++)
		pin[i] = "0123456789ABCD"[fin_u8(&in) % 14];
	pin[pl] = '\0';

	memset(&pm, 0, sizeof(pm));
	menu_init(&m, NULL, 0, 0);
	menu_set_moderator(&m, flags & 1);
	if (flags & 2) {
		pm.active = true;
		pm.tries_left = 1 + (flags >> 2 & 3);
		FUZZ_CHECK(0 == menu_pin_start(&m, pin, pm.tries_left));
	}

	while (in.n >= 2) {
		char key = keys[fin_u8(&in) % 16];
		struct menu_event ev, want;

		/* up to ~6.5 s between keys: across the 3 s timeout */
		now += (uint64_t)fin_u8(&in) * 25;

		if (pm.active && !pm.hung && pm.len &&
		    now - pm.last >= MENU_TIMEOUT_MS)
			pm.len = 0;
		ev = menu_poll(&m, now);
		if (pm.active)
			FUZZ_CHECK(ev.action == MENU_NONE ||
				   ev.action == MENU_TIMEOUT);

		ev = menu_feed(&m, key, now);

		if (!(flags & 1))
			FUZZ_CHECK(ev.action != MENU_LOCK_TOGGLE &&
				   ev.action != MENU_MUTEALL_TOGGLE);

		if (!pm.active) {
			FUZZ_CHECK(ev.action != MENU_PIN_OK &&
				   ev.action != MENU_PIN_BAD &&
				   ev.action != MENU_HANGUP);
			continue;
		}

		want = model_key(&pm, pin, key, now);
		if (ev.action != want.action || ev.value != want.value) {
			fprintf(stderr, "menu: key %c at %llu: %s %d, model %s"
				" %d\n", key, (unsigned long long)now,
				menu_action_name(ev.action), ev.value,
				menu_action_name(want.action), want.value);
			FUZZ_CHECK(0 && "PIN entry differs from its model");
		}
	}

	return 0;
}
