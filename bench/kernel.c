/**
 * @file kernel.c  time the chorus mixer kernels and the memcpy floor
 *
 * All implementations of one point (N, rate, topk) are allocated together
 * and measured round-robin, repetition by repetition, so a burst of load
 * from other processes on this shared machine hits them alike. Before
 * every tick the leg inputs are refilled from the signal bank (the caller
 * of mix_tick() has to do that: the mixer zeroes inputs after a tick);
 * only mix_tick() itself, or the memcpy of every input frame to an output
 * frame, is inside the CLOCK_MONOTONIC interval.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <chorus/mixer.h>
#include "mixbench.h"

enum {
	KERN_ALIGN     = 64,
	KERN_MAX_IMPLS = MIX_ISA_COUNT + 1,
	KERN_MAX_REPS  = 64,
	KERN_MIN_BATCH = 3,      /* ticks per repetition, at least           */
	KERN_MAX_BATCH = 200000, /* bounds the per-tick record             */
	KERN_CAL_TICKS = 3,
	KERN_CAL_TICKS_MEMCPY = 64,
	KERN_MAX_GROUP = 4096,
};

/* A memcpy of a small room takes less than the clock's own jitter, so the
 * floor times back-to-back groups of ticks lasting at least this long
 * (refilled once per group; such rooms stay in L1 anyway). */
static const double KERN_MIN_INTERVAL_NS = 2000.0;

/* One implementation under test: a mixer, or the memcpy floor. */
struct impl {
	struct mixer *mix;       /* NULL for memcpy                          */
	int16_t *in;             /* memcpy: n * fs inputs, then n * fs outs  */
	int16_t *out;
	uint64_t tick;           /* signal position                          */
	uint64_t timed_ticks;
	uint64_t batch;          /* ticks per repetition                     */
	unsigned group;          /* ticks per timed interval                 */
	double rep_ns[KERN_MAX_REPS];
	float *tick_ns;          /* every timed tick, all repetitions        */
	uint64_t sink;           /* keeps the memcpy result observable       */
};

struct point {
	const struct sigbank *sb;
	uint32_t n;
	size_t fs;
};


static void impl_refill(struct impl *im, const struct point *pt)
{
	const size_t bytes = pt->fs * sizeof(int16_t);
	unsigned i;

	for (i = 0; i < pt->n; i++) {
		int16_t *dst = im->mix ? mix_leg_input(im->mix, i)
				       : im->in + (size_t)i * pt->fs;

		memcpy(dst, sigbank_frame(pt->sb, i, im->tick), bytes);
	}
}


static void memcpy_tick(struct impl *im, const struct point *pt)
{
	const size_t bytes = pt->fs * sizeof(int16_t);
	unsigned i;

	for (i = 0; i < pt->n; i++)
		memcpy(im->out + (size_t)i * pt->fs,
		       im->in + (size_t)i * pt->fs, bytes);
}


/* Run `ticks` ticks (a multiple of im->group); returns the nanoseconds
 * spent inside the ticks and, if rec is set, stores each tick's time. */
static double impl_run(struct impl *im, const struct point *pt,
		       uint64_t ticks, double ovh_ns, float *rec)
{
	double ns = 0.0;
	uint64_t k, g;

	for (k = 0; k < ticks; k += im->group) {
		uint64_t t0, t1;
		double d;

		impl_refill(im, pt);

		t0 = mb_now_ns();
		if (im->mix)
			mix_tick(im->mix);
		else
			for (g = 0; g < im->group; g++)
				memcpy_tick(im, pt);
		t1 = mb_now_ns();

		d = (double)(t1 - t0) - ovh_ns;
		if (d < 0.0)
			d = 0.0;
		ns += d;
		d /= im->group;
		for (g = 0; g < im->group && rec; g++)
			rec[k + g] = (float)d;
		im->tick += im->group;

		if (!im->mix)
			im->sink += (uint16_t)im->out[(k * 7) %
					(pt->n * pt->fs)];
	}

	return ns;
}


