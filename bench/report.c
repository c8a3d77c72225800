/**
 * @file report.c  mixbench output: machine header, table rows, JSON lines
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <chorus/mixer.h>
#include "mixbench.h"

static const double TICK_BUDGET_NS = MB_PTIME_MS * 1e6;


/* First "model name" (x86) or "CPU part"/"Hardware" fallback. */
static void cpu_model(char *buf, size_t sz)
{
	char line[4096];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, sz, "unknown");
	if (!f)
		return;

	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!colon || strncmp(line, "model name", 10))
			continue;
		colon += 1 + strspn(colon + 1, " \t");
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, sz, "%s", colon);
		break;
	}
	fclose(f);
}


/* The SIMD-relevant CPU flags, in a fixed order. */
static void cpu_flags(char *buf, size_t sz)
{
	static const char *want[] = {
		"sse2", "ssse3", "sse4_1", "avx", "avx2", "avx512f",
		"avx512bw", "avx512vl", "asimd", NULL
	};
	char line[8192];
	FILE *f = fopen("/proc/cpuinfo", "r");
	size_t len = 0;
	unsigned i;

	buf[0] = '\0';
	if (!f)
		return;

	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) && strncmp(line, "Features", 8))
			continue;
		strcat(line, " ");
		for (i = 0; want[i]; i++) {
			char pat[32];

			snprintf(pat, sizeof(pat), " %s ", want[i]);
			if (strstr(line, pat) && len + 16 < sz)
				len += (size_t)snprintf(buf + len, sz - len,
							"%s%s", len ? " " : "",
							want[i]);
		}
		break;
	}
	fclose(f);
}


/* The machine is shared: say how busy it was. */
void report_load(FILE *f, const char *when)
{
	char buf[128] = "?";
	FILE *la = fopen("/proc/loadavg", "r");

	if (la) {
		if (fgets(buf, sizeof(buf), la))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(la);
	}
	fprintf(f, "load average %s: %s\n", when, buf);
}


void report_header(FILE *f, const struct report_info *info)
{
	char model[256], flags[256], date[64], kernels[128] = "";
	const unsigned sup = mix_isa_supported();
	time_t now = time(NULL);
	struct tm tm;
	int isa;

	cpu_model(model, sizeof(model));
	cpu_flags(flags, sizeof(flags));
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);

	for (isa = MIX_ISA_SCALAR; isa < MIX_ISA_COUNT; isa++) {
		if (!(sup & (1u << isa)))
			continue;
		strcat(kernels, " ");
		strcat(kernels, mix_isa_name((enum mix_isa)isa));
	}

	fprintf(f, "mixbench  %s  build %s\n", date, info->build);
	fprintf(f, "CPU:      %s (%ld online)\n", model, info->ncpu);
	fprintf(f, "flags:    %s\n", flags[0] ? flags : "-");
	fprintf(f, "kernels: %s  (default %s)\n", kernels,
		mix_isa_name(mix_isa_default()));
	fprintf(f, "frame %d ms; every leg talks (speech-like, some loud, "
		"gains off unity, limiter on); topk=%d: only the %d loudest "
		"contribute\n", MB_PTIME_MS, MB_TOPK, MB_TOPK);
	fprintf(f, "kernels, memcpy: median of every tick timed with "
		"CLOCK_MONOTONIC, %u interleaved repetitions x ~%.0f ms;\n"
		"aumix: mean CPU time per tick of its own thread "
		"(CLOCK_THREAD_CPUTIME_ID)\n", info->reps,
		info->batch_s * 1e3);
	fprintf(f, "clock pair overhead %.0f ns, subtracted from every "
		"timed tick\n", info->clock_ovh_ns);
	report_load(f, "at start");
	fprintf(f, "\n");
	fprintf(f, "%-7s %5s %6s %4s %13s %11s %8s %8s %10s %5s\n",
		"impl", "N", "rate", "topk", "ns/part/frm", "us/tick",
		"%core", "xmemcpy", "aumix/this", "lim%");
}


