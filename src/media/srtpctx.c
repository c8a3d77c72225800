/**
 * @file srtpctx.c  libsrtp2 contexts per leg and direction
 */
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <limits.h>
#include <errno.h>
#include <pthread.h>
#include <sys/types.h>
#include <re.h>
#include <srtp2/srtp.h>

#include "media/srtpctx.h"

_Static_assert(SEC_SRTP_TRAILER_MAX >= SRTP_MAX_TRAILER_LEN + 4,
	       "protect buffers must leave libsrtp its documented room");

/* Shortest packets libsrtp can work on: the fixed headers. */
#define RTP_HDR_MIN   12
#define RTCP_HDR_MIN  8

struct sec_srtp {
	srtp_t ctx;
	enum sdes_suite suite;
	enum sec_srtp_dir dir;
	unsigned use_mki;
	uint64_t lifetime;        /* packets per direction, 0 = libsrtp's */
	uint64_t rtp_used, rtcp_used;
	struct sec_srtp_stats stats;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status = srtp_err_status_init_fail;


static void init_run(void)
{
	init_status = srtp_init();
}


int sec_srtp_init(void)
{
	if (pthread_once(&init_once, init_run))
		return EPROTO;

	return init_status == srtp_err_status_ok ? 0 : EPROTO;
}


static void destructor(void *arg)
{
	struct sec_srtp *s = arg;

	if (s->ctx)
		srtp_dealloc(s->ctx);
}


/* RFC 4568 6.2: the _32 suite keeps an 80-bit tag for SRTCP. */
static int policy_set(srtp_policy_t *p, enum sdes_suite suite)
{
	switch (suite) {

	case SDES_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		return 0;

	case SDES_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		return 0;

	case SDES_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		return 0;

	default:
		return ENOTSUP;
	}
}


int sec_srtp_alloc(struct sec_srtp **sp, const struct sdes_crypto *crypto,
		   enum sec_srtp_dir dir)
{
	uint8_t key[SDES_KEYSALT_MAX];
	uint8_t mki_id[SDES_MKI_MAX];
	srtp_master_key_t mkey, *mkeys[1];
	srtp_policy_t pol;
	struct sec_srtp *s;
	srtp_err_status_t st;
	int err;

	if (!sp || !crypto || !crypto->keysalt_len ||
	    crypto->mki_len > SDES_MKI_MAX ||
	    crypto->keysalt_len != sdes_suite_keysalt_len(crypto->suite) ||
	    (dir != SEC_SRTP_OUTBOUND && dir != SEC_SRTP_INBOUND))
		return EINVAL;

	err = sec_srtp_init();
	if (err)
		return err;

	memset(&pol, 0, sizeof(pol));
	err = policy_set(&pol, crypto->suite);
	if (err)
		return err;

	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;

	s->suite = crypto->suite;
	s->dir = dir;
	s->lifetime = crypto->lifetime;

	memcpy(key, crypto->keysalt, crypto->keysalt_len);

	pol.ssrc.type = dir == SEC_SRTP_OUTBOUND ?
		ssrc_any_outbound : ssrc_any_inbound;
	pol.window_size = SEC_SRTP_WINDOW;
	pol.allow_repeat_tx = 0;
	pol.next = NULL;

	if (crypto->mki_len) {
		/* the MKI goes on the wire big-endian in mki_len bytes */
		for (unsigned i = 0; i < crypto->mki_len; i++)
			mki_id[i] = (uint8_t)(crypto->mki >>
					      (8 * (crypto->mki_len - 1 - i)));
		mkey.key = key;
		mkey.mki_id = mki_id;
		mkey.mki_size = crypto->mki_len;
		mkeys[0] = &mkey;
		pol.keys = mkeys;
		pol.num_master_keys = 1;
		s->use_mki = 1;
	}
	else {
		pol.key = key;
	}

	st = srtp_create(&s->ctx, &pol);
	explicit_bzero(key, sizeof(key));
	if (st != srtp_err_status_ok) {
		s->ctx = NULL;
		mem_deref(s);
		return st == srtp_err_status_alloc_fail ? ENOMEM : EPROTO;
	}

	*sp = s;

