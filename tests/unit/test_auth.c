/**
 * @file test_auth.c  Digest authentication (sip/auth.c) and users.conf
 * (cfg/users.c): RFC 2617 / RFC 7616 response vectors, nonces (forgery,
 * expiry, slot reuse), nonce-count replay, wrong credentials, malformed
 * Authorization headers, the users file and its errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>

#include "ctrl/log.h"
#include "cfg/cfg.h"
#include "sip/auth.h"

enum { T0 = 1000000 };   /* "now" of the tests, ms */

static struct cfg tcfg;
static struct cfg_user tusers[2];
static struct auth *tauth;

static const struct pl met_refer = PL("REFER");
static const struct pl ruri = PL("sip:1000@127.0.0.1:5060");


/* ---- RFC vectors ------------------------------------------------------ */

/* RFC 2617 section 3.5 */
static void test_rfc2617_md5_vector(void **state)
{
	const struct pl get = PL("GET"), uri = PL("/dir/index.html");
	const struct pl nonce = PL("dcd98b7102dd2f0e8b11d0f600bfb0c093");
	const struct pl nc = PL("00000001"), cnonce = PL("0a4f113b");
	const struct pl qop = PL("auth");
	char ha1[AUTH_HEX_MAX], resp[AUTH_HEX_MAX];
	(void)state;

	assert_int_equal(auth_ha1(AUTH_MD5, "Mufasa", "testrealm@host.com",
				  "Circle Of Life", ha1, sizeof(ha1)), 0);
	assert_int_equal(auth_response(AUTH_MD5, ha1, &get, &uri, &nonce, &nc,
				       &cnonce, &qop, resp, sizeof(resp)), 0);
	assert_string_equal(resp, "6629fae49393a05397450978507c4ef1");
}


