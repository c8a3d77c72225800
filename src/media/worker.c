/**
 * @file worker.c  A media worker thread: every ptime, on an absolute
 * CLOCK_MONOTONIC deadline, it applies queued commands, then ticks each
 * of its rooms (wroom.c). Events go back to the libre thread through the
 * worker's event ring and one mqueue doorbell.
 *
 * Nothing in the worker calls a libre loop API or touches a libre object;
 * the only libre calls are pure helpers on struct sa and mqueue_push(),
 * which is thread-safe (a write to a pipe).
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <re.h>

#include <chorus/mixer.h>
#include "ctrl/log.h"
#include "media/worker.h"


uint64_t media_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}


/* at most one wake-up per worker is in the mqueue's pipe, so the pipe
 * cannot fill up and block a worker however slow the libre thread is */
static void ring_bell(struct worker *w)
{
	if (atomic_exchange(&w->bell, true))
		return;

	/* failed: clear the flag, the next tick rings again */
	if (mqueue_push(w->me->mq, (int)w->idx, NULL))
		atomic_store(&w->bell, false);
}


/* events that found the ring full wait here, in order */
static void flush_overflow(struct worker *w)
{
	size_t i = 0;

	while (i < w->nover && spsc_push(&w->evq, &w->over[i]))
		++i;

	if (i) {
		memmove(w->over, w->over + i,
			(w->nover - i) * sizeof(*w->over));
		w->nover -= i;
		ring_bell(w);
	}
}


void worker_post(struct worker *w, const struct wevent *wev)
{
	if (w->nover == 0 && spsc_push(&w->evq, wev)) {
		ring_bell(w);
		return;
	}

	if (w->nover == w->over_cap) {
		size_t cap = w->over_cap ? 2 * w->over_cap : 64;
		struct wevent *o = realloc(w->over, cap * sizeof(*o));

		if (!o) {
			/* a detached leg must not be lost: it owns fds */
			++w->ev_dropped;
			if (wev->kind == WEV_LEG_DETACHED)
				wleg_free(wev->leg);
			return;
		}
		w->over = o;
		w->over_cap = cap;
	}

	w->over[w->nover++] = *wev;
}


void worker_post_ev(struct worker *w, enum media_event_type type,
		    uint32_t room_id, uint32_t leg_id, int value)
{
	struct wevent wev;

	memset(&wev, 0, sizeof(wev));
	wev.kind = WEV_PUBLIC;
	wev.ev.type = type;
	wev.ev.room_id = room_id;
	wev.ev.leg_id = leg_id;
	wev.ev.worker = w->idx;
	wev.ev.value = value;

	worker_post(w, &wev);
}


void wcmd_discard(struct wcmd *cmd)
{
	if (!cmd)
		return;

	switch (cmd->type) {

	case WCMD_ROOM_ADD:
		wroom_free(cmd->room);
		break;

	case WCMD_LEG_ATTACH:
	case WCMD_LEG_RELEASE:
		wleg_free(cmd->leg);
		break;

	default:
		break;
	}

	mem_deref(cmd->srtp_tx);
	mem_deref(cmd->srtp_rx);
	free(cmd->pcm);
	free(cmd);
}


/* an intrusive list: adding a room can never fail half-way */
static void room_insert(struct worker *w, struct wroom *room)
{
	room->prev = NULL;
	room->next = w->rooms;
	if (w->rooms)
		w->rooms->prev = room;
	w->rooms = room;
	++w->nrooms;
}


static void room_unlink(struct worker *w, struct wroom *room)
{
	if (room->prev)
		room->prev->next = room->next;
	else
		w->rooms = room->next;
	if (room->next)
		room->next->prev = room->prev;

	room->prev = room->next = NULL;
	--w->nrooms;
}


