/**
 * @file test_sdes.c  RFC 4568 a=crypto parse/build
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
#include <cmocka.h>
#include <re.h>

#include "media/sdes.h"

/* The RFC 4568 section 9.1 example key. */
#define RFC_KEY "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
/* bytes 0..27 */
#define GCM_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw=="


static int dec(struct sdes_crypto *c, char *reason, const char *s)
{
	return sdes_crypto_decode(c, reason, SDES_REASON_SIZE, s, strlen(s));
}


static void expect_reject(const char *line, int err, const char *reason)
{
	struct sdes_crypto c;
	char r[SDES_REASON_SIZE];
	int e = dec(&c, r, line);

	if (e != err || strcmp(r, reason))
		print_error("line '%s': got %d '%s'\n", line, e, r);
	assert_int_equal(e, err);
	assert_string_equal(r, reason);
	/* nothing of a rejected key is left behind */
	assert_int_equal(c.keysalt_len, 0);
	for (size_t i = 0; i < sizeof(c.keysalt); i++)
		assert_int_equal(c.keysalt[i], 0);
}


static void test_rfc4568_example(void **state)
{
	static const uint8_t key[30] = {
		0x3d, 0x2d, 0x6e, 0x40, 0x25, 0x5e, 0x78, 0x21, 0x42, 0x6a,
		0x75, 0x66, 0x72, 0x39, 0x29, 0x3f, 0x2c, 0x23, 0x35, 0x68,
		0x5c, 0x60, 0x3d, 0x26, 0x5d, 0x7b, 0x71, 0x69, 0x50, 0x51,
	};
	struct sdes_crypto c;
	char r[SDES_REASON_SIZE];
	char out[256];
	(void)state;

	assert_int_equal(dec(&c, r, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
			     "inline:" RFC_KEY "|2^20|1:4\r\n"), 0);
	assert_string_equal(r, "");
	assert_int_equal(c.tag, 1);
	assert_int_equal(c.suite, SDES_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(c.keysalt_len, 30);
	assert_memory_equal(c.keysalt, key, 30);
	assert_true(c.lifetime == (UINT64_C(1) << 20));
	assert_true(c.lifetime_pow2);
	assert_int_equal(c.mki, 1);
	assert_int_equal(c.mki_len, 4);

	re_snprintf(out, sizeof(out), "%H", sdes_crypto_encode, &c);
	assert_string_equal(out, "1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
			    "|2^20|1:4");
}


static void test_each_suite_round_trip(void **state)
{
	static const enum sdes_suite all[] = {
		SDES_AES_CM_128_HMAC_SHA1_80,
		SDES_AES_CM_128_HMAC_SHA1_32,
		SDES_AEAD_AES_128_GCM,
	};
	(void)state;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct sdes_crypto a, b, g2;
		char r[SDES_REASON_SIZE], line[256];

		assert_int_equal(sdes_crypto_generate(&a, (uint32_t)i + 1,
						      all[i]), 0);
		assert_int_equal(a.keysalt_len,
				 all[i] == SDES_AEAD_AES_128_GCM ? 28 : 30);
		re_snprintf(line, sizeof(line), "%H", sdes_crypto_encode, &a);
		assert_int_equal(dec(&b, r, line), 0);
		assert_int_equal(b.tag, i + 1);
		assert_int_equal(b.suite, all[i]);
		assert_int_equal(b.keysalt_len, a.keysalt_len);
		assert_memory_equal(b.keysalt, a.keysalt, a.keysalt_len);
		assert_int_equal(b.lifetime, 0);
		assert_int_equal(b.mki_len, 0);
		assert_non_null(strstr(line, sdes_suite_name(all[i])));

		/* a second key is not the first */
		assert_int_equal(sdes_crypto_generate(&g2, 1, all[i]), 0);
		assert_memory_not_equal(g2.keysalt, a.keysalt, a.keysalt_len);
	}
}


