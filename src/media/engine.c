/**
 * @file engine.c  The media engine seen from the libre thread: it keeps
 * the maps leg -> worker and room -> worker, turns every call of media.h
 * into a command on the owning worker's ring, and turns the workers'
 * events into media_event_h calls.
 *
 * Events: each worker has an SPSC event ring; the worker rings a doorbell
 * (one mqueue message, at most one outstanding per worker) and the mqueue
 * handler drains that worker's ring here. No allocation per event, the
 * pipe under the mqueue can never fill up, and nothing is left in flight
 * when the engine is destroyed.
 *
 * Moves between workers: the old worker detaches the leg and hands the
 * object back through its event ring; this thread then pushes it onto
 * the new worker's ring (each ring keeps a single producer). Commands for
 * a leg in transit wait in a per-leg list and follow it.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <re.h>

#include "media/worker.h"

#include "ctrl/log.h"

enum {
	HASH_BUCKETS = 256,
	BACKLOG_RETRY_MS = 5,
	WORKERS_MAX = 256,
};

struct leg_ent {
	struct le he;
	uint32_t id;
	uint32_t room_id;
	unsigned worker;
	struct wleg *leg;
	bool moving;               /**< detached, on its way back to us    */
	bool removing;             /**< remove requested, wait for release */
	struct list pending;       /**< struct wcmd, while moving          */
	struct leg_pub pub;
	bool srtp;                 /**< keys in use, to spot a rekey       */
	struct sdes_crypto key_tx, key_rx;
};

struct room_ent {
	struct le he;
	uint32_t id;
	unsigned worker;
	struct wroom *room;
	unsigned nlegs;
};


static void leg_submit(struct media_engine *me, struct leg_ent *le,
		       struct wcmd *cmd);


static bool leg_cmp(struct le *he, void *arg)
{
	const struct leg_ent *e = he->data;

	return e->id == *(uint32_t *)arg;
}


static bool room_cmp(struct le *he, void *arg)
{
	const struct room_ent *e = he->data;

	return e->id == *(uint32_t *)arg;
}


static struct leg_ent *leg_find(const struct media_engine *me, uint32_t id)
{
	return list_ledata(hash_lookup(me->legs, id, leg_cmp, &id));
}


static struct room_ent *room_find(const struct media_engine *me, uint32_t id)
{
	return list_ledata(hash_lookup(me->rooms, id, room_cmp, &id));
}


static void leg_ent_destructor(void *arg)
{
	struct leg_ent *le = arg;
	struct le *l;

	hash_unlink(&le->he);
	sdes_crypto_wipe(&le->key_tx);
	sdes_crypto_wipe(&le->key_rx);

	while ((l = list_head(&le->pending))) {
		list_unlink(l);
		wcmd_discard(l->data);
	}
}


static void room_ent_destructor(void *arg)
{
	struct room_ent *re = arg;

	hash_unlink(&re->he);
}


static bool key_equal(const struct sdes_crypto *a, const struct sdes_crypto *b)
{
	return a->suite == b->suite && a->keysalt_len == b->keysalt_len &&
		!memcmp(a->keysalt, b->keysalt, a->keysalt_len) &&
		a->mki == b->mki && a->mki_len == b->mki_len &&
		a->lifetime == b->lifetime;
}


/* libsrtp contexts for a leg; both or neither */
static int srtp_contexts(const struct media_leg_params *prm,
			 struct sec_srtp **txp, struct sec_srtp **rxp)
{
	int err;

	*txp = NULL;
	*rxp = NULL;

	if (!prm->srtp)
		return 0;

	err = sec_srtp_alloc(txp, &prm->srtp_tx, SEC_SRTP_OUTBOUND);
	if (!err)
		err = sec_srtp_alloc(rxp, &prm->srtp_rx, SEC_SRTP_INBOUND);
	if (err) {
		*txp = mem_deref(*txp);
		*rxp = mem_deref(*rxp);
	}

	return err;
}


