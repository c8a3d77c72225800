/**
 * @file remmix.c  the baseline: librem 0.6 aumix driven for real
 *
 * aumix (librem 0.6.0, src/aumix/aumix.c) owns a thread that, every ptime,
 * reads one frame from each source's aubuf, then for each source copies a
 * base frame and adds the frames of all other sources (O(N^2) samples),
 * and hands the result to the source's frame handler. It has no API to
 * run one tick on demand, so we run the real thing: N sources fed from the
 * signal bank, sources enabled together, and the frame handlers count
 * delivered frames. The handler of the last source runs at the end of
 * every complete tick, on the aumix thread; there it samples
 * CLOCK_THREAD_CPUTIME_ID, so the difference between two such samples is
 * exactly the CPU the aumix thread spent on the ticks in between
 * (sleeping in its usleep() loop costs no CPU time). Feeding the aubufs
 * happens on our thread and is not counted.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include <rem.h>
#include "mixbench.h"

enum {
	REMMIX_MAX_TICKS = 8192,
	REMMIX_PREFILL   = 8,    /* frames queued per source before start;
				  * aumix's aubuf waits for 6 (min_sz)   */
	REMMIX_POLL_US   = 1000,
	REMMIX_LIMIT_S   = 120,  /* hard bound on one point's wall time      */
	REMMIX_PREDICT_MIN_N = 50,
};

struct remmix_run;

struct remsrc {
	struct remmix_run *run;
	struct aumix_source *src;
	unsigned idx;
};

struct remmix_run {
	atomic_uint_fast64_t full_ticks;   /* published by the aumix thread */
	uint32_t n;
	uint64_t frames;                   /* aumix thread only             */
	bool heard;                        /* some output was not silence   */
	uint64_t cpu_ns[REMMIX_MAX_TICKS];
	uint64_t wall_ns[REMMIX_MAX_TICKS];
	uint64_t frames_at[REMMIX_MAX_TICKS];
};


static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * MB_NS_PER_S + (uint64_t)ts.tv_nsec;
}


/* Runs on the aumix thread. */
static void frame_handler(const int16_t *sampv, size_t sampc, void *arg)
{
	struct remsrc *s = arg;
	struct remmix_run *run = s->run;
	uint_fast64_t k;

	++run->frames;

	/* sources are appended in index order, so this is the last call
	 * of a tick that included every source */
	if (s->idx != run->n - 1)
		return;

	if (sampc && (sampv[0] | sampv[sampc / 2]))
		run->heard = true;

	k = atomic_load_explicit(&run->full_ticks, memory_order_relaxed);
	if (k >= REMMIX_MAX_TICKS)
		return;

	run->cpu_ns[k]    = thread_cpu_ns();
	run->wall_ns[k]   = mb_now_ns();
	run->frames_at[k] = run->frames;
	atomic_store_explicit(&run->full_ticks, k + 1, memory_order_release);
}


int remmix_init(void)
{
	return libre_init();
}


void remmix_close(void)
{
	libre_close();
}


static int feed(struct remsrc *srcv, uint32_t n, const struct sigbank *sb,
		uint64_t tick)
{
	const size_t fs = sigbank_frame_samples(sb);
	uint32_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = aumix_source_put(srcv[i].src,
				       sigbank_frame(sb, i, tick), fs);
		if (err)
			return err;
	}

	return 0;
}


static int cmp_u64(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}


static void result_fill(struct mb_result *res, const struct remmix_run *run,
			uint64_t w, uint64_t e)
{
	const uint64_t ticks = e - w;
	uint64_t *d;
	uint64_t k;

	res->ticks  = ticks;
	res->reps   = (unsigned)ticks;
	res->frames = run->frames_at[e] - run->frames_at[w];
	res->ns_tick = (double)(run->cpu_ns[e] - run->cpu_ns[w]) / ticks;
	res->ns_tick_mean = res->ns_tick;
	res->ns_tick_p10 = res->ns_tick;
	res->ns_tick_p90 = res->ns_tick;

	d = malloc(ticks * sizeof(*d));
	if (!d)
		return;
	for (k = 0; k < ticks; k++)
		d[k] = run->cpu_ns[w + k + 1] - run->cpu_ns[w + k];
	qsort(d, ticks, sizeof(*d), cmp_u64);
	res->ns_tick_p10 = (double)d[ticks / 10];
	res->ns_tick_p90 = (double)d[ticks * 9 / 10];
	free(d);
}


