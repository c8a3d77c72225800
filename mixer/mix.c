/**
 * @file mix.c  Mixer object, legs and the tick
 *
 * One tick: (1) accumulate every contributing leg once into the int32 sum
 * (fused with each leg's energy and peak; a leg that contributes nothing
 * only gets its energy measured), (2) the 1 ms block peaks of the sum and
 * each leg's level and VAD, (3) one output per distinct mix: legs that
 * contribute nothing hear the common mix, deaf legs a silent frame, every
 * other leg its own sum - own with gain and limiter (limiter.c), and
 * (4) the top-K choice for the next tick. O(N) work, no allocation.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mix_priv.h"

static void *zalloc_aligned(size_t size)
{
	void *p;

	size = (size + MIX_ALIGN - 1) & ~(size_t)(MIX_ALIGN - 1);
	p = aligned_alloc(MIX_ALIGN, size ? size : MIX_ALIGN);
	if (p)
		memset(p, 0, size);
	return p;
}

static bool valid_srate(uint32_t srate)
{
	switch (srate) {
	case 8000: case 16000: case 24000: case 32000: case 48000:
		return true;
	default:
		return false;
	}
}

static int32_t gain_q13(float db)
{
	if (!(db >= MIX_GAIN_MIN_DB))   /* also NaN */
		db = MIX_GAIN_MIN_DB;
	if (db > MIX_GAIN_MAX_DB)
		db = MIX_GAIN_MAX_DB;
	return (int32_t)lrintf(powf(10.0f, db / 20.0f) * MIX_ONE);
}

static unsigned frames_of(uint32_t ms, uint32_t ptime)
{
	return (ms + ptime - 1) / ptime;
}

void mix_free(struct mixer *mix)
{
	unsigned i, j;

	if (!mix)
		return;
	free(mix->in);
	free(mix->out);
	free(mix->sum);
	free(mix->spk);
	free(mix->pk);
	free(mix->gp);
	free(mix->lvl_thr);
	free(mix->pk_share);
	for (i = 0; i <= MIX_PLAN_CACHE; i++) {
		free(mix->plans[i].g);
		free(mix->plans[i].sh);
		free(mix->plans[i].a);
		for (j = 0; j < MIX_PLAN_H; j++)
			free(mix->plans[i].h[j]);
	}
	free(mix->legs);
	free(mix->ids);
	free(mix);
}

static bool plans_ok(const struct mixer *mix)
{
	unsigned i;

	for (i = 0; i <= MIX_PLAN_CACHE; i++) {
		if (!mix->plans[i].g || !mix->plans[i].sh ||
		    !mix->plans[i].a || !mix->plans[i].h[0] ||
		    !mix->plans[i].h[MIX_PLAN_H - 1])
			return false;
	}
	return true;
}

