/**
 * @file guard.c  SIP admission control (see guard.h).
 *
 * 1. Every request, before anything else: pike (token bucket per source
 *    IP). A banned source is dropped silently: no response at all, so a
 *    flood costs us one hash lookup per datagram and the flooder learns
 *    nothing. One log line when a ban starts (pike tells us which
 *    request that is). Every method counts, ACK and BYE too: a banned
 *    source is cut off entirely until the ban ends.
 * 2. A new INVITE, after routing: legs in all rooms (max_legs_total),
 *    dialogs from the source IP (max_dialogs_per_source), load of the
 *    media worker that would carry the leg (overload_permille). Each
 *    refusal is 503 with Retry-After, so well-behaved clients back off
 *    and calls in progress (their audio) are left alone.
 *
 * Dialogs per source: the guard keeps, per source IP, the leg ids of the
 * dialogs it admitted, and counts only those whose leg still exists in
 * the registry (dead ones are pruned when the source is looked at), so
 * the count needs no hook in the call teardown.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <re.h>

#include "ctrl/log.h"
#include "sip/guard.h"

enum {
	GUARD_EXEMPT_MAX = 32,     /* pike_exempt entries                 */
	GUARD_HASH_SIZE = 256,
	GUARD_GC_MS     = 10000,   /* pike housekeeping period            */
	GUARD_GC_MAX    = 1024,    /* pike entries looked at per period   */
	GUARD_WORKERS   = 256,
};

struct src_ent {
	struct le he;
	struct sa addr;            /* port 0 */
	uint32_t *legs;            /* leg ids, mem_alloc'd array          */
	uint32_t n, cap;
};

struct prefix {
	struct sa addr;
	unsigned bits;
};

struct guard {
	const struct cfg *cfg;
	struct prefix exempt[GUARD_EXEMPT_MAX];
	unsigned nexempt;
	struct registry *reg;
	struct media_engine *me;
	struct pike *pike;         /* NULL: rate limit off               */
	struct sip_lsnr *lsnr;
	struct hash *srcs;         /* struct src_ent by IP               */
	struct tmr tmr_gc;
	guard_load_h *loadh;
	void *load_arg;
	uint64_t (*now)(void);
	uint32_t load[GUARD_WORKERS];   /* from MEDIA_EV_WORKER_LOAD      */
	struct guard_stats stats;
};


static uint64_t now_jiffies(void)
{
	return tmr_jiffies();
}


static void src_destructor(void *arg)
{
	struct src_ent *e = arg;

	hash_unlink(&e->he);
	mem_deref(e->legs);
}


static void destructor(void *arg)
{
	struct guard *g = arg;

	tmr_cancel(&g->tmr_gc);
	mem_deref(g->lsnr);
	hash_flush(g->srcs);
	mem_deref(g->srcs);
	mem_deref(g->pike);
}


/* ---- exempt sources (trusted proxies, PBX trunks) ----------------------- */

static int prefix_parse(struct prefix *pf, const char *s, size_t len)
{
	char buf[64];
	const char *slash;
	unsigned max;
	struct pl pl;

	if (!len || len >= sizeof(buf))
		return EINVAL;

	memcpy(buf, s, len);
	buf[len] = '\0';

	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';

	if (sa_set_str(&pf->addr, buf, 0))
		return EINVAL;

	max = sa_af(&pf->addr) == AF_INET ? 32 : 128;
	pf->bits = max;

	if (slash) {
		const char *d = slash + 1;

		if (!*d || strspn(d, "0123456789") != strlen(d) ||
		    strlen(d) > 3)
			return EINVAL;
		pl_set_str(&pl, d);
		pf->bits = pl_u32(&pl);
		if (pf->bits > max)
			return EINVAL;
	}

	return 0;
}


/* Walk a list; h gets each item. Returns the first error. */
static int list_walk(const char *list, int (*h)(const char *s, size_t len,
						void *arg), void *arg)
{
	const char *s = list;

	while (s && *s) {
		size_t n;
		int err;

		s += strspn(s, ", \t");
		n = strcspn(s, ", \t");
		if (!n)
			break;
		err = h(s, n, arg);
		if (err)
			return err;
		s += n;
	}

	return 0;
}


struct check_ctx {
	char *bad;
	size_t sz;
	unsigned n;
};


