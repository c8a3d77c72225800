/**
 * @file test_pike.c  Per-source rate limiting and bans
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <string.h>
#include <errno.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <re.h>

#include "sip/pike.h"


static struct sa ip(const char *addr, uint16_t port)
{
	struct sa sa;

	assert_int_equal(sa_set_str(&sa, addr, port), 0);

	return sa;
}


static struct pike *mk(uint32_t rate, uint32_t burst, uint32_t ban_ms,
		       uint32_t max)
{
	struct pike_cfg cfg = {rate, burst, ban_ms, max, 64};
	struct pike *pk = NULL;

	assert_int_equal(pike_alloc(&pk, &cfg), 0);

	return pk;
}


static void test_flood_from_one_ip_is_banned(void **state)
{
	struct pike *pk = mk(20, 40, 60000, 1000);
	struct sa a = ip("192.0.2.1", 5060);
	bool log;
	(void)state;

	/* the burst passes, all at the same instant */
	for (int i = 0; i < 40; i++) {
		assert_int_equal(pike_check(pk, &a, 1000, &log), PIKE_ALLOW);
		assert_false(log);
	}
	/* the 41st starts a ban and asks to be logged */
	assert_int_equal(pike_check(pk, &a, 1000, &log), PIKE_DENY);
	assert_true(log);
	assert_true(pike_banned(pk, &a, 1000));

	/* the rest of the flood is refused, silently */
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(pike_check(pk, &a, 1000 + (uint64_t)i * 10,
					    &log), PIKE_DENY);
		assert_false(log);
	}

	assert_int_equal(pike_stats(pk)->bans, 1);
	assert_int_equal(pike_stats(pk)->allowed, 40);
	assert_int_equal(pike_stats(pk)->denied, 1001);
	{
		char out[256];

		re_snprintf(out, sizeof(out), "%H", pike_debug, pk);
		assert_string_equal(out, "pike: 20/s burst 40 ban 60s; "
				    "sources 1/1000; allowed 40 denied 1001 "
				    "bans 1 evicted 0 (banned 0)");
	}
	mem_deref(pk);
}


static void test_other_ip_unaffected(void **state)
{
	struct pike *pk = mk(20, 40, 60000, 1000);
	struct sa a = ip("192.0.2.1", 5060), b = ip("192.0.2.2", 5060);
	bool log;
	(void)state;

	for (int i = 0; i < 41; i++)
		pike_check(pk, &a, 0, NULL);
	assert_true(pike_banned(pk, &a, 0));

	for (int i = 0; i < 40; i++)
		assert_int_equal(pike_check(pk, &b, 0, &log), PIKE_ALLOW);
	assert_false(pike_banned(pk, &b, 0));
	assert_int_equal(pike_check(pk, &a, 0, &log), PIKE_DENY);
	mem_deref(pk);
}


static void test_port_does_not_matter(void **state)
{
	struct pike *pk = mk(20, 40, 60000, 1000);
	(void)state;

	for (uint16_t p = 1; p <= 40; p++) {
		struct sa a = ip("198.51.100.7", p);

		assert_int_equal(pike_check(pk, &a, 0, NULL), PIKE_ALLOW);
	}
	{
		struct sa a = ip("198.51.100.7", 41);

		assert_int_equal(pike_check(pk, &a, 0, NULL), PIKE_DENY);
	}
	assert_int_equal(pike_count(pk), 1);
	mem_deref(pk);
}


static void test_ban_expires(void **state)
{
	struct pike *pk = mk(20, 40, 60000, 1000);
	struct sa a = ip("203.0.113.9", 5060);
	const uint64_t t0 = 5000;
	bool log;
	(void)state;

	for (int i = 0; i < 40; i++)
		pike_check(pk, &a, t0, NULL);
	assert_int_equal(pike_check(pk, &a, t0, &log), PIKE_DENY);
	assert_true(log);

	assert_int_equal(pike_check(pk, &a, t0 + 59999, &log), PIKE_DENY);
	assert_true(pike_banned(pk, &a, t0 + 59999));
	assert_false(pike_banned(pk, &a, t0 + 60000));

	/* over: a full bucket again */
	for (int i = 0; i < 40; i++) {
		assert_int_equal(pike_check(pk, &a, t0 + 60000, &log),
				 PIKE_ALLOW);
		assert_false(log);
	}
	/* and a new flood is a new ban, logged again */
	assert_int_equal(pike_check(pk, &a, t0 + 60000, &log), PIKE_DENY);
	assert_true(log);
	assert_int_equal(pike_check(pk, &a, t0 + 60001, &log), PIKE_DENY);
	assert_false(log);
	assert_int_equal(pike_stats(pk)->bans, 2);
	mem_deref(pk);
}