static void test_params_round_trip(void **state)
{
	struct sdes_crypto c, d;
	char r[SDES_REASON_SIZE], out[256];
	(void)state;

	assert_int_equal(dec(&c, r, "crypto:7 AEAD_AES_128_GCM inline:"
			     GCM_KEY "|1048576|255:1 KDR=0 WSH=128"), 0);
	assert_int_equal(c.suite, SDES_AEAD_AES_128_GCM);
	assert_int_equal(c.keysalt_len, 28);
	for (int i = 0; i < 28; i++)
		assert_int_equal(c.keysalt[i], i);
	assert_true(c.lifetime == 1048576);
	assert_false(c.lifetime_pow2);
	assert_int_equal(c.mki, 255);
	assert_int_equal(c.mki_len, 1);
	assert_int_equal(c.wsh, 128);

	re_snprintf(out, sizeof(out), "%H", sdes_crypto_encode, &c);
	assert_string_equal(out, "7 AEAD_AES_128_GCM inline:" GCM_KEY
			    "|1048576|255:1 WSH=128");
	assert_int_equal(dec(&d, r, out), 0);
	assert_memory_equal(&c, &d, sizeof(c));

	/* MKI without a lifetime, unpadded base64, extra blanks */
	assert_int_equal(dec(&c, r, "  42\tAEAD_AES_128_GCM  inline:"
			     "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw|3:2  "),
			 0);
	assert_int_equal(c.tag, 42);
	assert_int_equal(c.lifetime, 0);
	assert_int_equal(c.mki, 3);
	assert_int_equal(c.mki_len, 2);
	assert_int_equal(c.keysalt[27], 27);

	/* 2^48 is the SRTP maximum and allowed */
	assert_int_equal(dec(&c, r, "1 AES_CM_128_HMAC_SHA1_32 inline:"
			     RFC_KEY "|2^48"), 0);
	assert_true(c.lifetime == SDES_LIFETIME_MAX);
	re_snprintf(out, sizeof(out), "%H", sdes_crypto_encode, &c);
	assert_string_equal(out, "1 AES_CM_128_HMAC_SHA1_32 inline:" RFC_KEY
			    "|2^48");
}


