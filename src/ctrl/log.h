/**
 * @file log.h  Leveled logging for chorusd.
 *
 * One line per call, formatted with libre's re_vsnprintf (so %r, %j, %H,
 * %m work) and written with a single write(2): lines from media workers
 * and the libre thread never interleave. Safe from any thread.
 *
 * Levels follow cfg.log_level: 0 error, 1 warning, 2 info, 3 debug.
 * Messages start with the module prefix, e.g. "room: 1000: full\n".
 */
#ifndef CHORUS_LOG_H
#define CHORUS_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/** Receives each formatted line (without the time stamp) instead of
 *  stderr; used by tests to check what was reported. */
typedef void (log_h)(enum log_level level, const char *line, void *arg);

void log_set_level(int level);
int  log_get_level(void);
/** Install a handler (NULL restores stderr). Not thread-safe: set it
 *  before threads start. */
void log_set_handler(log_h *h, void *arg);
/** Add a time stamp to stderr lines (on for the daemon, off by default). */
void log_set_timestamps(bool on);
const char *log_level_name(enum log_level level);

void log_vprintf(enum log_level level, const char *fmt, va_list ap);
void log_printf(enum log_level level, const char *fmt, ...);

void log_error(const char *fmt, ...);
void warning(const char *fmt, ...);
void info(const char *fmt, ...);
void debug(const char *fmt, ...);

#endif
