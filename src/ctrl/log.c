/**
 * @file log.c  Leveled logging for chorusd (see log.h).
 */
#include <stdint.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <re.h>

#include "ctrl/log.h"

enum { LOG_LINE_MAX = 1024 };

static atomic_int log_level = LOG_LVL_INFO;
static atomic_bool log_ts;
static log_h *log_handler;
static void *log_handler_arg;


static void write_all(int fd, const char *p, size_t n)
{
	/* bounded: each write makes progress or we give up */
	for (int tries = 0; n > 0 && tries < 8; tries++) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			continue;
		p += w;
		n -= (size_t)w;
	}
}


void log_set_level(int level)
{
	if (level < LOG_LVL_ERROR)
		level = LOG_LVL_ERROR;
	if (level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;

	atomic_store(&log_level, level);
}


int log_get_level(void)
{
	return atomic_load(&log_level);
}


void log_set_handler(log_h *h, void *arg)
{
	log_handler = h;
	log_handler_arg = arg;
}


void log_set_timestamps(bool on)
{
	atomic_store(&log_ts, on);
}


const char *log_level_name(enum log_level level)
{
	switch (level) {

	case LOG_LVL_ERROR: return "error";
	case LOG_LVL_WARN:  return "warning";
	case LOG_LVL_INFO:  return "info";
	case LOG_LVL_DEBUG: return "debug";
	default:            return "?";
	}
}


void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	char head[48] = "";
	size_t n;

	if ((int)level > atomic_load(&log_level))
		return;

	if (re_vsnprintf(line, sizeof(line), fmt, ap) < 0)
		return;

	if (log_handler) {
		log_handler(level, line, log_handler_arg);
		return;
	}

	if (atomic_load(&log_ts)) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		re_snprintf(head, sizeof(head), "%02d:%02d:%02d.%03ld ",
			    tm.tm_hour, tm.tm_min, tm.tm_sec,
			    ts.tv_nsec / 1000000);
	}

	if (level == LOG_LVL_ERROR || level == LOG_LVL_WARN) {
		size_t h = strlen(head);
		re_snprintf(head + h, sizeof(head) - h, "%s: ",
			    log_level_name(level));
	}

	/* one write per line so concurrent threads do not interleave */
	{
		char out[sizeof(head) + LOG_LINE_MAX + 1];
		size_t h = strlen(head);

		memcpy(out, head, h);
		n = strlen(line);
		memcpy(out + h, line, n);
		n += h;
		if (n == 0 || out[n - 1] != '\n')
			out[n++] = '\n';
		write_all(STDERR_FILENO, out, n);
	}
}


void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}


void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
}


void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(LOG_LVL_WARN, fmt, ap);
	va_end(ap);
}


void info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(LOG_LVL_INFO, fmt, ap);
	va_end(ap);
}


void debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(LOG_LVL_DEBUG, fmt, ap);
	va_end(ap);
}
