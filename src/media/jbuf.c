/**
 * @file jbuf.c  Packet jitter buffer with timestamp-driven playout.
 *
 * State machine:
 *   IDLE       nothing received since alloc/flush/talk-spurt end
 *   BUFFERING  packets arrive; playout starts when the buffered depth
 *              reaches the target delay (or waited max_ms)
 *   PLAYING    the consumer walks play_ts forward through the stream
 * Running dry while PLAYING goes back to BUFFERING (re-prebuffer): that
 * is where the delay grows after a jitter spike, and where DTX/hold pauses
 * end without concealing the whole pause.
 *
 * Drift: needs sustained evidence. When the buffered depth at every get
 * stays above target + one packet + half a frame for DRIFT_SUSTAIN_HI_MS of
 * playout (its minimum over that window), the next packet is skipped; when
 * it stays below target - half a frame for DRIFT_SUSTAIN_LO_MS (its
 * maximum), one concealed frame is inserted. At most one correction per
 * DRIFT_HOLD_MS, so a sender 1 % off the clock costs one correction every
 * ~2 s and the depth stays bounded. Why not the instantaneous or averaged
 * depth: the worker receives at its tick, so a late tick on a loaded
 * machine delivers a burst (depth up for a moment) and reads as jitter
 * (target up for a moment); a perfectly paced stream then got a skip and
 * an insert (one frame each) now and then.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "media/jbuf.h"

enum {
	JB_JUMP_MS      = 1000,  /**< ts jump beyond max delay = new stream */
	DRIFT_HOLD_MS   = 1000,  /**< min time between two corrections      */
	DRIFT_SUSTAIN_HI_MS = 2000, /**< depth above the skip level this long */
	DRIFT_SUSTAIN_LO_MS = 1000, /**< below the insert level this long:
					 shorter, the zone above an underrun
					 is narrow (half a frame)          */
	JITTER_MULT     = 3,     /**< target = 3 x jitter + packet + frame   */
};

enum jb_state {
	JB_IDLE = 0,
	JB_BUFFERING,
	JB_PLAYING,
};

struct jb_slot {
	uint32_t ts;
	uint32_t dur;
	uint16_t seq;
	uint16_t len;
	uint8_t data[JITBUF_SLOT_SIZE];
};

struct jitbuf {
	struct jitbuf_cfg cfg;
	struct jb_slot *slotv;
	uint8_t order[JITBUF_SLOTS];   /* slot indices, ascending ts         */
	uint8_t freev[JITBUF_SLOTS];   /* stack of free slot indices         */
	unsigned n;                  /* packets stored                     */
	unsigned nfree;
	int pending;                 /* slot handed out by get, or -1      */

	enum jb_state state;
	bool have_ssrc;
	uint32_t ssrc;
	bool have_play;              /* play_ts is meaningful              */
	uint32_t play_ts;            /* next timestamp to play             */
	uint32_t last_dur;           /* duration of the latest packet      */
	uint64_t buf_start_us;       /* BUFFERING since                    */

	/* seqs played recently, for duplicate vs late */
	bool have_played_seq;
	uint16_t played_hi;
	uint64_t played_mask;        /* bit i: played_hi - i was played    */

	/* RFC 3550 jitter */
	bool have_transit;
	int32_t transit;
	uint32_t jitter_q4;          /* jitter * 16, ts units              */

	/* drift control */
	uint32_t hi_ts;              /* ts played, depth always above skip level */
	uint32_t lo_ts;              /* ts played, depth always below insert level */
	uint32_t since_corr;         /* ts played since last correction    */

	struct jitbuf_stats st;
};


static inline int32_t ts_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}


static inline uint32_t ms_to_ts(const struct jitbuf *jb, uint32_t ms)
{
	return (uint32_t)((uint64_t)ms * jb->cfg.clock / 1000);
}


static void slots_reset(struct jitbuf *jb)
{
	unsigned i;

	jb->n = 0;
	jb->nfree = JITBUF_SLOTS;
	for (i = 0; i < JITBUF_SLOTS; i++)
		jb->freev[i] = (uint8_t)(JITBUF_SLOTS - 1 - i);
	jb->pending = -1;
}


