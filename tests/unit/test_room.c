/**
 * @file test_room.c  Room registry, rooms and legs (signalling side).
 *
 * Real cfg (written to a temporary directory) and a registry without a
 * media engine (signalling-only mode).
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
#include "room/room.h"
#include "media/media.h"
#include "testutil.h"

enum { LOOP_BOUND_MS = 3000 };

struct fixture {
	char dir[64];
	struct cfg *cfg;
	struct registry *reg;
};

static const char *rooms_default =
	"room 1000 name=\"Main room\" max=3\n"
	"room 2000 max=2 pin=1234\n"
	"room 3000 pin=1111 modpin=9999 mod=sip:chair@example.com "
	"mod=sips:vice@Example.org:5061\n"
	"auto_create dddd\n"
	"auto_max_legs 2\n";


static void reload(struct fixture *f, const char *rooms)
{
	tu_write_file(f->dir, "rooms.conf", rooms);
	assert_int_equal(cfg_reload_rooms(f->cfg), 0);
	assert_int_equal(registry_reload(f->reg), 0);
}


static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;

	snprintf(f->dir, sizeof(f->dir), "/tmp/chorus-test-room-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;

	/* quiet: info lines about rooms are not what we check */
	log_set_level(LOG_LVL_ERROR);

	tu_write_file(f->dir, "chorus.conf", "");
	tu_write_file(f->dir, "rooms.conf", rooms_default);

	if (cfg_load(&f->cfg, f->dir))
		return -1;
	if (registry_alloc(&f->reg, f->cfg, NULL))
		return -1;

	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_deref(f->reg);
	mem_deref(f->cfg);

	tu_conf_dir_remove(f->dir);
	free(f);

	return 0;
}


static void test_static_room_created_on_demand_once(void **state)
{
	struct fixture *f = *state;
	struct room *r1 = NULL, *r2 = NULL;

	assert_null(registry_room_find(f->reg, "1000"));
	assert_int_equal(registry_room_count(f->reg), 0);

	assert_int_equal(registry_room_get(f->reg, "1000", &r1), 0);
	assert_non_null(r1);
	assert_string_equal(room_number(r1), "1000");
	assert_string_equal(room_cfg(r1)->name, "Main room");
	assert_int_equal(room_cfg(r1)->max_legs, 3);
	assert_false(room_auto(r1));
	assert_true(room_id(r1) != 0);

	assert_int_equal(registry_room_get(f->reg, "1000", &r2), 0);
	assert_ptr_equal(r1, r2);
	assert_ptr_equal(registry_room_find(f->reg, "1000"), r1);
	assert_ptr_equal(registry_room_by_id(f->reg, room_id(r1)), r1);
	assert_int_equal(registry_room_count(f->reg), 1);
}


static void test_unknown_number_is_enoent(void **state)
{
	struct fixture *f = *state;
	struct room *room = NULL;

	/* not listed and not 4 digits */
	assert_int_equal(registry_room_get(f->reg, "123", &room), ENOENT);
	assert_int_equal(registry_room_get(f->reg, "12345", &room), ENOENT);
	assert_int_equal(registry_room_get(f->reg, "12a4", &room), ENOENT);
	assert_null(room);
	assert_int_equal(registry_room_count(f->reg), 0);
}


static void test_auto_room_has_auto_settings(void **state)
{
	struct fixture *f = *state;
	struct room *a = NULL, *b = NULL;

	assert_int_equal(registry_room_get(f->reg, "4321", &a), 0);
	assert_true(room_auto(a));
	assert_int_equal(room_cfg(a)->max_legs, 2);
	assert_string_equal(room_cfg(a)->pin, "");

	assert_int_equal(registry_room_get(f->reg, "4322", &b), 0);
	assert_true(room_id(a) != room_id(b));
	assert_int_equal(registry_room_count(f->reg), 2);
}


