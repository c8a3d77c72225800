/**
 * @file test_sec_sdp.c  SDES-SRTP policy in offer/answer, through libre's
 * sdp_decode/sdp_encode like the call layer does it.
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

#include "sip/sdpneg.h"
#include "sip/sec_sdp.h"

#define KEY_A "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define KEY_B "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CB"

static const char *offer_fmt =
	"v=0\r\n"
	"o=- 1 %u IN IP4 192.0.2.10\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.10\r\n"
	"t=0 0\r\n"
	"m=audio 4000 %s 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"%s";


struct neg {
	struct sdp_session *sess;
	struct sdpneg_prefs prefs;
	struct sdpneg_result res;
	char answer[2048];
};


static int run_offer(struct neg *n, enum cfg_srtp policy, unsigned ver,
		     const char *proto, const char *attrs,
		     const struct sdpneg_result *prev)
{
	struct mbuf *mb = mbuf_alloc(1024), *ans = NULL;
	int err;

	assert_non_null(mb);
	assert_int_equal(mbuf_printf(mb, offer_fmt, ver, proto, attrs), 0);
	mb->pos = 0;

	assert_int_equal(sdpneg_formats_reset(n->sess, &n->prefs), 0);
	assert_int_equal(sec_sdp_prepare(n->sess, policy), 0);
	assert_int_equal(sdp_decode(n->sess, mb, true), 0);
	mem_deref(mb);

	err = sdpneg_decide(&n->res, n->sess, &n->prefs, true);
	if (!err)
		err = sec_sdp_offer(&n->res, n->sess, policy, prev);
	if (err)
		return err;

	assert_int_equal(sdpneg_apply(n->sess, &n->res, 5000, 5001), 0);
	assert_int_equal(sdp_encode(&ans, n->sess, false), 0);
	n->answer[0] = '\0';
	(void)re_snprintf(n->answer, sizeof(n->answer), "%b", ans->buf,
			  ans->end);
	mem_deref(ans);

	return 0;
}


static void neg_init(struct neg *n)
{
	struct sa laddr;

	memset(n, 0, sizeof(*n));
	sdpneg_prefs_default(&n->prefs);
	assert_int_equal(sa_set_str(&laddr, "192.0.2.1", 0), 0);
	assert_int_equal(sdpneg_session_alloc(&n->sess, &laddr, &n->prefs),
			 0);
}


static void test_savp_optional(void **state)
{
	struct neg n;
	(void)state;

	neg_init(&n);
	assert_int_equal(run_offer(&n, CFG_SRTP_OPTIONAL, 1, "RTP/SAVP",
		"a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:" KEY_A "\r\n",
		NULL), 0);
	assert_true(n.res.srtp);
	assert_int_equal(n.res.srtp_rx.suite, SDES_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(n.res.srtp_tx.suite, SDES_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(n.res.srtp_tx.tag, 3);
	/* our own key, not an echo of theirs */
	assert_memory_not_equal(n.res.srtp_tx.keysalt, n.res.srtp_rx.keysalt,
				30);
	assert_non_null(strstr(n.answer, "m=audio 5000 RTP/SAVP 0"));
	assert_non_null(strstr(n.answer,
			       "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:"));
	assert_null(strstr(n.answer, KEY_A));

	mem_deref(n.sess);
}


static void test_gcm_and_order(void **state)
{
	struct neg n;
	(void)state;

	neg_init(&n);
	/* an unknown suite first: skipped, the offerer's next choice wins */
	assert_int_equal(run_offer(&n, CFG_SRTP_MANDATORY, 1, "RTP/SAVP",
		"a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:"
		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU2Nzg5QUJDREVGR0hJ"
		"SktMTU5PUFFSU1RVVldY\r\n"
		"a=crypto:2 AEAD_AES_128_GCM inline:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHA==\r\n",
		NULL), 0);
	assert_true(n.res.srtp);
	assert_int_equal(n.res.srtp_tx.suite, SDES_AEAD_AES_128_GCM);
	assert_int_equal(n.res.srtp_tx.tag, 2);

	mem_deref(n.sess);
}


static void test_policy_refusals(void **state)
{
	struct neg n;
	(void)state;

	/* mandatory: plain RTP/AVP -> 488 with a reason */
	neg_init(&n);
	assert_int_not_equal(run_offer(&n, CFG_SRTP_MANDATORY, 1, "RTP/AVP",
				       "", NULL), 0);
	assert_int_equal(n.res.scode, 488);
	assert_non_null(strstr(n.res.reason, "SRTP required"));
	assert_false(n.res.srtp);
	mem_deref(n.sess);

	/* off: RTP/SAVP does not match our line -> 488 */
	neg_init(&n);
	assert_int_not_equal(run_offer(&n, CFG_SRTP_OFF, 1, "RTP/SAVP",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "\r\n",
		NULL), 0);
	assert_int_equal(n.res.scode, 488);
	mem_deref(n.sess);

	/* RTP/SAVP with only unusable crypto -> 488, reason without key */
	neg_init(&n);
	assert_int_not_equal(run_offer(&n, CFG_SRTP_OPTIONAL, 1, "RTP/SAVP",
		"a=crypto:1 F8_128_HMAC_SHA1_80 inline:" KEY_A "\r\n", NULL),
		0);
	assert_int_equal(n.res.scode, 488);
	assert_null(strstr(n.res.reason, "WVNf"));
	mem_deref(n.sess);

	/* optional: plain RTP/AVP stays plain, no a=crypto in the answer */
	neg_init(&n);
	assert_int_equal(run_offer(&n, CFG_SRTP_OPTIONAL, 1, "RTP/AVP", "",
				   NULL), 0);
	assert_false(n.res.srtp);
	assert_null(strstr(n.answer, "a=crypto"));
	mem_deref(n.sess);

	/* off: a=crypto on RTP/AVP is ignored */
	neg_init(&n);
	assert_int_equal(run_offer(&n, CFG_SRTP_OFF, 1, "RTP/AVP",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "\r\n",
		NULL), 0);
	assert_false(n.res.srtp);
	assert_null(strstr(n.answer, "a=crypto"));
	mem_deref(n.sess);
}


