/**
 * @file pike.c  Per-source token buckets with temporary bans
 *
 * Tokens are kept in thousandths so refill needs no floating point:
 * `rate` tokens per second is exactly `rate` milli-tokens per ms.
 */
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <re.h>

#include "sip/pike.h"

#define MILLI          1000u
/* Entries looked at per request by the incremental clean-up. */
#define GC_STEP        2
/* Hash buckets per tracked source (chains stay short). */
#define ENTRIES_PER_BUCKET 4
#define BUCKETS_MIN    16u
#define BUCKETS_MAX    65536u

struct pike_entry {
	struct le he;           /* in pk->ht                               */
	struct le le;           /* in pk->active or pk->banned, LRU order  */
	uint8_t key[16];
	uint8_t klen;           /* 4 (IPv4) or 16 (IPv6 prefix)            */
	uint64_t tokens;        /* milli-tokens                            */
	uint64_t last_ms;       /* last refill                             */
	uint64_t ban_until;     /* 0 = not banned                          */
};

struct pike {
	struct pike_cfg cfg;
	struct hash *ht;
	struct list active;     /* head = least recently seen             */
	struct list banned;     /* head = ban ending first (fixed length) */
	uint32_t count;
	uint64_t cap;           /* burst in milli-tokens                   */
	uint64_t refill_ms;     /* empty -> full                           */
	struct pike_stats stats;
};


static void entry_destructor(void *arg)
{
	struct pike_entry *e = arg;

	hash_unlink(&e->he);
	list_unlink(&e->le);
}


static void destructor(void *arg)
{
	struct pike *pk = arg;

	list_flush(&pk->active);
	list_flush(&pk->banned);
	mem_deref(pk->ht);
}


int pike_alloc(struct pike **pkp, const struct pike_cfg *cfg)
{
	struct pike *pk;
	uint32_t buckets;
	int err;

	if (!pkp || !cfg || !cfg->rate || !cfg->burst || !cfg->ban_ms ||
	    !cfg->max_entries || !cfg->v6_prefix || cfg->v6_prefix > 128)
		return EINVAL;

	pk = mem_zalloc(sizeof(*pk), destructor);
	if (!pk)
		return ENOMEM;

	pk->cfg = *cfg;
	pk->cap = (uint64_t)cfg->burst * MILLI;
	pk->refill_ms = (pk->cap + cfg->rate - 1) / cfg->rate;
	list_init(&pk->active);
	list_init(&pk->banned);

	buckets = cfg->max_entries / ENTRIES_PER_BUCKET;
	if (buckets < BUCKETS_MIN)
		buckets = BUCKETS_MIN;
	if (buckets > BUCKETS_MAX)
		buckets = BUCKETS_MAX;

	err = hash_alloc(&pk->ht, hash_valid_size(buckets));
	if (err) {
		mem_deref(pk);
		return err;
	}

	*pkp = pk;

	return 0;
}


