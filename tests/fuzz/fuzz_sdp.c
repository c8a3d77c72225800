/**
 * @file fuzz_sdp.c  SDP offer/answer handling as the call layer does it:
 * sdp_decode() into our session, sdpneg_decide(), sdpneg_apply(),
 * sdp_encode() of the answer, sdes_select() of an a=crypto line, then the
 * same body again as a re-INVITE (sdpneg_formats_reset first).
 *
 * With an SRTP policy (off / optional / mandatory) the SDES layer on top
 * (sec_sdp.c) decides SRTP and puts our a=crypto on the answer, as
 * call.c does.
 *
 * Input: byte 0 = flags (bit 0: treat as an answer to our offer; bit 1:
 * restricted codec preferences; bit 2: no telephone-event; bit 3: re-offer
 * round; bits 4-5: SRTP policy 0 off, 1 optional, 2 mandatory, 3 = none:
 * sdpneg alone), the rest is the SDP body.
 */
#define _GNU_SOURCE  /* memmem */
#include <stdbool.h>
#include <string.h>
#include <re.h>

#include "media/sdes.h"
#include "sip/sdpneg.h"
#include "sip/sec_sdp.h"
#include "fuzz_common.h"

enum { LPORT = 40000, LPORT_RTCP = 40001 };


static int policy = -1;                  /* -1: no sec_sdp layer */
static struct sdes_crypto ours;          /* our late-offer key    */
static struct sdpneg_result prev;
static bool have_prev;


static void round_trip(struct sdp_session *sess, struct mbuf *mb,
		       const struct sdpneg_prefs *prefs, bool offer)
{
	struct sdpneg_result res;
	struct sdes_crypto crypto;
	char reason[SDES_REASON_SIZE];
	struct mbuf *out = NULL;
	int err;

	mb->pos = 0;
	if (sdp_decode(sess, mb, offer))
		return;

	memset(&res, 0xa5, sizeof(res));
	err = sdpneg_decide(&res, sess, prefs, offer);
	if (err) {
		/* the reason goes into a Warning header: must be a string
		   and the code an error the call layer can send */
		FUZZ_CHECK(memchr(res.reason, '\0', sizeof(res.reason)));
		FUZZ_CHECK(res.scode >= 400 && res.scode <= 699);
		return;
	}

	FUZZ_CHECK(res.codec.id != CODEC_NONE);
	FUZZ_CHECK(res.codec.ptime_ms >= SDPNEG_PTIME_MIN &&
		   res.codec.ptime_ms <= SDPNEG_PTIME_MAX);
	FUZZ_CHECK(res.codec.channels >= 1 && res.codec.channels <= 2);

	if (policy >= 0) {
		err = offer ? sec_sdp_offer(&res, sess, (enum cfg_srtp)policy,
					    have_prev ? &prev : NULL)
			    : sec_sdp_answer(&res, sess,
					     (enum cfg_srtp)policy, &ours);
		if (err) {
			FUZZ_CHECK(memchr(res.reason, '\0',
					  sizeof(res.reason)));
			FUZZ_CHECK(res.scode >= 400 && res.scode <= 699);
			return;
		}
		if (policy == CFG_SRTP_MANDATORY)
			FUZZ_CHECK(res.srtp);
		if (policy == CFG_SRTP_OFF)
			FUZZ_CHECK(!res.srtp);
		if (res.srtp)
			FUZZ_CHECK(res.srtp_tx.keysalt_len > 0 &&
				   res.srtp_rx.keysalt_len ==
				   res.srtp_tx.keysalt_len);
		sdes_crypto_wipe(&prev.srtp_tx);
		sdes_crypto_wipe(&prev.srtp_rx);
		prev = res;
		have_prev = true;
	}

	(void)sdes_select(&crypto, sdpneg_audio(sess), reason,
			  sizeof(reason));
	sdes_crypto_wipe(&crypto);

	if (!offer)
		return;

	if (sdpneg_apply(sess, &res, LPORT, res.rtcp_mux ? 0 : LPORT_RTCP))
		return;

	if (!sdp_encode(&out, sess, false)) {
		/* the accepted line carries our port. (Not checked: that the
		   whole answer decodes again -- libre's sdp_decode takes an
		   m= line with an empty proto, which the answer then echoes
		   as "m=audio 0  0"; see docs/SECURITY.md) */
		static const char want[] = "m=audio 40000 ";

		FUZZ_CHECK(memmem(out->buf, out->end, want,
				  sizeof(want) - 1) != NULL);
	}
	mem_deref(out);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_session *sess = NULL;
	struct sdpneg_prefs prefs;
	struct mbuf *mb = NULL;
	struct sa laddr;
	uint8_t flags;
	bool offer;

	if (size < 1)
		return 0;
	flags = data[0];
	offer = !(flags & 1);

	policy = (flags >> 4 & 3) == 3 ? -1 : (flags >> 4 & 3);
	have_prev = false;
	memset(&ours, 0, sizeof(ours));

	sdpneg_prefs_default(&prefs);
	if (flags & 2) {
		prefs.codecs[0] = CODEC_PCMA;
		prefs.codecs[1] = CODEC_G722;
		prefs.ncodecs = 2;
		prefs.ptime_ms = 30;
	}
	if (flags & 4)
		prefs.telev = false;

	sa_set_str(&laddr, "127.0.0.1", 0);
	if (sdpneg_session_alloc(&sess, &laddr, &prefs))
		return 0;
	if (policy >= 0 && sec_sdp_prepare(sess, (enum cfg_srtp)policy))
		goto out;

	mb = mbuf_alloc(size);
	if (!mb)
		goto out;
	(void)mbuf_write_mem(mb, data + 1, size - 1);

	if (!offer) {
		/* an answer to our own (late) offer */
		struct mbuf *enc = NULL;

		(void)sdpneg_offer_prepare(sess, &prefs, LPORT, LPORT_RTCP);
		if (policy >= 0)
			(void)sec_sdp_offer_prepare(sess,
						    (enum cfg_srtp)policy,
						    &ours);
		(void)sdp_encode(&enc, sess, true);
		mem_deref(enc);
	}

	round_trip(sess, mb, &prefs, offer);

	if (flags & 8) {
		/* the same body as a re-INVITE in the dialog */
		(void)sdpneg_formats_reset(sess, &prefs);
		round_trip(sess, mb, &prefs, true);
	}

 out:
	sdes_crypto_wipe(&ours);
	mem_deref(mb);
	mem_deref(sess);

	return 0;
}
