/**
 * @file auth.c  Digest authentication of requests from outside a call
 * (RFC 3261 section 22, RFC 7616, RFC 8760). See auth.h for the nonce
 * format and the policy.
 *
 * libre 1.1's httpauth_digest_response_decode() does not return the
 * algorithm or opaque parameters, and its response check is MD5 only, so
 * the header is parsed here (pl, no copies) and hashed with OpenSSL.
 */
#include <stdint.h>
#include <ctype.h>
#include <string.h>
#include <re.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ctrl/log.h"
#include "cfg/cfg.h"
#include "sip/call.h"
#include "sip/auth.h"

enum {
	SECRET_LEN = 32,
	MAC_LEN    = 16,                      /* bytes of HMAC kept       */
	NONCE_LEN  = 16 + 4 + 2 * MAC_LEN,    /* hex time, slot, mac      */
	OPAQUE_LEN = 32,
};

struct slot {
	uint64_t ts;       /* issue time of the nonce in this slot, 0 = none */
	uint32_t nc;       /* highest nonce-count accepted with it           */
};

struct auth {
	const struct cfg *cfg;
	uint8_t secret[SECRET_LEN];
	char opaque[OPAQUE_LEN + 1];
	uint32_t next;                 /* next slot to hand out */
	struct slot slots[AUTH_SLOTS];
};

/* one parsed Authorization: Digest value (RFC 7616 section 3.4) */
struct dresp {
	struct pl username, realm, nonce, uri, response, algorithm;
	struct pl cnonce, opaque, qop, nc, userhash;
};


static const EVP_MD *alg_md(enum auth_alg alg)
{
	return alg == AUTH_SHA256 ? EVP_sha256() : EVP_md5();
}


static void hex(const uint8_t *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i]     = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 0xf];
	}
	out[2 * n] = '\0';
}


int auth_hash_hex(enum auth_alg alg, const void *data, size_t len,
		  char *out, size_t size)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (!out || (!data && len))
		return EINVAL;

	if (!EVP_Digest(data, len, md, &mdlen, alg_md(alg), NULL))
		return EPROTO;

	if (size < 2 * (size_t)mdlen + 1)
		return EOVERFLOW;

	hex(md, mdlen, out);
	OPENSSL_cleanse(md, sizeof(md));

	return 0;
}


/* hash of a formatted string (re_sdprintf), wiped after use */
static int hash_fmt(enum auth_alg alg, char *out, size_t size,
		    const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = re_vsdprintf(&s, fmt, ap);
	va_end(ap);
	if (err)
		return err;

	err = auth_hash_hex(alg, s, strlen(s), out, size);
	OPENSSL_cleanse(s, strlen(s));
	mem_deref(s);

	return err;
}


int auth_ha1(enum auth_alg alg, const char *user, const char *realm,
	     const char *password, char *out, size_t size)
{
	if (!user || !realm || !password)
		return EINVAL;

	return hash_fmt(alg, out, size, "%s:%s:%s", user, realm, password);
}


int auth_response(enum auth_alg alg, const char *ha1hex,
		  const struct pl *method, const struct pl *uri,
		  const struct pl *nonce, const struct pl *nc,
		  const struct pl *cnonce, const struct pl *qop,
		  char *out, size_t size)
{
	char ha2[AUTH_HEX_MAX];
	int err;

	if (!ha1hex || !method || !uri || !nonce || !nc || !cnonce || !qop)
		return EINVAL;

	err = hash_fmt(alg, ha2, sizeof(ha2), "%r:%r", method, uri);
	if (err)
		return err;

	return hash_fmt(alg, out, size, "%s:%r:%r:%r:%r:%s", ha1hex, nonce,
			nc, cnonce, qop, ha2);
}


static void destructor(void *arg)
{
	struct auth *auth = arg;

	OPENSSL_cleanse(auth->secret, sizeof(auth->secret));
}


int auth_alloc(struct auth **authp, const struct cfg *cfg)
{
	struct auth *auth;
	uint8_t op[OPAQUE_LEN / 2];

	if (!authp || !cfg)
		return EINVAL;

	auth = mem_zalloc(sizeof(*auth), destructor);
	if (!auth)
		return ENOMEM;

	/* a new secret per process: a restart invalidates old nonces */
	if (RAND_bytes(auth->secret, sizeof(auth->secret)) != 1 ||
	    RAND_bytes(op, sizeof(op)) != 1) {
		mem_deref(auth);
		return EIO;
	}
	hex(op, sizeof(op), auth->opaque);
	auth->cfg = cfg;

	*authp = auth;

	return 0;
}


