/**
 * @file test_control.c  room/control: permission rule, targets, the
 * status codes of control_apply, keypad menu actions and the observer
 * events they cause; leg_move bookkeeping.
 *
 * Real cfg (temporary directory), signalling-only registry (no media
 * engine): control keeps its own state and the observer sees changes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>

#include "ctrl/log.h"
#include "cfg/cfg.h"
#include "ctrl/command.h"
#include "room/room.h"
#include "room/control.h"
#include "testutil.h"

struct fixture {
	char dir[64];
	struct cfg *cfg;
	struct registry *reg;
	struct control *ctl;
	struct room *room;
	struct leg *mod, *bob, *carol;
	unsigned changed, joined, left, freed, room_changes, kicks;
	uint32_t kicked;
};


static void observer(struct leg *leg, enum registry_leg_ev ev, void *arg)
{
	struct fixture *f = arg;
	(void)leg;

	switch (ev) {
	case REGISTRY_LEG_JOINED:  ++f->joined;  break;
	case REGISTRY_LEG_LEFT:    ++f->left;    break;
	case REGISTRY_LEG_CHANGED: ++f->changed; break;
	case REGISTRY_LEG_MEDIA:   break;
	case REGISTRY_LEG_FREE:
		++f->freed;
		control_leg_free(f->ctl, leg);
		break;
	}
}


static void kick_h(struct leg *leg, const char *why, void *arg)
{
	struct fixture *f = arg;
	(void)why;

	++f->kicks;
	f->kicked = leg_id(leg);
}


static void room_h(struct room *room, void *arg)
{
	struct fixture *f = arg;
	(void)room;

	++f->room_changes;
}


static struct leg *join(struct fixture *f, const char *uri)
{
	struct leg *leg = NULL;

	assert_int_equal(leg_alloc(&leg, f->room, uri, NULL), 0);
	leg_set_state(leg, LEG_PROCEEDING);
	leg_set_state(leg, LEG_ESTABLISHED);

	return leg;
}


static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;

	snprintf(f->dir, sizeof(f->dir), "/tmp/chorus-test-ctl-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;

	log_set_level(LOG_LVL_ERROR);
	tu_write_file(f->dir, "chorus.conf", "");
	tu_write_file(f->dir, "rooms.conf",
		      "room 1000 max=10\n"
		      "room 2000 max=1\n"
		      "room 3000 pin=1234\n"
		      "auto_create off\n");

	if (cfg_load(&f->cfg, f->dir) ||
	    registry_alloc(&f->reg, f->cfg, NULL) ||
	    control_alloc(&f->ctl, NULL, NULL))
		return -1;

	registry_set_observer(f->reg, observer, f);
	control_set_handlers(f->ctl, kick_h, room_h, NULL, f);

	if (registry_room_get(f->reg, "1000", &f->room))
		return -1;

	f->mod = join(f, "sip:mod@example.org");
	leg_set_role(f->mod, LEG_MODERATOR);
	f->bob = join(f, "\"Bob\" <sip:bob@example.org;transport=tcp>");
	f->carol = join(f, "sip:carol@example.org:5070");

	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_deref(f->carol);
	mem_deref(f->bob);
	mem_deref(f->mod);
	mem_deref(f->ctl);
	mem_deref(f->reg);
	mem_deref(f->cfg);

	tu_conf_dir_remove(f->dir);
	free(f);

	return 0;
}


static uint16_t apply_json(struct fixture *f, struct leg *from,
			   const char *json, char *reason, size_t rsz)
{
	struct ctrl_cmd cmd;
	struct ctrl_result res;

	assert_int_equal(ctrl_cmd_parse(&cmd, &res, json, strlen(json)), 0);

	return control_apply(f->ctl, from, &cmd, reason, rsz);
}


static uint16_t apply(struct fixture *f, struct leg *from, const char *json)
{
	char reason[CTRL_REASON_SIZE];

	return apply_json(f, from, json, reason, sizeof(reason));
}


/* ---- the rule alone ---------------------------------------------------- */