/* RFC 7616 section 3.9.1: the same request with MD5 and SHA-256 */
static void test_rfc7616_vectors(void **state)
{
	const struct pl get = PL("GET"), uri = PL("/dir/index.html");
	const struct pl nonce =
		PL("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
	const struct pl cnonce =
		PL("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
	const struct pl nc = PL("00000001"), qop = PL("auth");
	char ha1[AUTH_HEX_MAX], resp[AUTH_HEX_MAX];
	(void)state;

	assert_int_equal(auth_ha1(AUTH_MD5, "Mufasa", "http-auth@example.org",
				  "Circle of Life", ha1, sizeof(ha1)), 0);
	assert_int_equal(auth_response(AUTH_MD5, ha1, &get, &uri, &nonce, &nc,
				       &cnonce, &qop, resp, sizeof(resp)), 0);
	assert_string_equal(resp, "8ca523f5e9506fed4657c9700eebdbec");

	assert_int_equal(auth_ha1(AUTH_SHA256, "Mufasa",
				  "http-auth@example.org", "Circle of Life",
				  ha1, sizeof(ha1)), 0);
	assert_int_equal(strlen(ha1), 64);
	assert_int_equal(auth_response(AUTH_SHA256, ha1, &get, &uri, &nonce,
				       &nc, &cnonce, &qop, resp, sizeof(resp)),
			 0);
	assert_string_equal(resp, "753927fa0e85d155564e2e272a28d1802ca10daf"
			    "4496794697cf8db5856cb6c1");

	/* an output buffer too small for SHA-256 hex is refused */
	assert_int_equal(auth_ha1(AUTH_SHA256, "a", "b", "c", ha1, 33),
			 EOVERFLOW);
}


/* ---- verify ----------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;

	memset(&tcfg, 0, sizeof(tcfg));
	memset(tusers, 0, sizeof(tusers));
	str_ncpy(tcfg.auth_realm, "chorus", sizeof(tcfg.auth_realm));

	/* alice: both algorithms, moderator of 1000 and 2000 */
	str_ncpy(tusers[0].name, "alice", sizeof(tusers[0].name));
	auth_ha1(AUTH_MD5, "alice", "chorus", "secret", tusers[0].ha1_md5,
		 sizeof(tusers[0].ha1_md5));
	auth_ha1(AUTH_SHA256, "alice", "chorus", "secret",
		 tusers[0].ha1_sha256, sizeof(tusers[0].ha1_sha256));
	str_ncpy(tusers[0].rooms, "1000,2000", sizeof(tusers[0].rooms));
	tusers[0].moderator = true;

	/* bob: MD5 HA1 only */
	str_ncpy(tusers[1].name, "bob", sizeof(tusers[1].name));
	auth_ha1(AUTH_MD5, "bob", "chorus", "pw", tusers[1].ha1_md5,
		 sizeof(tusers[1].ha1_md5));
	str_ncpy(tusers[1].rooms, "*", sizeof(tusers[1].rooms));

	tcfg.users = tusers;
	tcfg.nusers = 2;

	return auth_alloc(&tauth, &tcfg) ? -1 : 0;
}


static int teardown(void **state)
{
	(void)state;
	tauth = mem_deref(tauth);

	return 0;
}


/*
 * Build an Authorization value the way a client does: the response is
 * computed from the password (not from the stored HA1).
 */
static void client_hdr(char *buf, size_t size, enum auth_alg alg,
		       const char *user, const char *pass, const char *nonce,
		       const char *nc, const char *uri, const char *opaque)
{
	char ha1[AUTH_HEX_MAX], resp[AUTH_HEX_MAX];
	struct pl pn, pnc, pu;
	const struct pl cn = PL("c0ffee42"), qop = PL("auth");

	pl_set_str(&pn, nonce);
	pl_set_str(&pnc, nc);
	pl_set_str(&pu, uri);

	assert_int_equal(auth_ha1(alg, user, "chorus", pass, ha1,
				  sizeof(ha1)), 0);
	assert_int_equal(auth_response(alg, ha1, &met_refer, &pu, &pn, &pnc,
				       &cn, &qop, resp, sizeof(resp)), 0);

	re_snprintf(buf, size, "Digest username=\"%s\", realm=\"chorus\", "
		    "nonce=\"%s\", uri=\"%s\", response=\"%s\", "
		    "algorithm=%s, cnonce=\"c0ffee42\", qop=auth, nc=%s%s%s%s",
		    user, nonce, uri, resp,
		    alg == AUTH_SHA256 ? "SHA-256" : "MD5", nc,
		    opaque ? ", opaque=\"" : "", opaque ? opaque : "",
		    opaque ? "\"" : "");
}


static enum auth_result verify(const char *hval, uint64_t now,
			       const struct cfg_user **up)
{
	struct pl pl;

	pl_set_str(&pl, hval);

	return auth_verify(tauth, &pl, &met_refer, &ruri, now, up);
}


static void nonce_at(uint64_t now, char *nonce, size_t size)
{
	assert_int_equal(auth_nonce(tauth, now, nonce, size), 0);
}


static void test_valid_md5_and_sha256(void **state)
{
	char nonce[128], h[1024];
	const struct cfg_user *u = NULL;
	(void)state;

	nonce_at(T0, nonce, sizeof(nonce));

	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0 + 10, &u), AUTH_OK);
	assert_ptr_equal(u, &tusers[0]);

	client_hdr(h, sizeof(h), AUTH_SHA256, "alice", "secret", nonce,
		   "00000002", "sip:1000@127.0.0.1:5060", NULL);
	u = NULL;
	assert_int_equal(verify(h, T0 + 20, &u), AUTH_OK);
	assert_ptr_equal(u, &tusers[0]);

	/* bob has no SHA-256 HA1: only MD5 works for him */
	client_hdr(h, sizeof(h), AUTH_SHA256, "bob", "pw", nonce, "00000003",
		   "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0 + 30, NULL), AUTH_BAD);
	client_hdr(h, sizeof(h), AUTH_MD5, "bob", "pw", nonce, "00000004",
		   "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0 + 40, &u), AUTH_OK);
	assert_ptr_equal(u, &tusers[1]);
}


static void test_wrong_credentials(void **state)
{
	char nonce[128], h[1024];
	(void)state;

	nonce_at(T0, nonce, sizeof(nonce));

	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "Secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0, NULL), AUTH_BAD);

	client_hdr(h, sizeof(h), AUTH_SHA256, "alice", "secreT", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0, NULL), AUTH_BAD);

	client_hdr(h, sizeof(h), AUTH_MD5, "mallory", "secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0, NULL), AUTH_BAD);

	/* credentials for another Request-URI (RFC 3261 22.4) */
	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000001", "sip:2000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0, NULL), AUTH_BAD);

	/* the wrong tries did not consume the nonce: the right one works */
	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0, NULL), AUTH_OK);
}