int mix_alloc(struct mixer **mixp, const struct mix_cfg *cfg)
{
	struct mixer *mix;
	unsigned i, j;
	enum mix_isa isa;
	uint32_t ptime;

	if (!mixp || !cfg || !valid_srate(cfg->srate))
		return EINVAL;
	ptime = cfg->ptime_ms ? cfg->ptime_ms : 20;
	if (ptime < 10 || ptime > 60)
		return EINVAL;
	if (!cfg->capacity || cfg->capacity > MIX_CAPACITY_MAX)
		return EINVAL;
	if ((unsigned)cfg->isa >= MIX_ISA_COUNT)
		return EINVAL;

	isa = cfg->isa == MIX_ISA_AUTO ? mix_isa_default() : cfg->isa;
	if (!(mix_isa_supported() & (1u << isa)) || !mix_kernels_get(isa))
		return ENOTSUP;

	mix = calloc(1, sizeof(*mix));
	if (!mix)
		return ENOMEM;

	mix->cfg = *cfg;
	mix->cfg.ptime_ms = ptime;
	mix->isa = isa;
	mix->k = mix_kernels_get(isa);
	mix->blk = cfg->srate / 1000;
	mix->nblk = ptime;
	mix->n = mix->blk * ptime;
	mix->stride = (mix->n + 31) & ~(size_t)31;   /* 64 bytes of int16 */

	mix->in  = zalloc_aligned((size_t)cfg->capacity * mix->stride * 2);
	mix->out = zalloc_aligned(((size_t)cfg->capacity + 2) *
				  mix->stride * 2);
	mix->sum = zalloc_aligned(mix->stride * 4);
	mix->spk = zalloc_aligned(mix->nblk * sizeof(*mix->spk));
	mix->pk  = zalloc_aligned(mix->nblk * sizeof(*mix->pk));
	mix->gp  = zalloc_aligned((mix->nblk + 1) * sizeof(*mix->gp));
	mix->lvl_thr = zalloc_aligned((MIX_LEVELS + MIX_LEVEL_PAD) *
				      sizeof(*mix->lvl_thr));
	mix->pk_share = zalloc_aligned(MIX_SHARE_CLASSES * mix->nblk *
				       sizeof(*mix->pk_share));
	for (i = 0; i <= MIX_PLAN_CACHE; i++) {
		mix->plans[i].g = zalloc_aligned(mix->nblk *
						 sizeof(struct mix_ramp));
		mix->plans[i].sh = zalloc_aligned(mix->nblk);
		mix->plans[i].a = zalloc_aligned(mix->n * sizeof(int16_t));
		for (j = 0; j < MIX_PLAN_H; j++)
			mix->plans[i].h[j] = zalloc_aligned(mix->n *
							    sizeof(int16_t));
	}
	mix->legs = calloc(cfg->capacity, sizeof(*mix->legs));
	mix->ids  = calloc(cfg->capacity, sizeof(*mix->ids));
	if (!mix->in || !mix->out || !mix->sum || !mix->spk || !mix->pk ||
	    !mix->gp || !mix->lvl_thr || !mix->legs || !mix->ids ||
	    !mix->pk_share || !plans_ok(mix)) {
		mix_free(mix);
		return ENOMEM;
	}

	for (i = 0; i <= MIX_SH_MAX; i++)
		mix->qscale[i] = ldexpf(1.0f, MIX_Q + (int)i);
	mix->common_lim = 1.0f;
	mix->thr = (float)(MIX_LIMIT_THRESHOLD - MIX_LIMIT_MARGIN);
	mix->rel = (float)(1.0 - exp(-1.0 / MIX_LIMIT_RELEASE_MS));
	mix->hang_frames = frames_of(MIX_VAD_HANG_MS, ptime);
	mix->hyst_frames = frames_of(MIX_TOPK_HYST_MS, ptime);
	mix->hold_frames = frames_of(MIX_TOPK_HOLD_MS, ptime);
	mix_level_init(mix);

	*mixp = mix;
	return 0;
}

enum mix_isa mix_isa_active(const struct mixer *mix)
{
	return mix ? mix->isa : MIX_ISA_AUTO;
}

size_t mix_frame_samples(const struct mixer *mix)
{
	return mix ? mix->n : 0;
}

uint32_t mix_leg_count(const struct mixer *mix)
{
	return mix ? mix->count : 0;
}

static struct mix_leg *leg_get(const struct mixer *mix, unsigned id)
{
	if (!mix || id >= mix->cfg.capacity || !mix->legs[id].used)
		return NULL;
	return &mix->legs[id];
}

int mix_leg_add(struct mixer *mix, unsigned *idp)
{
	struct mix_leg *leg;
	unsigned id;

	if (!mix || !idp)
		return EINVAL;
	if (mix->count >= mix->cfg.capacity)
		return ENOSPC;

	for (id = 0; id < mix->cfg.capacity; id++) {
		if (!mix->legs[id].used)
			break;
	}

	leg = &mix->legs[id];
	memset(leg, 0, sizeof(*leg));
	leg->used   = true;
	leg->gin_q  = MIX_ONE;
	leg->gout_q = MIX_ONE;
	leg->go_cur = MIX_ONE;     /* hears the room at once ...        */
	leg->gi_cur = 0;           /* ... and fades its voice in         */
	leg->lim    = 1.0f;
	leg->group  = mix_group_common(mix);
	leg->level  = MIX_LEVEL_SILENT;
	leg->pos    = mix->count;
	mix->ids[mix->count++] = id;

	memset(mix->in + (size_t)id * mix->stride, 0, mix->stride * 2);
	*idp = id;
	return 0;
}

int mix_leg_remove(struct mixer *mix, unsigned id)
{
	struct mix_leg *leg = leg_get(mix, id);
	unsigned last;

	if (!leg)
		return ENOENT;

	last = mix->ids[--mix->count];
	mix->ids[leg->pos] = last;
	mix->legs[last].pos = leg->pos;
	leg->used = false;
	return 0;
}

int16_t *mix_leg_input(struct mixer *mix, unsigned id)
{
	if (!leg_get(mix, id))
		return NULL;
	return mix->in + (size_t)id * mix->stride;
}

const int16_t *mix_leg_output(const struct mixer *mix, unsigned id)
{
	const struct mix_leg *leg = leg_get(mix, id);

	if (!leg)
		return NULL;
	return mix_group_buf(mix, leg->group);
}

