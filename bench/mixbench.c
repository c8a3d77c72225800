/**
 * @file mixbench.c  benchmark of the chorus minus-one mixer
 *
 * For each sample rate and room size N it measures, side by side:
 * every mixer kernel this CPU supports (all talking, and top-3), the
 * librem aumix that rooms use today, and a memcpy of the same bytes as
 * the physical floor. See docs/BENCHMARKS.md for the method.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <chorus/mixer.h>
#include "mixbench.h"

#ifndef MIXBENCH_BUILD
#define MIXBENCH_BUILD "unknown"
#endif

enum {
	MAX_RATES = 4,
	MAX_TOPKS = 2,
	MAX_RESULTS = MB_MAX_POINTS * MAX_RATES * (MAX_TOPKS * (MIX_ISA_COUNT
						   + 1) + 1),
	CLOCK_CAL_ROUNDS = 2001,
};

static const uint32_t full_ns[]  = {2, 10, 100, 300, 1000, 3000};
static const uint32_t quick_ns[] = {2, 10, 100, 1000};
static const uint32_t def_rates[] = {48000, 16000};
static const uint32_t def_topks[] = {0, MB_TOPK};

struct opts {
	bool quick, json, aumix, list;
	const char *plot;
	uint32_t nv[MB_MAX_POINTS];
	size_t nc;
	uint32_t ratev[MAX_RATES];
	size_t ratec;
	int isav[MIX_ISA_COUNT];
	size_t isac;
	struct kern_opts kern;
	struct remmix_opts rem;
};

static struct mb_result results[MAX_RESULTS];
static size_t nresults;


uint64_t mb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MB_NS_PER_S + (uint64_t)ts.tv_nsec;
}


static int cmp_u64(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}


/* Median cost of one back-to-back pair of mb_now_ns() calls: what a
 * timed interval adds to the code it times. */
double mb_clock_overhead_ns(void)
{
	static uint64_t d[CLOCK_CAL_ROUNDS];
	unsigned i;

	for (i = 0; i < CLOCK_CAL_ROUNDS; i++) {
		const uint64_t t0 = mb_now_ns();

		d[i] = mb_now_ns() - t0;
	}
	qsort(d, CLOCK_CAL_ROUNDS, sizeof(d[0]), cmp_u64);

	return (double)d[CLOCK_CAL_ROUNDS / 2];
}


static void usage(FILE *f)
{
	fprintf(f,
		"usage: mixbench [options]\n"
		"  --quick          few ticks, N=2,10,100,1000 (CI smoke test)\n"
		"  --json           one JSON object per line on stdout\n"
		"  --plot FILE.png  draw ns/participant/frame against N\n"
		"  --n LIST         room sizes, e.g. 2,10,100\n"
		"  --rate LIST      sample rates, e.g. 48000,16000\n"
		"  --isa LIST       kernels, e.g. scalar,avx2 (default: all "
		"supported)\n"
		"  --no-aumix       skip the librem aumix baseline\n"
		"  --aumix-budget S skip aumix points predicted to take more "
		"CPU seconds\n"
		"  --reps R         interleaved repetitions per point\n"
		"  --list-impls     print the implementations a run measures\n");
}


static size_t parse_list(uint32_t *v, size_t max, const char *s)
{
	size_t c = 0;
	char *end;

	while (*s && c < max) {
		const unsigned long x = strtoul(s, &end, 10);

		if (end == s || x == 0 || x > 100000)
			return 0;
		v[c++] = (uint32_t)x;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return 0;
	}

	return c;
}


static int parse_isas(struct opts *o, const char *s)
{
	char buf[128], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	o->isac = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		const enum mix_isa isa = mix_isa_from_name(tok);

		if (isa == MIX_ISA_AUTO ||
		    !(mix_isa_supported() & (1u << isa))) {
			fprintf(stderr, "mixbench: kernel '%s' is not "
				"supported here\n", tok);
			return EINVAL;
		}
		if (o->isac < MIX_ISA_COUNT)
			o->isav[o->isac++] = isa;
	}

	return o->isac ? 0 : EINVAL;
}


