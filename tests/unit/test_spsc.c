/**
 * @file test_spsc.c  The SPSC ring: single-thread semantics, and a real
 * producer thread against a real consumer thread with checksums.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "media/spsc.h"

enum { NITEMS = 2000000, RING_CAP = 256, SPIN_MAX = 200000000 };

struct item {
	uint64_t seq;
	uint64_t val;
};


static void test_spsc_rounds_capacity_up(void **state)
{
	struct spsc r;
	(void)state;

	assert_int_equal(0, spsc_init(&r, 100, sizeof(int)));
	assert_int_equal(128, r.cap);
	spsc_destroy(&r);

	assert_int_equal(EINVAL, spsc_init(&r, 0, sizeof(int)));
}


static void test_spsc_fifo_full_empty(void **state)
{
	struct spsc r;
	int i, v;
	(void)state;

	assert_int_equal(0, spsc_init(&r, 8, sizeof(int)));

	assert_false(spsc_pop(&r, &v));

	for (i = 0; i < 8; i++)
		assert_true(spsc_push(&r, &i));

	/* full: the 9th push is refused and changes nothing */
	i = 99;
	assert_false(spsc_push(&r, &i));
	assert_int_equal(8, spsc_count(&r));

	for (i = 0; i < 8; i++) {
		assert_true(spsc_pop(&r, &v));
		assert_int_equal(i, v);
	}
	assert_false(spsc_pop(&r, &v));

	/* wrap the indices many times */
	for (i = 0; i < 1000; i++) {
		assert_true(spsc_push(&r, &i));
		assert_true(spsc_pop(&r, &v));
		assert_int_equal(i, v);
	}

	spsc_destroy(&r);
}


struct shared {
	struct spsc ring;
	uint64_t sum_sent;
	uint64_t full_spins;
	bool gave_up;
};


static uint64_t mixval(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}


static void *producer(void *arg)
{
	struct shared *sh = arg;
	uint64_t i, spins = 0;

	for (i = 0; i < NITEMS; i++) {
		struct item it = { .seq = i, .val = mixval(i) };

		while (!spsc_push(&sh->ring, &it)) {
			if (++spins > SPIN_MAX) {
				sh->gave_up = true;
				return NULL;
			}
			sched_yield();
		}
		sh->sum_sent += it.val;
	}

	sh->full_spins = spins;
	return NULL;
}


static void test_spsc_two_threads_in_order_checksum(void **state)
{
	struct shared sh = {0};
	pthread_t thr;
	uint64_t n = 0, sum = 0, spins = 0;
	bool order_ok = true;
	(void)state;

	assert_int_equal(0, spsc_init(&sh.ring, RING_CAP, sizeof(struct item)));
	assert_int_equal(0, pthread_create(&thr, NULL, producer, &sh));

	while (n < NITEMS && spins < SPIN_MAX) {
		struct item it;

		if (!spsc_pop(&sh.ring, &it)) {
			++spins;
			if (sh.gave_up)
				break;
			sched_yield();
			continue;
		}

		if (it.seq != n || it.val != mixval(n))
			order_ok = false;

		sum += it.val;
		++n;
	}

	pthread_join(thr, NULL);

	assert_false(sh.gave_up);
	assert_true(order_ok);
	assert_int_equal(NITEMS, n);
	assert_true(sum == sh.sum_sent);
	assert_int_equal(0, spsc_count(&sh.ring));

	spsc_destroy(&sh.ring);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spsc_rounds_capacity_up),
		cmocka_unit_test(test_spsc_fifo_full_empty),
		cmocka_unit_test(test_spsc_two_threads_in_order_checksum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
