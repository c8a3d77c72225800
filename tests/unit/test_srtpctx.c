/**
 * @file test_srtpctx.c  libsrtp2 wrapper with real libsrtp2: protect with
 * one context, unprotect with the peer's, for every suite.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include <re.h>

#include "media/sdes.h"
#include "media/srtpctx.h"

#define PAYLOAD 160
#define BUFSZ   (12 + PAYLOAD + SEC_SRTP_TRAILER_MAX)

struct suite_case {
	enum sdes_suite suite;
	uint8_t mki_len;
	size_t rtp_trailer;      /* auth tag + MKI */
	size_t rtcp_trailer;     /* SRTCP index + tag + MKI */
};

static const struct suite_case cases[] = {
	{SDES_AES_CM_128_HMAC_SHA1_80, 0, 10, 4 + 10},
	{SDES_AES_CM_128_HMAC_SHA1_32, 0,  4, 4 + 10},   /* RTCP keeps 80 */
	{SDES_AEAD_AES_128_GCM,        0, 16, 4 + 16},
	{SDES_AES_CM_128_HMAC_SHA1_80, 4, 14, 4 + 10 + 4},
	{SDES_AEAD_AES_128_GCM,        2, 18, 4 + 16 + 2},
};


static size_t rtp_build(uint8_t *b, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	b[0] = 0x80;
	b[1] = 0;          /* PCMU */
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	b[4] = (uint8_t)(ts >> 24);
	b[5] = (uint8_t)(ts >> 16);
	b[6] = (uint8_t)(ts >> 8);
	b[7] = (uint8_t)ts;
	b[8] = (uint8_t)(ssrc >> 24);
	b[9] = (uint8_t)(ssrc >> 16);
	b[10] = (uint8_t)(ssrc >> 8);
	b[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < PAYLOAD; i++)
		b[12 + i] = (uint8_t)(i * 7 + seq);

	return 12 + PAYLOAD;
}


/* RTCP RR with no report blocks + SDES CNAME "chorus" */
static size_t rtcp_build(uint8_t *b, uint32_t ssrc)
{
	static const uint8_t sdes[] = {
		0x81, 202, 0, 4,  0, 0, 0, 0,
		1, 6, 'c', 'h', 'o', 'r', 'u', 's',  0, 0, 0, 0,
	};

	b[0] = 0x80;
	b[1] = 201;
	b[2] = 0;
	b[3] = 1;
	b[4] = (uint8_t)(ssrc >> 24);
	b[5] = (uint8_t)(ssrc >> 16);
	b[6] = (uint8_t)(ssrc >> 8);
	b[7] = (uint8_t)ssrc;
	memcpy(b + 8, sdes, sizeof(sdes));
	memcpy(b + 12, b + 4, 4);

	return 8 + sizeof(sdes);
}


static void pair_alloc(const struct suite_case *sc, struct sec_srtp **tx,
		       struct sec_srtp **rx)
{
	struct sdes_crypto c;

	assert_int_equal(sdes_crypto_generate(&c, 1, sc->suite), 0);
	if (sc->mki_len) {
		c.mki_len = sc->mki_len;
		c.mki = 3;
	}
	assert_int_equal(sec_srtp_alloc(tx, &c, SEC_SRTP_OUTBOUND), 0);
	assert_int_equal(sec_srtp_alloc(rx, &c, SEC_SRTP_INBOUND), 0);
	sdes_crypto_wipe(&c);
}


/* protect an RTP packet into buf (BUFSZ) and keep the protected bytes in
 * copy, to put back after each change; returns their length */
static size_t protect_rtp_keep(struct sec_srtp *tx, uint8_t *buf,
			       uint8_t *copy, uint16_t seq, uint32_t ts,
			       uint32_t ssrc)
{
	size_t len = rtp_build(buf, seq, ts, ssrc);

	assert_int_equal(sec_srtp_protect_rtp(tx, buf, &len, BUFSZ), 0);
	memcpy(copy, buf, len);

	return len;
}