static void leg_keys_keep(struct leg_ent *le,
			  const struct media_leg_params *prm)
{
	le->srtp = prm->srtp;
	if (prm->srtp) {
		le->key_tx = prm->srtp_tx;
		le->key_rx = prm->srtp_rx;
	}
	else {
		sdes_crypto_wipe(&le->key_tx);
		sdes_crypto_wipe(&le->key_rx);
	}
}


static struct wcmd *cmd_new(enum wcmd_type type)
{
	struct wcmd *cmd = calloc(1, sizeof(*cmd));

	if (cmd)
		cmd->type = type;

	return cmd;
}


/* ---- command delivery ------------------------------------------------ */

static bool backlog_flush(struct worker *w)
{
	struct le *l;

	while ((l = list_head(&w->backlog))) {
		struct wcmd *cmd = l->data;

		if (!spsc_push(&w->cmdq, &cmd))
			return false;
		list_unlink(l);
	}

	return true;
}


static void backlog_tmr(void *arg)
{
	struct media_engine *me = arg;
	bool again = false;
	unsigned i;

	for (i = 0; i < me->nworkers; i++)
		if (!backlog_flush(&me->workers[i]))
			again = true;

	if (again)
		tmr_start(&me->tmr_backlog, BACKLOG_RETRY_MS, backlog_tmr, me);
}


/* never fails: a full ring keeps the command in order on a backlog that
 * a timer retries, because a lost command would leak a leg or a room */
static void cmd_send(struct media_engine *me, unsigned widx, struct wcmd *cmd)
{
	struct worker *w = &me->workers[widx];

	if (list_isempty(&w->backlog) && spsc_push(&w->cmdq, &cmd))
		return;

	list_append(&w->backlog, &cmd->le, cmd);
	if (!tmr_isrunning(&me->tmr_backlog)) {
		log_printf(LOG_LVL_WARN,
			   "media: worker %u command ring full, backlog\n",
			widx);
		tmr_start(&me->tmr_backlog, BACKLOG_RETRY_MS, backlog_tmr, me);
	}
}


static void room_nlegs_add(struct media_engine *me, struct room_ent *re,
			   int delta)
{
	re->nlegs = (unsigned)((int)re->nlegs + delta);
	me->workers[re->worker].nlegs_l =
		(unsigned)((int)me->workers[re->worker].nlegs_l + delta);
}


static void pending_flush(struct media_engine *me, struct leg_ent *le)
{
	struct list pend = LIST_INIT;
	struct le *l;

	/* move them to a local list (libre list elements point back to
	 * their list, so the head cannot simply be copied) */
	while ((l = list_head(&le->pending))) {
		list_unlink(l);
		list_append(&pend, l, l->data);
	}

	/* resubmit in order; a pending move makes the leg travel again
	 * and the rest queue up behind it */
	while ((l = list_head(&pend))) {
		list_unlink(l);
		leg_submit(me, le, l->data);
	}
}


static void leg_submit(struct media_engine *me, struct leg_ent *le,
		       struct wcmd *cmd)
{
	struct room_ent *re;

	if (le->moving) {
		list_append(&le->pending, &cmd->le, cmd);
		return;
	}

	cmd->leg = le->leg;

	if (cmd->type == WCMD_LEG_MOVE) {
		re = room_find(me, cmd->room_id);
		if (!re) {
			cmd->type = WCMD_LEG_REMOVE;
		}
		else if (re->worker == le->worker) {
			cmd->room = re->room;
		}
		else {
			cmd->room = NULL;
			le->moving = true;
		}
	}

	cmd_send(me, le->worker, cmd);
}


/* ---- events ---------------------------------------------------------- */

