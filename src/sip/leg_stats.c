/**
 * @file leg_stats.c  Media figures of a leg in the log when it leaves.
 */
#include <stdint.h>
#include <re.h>

#include "ctrl/log.h"
#include "sip/leg_stats.h"


void leg_stats_log(const struct media_engine *me, const char *number,
		   uint32_t leg_id)
{
	struct media_leg_stats st;

	if (!me || media_leg_stats(me, leg_id, &st))
		return;

	info("sip: room %s leg %u: media stats: rx %llu pkts %llu bytes,"
	     " tx %llu pkts; lost %llu late %llu dup %llu;"
	     " dropped: srtp_fail %llu wrong_source %llu bad_pt %llu"
	     " malformed %llu; jitter %u ms%s\n",
	     number ? number : "?", leg_id,
	     (unsigned long long)st.rx_packets,
	     (unsigned long long)st.rx_bytes,
	     (unsigned long long)st.tx_packets,
	     (unsigned long long)st.rx_lost, (unsigned long long)st.rx_late,
	     (unsigned long long)st.rx_dup,
	     (unsigned long long)st.rx_srtp_fail,
	     (unsigned long long)st.rx_dropped_src,
	     (unsigned long long)st.rx_dropped_pt,
	     (unsigned long long)st.rx_malformed, st.jitter_ms,
	     st.latched ? "" : ", never latched");
}