static void test_permission_rule(void **state)
{
	struct ctrl_cmd cmd;
	(void)state;

	memset(&cmd, 0, sizeof(cmd));

	const enum ctrl_op own[] = {CTRL_OP_MUTE, CTRL_OP_UNMUTE, CTRL_OP_DEAF,
				    CTRL_OP_UNDEAF, CTRL_OP_GAIN,
				    CTRL_OP_KICK};
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		cmd.op = own[i];
		assert_true(control_permitted(LEG_PARTICIPANT, &cmd, false));
		assert_false(control_permitted(LEG_PARTICIPANT, &cmd, true));
		assert_true(control_permitted(LEG_MODERATOR, &cmd, true));
		assert_true(control_permitted(LEG_MODERATOR, &cmd, false));
	}

	cmd.op = CTRL_OP_LOCK;
	assert_false(control_permitted(LEG_PARTICIPANT, &cmd, false));
	assert_true(control_permitted(LEG_MODERATOR, &cmd, false));
	cmd.op = CTRL_OP_UNLOCK;
	assert_false(control_permitted(LEG_PARTICIPANT, &cmd, true));

	cmd.op = CTRL_OP_ROLE;
	cmd.role = CTRL_ROLE_MODERATOR;
	assert_false(control_permitted(LEG_PARTICIPANT, &cmd, false));
	assert_true(control_permitted(LEG_MODERATOR, &cmd, true));
	cmd.role = CTRL_ROLE_PARTICIPANT;
	assert_true(control_permitted(LEG_PARTICIPANT, &cmd, false));
	assert_false(control_permitted(LEG_PARTICIPANT, &cmd, true));

	assert_false(control_permitted(LEG_MODERATOR, NULL, false));
}


static void test_uri_match(void **state)
{
	(void)state;

	assert_true(control_uri_match("sip:bob@example.org",
				      "\"Bob\" <sip:bob@EXAMPLE.org;x=1>"));
	assert_true(control_uri_match("sip:bob@example.org",
				      "sip:bob@example.org:5070"));
	assert_false(control_uri_match("sip:bob@example.org:5071",
				       "sip:bob@example.org:5070"));
	assert_false(control_uri_match("sip:Bob@example.org",
				       "sip:bob@example.org"));
	assert_false(control_uri_match("sip:bob@example.com",
				       "sip:bob@example.org"));
	assert_false(control_uri_match("garbage", "sip:bob@example.org"));
	assert_false(control_uri_match(NULL, "sip:bob@example.org"));
}


/* ---- control_apply ------------------------------------------------------ */

static void test_self_mute_by_participant(void **state)
{
	struct fixture *f = *state;
	unsigned c0 = f->changed;

	assert_int_equal(apply(f, f->bob, "{\"cmd\":\"mute\",\"target\":\"self\"}"),
			 200);
	assert_true(control_state(f->ctl, f->bob).muted);
	assert_false(control_state(f->ctl, f->carol).muted);
	assert_int_equal(f->changed, c0 + 1);

	/* the same again changes nothing: no roster event */
	assert_int_equal(apply(f, f->bob, "{\"cmd\":\"mute\",\"target\":\"self\"}"),
			 200);
	assert_int_equal(f->changed, c0 + 1);

	assert_int_equal(apply(f, f->bob,
			       "{\"cmd\":\"unmute\",\"target\":\"self\"}"), 200);
	assert_false(control_state(f->ctl, f->bob).muted);
}


static void test_participant_forbidden_on_others(void **state)
{
	struct fixture *f = *state;
	char reason[CTRL_REASON_SIZE];
	unsigned c0 = f->changed;

	assert_int_equal(apply_json(f, f->bob, "{\"cmd\":\"mute\","
				    "\"target\":\"sip:carol@example.org\"}",
				    reason, sizeof(reason)), 403);
	assert_non_null(strstr(reason, "moderator"));
	assert_int_equal(apply(f, f->bob, "{\"cmd\":\"mute\",\"target\":\"all\"}"),
			 403);
	assert_int_equal(apply(f, f->bob, "{\"cmd\":\"kick\","
			       "\"target\":\"sip:mod@example.org\"}"), 403);
	assert_int_equal(apply(f, f->bob, "{\"cmd\":\"lock\"}"), 403);
	assert_int_equal(apply(f, f->bob, "{\"cmd\":\"role\",\"target\":\"self\","
			       "\"role\":\"moderator\"}"), 403);

	/* nothing changed */
	assert_int_equal(f->changed, c0);
	assert_false(control_state(f->ctl, f->carol).muted);
	assert_false(room_locked(f->room));
	assert_int_equal(leg_role(f->bob), LEG_PARTICIPANT);
	assert_int_equal(f->kicks, 0);
}