static double ns_part(const struct mb_result *r)
{
	return r->ns_tick / r->n;
}


static bool usable(const struct mb_result *r)
{
	return r && !r->skipped && r->ns_tick > 0.0;
}


void report_row(FILE *f, bool json, const struct mb_result *r,
		const struct mb_result *memcpy_r,
		const struct mb_result *aumix_r)
{
	const bool is_aumix = !strcmp(r->impl, "aumix");
	const bool is_mixer = !is_aumix && strcmp(r->impl, "memcpy");
	const double vs_mem = usable(r) && usable(memcpy_r)
		? r->ns_tick / memcpy_r->ns_tick : NAN;
	const double aumix_over = usable(r) && usable(aumix_r) && !is_aumix
		? aumix_r->ns_tick / r->ns_tick : NAN;
	const double lim = is_mixer && r->frames
		? 100.0 * r->limited_frames / r->frames : NAN;

	if (json) {
		fprintf(f, "{\"impl\": \"%s\", \"n\": %u, \"rate\": %u, "
			"\"topk\": %u", r->impl, r->n, r->rate, r->topk);
		if (r->skipped) {
			fprintf(f, ", \"ns_per_participant_frame\": null, "
				"\"skipped\": true, \"reason\": \"%s\", "
				"\"predicted_us_per_tick\": %.1f}\n", r->why,
				r->ns_tick / 1e3);
			return;
		}
		fprintf(f, ", \"ns_per_participant_frame\": %.3f, "
			"\"ns_per_participant_frame_mean\": %.3f, "
			"\"ns_per_participant_frame_p10\": %.3f, "
			"\"ns_per_participant_frame_p90\": %.3f, "
			"\"us_per_tick\": %.3f, \"core_pct\": %.5f, "
			"\"ticks\": %llu, \"reps\": %u, "
			"\"timing\": \"%s\"",
			ns_part(r), r->ns_tick_mean / r->n,
			r->ns_tick_p10 / r->n, r->ns_tick_p90 / r->n,
			r->ns_tick / 1e3, 100.0 * r->ns_tick / TICK_BUDGET_NS,
			(unsigned long long)r->ticks, r->reps,
			is_aumix ? "thread_cputime_mean"
				 : "monotonic_median_tick");
		if (!is_aumix)
			fprintf(f, ", \"ns_per_participant_frame_best_rep\": "
				"%.3f", r->ns_tick_best_rep / r->n);
		if (!isnan(vs_mem))
			fprintf(f, ", \"vs_memcpy\": %.3f", vs_mem);
		if (!isnan(aumix_over))
			fprintf(f, ", \"aumix_over_this\": %.1f", aumix_over);
		if (is_mixer)
			fprintf(f, ", \"limited_frames\": %llu, "
				"\"output_frames\": %llu",
				(unsigned long long)r->limited_frames,
				(unsigned long long)r->frames);
		if (is_aumix)
			fprintf(f, ", \"frames\": %llu",
				(unsigned long long)r->frames);
		fprintf(f, "}\n");
		return;
	}

	if (r->skipped) {
		fprintf(f, "%-7s %5u %6u %4u  skipped: %s (~%.0f ms/tick "
			"predicted)\n", r->impl, r->n, r->rate, r->topk,
			r->why, r->ns_tick / 1e6);
		return;
	}

	fprintf(f, "%-7s %5u %6u %4u %13.2f %11.2f %8.3f", r->impl, r->n,
		r->rate, r->topk, ns_part(r), r->ns_tick / 1e3,
		100.0 * r->ns_tick / TICK_BUDGET_NS);
	if (isnan(vs_mem))
		fprintf(f, " %8s", "-");
	else
		fprintf(f, " %8.2f", vs_mem);
	if (isnan(aumix_over))
		fprintf(f, " %10s", "-");
	else
		fprintf(f, " %10.0f", aumix_over);
	if (isnan(lim))
		fprintf(f, " %5s\n", "-");
	else
		fprintf(f, " %5.1f\n", lim);
}