static void test_full_room_refuses_with_enospc(void **state)
{
	struct fixture *f = *state;
	struct leg *legs[3] = {NULL}, *extra = NULL;
	struct room *room = NULL;

	assert_int_equal(registry_room_get(f->reg, "1000", &room), 0);

	for (int i = 0; i < 3; i++) {
		char uri[32];
		snprintf(uri, sizeof(uri), "sip:user%d@example.com", i);
		assert_false(room_full(room));
		assert_int_equal(leg_alloc(&legs[i], room, uri, NULL), 0);
		assert_int_equal(room_leg_count(room), i + 1);
	}

	assert_true(room_full(room));
	assert_int_equal(leg_alloc(&extra, room, "sip:late@example.com",
				   NULL), ENOSPC);
	assert_null(extra);
	assert_int_equal(room_leg_count(room), 3);
	assert_int_equal(registry_leg_count(f->reg), 3);

	/* one leaves: one more gets in */
	legs[1] = mem_deref(legs[1]);
	assert_false(room_full(room));
	assert_int_equal(leg_alloc(&extra, room, "sip:late@example.com",
				   "Late"), 0);
	assert_string_equal(leg_display_name(extra), "Late");

	/* join order kept in room_legs() */
	assert_ptr_equal(list_head(room_legs(room))->data, legs[0]);
	assert_ptr_equal(list_tail(room_legs(room))->data, extra);

	mem_deref(legs[0]);
	mem_deref(legs[2]);
	mem_deref(extra);
}


static void test_locked_room_refuses_with_eperm(void **state)
{
	struct fixture *f = *state;
	struct leg *l1 = NULL, *l2 = NULL;
	struct room *room = NULL;

	assert_int_equal(registry_room_get(f->reg, "1000", &room), 0);
	assert_int_equal(leg_alloc(&l1, room, "sip:a@example.com", NULL), 0);

	room_set_locked(room, true);
	assert_true(room_locked(room));
	assert_int_equal(leg_alloc(&l2, room, "sip:b@example.com", NULL),
			 EPERM);
	assert_null(l2);
	assert_int_equal(room_leg_count(room), 1);

	room_set_locked(room, false);
	assert_int_equal(leg_alloc(&l2, room, "sip:b@example.com", NULL), 0);

	mem_deref(l1);
	mem_deref(l2);
}


static void test_auto_room_removed_when_last_leg_leaves(void **state)
{
	struct fixture *f = *state;
	struct leg *l1 = NULL, *l2 = NULL;
	struct room *room = NULL, *again = NULL;
	uint32_t id;

	assert_int_equal(registry_room_get(f->reg, "5555", &room), 0);
	id = room_id(room);
	assert_int_equal(leg_alloc(&l1, room, "sip:a@example.com", NULL), 0);
	assert_int_equal(leg_alloc(&l2, room, "sip:b@example.com", NULL), 0);

	mem_deref(l1);
	assert_ptr_equal(registry_room_find(f->reg, "5555"), room);

	/* the room object lives while l2 holds it */
	assert_ptr_equal(leg_room(l2), room);
	mem_deref(l2);
	assert_null(registry_room_find(f->reg, "5555"));
	assert_null(registry_room_by_id(f->reg, id));
	assert_int_equal(registry_room_count(f->reg), 0);
	assert_int_equal(registry_leg_count(f->reg), 0);

	/* dialling it again sets up a new room with a new id */
	assert_int_equal(registry_room_get(f->reg, "5555", &again), 0);
	assert_true(room_id(again) != id);
}


static void test_static_room_removed_when_empty_keeps_settings(void **state)
{
	struct fixture *f = *state;
	struct room *room = NULL;
	struct leg *leg = NULL;

	assert_int_equal(registry_room_get(f->reg, "2000", &room), 0);
	assert_int_equal(leg_alloc(&leg, room, "sip:a@example.com", NULL), 0);
	room_set_locked(room, true);
	mem_deref(leg);

	/* documented choice: every room goes when empty; its state resets */
	assert_null(registry_room_find(f->reg, "2000"));
	assert_int_equal(registry_room_get(f->reg, "2000", &room), 0);
	assert_false(room_locked(room));
	assert_string_equal(room_cfg(room)->pin, "1234");
	assert_int_equal(room_cfg(room)->max_legs, 2);
}