static void test_moderator_targets(void **state)
{
	struct fixture *f = *state;
	char json[128], reason[CTRL_REASON_SIZE];

	assert_int_equal(apply(f, f->mod, "{\"cmd\":\"mute\",\"target\":\"all\"}"),
			 200);
	assert_true(control_state(f->ctl, f->bob).muted);
	assert_true(control_state(f->ctl, f->carol).muted);
	assert_false(control_state(f->ctl, f->mod).muted);

	/* by URI: port in the target must match, none in it matches any */
	assert_int_equal(apply(f, f->mod, "{\"cmd\":\"unmute\","
			       "\"target\":\"sip:carol@example.org\"}"), 200);
	assert_false(control_state(f->ctl, f->carol).muted);

	/* by roster id, as a number and as a string */
	snprintf(json, sizeof(json), "{\"cmd\":\"deaf\",\"target\":%u}",
		 leg_id(f->bob));
	assert_int_equal(apply(f, f->mod, json), 200);
	assert_true(control_state(f->ctl, f->bob).deaf);
	snprintf(json, sizeof(json), "{\"cmd\":\"undeaf\",\"target\":\"%u\"}",
		 leg_id(f->bob));
	assert_int_equal(apply(f, f->mod, json), 200);
	assert_false(control_state(f->ctl, f->bob).deaf);

	/* unknown targets */
	assert_int_equal(apply_json(f, f->mod, "{\"cmd\":\"mute\","
				    "\"target\":\"sip:nobody@example.org\"}",
				    reason, sizeof(reason)), 404);
	assert_non_null(strstr(reason, "nobody"));
	assert_int_equal(apply(f, f->mod,
			       "{\"cmd\":\"mute\",\"target\":99999}"), 404);
}


static void test_target_in_another_room_is_404(void **state)
{
	struct fixture *f = *state;
	struct room *other = NULL;
	struct leg *x = NULL;
	char json[96];

	assert_int_equal(registry_room_get(f->reg, "2000", &other), 0);
	assert_int_equal(leg_alloc(&x, other, "sip:x@example.org", NULL), 0);
	leg_set_state(x, LEG_ESTABLISHED);

	snprintf(json, sizeof(json), "{\"cmd\":\"mute\",\"target\":%u}",
		 leg_id(x));
	assert_int_equal(apply(f, f->mod, json), 404);
	assert_false(control_state(f->ctl, x).muted);

	mem_deref(x);
}


static void test_gain_clamped_and_rounded(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(apply(f, f->bob, "{\"cmd\":\"gain\",\"target\":\"self\","
			       "\"in_db\":-6.4,\"out_db\":11.6}"), 200);
	assert_int_equal(control_state(f->ctl, f->bob).gain_in, -6);
	assert_int_equal(control_state(f->ctl, f->bob).gain_out, 12);
}


static void test_lock_role_kick(void **state)
{
	struct fixture *f = *state;
	unsigned r0 = f->room_changes;

	assert_int_equal(apply(f, f->mod, "{\"cmd\":\"lock\"}"), 200);
	assert_true(room_locked(f->room));
	assert_int_equal(f->room_changes, r0 + 1);
	assert_int_equal(apply(f, f->mod, "{\"cmd\":\"unlock\"}"), 200);
	assert_false(room_locked(f->room));

	assert_int_equal(apply(f, f->mod, "{\"cmd\":\"role\","
			       "\"target\":\"sip:bob@example.org\","
			       "\"role\":\"moderator\"}"), 200);
	assert_int_equal(leg_role(f->bob), LEG_MODERATOR);
	/* bob may now act on carol, and step down himself */
	assert_int_equal(apply(f, f->bob, "{\"cmd\":\"kick\","
			       "\"target\":\"sip:carol@example.org\"}"), 200);
	assert_int_equal(f->kicks, 1);
	assert_int_equal(f->kicked, leg_id(f->carol));
	assert_int_equal(apply(f, f->bob, "{\"cmd\":\"role\",\"target\":\"self\","
			       "\"role\":\"participant\"}"), 200);
	assert_int_equal(leg_role(f->bob), LEG_PARTICIPANT);

	/* a participant may leave by kicking itself */
	assert_int_equal(apply(f, f->bob, "{\"cmd\":\"kick\",\"target\":\"self\"}"),
			 200);
	assert_int_equal(f->kicked, leg_id(f->bob));
}