void auth_set_cfg(struct auth *auth, const struct cfg *cfg)
{
	if (auth && cfg)
		auth->cfg = cfg;
}


bool auth_enabled(const struct auth *auth)
{
	return auth && auth->cfg && auth->cfg->nusers > 0;
}


static void nonce_mac(const struct auth *auth, uint64_t ts, uint32_t slot,
		      char out[2 * MAC_LEN + 1])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char data[128];
	int n;

	/* bound to the realm too: a nonce of one realm is none of another */
	n = re_snprintf(data, sizeof(data), "%016llx%04x:%s",
			(unsigned long long)ts, slot, auth->cfg->auth_realm);
	if (n < 0)
		n = 0;

	HMAC(EVP_sha256(), auth->secret, sizeof(auth->secret),
	     (const uint8_t *)data, (size_t)n, md, &mdlen);
	hex(md, MAC_LEN, out);
}


int auth_nonce(struct auth *auth, uint64_t now_ms, char *buf, size_t size)
{
	char mac[2 * MAC_LEN + 1];
	uint32_t slot;

	if (!auth || !buf || size < NONCE_LEN + 1)
		return EINVAL;

	/* time 0 marks an empty slot */
	if (!now_ms)
		now_ms = 1;

	slot = auth->next++ % AUTH_SLOTS;
	auth->slots[slot].ts = now_ms;
	auth->slots[slot].nc = 0;

	nonce_mac(auth, now_ms, slot, mac);
	re_snprintf(buf, size, "%016llx%04x%s", (unsigned long long)now_ms,
		    slot, mac);

	return 0;
}


int auth_challenge(struct auth *auth, uint64_t now_ms, bool stale,
		   char *buf, size_t size)
{
	char nonce[NONCE_LEN + 1];
	const char *realm;
	int err, n;

	if (!auth || !buf)
		return EINVAL;

	err = auth_nonce(auth, now_ms, nonce, sizeof(nonce));
	if (err)
		return err;

	realm = auth->cfg->auth_realm;

	/* RFC 8760 2.4: one challenge per algorithm, preferred first */
	n = re_snprintf(buf, size,
			"WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\","
			" opaque=\"%s\", algorithm=SHA-256, qop=\"auth\"%s\r\n"
			"WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\","
			" opaque=\"%s\", algorithm=MD5, qop=\"auth\"%s\r\n",
			realm, nonce, auth->opaque, stale ? ", stale=true" : "",
			realm, nonce, auth->opaque, stale ? ", stale=true" : "");
	if (n < 0 || (size_t)n >= size - 1)
		return EOVERFLOW;

	return 0;
}


static bool is_token_char(char c)
{
	return isalnum((unsigned char)c) ||
		(c && strchr("-_.!%*+`'~", c));
}


/*
 * Parse `Digest k=v, k="v", ...`. Unknown parameters are ignored (RFC
 * 7616 3.4), a parameter we use twice is an error. Quoted values are
 * taken raw between the quotes; a backslash skips the next character.
 */
static int dresp_decode(struct dresp *r, const struct pl *hval)
{
	const char *p, *end;

	memset(r, 0, sizeof(*r));

	if (!hval || !hval->p)
		return EINVAL;

	p = hval->p;
	end = p + hval->l;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 7 || strncasecmp(p, "Digest", 6) ||
	    (p[6] != ' ' && p[6] != '\t'))
		return EBADMSG;
	p += 6;

	while (p < end) {
		struct pl key, val, *dst = NULL;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ',' ||
				   *p == '\r' || *p == '\n'))
			p++;
		if (p >= end)
			break;

		key.p = p;
		while (p < end && is_token_char(*p))
			p++;
		key.l = p - key.p;
		if (!key.l)
			return EBADMSG;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end || *p != '=')
			return EBADMSG;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;

		if (p < end && *p == '"') {
			val.p = ++p;
			while (p < end && *p != '"') {
				if (*p == '\\')
					p++;
				p++;
			}
			if (p >= end)
				return EBADMSG;     /* unterminated quote */
			val.l = p - val.p;
			p++;
		}
		else {
			val.p = p;
			while (p < end && is_token_char(*p))
				p++;
			val.l = p - val.p;
		}

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p != ',')
			return EBADMSG;

		if (!pl_strcasecmp(&key, "username"))       dst = &r->username;
		else if (!pl_strcasecmp(&key, "realm"))     dst = &r->realm;
		else if (!pl_strcasecmp(&key, "nonce"))     dst = &r->nonce;
		else if (!pl_strcasecmp(&key, "uri"))       dst = &r->uri;
		else if (!pl_strcasecmp(&key, "response"))  dst = &r->response;
		else if (!pl_strcasecmp(&key, "algorithm")) dst = &r->algorithm;
		else if (!pl_strcasecmp(&key, "cnonce"))    dst = &r->cnonce;
		else if (!pl_strcasecmp(&key, "opaque"))    dst = &r->opaque;
		else if (!pl_strcasecmp(&key, "qop"))       dst = &r->qop;
		else if (!pl_strcasecmp(&key, "nc"))        dst = &r->nc;
		else if (!pl_strcasecmp(&key, "userhash"))  dst = &r->userhash;

		if (dst) {
			if (dst->p)
				return EBADMSG;     /* given twice */
			*dst = val;
		}
	}

	return 0;
}