static void test_nonce_count_replay(void **state)
{
	char nonce[128], h[1024];
	(void)state;

	nonce_at(T0, nonce, sizeof(nonce));

	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000005", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0, NULL), AUTH_OK);
	/* the very same request again */
	assert_int_equal(verify(h, T0 + 1, NULL), AUTH_REPLAY);

	/* a lower count */
	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000003", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0 + 2, NULL), AUTH_REPLAY);

	/* a higher one is a new request */
	client_hdr(h, sizeof(h), AUTH_SHA256, "alice", "secret", nonce,
		   "0000000a", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0 + 3, NULL), AUTH_OK);
	assert_int_equal(verify(h, T0 + 4, NULL), AUTH_REPLAY);
}


static void test_nonce_expiry_is_stale(void **state)
{
	char nonce[128], h[1024];
	(void)state;

	nonce_at(T0, nonce, sizeof(nonce));

	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0 + AUTH_NONCE_TTL_MS + 1, NULL),
			 AUTH_STALE);
	/* at the limit it is still good */
	assert_int_equal(verify(h, T0 + AUTH_NONCE_TTL_MS, NULL), AUTH_OK);

	/* stale is only said to the holder of the password */
	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "wrong", nonce,
		   "00000002", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0 + AUTH_NONCE_TTL_MS + 1, NULL),
			 AUTH_BAD);

	/* a nonce "from the future" (not ours at this time) */
	nonce_at(T0 + 5000, nonce, sizeof(nonce));
	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0, NULL), AUTH_STALE);
}


static void test_forged_and_foreign_nonces(void **state)
{
	char nonce[128], h[1024];
	struct auth *other = NULL;
	size_t n;
	(void)state;

	nonce_at(T0, nonce, sizeof(nonce));

	/* change the time field: the MAC no longer matches */
	nonce[15] = nonce[15] == '0' ? '1' : '0';
	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0, NULL), AUTH_BAD);
	nonce[15] = nonce[15] == '0' ? '1' : '0';

	/* change the MAC */
	n = strlen(nonce);
	nonce[n - 1] = nonce[n - 1] == 'a' ? 'b' : 'a';
	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0, NULL), AUTH_BAD);

	/* a nonce of another process (other secret) */
	assert_int_equal(auth_alloc(&other, &tcfg), 0);
	assert_int_equal(auth_nonce(other, T0, nonce, sizeof(nonce)), 0);
	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0, NULL), AUTH_BAD);
	mem_deref(other);

	/* an arbitrary client-made nonce */
	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret",
		   "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001",
		   "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0, NULL), AUTH_BAD);
}


static void test_slot_reuse_is_stale(void **state)
{
	char first[128], nonce[128], h[1024];
	(void)state;

	nonce_at(T0, first, sizeof(first));
	for (unsigned i = 0; i < AUTH_SLOTS; i++)
		nonce_at(T0 + 1, nonce, sizeof(nonce));

	/* the first nonce's slot now holds a newer one: its nc history is
	   gone, so it must not be accepted again */
	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", first,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0 + 2, NULL), AUTH_STALE);

	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);
	assert_int_equal(verify(h, T0 + 2, NULL), AUTH_OK);
}