static void test_bad_forms(void **state)
{
	(void)state;

	expect_reject("", EBADMSG, "bad tag");
	expect_reject("x AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY,
		      EBADMSG, "bad tag");
	expect_reject("1234567890 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY,
		      EBADMSG, "bad tag");
	expect_reject("1", EBADMSG, "missing crypto suite");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80", EBADMSG,
		      "missing key parameters");
	expect_reject("1 F8_128_HMAC_SHA1_80 inline:" RFC_KEY, ENOTSUP,
		      "crypto suite 'F8_128_HMAC_SHA1_80' not supported");
	expect_reject("1 aes_cm_128_hmac_sha1_80 inline:" RFC_KEY, ENOTSUP,
		      "crypto suite 'aes_cm_128_hmac_sha1_80' not supported");
	expect_reject("1 AES_256_CM_HMAC_SHA1_80 inline:" RFC_KEY, ENOTSUP,
		      "crypto suite 'AES_256_CM_HMAC_SHA1_80' not supported");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 uri:http://k/" , ENOTSUP,
		      "key method not supported (inline only)");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		      ";inline:" RFC_KEY, ENOTSUP,
		      "multiple keys not supported");

	/* base64 */
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:"
		      "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB!",
		      EBADMSG, "bad base64 in key");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:"
		      "PS1uQCVeeCFCanVm=jkpPywjNWhcYD0mXXtxaVBR",
		      EBADMSG, "bad base64 in key");
	expect_reject("1 AEAD_AES_128_GCM inline:"
		      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx==",
		      EBADMSG, "bad base64 in key");      /* non-canonical */
	expect_reject("1 AEAD_AES_128_GCM inline:"
		      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw=",
		      EBADMSG, "bad base64 in key");      /* short padding */
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:", EBADMSG,
		      "key is 0 bytes, AES_CM_128_HMAC_SHA1_80 needs 30");

	/* lengths */
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" GCM_KEY, EBADMSG,
		      "key is 28 bytes, AES_CM_128_HMAC_SHA1_80 needs 30");
	expect_reject("1 AEAD_AES_128_GCM inline:" RFC_KEY, EBADMSG,
		      "key is 30 bytes, AEAD_AES_128_GCM needs 28");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "AAAA",
		      EBADMSG, "key too long for AES_CM_128_HMAC_SHA1_80");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:"
		      "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVA=",
		      EBADMSG,
		      "key is 29 bytes, AES_CM_128_HMAC_SHA1_80 needs 30");

	/* lifetime */
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|2^49",
		      EBADMSG, "lifetime above 2^48");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		      "|281474976710657", EBADMSG, "lifetime above 2^48");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|2^",
		      EBADMSG, "bad lifetime");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|0",
		      EBADMSG, "zero lifetime");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|2^x",
		      EBADMSG, "bad lifetime");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|",
		      EBADMSG, "bad lifetime");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		      "|1:4|2^20", EBADMSG, "bad key parameters");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		      "|2^20|2^20", EBADMSG, "bad key parameters");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		      "|2^20|1:4|x", EBADMSG, "bad key parameters");

	/* MKI */
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|1:5",
		      ENOTSUP, "MKI longer than 4 bytes not supported");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|1:0",
		      EBADMSG, "bad MKI length");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|1:129",
		      EBADMSG, "bad MKI length");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|256:1",
		      EBADMSG, "MKI value does not fit 1 bytes");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|:4",
		      EBADMSG, "bad MKI");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "|1:",
		      EBADMSG, "bad MKI");

	/* session parameters */
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		      " UNENCRYPTED_SRTP", ENOTSUP,
		      "session parameter 'UNENCRYPTED_SRTP' not supported");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		      " UNAUTHENTICATED_SRTP", ENOTSUP,
		      "session parameter 'UNAUTHENTICATED_SRTP' not supported");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		      " FEC_ORDER=FEC_SRTP", ENOTSUP,
		      "session parameter 'FEC_ORDER=FEC_SRTP' not supported");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY " KDR=24",
		      ENOTSUP, "key derivation rate not supported");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY " WSH=32",
		      EBADMSG, "bad WSH");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		      " WSH=64 WSH=64 WSH=64 WSH=64 WSH=64", ENOTSUP,
		      "too many session parameters");

	/* a garbled line must not put key bytes into the reason */
	expect_reject("1 inline:" RFC_KEY, ENOTSUP,
		      "crypto suite 'inline' not supported");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		      " inline:" RFC_KEY, ENOTSUP,
		      "session parameter 'inline' not supported");
	expect_reject("1 AES_CM_128_HMAC_SHA1_80inline:" RFC_KEY, ENOTSUP,
		      "crypto suite 'AES_CM_128_HMAC_SHA1_80inline' not "
		      "supported");

	/* line structure */
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		      "\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" RFC_KEY,
		      EBADMSG, "bad crypto line");
}


static void test_embedded_nul(void **state)
{
	static const char line[] =
		"1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "\0|2^20";
	struct sdes_crypto c;
	char r[SDES_REASON_SIZE];
	(void)state;

	assert_int_equal(sdes_crypto_decode(&c, r, sizeof(r), line,
					    sizeof(line) - 1), EBADMSG);
	assert_string_equal(r, "bad crypto line");
}


static void test_key_never_in_reason_or_print(void **state)
{
	struct sdes_crypto c;
	char r[SDES_REASON_SIZE], out[256];
	(void)state;

	/* a long but otherwise valid-looking key: reason names no bytes */
	expect_reject("1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "AAAA",
		      EBADMSG, "key too long for AES_CM_128_HMAC_SHA1_80");

	assert_int_equal(dec(&c, r, "1 AES_CM_128_HMAC_SHA1_80 inline:"
			     RFC_KEY "|2^31|7:2"), 0);
	re_snprintf(out, sizeof(out), "%H", sdes_crypto_print, &c);
	assert_string_equal(out, "1 AES_CM_128_HMAC_SHA1_80 "
			    "inline:<30-byte key hidden>|2^31|7:2");
	assert_null(strstr(out, "PS1u"));

	sdes_crypto_wipe(&c);
	assert_int_equal(c.keysalt_len, 0);
	for (size_t i = 0; i < sizeof(c.keysalt); i++)
		assert_int_equal(c.keysalt[i], 0);
	re_snprintf(out, sizeof(out), "%H", sdes_crypto_print, &c);
	assert_string_equal(out, "(no crypto)");
	/* a wiped crypto cannot be encoded into an SDP by mistake */
	assert_int_equal(re_snprintf(out, sizeof(out), "%H",
				     sdes_crypto_encode, &c), -1);
}