unsigned mix_leg_output_group(const struct mixer *mix, unsigned id)
{
	const struct mix_leg *leg = leg_get(mix, id);

	return leg ? leg->group : (mix ? mix_group_silent(mix) : 0);
}

int mix_leg_set_flags(struct mixer *mix, unsigned id, unsigned flags)
{
	struct mix_leg *leg = leg_get(mix, id);

	if (!leg)
		return ENOENT;
	if (flags & ~(unsigned)MIX_HOLD)
		return EINVAL;
	leg->flags = flags;
	return 0;
}

unsigned mix_leg_flags(const struct mixer *mix, unsigned id)
{
	const struct mix_leg *leg = leg_get(mix, id);

	return leg ? leg->flags : 0;
}

int mix_leg_set_gain(struct mixer *mix, unsigned id, float in_db,
		     float out_db)
{
	struct mix_leg *leg = leg_get(mix, id);

	if (!leg)
		return ENOENT;
	leg->gin_q  = gain_q13(in_db);
	leg->gout_q = gain_q13(out_db);
	return 0;
}

uint8_t mix_leg_level(const struct mixer *mix, unsigned id)
{
	const struct mix_leg *leg = leg_get(mix, id);

	return leg ? leg->level : MIX_LEVEL_SILENT;
}

bool mix_leg_vad(const struct mixer *mix, unsigned id)
{
	const struct mix_leg *leg = leg_get(mix, id);

	return leg ? leg->vad : false;
}

bool mix_leg_contributing(const struct mixer *mix, unsigned id)
{
	const struct mix_leg *leg = leg_get(mix, id);

	return leg ? (leg->gi0 || leg->gi1) : false;
}

bool mix_leg_speaker(const struct mixer *mix, unsigned id)
{
	const struct mix_leg *leg = leg_get(mix, id);

	return leg ? leg->speaker : false;
}

size_t mix_active_speakers(const struct mixer *mix, unsigned *ids, size_t max)
{
	size_t cnt = 0, j;
	unsigned i;

	if (!mix || !ids)
		return 0;

	/* Insertion into the short result list, loudest (lowest) first. */
	for (i = 0; i < mix->count; i++) {
		unsigned id = mix->ids[i];
		const struct mix_leg *leg = &mix->legs[id];

		if (!leg->vad)
			continue;
		j = cnt < max ? cnt++ : max;
		while (j > 0 && (mix->legs[ids[j - 1]].level > leg->level ||
				 (mix->legs[ids[j - 1]].level == leg->level &&
				  ids[j - 1] > id))) {
			if (j < max)
				ids[j] = ids[j - 1];
			j--;
		}
		if (j < max)
			ids[j] = id;
	}
	return cnt;
}

void mix_stats_get(const struct mixer *mix, struct mix_stats *st)
{
	if (!mix || !st)
		return;
	*st = mix->stats;
}

/* --- the tick ---------------------------------------------------- */

/* The leg records (about 100 bytes each) fall out of the caches while
 * the frames stream through: fetch the one after next ahead of time. */
static inline void leg_prefetch(const struct mixer *mix, unsigned i)
{
	if (i + 2 < mix->count)
		__builtin_prefetch(&mix->legs[mix->ids[i + 2]], 1);
}

static bool contributes(const struct mixer *mix, const struct mix_leg *leg)
{
	if (leg->flags & MIX_MUTE)
		return false;
	return !mix->cfg.topk || leg->speaker;
}