static void leg_detached(struct media_engine *me, struct wleg *leg,
			 uint32_t leg_id, unsigned old_worker)
{
	struct leg_ent *le = leg_find(me, leg_id);
	struct room_ent *re;
	struct wcmd *cmd;

	if (!le || le->leg != leg) {
		/* cannot happen: the entry lives until LEG_RELEASED */
		log_printf(LOG_LVL_WARN, "media: detached leg %u unknown\n",
			   leg_id);
		wleg_free(leg);
		return;
	}

	le->moving = false;

	re = room_find(me, le->room_id);
	cmd = cmd_new(re ? WCMD_LEG_ATTACH : WCMD_LEG_RELEASE);
	if (!cmd) {
		/* out of memory: the leg cannot travel, end it where it
		 * is rather than leak its sockets */
		le->removing = true;
		wleg_free(leg);
		return;
	}

	cmd->leg = leg;

	if (re) {
		cmd->room = re->room;
		le->worker = re->worker;
		cmd_send(me, le->worker, cmd);
		pending_flush(me, le);
	}
	else {
		struct le *l;

		/* its room went away meanwhile: release it on the old
		 * worker; queued commands are void */
		le->removing = true;
		cmd_send(me, old_worker, cmd);

		while ((l = list_head(&le->pending))) {
			list_unlink(l);
			wcmd_discard(l->data);
		}
	}
}


static void leg_released(struct media_engine *me, uint32_t leg_id)
{
	struct leg_ent *le = leg_find(me, leg_id);

	if (!le)
		return;

	/* released by the worker on its own (it could not join its
	 * room): it no longer counts there */
	if (!le->removing) {
		struct room_ent *re = room_find(me, le->room_id);

		if (re)
			room_nlegs_add(me, re, -1);
	}

	mem_deref(le);
}


static void mq_handler(int id, void *data, void *arg)
{
	struct media_engine *me = arg;
	struct worker *w;
	struct wevent wev;
	(void)data;

	if (id < 0 || (unsigned)id >= me->nworkers)
		return;

	w = &me->workers[id];

	/* clear before draining: an event pushed after our last pop rings
	 * again, so none is left behind */
	atomic_store(&w->bell, false);

	mem_ref(me);

	while (me->workers && spsc_pop(&w->evq, &wev)) {

		if (wev.kind == WEV_LEG_DETACHED) {
			leg_detached(me, wev.leg, wev.ev.leg_id, w->idx);
			continue;
		}

		if (me->eh)
			me->eh(&wev.ev, me->arg);

		/* after the handler, so it can still read the final stats
		 * (the worker published them just before releasing) */
		if (wev.ev.type == MEDIA_EV_LEG_RELEASED)
			leg_released(me, wev.ev.leg_id);
	}

	mem_deref(me);
}


/* ---- engine ---------------------------------------------------------- */

static void engine_destructor(void *arg)
{
	struct media_engine *me = arg;
	unsigned i;

	tmr_cancel(&me->tmr_backlog);

	for (i = 0; me->workers && i < me->nworkers; i++) {
		struct worker *w = &me->workers[i];
		struct le *l;

		worker_stop(w);

		while ((l = list_head(&w->backlog))) {
			list_unlink(l);
			wcmd_discard(l->data);
		}

		spsc_destroy(&w->cmdq);
		spsc_destroy(&w->evq);
	}

	/* leg entries: free pending commands (with the legs they carry) */
	hash_flush(me->legs);
	hash_flush(me->rooms);
	me->legs = mem_deref(me->legs);
	me->rooms = mem_deref(me->rooms);

	free(me->workers);
	me->workers = NULL;
	me->mq = mem_deref(me->mq);
}


static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}