static void test_log_once_per_ban(void **state)
{
	struct pike *pk = mk(10, 5, 1000, 100);
	struct sa a = ip("10.1.2.3", 5060);
	unsigned logs = 0;
	(void)state;

	/* 100 requests per second for 10 s: banned, released, banned ... */
	for (uint64_t t = 0; t < 10000; t += 10) {
		bool log;

		pike_check(pk, &a, t, &log);
		logs += log;
	}
	assert_int_equal(logs, pike_stats(pk)->bans);
	/* each cycle: 5 + 0.05 s of refill allowed, then a 1 s ban */
	assert_true(logs >= 9 && logs <= 10);
	mem_deref(pk);
}


static void test_sustained_rate(void **state)
{
	struct pike *pk = mk(20, 40, 60000, 1000);
	struct sa a = ip("192.0.2.50", 5060);
	struct sa b = ip("192.0.2.51", 5060);
	unsigned first_deny = 0;
	(void)state;

	/* exactly the rate, for 50 s: never banned */
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(pike_check(pk, &a, (uint64_t)i * 50, NULL),
				 PIKE_ALLOW);

	/* 25/s drains 5 tokens a second from 40: the 197th request (at
	 * 7.84 s) finds the bucket empty */
	for (unsigned i = 1; i <= 1000 && !first_deny; i++) {
		if (pike_check(pk, &b, (uint64_t)(i - 1) * 40, NULL) ==
		    PIKE_DENY)
			first_deny = i;
	}
	assert_int_equal(first_deny, 197);
	mem_deref(pk);
}


static void test_clock_going_back_gives_no_credit(void **state)
{
	struct pike *pk = mk(20, 2, 60000, 10);
	struct sa a = ip("192.0.2.77", 5060);
	(void)state;

	assert_int_equal(pike_check(pk, &a, 100000, NULL), PIKE_ALLOW);
	assert_int_equal(pike_check(pk, &a, 100000, NULL), PIKE_ALLOW);
	assert_int_equal(pike_check(pk, &a, 50, NULL), PIKE_DENY);
	mem_deref(pk);
}


static void test_table_bound_with_100k_sources(void **state)
{
	struct pike *pk = mk(20, 40, 60000, 4096);
	struct sa banned = ip("192.0.2.200", 5060);
	(void)state;

	/* one real attacker, banned first */
	for (int i = 0; i < 41; i++)
		pike_check(pk, &banned, 0, NULL);
	assert_true(pike_banned(pk, &banned, 0));

	/* then 100k distinct (maybe spoofed) sources within one second */
	for (uint32_t i = 0; i < 100000; i++) {
		struct sa s;

		sa_set_in(&s, 0x0a000000u + i, 5060);
		assert_int_equal(pike_check(pk, &s, i / 100, NULL),
				 PIKE_ALLOW);
		assert_true(pike_count(pk) <= 4096);
	}
	assert_int_equal(pike_count(pk), 4096);
	assert_int_equal(pike_stats(pk)->evicted, 100001 - 4096);
	/* the churn did not free the banned source */
	assert_int_equal(pike_stats(pk)->evicted_banned, 0);
	assert_true(pike_banned(pk, &banned, 1000));
	assert_int_equal(pike_check(pk, &banned, 1000, NULL), PIKE_DENY);

	/* nothing of it matters once buckets refill and the ban ends */
	pike_gc(pk, 60000, UINT32_MAX);
	assert_int_equal(pike_count(pk), 0);
	mem_deref(pk);
}


static void test_idle_entries_are_dropped_as_we_go(void **state)
{
	struct pike *pk = mk(20, 40, 60000, 100000);
	(void)state;

	/* one request per ms from always-new sources: entries older than
	 * the 2 s refill time carry nothing and are cleaned incrementally */
	for (uint32_t i = 0; i < 20000; i++) {
		struct sa s;

		sa_set_in(&s, 0xac100000u + i, 5060);
		pike_check(pk, &s, i, NULL);
	}
	assert_true(pike_count(pk) <= 2001 + 1);
	assert_int_equal(pike_stats(pk)->evicted, 0);
	mem_deref(pk);
}


static void test_all_banned_table_still_bounded(void **state)
{
	struct pike *pk = mk(1, 1, 60000, 8);
	(void)state;

	for (uint32_t i = 0; i < 20; i++) {
		struct sa s;

		sa_set_in(&s, 0xc0000200u + i, 5060);
		assert_int_equal(pike_check(pk, &s, 0, NULL), PIKE_ALLOW);
		assert_int_equal(pike_check(pk, &s, 0, NULL), PIKE_DENY);
		assert_true(pike_count(pk) <= 8);
	}
	assert_int_equal(pike_count(pk), 8);
	assert_int_equal(pike_stats(pk)->evicted_banned, 12);
	mem_deref(pk);
}