static int check_item(const char *s, size_t len, void *arg)
{
	struct check_ctx *c = arg;
	struct prefix pf;

	if (prefix_parse(&pf, s, len) || ++c->n > GUARD_EXEMPT_MAX) {
		if (c->bad && c->sz)
			(void)re_snprintf(c->bad, c->sz, "%b", s, len);
		return EINVAL;
	}

	return 0;
}


int guard_exempt_check(const char *list, char *bad, size_t sz)
{
	struct check_ctx c = {bad, sz, 0};

	if (bad && sz)
		bad[0] = '\0';

	return list_walk(list, check_item, &c);
}


static int add_item(const char *s, size_t len, void *arg)
{
	struct guard *g = arg;

	if (g->nexempt >= GUARD_EXEMPT_MAX)
		return E2BIG;

	if (prefix_parse(&g->exempt[g->nexempt], s, len))
		return EINVAL;

	++g->nexempt;

	return 0;
}


static bool prefix_match(const struct prefix *pf, const struct sa *src)
{
	uint8_t a[16], b[16];
	unsigned bits = pf->bits;

	if (sa_af(&pf->addr) != sa_af(src))
		return false;

	if (sa_af(src) == AF_INET) {
		const uint32_t x = htonl(sa_in(&pf->addr));
		const uint32_t y = htonl(sa_in(src));

		memcpy(a, &x, 4);
		memcpy(b, &y, 4);
	}
	else {
		sa_in6(&pf->addr, a);
		sa_in6(src, b);
	}

	for (unsigned i = 0; bits; i++) {
		const unsigned n = bits >= 8 ? 8 : bits;
		const uint8_t mask = (uint8_t)(0xff << (8 - n));

		if ((a[i] ^ b[i]) & mask)
			return false;
		bits -= n;
	}

	return true;
}


bool guard_exempt(const struct guard *g, const struct sa *src)
{
	if (!g || !src)
		return false;

	for (unsigned i = 0; i < g->nexempt; i++)
		if (prefix_match(&g->exempt[i], src))
			return true;

	return false;
}


/* ---- rate limit --------------------------------------------------------- */

static bool request_handler(const struct sip_msg *msg, void *arg)
{
	struct guard *g = arg;
	bool logit = false;

	if (!g->pike || guard_exempt(g, &msg->src))
		return false;

	if (pike_check(g->pike, &msg->src, g->now(), &logit) == PIKE_ALLOW)
		return false;

	++g->stats.dropped;
	if (logit) {
		++g->stats.bans;
		warning("sip: guard: %j banned for %u s: more than %u requests"
			" at once or %u/s (%r %r); its requests are dropped"
			" unanswered\n", &msg->src, g->cfg->pike_ban_ms / 1000,
			g->cfg->pike_burst, g->cfg->pike_rate, &msg->met,
			&msg->ruri);
	}

	/* true: handled, i.e. dropped without a response */
	return true;
}


static uint32_t src_prune(struct guard *g, struct src_ent *e);


static bool prune_apply(struct le *le, void *arg)
{
	(void)src_prune(arg, le->data);

	return false;
}


/* Housekeeping: pike entries that carry no information, and sources
   whose dialogs are all gone (else they stay until the source calls
   again). */
static void gc_handler(void *arg)
{
	struct guard *g = arg;

	if (g->pike)
		pike_gc(g->pike, g->now(), GUARD_GC_MAX);
	(void)hash_apply(g->srcs, prune_apply, g);
	tmr_start(&g->tmr_gc, GUARD_GC_MS, gc_handler, g);
}


/* ---- dialogs per source ---------------------------------------------------- */

static bool src_cmp(struct le *le, void *arg)
{
	const struct src_ent *e = le->data;

	return sa_cmp(&e->addr, arg, SA_ADDR);
}


/* The source as the caps see it: the IP, an IPv6 address by its /64
   (as pike does: one host owns a whole /64) */
static void src_key(struct sa *key, const struct sa *src)
{
	if (sa_af(src) == AF_INET6) {
		uint8_t a[16];

		sa_in6(src, a);
		memset(a + 8, 0, 8);
		sa_set_in6(key, a, 0);
		return;
	}

	sa_cpy(key, src);
	sa_set_port(key, 0);
}


static struct src_ent *src_find(const struct guard *g, const struct sa *ip)
{
	return list_ledata(hash_lookup(g->srcs, sa_hash(ip, SA_ADDR),
				       src_cmp, (void *)ip));
}