static void test_leg_ids_unique_and_found(void **state)
{
	struct fixture *f = *state;
	struct room *a = NULL, *b = NULL;
	struct leg *legs[4] = {NULL};

	assert_int_equal(registry_room_get(f->reg, "1000", &a), 0);
	assert_int_equal(registry_room_get(f->reg, "7777", &b), 0);

	for (int i = 0; i < 4; i++) {
		assert_int_equal(leg_alloc(&legs[i], i < 2 ? a : b,
					   "sip:x@example.com", NULL), 0);
		assert_true(leg_id(legs[i]) != 0);
		for (int j = 0; j < i; j++)
			assert_true(leg_id(legs[i]) != leg_id(legs[j]));
	}

	for (int i = 0; i < 4; i++) {
		assert_ptr_equal(registry_leg_by_id(f->reg, leg_id(legs[i])),
				 legs[i]);
		assert_ptr_equal(leg_room(legs[i]), i < 2 ? a : b);
		assert_int_equal(leg_state(legs[i]), LEG_NEW);
		assert_int_equal(leg_role(legs[i]), LEG_PARTICIPANT);
	}

	leg_set_state(legs[0], LEG_ESTABLISHED);
	leg_set_role(legs[0], LEG_MODERATOR);
	leg_set_udata(legs[0], f);
	assert_int_equal(leg_state(legs[0]), LEG_ESTABLISHED);
	assert_int_equal(leg_role(legs[0]), LEG_MODERATOR);
	assert_ptr_equal(leg_udata(legs[0]), f);
	assert_string_equal(leg_remote_uri(legs[0]), "sip:x@example.com");

	{
		uint32_t gone = leg_id(legs[3]);
		mem_deref(legs[3]);
		assert_null(registry_leg_by_id(f->reg, gone));
	}

	for (int i = 0; i < 3; i++)
		mem_deref(legs[i]);
}


