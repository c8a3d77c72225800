/**
 * @file wroom.c  A room on a media worker: its mixer (grown between
 * frames when full), legs joining and leaving at frame boundaries, and
 * the per-frame work: receive, mix, send, RTCP, timeouts.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>

#include <chorus/mixer.h>
#include "media/worker.h"


int wroom_alloc(struct wroom **roomp, const struct media_cfg *cfg,
		uint32_t room_id, uint32_t capacity)
{
	struct wroom *room;
	int err;

	if (!roomp || !cfg)
		return EINVAL;

	room = calloc(1, sizeof(*room));
	if (!room)
		return ENOMEM;

	room->id = room_id;
	room->mcfg.srate = cfg->room_srate;
	room->mcfg.ptime_ms = cfg->ptime_ms;
	room->mcfg.capacity = capacity ? capacity : ROOM_CAPACITY_DEFAULT;
	room->mcfg.topk = cfg->topk;
	room->mcfg.isa = MIX_ISA_AUTO;

	room->slot = calloc(room->mcfg.capacity, sizeof(*room->slot));
	if (!room->slot) {
		err = ENOMEM;
		goto out;
	}

	err = mix_alloc(&room->mix, &room->mcfg);

 out:
	if (err)
		wroom_free(room);
	else
		*roomp = room;

	return err;
}


void wroom_free(struct wroom *room)
{
	if (!room)
		return;

	while (room->nshenc)
		wsend_shenc_free(room->shenc[--room->nshenc]);
	free(room->shenc);
	mix_free(room->mix);
	free(room->slot);
	free(room);
}


static unsigned leg_mix_flags(const struct wleg *leg)
{
	unsigned f = leg->user_flags;

	if (!(leg->prm.dir & MEDIA_RECV))
		f |= MIX_MUTE;
	if (!(leg->prm.dir & MEDIA_SEND))
		f |= MIX_DEAF;

	return f;
}


void wroom_apply_mix(struct wleg *leg)
{
	struct mixer *mix = leg->room->mix;

	(void)mix_leg_set_flags(mix, leg->slot, leg_mix_flags(leg));
	(void)mix_leg_set_gain(mix, leg->slot, leg->gain_in, leg->gain_out);
}


/* a mixer's capacity is fixed: build a bigger one and move every leg */
static int room_grow(struct wroom *room)
{
	struct mix_cfg mcfg = room->mcfg;
	struct mixer *mix;
	struct wleg **slot;
	unsigned i;
	int err;

	mcfg.capacity *= 2;

	slot = calloc(mcfg.capacity, sizeof(*slot));
	if (!slot)
		return ENOMEM;

	err = mix_alloc(&mix, &mcfg);
	if (err) {
		free(slot);
		return err;
	}

	for (i = 0; i < room->mcfg.capacity; i++) {
		struct wleg *leg = room->slot[i];
		unsigned id;

		if (!leg)
			continue;

		err = mix_leg_add(mix, &id);
		if (err)
			break;
		slot[id] = leg;
		leg->slot = id;
	}

	if (err) {
		/* cannot happen with twice the capacity; keep the old one */
		for (i = 0; i < room->mcfg.capacity; i++)
			if (room->slot[i])
				room->slot[i]->slot = i;
		mix_free(mix);
		free(slot);
		return err;
	}

	mix_free(room->mix);
	free(room->slot);
	room->mix = mix;
	room->slot = slot;
	room->mcfg = mcfg;

	for (i = 0; i < mcfg.capacity; i++)
		if (slot[i])
			wroom_apply_mix(slot[i]);

	return 0;
}


static void tone_start(struct worker *w, struct wroom *room,
		       struct wleg *except)
{
	unsigned i, n;

	if (!w->me->cfg.join_tones || !w->tone)
		return;

	n = (unsigned)(w->me->cfg.room_srate * TONE_MS / 1000);
	for (i = 0; i < room->mcfg.capacity; i++) {
		struct wleg *leg = room->slot[i];

		if (leg && leg != except)
			leg->tone_left = n;
	}
}