static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
		{"quick",        no_argument,       NULL, 'q'},
		{"json",         no_argument,       NULL, 'j'},
		{"plot",         required_argument, NULL, 'p'},
		{"n",            required_argument, NULL, 'n'},
		{"rate",         required_argument, NULL, 'r'},
		{"isa",          required_argument, NULL, 'i'},
		{"no-aumix",     no_argument,       NULL, 'A'},
		{"aumix-budget", required_argument, NULL, 'B'},
		{"reps",         required_argument, NULL, 'R'},
		{"list-impls",   no_argument,       NULL, 'l'},
		{"help",         no_argument,       NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *nlist = NULL, *rlist = NULL, *ilist = NULL;
	double budget = -1.0;
	int reps = -1, c, isa;

	o->aumix = true;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'q': o->quick = true;             break;
		case 'j': o->json = true;              break;
		case 'p': o->plot = optarg;            break;
		case 'n': nlist = optarg;              break;
		case 'r': rlist = optarg;              break;
		case 'i': ilist = optarg;              break;
		case 'A': o->aumix = false;            break;
		case 'B': budget = atof(optarg);       break;
		case 'R': reps = atoi(optarg);         break;
		case 'l': o->list = true;              break;
		case 'h': usage(stdout); exit(0);
		default:  usage(stderr); return EINVAL;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return EINVAL;
	}

	if (o->quick) {
		o->kern = (struct kern_opts){3, 0.004, 5, 0.0};
		o->rem  = (struct remmix_opts){1, 3, 0.06, 2.0};
		memcpy(o->nv, quick_ns, sizeof(quick_ns));
		o->nc = sizeof(quick_ns) / sizeof(quick_ns[0]);
	}
	else {
		o->kern = (struct kern_opts){7, 0.03, 25, 0.0};
		o->rem  = (struct remmix_opts){1, 2, 0.4, 8.0};
		memcpy(o->nv, full_ns, sizeof(full_ns));
		o->nc = sizeof(full_ns) / sizeof(full_ns[0]);
	}
	memcpy(o->ratev, def_rates, sizeof(def_rates));
	o->ratec = sizeof(def_rates) / sizeof(def_rates[0]);

	if (reps > 0)
		o->kern.reps = (unsigned)reps;
	if (budget >= 0.0)
		o->rem.max_cpu_s = budget;
	if (nlist && !(o->nc = parse_list(o->nv, MB_MAX_POINTS, nlist))) {
		fprintf(stderr, "mixbench: bad --n list '%s'\n", nlist);
		return EINVAL;
	}
	if (rlist && !(o->ratec = parse_list(o->ratev, MAX_RATES, rlist))) {
		fprintf(stderr, "mixbench: bad --rate list '%s'\n", rlist);
		return EINVAL;
	}

	if (ilist)
		return parse_isas(o, ilist);

	for (isa = MIX_ISA_SCALAR; isa < MIX_ISA_COUNT; isa++)
		if (mix_isa_supported() & (1u << isa))
			o->isav[o->isac++] = isa;

	return 0;
}


static struct mb_result *result_add(void)
{
	if (nresults >= MAX_RESULTS)
		return NULL;
	return &results[nresults++];
}


/* One (rate, N): aumix once (it has no top-K), then kernels+memcpy for
 * each topk; rows are printed as soon as they are measured. */
