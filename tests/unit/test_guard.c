/**
 * @file test_guard.c  Admission control: worker overload and the
 * per-source dialog count (legs from a real registry).
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

#include "cfg/cfg.h"
#include "ctrl/log.h"
#include "room/room.h"
#include "sip/guard.h"


static uint32_t fake_load;

static uint32_t load_h(unsigned worker, void *arg)
{
	(void)worker;
	(void)arg;

	return fake_load;
}


struct fix {
	struct cfg cfg;
	struct sip *sip;
	struct guard *g;
};


static void fix_init(struct fix *f)
{
	memset(f, 0, sizeof(*f));
	f->cfg.pike_rate = 10;
	f->cfg.pike_burst = 20;
	f->cfg.pike_ban_ms = 1000;
	f->cfg.overload_permille = 800;
	f->cfg.retry_after_s = 9;
	f->cfg.max_dialogs_per_source = 2;

	assert_int_equal(sip_alloc(&f->sip, NULL, 8, 8, 8, "test", NULL,
				   NULL), 0);
	assert_int_equal(guard_alloc(&f->g, &f->cfg, f->sip, NULL, NULL), 0);
	guard_set_load_handler(f->g, load_h, NULL);
}


static void fix_close(struct fix *f)
{
	mem_deref(f->g);
	sip_close(f->sip, true);
	mem_deref(f->sip);
}


static void test_overload(void **state)
{
	struct sip_msg msg;
	struct fix f;
	uint32_t ra = 0;
	char why[128];
	(void)state;

	fix_init(&f);
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(sa_set_str(&msg.src, "192.0.2.1", 5060), 0);

	fake_load = 700;
	assert_int_equal(guard_admit(f.g, &msg, NULL, &ra, why, sizeof(why)),
			 0);

	fake_load = 801;
	assert_int_equal(guard_admit(f.g, &msg, NULL, &ra, why, sizeof(why)),
			 503);
	assert_int_equal(ra, 9);
	assert_non_null(strstr(why, "overloaded"));
	assert_int_equal(guard_stats(f.g)->rej_overload, 1);

	/* threshold itself still admits: "exceeds" */
	fake_load = 800;
	assert_int_equal(guard_admit(f.g, &msg, NULL, &ra, why, sizeof(why)),
			 0);

	/* off */
	f.cfg.overload_permille = 0;
	fake_load = 1000;
	assert_int_equal(guard_admit(f.g, &msg, NULL, &ra, why, sizeof(why)),
			 0);

	fix_close(&f);
}


static void test_source_count_without_registry(void **state)
{
	struct sip_msg msg;
	struct fix f;
	struct sa other;
	(void)state;

	fix_init(&f);
	fake_load = 0;
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(sa_set_str(&msg.src, "192.0.2.7", 1111), 0);
	assert_int_equal(sa_set_str(&other, "192.0.2.8", 1111), 0);

	/* no registry: no leg is alive, so nothing counts (and the
	   entries are pruned, not leaked: the fixture frees cleanly) */
	guard_dialog_added(f.g, &msg, 1);
	guard_dialog_added(f.g, &msg, 2);
	assert_int_equal(guard_source_dialogs(f.g, &msg.src), 0);
	assert_int_equal(guard_source_dialogs(f.g, &other), 0);

	fix_close(&f);
}


static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}


static void rm_file(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}