/* forget the stream but keep counters and the jitter estimate */
static void stream_reset(struct jitbuf *jb)
{
	slots_reset(jb);
	jb->state = JB_IDLE;
	jb->have_ssrc = false;
	jb->have_play = false;
	jb->have_played_seq = false;
	jb->played_mask = 0;
	jb->have_transit = false;
	jb->hi_ts = 0;
	jb->lo_ts = 0;
	jb->since_corr = 0;
}


static void pending_release(struct jitbuf *jb)
{
	if (jb->pending < 0)
		return;

	jb->freev[jb->nfree++] = (uint8_t)jb->pending;
	jb->pending = -1;
}


/* remove order[0]; the slot goes back to the free stack */
static void head_free(struct jitbuf *jb)
{
	jb->freev[jb->nfree++] = jb->order[0];
	memmove(&jb->order[0], &jb->order[1], --jb->n);
}


static uint32_t target_ts(const struct jitbuf *jb)
{
	uint64_t t;
	uint32_t lo = ms_to_ts(jb, jb->cfg.min_ms);
	uint32_t hi = ms_to_ts(jb, jb->cfg.max_ms);

	/* one packet must be in hand while the next is in flight, plus one
	   consumer frame of slack, plus the jitter margin */
	t = (uint64_t)JITTER_MULT * (jb->jitter_q4 >> 4)
		+ jb->last_dur + ms_to_ts(jb, jb->cfg.frame_ms);

	if (t < lo)
		t = lo;
	if (t > hi)
		t = hi;

	return (uint32_t)t;
}


/* buffered ahead of ref: end of the newest packet minus ref */
static int32_t depth_from(const struct jitbuf *jb, uint32_t ref)
{
	const struct jb_slot *s;

	if (!jb->n)
		return 0;

	s = &jb->slotv[jb->order[jb->n - 1]];

	return ts_diff(s->ts + s->dur, ref);
}


static void played_mark(struct jitbuf *jb, uint16_t seq)
{
	int16_t d;

	if (!jb->have_played_seq) {
		jb->have_played_seq = true;
		jb->played_hi = seq;
		jb->played_mask = 1;
		return;
	}

	d = (int16_t)(seq - jb->played_hi);
	if (d > 0) {
		jb->played_mask = d >= 64 ? 0 : jb->played_mask << d;
		jb->played_mask |= 1;
		jb->played_hi = seq;
	}
	else if (d > -64) {
		jb->played_mask |= (uint64_t)1 << -d;
	}
}


static bool played_has(const struct jitbuf *jb, uint16_t seq)
{
	int16_t d;

	if (!jb->have_played_seq)
		return false;

	d = (int16_t)(jb->played_hi - seq);
	if (d < 0 || d >= 64)
		return false;

	return (jb->played_mask >> d) & 1;
}


static void jitter_update(struct jitbuf *jb, uint32_t ts, uint64_t now_us)
{
	uint32_t arrival = (uint32_t)(now_us * jb->cfg.clock / 1000000);
	int32_t transit = (int32_t)(arrival - ts);
	int64_t d;

	if (jb->have_transit) {
		d = (int64_t)transit - jb->transit;
		if (d < 0)
			d = -d;

		/* a sender pause or clock step is not jitter */
		if (d <= (int64_t)ms_to_ts(jb, JB_JUMP_MS))
			jb->jitter_q4 += (uint32_t)d - ((jb->jitter_q4 + 8) >> 4);
	}

	jb->transit = transit;
	jb->have_transit = true;
}


static void destructor(struct jitbuf *jb)
{
	free(jb->slotv);
}


int jitbuf_alloc(struct jitbuf **jbp, const struct jitbuf_cfg *cfg)
{
	struct jitbuf *jb;

	if (!jbp || !cfg || !cfg->clock || !cfg->frame_ms)
		return EINVAL;

	jb = calloc(1, sizeof(*jb));
	if (!jb)
		return ENOMEM;

	jb->slotv = calloc(JITBUF_SLOTS, sizeof(*jb->slotv));
	if (!jb->slotv) {
		free(jb);
		return ENOMEM;
	}

	jb->cfg = *cfg;
	if (jb->cfg.max_ms < jb->cfg.min_ms)
		jb->cfg.max_ms = jb->cfg.min_ms;
	jb->last_dur = ms_to_ts(jb, cfg->frame_ms);
	stream_reset(jb);

	*jbp = jb;

	return 0;
}


