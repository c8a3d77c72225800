/**
 * @file fuzz_sdp.c  SDP offer/answer handling as the call layer does it:
 * sdp_decode() into our session, sdpneg_decide(), sdpneg_apply(),
 * sdp_encode() of the answer, sdes_select() of an a=crypto line, then the
 * same body again as a re-INVITE (sdpneg_formats_reset first).
 *
 * Input: byte 0 = flags (bit 0: treat as an answer to our offer; bit 1:
 * restricted codec preferences; bit 2: no telephone-event; bit 3: re-offer
 * round), the rest is the SDP body.
 */
#define _GNU_SOURCE  /* memmem */
#include <stdbool.h>
#include <string.h>
#include <re.h>

#include "media/sdes.h"
#include "sip/sdpneg.h"
#include "fuzz_common.h"

enum { LPORT = 40000, LPORT_RTCP = 40001 };


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
	struct mbuf *mb;
	struct sa laddr;
	uint8_t flags;
	bool offer;

	if (size < 1)
		return 0;
	flags = data[0];
	offer = !(flags & 1);

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

	mb = mbuf_alloc(size);
	if (!mb)
		goto out;
	(void)mbuf_write_mem(mb, data + 1, size - 1);

	if (!offer) {
		/* an answer to our own (late) offer */
		struct mbuf *ours = NULL;

		(void)sdpneg_offer_prepare(sess, &prefs, LPORT, LPORT_RTCP);
		(void)sdp_encode(&ours, sess, true);
		mem_deref(ours);
	}

	round_trip(sess, mb, &prefs, offer);

	if (flags & 8) {
		/* the same body as a re-INVITE in the dialog */
		(void)sdpneg_formats_reset(sess, &prefs);
		round_trip(sess, mb, &prefs, true);
	}

 out:
	mem_deref(mb);
	mem_deref(sess);

	return 0;
}