static int run_point(const struct opts *o, const struct sigbank *sb,
		     uint32_t n, double *aumix_prev_ns,
		     uint32_t *aumix_prev_n)
{
	const uint32_t rate = sigbank_rate(sb);
	struct mb_result *aumix_r = NULL;
	const struct mb_result *mem0 = NULL;
	size_t t, i;
	int err;

	if (o->aumix && n >= 2) {
		aumix_r = result_add();
		if (!aumix_r)
			return ENOMEM;
		err = remmix_point(aumix_r, sb, n, &o->rem, *aumix_prev_ns,
				   *aumix_prev_n);
		if (err) {
			fprintf(stderr, "mixbench: aumix n=%u rate=%u: %s\n",
				n, rate, strerror(err));
			return err;
		}
		if (!aumix_r->skipped) {
			*aumix_prev_ns = aumix_r->ns_tick;
			*aumix_prev_n = n;
		}
	}

	for (t = 0; t < sizeof(def_topks) / sizeof(def_topks[0]); t++) {
		struct mb_result *res = &results[nresults];
		const size_t nimpl = o->isac + 1;

		if (def_topks[t] && def_topks[t] >= n)
			continue;        /* top-3 of 2 legs is everybody */
		if (nresults + nimpl > MAX_RESULTS)
			return ENOMEM;

		err = kern_point(res, sb, o->isav, o->isac, n, def_topks[t],
				 &o->kern);
		if (err) {
			fprintf(stderr, "mixbench: n=%u rate=%u topk=%u: %s\n",
				n, rate, def_topks[t], strerror(err));
			return err;
		}
		nresults += nimpl;
		if (!mem0)
			mem0 = &res[nimpl - 1];

		for (i = 0; i < nimpl; i++)
			report_row(stdout, o->json, &res[i], &res[nimpl - 1],
				   aumix_r);
	}

	if (aumix_r)
		report_row(stdout, o->json, aumix_r, mem0, NULL);
	fflush(stdout);

	return 0;
}


static bool is_kernel(const struct mb_result *r)
{
	return strcmp(r->impl, "memcpy") && strcmp(r->impl, "aumix");
}


/* The fastest kernel, the floor and the baseline at one point. */
static void point_best(uint32_t n, uint32_t rate, uint32_t topk,
		       const struct mb_result **best,
		       const struct mb_result **mem,
		       const struct mb_result **aumix)
{
	size_t i;

	*best = *mem = *aumix = NULL;
	for (i = 0; i < nresults; i++) {
		const struct mb_result *r = &results[i];

		if (r->n != n || r->rate != rate || r->skipped)
			continue;
		if (!strcmp(r->impl, "aumix"))
			*aumix = r;
		else if (r->topk != topk)
			continue;
		else if (!strcmp(r->impl, "memcpy"))
			*mem = r;
		else if (is_kernel(r) &&
			 (!*best || r->ns_tick < (*best)->ns_tick))
			*best = r;
	}
}


/* Best kernel per point, one line per (rate, topk). */
static void best_print(FILE *f, const struct opts *o)
{
	const struct mb_result *best, *mem, *aumix;
	size_t r, t, k;

	fprintf(f, "\nbest kernel, ns per participant per frame (and which):"
		"\n%-21s", "");
	for (k = 0; k < o->nc; k++) {
		char col[16];

		snprintf(col, sizeof(col), "N=%u", o->nv[k]);
		fprintf(f, " %10s %-8s", col, "");
	}
	fprintf(f, "\n");

	for (r = 0; r < o->ratec; r++) {
		for (t = 0; t < sizeof(def_topks) / sizeof(def_topks[0]);
		     t++) {
			fprintf(f, "%2u kHz, %-13s", o->ratev[r] / 1000,
				def_topks[t] ? "top-3" : "all talking");
			for (k = 0; k < o->nc; k++) {
				point_best(o->nv[k], o->ratev[r], def_topks[t],
					   &best, &mem, &aumix);
				if (best)
					fprintf(f, " %10.1f %-8s",
						best->ns_tick / best->n,
						best->impl);
				else
					fprintf(f, " %10s %-8s", "-", "");
			}
			fprintf(f, "\n");
		}
	}
}


/* The targets, judged on 48 kHz with every leg talking (the
 * worst case); only over the points this run measured. */
