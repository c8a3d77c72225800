/**
 * @file auth.h  SIP digest authentication (RFC 3261 section 22, RFC 7616,
 * RFC 8760) of requests sent to a room from outside a call: out-of-dialog
 * REFER, SUBSCRIBE to a PIN room's roster.
 *
 * Credentials are the users of users.conf (cfg.h: struct cfg_user, HA1 in
 * hex for MD5 and/or SHA-256). A 401 carries two challenges, SHA-256 first
 * (RFC 8760 section 2.4: most preferred first), then MD5, both qop="auth".
 *
 * Nonces are self-validating: hex(issue time, ms) + hex(slot) +
 * HMAC-SHA-256(process secret, time|slot|realm) truncated to 128 bits, so
 * a forged or altered nonce never verifies and no state is needed to know
 * its age. The slot indexes a bounded ring (AUTH_SLOTS) that remembers the
 * highest nonce-count accepted with that nonce: an nc that does not grow is
 * a replay. A nonce whose slot was reused by a newer one is treated as
 * stale (the client retries with a fresh nonce, RFC 7616 stale=true).
 *
 * Passwords and HA1 values are never logged.
 */
#ifndef CHORUS_AUTH_H
#define CHORUS_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

enum {
	AUTH_SLOTS        = 1024,    /* nonces whose nc we remember       */
	AUTH_NONCE_TTL_MS = 300000,  /* a nonce is stale after 5 minutes  */
	AUTH_HEX_MAX      = 65,      /* SHA-256 hex + NUL                 */
};

enum auth_alg { AUTH_MD5 = 0, AUTH_SHA256 };

enum auth_result {
	AUTH_OK = 0,     /**< valid credentials of a known user            */
	AUTH_NONE,       /**< no Authorization for our realm               */
	AUTH_BAD,        /**< malformed, unknown user, wrong response, ... */
	AUTH_STALE,      /**< right response, nonce expired or forgotten   */
	AUTH_REPLAY,     /**< nonce-count did not grow                     */
};

struct auth;
struct cfg;
struct cfg_user;

/** Hex digest (lowercase) of data; out must hold AUTH_HEX_MAX. */
int  auth_hash_hex(enum auth_alg alg, const void *data, size_t len,
		   char *out, size_t size);
/** HA1 = H(user:realm:password) in hex. */
int  auth_ha1(enum auth_alg alg, const char *user, const char *realm,
	      const char *password, char *out, size_t size);
/**
 * Expected response for qop=auth: H(HA1:nonce:nc:cnonce:qop:H(method:uri))
 * (RFC 7616 section 3.4.1; RFC 2617 3.2.2.1 for MD5).
 */
int  auth_response(enum auth_alg alg, const char *ha1hex,
		   const struct pl *method, const struct pl *uri,
		   const struct pl *nonce, const struct pl *nc,
		   const struct pl *cnonce, const struct pl *qop,
		   char *out, size_t size);

/** cfg is kept (users and realm are read at each check). */
int  auth_alloc(struct auth **authp, const struct cfg *cfg);
/** Follow a new cfg (users.conf reloaded); NULL keeps the old one. */
void auth_set_cfg(struct auth *auth, const struct cfg *cfg);
/** Are any users configured? Without them nothing is challenged. */
bool auth_enabled(const struct auth *auth);

/** A fresh nonce issued at now_ms (tmr_jiffies() in chorusd). */
int  auth_nonce(struct auth *auth, uint64_t now_ms, char *buf, size_t size);
/** Both WWW-Authenticate headers (with CRLF), a fresh nonce in each. */
int  auth_challenge(struct auth *auth, uint64_t now_ms, bool stale,
		    char *buf, size_t size);
/**
 * Check one Authorization header value (hval) for our realm against the
 * request method and Request-URI. On AUTH_OK *userp is the user.
 */
enum auth_result auth_verify(struct auth *auth, const struct pl *hval,
			     const struct pl *method, const struct pl *ruri,
			     uint64_t now_ms, const struct cfg_user **userp);
/** Check every Authorization header of msg (the one for our realm). */
enum auth_result auth_verify_msg(struct auth *auth, const struct sip_msg *msg,
				 uint64_t now_ms,
				 const struct cfg_user **userp);

/** Does the user's rooms= list name this room (or '*')? */
bool auth_user_has_room(const struct cfg_user *u, const char *number);

/**
 * Authorise a request from outside a call for room `number`.
 * from_ok: the old, spoofable rule (From is a mod= URI, or for a roster a
 * participant) holds. need_mod: the action needs role=moderator.
 * Without users in cfg: allowed iff from_ok, else 403 (as before digest).
 * With users: valid credentials of a user with this room (and the role)
 * -> allowed; credentials of a user without it -> 403; none, wrong or
 * stale -> 401 with both challenges, unless from_ok and
 * auth_trust_from_uri is yes. Returns true if allowed; otherwise msg was
 * answered and the reason logged (`what`: the 403 reason without users).
 */
bool auth_authorise(struct auth *auth, struct sip *sip,
		    const struct sip_msg *msg, const char *number,
		    bool from_ok, bool need_mod, const char *what);

#endif
