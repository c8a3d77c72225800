/**
 * @file cfg_parse.c  Line reader and value parsers for the cfg files.
 *
 * We read the files ourselves instead of through libre's conf so that an
 * error can name its line and an unknown (e.g. misspelt) key is an error
 * rather than silently ignored. The format is libre's: "key value".
 */
#include <stdint.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <re.h>

#include "ctrl/log.h"
#include "cfg/cfg.h"
#include "cfg/cfg_int.h"


static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;

	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';

	return s;
}


/* cut a '#' comment that starts a word outside double quotes */
static void strip_comment(char *s)
{
	bool quoted = false;

	for (char *c = s; *c; c++) {
		if (*c == '"')
			quoted = !quoted;
		else if (*c == '#' && !quoted &&
			 (c == s || c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			return;
		}
	}
}


void cfg_perr(struct cfg_parser *p, const char *key, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	re_vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);

	if (p->line)
		log_error("cfg: %s:%u: %s: %s\n", p->path, p->line, key,
			  reason);
	else
		log_error("cfg: %s: %s: %s\n", p->path, key, reason);

	p->nerr++;
}


int cfg_parse_file(const char *path, cfg_line_h *lh, void *arg)
{
	struct cfg_parser p = {.path = path};
	char buf[CFG_LINE_MAX + 2];
	FILE *f;
	int err = 0;

	f = fopen(path, "r");
	if (!f) {
		err = errno;
		log_error("cfg: %s: cannot open: %m\n", path, err);
		return err;
	}

	while (fgets(buf, sizeof(buf), f)) {
		char *line, *key, *val;
		size_t n = strlen(buf);

		p.line++;

		if (n > CFG_LINE_MAX && buf[n - 1] != '\n') {
			cfg_perr(&p, "-", "line longer than %u characters",
				 CFG_LINE_MAX);
			/* skip the rest of the over-long line */
			while (fgets(buf, sizeof(buf), f) &&
			       buf[strlen(buf) - 1] != '\n')
				;
			continue;
		}

		line = trim(buf);
		if (*line == '#' || *line == '\0')
			continue;

		strip_comment(line);
		line = trim(line);

		key = line;
		val = line + strcspn(line, " \t");
		if (*val) {
			*val++ = '\0';
			val = trim(val);
		}

		lh(&p, key, val, arg);
	}

	if (ferror(f)) {
		err = EIO;
		log_error("cfg: %s: read error\n", path);
	}

	fclose(f);

	if (!err && p.nerr)
		err = EINVAL;

	return err;
}


bool cfg_get_u32(struct cfg_parser *p, const char *key, const char *val,
		 uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(val);

	if (n == 0) {
		cfg_perr(p, key, "missing value (a number %u..%u)", min, max);
		return false;
	}

	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)val[i]) || i >= 10) {
			cfg_perr(p, key, "'%s' is not a number %u..%u",
				 val, min, max);
			return false;
		}
		v = v * 10 + (uint64_t)(val[i] - '0');
	}

	if (v < min || v > max) {
		cfg_perr(p, key, "%s is out of range %u..%u", val, min, max);
		return false;
	}

	*out = (uint32_t)v;
	return true;
}


bool cfg_get_bool(struct cfg_parser *p, const char *key, const char *val,
		  bool *out)
{
	static const char *yes[] = {"yes", "true", "on", "1"};
	static const char *no[]  = {"no", "false", "off", "0"};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!str_casecmp(val, yes[i])) {
			*out = true;
			return true;
		}
		if (!str_casecmp(val, no[i])) {
			*out = false;
			return true;
		}
	}

	cfg_perr(p, key, "'%s' is not yes or no", val);
	return false;
}


bool cfg_get_str(struct cfg_parser *p, const char *key, const char *val,
		 char *dst, size_t size)
{
	size_t n = strlen(val);

	if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
		val++;
		n -= 2;
	}
	else if (n == 1 && val[0] == '"') {
		cfg_perr(p, key, "unterminated quote");
		return false;
	}

	if (memchr(val, '"', n)) {
		cfg_perr(p, key, "quote inside the value");
		return false;
	}

	if (n >= size) {
		cfg_perr(p, key, "value longer than %zu characters", size - 1);
		return false;
	}

	memcpy(dst, val, n);
	dst[n] = '\0';

	return true;
}


bool cfg_get_uri(struct cfg_parser *p, const char *key, const char *val,
		 char *dst, size_t size)
{
	struct uri uri;
	struct pl pl;

	if (!cfg_get_str(p, key, val, dst, size))
		return false;

	if (!dst[0])
		return true;

	pl_set_str(&pl, dst);
	if (strncasecmp(dst, "sip:", 4) && strncasecmp(dst, "sips:", 5)) {
		cfg_perr(p, key, "'%s' is not a sip: or sips: URI", dst);
		return false;
	}
	if (uri_decode(&uri, &pl) || !pl_isset(&uri.host)) {
		cfg_perr(p, key, "'%s' is not a valid SIP URI", dst);
		return false;
	}

	return true;
}


bool cfg_get_srtp(struct cfg_parser *p, const char *key, const char *val,
		  int *out)
{
	if (!str_casecmp(val, "off"))
		*out = CFG_SRTP_OFF;
	else if (!str_casecmp(val, "optional"))
		*out = CFG_SRTP_OPTIONAL;
	else if (!str_casecmp(val, "mandatory"))
		*out = CFG_SRTP_MANDATORY;
	else {
		cfg_perr(p, key, "'%s' is not off, optional or mandatory",
			 val);
		return false;
	}

	return true;
}


const char *cfg_srtp_name(int srtp)
{
	switch (srtp) {

	case CFG_SRTP_OFF:       return "off";
	case CFG_SRTP_OPTIONAL:  return "optional";
	case CFG_SRTP_MANDATORY: return "mandatory";
	default:                 return "?";
	}
}