/* The identity of a source: IPv4 address, or the IPv6 prefix. */
static bool key_make(const struct pike *pk, const struct sa *src,
		     uint8_t key[16], uint8_t *klen)
{
	static const uint8_t v4mapped[12] = {0,0,0,0, 0,0,0,0, 0,0,0xff,0xff};
	uint32_t a;

	switch (sa_af(src)) {

	case AF_INET:
		a = sa_in(src);
		key[0] = (uint8_t)(a >> 24);
		key[1] = (uint8_t)(a >> 16);
		key[2] = (uint8_t)(a >> 8);
		key[3] = (uint8_t)a;
		*klen = 4;
		return true;

	case AF_INET6:
		sa_in6(src, key);
		if (!memcmp(key, v4mapped, sizeof(v4mapped))) {
			/* the same host whichever socket it came in on */
			memmove(key, key + 12, 4);
			*klen = 4;
			return true;
		}
		for (unsigned bit = pk->cfg.v6_prefix; bit < 128; bit++)
			key[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
		*klen = 16;
		return true;

	default:
		return false;
	}
}


static struct pike_entry *lookup(const struct pike *pk, const uint8_t *key,
				 uint8_t klen, uint32_t h)
{
	struct le *le;

	LIST_FOREACH(hash_list(pk->ht, h), le) {
		struct pike_entry *e = le->data;

		if (e->klen == klen && !memcmp(e->key, key, klen))
			return e;
	}

	return NULL;
}


static void entry_free(struct pike *pk, struct pike_entry *e)
{
	--pk->count;
	mem_deref(e);
}


/* An entry whose bucket is full again, or whose ban is over, says
 * nothing a missing entry would not: drop it. */
static uint32_t gc_step(struct pike *pk, uint64_t now, uint32_t max)
{
	uint32_t n = 0;

	while (n < max && pk->active.head) {
		struct pike_entry *e = pk->active.head->data;

		if (now < e->last_ms || now - e->last_ms < pk->refill_ms)
			break;
		entry_free(pk, e);
		++n;
	}
	while (n < max && pk->banned.head) {
		struct pike_entry *e = pk->banned.head->data;

		if (now < e->ban_until)
			break;
		entry_free(pk, e);
		++n;
	}

	return n;
}


static void evict_one(struct pike *pk)
{
	struct le *le = pk->active.head ? pk->active.head : pk->banned.head;
	struct pike_entry *e;

	if (!le)
		return;

	e = le->data;
	++pk->stats.evicted;
	if (e->ban_until)
		++pk->stats.evicted_banned;
	entry_free(pk, e);
}


static void refill(const struct pike *pk, struct pike_entry *e, uint64_t now)
{
	uint64_t dt;

	if (now <= e->last_ms)
		return;   /* clock did not move (or moved back): no credit */

	dt = now - e->last_ms;
	if (dt >= pk->refill_ms)
		e->tokens = pk->cap;
	else
		e->tokens += dt * pk->cfg.rate;
	if (e->tokens > pk->cap)
		e->tokens = pk->cap;
	e->last_ms = now;
}


enum pike_verdict pike_check(struct pike *pk, const struct sa *src,
			     uint64_t now_ms, bool *logp)
{
	struct pike_entry *e;
	uint8_t key[16];
	uint8_t klen;
	uint32_t h;

	if (logp)
		*logp = false;
	if (!pk || !src)
		return PIKE_ALLOW;

	if (!key_make(pk, src, key, &klen)) {
		++pk->stats.allowed;
		return PIKE_ALLOW;
	}

	gc_step(pk, now_ms, GC_STEP);

	h = hash_joaat(key, klen);
	e = lookup(pk, key, klen, h);

	if (e && e->ban_until) {
		if (now_ms < e->ban_until) {
			++pk->stats.denied;
			return PIKE_DENY;
		}

		/* ban over: a clean slate */
		e->ban_until = 0;
		e->tokens = pk->cap;
		e->last_ms = now_ms;
		list_unlink(&e->le);
		list_append(&pk->active, &e->le, e);
	}

	if (!e) {
		if (pk->count >= pk->cfg.max_entries)
			evict_one(pk);

		e = mem_zalloc(sizeof(*e), entry_destructor);
		if (!e) {
			/* cannot track: fail open rather than block SIP */
			++pk->stats.allowed;
			return PIKE_ALLOW;
		}
		memcpy(e->key, key, klen);
		e->klen = klen;
		e->tokens = pk->cap;
		e->last_ms = now_ms;
		hash_append(pk->ht, h, &e->he, e);
		list_append(&pk->active, &e->le, e);
		++pk->count;
	}

	refill(pk, e, now_ms);

	if (e->tokens >= MILLI) {
		e->tokens -= MILLI;
		list_unlink(&e->le);
		list_append(&pk->active, &e->le, e);
		++pk->stats.allowed;
		return PIKE_ALLOW;
	}

	e->ban_until = now_ms + pk->cfg.ban_ms;
	list_unlink(&e->le);
	list_append(&pk->banned, &e->le, e);
	++pk->stats.bans;
	++pk->stats.denied;
	if (logp)
		*logp = true;

	return PIKE_DENY;
}


bool pike_banned(const struct pike *pk, const struct sa *src,
		 uint64_t now_ms)
{
	const struct pike_entry *e;
	uint8_t key[16];
	uint8_t klen;

	if (!pk || !src || !key_make(pk, src, key, &klen))
		return false;

	e = lookup(pk, key, klen, hash_joaat(key, klen));

	return e && e->ban_until && now_ms < e->ban_until;
}


void pike_gc(struct pike *pk, uint64_t now_ms, uint32_t max)
{
	if (pk)
		gc_step(pk, now_ms, max);
}


uint32_t pike_count(const struct pike *pk)
{
	return pk ? pk->count : 0;
}


const struct pike_stats *pike_stats(const struct pike *pk)
{
	return pk ? &pk->stats : NULL;
}


int pike_debug(struct re_printf *pf, const struct pike *pk)
{
	if (!pk)
		return re_hprintf(pf, "pike: off");

	return re_hprintf(pf, "pike: %u/s burst %u ban %us; sources %u/%u;"
			  " allowed %llu denied %llu bans %llu evicted %llu"
			  " (banned %llu)",
			  pk->cfg.rate, pk->cfg.burst, pk->cfg.ban_ms / 1000,
			  pk->count, pk->cfg.max_entries,
			  (unsigned long long)pk->stats.allowed,
			  (unsigned long long)pk->stats.denied,
			  (unsigned long long)pk->stats.bans,
			  (unsigned long long)pk->stats.evicted,
			  (unsigned long long)pk->stats.evicted_banned);
}