	return 0;
}


static int status_err(struct sec_srtp *s, srtp_err_status_t st, bool rtcp)
{
	switch (st) {

	case srtp_err_status_ok:
		if (rtcp) {
			++s->stats.rtcp_ok;
			++s->rtcp_used;
		}
		else {
			++s->stats.rtp_ok;
			++s->rtp_used;
		}
		return 0;

	/* an MKI we never announced (AEAD puts it after the tag, RFC 7714,
	 * so a flipped trailing byte lands here): equally unauthenticated */
	case srtp_err_status_auth_fail:
	case srtp_err_status_bad_mki:
		++s->stats.auth_fail;
		return EBADMSG;

	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		++s->stats.replay_fail;
		return EALREADY;

	default:
		++s->stats.other_fail;
		return EPROTO;
	}
}


/* Packets protected, or authenticated on receipt, count against the
 * lifetime; forged packets do not, or a flood of garbage could expire
 * the peer's key. */
static bool key_expired(struct sec_srtp *s, bool rtcp)
{
	const uint64_t used = rtcp ? s->rtcp_used : s->rtp_used;

	if (s->lifetime && used >= s->lifetime) {
		++s->stats.expired;
		return true;
	}

	return false;
}


static int protect(struct sec_srtp *s, uint8_t *buf, size_t *len,
		   size_t size, bool rtcp)
{
	srtp_err_status_t st;
	int n;

	if (!s || !buf || !len || s->dir != SEC_SRTP_OUTBOUND)
		return EINVAL;
	if (*len < (rtcp ? RTCP_HDR_MIN : RTP_HDR_MIN) || *len > size) {
		++s->stats.other_fail;
		return EINVAL;
	}
	if (size - *len < SEC_SRTP_TRAILER_MAX ||
	    *len > INT_MAX - SEC_SRTP_TRAILER_MAX) {
		++s->stats.other_fail;
		return EOVERFLOW;
	}

	if (key_expired(s, rtcp))
		return EKEYEXPIRED;

	n = (int)*len;
	if (rtcp)
		st = srtp_protect_rtcp_mki(s->ctx, buf, &n, s->use_mki, 0);
	else
		st = srtp_protect_mki(s->ctx, buf, &n, s->use_mki, 0);

	if (st == srtp_err_status_ok)
		*len = (size_t)n;

	return status_err(s, st, rtcp);
}


static int unprotect(struct sec_srtp *s, uint8_t *buf, size_t *len,
		     bool rtcp)
{
	srtp_err_status_t st;
	int n;

	if (!s || !buf || !len || s->dir != SEC_SRTP_INBOUND)
		return EINVAL;
	if (*len < (rtcp ? RTCP_HDR_MIN : RTP_HDR_MIN) || *len > INT_MAX) {
		++s->stats.other_fail;
		return EINVAL;
	}

	if (key_expired(s, rtcp))
		return EKEYEXPIRED;

	n = (int)*len;
	if (rtcp)
		st = srtp_unprotect_rtcp_mki(s->ctx, buf, &n, s->use_mki);
	else
		st = srtp_unprotect_mki(s->ctx, buf, &n, s->use_mki);

	if (st == srtp_err_status_ok)
		*len = (size_t)n;

	return status_err(s, st, rtcp);
}


int sec_srtp_protect_rtp(struct sec_srtp *s, uint8_t *buf, size_t *len,
			 size_t size)
{
	return protect(s, buf, len, size, false);
}


int sec_srtp_protect_rtcp(struct sec_srtp *s, uint8_t *buf, size_t *len,
			  size_t size)
{
	return protect(s, buf, len, size, true);
}


int sec_srtp_unprotect_rtp(struct sec_srtp *s, uint8_t *buf, size_t *len)
{
	return unprotect(s, buf, len, false);
}


int sec_srtp_unprotect_rtcp(struct sec_srtp *s, uint8_t *buf, size_t *len)
{
	return unprotect(s, buf, len, true);
}


const struct sec_srtp_stats *sec_srtp_stats(const struct sec_srtp *s)
{
	return s ? &s->stats : NULL;
}


int sec_srtp_debug(struct re_printf *pf, const struct sec_srtp *s)
{
	if (!s)
		return re_hprintf(pf, "srtp: (none)");

	return re_hprintf(pf, "srtp: %s %s%s rtp=%llu rtcp=%llu auth_fail=%llu"
			  " replay=%llu expired=%llu other=%llu",
			  sdes_suite_name(s->suite),
			  s->dir == SEC_SRTP_OUTBOUND ? "outbound" : "inbound",
			  s->use_mki ? " mki" : "",
			  (unsigned long long)s->stats.rtp_ok,
			  (unsigned long long)s->stats.rtcp_ok,
			  (unsigned long long)s->stats.auth_fail,
			  (unsigned long long)s->stats.replay_fail,
			  (unsigned long long)s->stats.expired,
			  (unsigned long long)s->stats.other_fail);
}