/* Drop the legs that are gone; free the entry when none is left. */
static uint32_t src_prune(struct guard *g, struct src_ent *e)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < e->n; i++) {
		if (g->reg && registry_leg_by_id(g->reg, e->legs[i]))
			e->legs[n++] = e->legs[i];
	}
	e->n = n;

	if (!n)
		mem_deref(e);

	return n;
}


uint32_t guard_source_dialogs(struct guard *g, const struct sa *src)
{
	struct src_ent *e;
	struct sa ip;

	if (!g || !src)
		return 0;

	src_key(&ip, src);

	e = src_find(g, &ip);

	return e ? src_prune(g, e) : 0;
}


void guard_dialog_added(struct guard *g, const struct sip_msg *msg,
			uint32_t leg_id)
{
	struct src_ent *e;
	struct sa ip;

	if (!g || !msg)
		return;

	src_key(&ip, &msg->src);

	e = src_find(g, &ip);
	if (!e) {
		e = mem_zalloc(sizeof(*e), src_destructor);
		if (!e)
			return;
		e->addr = ip;
		hash_append(g->srcs, sa_hash(&ip, SA_ADDR), &e->he, e);
	}

	if (e->n == e->cap) {
		uint32_t cap = e->cap ? e->cap * 2 : 4;
		uint32_t *legs;

		/* libre's mem_realloc() does not allocate from NULL */
		legs = e->legs ? mem_realloc(e->legs, cap * sizeof(*legs)) :
			mem_alloc(cap * sizeof(*legs), NULL);

		if (!legs)
			return;
		e->legs = legs;
		e->cap = cap;
	}

	e->legs[e->n++] = leg_id;
	debug("sip: guard: %j: leg %u, %u dialogs\n", &ip, leg_id, e->n);
}


/* ---- worker load -------------------------------------------------------- */

void guard_worker_load(struct guard *g, unsigned worker, uint32_t permille)
{
	if (g && worker < GUARD_WORKERS)
		g->load[worker] = permille;
}


static uint32_t worker_load(const struct guard *g, unsigned worker)
{
	struct media_worker_stats st;

	if (g->loadh)
		return g->loadh(worker, g->load_arg);

	/* the engine's published figure is as fresh as the event's */
	if (g->me && !media_worker_stats(g->me, worker, &st))
		return st.load_permille;

	return worker < GUARD_WORKERS ? g->load[worker] : 0;
}


static unsigned nworkers(const struct guard *g)
{
	if (g->me)
		return media_engine_workers(g->me);

	return g->loadh ? 1 : 0;
}


/*
 * The worker the new leg would run on: its room's, or for a room the
 * engine does not have yet, the least loaded one (where the engine puts
 * new rooms). Returns the load of that worker, 0 if unknown.
 */
static uint32_t target_load(const struct guard *g, const struct room *room,
			    unsigned *wp)
{
	unsigned w, n = nworkers(g);
	uint32_t best = UINT32_MAX;

	if (g->me && room && !media_room_worker(g->me, room_id(room), &w)) {
		*wp = w;
		return worker_load(g, w);
	}

	*wp = 0;
	for (w = 0; w < n; w++) {
		uint32_t l = worker_load(g, w);

		if (l < best) {
			best = l;
			*wp = w;
		}
	}

	return best == UINT32_MAX ? 0 : best;
}


/* ---- admission -------------------------------------------------------------- */

uint16_t guard_admit(struct guard *g, const struct sip_msg *msg,
		     const struct room *room, uint32_t *retry_after,
		     char *why, size_t sz)
{
	const struct cfg *cfg;
	uint32_t n, load;
	unsigned w;

	if (!g || !msg || !retry_after || !why)
		return 0;

	cfg = g->cfg;
	*retry_after = cfg->retry_after_s;

	if (cfg->max_legs_total && g->reg) {
		n = registry_leg_count(g->reg);
		if (n >= cfg->max_legs_total) {
			++g->stats.rej_total;
			re_snprintf(why, sz, "server full: %u legs"
				    " (max_legs_total %u)", n,
				    cfg->max_legs_total);
			return 503;
		}
	}

	if (cfg->max_dialogs_per_source && !guard_exempt(g, &msg->src)) {
		n = guard_source_dialogs(g, &msg->src);
		if (n >= cfg->max_dialogs_per_source) {
			++g->stats.rej_source;
			re_snprintf(why, sz, "%u dialogs from %j"
				    " (max_dialogs_per_source %u)", n,
				    &msg->src, cfg->max_dialogs_per_source);
			return 503;
		}
	}

	if (cfg->overload_permille) {
		load = target_load(g, room, &w);
		if (load > cfg->overload_permille) {
			++g->stats.rej_overload;
			re_snprintf(why, sz, "media worker %u overloaded:"
				    " %u.%u%% of its frame budget busy"
				    " (overload_permille %u)", w, load / 10,
				    load % 10, cfg->overload_permille);
			return 503;
		}
	}

	return 0;
}


