/**
 * @file fuzz_srtp.c  SRTP/SRTCP through our libsrtp2 wrapper (srtpctx.c):
 * attacker-chosen datagrams unprotected by an inbound context, and
 * protect -> (optional tamper) -> unprotect round trips between an
 * outbound and an inbound context sharing a fixed key.
 *
 * Invariants checked: a packet that unprotects is exactly the plain text
 * that was protected; a tampered packet never authenticates; lengths stay
 * inside the buffer.
 *
 * Input: byte 0: bits 0-1 suite (AES_CM_80, AES_CM_32, AEAD_GCM), bit 2
 * MKI of 2 bytes. Then operations: 1 byte op (bit 0: RTCP; bits 1-2:
 * 0 raw unprotect, 1 round trip, 2 round trip with a flipped byte at the
 * position in the next byte, 3 round trip twice = replay), 2 bytes length
 * (mod 1400), the bytes.
 */
#include <stdbool.h>
#include <re.h>

#include "media/sdes.h"
#include "media/srtpctx.h"
#include "fuzz_common.h"

enum { MAX_LEN = 1400, MAX_OPS = 32 };


/* libsrtp's crypto backend loads and unloads code with the last context
 * (dlopen/dlclose per input, 300 exec/s): one context per suite that
 * lives for the whole run keeps it loaded. */
static struct sec_srtp *keep[3];


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const enum sdes_suite su[3] = {
		SDES_AES_CM_128_HMAC_SHA1_80, SDES_AES_CM_128_HMAC_SHA1_32,
		SDES_AEAD_AES_128_GCM};
	(void)argc;
	(void)argv;

	if (sec_srtp_init())
		abort();

	for (int i = 0; i < 3; i++) {
		struct sdes_crypto c;

		memset(&c, 0, sizeof(c));
		c.tag = 1;
		c.suite = su[i];
		c.keysalt_len = sdes_suite_keysalt_len(su[i]);
		(void)sec_srtp_alloc(&keep[i], &c, SEC_SRTP_INBOUND);
	}

	return 0;
}


static int unprotect(struct sec_srtp *s, bool rtcp, uint8_t *b, size_t *l)
{
	return rtcp ? sec_srtp_unprotect_rtcp(s, b, l)
		    : sec_srtp_unprotect_rtp(s, b, l);
}


static void round_trip(struct sec_srtp *out, struct sec_srtp *inb, bool rtcp,
		       const uint8_t *p, size_t len, int tamper, bool replay)
{
	size_t size = len + SEC_SRTP_TRAILER_MAX, l = len, l2;
	uint8_t *buf = malloc(size), *copy = NULL;
	int err;

	if (!buf)
		return;
	memcpy(buf, p, len);

	err = rtcp ? sec_srtp_protect_rtcp(out, buf, &l, size)
		   : sec_srtp_protect_rtp(out, buf, &l, size);
	if (err)
		goto out;
	FUZZ_CHECK(l >= len && l <= size);

	copy = malloc(l);
	if (!copy)
		goto out;
	memcpy(copy, buf, l);

	if (tamper >= 0 && (size_t)tamper < l)
		buf[tamper] ^= 0x01;
	else
		tamper = -1;

	l2 = l;
	err = unprotect(inb, rtcp, buf, &l2);
	if (tamper >= 0) {
		FUZZ_CHECK(err != 0);
	}
	else if (!err) {
		FUZZ_CHECK(l2 == len);
		FUZZ_CHECK(!memcmp(buf, p, len));
	}

	if (replay) {
		l2 = l;
		memcpy(buf, copy, l);
		err = unprotect(inb, rtcp, buf, &l2);
		FUZZ_CHECK(err != 0);
	}

 out:
	free(copy);
	free(buf);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum sdes_suite suites[4] = {
		SDES_AES_CM_128_HMAC_SHA1_80, SDES_AES_CM_128_HMAC_SHA1_32,
		SDES_AEAD_AES_128_GCM, SDES_AES_CM_128_HMAC_SHA1_80};
	struct fuzz_in in = {data, size};
	struct sec_srtp *out = NULL, *inb = NULL;
	struct sdes_crypto c;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = fin_u8(&in);

	memset(&c, 0, sizeof(c));
	c.tag = 1;
	c.suite = suites[sel & 3];
	c.keysalt_len = sdes_suite_keysalt_len(c.suite);
	for (size_t i = 0; i < c.keysalt_len; i++)
		c.keysalt[i] = (uint8_t)(i * 37 + 11);
	if (sel & 4) {
		c.mki_len = 2;
		c.mki = 0x1234;
	}

	if (sec_srtp_alloc(&out, &c, SEC_SRTP_OUTBOUND) ||
	    sec_srtp_alloc(&inb, &c, SEC_SRTP_INBOUND))
		goto out;

	for (int k = 0; k < MAX_OPS && in.n >= 3; k++) {
		uint8_t op = fin_u8(&in);
		size_t want = fin_u16(&in) % MAX_LEN, len;
		const uint8_t *p;
		bool rtcp = op & 1;
		int tamper;

		switch ((op >> 1) & 3) {

		case 0: {
			uint8_t *buf;
			size_t l;

			p = fin_bytes(&in, want, &len);
			buf = malloc(len ? len : 1);
			if (!buf)
				goto out;
			memcpy(buf, p, len);
			l = len;
			if (!unprotect(inb, rtcp, buf, &l))
				FUZZ_CHECK(l <= len);
			free(buf);
			break;
		}

		case 2:
			tamper = fin_u8(&in);
			p = fin_bytes(&in, want, &len);
			round_trip(out, inb, rtcp, p, len, tamper, false);
			break;

		default:
			p = fin_bytes(&in, want, &len);
			round_trip(out, inb, rtcp, p, len, -1,
				   ((op >> 1) & 3) == 3);
			break;
		}
	}

 out:
	mem_deref(inb);
	mem_deref(out);

	return 0;
}