static void test_ipv6_prefix_and_v4_mapped(void **state)
{
	struct pike *pk = mk(20, 3, 60000, 100);
	struct sa a1 = ip("2001:db8:1:2::1", 5060);
	struct sa a2 = ip("2001:db8:1:2:ffff::99", 5062);
	struct sa b = ip("2001:db8:1:3::1", 5060);
	struct sa v4 = ip("192.0.2.33", 5060);
	struct sa mapped = ip("::ffff:192.0.2.33", 5060);
	(void)state;

	/* one /64, one bucket */
	assert_int_equal(pike_check(pk, &a1, 0, NULL), PIKE_ALLOW);
	assert_int_equal(pike_check(pk, &a2, 0, NULL), PIKE_ALLOW);
	assert_int_equal(pike_check(pk, &a1, 0, NULL), PIKE_ALLOW);
	assert_int_equal(pike_check(pk, &a2, 0, NULL), PIKE_DENY);
	assert_true(pike_banned(pk, &a1, 0));
	/* the next /64 is someone else */
	assert_int_equal(pike_check(pk, &b, 0, NULL), PIKE_ALLOW);

	/* IPv4 and IPv4-mapped IPv6 are the same host */
	assert_int_equal(pike_check(pk, &v4, 0, NULL), PIKE_ALLOW);
	assert_int_equal(pike_check(pk, &mapped, 0, NULL), PIKE_ALLOW);
	assert_int_equal(pike_check(pk, &v4, 0, NULL), PIKE_ALLOW);
	assert_int_equal(pike_check(pk, &mapped, 0, NULL), PIKE_DENY);
	assert_int_equal(pike_count(pk), 3);
	mem_deref(pk);
}


static void test_full_ipv6_prefix_separates_hosts(void **state)
{
	struct pike_cfg cfg = {20, 1, 1000, 10, 128};
	struct pike *pk = NULL;
	struct sa a1 = ip("2001:db8::1", 5060);
	struct sa a2 = ip("2001:db8::2", 5060);
	(void)state;

	assert_int_equal(pike_alloc(&pk, &cfg), 0);
	assert_int_equal(pike_check(pk, &a1, 0, NULL), PIKE_ALLOW);
	assert_int_equal(pike_check(pk, &a2, 0, NULL), PIKE_ALLOW);
	assert_int_equal(pike_check(pk, &a1, 0, NULL), PIKE_DENY);
	mem_deref(pk);
}


static void test_untracked_and_bad_config(void **state)
{
	struct pike_cfg ok = PIKE_CFG_DEFAULT, c;
	struct pike *pk = NULL;
	struct sa none;
	(void)state;

	c = ok; c.rate = 0;
	assert_int_equal(pike_alloc(&pk, &c), EINVAL);
	c = ok; c.burst = 0;
	assert_int_equal(pike_alloc(&pk, &c), EINVAL);
	c = ok; c.ban_ms = 0;
	assert_int_equal(pike_alloc(&pk, &c), EINVAL);
	c = ok; c.max_entries = 0;
	assert_int_equal(pike_alloc(&pk, &c), EINVAL);
	c = ok; c.v6_prefix = 129;
	assert_int_equal(pike_alloc(&pk, &c), EINVAL);
	assert_null(pk);

	assert_int_equal(pike_alloc(&pk, &ok), 0);
	sa_init(&none, AF_UNSPEC);
	for (int i = 0; i < 100; i++)
		assert_int_equal(pike_check(pk, &none, 0, NULL), PIKE_ALLOW);
	assert_int_equal(pike_count(pk), 0);
	assert_int_equal(pike_check(pk, NULL, 0, NULL), PIKE_ALLOW);
	assert_int_equal(pike_check(NULL, &none, 0, NULL), PIKE_ALLOW);
	mem_deref(pk);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_from_one_ip_is_banned),
		cmocka_unit_test(test_other_ip_unaffected),
		cmocka_unit_test(test_port_does_not_matter),
		cmocka_unit_test(test_ban_expires),
		cmocka_unit_test(test_log_once_per_ban),
		cmocka_unit_test(test_sustained_rate),
		cmocka_unit_test(test_clock_going_back_gives_no_credit),
		cmocka_unit_test(test_table_bound_with_100k_sources),
		cmocka_unit_test(test_idle_entries_are_dropped_as_we_go),
		cmocka_unit_test(test_all_banned_table_still_bounded),
		cmocka_unit_test(test_ipv6_prefix_and_v4_mapped),
		cmocka_unit_test(test_full_ipv6_prefix_separates_hosts),
		cmocka_unit_test(test_untracked_and_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
