/**
 * @file command.c  chorus-control INFO body parser (JSON and DTMF)
 *
 * libre 1.1's json_decode_odict() is lenient: it accepts a top-level
 * array or scalar (as an empty or index-keyed odict), an empty body,
 * trailing garbage, trailing commas, "-" as a number, and it wraps
 * integers that overflow. A control channel must not guess, so the body
 * first goes through a small strict RFC 8259 validator below, and only a
 * valid object is handed to libre for decoding.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <math.h>
#include <errno.h>
#include <sys/types.h>
#include <re.h>

#include "ctrl/command.h"

/* Integer part digits in a JSON number: plenty for a roster id (uint32)
 * and gains, and well short of where libre's integer parser wraps. */
#define NUM_MAXDIGITS     15
/* How much of a client-supplied token we echo back in a reason. */
#define ECHO_MAX          32
/* Roster ids are uint32: at most 10 decimal digits. */
#define ID_MAXDIGITS      10
/* dtmf-relay Duration: ms, at most 5 digits, clamped. */
#define DURATION_MAXDIGITS 5
#define DURATION_MAX_MS    60000
/* Buckets for the decoded command object. */
#define ODICT_HASH_SIZE   8


struct jv {
	const char *p;
	const char *end;
	unsigned depth;
	const char *err;
};

static const struct {
	const char *name;
	enum ctrl_op op;
} optab[] = {
	{"mute",   CTRL_OP_MUTE},
	{"unmute", CTRL_OP_UNMUTE},
	{"deaf",   CTRL_OP_DEAF},
	{"undeaf", CTRL_OP_UNDEAF},
	{"kick",   CTRL_OP_KICK},
	{"lock",   CTRL_OP_LOCK},
	{"unlock", CTRL_OP_UNLOCK},
	{"gain",   CTRL_OP_GAIN},
	{"role",   CTRL_OP_ROLE},
};

/* Keys that must not appear twice (libre keeps both copies). */
static const char *const known_keys[] = {
	"cmd", "target", "in_db", "out_db", "role",
};


/*
 * Reasons end up inside a quoted warn-text: keep only printable ASCII
 * and drop the characters that would end or escape the quoted string.
 */
static void reason_sanitize(char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			*s = '?';
	}
}


static int fail(struct ctrl_result *res, uint16_t scode, const char *fmt, ...)
{
	va_list ap;

	res->scode = scode;
	va_start(ap, fmt);
	(void)vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	reason_sanitize(res->reason);

	return EBADMSG;
}


static void ok(struct ctrl_result *res)
{
	res->scode = 0;
	res->reason[0] = '\0';
}


/* Client-controlled text, cut short for echoing in a reason. */
static void echo_copy(char *dst, size_t dsz, const char *src, size_t len)
{
	size_t n = len < ECHO_MAX ? len : ECHO_MAX;

	if (n >= dsz)
		n = dsz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	if (len > n && n >= 3)
		memcpy(dst + n - 3, "...", 3);
}


/* --- strict JSON validator (RFC 8259 grammar, bounded depth) --- */

static bool jv_value(struct jv *v);

static void jv_ws(struct jv *v)
{
	while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' ||
				 *v->p == '\n' || *v->p == '\r'))
		++v->p;
}


static bool jv_fail(struct jv *v, const char *err)
{
	if (!v->err)
		v->err = err;
	return false;
}


static bool jv_string(struct jv *v)
{
	if (v->p >= v->end)
		return jv_fail(v, "bad JSON: truncated");
	if (*v->p != '"')
		return jv_fail(v, "bad JSON");
	++v->p;

	while (v->p < v->end) {
		unsigned char c = (unsigned char)*v->p++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return jv_fail(v, "bad JSON: control character");
		if (c != '\\')
			continue;

		if (v->p >= v->end)
			break;
		c = (unsigned char)*v->p++;
		if (strchr("\"\\/bfnrt", c) && c)
			continue;
		if (c != 'u')
			return jv_fail(v, "bad JSON: bad escape");
		if (v->end - v->p < 4)
			break;
		for (int i = 0; i < 4; i++) {
			if (!isxdigit((unsigned char)v->p[i]))
				return jv_fail(v, "bad JSON: bad escape");
		}
		/* libre decodes into C strings: a NUL would cut them short */
		if (!memcmp(v->p, "0000", 4))
			return jv_fail(v, "bad JSON: NUL in string");
		v->p += 4;
	}

	return jv_fail(v, "bad JSON: unterminated string");
}


static bool jv_digits(struct jv *v, size_t *n)
{
	const char *s = v->p;

	while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
		++v->p;
	*n = (size_t)(v->p - s);

	return *n > 0;
}


