/**
 * @file test_menu.c  DTMF keypad menu and PIN entry
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "ctrl/menu.h"


/* Feed keys 100 ms apart from t; the last event. */
static struct menu_event keys(struct menu *m, const char *k, uint64_t *t)
{
	struct menu_event e = {MENU_NONE, 0};

	for (; *k; k++) {
		e = menu_feed(m, *k, *t);
		*t += 100;
	}

	return e;
}


static void expect(struct menu *m, const char *k, uint64_t *t,
		   enum menu_action a, int value)
{
	struct menu_event e = keys(m, k, t);

	if (e.action != a || e.value != value)
		print_error("keys '%s': got %s/%d, want %s/%d\n", k,
			    menu_action_name(e.action), e.value,
			    menu_action_name(a), value);
	assert_int_equal(e.action, a);
	assert_int_equal(e.value, value);
}


static void test_default_keys(void **state)
{
	struct menu m;
	uint64_t t = 0;
	(void)state;

	menu_init(&m, NULL, 0, 0);

	expect(&m, "*", &t, MENU_NONE, 0);
	expect(&m, "6", &t, MENU_MUTE_TOGGLE, 0);
	expect(&m, "*6", &t, MENU_MUTE_TOGGLE, 0);
	expect(&m, "*4", &t, MENU_HEAR_GAIN, -3);
	expect(&m, "*7", &t, MENU_HEAR_GAIN, 3);
	expect(&m, "*1", &t, MENU_TALK_GAIN, -3);
	expect(&m, "*3", &t, MENU_TALK_GAIN, 3);
	expect(&m, "*0", &t, MENU_HELP, 0);
	/* moderator functions, as a participant */
	expect(&m, "*5", &t, MENU_DENIED, MENU_FN_LOCK);
	expect(&m, "*8", &t, MENU_DENIED, MENU_FN_MUTEALL);
}


static void test_moderator_keys(void **state)
{
	struct menu m;
	uint64_t t = 0;
	(void)state;

	menu_init(&m, NULL, 0, 0);
	menu_set_moderator(&m, true);
	expect(&m, "*5", &t, MENU_LOCK_TOGGLE, 0);
	expect(&m, "*8", &t, MENU_MUTEALL_TOGGLE, 0);
	expect(&m, "*6", &t, MENU_MUTE_TOGGLE, 0);
	menu_set_moderator(&m, false);
	expect(&m, "*5", &t, MENU_DENIED, MENU_FN_LOCK);
}


static void test_invalid_sequences(void **state)
{
	struct menu m;
	uint64_t t = 0;
	(void)state;

	menu_init(&m, NULL, 0, 0);

	expect(&m, "5", &t, MENU_INVALID, 0);
	expect(&m, "#", &t, MENU_INVALID, 0);
	expect(&m, "*", &t, MENU_NONE, 0);
	expect(&m, "9", &t, MENU_INVALID, 0);
	/* the failed sequence is gone: a lone 6 is nothing */
	expect(&m, "6", &t, MENU_INVALID, 0);
	/* a repeated star restarts the sequence */
	expect(&m, "**6", &t, MENU_MUTE_TOGGLE, 0);
	expect(&m, "***4", &t, MENU_HEAR_GAIN, -3);
	expect(&m, "*#", &t, MENU_INVALID, 0);
	expect(&m, "*7", &t, MENU_HEAR_GAIN, 3);
}


static void test_non_keys_ignored(void **state)
{
	struct menu m;
	uint64_t t = 0;
	(void)state;

	menu_init(&m, NULL, 0, 0);
	expect(&m, "*", &t, MENU_NONE, 0);
	expect(&m, "x", &t, MENU_NONE, 0);
	assert_int_equal(menu_feed(&m, 'E', t).action, MENU_NONE);
	assert_int_equal(menu_feed(&m, 0, t).action, MENU_NONE);
	expect(&m, "6", &t, MENU_MUTE_TOGGLE, 0);
	assert_int_equal(menu_feed(NULL, '6', 0).action, MENU_NONE);
}


static void test_inter_digit_timeout(void **state)
{
	struct menu m;
	struct menu_event e;
	(void)state;

	menu_init(&m, NULL, 0, 0);

	/* just inside the 3 s */
	assert_int_equal(menu_feed(&m, '*', 1000).action, MENU_NONE);
	assert_int_equal(menu_feed(&m, '6', 3999).action, MENU_MUTE_TOGGLE);

	/* just outside: the star is forgotten */
	assert_int_equal(menu_feed(&m, '*', 10000).action, MENU_NONE);
	assert_int_equal(menu_feed(&m, '6', 13000).action, MENU_INVALID);

	/* poll reports a sequence left standing, once */
	assert_int_equal(menu_feed(&m, '*', 20000).action, MENU_NONE);
	assert_int_equal(menu_poll(&m, 22999).action, MENU_NONE);
	e = menu_poll(&m, 23000);
	assert_int_equal(e.action, MENU_TIMEOUT);
	assert_int_equal(menu_poll(&m, 30000).action, MENU_NONE);
	assert_int_equal(menu_feed(&m, '6', 23001).action, MENU_INVALID);

	/* nothing pending: no timeout */
	assert_int_equal(menu_poll(&m, 99999).action, MENU_NONE);

	/* a clock that goes back does not expire anything */
	assert_int_equal(menu_feed(&m, '*', 50000).action, MENU_NONE);
	assert_int_equal(menu_poll(&m, 100).action, MENU_NONE);
	assert_int_equal(menu_feed(&m, '6', 100).action, MENU_MUTE_TOGGLE);
}