/* ---- set-up ------------------------------------------------------------------ */

int guard_alloc(struct guard **gp, const struct cfg *cfg, struct sip *sip,
		struct registry *reg, struct media_engine *me)
{
	struct guard *g;
	int err;

	if (!gp || !cfg || !sip)
		return EINVAL;

	g = mem_zalloc(sizeof(*g), destructor);
	if (!g)
		return ENOMEM;

	g->cfg = cfg;
	g->reg = reg;
	g->me  = me;
	g->now = now_jiffies;

	err = hash_alloc(&g->srcs, GUARD_HASH_SIZE);
	if (err)
		goto out;

	err = list_walk(cfg->pike_exempt, add_item, g);
	if (err) {
		warning("sip: guard: bad pike_exempt \"%s\"\n",
			cfg->pike_exempt);
		goto out;
	}

	if (cfg->pike_rate) {
		struct pike_cfg pc = PIKE_CFG_DEFAULT;

		pc.rate   = cfg->pike_rate;
		pc.burst  = cfg->pike_burst ? cfg->pike_burst : 1;
		pc.ban_ms = cfg->pike_ban_ms ? cfg->pike_ban_ms : 1000;

		err = pike_alloc(&g->pike, &pc);
		if (err)
			goto out;
	}

	tmr_start(&g->tmr_gc, GUARD_GC_MS, gc_handler, g);

	err = sip_listen(&g->lsnr, sip, true, request_handler, g);
	if (err)
		goto out;

	/* every leg binds an RTP/RTCP pair: a cap above the port range
	   means the range, not the cap, refuses calls (503 "no media port") */
	{
		const uint32_t pairs = (cfg->media.rtp_port_max -
					cfg->media.rtp_port_min + 1u) / 2u;

		if (!cfg->max_legs_total || cfg->max_legs_total > pairs)
			info("sip: guard: note: the RTP port range %u-%u has"
			     " %u pairs, fewer than max_legs_total (%u%s)\n",
			     cfg->media.rtp_port_min, cfg->media.rtp_port_max,
			     pairs, cfg->max_legs_total,
			     cfg->max_legs_total ? "" : " = no limit");
	}

	info("sip: guard: rate limit %s%u/s burst %u ban %u s;"
	     " max_legs_total %u, max_dialogs_per_source %u,"
	     " overload_permille %u; %u exempt source prefix%s\n",
	     cfg->pike_rate ? "" : "off (", cfg->pike_rate, cfg->pike_burst,
	     cfg->pike_ban_ms / 1000, cfg->max_legs_total,
	     cfg->max_dialogs_per_source, cfg->overload_permille,
	     g->nexempt, g->nexempt == 1 ? "" : "es");

 out:
	if (err)
		mem_deref(g);
	else
		*gp = g;

	return err;
}


void guard_set_load_handler(struct guard *g, guard_load_h *h, void *arg)
{
	if (!g)
		return;

	g->loadh = h;
	g->load_arg = arg;
}


void guard_set_clock(struct guard *g, uint64_t (*now)(void))
{
	if (g)
		g->now = now ? now : now_jiffies;
}


const struct guard_stats *guard_stats(const struct guard *g)
{
	return g ? &g->stats : NULL;
}


int guard_debug(struct re_printf *pf, const struct guard *g)
{
	int err;

	if (!g)
		return 0;

	err = re_hprintf(pf, "guard: dropped %llu bans %llu 503: total %llu"
			 " source %llu overload %llu\n",
			 (unsigned long long)g->stats.dropped,
			 (unsigned long long)g->stats.bans,
			 (unsigned long long)g->stats.rej_total,
			 (unsigned long long)g->stats.rej_source,
			 (unsigned long long)g->stats.rej_overload);
	if (g->pike)
		err |= pike_debug(pf, g->pike);

	return err;
}