static void leg_update(struct wleg *leg, const struct media_leg_params *prm,
		       uint64_t now_us)
{
	const struct codec_fmt *o = &leg->prm.codec, *n = &prm->codec;

	if (o->id != n->id || o->pt != n->pt || o->srate != n->srate ||
	    o->rtp_clock != n->rtp_clock || o->channels != n->channels ||
	    o->ptime_ms != n->ptime_ms || o->fec != n->fec ||
	    o->dtx != n->dtx || o->maxavgbitrate != n->maxavgbitrate) {

		if (rxchain_set_fmt(leg->rx, n) || txchain_set_fmt(leg->tx, n))
			log_printf(LOG_LVL_WARN,
				   "media: leg %u: codec change to %s failed\n",
				   leg->id, codec_name(n->id));
	}

	/* re-latch only when the SDP address really changed: a session
	 * refresh repeats the (maybe private) address of the first offer */
	if (!sa_cmp(&prm->raddr_rtp, &leg->prm.raddr_rtp, SA_ALL)) {
		leg->raddr_rtp = prm->raddr_rtp;
		leg->latched = false;
		if (leg->fd_rtcp < 0) {
			leg->raddr_rtcp = prm->raddr_rtp;
		}
		else {
			leg->raddr_rtcp = prm->raddr_rtcp;
			leg->latched_rtcp = false;
		}
	}
	else if (leg->fd_rtcp >= 0 &&
		 !sa_cmp(&prm->raddr_rtcp, &leg->prm.raddr_rtcp, SA_ALL)) {
		leg->raddr_rtcp = prm->raddr_rtcp;
		leg->latched_rtcp = false;
	}

	/* the sockets were bound once; a change of rtcp-mux cannot change
	 * them, so the original choice is kept */
	leg->prm.codec = prm->codec;
	leg->prm.telev_pt = prm->telev_pt;
	leg->prm.telev_rate = prm->telev_rate;
	leg->prm.raddr_rtp = prm->raddr_rtp;
	leg->prm.raddr_rtcp = prm->raddr_rtcp;
	leg->prm.dir = prm->dir;
	if (prm->cname[0])
		memcpy(leg->prm.cname, prm->cname, sizeof(leg->prm.cname));
	leg->prm.cname[sizeof(leg->prm.cname) - 1] = '\0';

	/* a fresh grace period for the timeout after a re-INVITE */
	leg->last_rx_us = now_us;
	leg->timeout_sent = false;

	if (leg->room)
		wroom_apply_mix(leg);
}


static void leg_control(struct wleg *leg, enum media_leg_op op, int value)
{
	switch (op) {

	case MEDIA_OP_MUTE:
		if (value)
			leg->user_flags |= MIX_MUTE;
		else
			leg->user_flags &= ~(unsigned)MIX_MUTE;
		break;

	case MEDIA_OP_DEAF:
		if (value)
			leg->user_flags |= MIX_DEAF;
		else
			leg->user_flags &= ~(unsigned)MIX_DEAF;
		break;

	case MEDIA_OP_GAIN_IN:
		leg->gain_in = (float)value;
		break;

	case MEDIA_OP_GAIN_OUT:
		leg->gain_out = (float)value;
		break;

	default:
		return;
	}

	if (leg->room)
		wroom_apply_mix(leg);
}


static void cmd_apply(struct worker *w, struct wcmd *cmd, uint64_t now_us)
{
	struct wleg *leg = cmd->leg;
	struct wevent wev;
	size_t i;

	switch (cmd->type) {

	case WCMD_ROOM_ADD:
		room_insert(w, cmd->room);
		cmd->room = NULL;
		break;

	case WCMD_ROOM_REMOVE:
		for (i = 0; i < cmd->room->mcfg.capacity; i++) {
			if (cmd->room->slot[i])
				wroom_release(w, cmd->room->slot[i], 0);
		}
		room_unlink(w, cmd->room);
		worker_post_ev(w, MEDIA_EV_ROOM_RELEASED, cmd->room->id,
			       0, 0);
		wroom_free(cmd->room);
		break;

	case WCMD_LEG_ATTACH:
		if (wroom_attach(w, leg, cmd->room, now_us)) {
			log_printf(LOG_LVL_WARN, "media: worker %u: leg %u"
				   " cannot join room %u\n",
				   w->idx, leg->id, cmd->room->id);
			wroom_release(w, leg, cmd->room->id);
		}
		break;

	case WCMD_LEG_UPDATE:
		leg_update(leg, &cmd->prm, now_us);
		if (cmd->srtp_set) {
			/* rekey between two frames; the command frees
			 * nothing it handed over */
			wleg_set_srtp(leg, cmd->srtp_tx, cmd->srtp_rx);
			cmd->srtp_tx = NULL;
			cmd->srtp_rx = NULL;
			leg->srtp_expired_logged = false;
		}
		break;

	case WCMD_LEG_CONTROL:
		leg_control(leg, cmd->op, cmd->value);
		break;

	case WCMD_LEG_REMOVE:
	case WCMD_LEG_RELEASE:
		wroom_release(w, leg, 0);
		break;

	case WCMD_LEG_MOVE:
		if (cmd->room) {
			/* same worker: switch rooms between two frames */
			uint32_t old = leg->room ? leg->room->id : 0;

			wroom_detach(w, leg);
			if (wroom_attach(w, leg, cmd->room, now_us))
				wroom_release(w, leg, old);
			break;
		}

		wroom_detach(w, leg);
		memset(&wev, 0, sizeof(wev));
		wev.kind = WEV_LEG_DETACHED;
		wev.ev.leg_id = leg->id;
		wev.ev.worker = w->idx;
		wev.leg = leg;
		worker_post(w, &wev);
		break;

	case WCMD_LEG_PROMPT:
		/* the leg takes the samples over; a playing prompt goes */
		free(leg->prompt);
		leg->prompt = cmd->pcm;
		leg->prompt_n = cmd->npcm;
		leg->prompt_pos = 0;
		cmd->pcm = NULL;
		break;
	}

	mem_deref(cmd->srtp_tx);
	mem_deref(cmd->srtp_rx);
	free(cmd->pcm);
	free(cmd);
}