int remmix_point(struct mb_result *res, const struct sigbank *sb,
		 uint32_t n, const struct remmix_opts *opt,
		 double prev_ns_tick, uint32_t prev_n)
{
	const uint32_t rate = sigbank_rate(sb);
	struct remmix_run *run = NULL;
	struct remsrc *srcv = NULL;
	struct aumix *mix = NULL;
	uint64_t fed, w, e = 0, t_start;
	uint32_t i;
	int err;

	if (!res || !sb || !opt || n < 2)
		return EINVAL;

	memset(res, 0, sizeof(*res));
	snprintf(res->impl, sizeof(res->impl), "aumix");
	res->n = n;
	res->rate = rate;
	res->topk = 0;

	/* aumix does (N-1)*N frame additions per tick: predict from the
	 * last point and skip what would not finish in the budget. Below
	 * REMMIX_PREDICT_MIN_N its polling loop, not the additions, is most
	 * of the cost, and N^2 scaling from there would overestimate. */
	if (prev_ns_tick > 0.0 && prev_n >= REMMIX_PREDICT_MIN_N) {
		const double scale = ((double)n * (n - 1)) /
			((double)prev_n * (prev_n - 1));
		const double cost = prev_ns_tick * scale *
			(opt->warm_ticks + opt->min_ticks + 1) / 1e9;

		if (cost > opt->max_cpu_s) {
			res->skipped = true;
			res->why = "predicted CPU time over the budget";
			res->ns_tick = prev_ns_tick * scale;
			return 0;
		}
	}

	w = opt->warm_ticks;
	if (w + opt->min_ticks + 1 >= REMMIX_MAX_TICKS)
		return EINVAL;

	run  = calloc(1, sizeof(*run));
	srcv = calloc(n, sizeof(*srcv));
	if (!run || !srcv) {
		err = ENOMEM;
		goto out;
	}
	run->n = n;
	atomic_init(&run->full_ticks, 0);

	err = aumix_alloc(&mix, rate, 1, MB_PTIME_MS);
	if (err)
		goto out;

	for (i = 0; i < n; i++) {
		srcv[i].run = run;
		srcv[i].idx = i;
		err = aumix_source_alloc(&srcv[i].src, mix, frame_handler,
					 &srcv[i]);
		if (err)
			goto out;
	}

	for (fed = 0; fed < REMMIX_PREFILL; fed++) {
		err = feed(srcv, n, sb, fed);
		if (err)
			goto out;
	}

	for (i = 0; i < n; i++)
		aumix_source_enable(srcv[i].src, true);

	/* Keep every aubuf topped up (one frame per tick, on this thread)
	 * until the window has enough ticks and wall time. */
	t_start = mb_now_ns();
	for (;;) {
		const uint64_t k = atomic_load_explicit(&run->full_ticks,
							memory_order_acquire);
		const struct timespec poll = {0, REMMIX_POLL_US * 1000};

		while (fed < REMMIX_PREFILL + k) {
			err = feed(srcv, n, sb, fed++);
			if (err)
				goto stop;
		}

		if (k > w + opt->min_ticks &&
		    (double)(run->wall_ns[k - 1] - run->wall_ns[w]) / 1e9
		    >= opt->min_wall_s) {
			e = k - 1;
			break;
		}
		if (k >= REMMIX_MAX_TICKS ||
		    mb_now_ns() - t_start > (uint64_t)REMMIX_LIMIT_S *
		    MB_NS_PER_S) {
			err = ETIMEDOUT;
			break;
		}

		(void)nanosleep(&poll, NULL);
	}

 stop:
	/* unlink first: each unlink waits for the aumix thread's mutex,
	 * which it only releases between ticks */
	for (i = 0; i < n; i++)
		aumix_source_enable(srcv[i].src, false);

 out:
	if (srcv) {
		for (i = 0; i < n; i++)
			mem_deref(srcv[i].src);
	}
	mem_deref(mix);   /* joins the aumix thread */

	if (!err && e > w) {
		result_fill(res, run, w, e);
		if (res->frames != (uint64_t)n * res->ticks) {
			fprintf(stderr, "mixbench: aumix n=%u: %llu frames "
				"in %llu ticks\n", n,
				(unsigned long long)res->frames,
				(unsigned long long)res->ticks);
			err = EPROTO;
		}
		else if (!run->heard) {
			fprintf(stderr, "mixbench: aumix n=%u: output was "
				"silent\n", n);
			err = EPROTO;
		}
	}

	free(srcv);
	free(run);

	return err;
}