static void test_generate_args(void **state)
{
	struct sdes_crypto c;
	(void)state;

	assert_int_equal(sdes_crypto_generate(&c, 1, SDES_SUITE_NONE), EINVAL);
	assert_int_equal(sdes_crypto_generate(&c, SDES_TAG_MAX + 1,
					      SDES_AEAD_AES_128_GCM), EINVAL);
	assert_int_equal(sdes_crypto_generate(NULL, 1,
					      SDES_AEAD_AES_128_GCM), EINVAL);
	assert_int_equal(sdes_crypto_decode(NULL, NULL, 0, "1", 1), EINVAL);
	assert_int_equal(sdes_crypto_generate(&c, SDES_TAG_MAX,
					      SDES_AEAD_AES_128_GCM), 0);
	assert_int_equal(c.tag, SDES_TAG_MAX);
}


/* A local RTP/SAVP audio line that has seen the given remote offer. */
static struct sdp_session *offer_decode(const char *crypto_lines,
					struct sdp_media **mp)
{
	struct sdp_session *sess = NULL;
	struct mbuf *mb;
	struct sa laddr;
	char sdp[2048];

	assert_int_equal(sa_set_str(&laddr, "127.0.0.1", 0), 0);
	assert_int_equal(sdp_session_alloc(&sess, &laddr), 0);
	assert_int_equal(sdp_media_add(mp, sess, "audio", 40000, "RTP/SAVP"),
			 0);
	assert_int_equal(sdp_format_add(NULL, *mp, false, "0", "PCMU", 8000,
					1, NULL, NULL, NULL, false, NULL), 0);

	snprintf(sdp, sizeof(sdp),
		 "v=0\r\n"
		 "o=- 1 1 IN IP4 127.0.0.1\r\n"
		 "s=-\r\n"
		 "c=IN IP4 127.0.0.1\r\n"
		 "t=0 0\r\n"
		 "m=audio 30000 RTP/SAVP 0\r\n"
		 "%s", crypto_lines);
	mb = mbuf_alloc(strlen(sdp));
	assert_non_null(mb);
	assert_int_equal(mbuf_write_str(mb, sdp), 0);
	mb->pos = 0;
	assert_int_equal(sdp_decode(sess, mb, true), 0);
	mem_deref(mb);

	return sess;
}


