/**
 * @file main.c  chorusd: command line, configuration, start and stop.
 *
 *   chorusd [-f <config dir>] [-t] [-v]... [--help] [--version]
 *
 * Signals (handled on the libre thread):
 *   SIGTERM, SIGINT  every call gets a BYE, then exit 0 (a second one
 *                    exits at once)
 *   SIGHUP           re-read rooms.conf; calls stay up
 */
#define _GNU_SOURCE 1   /* pipe2 */
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <re.h>
/* re.h leaves out re_dbg.h; it wants these two defined */
#define DEBUG_MODULE "chorusd"
#define DEBUG_LEVEL 5
#include <re_dbg.h>

#include "ctrl/log.h"
#include "cfg/cfg.h"
#include "media/media.h"
#include "room/room.h"
#include "sip/endpoint.h"

#ifndef CHORUS_VERSION
#define CHORUS_VERSION "unknown"
#endif

enum {
	EXIT_CONFIG      = 1,   /* bad configuration                    */
	EXIT_STARTUP     = 2,   /* could not start (ports, memory, ...) */
	EXIT_USAGE       = 64,  /* sysexits EX_USAGE                    */
	SHUTDOWN_HARD_MS = 10000, /* bound on endpoint_shutdown()       */
	VERBOSE_DEBUG    = 2,   /* -v -v: libre debug, mem/tmr dumps    */
};

static struct {
	struct cfg *cfg;
	struct media_engine *me;
	struct registry *reg;
	struct endpoint *ep;
	struct tmr tmr_hard;
	int hup_fd[2];          /* self-pipe: SIGHUP -> libre loop      */
	bool stopping;
	int verbose;
} app = {.hup_fd = {-1, -1}};

static const struct option long_opts[] = {
	{"config",  required_argument, NULL, 'f'},
	{"test",    no_argument,       NULL, 't'},
	{"verbose", no_argument,       NULL, 'v'},
	{"help",    no_argument,       NULL, 'h'},
	{"version", no_argument,       NULL, 'V'},
	{NULL, 0, NULL, 0},
};


static void usage(FILE *f)
{
	fprintf(f,
		"Usage: chorusd [options]\n"
		"  -f, --config <dir>  configuration directory with "
		"chorus.conf and rooms.conf\n"
		"                      (default: conf)\n"
		"  -t, --test          check the configuration and exit "
		"(0 = valid)\n"
		"  -v, --verbose       more logging; repeat for more\n"
		"  -h, --help          this help\n"
		"  -V, --version       print the version\n"
		"Signals: SIGTERM/SIGINT end every call and exit, SIGHUP "
		"re-reads rooms.conf.\n");
}


static void media_event_handler(const struct media_event *ev, void *arg)
{
	(void)arg;

	/* the endpoint passes every event on to registry_media_event();
	   until it exists (start-up) the registry gets them directly */
	if (app.ep)
		endpoint_media_event(app.ep, ev);
	else
		registry_media_event(app.reg, ev);
}


static void shutdown_done(void *arg)
{
	(void)arg;

	info("chorusd: all calls ended, exiting\n");
	re_cancel();
}


static void shutdown_hard(void *arg)
{
	(void)arg;

	warning("chorusd: calls still up after %u ms, exiting anyway\n",
		SHUTDOWN_HARD_MS);
	re_cancel();
}


/* runs on the libre thread (re_main records the signal, then calls us) */
static void signal_handler(int sig)
{
	if (sig != SIGINT && sig != SIGTERM)
		return;

	if (app.stopping) {
		warning("chorusd: second %s, exiting now\n",
			sig == SIGINT ? "SIGINT" : "SIGTERM");
		re_cancel();
		return;
	}

	app.stopping = true;
	info("chorusd: %s: ending %u calls\n",
	     sig == SIGINT ? "SIGINT" : "SIGTERM",
	     registry_leg_count(app.reg));

	tmr_start(&app.tmr_hard, SHUTDOWN_HARD_MS, shutdown_hard, NULL);
	endpoint_shutdown(app.ep, shutdown_done, NULL);
}


/* async-signal context: only write(2) */
static void sighup_handler(int sig)
{
	int saved = errno;
	const char c = 'h';
	ssize_t n;

	(void)sig;
	n = write(app.hup_fd[1], &c, 1);
	(void)n;   /* a full pipe already has a reload pending */
	errno = saved;
}


static void hup_readable(int flags, void *arg)
{
	char buf[64];
	int err;

	(void)flags;
	(void)arg;

	/* several SIGHUPs in a row make one reload (bounded: nonblocking) */
	while (read(app.hup_fd[0], buf, sizeof(buf)) > 0)
		;

	info("chorusd: SIGHUP: reloading %s/rooms.conf\n", app.cfg->dir);

	/* only rooms.conf applies live; say so for chorus.conf edits */
	(void)cfg_main_changes(app.cfg);

	/* digest users (auth_users) apply live too; errors keep the old */
	(void)cfg_reload_users(app.cfg);

	err = cfg_reload_rooms(app.cfg);
	if (err)
		return;   /* reason logged; old rooms stay in force */

	registry_reload(app.reg);
}