static bool jv_number(struct jv *v)
{
	size_t n;

	if (v->p < v->end && *v->p == '-')
		++v->p;
	if (v->p < v->end && *v->p == '0') {
		++v->p;
		n = 1;
	}
	else if (!jv_digits(v, &n)) {
		return jv_fail(v, "bad JSON: bad number");
	}
	if (n > NUM_MAXDIGITS)
		return jv_fail(v, "bad JSON: number too long");

	if (v->p < v->end && *v->p == '.') {
		++v->p;
		if (!jv_digits(v, &n))
			return jv_fail(v, "bad JSON: bad number");
	}
	if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
		++v->p;
		if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
			++v->p;
		if (!jv_digits(v, &n))
			return jv_fail(v, "bad JSON: bad number");
	}

	return true;
}


static bool jv_literal(struct jv *v, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(v->end - v->p) < n || memcmp(v->p, lit, n))
		return jv_fail(v, "bad JSON");
	v->p += n;

	return true;
}


/* Object or array; open is '{' or '['. */
static bool jv_container(struct jv *v, char open)
{
	const char close = open == '{' ? '}' : ']';

	if (++v->depth > CTRL_JSON_MAXDEPTH)
		return jv_fail(v, "bad JSON: nested too deep");
	++v->p;
	jv_ws(v);
	if (v->p < v->end && *v->p == close) {
		++v->p;
		--v->depth;
		return true;
	}

	for (;;) {
		if (open == '{') {
			if (!jv_string(v))
				return false;
			jv_ws(v);
			if (v->p >= v->end || *v->p != ':')
				return jv_fail(v, "bad JSON");
			++v->p;
			jv_ws(v);
		}
		if (!jv_value(v))
			return false;
		jv_ws(v);
		if (v->p >= v->end)
			return jv_fail(v, "bad JSON: truncated");
		if (*v->p == close) {
			++v->p;
			--v->depth;
			return true;
		}
		if (*v->p != ',')
			return jv_fail(v, "bad JSON");
		++v->p;
		jv_ws(v);
	}
}


static bool jv_value(struct jv *v)
{
	if (v->p >= v->end)
		return jv_fail(v, "bad JSON: truncated");

	switch (*v->p) {

	case '{':
	case '[':
		return jv_container(v, *v->p);
	case '"':
		return jv_string(v);
	case 't':
		return jv_literal(v, "true");
	case 'f':
		return jv_literal(v, "false");
	case 'n':
		return jv_literal(v, "null");
	default:
		if (*v->p == '-' || (*v->p >= '0' && *v->p <= '9'))
			return jv_number(v);
		return jv_fail(v, "bad JSON");
	}
}


/* The whole body must be exactly one JSON object (plus whitespace). */
static const char *json_check(const char *body, size_t len)
{
	struct jv v = {body, body + len, 0, NULL};

	jv_ws(&v);
	if (v.p >= v.end)
		return "empty body";
	if (*v.p != '{')
		return "JSON body must be an object";
	if (!jv_value(&v))
		return v.err ? v.err : "bad JSON";
	jv_ws(&v);
	if (v.p != v.end)
		return "bad JSON: trailing data";

	return NULL;
}


/* --- command fields --- */

static bool is_number(const struct odict_entry *e)
{
	return e->type == ODICT_INT || e->type == ODICT_DOUBLE;
}


static double number_of(const struct odict_entry *e)
{
	return e->type == ODICT_INT ? (double)e->u.integer : e->u.dbl;
}


static int dup_check(const struct odict *o, struct ctrl_result *res)
{
	unsigned seen[ARRAY_SIZE(known_keys)] = {0};
	struct le *le;

	for (le = o->lst.head; le; le = le->next) {
		const struct odict_entry *e = le->data;

		for (size_t i = 0; i < ARRAY_SIZE(known_keys); i++) {
			if (strcmp(e->key, known_keys[i]))
				continue;
			if (++seen[i] > 1)
				return fail(res, 400, "duplicate key '%s'",
					    known_keys[i]);
		}
	}

	return 0;
}


