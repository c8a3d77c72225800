/**
 * @file dtmfbody.c  Legacy DTMF INFO bodies: application/dtmf-relay
 * ("Signal=5\r\nDuration=160") and application/dtmf ("5")
 */
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#include <sys/types.h>
#include <re.h>

#include "ctrl/command.h"
#include "ctrl/ctrl_int.h"

/* dtmf-relay Duration: ms, at most 5 digits, clamped. */
#define DURATION_MAXDIGITS 5
#define DURATION_MAX_MS    60000


/* One DTMF key from its text: a single key, or an RFC 4733 event code
 * 0-15 (10 = '*', 11 = '#', 12-15 = 'A'-'D') as some phones send. */
static bool digit_decode(const struct pl *v, char *digit)
{
	static const char events[] = "0123456789*#ABCD";

	if (v->l == 1) {
		char c = v->p[0];

		if (c >= 'a' && c <= 'd')
			c = (char)(c - 'a' + 'A');
		if (c && strchr(events, c)) {
			*digit = c;
			return true;
		}
		return false;
	}

	if (v->l == 2 && v->p[0] == '1' && v->p[1] >= '0' && v->p[1] <= '5') {
		*digit = events[10 + (v->p[1] - '0')];
		return true;
	}

	return false;
}


static bool body_has_nul(const char *body, size_t len)
{
	return len && memchr(body, '\0', len) != NULL;
}


static int relay_fill(struct ctrl_dtmf *dtmf, struct ctrl_result *res,
		      const char *body, size_t len)
{
	struct pl rest;
	bool have_signal = false, have_duration = false;
	char echo[CTRL_ECHO_MAX + 1];

	if (len > CTRL_BODY_MAX)
		return ctrl_fail(res, 413, "body too large (max %u bytes)",
			    (unsigned)CTRL_BODY_MAX);
	if (body_has_nul(body, len))
		return ctrl_fail(res, 400, "bad dtmf-relay body");

	rest.p = body;
	rest.l = len;

	while (rest.l) {
		const char *nl = memchr(rest.p, '\n', rest.l);
		struct pl line, key, val;
		const char *eq;

		line.p = rest.p;
		line.l = nl ? (size_t)(nl - rest.p) : rest.l;
		pl_advance(&rest, (ssize_t)(line.l + (nl ? 1 : 0)));

		ctrl_trim(&line);
		if (!line.l)
			continue;

		eq = memchr(line.p, '=', line.l);
		if (!eq) {
			ctrl_echo(echo, sizeof(echo), line.p, line.l);
			return ctrl_fail(res, 400, "bad dtmf-relay line '%s'",
				    echo);
		}

		key.p = line.p;
		key.l = (size_t)(eq - line.p);
		val.p = eq + 1;
		val.l = line.l - key.l - 1;
		ctrl_trim(&key);
		ctrl_trim(&val);

		if (!pl_strcasecmp(&key, "Signal")) {
			if (have_signal)
				return ctrl_fail(res, 400, "duplicate Signal");
			if (!digit_decode(&val, &dtmf->digit)) {
				ctrl_echo(echo, sizeof(echo), val.p, val.l);
				return ctrl_fail(res, 400, "bad Signal '%s'", echo);
			}
			have_signal = true;
		}
		else if (!pl_strcasecmp(&key, "Duration")) {
			uint32_t d = 0;

			if (have_duration)
				return ctrl_fail(res, 400, "duplicate Duration");
			if (!val.l || val.l > DURATION_MAXDIGITS)
				return ctrl_fail(res, 400, "bad Duration");
			for (size_t i = 0; i < val.l; i++) {
				if (val.p[i] < '0' || val.p[i] > '9')
					return ctrl_fail(res, 400, "bad Duration");
				d = d * 10 + (uint32_t)(val.p[i] - '0');
			}
			dtmf->duration_ms = d > DURATION_MAX_MS ?
				DURATION_MAX_MS : d;
			have_duration = true;
		}
		/* other keys: ignored, as every dtmf-relay receiver does */
	}

	if (!have_signal)
		return ctrl_fail(res, 400, "missing Signal");

	return 0;
}


int ctrl_dtmf_relay_parse(struct ctrl_dtmf *dtmf, struct ctrl_result *res,
			  const char *body, size_t len)
{
	int err;

	if (!dtmf || !res || (!body && len))
		return EINVAL;

	memset(dtmf, 0, sizeof(*dtmf));
	ctrl_ok(res);

	err = relay_fill(dtmf, res, body, len);
	if (err)
		memset(dtmf, 0, sizeof(*dtmf));

	return err;
}


int ctrl_dtmf_parse(struct ctrl_dtmf *dtmf, struct ctrl_result *res,
		    const char *body, size_t len)
{
	struct pl v;
	char echo[CTRL_ECHO_MAX + 1];

	if (!dtmf || !res || (!body && len))
		return EINVAL;

	memset(dtmf, 0, sizeof(*dtmf));
	ctrl_ok(res);

	if (len > CTRL_BODY_MAX)
		return ctrl_fail(res, 413, "body too large (max %u bytes)",
			    (unsigned)CTRL_BODY_MAX);
	if (body_has_nul(body, len))
		return ctrl_fail(res, 400, "bad dtmf body");

	v.p = body;
	v.l = len;
	ctrl_trim(&v);
	if (!v.l)
		return ctrl_fail(res, 400, "empty body");

	if (v.l != 1 || !digit_decode(&v, &dtmf->digit)) {
		ctrl_echo(echo, sizeof(echo), v.p, v.l);
		dtmf->digit = 0;
		return ctrl_fail(res, 400, "bad dtmf '%s'", echo);
	}

	return 0;
}