static int sighup_init(void)
{
	struct sigaction sa;
	int err;

	if (pipe2(app.hup_fd, O_CLOEXEC | O_NONBLOCK))
		return errno;

	err = fd_listen(app.hup_fd[0], FD_READ, hup_readable, NULL);
	if (err)
		return err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sighup_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGHUP, &sa, NULL))
		return errno;

	return 0;
}


static void sighup_close(void)
{
	signal(SIGHUP, SIG_DFL);

	if (app.hup_fd[0] >= 0) {
		fd_close(app.hup_fd[0]);
		close(app.hup_fd[0]);
	}
	if (app.hup_fd[1] >= 0)
		close(app.hup_fd[1]);

	app.hup_fd[0] = app.hup_fd[1] = -1;
}


/*
 * Threads started from here on (media workers) inherit this mask, so the
 * process signals always reach the libre thread, whose loop they must
 * wake.
 */
static void signals_block(bool block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}


static int start(void)
{
	const struct cfg *cfg = app.cfg;
	int err;

	signals_block(true);
	err = media_engine_alloc(&app.me, &cfg->media, media_event_handler,
				 NULL);
	signals_block(false);
	if (err) {
		log_error("chorusd: media engine: %m\n", err);
		return err;
	}

	err = registry_alloc(&app.reg, app.cfg, app.me);
	if (err) {
		log_error("chorusd: room registry: %m\n", err);
		return err;
	}

	err = endpoint_alloc(&app.ep, app.cfg, app.reg, app.me);
	if (err) {
		log_error("chorusd: SIP endpoint on %s: %m\n", cfg->sip_listen,
			  err);
		return err;
	}
	endpoint_set_answer_delay(app.ep, cfg->answer_delay_ms);

	err = sighup_init();
	if (err) {
		log_error("chorusd: SIGHUP handler: %m\n", err);
		return err;
	}

	info("chorusd %s: SIP %s%s%s%s%s, %u media workers, %u Hz rooms, "
	     "%u listed rooms, auto_create %s\n", CHORUS_VERSION,
	     cfg->sip_listen, cfg->sip_udp ? " udp" : "",
	     cfg->sip_tcp ? " tcp" : "",
	     cfg->sip_tls ? " tls " : "", cfg->sip_tls ? cfg->tls_listen : "",
	     media_engine_workers(app.me), cfg->media.room_srate,
	     cfg->nrooms, cfg->auto_pattern[0] ? cfg->auto_pattern : "off");

	return 0;
}


/* reverse order of start(): calls end before rooms, rooms before media */
static void stop(void)
{
	tmr_cancel(&app.tmr_hard);
	sighup_close();

	app.ep = mem_deref(app.ep);
	app.reg = mem_deref(app.reg);
	app.me = mem_deref(app.me);
	app.cfg = mem_deref(app.cfg);
}


int main(int argc, char *argv[])
{
	const char *dir = "conf";
	bool test = false;
	int c, err, code = 0;

	while ((c = getopt_long(argc, argv, "f:tvhV", long_opts, NULL))
	       != -1) {
		switch (c) {

		case 'f':
			dir = optarg;
			break;

		case 't':
			test = true;
			break;

		case 'v':
			app.verbose++;
			break;

		case 'h':
			usage(stdout);
			return 0;

		case 'V':
			printf("chorusd %s\n", CHORUS_VERSION);
			return 0;

		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}

	if (optind < argc) {
		fprintf(stderr, "chorusd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	err = libre_init();
	if (err) {
		fprintf(stderr, "chorusd: libre_init: %s\n", strerror(err));
		return EXIT_STARTUP;
	}

	log_set_level(LOG_LVL_INFO + app.verbose);
	tmr_init(&app.tmr_hard);

	err = cfg_load(&app.cfg, dir);
	if (err) {
		log_error("chorusd: configuration in %s is not valid (%m)\n",
			  dir, err);
		code = EXIT_CONFIG;
		goto out;
	}

	log_set_level(app.cfg->log_level + app.verbose);

	if (test) {
		if (app.verbose)
			re_printf("%H", cfg_print, app.cfg);
		re_printf("chorusd: configuration in %s is valid: %u listed "
			  "rooms, auto_create %s, %u digest users\n", dir,
			  app.cfg->nrooms, app.cfg->auto_pattern[0] ?
			  app.cfg->auto_pattern : "off", app.cfg->nusers);
		goto out;
	}

	/* until the handler is in place a SIGHUP must not kill us */
	signal(SIGHUP, SIG_IGN);
	log_set_timestamps(true);
	dbg_init(app.verbose >= VERBOSE_DEBUG ? DBG_DEBUG : DBG_WARNING,
		 DBG_NONE);
	signal(SIGPIPE, SIG_IGN);

	err = start();
	if (err) {
		code = EXIT_STARTUP;
		goto out;
	}

	err = re_main(signal_handler);
	if (err) {
		log_error("chorusd: main loop: %m\n", err);
		code = EXIT_STARTUP;
	}

	info("chorusd: stopped\n");

 out:
	stop();
	libre_close();

	if (app.verbose >= VERBOSE_DEBUG) {
		tmr_debug();
		mem_debug();
	}

	return code;
}
