/**
 * @file mixbench.h  shared declarations of the mixbench benchmark tool
 */
#ifndef CHORUS_MIXBENCH_H
#define CHORUS_MIXBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	MB_PTIME_MS  = 20,       /* every point uses 20 ms frames            */
	MB_TOPK      = 3,        /* the "top-3 talk" configuration           */
	MB_MAX_POINTS = 64,      /* N values per run                         */
	MB_NS_PER_S  = 1000000000,
};

/* One measured (or skipped) point of one implementation. */
struct mb_result {
	char impl[16];           /* scalar sse2 avx2 avx512 neon aumix memcpy */
	uint32_t n;
	uint32_t rate;
	uint32_t topk;
	bool skipped;
	const char *why;         /* reason when skipped                      */
	double ns_tick;          /* headline: kernels median tick, aumix mean*/
	double ns_tick_mean;     /* total time / ticks                       */
	double ns_tick_p10;      /* spread of the single ticks               */
	double ns_tick_p90;
	double ns_tick_best_rep; /* kernels: mean of the fastest repetition  */
	uint64_t ticks;          /* measured ticks (all repetitions)         */
	unsigned reps;
	uint64_t limited_frames; /* mixer only: limiter-active output frames */
	uint64_t frames;         /* aumix only: frames delivered in window   */
};

/* Speech-like input signals (signal.c) */
struct sigbank;
int  sigbank_alloc(struct sigbank **sbp, uint32_t rate);
void sigbank_free(struct sigbank *sb);
/* The frame leg `leg` sends at tick `tick` (frame_samples int16). */
const int16_t *sigbank_frame(const struct sigbank *sb, unsigned leg,
			     uint64_t tick);
size_t sigbank_frame_samples(const struct sigbank *sb);
uint32_t sigbank_rate(const struct sigbank *sb);
/* Per-leg gains (dB) the benchmark sets: some legs are not unity. */
void sigbank_leg_gain(unsigned leg, float *in_db, float *out_db);

/* Timing helpers (mixbench.c) */
uint64_t mb_now_ns(void);
double mb_clock_overhead_ns(void);

/* Kernel and memcpy points (kernel.c) */
struct kern_opts {
	unsigned reps;           /* repetitions per impl                     */
	double batch_s;          /* timed seconds per repetition             */
	unsigned warm_ticks;     /* untimed ticks before measuring           */
	double clock_ovh_ns;     /* subtracted from each timed tick          */
};
/* isas[]: enum mix_isa values to run; one extra result for memcpy.
 * res[] must hold nisa + 1 entries: kernels in order, memcpy last. */
int kern_point(struct mb_result *res, const struct sigbank *sb,
	       const int *isas, size_t nisa, uint32_t n, uint32_t topk,
	       const struct kern_opts *opt);

/* librem aumix baseline (remmix.c) */
struct remmix_opts {
	unsigned warm_ticks;     /* full ticks ignored at the start          */
	unsigned min_ticks;      /* measured ticks, at least                 */
	double min_wall_s;       /* and at least this long                   */
	double max_cpu_s;        /* skip a point predicted to cost more      */
};
int  remmix_init(void);
void remmix_close(void);
/* prev_ns_tick/prev_n: last measured point at this rate (0 if none), used
 * to predict the cost of this one from aumix's O(N^2) work. */
int  remmix_point(struct mb_result *res, const struct sigbank *sb,
		  uint32_t n, const struct remmix_opts *opt,
		  double prev_ns_tick, uint32_t prev_n);

/* Output (report.c) */
struct report_info {
	const char *build;       /* build type and flags                     */
	long ncpu;
	unsigned reps;
	double batch_s;
	double clock_ovh_ns;
};
void report_header(FILE *f, const struct report_info *info);
void report_load(FILE *f, const char *when);
/* memcpy_r / aumix_r: the same point's floor and baseline, or NULL. */
void report_row(FILE *f, bool json, const struct mb_result *r,
		const struct mb_result *memcpy_r,
		const struct mb_result *aumix_r);

/* gnuplot output (plot.c) */
int plot_write(const char *png, const struct mb_result *resv, size_t resc,
	       const char *title);

#endif