/* buf (len) is the kept packet again */
static void put_back(uint8_t *buf, size_t *len, const uint8_t *copy,
		     size_t clen)
{
	memcpy(buf, copy, clen);
	*len = clen;
}


static void test_init_is_idempotent(void **state)
{
	(void)state;

	for (int i = 0; i < 5; i++)
		assert_int_equal(sec_srtp_init(), 0);
}


static void test_rtp_round_trip_every_suite(void **state)
{
	(void)state;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct suite_case *sc = &cases[k];
		struct sec_srtp *tx = NULL, *rx = NULL;

		pair_alloc(sc, &tx, &rx);

		for (uint16_t seq = 65530; seq != 6; seq++) {  /* wraps */
			uint8_t plain[BUFSZ], buf[BUFSZ];
			size_t len = rtp_build(plain, seq, seq * 160u,
					       0x11223344);
			size_t plen = len;

			memcpy(buf, plain, len);
			assert_int_equal(sec_srtp_protect_rtp(tx, buf, &len,
							      sizeof(buf)), 0);
			assert_int_equal(len, plen + sc->rtp_trailer);
			/* header in clear, payload not */
			assert_memory_equal(buf, plain, 12);
			assert_memory_not_equal(buf + 12, plain + 12, PAYLOAD);

			assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len),
					 0);
			assert_int_equal(len, plen);
			assert_memory_equal(buf, plain, plen);
		}

		assert_int_equal(sec_srtp_stats(tx)->rtp_ok, 12);
		assert_int_equal(sec_srtp_stats(rx)->rtp_ok, 12);
		assert_int_equal(sec_srtp_stats(rx)->auth_fail, 0);
		mem_deref(tx);
		mem_deref(rx);
	}
}


static void test_tampered_rtp_fails_auth(void **state)
{
	(void)state;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct sec_srtp *tx = NULL, *rx = NULL;
		uint8_t buf[BUFSZ], copy[BUFSZ];
		size_t len, clen;

		pair_alloc(&cases[k], &tx, &rx);

		clen = protect_rtp_keep(tx, buf, copy, 100, 16000, 0xdeadbeef);
		len = clen;

		/* one payload bit */
		buf[40] ^= 0x01;
		assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len),
				 EBADMSG);
		/* the timestamp (authenticated, not encrypted) */
		put_back(buf, &len, copy, clen);
		buf[7] ^= 0x80;
		assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len),
				 EBADMSG);
		/* the last byte: the tag (AES-CM), or the MKI after the
		 * tag (AEAD, RFC 7714) */
		put_back(buf, &len, copy, clen);
		buf[clen - 1] ^= 0xff;
		assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len),
				 EBADMSG);
		/* the failures did not poison the stream */
		put_back(buf, &len, copy, clen);
		assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len), 0);

		assert_int_equal(sec_srtp_stats(rx)->auth_fail, 3);
		assert_int_equal(sec_srtp_stats(rx)->rtp_ok, 1);
		assert_int_equal(sec_srtp_stats(rx)->replay_fail, 0);
		mem_deref(tx);
		mem_deref(rx);
	}
}


static void test_replayed_rtp_fails_replay(void **state)
{
	(void)state;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct sec_srtp *tx = NULL, *rx = NULL;
		uint8_t buf[BUFSZ], copy[BUFSZ];
		size_t len, clen;

		pair_alloc(&cases[k], &tx, &rx);

		clen = protect_rtp_keep(tx, buf, copy, 7, 1120, 0x01020304);
		len = clen;

		assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len), 0);
		put_back(buf, &len, copy, clen);
		assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len),
				 EALREADY);
		assert_int_equal(len, clen);
		assert_int_equal(sec_srtp_stats(rx)->replay_fail, 1);
		assert_int_equal(sec_srtp_stats(rx)->auth_fail, 0);

		/* sending the same sequence number twice is refused too */
		len = rtp_build(buf, 7, 1120, 0x01020304);
		assert_int_equal(sec_srtp_protect_rtp(tx, buf, &len,
						      sizeof(buf)), EALREADY);
		mem_deref(tx);
		mem_deref(rx);
	}
}


