/**
 * @file sdes.c  RFC 4568 a=crypto parse, build, generate
 *
 * Base64 is decoded here rather than with libre's base64_decode(): the key
 * length must be exact and anything outside the RFC 4648 alphabet must be
 * an error, not skipped.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/types.h>
#include <sys/random.h>
#include <re.h>

#include "media/sdes.h"

/* Longest suite name / parameter we echo back in a reason. */
#define ECHO_MAX        32
/* Base64 text of a key||salt: 30 bytes -> 40 characters. */
#define B64_MAX         44
/* Retries of getrandom() interrupted by a signal. */
#define RAND_RETRIES    8
/* RFC 4568 6.4 / RFC 3711: the replay window is at least 64. */
#define WSH_MIN         64
/* Digits in a decimal lifetime: 2^48 has 15. */
#define LIFETIME_DIGITS 15
/* Power-of-two lifetime: the largest exponent SRTP allows. */
#define LIFETIME_EXP_MAX 48
/* Session parameters on one line we look at before giving up. */
#define SESSION_PARAMS_MAX 4

static const struct {
	const char *name;
	enum sdes_suite suite;
	size_t keysalt_len;
} suites[] = {
	{"AES_CM_128_HMAC_SHA1_80", SDES_AES_CM_128_HMAC_SHA1_80, 30},
	{"AES_CM_128_HMAC_SHA1_32", SDES_AES_CM_128_HMAC_SHA1_32, 30},
	{"AEAD_AES_128_GCM",        SDES_AEAD_AES_128_GCM,        28},
};

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


static int fail(char *reason, size_t rsz, int err, const char *fmt, ...)
{
	va_list ap;

	if (reason && rsz) {
		va_start(ap, fmt);
		(void)vsnprintf(reason, rsz, fmt, ap);
		va_end(ap);

		for (char *p = reason; *p; p++) {
			if ((unsigned char)*p < 0x20 ||
			    (unsigned char)*p > 0x7e || *p == '"')
				*p = '?';
		}
	}

	return err;
}


/* A token for a reason. Stop at ':' '|' ';': past them, in a garbled
 * line, may be key material, and reasons end up in logs. */
static void echo(char *dst, const struct pl *pl)
{
	size_t n = 0;

	while (n < pl->l && n < ECHO_MAX && !strchr(":|;", pl->p[n]))
		++n;

	memcpy(dst, pl->p, n);
	dst[n] = '\0';
}


const char *sdes_suite_name(enum sdes_suite suite)
{
	for (size_t i = 0; i < ARRAY_SIZE(suites); i++) {
		if (suites[i].suite == suite)
			return suites[i].name;
	}

	return "?";
}


enum sdes_suite sdes_suite_from_name(const struct pl *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(suites); i++) {
		if (!pl_strcmp(name, suites[i].name))
			return suites[i].suite;
	}

	return SDES_SUITE_NONE;
}


size_t sdes_suite_keysalt_len(enum sdes_suite suite)
{
	for (size_t i = 0; i < ARRAY_SIZE(suites); i++) {
		if (suites[i].suite == suite)
			return suites[i].keysalt_len;
	}

	return 0;
}


static int b64_val(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}


/* Strict RFC 4648 base64, padding optional but only where it belongs. */
static int b64_decode(const struct pl *in, uint8_t *out, size_t osz,
		      size_t *olen)
{
	size_t n = in->l, pad = 0, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	while (n && in->p[n - 1] == '=') {
		--n;
		++pad;
	}
	if (pad > 2 || (pad && (in->l % 4)))
		return EBADMSG;
	if (n % 4 == 1)
		return EBADMSG;

	for (size_t i = 0; i < n; i++) {
		int v = b64_val(in->p[i]);

		if (v < 0)
			return EBADMSG;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= osz)
				return EOVERFLOW;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}

	/* leftover bits must be zero (canonical encoding) */
	if (acc & ((1u << bits) - 1))
		return EBADMSG;

	*olen = o;

	return 0;
}


static int b64_encode(struct re_printf *pf, const uint8_t *in, size_t len)
{
	char out[B64_MAX + 1];
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t rem = len - i;

		if (rem > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (rem > 2)
			v |= in[i + 2];
		if (o + 4 > B64_MAX)
			return EOVERFLOW;
		out[o++] = b64_alphabet[(v >> 18) & 0x3f];
		out[o++] = b64_alphabet[(v >> 12) & 0x3f];
		out[o++] = rem > 1 ? b64_alphabet[(v >> 6) & 0x3f] : '=';
		out[o++] = rem > 2 ? b64_alphabet[v & 0x3f] : '=';
	}
	out[o] = '\0';

	return re_hprintf(pf, "%s", out);
}