/* Caps against a real registry: legs that go away stop counting. */
static void test_caps_registry(void **state)
{
	char dir[] = "/tmp/chorus-test-guard-XXXXXX";
	struct sip_msg ma, mb, mc;
	struct registry *reg = NULL;
	struct guard *g = NULL;
	struct sip *sip = NULL;
	struct cfg *cfg = NULL;
	struct room *room = NULL;
	struct leg *legs[3] = {NULL, NULL, NULL};
	uint32_t ra;
	char why[128];
	(void)state;

	log_set_level(LOG_LVL_ERROR);
	assert_non_null(mkdtemp(dir));
	write_file(dir, "chorus.conf", "max_dialogs_per_source 2\n"
		   "max_legs_total 3\nretry_after 4\n");
	write_file(dir, "rooms.conf", "room 1000 max=10\n");
	assert_int_equal(cfg_load(&cfg, dir), 0);
	assert_int_equal(registry_alloc(&reg, cfg, NULL), 0);
	assert_int_equal(sip_alloc(&sip, NULL, 8, 8, 8, "test", NULL, NULL),
			 0);
	assert_int_equal(guard_alloc(&g, cfg, sip, reg, NULL), 0);
	assert_int_equal(registry_room_get(reg, "1000", &room), 0);

	memset(&ma, 0, sizeof(ma));
	memset(&mb, 0, sizeof(mb));
	memset(&mc, 0, sizeof(mc));
	assert_int_equal(sa_set_str(&ma.src, "192.0.2.1", 5060), 0);
	assert_int_equal(sa_set_str(&mb.src, "192.0.2.2", 5060), 0);
	assert_int_equal(sa_set_str(&mc.src, "2001:db8::3", 5060), 0);

	/* two dialogs from A */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(guard_admit(g, &ma, room, &ra, why,
					     sizeof(why)), 0);
		assert_int_equal(leg_alloc(&legs[i], room, "sip:a@x", ""), 0);
		/* another port of the same IP is the same source */
		ma.src.u.in.sin_port = htons(6000 + i);
		guard_dialog_added(g, &ma, leg_id(legs[i]));
	}
	assert_int_equal(guard_source_dialogs(g, &ma.src), 2);
	assert_int_equal(guard_admit(g, &ma, room, &ra, why, sizeof(why)),
			 503);
	assert_int_equal(ra, 4);
	assert_non_null(strstr(why, "max_dialogs_per_source"));

	/* B is not affected; its leg makes 3 in total */
	assert_int_equal(guard_admit(g, &mb, room, &ra, why, sizeof(why)), 0);
	assert_int_equal(leg_alloc(&legs[2], room, "sip:b@x", ""), 0);
	guard_dialog_added(g, &mb, leg_id(legs[2]));

	assert_int_equal(guard_admit(g, &mc, room, &ra, why, sizeof(why)),
			 503);
	assert_non_null(strstr(why, "max_legs_total"));

	/* IPv6: a /64 is one source for the per-source cap */
	{
		struct sa o1, o2, o3;

		assert_int_equal(sa_set_str(&o1, "2001:db8:0:1::10", 1), 0);
		assert_int_equal(sa_set_str(&o2, "2001:db8:0:1:ffff::99", 2),
				 0);
		assert_int_equal(sa_set_str(&o3, "2001:db8:0:2::10", 1), 0);
		ma.src = o1;
		guard_dialog_added(g, &ma, leg_id(legs[2]));
		assert_int_equal(guard_source_dialogs(g, &o2), 1);
		assert_int_equal(guard_source_dialogs(g, &o3), 0);
		assert_int_equal(sa_set_str(&ma.src, "192.0.2.1", 5060), 0);
	}

	/* A's first leg leaves: A may call again, and so may C */
	legs[0] = mem_deref(legs[0]);
	assert_int_equal(guard_source_dialogs(g, &ma.src), 1);
	assert_int_equal(guard_admit(g, &ma, room, &ra, why, sizeof(why)), 0);
	assert_int_equal(guard_admit(g, &mc, room, &ra, why, sizeof(why)), 0);

	assert_int_equal(guard_stats(g)->rej_source, 1);
	assert_int_equal(guard_stats(g)->rej_total, 1);

	mem_deref(legs[1]);
	mem_deref(legs[2]);
	mem_deref(g);
	sip_close(sip, true);
	mem_deref(sip);
	mem_deref(reg);
	mem_deref(cfg);
	rm_file(dir, "chorus.conf");
	rm_file(dir, "rooms.conf");
	rmdir(dir);
}