void jitbuf_free(struct jitbuf *jb)
{
	if (!jb)
		return;

	destructor(jb);
	free(jb);
}


void jitbuf_flush(struct jitbuf *jb)
{
	if (!jb)
		return;

	stream_reset(jb);
}


static void slot_insert(struct jitbuf *jb, uint16_t seq, uint32_t ts,
			uint32_t dur, const uint8_t *data, size_t len)
{
	struct jb_slot *s;
	uint8_t idx = jb->freev[--jb->nfree];
	unsigned pos = jb->n;

	s = &jb->slotv[idx];
	s->seq = seq;
	s->ts  = ts;
	s->dur = dur;
	s->len = (uint16_t)len;
	memcpy(s->data, data, len);

	/* mostly in order: search from the back */
	while (pos > 0 && ts_diff(jb->slotv[jb->order[pos - 1]].ts, ts) > 0)
		--pos;

	memmove(&jb->order[pos + 1], &jb->order[pos], jb->n - pos);
	jb->order[pos] = idx;
	++jb->n;
}


int jitbuf_put(struct jitbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
	     uint32_t dur, const uint8_t *data, size_t len, uint64_t now_us)
{
	const uint32_t jump = jb ? ms_to_ts(jb, jb->cfg.max_ms + JB_JUMP_MS)
				 : 0;
	unsigned i;

	if (!jb || !data || !len || len > JITBUF_SLOT_SIZE || !dur)
		return EINVAL;

	pending_release(jb);

	if (jb->have_ssrc && ssrc != jb->ssrc) {
		stream_reset(jb);
		++jb->st.resets;
	}

	/* a new talk spurt after we ran dry may start anywhere ahead */
	if (jb->state == JB_BUFFERING && !jb->n && jb->have_play &&
	    ts_diff(ts, jb->play_ts) > (int32_t)jump) {
		jb->have_play = false;
	}
	else if (jb->have_play &&
		 (ts_diff(ts, jb->play_ts) > (int32_t)jump ||
		  ts_diff(ts, jb->play_ts) < -(int32_t)jump)) {
		stream_reset(jb);
		++jb->st.resets;
	}
	else if (!jb->have_play && jb->n) {
		const uint32_t ref = jb->slotv[jb->order[jb->n - 1]].ts;

		if (ts_diff(ts, ref) > (int32_t)jump ||
		    ts_diff(ts, ref) < -(int32_t)jump) {
			stream_reset(jb);
			++jb->st.resets;
		}
	}

	jb->have_ssrc = true;
	jb->ssrc = ssrc;

	if (played_has(jb, seq)) {
		++jb->st.dup;
		return EALREADY;
	}

	for (i = 0; i < jb->n; i++) {
		const struct jb_slot *s = &jb->slotv[jb->order[i]];

		if (s->seq == seq || s->ts == ts) {
			++jb->st.dup;
			return EALREADY;
		}
	}

	jitter_update(jb, ts, now_us);

	if (jb->have_play && ts_diff(ts + dur, jb->play_ts) <= 0) {
		++jb->st.late;
		return ETIMEDOUT;
	}

	if (!jb->nfree) {
		/* older than everything we hold: it cannot be played first */
		if (ts_diff(ts, jb->slotv[jb->order[0]].ts) < 0) {
			++jb->st.overflow;
			return ENOSPC;
		}
		head_free(jb);
		++jb->st.overflow;
	}

	slot_insert(jb, seq, ts, dur, data, len);
	jb->last_dur = dur;
	++jb->st.packets;

	if (jb->state == JB_IDLE ||
	    (jb->state == JB_BUFFERING && jb->n == 1)) {
		jb->state = JB_BUFFERING;
		jb->buf_start_us = now_us;
	}

	return 0;
}