static void test_avp_crypto_and_rekey(void **state)
{
	struct sdpneg_result first;
	struct neg n;
	(void)state;

	neg_init(&n);
	/* RTP/AVP carrying a=crypto: SRTP, answered on RTP/AVP */
	assert_int_equal(run_offer(&n, CFG_SRTP_MANDATORY, 1, "RTP/AVP",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "\r\n",
		NULL), 0);
	assert_true(n.res.srtp);
	assert_non_null(strstr(n.answer, "RTP/AVP 0"));
	first = n.res;

	/* same key again (re-INVITE): our key stays */
	assert_int_equal(run_offer(&n, CFG_SRTP_MANDATORY, 2, "RTP/AVP",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_A "\r\n",
		&first), 0);
	assert_memory_equal(n.res.srtp_tx.keysalt, first.srtp_tx.keysalt, 30);

	/* new key from the peer: new key of ours too */
	assert_int_equal(run_offer(&n, CFG_SRTP_MANDATORY, 3, "RTP/SAVP",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "\r\n",
		&first), 0);
	assert_memory_not_equal(n.res.srtp_tx.keysalt, first.srtp_tx.keysalt,
				30);
	assert_non_null(strstr(n.answer, "RTP/SAVP 0"));

	/* optional room, back to plain RTP: a=crypto leaves the answer */
	assert_int_equal(run_offer(&n, CFG_SRTP_OPTIONAL, 4, "RTP/AVP", "",
				   &first), 0);
	assert_false(n.res.srtp);
	assert_null(strstr(n.answer, "a=crypto"));

	mem_deref(n.sess);
}


static void test_own_offer_and_answer(void **state)
{
	struct sdes_crypto ours;
	struct mbuf *mb = NULL;
	struct sdpneg_result res;
	struct neg n;
	char txt[2048];
	(void)state;

	neg_init(&n);
	assert_int_equal(sdpneg_offer_prepare(n.sess, &n.prefs, 5000, 5001),
			 0);
	assert_int_equal(sec_sdp_offer_prepare(n.sess, CFG_SRTP_MANDATORY,
					       &ours), 0);
	assert_int_equal(ours.suite, SDES_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(sdp_encode(&mb, n.sess, true), 0);
	(void)re_snprintf(txt, sizeof(txt), "%b", mb->buf, mb->end);
	mem_deref(mb);
	assert_non_null(strstr(txt, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
			       "inline:"));

	/* an answer without a=crypto is refused when SRTP is mandatory */
	mb = mbuf_alloc(512);
	assert_int_equal(mbuf_printf(mb, offer_fmt, 1, "RTP/AVP", ""), 0);
	mb->pos = 0;
	assert_int_equal(sdp_decode(n.sess, mb, false), 0);
	mem_deref(mb);
	assert_int_equal(sdpneg_decide(&res, n.sess, &n.prefs, false), 0);
	assert_int_not_equal(sec_sdp_answer(&res, n.sess, CFG_SRTP_MANDATORY,
					    &ours), 0);
	/* ... and taken as plain RTP when optional */
	assert_int_equal(sdpneg_decide(&res, n.sess, &n.prefs, false), 0);
	assert_int_equal(sec_sdp_answer(&res, n.sess, CFG_SRTP_OPTIONAL,
					&ours), 0);
	assert_false(res.srtp);

	/* an answer with our tag and suite: SRTP both ways */
	mb = mbuf_alloc(512);
	assert_int_equal(mbuf_printf(mb, offer_fmt, 2, "RTP/AVP",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B "\r\n"),
		0);
	mb->pos = 0;
	assert_int_equal(sdp_decode(n.sess, mb, false), 0);
	mem_deref(mb);
	assert_int_equal(sdpneg_decide(&res, n.sess, &n.prefs, false), 0);
	assert_int_equal(sec_sdp_answer(&res, n.sess, CFG_SRTP_MANDATORY,
					&ours), 0);
	assert_true(res.srtp);
	assert_memory_equal(res.srtp_tx.keysalt, ours.keysalt, 30);

	mem_deref(n.sess);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_savp_optional),
		cmocka_unit_test(test_gcm_and_order),
		cmocka_unit_test(test_policy_refusals),
		cmocka_unit_test(test_avp_crypto_and_rekey),
		cmocka_unit_test(test_own_offer_and_answer),
	};
	int r;

	(void)libre_init();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	libre_close();

	return r;
}
