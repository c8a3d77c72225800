/**
 * @file jsoncheck.c  Strict JSON validation (RFC 8259 grammar)
 *
 * libre 1.1's json_decode_odict() is lenient: it accepts a top-level
 * array or scalar (as an empty or index-keyed odict), an empty body,
 * trailing garbage, trailing commas, "-" as a number, and it wraps
 * integers that overflow. Bodies from the network go through this
 * check first; only a valid object is handed to libre for decoding.
 */
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <ctype.h>

#include "ctrl/jsoncheck.h"


struct jv {
	const char *p;
	const char *end;
	unsigned depth;
	unsigned maxdepth;
	unsigned maxdigits;
	const char *err;
};


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
	if (n > v->maxdigits)
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

	if (++v->depth > v->maxdepth)
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


const char *ctrl_json_check(const char *body, size_t len, unsigned maxdepth,
			    unsigned maxdigits)
{
	struct jv v = {body, NULL, 0, maxdepth, maxdigits, NULL};

	if (!body)
		return "empty body";
	v.end = body + len;

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