static bool pl_is_hex(const struct pl *pl, size_t len)
{
	if (pl->l != len)
		return false;

	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)pl->p[i]))
			return false;

	return true;
}


static uint64_t hex_u64(const char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)p[i]);
		v = (v << 4) | (uint64_t)(isdigit((unsigned char)c) ?
					   c - '0' : c - 'a' + 10);
	}

	return v;
}


static const struct cfg_user *user_find(const struct cfg *cfg,
					const struct pl *name)
{
	for (unsigned i = 0; i < cfg->nusers; i++)
		if (!pl_strcmp(name, cfg->users[i].name))
			return &cfg->users[i];

	return NULL;
}


enum auth_result auth_verify(struct auth *auth, const struct pl *hval,
			     const struct pl *method, const struct pl *ruri,
			     uint64_t now_ms, const struct cfg_user **userp)
{
	char mac[2 * MAC_LEN + 1], expect[AUTH_HEX_MAX], got[AUTH_HEX_MAX];
	const struct cfg_user *u;
	struct dresp r;
	enum auth_alg alg;
	const char *ha1;
	uint64_t ts;
	uint32_t slot, nc;
	bool match;

	if (!auth || !hval || !method || !ruri)
		return AUTH_BAD;

	if (dresp_decode(&r, hval))
		return AUTH_BAD;

	if (!r.realm.p || pl_strcmp(&r.realm, auth->cfg->auth_realm))
		return AUTH_NONE;      /* someone else's credentials */

	if (!pl_isset(&r.username) || !pl_isset(&r.nonce) ||
	    !pl_isset(&r.uri) || !pl_isset(&r.response) ||
	    !pl_isset(&r.cnonce))
		return AUTH_BAD;

	/* we only offer qop="auth"; userhash was not offered either */
	if (!r.qop.p || pl_strcasecmp(&r.qop, "auth") || !pl_is_hex(&r.nc, 8))
		return AUTH_BAD;
	if (r.userhash.p && pl_strcasecmp(&r.userhash, "false"))
		return AUTH_BAD;

	if (!r.algorithm.p || !pl_strcasecmp(&r.algorithm, "MD5"))
		alg = AUTH_MD5;
	else if (!pl_strcasecmp(&r.algorithm, "SHA-256"))
		alg = AUTH_SHA256;
	else
		return AUTH_BAD;

	if (!pl_is_hex(&r.response, alg == AUTH_SHA256 ? 64 : 32))
		return AUTH_BAD;

	/* the credentials must be for this request (RFC 3261 22.4) */
	if (pl_cmp(&r.uri, ruri))
		return AUTH_BAD;
	if (r.opaque.p && pl_strcmp(&r.opaque, auth->opaque))
		return AUTH_BAD;

	if (!pl_is_hex(&r.nonce, NONCE_LEN))
		return AUTH_BAD;
	ts = hex_u64(r.nonce.p, 16);
	slot = (uint32_t)hex_u64(r.nonce.p + 16, 4);
	if (slot >= AUTH_SLOTS)
		return AUTH_BAD;
	nonce_mac(auth, ts, slot, mac);
	if (CRYPTO_memcmp(mac, r.nonce.p + 20, 2 * MAC_LEN))
		return AUTH_BAD;       /* not a nonce of ours */

	u = user_find(auth->cfg, &r.username);
	ha1 = !u ? NULL : alg == AUTH_SHA256 ? u->ha1_sha256 : u->ha1_md5;
	if (!ha1 || !ha1[0])
		return AUTH_BAD;

	if (auth_response(alg, ha1, method, ruri, &r.nonce, &r.nc, &r.cnonce,
			  &r.qop, expect, sizeof(expect)))
		return AUTH_BAD;

	for (size_t i = 0; i < r.response.l; i++)
		got[i] = (char)tolower((unsigned char)r.response.p[i]);
	got[r.response.l] = '\0';

	/* lengths are public (the algorithm's); the contents are not */
	match = strlen(expect) == r.response.l &&
		!CRYPTO_memcmp(expect, got, r.response.l);
	OPENSSL_cleanse(expect, sizeof(expect));
	if (!match)
		return AUTH_BAD;

	/* the digest is right: now the nonce's age and count */
	if (ts > now_ms || now_ms - ts > AUTH_NONCE_TTL_MS)
		return AUTH_STALE;
	if (auth->slots[slot].ts != ts)
		return AUTH_STALE;     /* slot reused by a newer nonce */

	nc = (uint32_t)hex_u64(r.nc.p, 8);
	if (nc <= auth->slots[slot].nc)
		return AUTH_REPLAY;
	auth->slots[slot].nc = nc;

	if (userp)
		*userp = u;

	return AUTH_OK;
}