/* host [":" port], host a name, IPv4 or [IPv6] (RFC 3261 hostport) */
static bool hostport_ok(const char *p, const char *end)
{
	const char *h = p;

	if (p < end && *p == '[') {
		for (++p; p < end && *p != ']'; p++) {
			if (!isxdigit((unsigned char)*p) && *p != ':' &&
			    *p != '.')
				return false;
		}
		if (p >= end || p - h < 3)
			return false;
		++p;
	}
	else {
		while (p < end && (isalnum((unsigned char)*p) || *p == '.' ||
				   *p == '-'))
			++p;
		if (p == h)
			return false;
	}

	if (p == end)
		return true;
	if (*p != ':' || end - p < 2 || end - p > 6)
		return false;
	{
		unsigned port = 0;

		for (++p; p < end; p++) {
			if (*p < '0' || *p > '9')
				return false;
			port = port * 10 + (unsigned)(*p - '0');
		}
		return port >= 1 && port <= 65535;
	}
}


/*
 * sip:/sips: URI: printable ASCII without blanks, a non-empty user when
 * there is an '@', a valid hostport. libre 1.1's uri_decode() takes
 * "sip:@" or "sip::5060" without complaint, so the check is ours.
 */
static bool uri_ok(const char *s, size_t len)
{
	const char *p, *end, *at = NULL;

	if (len >= CTRL_TARGET_SIZE)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] <= 0x20 || s[i] > 0x7e)
			return false;
	}

	if (!strncasecmp(s, "sip:", 4))
		p = s + 4;
	else if (!strncasecmp(s, "sips:", 5))
		p = s + 5;
	else
		return false;

	/* parameters and headers are not part of the hostport */
	for (end = p; end < s + len && *end != ';' && *end != '?'; end++) {
		if (*end == '@')
			at = end;
	}

	if (at) {
		if (at == p)
			return false;
		p = at + 1;
	}

	return hostport_ok(p, end);
}


static bool id_parse(const char *s, size_t len, uint32_t *id)
{
	uint64_t v = 0;

	if (len == 0 || len > ID_MAXDIGITS)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*id = (uint32_t)v;

	return true;
}


static int target_parse(struct ctrl_cmd *cmd, struct ctrl_result *res,
			const struct odict *o)
{
	const struct odict_entry *e = odict_lookup(o, "target");
	const char *name = ctrl_op_name(cmd->op);
	char echo[ECHO_MAX + 1];

	if (cmd->op == CTRL_OP_LOCK || cmd->op == CTRL_OP_UNLOCK) {
		if (e)
			return fail(res, 400, "'%s' takes no target", name);
		cmd->target_kind = CTRL_TARGET_NONE;
		return 0;
	}

	if (!e)
		return fail(res, 400, "missing target");

	if (e->type == ODICT_INT) {
		if (e->u.integer < 0 || e->u.integer > (int64_t)UINT32_MAX)
			return fail(res, 400, "target id out of range");
		cmd->target_kind = CTRL_TARGET_ID;
		cmd->target_id = (uint32_t)e->u.integer;
	}
	else if (e->type == ODICT_STRING) {
		const char *s = e->u.str;
		size_t len = strlen(s);

		if (!str_casecmp(s, "self")) {
			cmd->target_kind = CTRL_TARGET_SELF;
		}
		else if (!str_casecmp(s, "all")) {
			cmd->target_kind = CTRL_TARGET_ALL;
		}
		else if (id_parse(s, len, &cmd->target_id)) {
			cmd->target_kind = CTRL_TARGET_ID;
		}
		else if (uri_ok(s, len)) {
			cmd->target_kind = CTRL_TARGET_URI;
			memcpy(cmd->target, s, len + 1);
		}
		else {
			echo_copy(echo, sizeof(echo), s, len);
			return fail(res, 400, "bad target '%s'", echo);
		}
	}
	else {
		return fail(res, 400, "target must be a string or an integer");
	}

	if (cmd->target_kind == CTRL_TARGET_ID)
		(void)snprintf(cmd->target, sizeof(cmd->target), "%u",
			       cmd->target_id);

	if (cmd->op == CTRL_OP_ROLE && cmd->target_kind == CTRL_TARGET_ALL)
		return fail(res, 400, "'role' needs one participant");

	return 0;
}


static int gain_get(struct ctrl_result *res, const struct odict *o,
		    const char *key, double *db, bool *has)
{
	const struct odict_entry *e = odict_lookup(o, key);
	double v;

	if (!e)
		return 0;
	if (!is_number(e))
		return fail(res, 400, "%s must be a number", key);

	v = number_of(e);
	if (!isfinite(v) || v < CTRL_GAIN_MIN_DB || v > CTRL_GAIN_MAX_DB)
		return fail(res, 400, "gain out of range -20..+12");

	*db = v;
	*has = true;

	return 0;
}


