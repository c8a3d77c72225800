/**
 * @file spsc.h  Bounded lock-free single-producer/single-consumer ring of
 * fixed-size elements (C11 atomics).
 *
 * Exactly one thread calls spsc_push() and exactly one (other) thread
 * calls spsc_pop(). Elements are copied in and out, so the ring works
 * for pointers (commands) as well as small structs (events).
 *
 * Head and tail live on separate cache lines, and each side keeps a
 * private copy of the other side's index so that the shared line is only
 * read when the ring looks full (producer) or empty (consumer).
 */
#ifndef CHORUS_MEDIA_SPSC_H
#define CHORUS_MEDIA_SPSC_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { SPSC_CACHELINE = 64 };

struct spsc {
	/* consumer side */
	atomic_size_t head;
	size_t tail_cache;
	char pad0[SPSC_CACHELINE - sizeof(atomic_size_t) - sizeof(size_t)];

	/* producer side */
	atomic_size_t tail;
	size_t head_cache;
	char pad1[SPSC_CACHELINE - sizeof(atomic_size_t) - sizeof(size_t)];

	/* read-only after init */
	size_t cap;              /**< power of two                       */
	size_t esize;
	uint8_t *buf;
};


/** Capacity is rounded up to a power of two (at least 2). */
static inline int spsc_init(struct spsc *r, size_t cap, size_t esize)
{
	size_t c = 2;

	if (!r || !cap || !esize || cap > (SIZE_MAX >> 2) / esize)
		return EINVAL;

	while (c < cap)
		c <<= 1;

	memset(r, 0, sizeof(*r));
	r->buf = (uint8_t *)calloc(c, esize);
	if (!r->buf)
		return ENOMEM;

	r->cap   = c;
	r->esize = esize;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);

	return 0;
}


/** Free the storage; the caller drains remaining elements first. */
static inline void spsc_destroy(struct spsc *r)
{
	if (!r)
		return;

	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}


/** Producer only. Returns false when the ring is full. */
static inline bool spsc_push(struct spsc *r, const void *elem)
{
	size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (t - r->head_cache == r->cap) {
		r->head_cache = atomic_load_explicit(&r->head,
						     memory_order_acquire);
		if (t - r->head_cache == r->cap)
			return false;
	}

	memcpy(r->buf + (t & (r->cap - 1)) * r->esize, elem, r->esize);
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);

	return true;
}


/** Consumer only. Returns false when the ring is empty. */
static inline bool spsc_pop(struct spsc *r, void *elem)
{
	size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (h == r->tail_cache) {
		r->tail_cache = atomic_load_explicit(&r->tail,
						     memory_order_acquire);
		if (h == r->tail_cache)
			return false;
	}

	memcpy(elem, r->buf + (h & (r->cap - 1)) * r->esize, r->esize);
	atomic_store_explicit(&r->head, h + 1, memory_order_release);

	return true;
}


/** Approximate fill level (exact when called by either side alone). */
static inline size_t spsc_count(struct spsc *r)
{
	size_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t h = atomic_load_explicit(&r->head, memory_order_acquire);

	return t - h;
}

#endif