static void test_reload_keeps_live_legs_and_applies_limits(void **state)
{
	struct fixture *f = *state;
	struct leg *l[3] = {NULL}, *extra = NULL;
	struct room *room = NULL, *r3 = NULL;

	assert_int_equal(registry_room_get(f->reg, "1000", &room), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(leg_alloc(&l[i], room, "sip:a@example.com",
					   NULL), 0);

	/* lower max and add a PIN: nobody dropped, nobody new gets in */
	reload(f, "room 1000 name=\"Renamed\" max=1 pin=99\n"
		  "room 3000 max=4\nauto_create dddd\n");
	assert_ptr_equal(registry_room_find(f->reg, "1000"), room);
	assert_int_equal(room_leg_count(room), 3);
	assert_int_equal(room_cfg(room)->max_legs, 1);
	assert_string_equal(room_cfg(room)->pin, "99");
	assert_string_equal(room_cfg(room)->name, "Renamed");
	assert_true(room_full(room));
	assert_int_equal(leg_alloc(&extra, room, "sip:b@example.com", NULL),
			 ENOSPC);

	/* a new static room is there at once */
	assert_int_equal(registry_room_get(f->reg, "3000", &r3), 0);
	assert_false(room_auto(r3));
	assert_int_equal(room_cfg(r3)->max_legs, 4);

	/* remove 1000 from the file, auto off: it lives on its legs */
	reload(f, "room 3000 max=4\nauto_create off\n");
	assert_ptr_equal(registry_room_find(f->reg, "1000"), room);
	assert_int_equal(room_leg_count(room), 3);
	assert_int_equal(registry_room_get(f->reg, "1000", &r3), ENOENT);
	assert_int_equal(leg_alloc(&extra, room, "sip:b@example.com", NULL),
			 ENOENT);

	/* the empty room 3000 stays (listed); nothing else was set up */
	assert_non_null(registry_room_find(f->reg, "3000"));

	mem_deref(l[0]);
	mem_deref(l[1]);
	assert_non_null(registry_room_find(f->reg, "1000"));
	mem_deref(l[2]);
	assert_null(registry_room_find(f->reg, "1000"));
}


static void test_reload_turns_auto_room_static_and_back(void **state)
{
	struct fixture *f = *state;
	struct room *room = NULL;
	struct leg *leg = NULL;

	assert_int_equal(registry_room_get(f->reg, "4444", &room), 0);
	assert_true(room_auto(room));
	assert_int_equal(leg_alloc(&leg, room, "sip:a@example.com", NULL), 0);

	reload(f, "room 4444 name=Now max=9\nauto_create dddd\n"
		  "auto_max_legs 2\n");
	assert_false(room_auto(room));
	assert_int_equal(room_cfg(room)->max_legs, 9);
	assert_string_equal(room_cfg(room)->name, "Now");

	reload(f, "auto_create dddd\nauto_max_legs 5\n");
	assert_true(room_auto(room));
	assert_int_equal(room_cfg(room)->max_legs, 5);

	mem_deref(leg);
}


static void test_reload_removes_empty_unlisted_room(void **state)
{
	struct fixture *f = *state;
	struct room *room = NULL;

	assert_int_equal(registry_room_get(f->reg, "2000", &room), 0);
	reload(f, "room 1000\nauto_create off\n");
	assert_null(registry_room_find(f->reg, "2000"));
	assert_int_equal(registry_room_count(f->reg), 0);
}


static void free_leg(struct leg *leg, void *arg)
{
	unsigned *n = arg;

	(*n)++;
	mem_deref(leg);
}


static void test_leg_apply_may_free_every_leg(void **state)
{
	struct fixture *f = *state;
	struct room *a = NULL, *b = NULL;
	struct leg *leg;
	unsigned n = 0;

	assert_int_equal(registry_room_get(f->reg, "1000", &a), 0);
	assert_int_equal(registry_room_get(f->reg, "6000", &b), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(leg_alloc(&leg, a, "sip:a@x", NULL), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(leg_alloc(&leg, b, "sip:b@x", NULL), 0);
	assert_int_equal(registry_leg_count(f->reg), 5);

	/* like SIGTERM: the handler ends every call, emptying the rooms */
	registry_leg_apply(f->reg, free_leg, &n);
	assert_int_equal(n, 5);
	assert_int_equal(registry_leg_count(f->reg), 0);
	assert_int_equal(registry_room_count(f->reg), 0);
}


static void test_media_events_update_legs(void **state)
{
	struct fixture *f = *state;
	struct media_event ev;
	struct room *room = NULL;
	struct leg *leg = NULL;

	assert_int_equal(registry_room_get(f->reg, "1000", &room), 0);
	assert_int_equal(leg_alloc(&leg, room, "sip:a@x", NULL), 0);
	assert_false(leg_talking(leg));

	memset(&ev, 0, sizeof(ev));
	ev.type = MEDIA_EV_TALKING;
	ev.room_id = room_id(room);
	ev.leg_id = leg_id(leg);
	ev.value = 1;
	registry_media_event(f->reg, &ev);
	assert_true(leg_talking(leg));

	ev.value = 0;
	registry_media_event(f->reg, &ev);
	assert_false(leg_talking(leg));

	/* events for legs that are gone are ignored */
	ev.leg_id = leg_id(leg) + 1000;
	ev.value = 1;
	registry_media_event(f->reg, &ev);
	assert_false(leg_talking(leg));

	mem_deref(leg);
}


static void test_legs_outliving_registry_are_safe(void **state)
{
	struct fixture *f = *state;
	struct room *room = NULL;
	struct leg *leg = NULL;

	assert_int_equal(registry_room_get(f->reg, "1000", &room), 0);
	assert_int_equal(leg_alloc(&leg, room, "sip:a@x", NULL), 0);

	/* teardown in the wrong order must not touch freed memory */
	f->reg = mem_deref(f->reg);
	assert_ptr_equal(leg_room(leg), room);
	assert_string_equal(room_number(room), "1000");
	mem_deref(leg);
}


static void test_media_flag(void **state)
{
	struct fixture *f = *state;
	struct room *room = NULL;
	struct leg *leg = NULL;

	assert_int_equal(registry_room_get(f->reg, "1000", &room), 0);
	assert_int_equal(leg_alloc(&leg, room, "sip:a@x", NULL), 0);
	assert_false(leg_media(leg));
	leg_set_media(leg, true);
	assert_true(leg_media(leg));
	/* no engine: the destructor must not try to remove media */
	mem_deref(leg);
}


static void loop_bound(void *arg)
{
	bool *expired = arg;

	*expired = true;
	re_cancel();
}


/* run the libre loop until re_cancel() or LOOP_BOUND_MS */
static bool run_loop(void)
{
	struct tmr tmr;
	bool expired = false;

	tmr_init(&tmr);
	tmr_start(&tmr, LOOP_BOUND_MS, loop_bound, &expired);
	(void)re_main(NULL);
	tmr_cancel(&tmr);

	return !expired;
}


static void stop_loop(void *arg)
{
	(void)arg;
	re_cancel();
}


static void test_room_nobody_joins_is_removed_by_timer(void **state)
{
	struct fixture *f = *state;
	struct room *idle = NULL, *used = NULL;
	struct leg *leg = NULL;
	struct tmr tmr;

	registry_set_idle_timeout(f->reg, 50);

	/* e.g. the INVITE was rejected after the room was looked up */
	assert_int_equal(registry_room_get(f->reg, "1000", &idle), 0);
	assert_int_equal(registry_room_get(f->reg, "2000", &used), 0);
	assert_int_equal(leg_alloc(&leg, used, "sip:a@x", NULL), 0);

	tmr_init(&tmr);
	tmr_start(&tmr, 200, stop_loop, NULL);
	assert_true(run_loop());

	assert_null(registry_room_find(f->reg, "1000"));
	assert_ptr_equal(registry_room_find(f->reg, "2000"), used);
	mem_deref(leg);
}


/* with a real engine (1 worker) */

struct media_fixture {
	struct registry *reg;
	uint32_t leg_id, room_id;
	bool leg_released, room_released;
};


static void media_event(const struct media_event *ev, void *arg)
{
	struct media_fixture *mf = arg;

	if (ev->type == MEDIA_EV_LEG_RELEASED && ev->leg_id == mf->leg_id)
		mf->leg_released = true;
	if (ev->type == MEDIA_EV_ROOM_RELEASED && ev->room_id == mf->room_id)
		mf->room_released = true;

	registry_media_event(mf->reg, ev);

	if (mf->leg_released && mf->room_released)
		re_cancel();
}


static void test_leg_with_media_releases_leg_and_room(void **state)
{
	struct fixture *f = *state;
	struct media_fixture mf;
	struct media_engine *me = NULL;
	struct media_leg_params prm;
	struct media_cfg mcfg;
	struct media_sock ms;
	struct room *room = NULL;
	struct leg *leg = NULL;
	struct sa laddr;

	memset(&mf, 0, sizeof(mf));
	mcfg = f->cfg->media;
	mcfg.workers = 1;
	mcfg.rtp_timeout_ms = 0;
	assert_int_equal(media_engine_alloc(&me, &mcfg, media_event, &mf), 0);
	assert_int_equal(registry_alloc(&mf.reg, f->cfg, me), 0);

	assert_int_equal(registry_room_get(mf.reg, "5000", &room), 0);
	assert_int_equal(leg_alloc(&leg, room, "sip:a@127.0.0.1", NULL), 0);
	mf.room_id = room_id(room);
	mf.leg_id = leg_id(leg);

	assert_int_equal(sa_set_str(&laddr, "127.0.0.1", 0), 0);
	assert_int_equal(media_sock_alloc(me, &ms, &laddr, true), 0);

	memset(&prm, 0, sizeof(prm));
	codec_fmt_default(&prm.codec, CODEC_PCMU);
	prm.telev_pt = -1;
	assert_int_equal(sa_set_str(&prm.raddr_rtp, "127.0.0.1", 9), 0);
	prm.raddr_rtcp = prm.raddr_rtp;
	prm.rtcp_mux = true;
	prm.dir = MEDIA_SENDRECV;
	str_ncpy(prm.cname, "test", sizeof(prm.cname));
	assert_int_equal(media_leg_add(me, mf.room_id, mf.leg_id, &ms, &prm),
			 0);
	leg_set_media(leg, true);

	/* leaving removes the media leg, then the now empty room */
	mem_deref(leg);
	assert_null(registry_room_find(mf.reg, "5000"));
	assert_true(run_loop());
	assert_true(mf.leg_released);
	assert_true(mf.room_released);

	/* the engine no longer knows the leg */
	assert_int_equal(media_leg_remove(me, mf.leg_id), ENOENT);

	mem_deref(mf.reg);
	mem_deref(me);
}


static void test_rooms_left_at_teardown_are_released(void **state)
{
	struct fixture *f = *state;
	struct media_fixture mf;
	struct media_engine *me = NULL;
	struct media_cfg mcfg;
	struct room *room = NULL;

	memset(&mf, 0, sizeof(mf));
	mcfg = f->cfg->media;
	mcfg.workers = 1;
	assert_int_equal(media_engine_alloc(&me, &mcfg, media_event, &mf), 0);
	assert_int_equal(registry_alloc(&mf.reg, f->cfg, me), 0);

	assert_int_equal(registry_room_get(mf.reg, "1000", &room), 0);
	mf.room_id = room_id(room);
	mf.leg_released = true;   /* no leg in this one */

	/* the registry goes first (as in chorusd): it removes its rooms */
	mf.reg = mem_deref(mf.reg);
	assert_true(run_loop());
	assert_true(mf.room_released);
	assert_int_equal(media_room_remove(me, mf.room_id), ENOENT);

	mem_deref(me);
}


static void test_pins_and_moderators(void **state)
{
	struct fixture *f = *state;
	struct room *open = NULL, *pinned = NULL, *modded = NULL;
	enum leg_role role = LEG_PARTICIPANT;

	assert_int_equal(registry_room_get(f->reg, "1000", &open), 0);
	assert_int_equal(registry_room_get(f->reg, "2000", &pinned), 0);
	assert_int_equal(registry_room_get(f->reg, "3000", &modded), 0);

	assert_false(room_pin_required(open));
	assert_true(room_pin_required(pinned));

	assert_int_equal(room_pin_check(open, "", &role), 0);
	assert_int_equal(role, LEG_PARTICIPANT);

	assert_int_equal(room_pin_check(pinned, "1234", &role), 0);
	assert_int_equal(role, LEG_PARTICIPANT);
	assert_int_equal(room_pin_check(pinned, "123", &role), EACCES);
	assert_int_equal(room_pin_check(pinned, "12345", &role), EACCES);
	assert_int_equal(room_pin_check(pinned, "", &role), EACCES);
	assert_int_equal(room_pin_check(pinned, "4321", &role), EACCES);

	assert_int_equal(room_pin_check(modded, "9999", &role), 0);
	assert_int_equal(role, LEG_MODERATOR);
	assert_int_equal(room_pin_check(modded, "1111", &role), 0);
	assert_int_equal(role, LEG_PARTICIPANT);
	assert_int_equal(room_pin_check(modded, "9998", &role), EACCES);

	assert_true(room_moderator_uri(modded, "sip:chair@example.com"));
	assert_true(room_moderator_uri(modded,
				       "\"Chair\" <sip:chair@EXAMPLE.com;"
				       "transport=tcp>"));
	assert_true(room_moderator_uri(modded, "sip:vice@example.org:5061"));
	assert_false(room_moderator_uri(modded, "sip:vice@example.org"));
	assert_false(room_moderator_uri(modded, "sip:Chair@example.com"));
	assert_false(room_moderator_uri(modded, "sip:chair@example.net"));
	assert_false(room_moderator_uri(modded, "not a uri"));
	assert_false(room_moderator_uri(open, "sip:chair@example.com"));
}


#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_static_room_created_on_demand_once),
		T(test_unknown_number_is_enoent),
		T(test_auto_room_has_auto_settings),
		T(test_full_room_refuses_with_enospc),
		T(test_locked_room_refuses_with_eperm),
		T(test_auto_room_removed_when_last_leg_leaves),
		T(test_static_room_removed_when_empty_keeps_settings),
		T(test_leg_ids_unique_and_found),
		T(test_reload_keeps_live_legs_and_applies_limits),
		T(test_reload_turns_auto_room_static_and_back),
		T(test_reload_removes_empty_unlisted_room),
		T(test_leg_apply_may_free_every_leg),
		T(test_media_events_update_legs),
		T(test_legs_outliving_registry_are_safe),
		T(test_media_flag),
		T(test_pins_and_moderators),
		T(test_room_nobody_joins_is_removed_by_timer),
		T(test_leg_with_media_releases_leg_and_room),
		T(test_rooms_left_at_teardown_are_released),
	};

	return cmocka_run_group_tests(tests, tu_libre_init, tu_libre_close);
}
