/**
 * @file sanity.c  Request checks before routing (RFC 4475/5118 torture)
 *
 * libre 1.1 decodes leniently: numbers wrap (pl_u32), a repeated From or
 * Content-Length is taken as the first one, an unclosed quote and any
 * Request-URI scheme pass. RFC 4475 3.1.2 wants 400 (416 for a scheme)
 * for these, so they are checked here before the room lookup.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <re.h>

#include "sip/sanity.h"


int sanity_uint(const struct pl *pl, uint64_t max, uint64_t *val)
{
	uint64_t v = 0;

	if (!pl || !pl->p || !pl->l)
		return EINVAL;

	for (size_t i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return EINVAL;
	}

	/* RFC 3261 8.1.1.5/20: 32 bit values, 10 digits at most */
	if (pl->l > 10)
		return ERANGE;

	for (size_t i = 0; i < pl->l; i++)
		v = v * 10 + (uint64_t)(pl->p[i] - '0');

	if (v > max)
		return ERANGE;

	if (val)
		*val = v;

	return 0;
}


bool sanity_quotes_ok(const struct pl *pl)
{
	bool inq = false;

	if (!pl || !pl->p)
		return true;

	for (size_t i = 0; i < pl->l; i++) {
		const char c = pl->p[i];

		if (inq && c == '\\') {
			++i;  /* quoted-pair: skip the escaped char */
			continue;
		}
		if (c == '"')
			inq = !inq;
	}

	return !inq;
}


/* split the Request-URI at its first ':' into scheme and the rest */
static bool split_scheme(const struct pl *ruri, struct pl *scheme,
			 struct pl *rest)
{
	const char *c = ruri && ruri->p ? memchr(ruri->p, ':', ruri->l) : NULL;

	if (!c)
		return false;

	scheme->p = ruri->p;
	scheme->l = (size_t)(c - ruri->p);
	rest->p = c + 1;
	rest->l = ruri->l - scheme->l - 1;

	return true;
}


bool sanity_scheme_ok(const struct pl *ruri)
{
	struct pl scheme, rest;

	if (!split_scheme(ruri, &scheme, &rest))
		return false;

	return !pl_strcasecmp(&scheme, "sip") ||
		!pl_strcasecmp(&scheme, "sips");
}


bool sanity_ipv6_host_ok(const struct pl *ruri)
{
	struct pl scheme, rest;
	size_t start = 0, end, colons = 0;

	if (!split_scheme(ruri, &scheme, &rest))
		return true;

	/* hostport ends at the parameters or headers */
	for (end = 0; end < rest.l; end++) {
		if (rest.p[end] == ';' || rest.p[end] == '?')
			break;
	}

	/* after the userinfo (the last '@' before the parameters) */
	for (size_t i = 0; i < end; i++) {
		if (rest.p[i] == '@')
			start = i + 1;
	}

	if (start < end && rest.p[start] == '[')
		return true;

	for (size_t i = start; i < end; i++) {
		if (rest.p[i] == ':')
			++colons;
	}

	/* host:port has one colon; more is a bare IPv6 reference */
	return colons <= 1;
}


/* the first whitespace-separated token of a header value */
static struct pl first_token(const struct pl *val)
{
	struct pl tok = *val;

	for (size_t i = 0; i < val->l; i++) {
		/* LWS, also a folded line (wsinv: "0009\r\n  INVITE") */
		if (strchr(" \t\r\n", val->p[i])) {
			tok.l = i;
			break;
		}
	}

	return tok;
}


static int check_uint_hdr(const struct sip_msg *msg, enum sip_hdrid id,
			  const char *name, uint64_t max, char *why, size_t sz)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, id);
	struct pl val;
	int err;

	if (!hdr)
		return 0;

	val = id == SIP_HDR_CSEQ ? first_token(&hdr->val) : hdr->val;
	err = sanity_uint(&val, max, NULL);
	if (!err)
		return 0;

	re_snprintf(why, sz, "%s %s", name, err == ERANGE ?
		    "out of range" : "not a number");

	return EBADMSG;
}


int sanity_request(const struct sip_msg *msg, uint16_t *scode, char *why,
		   size_t sz)
{
	static const struct {
		enum sip_hdrid id;
		const char *name;
	} single[] = {
		{SIP_HDR_FROM, "From"}, {SIP_HDR_TO, "To"},
		{SIP_HDR_CALL_ID, "Call-ID"}, {SIP_HDR_CSEQ, "CSeq"},
		{SIP_HDR_MAX_FORWARDS, "Max-Forwards"},
		{SIP_HDR_CONTENT_LENGTH, "Content-Length"},
	};
	static const struct {
		enum sip_hdrid id;
		const char *name;
		uint64_t max;
	} num[] = {
		{SIP_HDR_CSEQ, "CSeq", 0x7fffffffu},  /* RFC 3261 8.1.1.5 */
		{SIP_HDR_MAX_FORWARDS, "Max-Forwards", 255},
		{SIP_HDR_CONTENT_LENGTH, "Content-Length", 0xffffffffu},
		{SIP_HDR_EXPIRES, "Expires", 0xffffffffu},
	};
	const struct sip_hdr *hdr;

	if (!msg || !scode || !why || !sz)
		return EINVAL;

	*scode = 400;

	for (size_t i = 0; i < ARRAY_SIZE(single); i++) {
		if (sip_msg_hdr_count(msg, single[i].id) > 1) {
			re_snprintf(why, sz, "Multiple %s", single[i].name);
			return EBADMSG;
		}
	}

	for (size_t i = 0; i < ARRAY_SIZE(num); i++) {
		if (check_uint_hdr(msg, num[i].id, num[i].name, num[i].max,
				   why, sz))
			return EBADMSG;
	}

	hdr = sip_msg_hdr(msg, SIP_HDR_FROM);
	if (hdr && !sanity_quotes_ok(&hdr->val)) {
		re_snprintf(why, sz, "Unterminated quote in From");
		return EBADMSG;
	}
	hdr = sip_msg_hdr(msg, SIP_HDR_TO);
	if (hdr && !sanity_quotes_ok(&hdr->val)) {
		re_snprintf(why, sz, "Unterminated quote in To");
		return EBADMSG;
	}

	if (!sanity_scheme_ok(&msg->ruri)) {
		*scode = 416;
		re_snprintf(why, sz, "Unsupported URI scheme");
		return EBADMSG;
	}

	if (!sanity_ipv6_host_ok(&msg->ruri)) {
		re_snprintf(why, sz, "IPv6 Request-URI host without []");
		return EBADMSG;
	}

	/* fuzz finding: libre's SDP decoder stops at a NUL and accepts
	   the rest, we then answered an SDP built from garbage */
	if (msg_ctype_cmp(&msg->ctyp, "application", "sdp") && msg->mb &&
	    memchr(mbuf_buf(msg->mb), '\0', mbuf_get_left(msg->mb))) {
		re_snprintf(why, sz, "NUL byte in the SDP body");
		return EBADMSG;
	}

	return 0;
}