static void tick(struct worker *w, uint64_t now_us)
{
	struct wroom *room;
	struct wcmd *cmd;

	flush_overflow(w);
	if (spsc_count(&w->evq))
		ring_bell(w);

	/* control operations only ever take effect between frames */
	while (spsc_pop(&w->cmdq, &cmd))
		cmd_apply(w, cmd, now_us);

	for (room = w->rooms; room; room = room->next)
		wroom_tick(w, room, now_us);

	atomic_store_explicit(&w->pub_rooms, (unsigned)w->nrooms,
			      memory_order_relaxed);
	atomic_store_explicit(&w->pub_legs, w->nlegs, memory_order_relaxed);
}


static void ts_add_us(struct timespec *t, uint64_t us)
{
	t->tv_nsec += (long)(us % 1000000) * 1000;
	t->tv_sec  += (time_t)(us / 1000000);
	if (t->tv_nsec >= 1000000000) {
		t->tv_nsec -= 1000000000;
		t->tv_sec++;
	}
}


static uint64_t ts_us(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000u + (uint64_t)t->tv_nsec / 1000u;
}


static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const uint64_t ptime_us = (uint64_t)w->me->cfg.ptime_ms * 1000;
	const unsigned ticks_per_s = 1000 / w->me->cfg.ptime_ms;
	uint64_t busy_us = 0, win_start, last_log = 0, late_win = 0;
	uint64_t ticks = 0, late = 0, resync = 0;
	uint32_t max_tick_us = 0;
	unsigned win_ticks = 0;
	struct timespec deadline;
	char name[16];

	snprintf(name, sizeof(name), "chorus-media%u", w->idx);
	pthread_setname_np(pthread_self(), name);

	if (w->me->cfg.rt_priority > 0) {
		struct sched_param sp = {
			.sched_priority = w->me->cfg.rt_priority,
		};
		int err = pthread_setschedparam(pthread_self(), SCHED_FIFO,
						&sp);

		/* without CAP_SYS_NICE / RLIMIT_RTPRIO: run normally */
		if (err)
			log_printf(LOG_LVL_WARN, "media: worker %u: no "
				   "real-time priority %d (%s)\n", w->idx,
				   sp.sched_priority, strerror(err));
	}

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	win_start = ts_us(&deadline);

	while (atomic_load_explicit(&w->run, memory_order_acquire)) {
		uint64_t start, end, dl, lateness;
		int err;

		ts_add_us(&deadline, ptime_us);

		do {
			err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
					      &deadline, NULL);
		} while (err == EINTR);

		start = media_now_us();
		dl = ts_us(&deadline);
		lateness = start > dl ? start - dl : 0;

		if (lateness > ptime_us) {
			++late;
			++late_win;

			if (lateness > LATE_FACTOR_RESYNC * ptime_us) {
				/* hopelessly behind: catching up would only
				 * burst; start a new schedule from now */
				deadline.tv_sec  = (time_t)(start / 1000000);
				deadline.tv_nsec = (long)(start % 1000000) *
					1000;
				++resync;
			}

			if (start - last_log > LOG_INTERVAL_US) {
				log_printf(LOG_LVL_WARN,
					   "media: worker %u: tick %llu us late"
					   " (%llu late ticks, %llu resyncs)\n",
					   w->idx,
					   (unsigned long long)lateness,
					   (unsigned long long)late,
					   (unsigned long long)resync);
				last_log = start;
			}
		}

		tick(w, start);

		end = media_now_us();
		busy_us += end - start;
		if (end - start > max_tick_us)
			max_tick_us = (uint32_t)(end - start);
		++ticks;

		atomic_store_explicit(&w->pub_ticks, ticks,
				      memory_order_relaxed);
		atomic_store_explicit(&w->pub_late, late,
				      memory_order_relaxed);
		atomic_store_explicit(&w->pub_resyncs, resync,
				      memory_order_relaxed);

		if (++win_ticks >= ticks_per_s) {
			uint64_t span = end - win_start;
			uint32_t load = span ? (uint32_t)(busy_us * 1000 / span)
					     : 0;
			struct wevent wev;

			atomic_store_explicit(&w->pub_load, load,
					      memory_order_relaxed);
			atomic_store_explicit(&w->pub_max_tick_us, max_tick_us,
					      memory_order_relaxed);

			memset(&wev, 0, sizeof(wev));
			wev.ev.type = MEDIA_EV_WORKER_LOAD;
			wev.ev.worker = w->idx;
			wev.ev.value = (int)load;
			wev.ev.late = late_win;
			worker_post(w, &wev);

			busy_us = 0;
			max_tick_us = 0;
			late_win = 0;
			win_ticks = 0;
			win_start = end;
		}
	}

	return NULL;
}