static bool all_digits(const struct pl *pl, size_t maxlen)
{
	if (!pl->l || pl->l > maxlen)
		return false;
	for (size_t i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return false;
	}

	return true;
}


static int lifetime_parse(struct sdes_crypto *c, const struct pl *f,
			  char *reason, size_t rsz)
{
	struct pl e;

	if (f->l > 2 && f->p[0] == '2' && f->p[1] == '^') {
		uint32_t exp;

		e.p = f->p + 2;
		e.l = f->l - 2;
		if (!all_digits(&e, 2))
			return fail(reason, rsz, EBADMSG, "bad lifetime");
		exp = pl_u32(&e);
		if (exp > LIFETIME_EXP_MAX)
			return fail(reason, rsz, EBADMSG,
				    "lifetime above 2^48");
		c->lifetime = UINT64_C(1) << exp;
		c->lifetime_pow2 = true;
	}
	else {
		if (!all_digits(f, LIFETIME_DIGITS))
			return fail(reason, rsz, EBADMSG, "bad lifetime");
		c->lifetime = pl_u64(f);
		if (c->lifetime > SDES_LIFETIME_MAX)
			return fail(reason, rsz, EBADMSG,
				    "lifetime above 2^48");
		c->lifetime_pow2 = false;
	}

	if (!c->lifetime)
		return fail(reason, rsz, EBADMSG, "zero lifetime");

	return 0;
}


static int mki_parse(struct sdes_crypto *c, const struct pl *f,
		     char *reason, size_t rsz)
{
	const char *colon = pl_strchr(f, ':');
	struct pl v, l;
	uint64_t val;
	uint32_t len;

	v.p = f->p;
	v.l = (size_t)(colon - f->p);
	l.p = colon + 1;
	l.l = f->l - v.l - 1;

	/* RFC 4568: mki-value 1*DIGIT, mki-length 1*3DIGIT (1..128) */
	if (!all_digits(&v, 20) || !all_digits(&l, 3))
		return fail(reason, rsz, EBADMSG, "bad MKI");
	len = pl_u32(&l);
	if (len < 1 || len > 128)
		return fail(reason, rsz, EBADMSG, "bad MKI length");
	if (len > SDES_MKI_MAX)
		return fail(reason, rsz, ENOTSUP,
			    "MKI longer than %u bytes not supported",
			    SDES_MKI_MAX);
	if (v.l > 10)
		return fail(reason, rsz, EBADMSG, "MKI value too large");
	val = pl_u64(&v);
	if (val >> (8 * len))
		return fail(reason, rsz, EBADMSG,
			    "MKI value does not fit %u bytes", len);

	c->mki = (uint32_t)val;
	c->mki_len = (uint8_t)len;

	return 0;
}


static int keyparams_parse(struct sdes_crypto *c, const struct pl *kp,
			   char *reason, size_t rsz)
{
	static const char inl[] = "inline:";
	struct pl info, fld[3];
	size_t nf = 0, got = 0;
	const char *p, *end;
	int err;

	if (pl_strchr(kp, ';'))
		return fail(reason, rsz, ENOTSUP,
			    "multiple keys not supported");
	if (kp->l < sizeof(inl) - 1 || strncasecmp(kp->p, inl, sizeof(inl) - 1))
		return fail(reason, rsz, ENOTSUP,
			    "key method not supported (inline only)");

	info.p = kp->p + sizeof(inl) - 1;
	info.l = kp->l - (sizeof(inl) - 1);

	/* key-salt ["|" lifetime] ["|" mki] */
	p = info.p;
	end = info.p + info.l;
	for (;;) {
		const char *bar = memchr(p, '|', (size_t)(end - p));

		if (nf == ARRAY_SIZE(fld))
			return fail(reason, rsz, EBADMSG, "bad key parameters");
		fld[nf].p = p;
		fld[nf].l = (size_t)((bar ? bar : end) - p);
		++nf;
		if (!bar)
			break;
		p = bar + 1;
	}

	if (fld[0].l > B64_MAX)
		return fail(reason, rsz, EBADMSG, "key too long for %s",
			    sdes_suite_name(c->suite));
	err = b64_decode(&fld[0], c->keysalt, sizeof(c->keysalt), &got);
	if (err == EOVERFLOW)
		return fail(reason, rsz, EBADMSG, "key too long for %s",
			    sdes_suite_name(c->suite));
	if (err)
		return fail(reason, rsz, EBADMSG, "bad base64 in key");
	if (got != sdes_suite_keysalt_len(c->suite))
		return fail(reason, rsz, EBADMSG,
			    "key is %zu bytes, %s needs %zu", got,
			    sdes_suite_name(c->suite),
			    sdes_suite_keysalt_len(c->suite));
	c->keysalt_len = got;

	for (size_t i = 1; i < nf; i++) {
		bool is_mki = pl_strchr(&fld[i], ':') != NULL;

		if (is_mki) {
			if (c->mki_len)
				return fail(reason, rsz, EBADMSG,
					    "bad key parameters");
			err = mki_parse(c, &fld[i], reason, rsz);
		}
		else {
			/* a lifetime after the MKI is out of order */
			if (c->lifetime || c->mki_len)
				return fail(reason, rsz, EBADMSG,
					    "bad key parameters");
			err = lifetime_parse(c, &fld[i], reason, rsz);
		}
		if (err)
			return err;
	}

	return 0;
}


