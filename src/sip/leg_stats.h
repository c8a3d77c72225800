/**
 * @file leg_stats.h  One log line with a leg's media figures when its
 * call ends (operators and the integration tests read the SRTP
 * failure and wrong-source counters there).
 */
#ifndef CHORUS_SIP_LEG_STATS_H
#define CHORUS_SIP_LEG_STATS_H

#include <stdint.h>

#include "media/media.h"

/**
 * Log "sip: room <number> leg <id>: media stats ..." from the engine's
 * last snapshot (the worker publishes one per second, so up to a
 * second of traffic before the hang-up may be missing). Nothing is
 * logged when the engine has no such leg.
 */
void leg_stats_log(const struct media_engine *me, const char *number,
		   uint32_t leg_id);

#endif