static void summary_print(FILE *f, const struct opts *o)
{
	static const double target_ns = 60.0, target_mem = 2.0;
	static const double target_aumix = 1000.0;
	static const uint32_t rate = 48000, n_ratio = 1000;
	const struct mb_result *best, *mem, *aumix;
	double worst = 0.0;
	uint32_t worst_n = 0;
	size_t k;

	for (k = 0; k < o->nc; k++) {
		if (o->nv[k] < 10)
			continue;
		point_best(o->nv[k], rate, 0, &best, &mem, &aumix);
		if (best && best->ns_tick / best->n > worst) {
			worst = best->ns_tick / best->n;
			worst_n = best->n;
		}
	}
	point_best(n_ratio, rate, 0, &best, &mem, &aumix);
	if (!worst_n && !best)
		return;

	fprintf(f, "\ntargets (48 kHz, all talking, best kernel per N):\n");
	if (worst_n)
		fprintf(f, "  <= %.0f ns/participant/frame for N=10..: worst "
			"%.1f ns at N=%u -> %s\n", target_ns, worst, worst_n,
			worst <= target_ns ? "MET" : "NOT MET");
	if (best && mem)
		fprintf(f, "  within %.0fx of memcpy at N=%u: %s %.2fx -> %s\n",
			target_mem, n_ratio, best->impl,
			best->ns_tick / mem->ns_tick,
			best->ns_tick / mem->ns_tick <= target_mem
			? "MET" : "NOT MET");
	if (best && aumix)
		fprintf(f, "  >= %.0fx faster than aumix at N=%u: %s %.0fx "
			"-> %s\n", target_aumix, n_ratio, best->impl,
			aumix->ns_tick / best->ns_tick,
			aumix->ns_tick / best->ns_tick >= target_aumix
			? "MET" : "NOT MET");
}


int main(int argc, char **argv)
{
	struct report_info info;
	struct opts o;
	size_t r, k;
	int err;

	memset(&o, 0, sizeof(o));
	err = parse_args(&o, argc, argv);
	if (err)
		return 2;

	if (o.list) {
		for (k = 0; k < o.isac; k++)
			printf("%s\n", mix_isa_name((enum mix_isa)o.isav[k]));
		printf("memcpy\n");
		if (o.aumix)
			printf("aumix\n");
		return 0;
	}

	o.kern.clock_ovh_ns = mb_clock_overhead_ns();

	info.build = MIXBENCH_BUILD;
	info.ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	info.reps = o.kern.reps;
	info.batch_s = o.kern.batch_s;
	info.clock_ovh_ns = o.kern.clock_ovh_ns;
	report_header(o.json ? stderr : stdout, &info);
	fflush(stdout);

	if (o.aumix) {
		err = remmix_init();
		if (err) {
			fprintf(stderr, "mixbench: libre_init: %s\n",
				strerror(err));
			return 1;
		}
	}

	for (r = 0; r < o.ratec && !err; r++) {
		struct sigbank *sb = NULL;
		double prev_ns = 0.0;
		uint32_t prev_n = 0;

		/* one signal bank per rate: rendering it costs ~0.1 s */
		err = sigbank_alloc(&sb, o.ratev[r]);
		if (err) {
			fprintf(stderr, "mixbench: rate %u: %s\n", o.ratev[r],
				strerror(err));
			break;
		}

		if (!o.json)
			printf("\n");
		for (k = 0; k < o.nc && !err; k++)
			err = run_point(&o, sb, o.nv[k], &prev_ns, &prev_n);

		sigbank_free(sb);
	}

	if (o.aumix)
		remmix_close();

	if (!err) {
		best_print(o.json ? stderr : stdout, &o);
		summary_print(o.json ? stderr : stdout, &o);
	}
	fprintf(o.json ? stderr : stdout, "\n");
	report_load(o.json ? stderr : stdout, "at end");

	if (!err && o.plot) {
		char title[256];

		snprintf(title, sizeof(title), "chorus mixbench: minus-one "
			 "mix cost per participant per 20 ms frame (log-log)");
		err = plot_write(o.plot, results, nresults, title);
		if (err)
			fprintf(stderr, "mixbench: plot %s: %s\n", o.plot,
				strerror(err));
	}

	return err ? 1 : 0;
}