int media_engine_alloc(struct media_engine **mep, const struct media_cfg *cfg,
		       media_event_h *eh, void *arg)
{
	struct media_engine *me;
	unsigned i;
	int err;

	if (!mep || !cfg)
		return EINVAL;

	me = mem_zalloc(sizeof(*me), engine_destructor);
	if (!me)
		return ENOMEM;

	me->cfg = *cfg;
	me->eh = eh;
	me->arg = arg;
	tmr_init(&me->tmr_backlog);

	if (!me->cfg.room_srate)
		me->cfg.room_srate = 48000;
	if (!me->cfg.ptime_ms)
		me->cfg.ptime_ms = 20;
	if (!me->cfg.jb_max_ms)
		me->cfg.jb_max_ms = 200;

	if (me->cfg.ptime_ms < 10 || me->cfg.ptime_ms > 60 ||
	    1000 % me->cfg.ptime_ms ||
	    (me->cfg.room_srate != 48000 && me->cfg.room_srate != 16000 &&
	     me->cfg.room_srate != 8000 && me->cfg.room_srate != 24000 &&
	     me->cfg.room_srate != 32000)) {
		err = EINVAL;
		goto out;
	}

	me->nworkers = cfg->workers ? cfg->workers : online_cpus();
	if (me->nworkers > WORKERS_MAX)
		me->nworkers = WORKERS_MAX;

	err  = hash_alloc(&me->legs, HASH_BUCKETS);
	err |= hash_alloc(&me->rooms, HASH_BUCKETS);
	if (err) {
		err = ENOMEM;
		goto out;
	}

	err = mqueue_alloc(&me->mq, mq_handler, me);
	if (err)
		goto out;

	me->workers = calloc(me->nworkers, sizeof(*me->workers));
	if (!me->workers) {
		err = ENOMEM;
		goto out;
	}

	for (i = 0; i < me->nworkers; i++) {
		struct worker *w = &me->workers[i];

		w->me = me;
		w->idx = i;
		list_init(&w->backlog);

		err  = spsc_init(&w->cmdq, WORKER_CMDQ_SIZE,
				 sizeof(struct wcmd *));
		err |= spsc_init(&w->evq, WORKER_EVQ_SIZE,
				 sizeof(struct wevent));
		if (err) {
			err = ENOMEM;
			goto out;
		}
	}

	for (i = 0; i < me->nworkers; i++) {
		err = worker_start(&me->workers[i]);
		if (err)
			goto out;
	}

 out:
	if (err)
		mem_deref(me);
	else
		*mep = me;

	return err;
}


unsigned media_engine_workers(const struct media_engine *me)
{
	return me ? me->nworkers : 0;
}


int media_worker_stats(const struct media_engine *me, unsigned worker,
		       struct media_worker_stats *st)
{
	struct worker *w;

	if (!me || !st || worker >= me->nworkers)
		return EINVAL;

	w = &me->workers[worker];

	st->ticks = atomic_load_explicit(&w->pub_ticks, memory_order_relaxed);
	st->late_ticks = atomic_load_explicit(&w->pub_late,
					      memory_order_relaxed);
	st->load_permille = atomic_load_explicit(&w->pub_load,
						 memory_order_relaxed);
	st->max_tick_us = atomic_load_explicit(&w->pub_max_tick_us,
					       memory_order_relaxed);
	st->rooms = atomic_load_explicit(&w->pub_rooms, memory_order_relaxed);
	st->legs = atomic_load_explicit(&w->pub_legs, memory_order_relaxed);
	st->resyncs = atomic_load_explicit(&w->pub_resyncs,
					   memory_order_relaxed);

	return 0;
}


int media_room_worker(const struct media_engine *me, uint32_t room_id,
		      unsigned *worker)
{
	const struct room_ent *re;

	if (!me || !worker)
		return EINVAL;

	re = room_find(me, room_id);
	if (!re)
		return ENOENT;

	*worker = re->worker;

	return 0;
}


/* ---- rooms ----------------------------------------------------------- */

int media_room_add2(struct media_engine *me, uint32_t room_id,
		    uint32_t capacity)
{
	struct room_ent *re;
	struct wcmd *cmd;
	unsigned i, best = 0;
	int err;

	if (!me)
		return EINVAL;

	if (room_find(me, room_id))
		return EALREADY;

	/* least loaded: fewest legs, then fewest rooms */
	for (i = 1; i < me->nworkers; i++) {
		const struct worker *a = &me->workers[i];
		const struct worker *b = &me->workers[best];

		if (a->nlegs_l < b->nlegs_l ||
		    (a->nlegs_l == b->nlegs_l && a->nrooms_l < b->nrooms_l))
			best = i;
	}

	re = mem_zalloc(sizeof(*re), room_ent_destructor);
	cmd = cmd_new(WCMD_ROOM_ADD);
	if (!re || !cmd) {
		err = ENOMEM;
		goto out;
	}

	re->id = room_id;
	re->worker = best;

	err = wroom_alloc(&re->room, &me->cfg, room_id, capacity);
	if (err)
		goto out;

	cmd->room = re->room;
	hash_append(me->rooms, room_id, &re->he, re);
	++me->workers[best].nrooms_l;
	cmd_send(me, best, cmd);

 out:
	if (err) {
		free(cmd);
		mem_deref(re);
	}

	return err;
}