/* The admission keys of chorus.conf: parsed, scaled, range-checked. */
static void test_cfg_keys(void **state)
{
	char dir[] = "/tmp/chorus-test-guardcfg-XXXXXX";
	struct cfg *cfg = NULL;
	(void)state;

	log_set_level(LOG_LVL_ERROR);
	assert_non_null(mkdtemp(dir));
	write_file(dir, "rooms.conf", "");

	/* defaults */
	write_file(dir, "chorus.conf", "");
	assert_int_equal(cfg_load(&cfg, dir), 0);
	assert_int_equal(cfg->pike_rate, 100);
	assert_int_equal(cfg->pike_burst, 200);
	assert_int_equal(cfg->pike_ban_ms, 60000);
	assert_int_equal(cfg->overload_permille, 800);
	assert_int_equal(cfg->retry_after_s, 10);
	cfg = mem_deref(cfg);

	write_file(dir, "chorus.conf", "pike_rate 5\npike_burst 7\n"
		   "pike_ban_s 3\noverload_permille 0\nmax_legs_total 0\n");
	assert_int_equal(cfg_load(&cfg, dir), 0);
	assert_int_equal(cfg->pike_rate, 5);
	assert_int_equal(cfg->pike_burst, 7);
	assert_int_equal(cfg->pike_ban_ms, 3000);
	assert_int_equal(cfg->overload_permille, 0);
	assert_int_equal(cfg->max_legs_total, 0);
	cfg = mem_deref(cfg);

	static const char *bad[] = {
		"pike_burst 0\n", "pike_ban_s 0\n", "overload_permille 1001\n",
		"retry_after 0\n", "pike_rate -1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(dir, "chorus.conf", bad[i]);
		assert_int_not_equal(cfg_load(&cfg, dir), 0);
		assert_null(cfg);
	}

	rm_file(dir, "chorus.conf");
	rm_file(dir, "rooms.conf");
	rmdir(dir);
}


static void test_exempt(void **state)
{
	struct sip_msg msg;
	struct fix f;
	struct sa sa;
	uint32_t ra;
	char bad[64], why[128];
	(void)state;

	assert_int_equal(guard_exempt_check("", bad, sizeof(bad)), 0);
	assert_int_equal(guard_exempt_check(" 10.0.0.0/8,192.0.2.1 "
					    "2001:db8::/32", bad,
					    sizeof(bad)), 0);
	assert_int_not_equal(guard_exempt_check("10.0.0.0/33", bad,
						sizeof(bad)), 0);
	assert_string_equal(bad, "10.0.0.0/33");
	assert_int_not_equal(guard_exempt_check("10.0.0.1,host.example",
						bad, sizeof(bad)), 0);
	assert_string_equal(bad, "host.example");
	assert_int_not_equal(guard_exempt_check("10.0.0.0/", bad,
						sizeof(bad)), 0);
	assert_int_not_equal(guard_exempt_check("2001:db8::/129", bad,
						sizeof(bad)), 0);

	memset(&f, 0, sizeof(f));
	f.cfg.pike_rate = 10;
	f.cfg.pike_burst = 20;
	f.cfg.pike_ban_ms = 1000;
	f.cfg.retry_after_s = 9;
	f.cfg.max_dialogs_per_source = 1;
	str_ncpy(f.cfg.pike_exempt, "192.0.2.0/25, 2001:db8::/32, 198.51.100.7",
		 sizeof(f.cfg.pike_exempt));
	assert_int_equal(sip_alloc(&f.sip, NULL, 8, 8, 8, "test", NULL,
				   NULL), 0);
	assert_int_equal(guard_alloc(&f.g, &f.cfg, f.sip, NULL, NULL), 0);

	static const struct {
		const char *ip;
		bool exempt;
	} tv[] = {
		{"192.0.2.1", true}, {"192.0.2.127", true},
		{"192.0.2.128", false}, {"192.0.3.1", false},
		{"198.51.100.7", true}, {"198.51.100.8", false},
		{"2001:db8:1::5", true}, {"2001:db9::1", false},
		/* libre keeps a v4-mapped address as the IPv4 one */
		{"::ffff:192.0.2.1", true},
	};
	for (size_t i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		assert_int_equal(sa_set_str(&sa, tv[i].ip, 5060), 0);
		assert_int_equal(guard_exempt(f.g, &sa), tv[i].exempt);
	}

	fix_close(&f);

	/* a bad list stops the guard (and chorusd) */
	str_ncpy(f.cfg.pike_exempt, "10.0.0.0/99", sizeof(f.cfg.pike_exempt));
	assert_int_equal(sip_alloc(&f.sip, NULL, 8, 8, 8, "test", NULL,
				   NULL), 0);
	f.g = NULL;
	assert_int_not_equal(guard_alloc(&f.g, &f.cfg, f.sip, NULL, NULL), 0);
	assert_null(f.g);
	sip_close(f.sip, true);
	mem_deref(f.sip);
	(void)msg;
	(void)ra;
	(void)why;
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overload),
		cmocka_unit_test(test_source_count_without_registry),
		cmocka_unit_test(test_caps_registry),
		cmocka_unit_test(test_cfg_keys),
		cmocka_unit_test(test_exempt),
	};
	int r;

	(void)libre_init();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	libre_close();

	return r;
}
