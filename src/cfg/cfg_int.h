/**
 * @file cfg_int.h  Internals shared by the cfg files: a line reader for the
 * "key value" format that reports errors as "file:line: key: reason".
 */
#ifndef CHORUS_CFG_INT_H
#define CHORUS_CFG_INT_H

#include <stdbool.h>
#include <stdint.h>

enum { CFG_LINE_MAX = 1024 };

struct cfg_parser {
	const char *path;
	unsigned line;     /**< current line, 0 = not in a line (cross checks) */
	unsigned nerr;
};

/**
 * Called for every non-empty, non-comment line. key is the first word;
 * val the rest with surrounding blanks and a trailing " # comment" removed
 * (a '#' inside double quotes is kept). Errors go through cfg_perr().
 */
typedef void (cfg_line_h)(struct cfg_parser *p, const char *key, char *val,
			  void *arg);

/** 0 when every line parsed, EINVAL after errors, errno if unreadable. */
int  cfg_parse_file(const char *path, cfg_line_h *lh, void *arg);

/** Log one error naming the file, line (if any), key and reason. */
void cfg_perr(struct cfg_parser *p, const char *key, const char *fmt, ...);

bool cfg_get_u32(struct cfg_parser *p, const char *key, const char *val,
		 uint32_t min, uint32_t max, uint32_t *out);
bool cfg_get_bool(struct cfg_parser *p, const char *key, const char *val,
		  bool *out);
/** Copy a string value (surrounding double quotes removed). */
bool cfg_get_str(struct cfg_parser *p, const char *key, const char *val,
		 char *dst, size_t size);
/** A SIP or SIPS URI. */
bool cfg_get_uri(struct cfg_parser *p, const char *key, const char *val,
		 char *dst, size_t size);
bool cfg_get_srtp(struct cfg_parser *p, const char *key, const char *val,
		  int *out);
const char *cfg_srtp_name(int srtp);

struct cfg;
struct re_printf;
/**
 * Parse dir/rooms.conf into cfg (rooms.c); used by load and reload. On
 * error cfg keeps its previous rooms. log_changes: log what differs from
 * the rooms cfg had before (SIGHUP).
 */
int  cfg_rooms_load(struct cfg *cfg, bool log_changes);
int  cfg_rooms_print(struct re_printf *pf, const struct cfg *cfg);
/**
 * Parse the auth_users file into cfg (users.c); needs cfg->auth_realm
 * (HA1 of plain passwords). On error cfg keeps its previous users.
 */
int  cfg_users_load(struct cfg *cfg, bool log_changes);
int  cfg_users_print(struct re_printf *pf, const struct cfg *cfg);

#endif