int media_room_add(struct media_engine *me, uint32_t room_id)
{
	return media_room_add2(me, room_id, 0);
}


int media_room_remove(struct media_engine *me, uint32_t room_id)
{
	struct room_ent *re;
	struct wcmd *cmd;

	if (!me)
		return EINVAL;

	re = room_find(me, room_id);
	if (!re)
		return ENOENT;

	if (re->nlegs)
		return EBUSY;

	cmd = cmd_new(WCMD_ROOM_REMOVE);
	if (!cmd)
		return ENOMEM;

	cmd->room = re->room;
	--me->workers[re->worker].nrooms_l;
	cmd_send(me, re->worker, cmd);
	mem_deref(re);

	return 0;
}


/* ---- legs ------------------------------------------------------------ */

int media_leg_add(struct media_engine *me, uint32_t room_id, uint32_t leg_id,
		  const struct media_sock *ms,
		  const struct media_leg_params *prm)
{
	struct sec_srtp *stx, *srx;
	struct media_sock s;
	struct room_ent *re;
	struct leg_ent *le = NULL;
	struct wcmd *cmd = NULL;
	int err;

	if (!ms)
		return EINVAL;

	s = *ms;

	if (!me || !prm || s.fd_rtp < 0 || (!prm->rtcp_mux && s.fd_rtcp < 0)) {
		err = EINVAL;
		goto out;
	}

	re = room_find(me, room_id);
	if (!re) {
		err = ENOENT;
		goto out;
	}

	if (leg_find(me, leg_id)) {
		err = EALREADY;
		goto out;
	}

	le = mem_zalloc(sizeof(*le), leg_ent_destructor);
	cmd = cmd_new(WCMD_LEG_ATTACH);
	if (!le || !cmd) {
		err = ENOMEM;
		goto out;
	}

	le->id = leg_id;
	le->room_id = room_id;
	le->worker = re->worker;
	list_init(&le->pending);

	/* the leg now owns the sockets, also if it fails below */
	err = wleg_alloc(&le->leg, &me->cfg, leg_id, &s, prm, &le->pub);
	s.fd_rtp = -1;
	s.fd_rtcp = -1;
	if (err)
		goto out;

	err = srtp_contexts(prm, &stx, &srx);
	if (err) {
		wleg_free(le->leg);
		le->leg = NULL;
		goto out;
	}
	wleg_set_srtp(le->leg, stx, srx);
	leg_keys_keep(le, prm);
	if (prm->isolated)
		le->leg->user_flags = MIX_MUTE | MIX_DEAF;

	cmd->leg = le->leg;
	cmd->room = re->room;
	hash_append(me->legs, leg_id, &le->he, le);
	room_nlegs_add(me, re, +1);
	cmd_send(me, le->worker, cmd);

 out:
	if (err) {
		media_sock_close(&s);
		free(cmd);
		mem_deref(le);
	}

	return err;
}


static struct leg_ent *leg_live(const struct media_engine *me, uint32_t id)
{
	struct leg_ent *le = me ? leg_find(me, id) : NULL;

	return (le && !le->removing) ? le : NULL;
}