static void test_custom_timeout_and_step(void **state)
{
	struct menu m;
	(void)state;

	menu_init(&m, NULL, 500, 2);
	assert_int_equal(menu_feed(&m, '*', 0).action, MENU_NONE);
	assert_int_equal(menu_feed(&m, '7', 499).value, 2);
	assert_int_equal(menu_feed(&m, '*', 1000).action, MENU_NONE);
	assert_int_equal(menu_feed(&m, '7', 1500).action, MENU_INVALID);
}


static void test_keymap_parse(void **state)
{
	struct menu_keymap km, def;
	char r[MENU_REASON_SIZE];
	struct menu m;
	uint64_t t = 0;
	(void)state;

	menu_keymap_default(&def);
	km = def;
	assert_int_equal(menu_keymap_parse(&km, MENU_KEYS_DEFAULT, r,
					   sizeof(r)), 0);
	assert_memory_equal(&km, &def, sizeof(km));

	/* partial override, spaces, lower-case a-d not allowed in config */
	assert_int_equal(menu_keymap_parse(&km,
		" mute = #6 , help=0, lock=A, muteall=", r, sizeof(r)), 0);
	assert_string_equal(km.seq[MENU_FN_MUTE], "#6");
	assert_string_equal(km.seq[MENU_FN_HELP], "0");
	assert_string_equal(km.seq[MENU_FN_LOCK], "A");
	assert_string_equal(km.seq[MENU_FN_MUTEALL], "");
	assert_string_equal(km.seq[MENU_FN_HEAR_UP], "*7");

	menu_init(&m, &km, 0, 0);
	menu_set_moderator(&m, true);
	expect(&m, "#6", &t, MENU_MUTE_TOGGLE, 0);
	expect(&m, "*6", &t, MENU_INVALID, 0);
	expect(&m, "0", &t, MENU_HELP, 0);
	expect(&m, "a", &t, MENU_LOCK_TOGGLE, 0);
	expect(&m, "*8", &t, MENU_INVALID, 0);
	expect(&m, "*7", &t, MENU_HEAR_GAIN, 3);

	/* empty string: nothing changes */
	assert_int_equal(menu_keymap_parse(&km, "", r, sizeof(r)), 0);
	assert_string_equal(km.seq[MENU_FN_MUTE], "#6");
	/* a longer sequence */
	assert_int_equal(menu_keymap_parse(&km, "talk_up=*#99", r, sizeof(r)),
			 0);
	menu_init(&m, &km, 0, 0);
	expect(&m, "*#9", &t, MENU_NONE, 0);
	expect(&m, "9", &t, MENU_TALK_GAIN, 3);
}


static void keymap_reject(const char *s, const char *reason)
{
	struct menu_keymap km, before;
	char r[MENU_REASON_SIZE];

	menu_keymap_default(&km);
	before = km;
	assert_int_equal(menu_keymap_parse(&km, s, r, sizeof(r)), EINVAL);
	assert_string_equal(r, reason);
	assert_memory_equal(&km, &before, sizeof(km));
}


static void test_keymap_errors(void **state)
{
	(void)state;

	keymap_reject("volume=*9", "unknown menu function 'volume'");
	keymap_reject("mute", "menu item 'mute' has no '='");
	keymap_reject("mute=*x", "mute: 'x' is not a DTMF key");
	keymap_reject("mute=*a", "mute: 'a' is not a DTMF key");
	keymap_reject("mute=*1234", "mute: more than 4 keys");
	keymap_reject("mute=*9,mute=*6", "mute given twice");
	keymap_reject("mute=*4", "mute and hear_down both on '*4'");
	keymap_reject("hear_up=*12", "talk_down '*1' is a prefix of hear_up '*12'");
	keymap_reject("help=*", "help '*' is a prefix of mute '*6'");
	keymap_reject("mute=*6,,x=1", "unknown menu function 'x'");
	assert_int_equal(menu_keymap_parse(NULL, "", NULL, 0), EINVAL);
}