static enum jitbuf_res pkt_out(struct jitbuf *jb, struct jitbuf_out *out)
{
	const struct jb_slot *s = &jb->slotv[jb->order[0]];

	out->data = s->data;
	out->len  = s->len;
	out->ts   = s->ts;
	out->dur  = s->dur;

	played_mark(jb, s->seq);
	jb->play_ts = s->ts + s->dur;
	jb->since_corr += s->dur;

	/* keep the slot alive until the caller is done with it */
	jb->pending = jb->order[0];
	memmove(&jb->order[0], &jb->order[1], --jb->n);

	return JITBUF_PKT;
}


/*
 * A burst after a network stall (or a target that fell a lot): drop the
 * oldest packets at once until what is left spans about the target,
 * instead of playing the backlog with seconds of extra delay. ref is the
 * play point (PLAYING) or the oldest packet (starting).
 */
static void trim_backlog(struct jitbuf *jb, bool playing, uint32_t tgt)
{
	while (jb->n > 1) {
		const struct jb_slot *h = &jb->slotv[jb->order[0]];
		const uint32_t ref = playing ? jb->play_ts : h->ts;

		if (depth_from(jb, ref) - (int32_t)h->dur < (int32_t)tgt)
			break;

		played_mark(jb, h->seq);
		jb->play_ts = h->ts + h->dur;
		head_free(jb);
		++jb->st.skipped;
	}
}


static enum jitbuf_res playing_get(struct jitbuf *jb, struct jitbuf_out *out)
{
	const uint32_t frame = ms_to_ts(jb, jb->cfg.frame_ms);
	const uint32_t hold = ms_to_ts(jb, DRIFT_HOLD_MS);
	const struct jb_slot *head;
	uint32_t tgt;
	int32_t depth, gap, gap_max;

	/* stale leftovers (overlapping timestamps) */
	while (jb->n) {
		head = &jb->slotv[jb->order[0]];
		if (ts_diff(head->ts + head->dur, jb->play_ts) > 0)
			break;
		head_free(jb);
		++jb->st.late;
	}

	if (!jb->n) {
		++jb->st.underruns;
		jb->state = JB_BUFFERING;
		jb->hi_ts = 0;
		jb->lo_ts = 0;
		out->dur = frame;
		return JITBUF_UNDERRUN;
	}

	tgt = target_ts(jb);
	depth = depth_from(jb, jb->play_ts);
	if (depth > (int32_t)(ms_to_ts(jb, jb->cfg.max_ms) + jb->last_dur)) {
		trim_backlog(jb, true, tgt);
		depth = depth_from(jb, jb->play_ts);
		jb->hi_ts = 0;
	}

	head = &jb->slotv[jb->order[0]];

	/* how long the depth has stayed beyond each level (its minimum /
	   maximum over the window), counted in playout */
	jb->hi_ts = depth > (int32_t)(tgt + head->dur + frame / 2) ?
		jb->hi_ts + head->dur : 0;
	jb->lo_ts = depth < (int32_t)(tgt - frame / 2) ?
		jb->lo_ts + head->dur : 0;

	if (jb->since_corr >= hold &&
	    jb->lo_ts >= ms_to_ts(jb, DRIFT_SUSTAIN_LO_MS)) {
		/* sender slow or jitter grew: play one frame more */
		jb->since_corr = 0;
		jb->lo_ts = 0;
		++jb->st.inserted;
		out->dur = frame;
		return JITBUF_INSERT;
	}

	gap = ts_diff(head->ts, jb->play_ts);
	gap_max = (int32_t)(ms_to_ts(jb, jb->cfg.max_ms) + head->dur);

	if (gap > gap_max) {
		/* timestamps stepped forward within one stream */
		jb->play_ts = head->ts;
		++jb->st.resets;
		gap = 0;
	}

	if (gap > 0) {
		const uint32_t miss = (uint32_t)gap < head->dur ?
			(uint32_t)gap : head->dur;

		out->dur = miss;
		if (miss == (uint32_t)gap) {
			out->next = head->data;
			out->next_len = head->len;
		}
		jb->play_ts += miss;
		jb->since_corr += miss;
		++jb->st.lost;
		return JITBUF_MISSING;
	}