static void test_packet_older_than_window_is_replay(void **state)
{
	struct sec_srtp *tx = NULL, *rx = NULL;
	uint8_t old[BUFSZ], buf[BUFSZ];
	size_t olen, len;
	(void)state;

	pair_alloc(&cases[0], &tx, &rx);

	olen = rtp_build(old, 1, 0, 42);
	assert_int_equal(sec_srtp_protect_rtp(tx, old, &olen, sizeof(old)), 0);
	for (uint16_t seq = 2; seq < 2 + SEC_SRTP_WINDOW + 10; seq++) {
		len = rtp_build(buf, seq, 0, 42);
		assert_int_equal(sec_srtp_protect_rtp(tx, buf, &len,
						      sizeof(buf)), 0);
		assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len), 0);
	}
	/* never seen, but now too old for the window */
	assert_int_equal(sec_srtp_unprotect_rtp(rx, old, &olen), EALREADY);
	assert_int_equal(sec_srtp_stats(rx)->replay_fail, 1);
	mem_deref(tx);
	mem_deref(rx);
}


static void test_rtcp_every_suite(void **state)
{
	(void)state;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct suite_case *sc = &cases[k];
		struct sec_srtp *tx = NULL, *rx = NULL;
		uint8_t plain[BUFSZ], buf[BUFSZ], copy[BUFSZ];
		size_t len, plen, clen;

		pair_alloc(sc, &tx, &rx);

		for (int i = 0; i < 3; i++) {
			plen = rtcp_build(plain, 0x55667788);
			memcpy(buf, plain, plen);
			len = plen;
			assert_int_equal(sec_srtp_protect_rtcp(tx, buf, &len,
							       sizeof(buf)), 0);
			assert_int_equal(len, plen + sc->rtcp_trailer);
			assert_memory_equal(buf, plain, 8);
			assert_memory_not_equal(buf + 8, plain + 8, plen - 8);
			memcpy(copy, buf, len);
			clen = len;

			assert_int_equal(sec_srtp_unprotect_rtcp(rx, buf, &len),
					 0);
			assert_int_equal(len, plen);
			assert_memory_equal(buf, plain, plen);
		}

		/* replay of the last compound packet */
		put_back(buf, &len, copy, clen);
		assert_int_equal(sec_srtp_unprotect_rtcp(rx, buf, &len),
				 EALREADY);

		/* tampered */
		plen = rtcp_build(buf, 0x55667788);
		len = plen;
		assert_int_equal(sec_srtp_protect_rtcp(tx, buf, &len,
						       sizeof(buf)), 0);
		buf[10] ^= 0x04;
		assert_int_equal(sec_srtp_unprotect_rtcp(rx, buf, &len),
				 EBADMSG);

		assert_int_equal(sec_srtp_stats(tx)->rtcp_ok, 4);
		assert_int_equal(sec_srtp_stats(rx)->rtcp_ok, 3);
		assert_int_equal(sec_srtp_stats(rx)->replay_fail, 1);
		assert_int_equal(sec_srtp_stats(rx)->auth_fail, 1);
		mem_deref(tx);
		mem_deref(rx);
	}
}