static int session_param(struct sdes_crypto *c, const struct pl *sp,
			 char *reason, size_t rsz)
{
	char buf[ECHO_MAX + 1];
	struct pl v;

	if (sp->l > 4 && !strncmp(sp->p, "WSH=", 4)) {
		v.p = sp->p + 4;
		v.l = sp->l - 4;
		if (!all_digits(&v, 9) || pl_u32(&v) < WSH_MIN)
			return fail(reason, rsz, EBADMSG, "bad WSH");
		c->wsh = pl_u32(&v);
		return 0;
	}
	if (sp->l > 4 && !strncmp(sp->p, "KDR=", 4)) {
		v.p = sp->p + 4;
		v.l = sp->l - 4;
		if (!all_digits(&v, 2))
			return fail(reason, rsz, EBADMSG, "bad KDR");
		if (pl_u32(&v) != 0)
			return fail(reason, rsz, ENOTSUP,
				    "key derivation rate not supported");
		return 0;
	}

	/* UNENCRYPTED_SRTP, UNAUTHENTICATED_SRTP, FEC_*, unknown: RFC 4568
	 * says a crypto line with a parameter we do not do is unusable */
	echo(buf, sp);
	return fail(reason, rsz, ENOTSUP, "session parameter '%s' not supported",
		    buf);
}


static int decode(struct sdes_crypto *c, char *reason, size_t rsz,
		  const char *line, size_t len)
{
	struct pl rest, tok[3 + SESSION_PARAMS_MAX];
	char buf[ECHO_MAX + 1];
	size_t n = 0;
	int err;

	rest.p = line;
	rest.l = len;

	if (memchr(rest.p, '\0', rest.l))
		return fail(reason, rsz, EBADMSG, "bad crypto line");

	/* trim, and drop an "a=crypto:" or "crypto:" prefix */
	while (rest.l && strchr(" \t\r\n", rest.p[rest.l - 1]))
		--rest.l;
	while (rest.l && (*rest.p == ' ' || *rest.p == '\t'))
		pl_advance(&rest, 1);
	if (rest.l >= 9 && !strncmp(rest.p, "a=crypto:", 9))
		pl_advance(&rest, 9);
	else if (rest.l >= 7 && !strncmp(rest.p, "crypto:", 7))
		pl_advance(&rest, 7);

	if (memchr(rest.p, '\n', rest.l) || memchr(rest.p, '\r', rest.l))
		return fail(reason, rsz, EBADMSG, "bad crypto line");

	/* split on blanks: tag, suite, key-params, session params */
	while (rest.l) {
		const char *sp = rest.p;

		while (sp < rest.p + rest.l && *sp != ' ' && *sp != '\t')
			++sp;
		if (sp > rest.p) {
			if (n == ARRAY_SIZE(tok))
				return fail(reason, rsz, ENOTSUP,
					    "too many session parameters");
			tok[n].p = rest.p;
			tok[n].l = (size_t)(sp - rest.p);
			++n;
		}
		pl_advance(&rest, sp - rest.p);
		while (rest.l && (*rest.p == ' ' || *rest.p == '\t'))
			pl_advance(&rest, 1);
	}

	if (n < 1 || !all_digits(&tok[0], 9))
		return fail(reason, rsz, EBADMSG, "bad tag");
	c->tag = pl_u32(&tok[0]);

	if (n < 2)
		return fail(reason, rsz, EBADMSG, "missing crypto suite");
	c->suite = sdes_suite_from_name(&tok[1]);
	if (c->suite == SDES_SUITE_NONE) {
		echo(buf, &tok[1]);
		return fail(reason, rsz, ENOTSUP,
			    "crypto suite '%s' not supported", buf);
	}

	if (n < 3)
		return fail(reason, rsz, EBADMSG, "missing key parameters");
	err = keyparams_parse(c, &tok[2], reason, rsz);

	for (size_t i = 3; i < n && !err; i++)
		err = session_param(c, &tok[i], reason, rsz);

	return err;
}


int sdes_crypto_decode(struct sdes_crypto *c, char *reason, size_t rsz,
		       const char *line, size_t len)
{
	int err;

	if (!c || !line)
		return EINVAL;

	memset(c, 0, sizeof(*c));
	if (reason && rsz)
		reason[0] = '\0';

	err = decode(c, reason, rsz, line, len);
	if (err)
		sdes_crypto_wipe(c);

	return err;
}