/* ---- keypad ---------------------------------------------------------------- */

static void keys(struct fixture *f, struct leg *leg, const char *s)
{
	for (; *s; s++)
		control_key(f->ctl, leg, *s);
}


static void test_keypad(void **state)
{
	struct fixture *f = *state;

	keys(f, f->bob, "*6");
	assert_true(control_state(f->ctl, f->bob).muted);
	keys(f, f->bob, "*6");
	assert_false(control_state(f->ctl, f->bob).muted);

	keys(f, f->bob, "*4*4");
	assert_int_equal(control_state(f->ctl, f->bob).gain_out, -6);
	keys(f, f->bob, "*3");
	assert_int_equal(control_state(f->ctl, f->bob).gain_in, 3);

	/* moderator functions are denied to participants */
	keys(f, f->bob, "*5");
	assert_false(room_locked(f->room));
	keys(f, f->bob, "*8");
	assert_false(control_state(f->ctl, f->carol).muted);

	keys(f, f->mod, "*5");
	assert_true(room_locked(f->room));
	keys(f, f->mod, "*5");
	assert_false(room_locked(f->room));

	/* *8 mutes all others; when all are muted it unmutes them */
	keys(f, f->mod, "*8");
	assert_true(control_state(f->ctl, f->bob).muted);
	assert_true(control_state(f->ctl, f->carol).muted);
	assert_false(control_state(f->ctl, f->mod).muted);
	keys(f, f->mod, "*8");
	assert_false(control_state(f->ctl, f->bob).muted);
	assert_false(control_state(f->ctl, f->carol).muted);

	/* gains stop at the limits */
	keys(f, f->carol, "*7*7*7*7*7*7*7*7");
	assert_int_equal(control_state(f->ctl, f->carol).gain_out, 12);
}


/* ---- observer and move ----------------------------------------------------- */

static void test_observer_and_state_freed(void **state)
{
	struct fixture *f = *state;
	unsigned l0 = f->left, fr0 = f->freed;

	assert_int_equal(f->joined, 3);
	assert_int_equal(apply(f, f->mod, "{\"cmd\":\"mute\","
			       "\"target\":\"sip:carol@example.org\"}"), 200);
	assert_true(control_state(f->ctl, f->carol).muted);

	leg_set_state(f->carol, LEG_CLOSING);
	assert_int_equal(f->left, l0 + 1);
	f->carol = mem_deref(f->carol);
	assert_int_equal(f->left, l0 + 1);     /* not twice */
	assert_int_equal(f->freed, fr0 + 1);
}


static void test_leg_move(void **state)
{
	struct fixture *f = *state;
	struct room *small = NULL, *pin = NULL, *r1000 = f->room;
	struct leg *y = NULL;
	unsigned j0 = f->joined, l0 = f->left;

	assert_int_equal(registry_room_get(f->reg, "2000", &small), 0);

	assert_int_equal(leg_move(f->bob, r1000), EALREADY);
	assert_int_equal(leg_move(f->bob, small), 0);
	assert_ptr_equal(leg_room(f->bob), small);
	assert_int_equal(room_leg_count(small), 1);
	assert_int_equal(room_leg_count(r1000), 2);
	assert_int_equal(f->left, l0 + 1);
	assert_int_equal(f->joined, j0 + 1);

	/* full (max=1) and locked */
	assert_int_equal(leg_move(f->carol, small), ENOSPC);
	assert_ptr_equal(leg_room(f->carol), r1000);
	assert_int_equal(registry_room_get(f->reg, "3000", &pin), 0);
	assert_int_equal(leg_alloc(&y, pin, "sip:y@example.org", NULL), 0);
	room_set_locked(pin, true);
	assert_int_equal(leg_move(f->carol, pin), EPERM);
	room_set_locked(pin, false);
	assert_int_equal(leg_move(f->carol, pin), 0);
	mem_deref(y);
}


#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_permission_rule),
		cmocka_unit_test(test_uri_match),
		T(test_self_mute_by_participant),
		T(test_participant_forbidden_on_others),
		T(test_moderator_targets),
		T(test_target_in_another_room_is_404),
		T(test_gain_clamped_and_rounded),
		T(test_lock_role_kick),
		T(test_keypad),
		T(test_observer_and_state_freed),
		T(test_leg_move),
	};

	return cmocka_run_group_tests(tests, tu_libre_init, tu_libre_close);
}
