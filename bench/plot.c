/**
 * @file plot.c  draw ns/participant/frame against N with gnuplot
 *
 * Writes a data file and a script into a private temporary directory and
 * runs gnuplot on them as a child process. Four panels: 48 kHz and 16 kHz,
 * all talking and top-3. aumix has no top-K mode, so the top-3 panels show
 * its all-talking cost for reference.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mixbench.h"

enum {
	PLOT_PANELS    = 4,
	PLOT_MAX_IMPLS = 16,
};

static const double PLOT_TARGET_NS = 60.0;   /* issue's kernel target */

struct panel {
	uint32_t rate;
	uint32_t topk;
	const char *title;
};

static const struct panel panels[PLOT_PANELS] = {
	{48000, 0,       "48 kHz, all legs talking"},
	{48000, MB_TOPK, "48 kHz, top-3 talk (cfg.topk=3; aumix: all)"},
	{16000, 0,       "16 kHz, all legs talking"},
	{16000, MB_TOPK, "16 kHz, top-3 talk (cfg.topk=3; aumix: all)"},
};


/* Fixed colour and point type per impl, whatever subset a run measures. */
static const struct style {
	const char *impl;
	const char *color;
	int pt;
} styles[] = {
	{"aumix",  "#9400d3", 1},
	{"scalar", "#009e73", 2},
	{"sse2",   "#56b4e9", 4},
	{"avx2",   "#e69f00", 6},
	{"avx512", "#d62728", 8},
	{"neon",   "#cc79a7", 10},
	{"memcpy", "#0072b2", 12},
};


static const struct style *style_of(const char *impl)
{
	size_t i;

	for (i = 0; i < sizeof(styles) / sizeof(styles[0]); i++)
		if (!strcmp(styles[i].impl, impl))
			return &styles[i];

	return &styles[0];
}


static bool in_panel(const struct mb_result *r, const struct panel *p)
{
	if (r->skipped || r->ns_tick <= 0.0 || r->rate != p->rate)
		return false;

	/* aumix always mixes everybody */
	return r->topk == p->topk || !strcmp(r->impl, "aumix");
}


/* Distinct impl names in first-seen order. */
static size_t impl_names(const char **names, const struct mb_result *resv,
			 size_t resc)
{
	size_t c = 0, i, j;

	for (i = 0; i < resc; i++) {
		for (j = 0; j < c; j++)
			if (!strcmp(names[j], resv[i].impl))
				break;
		if (j == c && c < PLOT_MAX_IMPLS)
			names[c++] = resv[i].impl;
	}

	return c;
}


static int run_gnuplot(const char *script)
{
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return errno;

	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : EIO;
}


static int write_script(const char *path, const char *dat, const char *png,
			const char *term, const char *title,
			const char **names, size_t namec,
			int idx[PLOT_PANELS][PLOT_MAX_IMPLS])
{
	FILE *f = fopen(path, "w");
	unsigned p;
	size_t j;

	if (!f)
		return errno;

	fprintf(f, "set terminal %s size 1400,1000\n", term);
	fprintf(f, "set output '%s'\n", png);
	fprintf(f, "set multiplot layout 2,2 title \"%s\"\n", title);
	fprintf(f, "set logscale xy\nset grid\nset key outside right top font \",10\"\n"
		"set format y \"10^{%%L}\"\n"
		"set xlabel 'N (legs in the room)'\n"
		"set ylabel 'ns per participant per frame'\n"
		"set xrange [1.5:4500]\n");

	for (p = 0; p < PLOT_PANELS; p++) {
		bool first = true;

		fprintf(f, "set title \"%s\"\nplot ", panels[p].title);
		for (j = 0; j < namec; j++) {
			const struct style *st = style_of(names[j]);

			if (idx[p][j] < 0)
				continue;
			fprintf(f, "%s'%s' index %d using 1:2 with linespoints "
				"lw 2 lc rgb '%s' pt %d title '%s'",
				first ? "" : ", ", dat, idx[p][j], st->color,
				st->pt, names[j]);
			first = false;
		}
		fprintf(f, "%s%g with lines dt 2 lc 'black' title "
			"'target %g ns'\n", first ? "" : ", ", PLOT_TARGET_NS,
			PLOT_TARGET_NS);
	}
	fprintf(f, "unset multiplot\n");

	return fclose(f) ? errno : 0;
}


int plot_write(const char *png, const struct mb_result *resv, size_t resc,
	       const char *title)
{
	const char *names[PLOT_MAX_IMPLS];
	int idx[PLOT_PANELS][PLOT_MAX_IMPLS];
	char dir[] = "/tmp/mixbench-XXXXXX";
	char dat[64], gp[64];
	size_t namec, i, j;
	int next = 0, err;
	unsigned p;
	FILE *f;

	if (!png || !resv)
		return EINVAL;

	if (!mkdtemp(dir))
		return errno;
	snprintf(dat, sizeof(dat), "%s/mixbench.dat", dir);
	snprintf(gp, sizeof(gp), "%s/mixbench.gp", dir);

	namec = impl_names(names, resv, resc);

	/* one data block (gnuplot "index") per panel and impl */
	f = fopen(dat, "w");
	if (!f) {
		err = errno;
		goto out;
	}
	for (p = 0; p < PLOT_PANELS; p++) {
		for (j = 0; j < namec; j++) {
			bool any = false;

			for (i = 0; i < resc; i++) {
				const struct mb_result *r = &resv[i];

				if (strcmp(r->impl, names[j]) ||
				    !in_panel(r, &panels[p]))
					continue;
				if (!any)
					fprintf(f, "# %s rate=%u topk=%u\n",
						names[j], panels[p].rate,
						panels[p].topk);
				fprintf(f, "%u %.4f\n", r->n,
					r->ns_tick / r->n);
				any = true;
			}
			idx[p][j] = any ? next++ : -1;
			if (any)
				fprintf(f, "\n\n");
		}
	}
	if (fclose(f)) {
		err = errno;
		goto out;
	}

	/* pngcairo draws nicer; the libgd png terminal is the fallback */
	err = write_script(gp, dat, png, "pngcairo", title, names, namec, idx);
	if (!err)
		err = run_gnuplot(gp);
	if (err) {
		err = write_script(gp, dat, png, "png", title, names, namec,
				   idx);
		if (!err)
			err = run_gnuplot(gp);
	}

 out:
	(void)unlink(dat);
	(void)unlink(gp);
	(void)rmdir(dir);

	return err;
}