	if (jb->since_corr >= hold && jb->n >= 2 &&
	    jb->hi_ts >= ms_to_ts(jb, DRIFT_SUSTAIN_HI_MS)) {
		/* sender fast or jitter shrank: skip this packet */
		out->drop = true;
		jb->since_corr = 0;
		jb->hi_ts = 0;
		++jb->st.skipped;
	}

	return pkt_out(jb, out);
}


enum jitbuf_res jitbuf_get(struct jitbuf *jb, struct jitbuf_out *out,
		       uint64_t now_us)
{
	int32_t depth;

	if (!jb || !out)
		return JITBUF_NODATA;

	memset(out, 0, sizeof(*out));
	pending_release(jb);

	switch (jb->state) {

	case JB_IDLE:
		return JITBUF_NODATA;

	case JB_BUFFERING:
		if (!jb->n)
			break;

		depth = depth_from(jb, jb->slotv[jb->order[0]].ts);
		if (depth < (int32_t)target_ts(jb) &&
		    now_us - jb->buf_start_us <
		    (uint64_t)jb->cfg.max_ms * 1000)
			break;

		jb->state = JB_PLAYING;
		if (jb->have_play && jb->have_played_seq) {
			/* packets lost while we ran dry: the seq gap tells;
			   more missing seqs than the ts gap can hold is a
			   seq discontinuity, not loss */
			const struct jb_slot *h = &jb->slotv[jb->order[0]];
			const int16_t sg = (int16_t)(h->seq - jb->played_hi);
			const int32_t tg = ts_diff(h->ts, jb->play_ts);
			const int64_t by_ts = tg > 0 ? tg / (int32_t)h->dur : 0;

			if (sg > 1 && sg - 1 <= by_ts)
				jb->st.lost += (uint64_t)(sg - 1);
		}
		if (!jb->have_play ||
		    ts_diff(jb->slotv[jb->order[0]].ts, jb->play_ts) > 0)
			jb->play_ts = jb->slotv[jb->order[0]].ts;
		/* a real backlog, not just a pre-buffer with a gap in it */
		if (depth > (int32_t)(2 * target_ts(jb) + jb->last_dur)) {
			trim_backlog(jb, false, target_ts(jb));
			jb->play_ts = jb->slotv[jb->order[0]].ts;
			depth = depth_from(jb, jb->play_ts);
		}
		jb->have_play = true;
		jb->hi_ts = 0;
		jb->lo_ts = 0;
		jb->since_corr = 0;
		return playing_get(jb, out);

	case JB_PLAYING:
		return playing_get(jb, out);
	}

	/* buffering: conceal if we were playing, else silence */
	if (jb->have_play) {
		out->dur = ms_to_ts(jb, jb->cfg.frame_ms);
		return JITBUF_UNDERRUN;
	}

	return JITBUF_NODATA;
}


void jitbuf_skip_undo(struct jitbuf *jb, uint32_t dur)
{
	if (!jb)
		return;

	(void)dur;
	if (jb->st.skipped)
		--jb->st.skipped;
	/* no hold time and the evidence stands: the next packet may be
	   skipped instead (if the depth is still above the level) */
	jb->since_corr = ms_to_ts(jb, DRIFT_HOLD_MS);
	jb->hi_ts = ms_to_ts(jb, DRIFT_SUSTAIN_HI_MS);
}


bool jitbuf_playing(const struct jitbuf *jb)
{
	return jb && jb->state == JB_PLAYING;
}


void jitbuf_stats(const struct jitbuf *jb, struct jitbuf_stats *st)
{
	if (!jb || !st)
		return;

	*st = jb->st;
	st->jitter = jb->jitter_q4 >> 4;
	st->target = target_ts(jb);
	st->depth = jb->state == JB_PLAYING ?
		(uint32_t)(depth_from(jb, jb->play_ts) > 0 ?
			   depth_from(jb, jb->play_ts) : 0) : 0;
}