static int role_parse(struct ctrl_cmd *cmd, struct ctrl_result *res,
		      const struct odict *o)
{
	const struct odict_entry *e = odict_lookup(o, "role");
	char echo[ECHO_MAX + 1];

	if (!e)
		return fail(res, 400, "missing role");
	if (e->type != ODICT_STRING)
		return fail(res, 400, "role must be a string");

	if (!strcmp(e->u.str, "moderator")) {
		cmd->role = CTRL_ROLE_MODERATOR;
	}
	else if (!strcmp(e->u.str, "participant")) {
		cmd->role = CTRL_ROLE_PARTICIPANT;
	}
	else {
		echo_copy(echo, sizeof(echo), e->u.str, strlen(e->u.str));
		return fail(res, 400, "unknown role '%s'", echo);
	}

	return 0;
}


static int cmd_fill(struct ctrl_cmd *cmd, struct ctrl_result *res,
		    const struct odict *o)
{
	const struct odict_entry *e;
	char echo[ECHO_MAX + 1];
	int err;

	err = dup_check(o, res);
	if (err)
		return err;

	e = odict_lookup(o, "cmd");
	if (!e)
		return fail(res, 400, "missing cmd");
	if (e->type != ODICT_STRING)
		return fail(res, 400, "cmd must be a string");

	for (size_t i = 0; i < ARRAY_SIZE(optab); i++) {
		if (!strcmp(e->u.str, optab[i].name)) {
			cmd->op = optab[i].op;
			break;
		}
	}
	if (cmd->op == CTRL_OP_NONE) {
		echo_copy(echo, sizeof(echo), e->u.str, strlen(e->u.str));
		return fail(res, 400, "unknown command '%s'", echo);
	}

	err = target_parse(cmd, res, o);
	if (err)
		return err;

	switch (cmd->op) {

	case CTRL_OP_GAIN:
		err = gain_get(res, o, "in_db", &cmd->in_db, &cmd->has_in);
		if (!err)
			err = gain_get(res, o, "out_db", &cmd->out_db,
				       &cmd->has_out);
		if (!err && !cmd->has_in && !cmd->has_out)
			err = fail(res, 400, "gain needs in_db or out_db");
		break;

	case CTRL_OP_ROLE:
		err = role_parse(cmd, res, o);
		break;

	default:
		break;
	}

	return err;
}


int ctrl_cmd_parse(struct ctrl_cmd *cmd, struct ctrl_result *res,
		   const char *body, size_t len)
{
	struct odict *o = NULL;
	const char *why;
	int err;

	if (!cmd || !res || (!body && len))
		return EINVAL;

	memset(cmd, 0, sizeof(*cmd));
	ok(res);

	if (len > CTRL_BODY_MAX)
		return fail(res, 413, "body too large (max %u bytes)",
			    (unsigned)CTRL_BODY_MAX);

	why = json_check(body, len);
	if (why)
		return fail(res, 400, "%s", why);

	/* depth already bounded by json_check; libre counts differently */
	err = json_decode_odict(&o, ODICT_HASH_SIZE, body, len,
				CTRL_JSON_MAXDEPTH + 1);
	if (err)
		return fail(res, 400, "bad JSON");

	err = cmd_fill(cmd, res, o);
	mem_deref(o);

	if (err) {
		struct ctrl_result keep = *res;

		memset(cmd, 0, sizeof(*cmd));
		*res = keep;
	}

	return err;
}


/* --- DTMF --- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


static void trim(struct pl *pl)
{
	while (pl->l && is_ws(pl->p[0])) {
		++pl->p;
		--pl->l;
	}
	while (pl->l && is_ws(pl->p[pl->l - 1]))
		--pl->l;
}


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
	char echo[ECHO_MAX + 1];

	if (len > CTRL_BODY_MAX)
		return fail(res, 413, "body too large (max %u bytes)",
			    (unsigned)CTRL_BODY_MAX);
	if (body_has_nul(body, len))
		return fail(res, 400, "bad dtmf-relay body");

	rest.p = body;
	rest.l = len;

	while (rest.l) {
		const char *nl = memchr(rest.p, '\n', rest.l);
		struct pl line, key, val;
		const char *eq;

		line.p = rest.p;
		line.l = nl ? (size_t)(nl - rest.p) : rest.l;
		pl_advance(&rest, (ssize_t)(line.l + (nl ? 1 : 0)));

		trim(&line);
		if (!line.l)
			continue;

		eq = memchr(line.p, '=', line.l);
		if (!eq) {
			echo_copy(echo, sizeof(echo), line.p, line.l);
			return fail(res, 400, "bad dtmf-relay line '%s'",
				    echo);
		}

		key.p = line.p;
		key.l = (size_t)(eq - line.p);
		val.p = eq + 1;
		val.l = line.l - key.l - 1;
		trim(&key);
		trim(&val);

		if (!pl_strcasecmp(&key, "Signal")) {
			if (have_signal)
				return fail(res, 400, "duplicate Signal");
			if (!digit_decode(&val, &dtmf->digit)) {
				echo_copy(echo, sizeof(echo), val.p, val.l);
				return fail(res, 400, "bad Signal '%s'", echo);
			}
			have_signal = true;
		}
		else if (!pl_strcasecmp(&key, "Duration")) {
			uint32_t d = 0;

			if (have_duration)
				return fail(res, 400, "duplicate Duration");
			if (!val.l || val.l > DURATION_MAXDIGITS)
				return fail(res, 400, "bad Duration");
			for (size_t i = 0; i < val.l; i++) {
				if (val.p[i] < '0' || val.p[i] > '9')
					return fail(res, 400, "bad Duration");
				d = d * 10 + (uint32_t)(val.p[i] - '0');
			}
			dtmf->duration_ms = d > DURATION_MAX_MS ?
				DURATION_MAX_MS : d;
			have_duration = true;
		}
		/* other keys: ignored, as every dtmf-relay receiver does */
	}

	if (!have_signal)
		return fail(res, 400, "missing Signal");

	return 0;
}