static void test_realm_and_opaque(void **state)
{
	char nonce[128], h[1024], chall[1024], opaque[64];
	const char *p, *q;
	(void)state;

	assert_int_equal(auth_challenge(tauth, T0, false, chall,
					sizeof(chall)), 0);

	/* two challenges, SHA-256 first, same nonce, qop auth, no stale */
	p = strstr(chall, "WWW-Authenticate: Digest realm=\"chorus\"");
	assert_ptr_equal(p, chall);
	q = strstr(p + 1, "WWW-Authenticate: Digest realm=\"chorus\"");
	assert_non_null(q);
	assert_non_null(strstr(chall, "algorithm=SHA-256"));
	assert_true(strstr(chall, "algorithm=SHA-256") < q);
	assert_true(strstr(chall, "algorithm=MD5") > q);
	assert_non_null(strstr(chall, "qop=\"auth\""));
	assert_null(strstr(chall, "stale"));

	p = strstr(chall, "nonce=\"") + 7;
	q = strchr(p, '"');
	re_snprintf(nonce, sizeof(nonce), "%b", p, (size_t)(q - p));
	p = strstr(chall, "opaque=\"") + 8;
	q = strchr(p, '"');
	re_snprintf(opaque, sizeof(opaque), "%b", p, (size_t)(q - p));

	/* our opaque echoed: fine; another one: refused */
	client_hdr(h, sizeof(h), AUTH_SHA256, "alice", "secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", opaque);
	assert_int_equal(verify(h, T0, NULL), AUTH_OK);
	client_hdr(h, sizeof(h), AUTH_SHA256, "alice", "secret", nonce,
		   "00000002", "sip:1000@127.0.0.1:5060", "deadbeef");
	assert_int_equal(verify(h, T0, NULL), AUTH_BAD);

	/* credentials for another realm are not ours to judge */
	assert_int_equal(verify("Digest username=\"alice\", realm=\"pbx\", "
				"nonce=\"x\", uri=\"sip:1000@127.0.0.1:5060\","
				" response=\"00\"", T0, NULL), AUTH_NONE);

	assert_int_equal(auth_challenge(tauth, T0, true, chall,
					sizeof(chall)), 0);
	assert_non_null(strstr(chall, "stale=true"));
	assert_int_equal(auth_challenge(tauth, T0, false, chall, 100),
			 EOVERFLOW);
}


static void test_malformed_headers(void **state)
{
	char nonce[128], h[1024], bad[1100];
	static const char *const junk[] = {
		"",
		"Digest",
		"Digest ",
		"Basic YWxpY2U6c2VjcmV0",
		"Digestusername=\"alice\"",
		"Digest username=\"alice, realm=\"chorus\"",
		"Digest =\"x\", realm=\"chorus\"",
		"Digest realm=\"chorus\", realm=\"chorus\"",
		"Digest realm=\"chorus\" username=\"alice\"",
		"Digest realm=\"chorus\", username",
		"Digest realm=\"chorus\", \"",
		"Digest realm=\"chorus\\",
		"Digest realm=\"chorus\", username=\"alice\"",
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
		enum auth_result r = verify(junk[i], T0, NULL);

		if (r != AUTH_BAD && r != AUTH_NONE)
			fail_msg("'%s' gave %d", junk[i], r);
	}

	nonce_at(T0, nonce, sizeof(nonce));
	client_hdr(h, sizeof(h), AUTH_MD5, "alice", "secret", nonce,
		   "00000001", "sip:1000@127.0.0.1:5060", NULL);

	/* the good header with one thing broken at a time */
	{
		static const struct { const char *from, *to; } edits[] = {
			{"qop=auth", "qop=auth-int"},
			{"qop=auth", "qop=\"\""},
			{"nc=00000001", "nc=1"},
			{"nc=00000001", "nc=0000000g"},
			{"algorithm=MD5", "algorithm=SHA-512-256"},
			{"algorithm=MD5", "algorithm=MD5-sess"},
			{"cnonce=\"c0ffee42\", ", ""},
			{"username=\"alice\", ", ""},
			{"response=\"", "response=\"0"},
		};

		for (size_t i = 0; i < ARRAY_SIZE(edits); i++) {
			const char *at = strstr(h, edits[i].from);

			assert_non_null(at);
			re_snprintf(bad, sizeof(bad), "%b%s%s",
				    h, (size_t)(at - h), edits[i].to,
				    at + strlen(edits[i].from));
			if (verify(bad, T0, NULL) != AUTH_BAD)
				fail_msg("edit %zu not refused: %s", i, bad);
		}
	}

	/* every prefix of a good header: refused, never read past the end */
	for (size_t n = 0; n < strlen(h); n++) {
		struct pl pl = {h, n};

		assert_int_not_equal(auth_verify(tauth, &pl, &met_refer,
						 &ruri, T0, NULL), AUTH_OK);
	}

	/* upper-case hex in the response is the same response */
	{
		char *r = strstr(h, "response=\"") + 10;

		for (; *r != '"'; r++)
			if (*r >= 'a' && *r <= 'f')
				*r = (char)(*r - 'a' + 'A');
		assert_int_equal(verify(h, T0, NULL), AUTH_OK);
	}
}