static void accumulate(struct mixer *mix)
{
	const size_t n = mix->n;
	struct mix_leg *pend = NULL;   /* a steady leg waiting for a pair */
	const int16_t *px = NULL;
	unsigned i;

	memset(mix->sum, 0, n * sizeof(*mix->sum));

	for (i = 0; i < mix->count; i++) {
		unsigned id = mix->ids[i];
		struct mix_leg *leg = &mix->legs[id];
		int16_t *x = mix->in + (size_t)id * mix->stride;
		const int32_t gi0 = leg->gi_cur;
		const int32_t gi1 = contributes(mix, leg) ? leg->gin_q : 0;

		leg_prefetch(mix, i);
		leg->gi0 = gi0;
		leg->gi1 = gi1;
		leg->go0 = leg->go_cur;
		leg->go1 = (leg->flags & MIX_DEAF) ? 0 : leg->gout_q;

		if (!gi0 && !gi1) {
			/* nothing reads this input again in this tick */
			leg->energy = mix->k->energy_z(x, n, &leg->xpeak);
			mix_vad_update(mix, leg);
		}
		else if (gi0 != gi1) {
			leg->energy = mix->k->acc(mix->sum, x, n,
				mix_ramp_make(gi0, gi1, n), &leg->xpeak);
			mix_vad_update(mix, leg);
		}
		else if (!pend) {
			pend = leg;
			px = x;
		}
		else {
			/* Steady legs go in pairs: one pass over the sum. */
			uint64_t e[2];
			uint32_t pk[2];

			mix->k->acc2(mix->sum, px, x, n, pend->gi0, leg->gi0,
				     e, pk);
			pend->energy = e[0];
			pend->xpeak = pk[0];
			leg->energy = e[1];
			leg->xpeak = pk[1];
			mix_vad_update(mix, pend);
			mix_vad_update(mix, leg);
			pend = NULL;
		}
	}

	if (pend) {
		pend->energy = mix->k->acc(mix->sum, px, n,
					   mix_ramp_const(pend->gi0),
					   &pend->xpeak);
		mix_vad_update(mix, pend);
	}
}

static void sum_peaks(struct mixer *mix)
{
	const struct mix_ramp one = mix_ramp_const(MIX_ONE);
	unsigned b;

	mix->spk_max = 0;
	for (b = 0; b < mix->nblk; b++) {
		mix->spk[b] = mix->k->peak(mix->sum + b * mix->blk, NULL,
					   mix->blk, one);
		if (mix->spk[b] > mix->spk_max)
			mix->spk_max = mix->spk[b];
	}
	mix_plan_reset(mix);
}

/* Which output a leg hears this tick (see mix_leg_output_group()). */
static unsigned group_of(const struct mixer *mix, const struct mix_leg *leg,
			 unsigned id)
{
	bool own_zero = (!leg->gi0 && !leg->gi1) || !leg->xpeak;

	if (!leg->go0 && !leg->go1)
		return mix_group_silent(mix);
	if (own_zero && leg->go0 == MIX_ONE && leg->go1 == MIX_ONE)
		return mix_group_common(mix);
	return id;
}

static void render_outputs(struct mixer *mix)
{
	const unsigned common = mix_group_common(mix);
	const unsigned silent = mix_group_silent(mix);
	const float common_lim0 = mix->common_lim;
	bool need_common = false, zeroed;
	unsigned i;

	/* One pass; the common output, which no leg's own output depends
	 * on, is rendered after it. */
	for (i = 0; i < mix->count; i++) {
		unsigned id = mix->ids[i];
		struct mix_leg *leg = &mix->legs[id];
		int16_t *x = mix->in + (size_t)id * mix->stride;
		unsigned g = group_of(mix, leg, id);

		leg_prefetch(mix, i);
		/* Carry the limiter state over a change of output. */
		if (g == id && leg->group == common)
			leg->lim = common_lim0;
		else if (g == id && leg->group == silent)
			leg->lim = 1.0f;
		leg->group = g;

		/* A silent frame is zero already; a leg that contributes
		 * nothing had its input cleared by energy_z(). */
		zeroed = !leg->xpeak || (!leg->gi0 && !leg->gi1);
		if (g == id) {
			unsigned r = mix_render(mix, mix_group_buf(mix, id),
				zeroed ? NULL : x,
				mix_ramp_make(leg->gi0, leg->gi1, mix->n),
				leg->xpeak, leg->go0, leg->go1, &leg->lim,
				&leg->plan_hint);

			if (r & MIX_R_LIMITED)
				mix->stats.limited_frames++;
			zeroed = zeroed || (r & MIX_R_CONSUMED);
		}
		else if (g == common) {
			need_common = true;
		}

		/* The input is consumed: a leg without a packet next time
		 * contributes silence. */
		if (!zeroed)
			memset(x, 0, mix->n * sizeof(*x));

		leg->gi_cur = leg->gi1;
		leg->go_cur = leg->go1;
	}

	if (need_common) {
		if (mix_render(mix, mix_group_buf(mix, common), NULL,
			       mix_ramp_const(MIX_ONE), 0, MIX_ONE, MIX_ONE,
			       &mix->common_lim, &mix->common_hint) &
		    MIX_R_LIMITED)
			mix->stats.limited_frames++;
	}
}

void mix_tick(struct mixer *mix)
{
	if (!mix)
		return;

	accumulate(mix);
	sum_peaks(mix);

	render_outputs(mix);

	if (mix->cfg.topk)
		mix_topk_update(mix);

	mix->stats.ticks++;
}