int ctrl_dtmf_relay_parse(struct ctrl_dtmf *dtmf, struct ctrl_result *res,
			  const char *body, size_t len)
{
	int err;

	if (!dtmf || !res || (!body && len))
		return EINVAL;

	memset(dtmf, 0, sizeof(*dtmf));
	ok(res);

	err = relay_fill(dtmf, res, body, len);
	if (err)
		memset(dtmf, 0, sizeof(*dtmf));

	return err;
}


int ctrl_dtmf_parse(struct ctrl_dtmf *dtmf, struct ctrl_result *res,
		    const char *body, size_t len)
{
	struct pl v;
	char echo[ECHO_MAX + 1];

	if (!dtmf || !res || (!body && len))
		return EINVAL;

	memset(dtmf, 0, sizeof(*dtmf));
	ok(res);

	if (len > CTRL_BODY_MAX)
		return fail(res, 413, "body too large (max %u bytes)",
			    (unsigned)CTRL_BODY_MAX);
	if (body_has_nul(body, len))
		return fail(res, 400, "bad dtmf body");

	v.p = body;
	v.l = len;
	trim(&v);
	if (!v.l)
		return fail(res, 400, "empty body");

	if (v.l != 1 || !digit_decode(&v, &dtmf->digit)) {
		echo_copy(echo, sizeof(echo), v.p, v.l);
		dtmf->digit = 0;
		return fail(res, 400, "bad dtmf '%s'", echo);
	}

	return 0;
}


int ctrl_info_parse(struct ctrl_info *info, struct ctrl_result *res,
		    const char *ctype, const char *body, size_t len)
{
	struct pl t;
	const char *semi;
	char echo[ECHO_MAX + 1];
	int err;

	if (!info || !res || !ctype || (!body && len))
		return EINVAL;

	memset(info, 0, sizeof(*info));
	ok(res);

	t.p = ctype;
	semi = strchr(ctype, ';');
	t.l = semi ? (size_t)(semi - ctype) : strlen(ctype);
	trim(&t);

	if (!pl_strcasecmp(&t, "application/json")) {
		err = ctrl_cmd_parse(&info->cmd, res, body, len);
		if (!err)
			info->kind = CTRL_INFO_CMD;
	}
	else if (!pl_strcasecmp(&t, "application/dtmf-relay")) {
		err = ctrl_dtmf_relay_parse(&info->dtmf, res, body, len);
		if (!err)
			info->kind = CTRL_INFO_DTMF;
	}
	else if (!pl_strcasecmp(&t, "application/dtmf")) {
		err = ctrl_dtmf_parse(&info->dtmf, res, body, len);
		if (!err)
			info->kind = CTRL_INFO_DTMF;
	}
	else {
		echo_copy(echo, sizeof(echo), t.p, t.l);
		err = fail(res, 415, "unsupported content type '%s'", echo);
	}

	return err;
}


const char *ctrl_op_name(enum ctrl_op op)
{
	for (size_t i = 0; i < ARRAY_SIZE(optab); i++) {
		if (optab[i].op == op)
			return optab[i].name;
	}

	return "?";
}


const char *ctrl_role_name(enum ctrl_role role)
{
	switch (role) {

	case CTRL_ROLE_PARTICIPANT: return "participant";
	case CTRL_ROLE_MODERATOR:   return "moderator";
	default:                    return "?";
	}
}