int media_leg_update(struct media_engine *me, uint32_t leg_id,
		     const struct media_leg_params *prm)
{
	struct leg_ent *le = leg_live(me, leg_id);
	struct wcmd *cmd;

	if (!prm)
		return EINVAL;
	if (!le)
		return ENOENT;

	cmd = cmd_new(WCMD_LEG_UPDATE);
	if (!cmd)
		return ENOMEM;

	cmd->prm = *prm;
	sdes_crypto_wipe(&cmd->prm.srtp_tx);
	sdes_crypto_wipe(&cmd->prm.srtp_rx);

	/* same keys (a session refresh): keep the contexts, their
	 * rollover counters and replay windows */
	if (prm->srtp != le->srtp || (prm->srtp &&
	    (!key_equal(&prm->srtp_tx, &le->key_tx) ||
	     !key_equal(&prm->srtp_rx, &le->key_rx)))) {
		int err = srtp_contexts(prm, &cmd->srtp_tx, &cmd->srtp_rx);

		if (err) {
			free(cmd);
			return err;
		}
		cmd->srtp_set = true;
		leg_keys_keep(le, prm);
	}

	leg_submit(me, le, cmd);

	return 0;
}


int media_leg_remove(struct media_engine *me, uint32_t leg_id)
{
	struct leg_ent *le = leg_live(me, leg_id);
	struct room_ent *re;
	struct wcmd *cmd;

	if (!le)
		return ENOENT;

	cmd = cmd_new(WCMD_LEG_REMOVE);
	if (!cmd)
		return ENOMEM;

	re = room_find(me, le->room_id);
	if (re)
		room_nlegs_add(me, re, -1);

	le->removing = true;
	leg_submit(me, le, cmd);

	return 0;
}


int media_leg_control(struct media_engine *me, uint32_t leg_id,
		      enum media_leg_op op, int value)
{
	struct leg_ent *le = leg_live(me, leg_id);
	struct wcmd *cmd;

	if (!le)
		return ENOENT;

	if ((unsigned)op > MEDIA_OP_GAIN_OUT)
		return EINVAL;

	cmd = cmd_new(WCMD_LEG_CONTROL);
	if (!cmd)
		return ENOMEM;

	cmd->op = op;
	cmd->value = value;
	leg_submit(me, le, cmd);

	return 0;
}


int media_leg_prompt(struct media_engine *me, uint32_t leg_id,
		     const int16_t *pcm, size_t n)
{
	struct leg_ent *le = leg_live(me, leg_id);
	struct wcmd *cmd;

	if (!le)
		return ENOENT;

	cmd = cmd_new(WCMD_LEG_PROMPT);
	if (!cmd)
		return ENOMEM;

	if (pcm && n) {
		cmd->pcm = malloc(n * sizeof(*pcm));
		if (!cmd->pcm) {
			free(cmd);
			return ENOMEM;
		}
		memcpy(cmd->pcm, pcm, n * sizeof(*pcm));
		cmd->npcm = n;
	}

	leg_submit(me, le, cmd);

	return 0;
}


int media_leg_move(struct media_engine *me, uint32_t leg_id,
		   uint32_t new_room_id)
{
	struct leg_ent *le = leg_live(me, leg_id);
	struct room_ent *from, *to;
	struct wcmd *cmd;

	if (!le)
		return ENOENT;

	to = room_find(me, new_room_id);
	if (!to)
		return ENOENT;

	if (le->room_id == new_room_id)
		return 0;

	cmd = cmd_new(WCMD_LEG_MOVE);
	if (!cmd)
		return ENOMEM;

	from = room_find(me, le->room_id);
	if (from)
		room_nlegs_add(me, from, -1);
	room_nlegs_add(me, to, +1);
	le->room_id = new_room_id;

	cmd->room_id = new_room_id;
	leg_submit(me, le, cmd);

	return 0;
}


int media_leg_stats(const struct media_engine *me, uint32_t leg_id,
		    struct media_leg_stats *st)
{
	struct leg_ent *le;

	if (!me || !st)
		return EINVAL;

	le = leg_find(me, leg_id);
	if (!le)
		return ENOENT;

	return leg_pub_read(&le->pub, st) ? 0 : EAGAIN;
}
