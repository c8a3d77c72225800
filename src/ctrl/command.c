/**
 * @file command.c  chorus-control INFO body parser (JSON commands) and
 * the Content-Type dispatch for control INFOs
 *
 * The body is validated strictly (ctrl/jsoncheck.c) before libre's
 * lenient json_decode_odict() sees it: a control channel must not guess.
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
#include "ctrl/ctrl_int.h"
#include "ctrl/jsoncheck.h"

/* Integer part digits in a JSON number: plenty for a roster id (uint32)
 * and gains, and well short of where libre's integer parser wraps. */
#define NUM_MAXDIGITS     15
/* Roster ids are uint32: at most 10 decimal digits. */
#define ID_MAXDIGITS      10
/* Buckets for the decoded command object. */
#define ODICT_HASH_SIZE   8


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


int ctrl_fail(struct ctrl_result *res, uint16_t scode, const char *fmt, ...)
{
	va_list ap;

	res->scode = scode;
	va_start(ap, fmt);
	(void)vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	reason_sanitize(res->reason);

	return EBADMSG;
}


void ctrl_ok(struct ctrl_result *res)
{
	res->scode = 0;
	res->reason[0] = '\0';
}


/* Client-controlled text, cut short for echoing in a reason. */
void ctrl_echo(char *dst, size_t dsz, const char *src, size_t len)
{
	size_t n = len < CTRL_ECHO_MAX ? len : CTRL_ECHO_MAX;

	if (n >= dsz)
		n = dsz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	if (len > n && n >= 3)
		memcpy(dst + n - 3, "...", 3);
}


static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


void ctrl_trim(struct pl *pl)
{
	while (pl->l && is_ws(pl->p[0])) {
		++pl->p;
		--pl->l;
	}
	while (pl->l && is_ws(pl->p[pl->l - 1]))
		--pl->l;
}


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
				return ctrl_fail(res, 400, "duplicate key '%s'",
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
	char echo[CTRL_ECHO_MAX + 1];

	if (cmd->op == CTRL_OP_LOCK || cmd->op == CTRL_OP_UNLOCK) {
		if (e)
			return ctrl_fail(res, 400, "'%s' takes no target", name);
		cmd->target_kind = CTRL_TARGET_NONE;
		return 0;
	}

	if (!e)
		return ctrl_fail(res, 400, "missing target");

	if (e->type == ODICT_INT) {
		if (e->u.integer < 0 || e->u.integer > (int64_t)UINT32_MAX)
			return ctrl_fail(res, 400, "target id out of range");
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
			ctrl_echo(echo, sizeof(echo), s, len);
			return ctrl_fail(res, 400, "bad target '%s'", echo);
		}
	}
	else {
		return ctrl_fail(res, 400, "target must be a string or an integer");
	}

	if (cmd->target_kind == CTRL_TARGET_ID)
		(void)snprintf(cmd->target, sizeof(cmd->target), "%u",
			       cmd->target_id);

	if (cmd->op == CTRL_OP_ROLE && cmd->target_kind == CTRL_TARGET_ALL)
		return ctrl_fail(res, 400, "'role' needs one participant");

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
		return ctrl_fail(res, 400, "%s must be a number", key);

	v = number_of(e);
	if (!isfinite(v) || v < CTRL_GAIN_MIN_DB || v > CTRL_GAIN_MAX_DB)
		return ctrl_fail(res, 400, "gain out of range -20..+12");

	*db = v;
	*has = true;

	return 0;
}


static int role_parse(struct ctrl_cmd *cmd, struct ctrl_result *res,
		      const struct odict *o)
{
	const struct odict_entry *e = odict_lookup(o, "role");
	char echo[CTRL_ECHO_MAX + 1];

	if (!e)
		return ctrl_fail(res, 400, "missing role");
	if (e->type != ODICT_STRING)
		return ctrl_fail(res, 400, "role must be a string");

	if (!strcmp(e->u.str, "moderator")) {
		cmd->role = CTRL_ROLE_MODERATOR;
	}
	else if (!strcmp(e->u.str, "participant")) {
		cmd->role = CTRL_ROLE_PARTICIPANT;
	}
	else {
		ctrl_echo(echo, sizeof(echo), e->u.str, strlen(e->u.str));
		return ctrl_fail(res, 400, "unknown role '%s'", echo);
	}

	return 0;
}


static int cmd_fill(struct ctrl_cmd *cmd, struct ctrl_result *res,
		    const struct odict *o)
{
	const struct odict_entry *e;
	char echo[CTRL_ECHO_MAX + 1];
	int err;

	err = dup_check(o, res);
	if (err)
		return err;

	e = odict_lookup(o, "cmd");
	if (!e)
		return ctrl_fail(res, 400, "missing cmd");
	if (e->type != ODICT_STRING)
		return ctrl_fail(res, 400, "cmd must be a string");

	for (size_t i = 0; i < ARRAY_SIZE(optab); i++) {
		if (!strcmp(e->u.str, optab[i].name)) {
			cmd->op = optab[i].op;
			break;
		}
	}
	if (cmd->op == CTRL_OP_NONE) {
		ctrl_echo(echo, sizeof(echo), e->u.str, strlen(e->u.str));
		return ctrl_fail(res, 400, "unknown command '%s'", echo);
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
			err = ctrl_fail(res, 400, "gain needs in_db or out_db");
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
	ctrl_ok(res);

	if (len > CTRL_BODY_MAX)
		return ctrl_fail(res, 413, "body too large (max %u bytes)",
			    (unsigned)CTRL_BODY_MAX);

	why = ctrl_json_check(body, len, CTRL_JSON_MAXDEPTH, NUM_MAXDIGITS);
	if (why)
		return ctrl_fail(res, 400, "%s", why);

	/* depth already bounded by json_check; libre counts differently */
	err = json_decode_odict(&o, ODICT_HASH_SIZE, body, len,
				CTRL_JSON_MAXDEPTH + 1);
	if (err)
		return ctrl_fail(res, 400, "bad JSON");

	err = cmd_fill(cmd, res, o);
	mem_deref(o);

	if (err) {
		struct ctrl_result keep = *res;

		memset(cmd, 0, sizeof(*cmd));
		*res = keep;
	}

	return err;
}


int ctrl_info_parse(struct ctrl_info *info, struct ctrl_result *res,
		    const char *ctype, const char *body, size_t len)
{
	struct pl t;
	const char *semi;
	char echo[CTRL_ECHO_MAX + 1];
	int err;

	if (!info || !res || !ctype || (!body && len))
		return EINVAL;

	memset(info, 0, sizeof(*info));
	ctrl_ok(res);

	t.p = ctype;
	semi = strchr(ctype, ';');
	t.l = semi ? (size_t)(semi - ctype) : strlen(ctype);
	ctrl_trim(&t);

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
		ctrl_echo(echo, sizeof(echo), t.p, t.l);
		err = ctrl_fail(res, 415, "unsupported content type '%s'", echo);
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