static void test_user_rooms(void **state)
{
	(void)state;

	assert_true(auth_user_has_room(&tusers[0], "1000"));
	assert_true(auth_user_has_room(&tusers[0], "2000"));
	assert_false(auth_user_has_room(&tusers[0], "200"));
	assert_false(auth_user_has_room(&tusers[0], "10000"));
	assert_false(auth_user_has_room(&tusers[0], "3000"));
	assert_true(auth_user_has_room(&tusers[1], "4711"));
	assert_false(auth_user_has_room(NULL, "1000"));

	assert_true(auth_enabled(tauth));
	tcfg.nusers = 0;
	assert_false(auth_enabled(tauth));
	tcfg.nusers = 2;
}


/* ---- users.conf ------------------------------------------------------- */

enum { LOG_KEEP = 32 };

static struct {
	char lines[LOG_KEEP][512];
	unsigned n;
} logged;

static char tmpdir[64];


static void log_capture(enum log_level level, const char *line, void *arg)
{
	(void)arg;

	if (level > LOG_LVL_WARN || logged.n >= LOG_KEEP)
		return;

	snprintf(logged.lines[logged.n++], sizeof(logged.lines[0]), "%s",
		 line);
}


static bool logged_has(const char *a, const char *b)
{
	for (unsigned i = 0; i < logged.n; i++)
		if (strstr(logged.lines[i], a) &&
		    (!b || strstr(logged.lines[i], b)))
			return true;

	return false;
}


static bool logged_any(const char *s)
{
	for (unsigned i = 0; i < logged.n; i++)
		if (strstr(logged.lines[i], s))
			return true;

	return false;
}


static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}


static int fsetup(void **state)
{
	(void)state;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/chorus-test-auth-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;

	memset(&logged, 0, sizeof(logged));
	log_set_handler(log_capture, NULL);
	write_file("rooms.conf", "room 1000\n");

	return 0;
}