int wroom_attach(struct worker *w, struct wleg *leg, struct wroom *room,
		      uint64_t now_us)
{
	unsigned id;
	int err;

	err = mix_leg_add(room->mix, &id);
	if (err == ENOSPC) {
		err = room_grow(room);
		if (!err)
			err = mix_leg_add(room->mix, &id);
	}
	if (err)
		return err;

	leg->room = room;
	leg->slot = id;
	room->slot[id] = leg;
	++room->nlegs;
	++w->nlegs;
	leg->vad = false;

	if (!leg->last_rx_us)
		leg->last_rx_us = now_us;
	if (!leg->next_rtcp_us)
		wleg_rtcp_schedule(leg, now_us);
	if (!leg->next_pub_us)
		leg->next_pub_us = now_us + STATS_INTERVAL_US;

	wroom_apply_mix(leg);
	tone_start(w, room, leg);

	return 0;
}


void wroom_detach(struct worker *w, struct wleg *leg)
{
	struct wroom *room = leg->room;

	if (!room)
		return;

	if (leg->vad)
		worker_post_ev(w, MEDIA_EV_TALKING, room->id, leg->id, 0);
	leg->vad = false;

	(void)mix_leg_remove(room->mix, leg->slot);
	room->slot[leg->slot] = NULL;
	--room->nlegs;
	--w->nlegs;
	leg->room = NULL;
	tone_start(w, room, NULL);
}


/* RTCP BYE, close, LEG_RELEASED; the leg is gone afterwards */
void wroom_release(struct worker *w, struct wleg *leg, uint32_t room_id)
{
	uint32_t id = leg->id;

	if (leg->room) {
		room_id = leg->room->id;
		wroom_detach(w, leg);
	}

	wleg_rtcp_send(leg, media_now_us(), true);
	wleg_publish(leg);
	wleg_free(leg);

	worker_post_ev(w, MEDIA_EV_LEG_RELEASED, room_id, id, 0);
}


void wroom_tick(struct worker *w, struct wroom *room, uint64_t now_us)
{
	const uint32_t timeout_ms = w->me->cfg.rtp_timeout_ms;
	unsigned i;

	for (i = 0; i < room->mcfg.capacity; i++) {
		struct wleg *leg = room->slot[i];

		if (!leg)
			continue;

		wleg_rx(w, leg, leg->fd_rtp, false, now_us);
		wleg_rx(w, leg, leg->fd_rtcp, true, now_us);

		/* a false return leaves the (zeroed) input as silence */
		(void)rxchain_get(leg->rx, mix_leg_input(room->mix, i),
				  now_us);
	}

	mix_tick(room->mix);
	wsend_plan(w, room);

	for (i = 0; i < room->mcfg.capacity; i++) {
		struct wleg *leg = room->slot[i];
		bool vad;

		if (!leg)
			continue;

		vad = mix_leg_vad(room->mix, i);
		if (vad != leg->vad) {
			leg->vad = vad;
			worker_post_ev(w, MEDIA_EV_TALKING, room->id,
				       leg->id, vad);
		}

		if (leg->prm.dir & MEDIA_SEND)
			wsend_leg(w, room, leg, now_us);

		if (now_us >= leg->next_rtcp_us) {
			wleg_rtcp_send(leg, now_us, false);
			wleg_rtcp_schedule(leg, now_us);
		}

		if (timeout_ms && (leg->prm.dir & MEDIA_RECV) &&
		    !leg->timeout_sent &&
		    now_us - leg->last_rx_us > (uint64_t)timeout_ms * 1000) {
			leg->timeout_sent = true;
			worker_post_ev(w, MEDIA_EV_LEG_TIMEOUT, room->id,
				       leg->id, 0);
		}

		if (now_us >= leg->next_pub_us) {
			wleg_publish(leg);
			leg->next_pub_us = now_us + STATS_INTERVAL_US;
		}
	}

	wsend_gc(room);
}