static void test_pin_ok(void **state)
{
	struct menu m;
	uint64_t t = 0;
	(void)state;

	menu_init(&m, NULL, 0, 0);
	assert_int_equal(menu_pin_start(&m, "4711", 0), 0);
	assert_true(menu_pin_active(&m));

	/* menu keys mean nothing while the PIN is asked for; '*' clears
	 * the entry, so what follows is a clean 4711 */
	expect(&m, "6*", &t, MENU_NONE, 0);
	expect(&m, "4711", &t, MENU_NONE, 0);
	expect(&m, "#", &t, MENU_PIN_OK, 0);
	assert_false(menu_pin_active(&m));

	/* then the menu works */
	expect(&m, "*6", &t, MENU_MUTE_TOGGLE, 0);
}


static void test_pin_three_tries_then_hangup(void **state)
{
	struct menu m;
	uint64_t t = 0;
	(void)state;

	menu_init(&m, NULL, 0, 0);
	assert_int_equal(menu_pin_start(&m, "4711", 0), 0);

	expect(&m, "471#", &t, MENU_PIN_BAD, 2);     /* prefix */
	expect(&m, "47111#", &t, MENU_PIN_BAD, 1);   /* longer */
	/* an empty entry costs no try */
	expect(&m, "#", &t, MENU_PIN_BAD, 1);
	expect(&m, "1147#", &t, MENU_HANGUP, 0);
	/* and stays hung up, even with the right PIN */
	expect(&m, "4711#", &t, MENU_HANGUP, 0);
	expect(&m, "*6", &t, MENU_HANGUP, 0);
	assert_true(menu_pin_active(&m));
}


static void test_pin_edge_cases(void **state)
{
	struct menu m;
	uint64_t t = 0;
	int i;
	(void)state;

	menu_init(&m, NULL, 0, 0);

	/* max length without '#': submitted at MENU_PIN_MAX keys */
	assert_int_equal(menu_pin_start(&m, "12", 5), 0);
	for (i = 0; i < MENU_PIN_MAX - 1; i++)
		assert_int_equal(menu_feed(&m, '1', t++).action, MENU_NONE);
	assert_int_equal(menu_feed(&m, '1', t++).action, MENU_PIN_BAD);

	/* a stale half entry is dropped, not submitted */
	t = 100000;
	expect(&m, "9", &t, MENU_NONE, 0);
	assert_int_equal(menu_poll(&m, t + 3000).action, MENU_TIMEOUT);
	t += 10000;
	expect(&m, "9", &t, MENU_NONE, 0);
	t += 10000;
	expect(&m, "12#", &t, MENU_PIN_OK, 0);

	/* A-D are PIN keys; lower case is accepted when fed */
	assert_int_equal(menu_pin_start(&m, "A1D", 0), 0);
	expect(&m, "a1d#", &t, MENU_PIN_OK, 0);

	/* a full-length PIN */
	assert_int_equal(menu_pin_start(&m, "1234567890123456", 0), 0);
	expect(&m, "1234567890123456", &t, MENU_PIN_OK, 0);

	assert_int_equal(menu_pin_start(&m, "", 0), EINVAL);
	assert_int_equal(menu_pin_start(&m, "12345678901234567", 0), EINVAL);
	assert_int_equal(menu_pin_start(&m, "12*4", 0), EINVAL);
	assert_int_equal(menu_pin_start(&m, "12#", 0), EINVAL);
	assert_int_equal(menu_pin_start(&m, NULL, 0), EINVAL);
	assert_false(menu_pin_active(&m));
}


static void test_keymap_string_round_trip(void **state)
{
	struct menu_keymap km, back;
	char r[MENU_REASON_SIZE], buf[256], tiny[16];
	(void)state;

	menu_keymap_default(&km);
	assert_int_equal(menu_keymap_str(buf, sizeof(buf), &km),
			 (int)strlen(MENU_KEYS_DEFAULT));
	assert_string_equal(buf, MENU_KEYS_DEFAULT);

	assert_int_equal(menu_keymap_parse(&km, "mute=#1,muteall=,help=D",
					   r, sizeof(r)), 0);
	assert_true(menu_keymap_str(buf, sizeof(buf), &km) > 0);
	assert_string_equal(buf, "mute=#1,hear_down=*4,hear_up=*7,"
			    "talk_down=*1,talk_up=*3,lock=*5,muteall=,help=D");
	menu_keymap_default(&back);
	assert_int_equal(menu_keymap_parse(&back, buf, r, sizeof(r)), 0);
	assert_memory_equal(&back, &km, sizeof(km));

	assert_int_equal(menu_keymap_str(tiny, sizeof(tiny), &km), -1);
	assert_string_equal(tiny, "");
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_keys),
		cmocka_unit_test(test_moderator_keys),
		cmocka_unit_test(test_invalid_sequences),
		cmocka_unit_test(test_non_keys_ignored),
		cmocka_unit_test(test_inter_digit_timeout),
		cmocka_unit_test(test_custom_timeout_and_step),
		cmocka_unit_test(test_keymap_parse),
		cmocka_unit_test(test_keymap_errors),
		cmocka_unit_test(test_keymap_string_round_trip),
		cmocka_unit_test(test_pin_ok),
		cmocka_unit_test(test_pin_three_tries_then_hangup),
		cmocka_unit_test(test_pin_edge_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
