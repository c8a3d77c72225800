/**
 * @file pike.h  Per-source SIP request rate limiting with temporary bans,
 * after Kamailio's pike module.
 *
 * One token bucket per source address (the IP, never the port; IPv6 by
 * prefix, /64 by default, since one host owns a whole /64). A request
 * takes a token; the bucket refills at `rate` tokens per second up to
 * `burst`. A request that finds the bucket empty bans the source for
 * `ban_ms`: every request in that time is refused, and the verdict tells
 * the caller to log only the first refusal of each ban. When the ban
 * ends the source starts again with a full bucket.
 *
 * Memory is bounded: at most `max_entries` sources are tracked. Entries
 * whose bucket has refilled (they carry no information) are dropped as
 * the table is used; when the table is full the least recently seen
 * unbanned source is evicted first, banned sources only when every
 * entry is banned (then the ban closest to its end goes).
 *
 * Time is passed in (ms, monotonic) so the module is deterministic and
 * testable. Not thread-safe: it belongs to the libre thread.
 */
#ifndef CHORUS_SIP_PIKE_H
#define CHORUS_SIP_PIKE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <re.h>

struct pike_cfg {
	uint32_t rate;          /**< tokens (requests) per second, > 0     */
	uint32_t burst;         /**< bucket size, >= 1                     */
	uint32_t ban_ms;        /**< ban length, > 0                       */
	uint32_t max_entries;   /**< sources tracked at most, >= 1         */
	uint8_t v6_prefix;      /**< IPv6 bits that identify a source, 1..128 */
};

/** 20 requests/s, bursts of 40, 60 s ban, 64 Ki sources, IPv6 /64. */
#define PIKE_CFG_DEFAULT {20, 40, 60000, 65536, 64}

enum pike_verdict {
	PIKE_ALLOW = 0,
	PIKE_DENY,              /**< banned: drop, or answer 503 statelessly */
};

struct pike_stats {
	uint64_t allowed;
	uint64_t denied;
	uint64_t bans;          /**< bans started                          */
	uint64_t evicted;       /**< entries dropped because of the cap    */
	uint64_t evicted_banned;/**< of those, entries that were banned     */
};

struct pike;

int pike_alloc(struct pike **pkp, const struct pike_cfg *cfg);

/**
 * Account one request from src at now_ms.
 * @param logp  set true exactly once per ban: on the request that starts
 *              it (may be NULL)
 * Sources without an IP address (not AF_INET/AF_INET6) are allowed and
 * not tracked.
 */
enum pike_verdict pike_check(struct pike *pk, const struct sa *src,
			     uint64_t now_ms, bool *logp);

/** Is src banned at now_ms? Does not count as a request. */
bool pike_banned(const struct pike *pk, const struct sa *src,
		 uint64_t now_ms);

/** Drop up to max entries that no longer matter (for a periodic timer). */
void pike_gc(struct pike *pk, uint64_t now_ms, uint32_t max);

/** Sources tracked now. */
uint32_t pike_count(const struct pike *pk);

const struct pike_stats *pike_stats(const struct pike *pk);

/** %H printer for logs and metrics: settings, table use, counters. */
int pike_debug(struct re_printf *pf, const struct pike *pk);

#endif