static int params_print(struct re_printf *pf, const struct sdes_crypto *c)
{
	int err = 0;

	if (c->lifetime) {
		if (c->lifetime_pow2) {
			unsigned exp = 0;

			while (exp < 63 && (UINT64_C(1) << exp) < c->lifetime)
				++exp;
			err |= re_hprintf(pf, "|2^%u", exp);
		}
		else {
			err |= re_hprintf(pf, "|%llu",
					  (unsigned long long)c->lifetime);
		}
	}
	if (c->mki_len)
		err |= re_hprintf(pf, "|%u:%u", c->mki, c->mki_len);
	if (c->wsh)
		err |= re_hprintf(pf, " WSH=%u", c->wsh);

	return err;
}


static bool crypto_ok(const struct sdes_crypto *c)
{
	return c && c->suite != SDES_SUITE_NONE &&
		c->keysalt_len == sdes_suite_keysalt_len(c->suite) &&
		c->tag <= SDES_TAG_MAX && c->mki_len <= SDES_MKI_MAX;
}


int sdes_crypto_encode(struct re_printf *pf, const struct sdes_crypto *c)
{
	int err;

	if (!pf || !crypto_ok(c))
		return EINVAL;

	err = re_hprintf(pf, "%u %s inline:", c->tag,
			 sdes_suite_name(c->suite));
	if (!err)
		err = b64_encode(pf, c->keysalt, c->keysalt_len);
	if (!err)
		err = params_print(pf, c);

	return err;
}


int sdes_crypto_print(struct re_printf *pf, const struct sdes_crypto *c)
{
	int err;

	if (!pf)
		return EINVAL;
	if (!crypto_ok(c))
		return re_hprintf(pf, "(no crypto)");

	err = re_hprintf(pf, "%u %s inline:<%zu-byte key hidden>", c->tag,
			 sdes_suite_name(c->suite), c->keysalt_len);
	if (!err)
		err = params_print(pf, c);

	return err;
}


int sdes_crypto_generate(struct sdes_crypto *c, uint32_t tag,
			 enum sdes_suite suite)
{
	size_t len = sdes_suite_keysalt_len(suite);
	size_t got = 0;

	if (!c || !len || tag > SDES_TAG_MAX)
		return EINVAL;

	memset(c, 0, sizeof(*c));
	c->tag = tag;
	c->suite = suite;

	/* the kernel CSPRNG; it blocks only before the pool is seeded */
	for (unsigned tries = 0; got < len && tries < RAND_RETRIES; tries++) {
		ssize_t n = getrandom(c->keysalt + got, len - got, 0);

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0)
			got += (size_t)n;
	}
	if (got != len) {
		sdes_crypto_wipe(c);
		return EIO;
	}
	c->keysalt_len = len;

	return 0;
}


void sdes_crypto_wipe(struct sdes_crypto *c)
{
	if (!c)
		return;

	explicit_bzero(c->keysalt, sizeof(c->keysalt));
	c->keysalt_len = 0;
}


struct select_state {
	struct sdes_crypto *c;
	char *reason;
	size_t rsz;
	bool found;
	bool any;
};


static bool select_handler(const char *name, const char *value, void *arg)
{
	struct select_state *st = arg;
	(void)name;

	st->any = true;
	if (!value)
		return false;

	st->found = !sdes_crypto_decode(st->c, st->reason, st->rsz, value,
					strlen(value));

	return st->found;   /* true stops the walk */
}


int sdes_select(struct sdes_crypto *c, const struct sdp_media *m,
		char *reason, size_t rsz)
{
	struct select_state st = {c, reason, rsz, false, false};

	if (!c || !m)
		return EINVAL;

	memset(c, 0, sizeof(*c));
	if (reason && rsz)
		reason[0] = '\0';

	(void)sdp_media_rattr_apply(m, "crypto", select_handler, &st);

	if (!st.found) {
		sdes_crypto_wipe(c);
		if (!st.any)
			return fail(reason, rsz, ENOENT, "no a=crypto");
		return ENOENT;
	}

	return 0;
}


int sdes_crypto_answer(struct sdes_crypto *ours,
		       const struct sdes_crypto *theirs)
{
	if (!ours || !theirs || theirs->suite == SDES_SUITE_NONE)
		return EINVAL;

	return sdes_crypto_generate(ours, theirs->tag, theirs->suite);
}


int sdes_media_set(struct sdp_media *m, const struct sdes_crypto *ours)
{
	if (!m || !crypto_ok(ours))
		return EINVAL;

	return sdp_media_set_lattr(m, true, "crypto", "%H",
				   sdes_crypto_encode, ours);
}