static void test_wrong_key_fails_auth(void **state)
{
	struct sdes_crypto a, b;
	struct sec_srtp *tx = NULL, *rx = NULL;
	uint8_t buf[BUFSZ];
	size_t len;
	(void)state;

	assert_int_equal(sdes_crypto_generate(&a, 1,
			 SDES_AES_CM_128_HMAC_SHA1_80), 0);
	assert_int_equal(sdes_crypto_generate(&b, 1,
			 SDES_AES_CM_128_HMAC_SHA1_80), 0);
	assert_int_equal(sec_srtp_alloc(&tx, &a, SEC_SRTP_OUTBOUND), 0);
	assert_int_equal(sec_srtp_alloc(&rx, &b, SEC_SRTP_INBOUND), 0);

	len = rtp_build(buf, 1, 0, 9);
	assert_int_equal(sec_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
	assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len), EBADMSG);
	assert_int_equal(sec_srtp_stats(rx)->auth_fail, 1);
	mem_deref(tx);
	mem_deref(rx);
}


static void test_mki_mismatch_is_rejected(void **state)
{
	struct sdes_crypto c;
	struct sec_srtp *tx = NULL, *rx = NULL;
	uint8_t buf[BUFSZ];
	size_t len;
	(void)state;

	assert_int_equal(sdes_crypto_generate(&c, 1,
			 SDES_AES_CM_128_HMAC_SHA1_80), 0);
	c.mki_len = 1;
	c.mki = 1;
	assert_int_equal(sec_srtp_alloc(&tx, &c, SEC_SRTP_OUTBOUND), 0);
	c.mki = 2;
	assert_int_equal(sec_srtp_alloc(&rx, &c, SEC_SRTP_INBOUND), 0);

	len = rtp_build(buf, 1, 0, 9);
	assert_int_equal(sec_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
	assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len), EBADMSG);
	assert_int_equal(sec_srtp_stats(rx)->rtp_ok, 0);
	assert_int_equal(sec_srtp_stats(rx)->auth_fail, 1);
	mem_deref(tx);
	mem_deref(rx);
}


static void test_bad_arguments(void **state)
{
	struct sdes_crypto c;
	struct sec_srtp *tx = NULL, *rx = NULL, *s = NULL;
	uint8_t buf[BUFSZ];
	size_t len;
	(void)state;

	memset(&c, 0, sizeof(c));
	assert_int_equal(sec_srtp_alloc(&s, &c, SEC_SRTP_OUTBOUND), EINVAL);
	assert_int_equal(sdes_crypto_generate(&c, 1, SDES_AEAD_AES_128_GCM),
			 0);
	assert_int_equal(sec_srtp_alloc(&s, &c, (enum sec_srtp_dir)7), EINVAL);
	assert_int_equal(sec_srtp_alloc(NULL, &c, SEC_SRTP_OUTBOUND), EINVAL);
	assert_null(s);

	assert_int_equal(sec_srtp_alloc(&tx, &c, SEC_SRTP_OUTBOUND), 0);
	assert_int_equal(sec_srtp_alloc(&rx, &c, SEC_SRTP_INBOUND), 0);

	/* no room for the trailer */
	len = rtp_build(buf, 1, 0, 1);
	assert_int_equal(sec_srtp_protect_rtp(tx, buf, &len, len + 8),
			 EOVERFLOW);
	assert_int_equal(len, 12 + PAYLOAD);
	/* too short to be RTP / RTCP */
	len = 11;
	assert_int_equal(sec_srtp_protect_rtp(tx, buf, &len, sizeof(buf)),
			 EINVAL);
	len = 7;
	assert_int_equal(sec_srtp_unprotect_rtcp(rx, buf, &len), EINVAL);
	/* wrong direction */
	len = rtp_build(buf, 1, 0, 1);
	assert_int_equal(sec_srtp_unprotect_rtp(tx, buf, &len), EINVAL);
	assert_int_equal(sec_srtp_protect_rtp(rx, buf, &len, sizeof(buf)),
			 EINVAL);
	/* garbage that is long enough goes to libsrtp and fails auth */
	memset(buf, 0x80, 64);
	len = 64;
	assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len), EBADMSG);

	mem_deref(tx);
	mem_deref(rx);
}