static void test_select_and_answer_in_sdp(void **state)
{
	struct sdp_session *sess;
	struct sdp_media *m;
	struct sdes_crypto theirs, ours, back;
	char r[SDES_REASON_SIZE];
	struct mbuf *ans = NULL;
	const char *line;
	char *text;
	(void)state;

	/* offerer's order: unsupported suite, broken key, then a good one */
	sess = offer_decode(
		"a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" RFC_KEY "\r\n"
		"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:!!!!\r\n"
		"a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:" RFC_KEY
		"|2^31\r\n"
		"a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY "\r\n",
		&m);
	assert_int_equal(sdes_select(&theirs, m, r, sizeof(r)), 0);
	assert_int_equal(theirs.tag, 3);
	assert_int_equal(theirs.suite, SDES_AES_CM_128_HMAC_SHA1_32);

	assert_int_equal(sdes_crypto_answer(&ours, &theirs), 0);
	assert_int_equal(ours.tag, 3);
	assert_int_equal(ours.suite, SDES_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(ours.lifetime, 0);
	assert_memory_not_equal(ours.keysalt, theirs.keysalt, 30);

	assert_int_equal(sdes_media_set(m, &ours), 0);
	assert_int_equal(sdes_media_set(m, &ours), 0);   /* replaces */
	assert_int_equal(sdp_encode(&ans, sess, false), 0);
	text = malloc(ans->end + 1);
	assert_non_null(text);
	memcpy(text, ans->buf, ans->end);
	text[ans->end] = '\0';

	line = strstr(text, "a=crypto:");
	assert_non_null(line);
	assert_null(strstr(line + 1, "a=crypto:"));
	assert_int_equal(sdes_crypto_decode(&back, r, sizeof(r), line,
					    strcspn(line, "\r\n")), 0);
	assert_int_equal(back.tag, 3);
	assert_memory_equal(back.keysalt, ours.keysalt, 30);

	free(text);
	mem_deref(ans);
	mem_deref(sess);
}


static void test_select_nothing_usable(void **state)
{
	struct sdp_session *sess;
	struct sdp_media *m;
	struct sdes_crypto c;
	char r[SDES_REASON_SIZE];
	(void)state;

	sess = offer_decode("", &m);
	assert_int_equal(sdes_select(&c, m, r, sizeof(r)), ENOENT);
	assert_string_equal(r, "no a=crypto");
	mem_deref(sess);

	sess = offer_decode(
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" RFC_KEY
		" UNENCRYPTED_SRTP\r\n"
		"a=crypto:2 F8_128_HMAC_SHA1_80 inline:" RFC_KEY "\r\n", &m);
	assert_int_equal(sdes_select(&c, m, r, sizeof(r)), ENOENT);
	assert_string_equal(r, "crypto suite 'F8_128_HMAC_SHA1_80' not "
			    "supported");
	assert_int_equal(c.keysalt_len, 0);
	mem_deref(sess);
}


static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;

	return *x;
}


/* Mutated lines: accepted with a consistent result, or refused with a
 * reason that never quotes the key. */
static void test_mutated_lines(void **state)
{
	static const char seed[] = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
		RFC_KEY "|2^20|1:4 WSH=128";
	static const char alphabet[] = "0123456789 |:^=;+/AEGKMSW_a\t";
	uint32_t x = 0x1234567;
	unsigned ok = 0, bad = 0;
	(void)state;

	for (unsigned it = 0; it < 20000; it++) {
		char line[sizeof(seed) + 8];
		size_t len = sizeof(seed) - 1;
		struct sdes_crypto c;
		char r[SDES_REASON_SIZE];
		int err;

		memcpy(line, seed, len);
		for (unsigned e = 0; e < 1 + rnd(&x) % 3; e++) {
			size_t pos = rnd(&x) % len;

			if (rnd(&x) % 4 == 0) {
				memmove(line + pos, line + pos + 1,
					len - pos - 1);
				--len;
			}
			else {
				line[pos] = alphabet[rnd(&x) %
						     (sizeof(alphabet) - 1)];
			}
		}

		err = sdes_crypto_decode(&c, r, sizeof(r), line, len);
		if (err) {
			assert_true(err == EBADMSG || err == ENOTSUP);
			assert_true(r[0] != '\0');
			/* no run of key characters */
			for (size_t k = 0; k + 4 <= sizeof(RFC_KEY) - 1; k++) {
				char frag[5];

				memcpy(frag, &RFC_KEY[k], 4);
				frag[4] = '\0';
				assert_null(strstr(r, frag));
			}
			assert_int_equal(c.keysalt_len, 0);
			++bad;
		}
		else {
			assert_int_equal(c.keysalt_len,
					 sdes_suite_keysalt_len(c.suite));
			assert_true(c.lifetime <= SDES_LIFETIME_MAX);
			assert_true(c.mki_len <= SDES_MKI_MAX);
			++ok;
		}
	}
	assert_true(ok > 100);
	assert_true(bad > 100);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4568_example),
		cmocka_unit_test(test_each_suite_round_trip),
		cmocka_unit_test(test_params_round_trip),
		cmocka_unit_test(test_bad_forms),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_key_never_in_reason_or_print),
		cmocka_unit_test(test_generate_args),
		cmocka_unit_test(test_select_and_answer_in_sdp),
		cmocka_unit_test(test_select_nothing_usable),
		cmocka_unit_test(test_mutated_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
