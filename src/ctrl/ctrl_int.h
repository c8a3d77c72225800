/**
 * @file ctrl_int.h  Helpers shared by the control body parsers (internal)
 */
#ifndef CHORUS_CTRL_INT_H
#define CHORUS_CTRL_INT_H

#include <stddef.h>
#include <stdint.h>

struct ctrl_result;
struct pl;

/* How much of a client-supplied token we echo back in a reason. */
#define CTRL_ECHO_MAX 32

/** Set res to scode and a sanitized reason; returns EBADMSG. */
int  ctrl_fail(struct ctrl_result *res, uint16_t scode, const char *fmt, ...);
void ctrl_ok(struct ctrl_result *res);
/** Copy client text for a reason, cut to CTRL_ECHO_MAX with "...". */
void ctrl_echo(char *dst, size_t dsz, const char *src, size_t len);
/** Strip blanks, CR and LF at both ends. */
void ctrl_trim(struct pl *pl);

#endif