static int fteardown(void **state)
{
	static const char *const files[] = {"chorus.conf", "rooms.conf",
					    "users.conf"};
	char path[256];
	(void)state;

	log_set_handler(NULL, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	rmdir(tmpdir);

	return 0;
}


static void test_users_file_parsed(void **state)
{
	struct cfg *cfg = NULL;
	(void)state;

	write_file("chorus.conf", "auth_users users.conf\n");
	write_file("users.conf",
		   "# comment\n"
		   "user alice secret rooms=1000,2000 role=moderator\n"
		   "user bob ha1:6B378B2F50F26A341642604313F0734C rooms=*\n"
		   "user carol ha1:6b378b2f50f26a341642604313f0734c:"
		   "3661dd7ada17389a44b00013407d264cfc2da8be3de697e3555d76a4"
		   "00d44f68 rooms=1000 role=participant\n");

	assert_int_equal(cfg_load(&cfg, tmpdir), 0);
	assert_int_equal(cfg->nusers, 3);
	assert_string_equal(cfg->auth_realm, "chorus");
	assert_false(cfg->auth_trust_from_uri);

	/* md5/sha256("alice:chorus:secret"), as printf ... | md5sum */
	assert_string_equal(cfg->users[0].name, "alice");
	assert_string_equal(cfg->users[0].ha1_md5,
			    "6b378b2f50f26a341642604313f0734c");
	assert_string_equal(cfg->users[0].ha1_sha256,
			    "3661dd7ada17389a44b00013407d264cfc2da8be3de697e3"
			    "555d76a400d44f68");
	assert_string_equal(cfg->users[0].rooms, "1000,2000");
	assert_true(cfg->users[0].moderator);

	assert_string_equal(cfg->users[1].ha1_md5,
			    "6b378b2f50f26a341642604313f0734c");
	assert_string_equal(cfg->users[1].ha1_sha256, "");
	assert_false(cfg->users[1].moderator);
	assert_string_equal(cfg->users[2].ha1_sha256,
			    "3661dd7ada17389a44b00013407d264cfc2da8be3de697e3"
			    "555d76a400d44f68");

	/* the password is hashed with the configured realm */
	mem_deref(cfg);
	write_file("chorus.conf", "auth_users users.conf\n"
		   "auth_realm other\nauth_trust_from_uri yes\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), 0);
	assert_string_equal(cfg->users[0].ha1_md5,
			    "60b8492b4481e4e93cda54449c1e99dd");
	assert_true(cfg->auth_trust_from_uri);
	mem_deref(cfg);

	/* no auth_users: no users, nothing challenged */
	write_file("chorus.conf", "log_level info\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), 0);
	assert_int_equal(cfg->nusers, 0);
	mem_deref(cfg);
}


static void test_users_file_errors(void **state)
{
	struct cfg *cfg = NULL;
	(void)state;

	write_file("chorus.conf", "auth_users users.conf\n");
	write_file("users.conf",
		   "user alice topsecret rooms=1000\n"          /* 1 ok */
		   "user alice x rooms=1000\n"                  /* 2 twice */
		   "user bob pw\n"                              /* 3 rooms */
		   "user carol pw rooms=1000 role=boss\n"       /* 4 role */
		   "user d\"ave pw rooms=1000\n"                /* 5 name */
		   "user erin ha1:abcd rooms=1000\n"            /* 6 hex */
		   "user fred pw rooms=10 00\n"                 /* 7 attr */
		   "user gina pw rooms=1000,/x\n"               /* 8 room */
		   "user hank pw rooms=1000 color=red\n"        /* 9 key */
		   "user ivan\n"                                /* 10 */
		   "group admins\n");                           /* 11 */

	assert_int_equal(cfg_load(&cfg, tmpdir), EINVAL);
	assert_null(cfg);

	assert_true(logged_has("users.conf:2:", "defined twice"));
	assert_true(logged_has("users.conf:3:", "rooms= missing"));
	assert_true(logged_has("users.conf:4:", "boss"));
	assert_true(logged_has("users.conf:5:", "not a user name"));
	assert_true(logged_has("users.conf:6:", "32 hex"));
	assert_true(logged_has("users.conf:7:", "key=value"));
	assert_true(logged_has("users.conf:8:", "not a room number"));
	assert_true(logged_has("users.conf:9:", "unknown user attribute"));
	assert_true(logged_has("users.conf:10:", "user <name>"));
	assert_true(logged_has("users.conf:11:", "unknown key"));
	/* errors never quote a password */
	assert_false(logged_any("topsecret"));

	/* a missing users file and a bad realm are errors too */
	memset(&logged, 0, sizeof(logged));
	write_file("chorus.conf", "auth_users nosuch.conf\n"
		   "auth_realm a\"b\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), EINVAL);
	assert_true(logged_has("nosuch.conf", "cannot open"));
	assert_true(logged_has("chorus.conf:2:", "auth_realm"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2617_md5_vector),
		cmocka_unit_test(test_rfc7616_vectors),
		cmocka_unit_test_setup_teardown(test_valid_md5_and_sha256,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_credentials,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonce_count_replay,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonce_expiry_is_stale,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_and_foreign_nonces,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_reuse_is_stale,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_realm_and_opaque,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_headers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_rooms,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_users_file_parsed,
						fsetup, fteardown),
		cmocka_unit_test_setup_teardown(test_users_file_errors,
						fsetup, fteardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