static void test_debug_print_has_counters_not_key(void **state)
{
	struct sdes_crypto c;
	struct sec_srtp *tx = NULL, *rx = NULL;
	uint8_t buf[BUFSZ];
	char out[256], keyb64[128];
	const char *key;
	size_t len;
	(void)state;

	assert_int_equal(sdes_crypto_generate(&c, 1,
			 SDES_AES_CM_128_HMAC_SHA1_32), 0);
	re_snprintf(keyb64, sizeof(keyb64), "%H", sdes_crypto_encode, &c);
	assert_int_equal(sec_srtp_alloc(&tx, &c, SEC_SRTP_OUTBOUND), 0);
	assert_int_equal(sec_srtp_alloc(&rx, &c, SEC_SRTP_INBOUND), 0);

	len = rtp_build(buf, 1, 0, 1);
	assert_int_equal(sec_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
	buf[20] ^= 1;
	assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len), EBADMSG);

	re_snprintf(out, sizeof(out), "%H", sec_srtp_debug, rx);
	assert_string_equal(out, "srtp: AES_CM_128_HMAC_SHA1_32 inbound "
			    "rtp=0 rtcp=0 auth_fail=1 replay=0 expired=0 other=0");
	/* the base64 key (after "inline:") appears nowhere */
	key = strstr(keyb64, "inline:");
	assert_non_null(key);
	key += 7;
	assert_int_equal(strlen(key), 40);
	assert_null(strstr(out, key));
	mem_deref(tx);
	mem_deref(rx);
}


static void test_sdes_lifetime_is_enforced(void **state)
{
	struct sdes_crypto c;
	struct sec_srtp *tx = NULL, *rx = NULL;
	uint8_t buf[BUFSZ];
	size_t len;
	(void)state;

	assert_int_equal(sdes_crypto_generate(&c, 1,
			 SDES_AES_CM_128_HMAC_SHA1_80), 0);
	c.lifetime = 4;
	assert_int_equal(sec_srtp_alloc(&tx, &c, SEC_SRTP_OUTBOUND), 0);
	assert_int_equal(sec_srtp_alloc(&rx, &c, SEC_SRTP_INBOUND), 0);

	for (uint16_t seq = 1; seq <= 4; seq++) {
		/* forged packets do not use up the receiver's key */
		memset(buf, 0x80, 64);
		len = 64;
		assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len),
				 EBADMSG);

		len = rtp_build(buf, seq, 0, 5);
		assert_int_equal(sec_srtp_protect_rtp(tx, buf, &len,
						      sizeof(buf)), 0);
		assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len), 0);
	}
	len = rtp_build(buf, 5, 0, 5);
	assert_int_equal(sec_srtp_protect_rtp(tx, buf, &len, sizeof(buf)),
			 EKEYEXPIRED);
	assert_int_equal(len, 12 + PAYLOAD);
	/* the receiver's count is its own */
	assert_int_equal(sec_srtp_unprotect_rtp(rx, buf, &len), EKEYEXPIRED);
	assert_int_equal(sec_srtp_stats(tx)->expired, 1);
	assert_int_equal(sec_srtp_stats(rx)->expired, 1);

	/* SRTCP has a count of its own */
	len = rtcp_build(buf, 5);
	assert_int_equal(sec_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)),
			 0);
	assert_int_equal(sec_srtp_unprotect_rtcp(rx, buf, &len), 0);
	mem_deref(tx);
	mem_deref(rx);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_idempotent),
		cmocka_unit_test(test_rtp_round_trip_every_suite),
		cmocka_unit_test(test_tampered_rtp_fails_auth),
		cmocka_unit_test(test_replayed_rtp_fails_replay),
		cmocka_unit_test(test_packet_older_than_window_is_replay),
		cmocka_unit_test(test_rtcp_every_suite),
		cmocka_unit_test(test_wrong_key_fails_auth),
		cmocka_unit_test(test_mki_mismatch_is_rejected),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_debug_print_has_counters_not_key),
		cmocka_unit_test(test_sdes_lifetime_is_enforced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