static int impl_setup(struct impl *im, const struct point *pt, int isa,
		      uint32_t rate, uint32_t topk)
{
	const size_t bytes = (size_t)pt->n * pt->fs * sizeof(int16_t);
	struct mix_cfg cfg;
	unsigned i, id;
	int err;

	memset(im, 0, sizeof(*im));
	im->group = 1;

	if (isa < 0) {
		/* round up so aligned_alloc gets a multiple of the alignment */
		const size_t sz = (bytes + KERN_ALIGN - 1) / KERN_ALIGN
			* KERN_ALIGN;

		im->in = aligned_alloc(KERN_ALIGN, 2 * sz);
		if (!im->in)
			return ENOMEM;
		memset(im->in, 0, 2 * sz);
		im->out = im->in + sz / sizeof(int16_t);
		return 0;
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.srate    = rate;
	cfg.ptime_ms = MB_PTIME_MS;
	cfg.capacity = pt->n;
	cfg.topk     = topk;
	cfg.isa      = (enum mix_isa)isa;

	err = mix_alloc(&im->mix, &cfg);
	if (err)
		return err;

	if (mix_frame_samples(im->mix) != pt->fs)
		return EPROTO;

	for (i = 0; i < pt->n; i++) {
		float in_db, out_db;

		err = mix_leg_add(im->mix, &id);
		if (err)
			return err;
		if (id != i)
			return EPROTO;   /* refill assumes slots 0..n-1 */

		sigbank_leg_gain(i, &in_db, &out_db);
		err = mix_leg_set_gain(im->mix, id, in_db, out_db);
		if (err)
			return err;
	}

	return 0;
}


static void impl_teardown(struct impl *im)
{
	if (im->mix)
		mix_free(im->mix);
	free(im->in);
	free(im->tick_ns);
	memset(im, 0, sizeof(*im));
}


static int cmp_float(const void *a, const void *b)
{
	const float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}


/* The headline is the median of every timed tick: a tick that another
 * process preempted lands in the tail instead of moving the result. */
static void result_fill(struct mb_result *r, struct impl *im,
			unsigned reps)
{
	const size_t c = (size_t)reps * im->batch;
	double total = 0.0, best = 0.0;
	unsigned i;

	for (i = 0; i < reps; i++) {
		const double mean = im->rep_ns[i] / (double)im->batch;

		total += im->rep_ns[i];
		if (!i || mean < best)
			best = mean;
	}

	qsort(im->tick_ns, c, sizeof(im->tick_ns[0]), cmp_float);

	r->ns_tick = im->tick_ns[c / 2];
	r->ns_tick_p10 = im->tick_ns[c / 10];
	r->ns_tick_p90 = im->tick_ns[c * 9 / 10];
	r->ns_tick_mean = total / (double)c;
	r->ns_tick_best_rep = best;
	r->reps = reps;
	r->ticks = im->timed_ticks;

	if (im->mix) {
		struct mix_stats st;

		mix_stats_get(im->mix, &st);
		r->limited_frames = st.limited_frames;
		r->frames = st.ticks * (uint64_t)r->n;
	}
}


int kern_point(struct mb_result *res, const struct sigbank *sb,
	       const int *isas, size_t nisa, uint32_t n, uint32_t topk,
	       const struct kern_opts *opt)
{
	struct impl impls[KERN_MAX_IMPLS];
	const uint32_t rate = sigbank_rate(sb);
	struct point pt;
	const size_t nimpl = nisa + 1;
	unsigned reps, r;
	size_t i;
	int err;

	if (!res || !sb || !opt || !n || nimpl > KERN_MAX_IMPLS)
		return EINVAL;

	reps = opt->reps < 1 ? 1 : opt->reps > KERN_MAX_REPS ? KERN_MAX_REPS
		: opt->reps;

	memset(impls, 0, sizeof(impls));

	pt.sb = sb;
	pt.n  = n;
	pt.fs = sigbank_frame_samples(sb);

	for (i = 0; i < nimpl; i++) {
		struct mb_result *rr = &res[i];

		memset(rr, 0, sizeof(*rr));
		snprintf(rr->impl, sizeof(rr->impl), "%s",
			 i < nisa ? mix_isa_name((enum mix_isa)isas[i])
				  : "memcpy");
		rr->n = n;
		rr->rate = rate;
		rr->topk = topk;

		err = impl_setup(&impls[i], &pt, i < nisa ? isas[i] : -1,
				 rate, topk);
		if (err) {
			fprintf(stderr, "mixbench: %s n=%u rate=%u: "
				"set-up failed: %s\n", rr->impl, n, rate,
				strerror(err));
			goto out;
		}
	}

	/* Warm up (gain ramps, VAD, top-K state, caches), then size each
	 * implementation's batch so one repetition takes about batch_s. */
	for (i = 0; i < nimpl; i++) {
		struct impl *im = &impls[i];
		const unsigned cal = im->mix ? KERN_CAL_TICKS
					     : KERN_CAL_TICKS_MEMCPY;
		double ns;

		impl_run(im, &pt, opt->warm_ticks, opt->clock_ovh_ns, NULL);
		ns = impl_run(im, &pt, cal, opt->clock_ovh_ns, NULL) / cal;

		if (ns < 1.0)
			ns = 1.0;
		if (!im->mix && ns < KERN_MIN_INTERVAL_NS) {
			im->group = (unsigned)(KERN_MIN_INTERVAL_NS / ns) + 1;
			if (im->group > KERN_MAX_GROUP)
				im->group = KERN_MAX_GROUP;
		}

		im->batch = (uint64_t)(opt->batch_s * 1e9 / ns);
		if (im->batch < KERN_MIN_BATCH)
			im->batch = KERN_MIN_BATCH;
		if (im->batch > KERN_MAX_BATCH)
			im->batch = KERN_MAX_BATCH;
		im->batch = (im->batch + im->group - 1) / im->group
			* im->group;

		im->tick_ns = malloc(reps * im->batch * sizeof(float));
		if (!im->tick_ns) {
			err = ENOMEM;
			goto out;
		}
	}

	for (r = 0; r < reps; r++) {
		for (i = 0; i < nimpl; i++) {
			/* rotate the order so no impl always runs first */
			struct impl *im = &impls[(i + r) % nimpl];

			im->rep_ns[r] = impl_run(im, &pt, im->batch,
						 opt->clock_ovh_ns,
						 im->tick_ns + r * im->batch);
			im->timed_ticks += im->batch;
		}
	}

	for (i = 0; i < nimpl; i++)
		result_fill(&res[i], &impls[i], reps);

 out:
	for (i = 0; i < nimpl; i++)
		impl_teardown(&impls[i]);

	return err;
}