int worker_start(struct worker *w)
{
	size_t n = (size_t)w->me->cfg.room_srate * TONE_MS / 1000;
	size_t i;
	int err;

	w->rxbuf = calloc(WORKER_RX_BATCH, sizeof(*w->rxbuf));
	if (!w->rxbuf)
		return ENOMEM;

	if (w->me->cfg.join_tones) {
		/* a soft 660 Hz beep with raised-cosine edges */
		w->tone = calloc(n, sizeof(*w->tone));
		if (!w->tone)
			return ENOMEM;

		for (i = 0; i < n; i++) {
			double t = (double)i / w->me->cfg.room_srate;
			double env = sin(M_PI * (double)i / (double)n);

			w->tone[i] = (int16_t)(TONE_AMPL * env *
					       sin(2 * M_PI * 660.0 * t));
		}
	}

	atomic_store(&w->run, true);

	err = pthread_create(&w->thr, NULL, worker_main, w);
	if (err)
		return err;

	w->started = true;
	return 0;
}


void worker_stop(struct worker *w)
{
	struct wroom *room;
	struct wcmd *cmd;
	struct wevent wev;
	size_t i, j;

	if (w->started) {
		atomic_store(&w->run, false);
		pthread_join(w->thr, NULL);
		w->started = false;
	}

	/* the thread is gone: everything below is ours */
	if (w->cmdq.buf) {
		while (spsc_pop(&w->cmdq, &cmd))
			wcmd_discard(cmd);
	}

	while ((room = w->rooms)) {
		room_unlink(w, room);

		for (j = 0; j < room->mcfg.capacity; j++) {
			if (room->slot[j]) {
				wleg_rtcp_send(room->slot[j], media_now_us(),
					       true);
				wleg_free(room->slot[j]);
			}
		}
		wroom_free(room);
	}

	if (w->evq.buf) {
		while (spsc_pop(&w->evq, &wev))
			if (wev.kind == WEV_LEG_DETACHED)
				wleg_free(wev.leg);
	}
	for (i = 0; i < w->nover; i++)
		if (w->over[i].kind == WEV_LEG_DETACHED)
			wleg_free(w->over[i].leg);
	free(w->over);
	w->over = NULL;
	w->nover = 0;

	free(w->rxbuf);
	w->rxbuf = NULL;
	free(w->tone);
	w->tone = NULL;
}