enum auth_result auth_verify_msg(struct auth *auth, const struct sip_msg *msg,
				 uint64_t now_ms,
				 const struct cfg_user **userp)
{
	enum auth_result res = AUTH_NONE;
	struct le *le;

	if (!auth || !msg)
		return AUTH_BAD;

	/* one header per realm may come (RFC 3261 22.3): take ours */
	for (le = list_head(hash_list(msg->hdrht, SIP_HDR_AUTHORIZATION));
	     le; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		enum auth_result r;

		if (hdr->id != SIP_HDR_AUTHORIZATION)
			continue;

		r = auth_verify(auth, &hdr->val, &msg->met, &msg->ruri,
				now_ms, userp);
		if (r != AUTH_NONE)
			return r;
	}

	return res;
}


bool auth_user_has_room(const struct cfg_user *u, const char *number)
{
	const char *s;
	size_t n;

	if (!u || !number)
		return false;

	n = strlen(number);
	for (s = u->rooms; *s; ) {
		size_t l = strcspn(s, ",");

		if ((l == 1 && s[0] == '*') || (l == n && !strncmp(s, number,
								    n)))
			return true;
		s += l;
		if (*s == ',')
			s++;
	}

	return false;
}


static void challenge(struct auth *auth, struct sip *sip,
		      const struct sip_msg *msg, bool stale, const char *number,
		      const char *why)
{
	char hdrs[1024], reason[192];

	if (auth_challenge(auth, tmr_jiffies(), stale, hdrs, sizeof(hdrs))) {
		call_reject(sip, msg, 500, "Server Internal Error", NULL,
			    "digest challenge");
		return;
	}

	re_snprintf(reason, sizeof(reason), "room %s: %s (digest challenge%s)",
		    number, why, stale ? ", stale" : "");
	call_reject(sip, msg, 401, "Unauthorized", hdrs, reason);
}


bool auth_authorise(struct auth *auth, struct sip *sip,
		    const struct sip_msg *msg, const char *number,
		    bool from_ok, bool need_mod, const char *what)
{
	const struct cfg_user *u = NULL;
	char reason[192];

	if (!msg || !number || !what)
		return false;

	if (!auth_enabled(auth)) {
		if (from_ok)
			return true;
		call_reject(sip, msg, 403, "Forbidden", NULL, what);
		return false;
	}

	switch (auth_verify_msg(auth, msg, tmr_jiffies(), &u)) {

	case AUTH_OK:
		if (!auth_user_has_room(u, number) ||
		    (need_mod && !u->moderator)) {
			re_snprintf(reason, sizeof(reason), "user %s is "
				    "not %s of room %s", u->name,
				    need_mod ? "a moderator" : "allowed in",
				    number);
			call_reject(sip, msg, 403, "Forbidden", NULL,
				    reason);
			return false;
		}
		info("auth: %r to room %s by user %s from %J\n", &msg->met,
		     number, u->name, &msg->src);
		return true;

	case AUTH_NONE:
		if (from_ok && auth->cfg->auth_trust_from_uri)
			return true;
		challenge(auth, sip, msg, false, number, "no credentials");
		return false;

	case AUTH_STALE:
		challenge(auth, sip, msg, true, number, "stale nonce");
		return false;

	case AUTH_REPLAY:
		challenge(auth, sip, msg, false, number,
			  "nonce-count replayed");
		return false;

	case AUTH_BAD:
	default:
		challenge(auth, sip, msg, false, number,
			  "wrong or malformed credentials");
		return false;
	}
}
