/**
 * @file sdes.h  RFC 4568 SDES: the SDP a=crypto attribute
 *
 *   a=crypto:<tag> <suite> inline:<base64 key||salt>[|<lifetime>][|<mki>:<len>]
 *            [<session-params>]
 *
 * Supported suites: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32
 * (RFC 4568, 16-byte key + 14-byte salt) and AEAD_AES_128_GCM (RFC 7714,
 * 16-byte key + 12-byte salt). What we accept beyond the bare key:
 * one key only; a lifetime (decimal or 2^n) up to 2^48; an MKI of 1-4
 * bytes; the session parameters KDR=0 and WSH=<n>. Everything else is
 * rejected with a reason, so the caller can skip that crypto line and
 * try the next one (or answer 488).
 *
 * Key material never goes into logs: print with sdes_crypto_print(),
 * which masks it; wipe with sdes_crypto_wipe() when done.
 */
#ifndef CHORUS_MEDIA_SDES_H
#define CHORUS_MEDIA_SDES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <re.h>

/** Longest key||salt we handle (AES-CM-128: 16 + 14). */
#define SDES_KEYSALT_MAX   30
/** Largest MKI length in bytes we accept. */
#define SDES_MKI_MAX       4
/** Largest tag RFC 4568 allows: 1*9DIGIT. */
#define SDES_TAG_MAX       999999999u
/** Lifetime upper bound for SRTP (RFC 3711: 2^48 packets). */
#define SDES_LIFETIME_MAX  (UINT64_C(1) << 48)
/** Size for sdes_crypto_decode()'s reason buffer. */
#define SDES_REASON_SIZE   96

enum sdes_suite {
	SDES_SUITE_NONE = 0,
	SDES_AES_CM_128_HMAC_SHA1_80,
	SDES_AES_CM_128_HMAC_SHA1_32,
	SDES_AEAD_AES_128_GCM,
};

struct sdes_crypto {
	uint32_t tag;
	enum sdes_suite suite;
	uint8_t keysalt[SDES_KEYSALT_MAX];
	size_t keysalt_len;            /**< sdes_suite_keysalt_len(suite) */
	uint64_t lifetime;             /**< packets; 0 = not given        */
	bool lifetime_pow2;            /**< written as 2^n                */
	uint32_t mki;                  /**< MKI value, when mki_len > 0   */
	uint8_t mki_len;               /**< 0 = no MKI, else 1..4 bytes   */
	uint32_t wsh;                  /**< WSH= window size hint, 0 = none */
};

/**
 * Parse an a=crypto value ("1 AES_CM_128_HMAC_SHA1_80 inline:..."), with
 * or without the leading "a=crypto:" / "crypto:".
 * @return 0, or EBADMSG (unparseable) / ENOTSUP (valid but not something
 *         we do) with a reason (no key material in it) in reason[].
 */
int sdes_crypto_decode(struct sdes_crypto *c, char *reason, size_t rsz,
		       const char *line, size_t len);

/** %H printer for the attribute value (no "a=crypto:"): carries the key. */
int sdes_crypto_encode(struct re_printf *pf, const struct sdes_crypto *c);

/** %H printer for logs: like encode, key replaced by a mask. */
int sdes_crypto_print(struct re_printf *pf, const struct sdes_crypto *c);

/** Fill c with a fresh random key from the kernel CSPRNG. */
int sdes_crypto_generate(struct sdes_crypto *c, uint32_t tag,
			 enum sdes_suite suite);

/** Overwrite the key material in a way the compiler keeps. */
void sdes_crypto_wipe(struct sdes_crypto *c);

/**
 * Choose from the remote a=crypto lines of an SDP media line: the first
 * one we can use, in the offerer's order (its preference).
 * @return 0, or ENOENT when none is usable (reason: why the last one
 *         was refused, or that there was none).
 */
int sdes_select(struct sdes_crypto *c, const struct sdp_media *m,
		char *reason, size_t rsz);

/**
 * Our side of the exchange for their chosen line (RFC 4568 6.1: the
 * answer carries the offer's tag and suite with the answerer's own key).
 * No lifetime or MKI: we never rekey.
 */
int sdes_crypto_answer(struct sdes_crypto *ours,
		       const struct sdes_crypto *theirs);

/** Put our crypto on the local media line (replacing any a=crypto). */
int sdes_media_set(struct sdp_media *m, const struct sdes_crypto *ours);

const char *sdes_suite_name(enum sdes_suite suite);
enum sdes_suite sdes_suite_from_name(const struct pl *name);
size_t sdes_suite_keysalt_len(enum sdes_suite suite);

#endif
