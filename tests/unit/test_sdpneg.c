/**
 * @file test_sdpneg.c  SDP offer/answer table: real libre sdp_decode of
 * literal offers, our decision, and the encoded answer text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>

#include "sip/sdpneg.h"

enum { LPORT = 30000, LPORT_RTCP = 30001 };

struct neg {
	struct sdp_session *sess;
	struct sdpneg_result res;
	int err;            /* sdpneg_decide() */
	int derr;           /* sdp_decode()    */
	char answer[2048];  /* encoded answer when err == 0 */
};

#define SDP_HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\n" \
	"c=IN IP4 192.0.2.10\r\nt=0 0\r\n"


static int decode(struct sdp_session *sess, const char *sdp, bool offer)
{
	struct mbuf *mb = mbuf_alloc(strlen(sdp) + 1);
	int err;

	assert_non_null(mb);
	assert_int_equal(0, mbuf_write_str(mb, sdp));
	mb->pos = 0;
	err = sdp_decode(sess, mb, offer);
	mem_deref(mb);

	return err;
}


/* Run one offer through decode, decide, apply and encode. */
static void negotiate_on(struct neg *n, const char *sdp,
			 const struct sdpneg_prefs *prefs)
{
	struct mbuf *mb = NULL;

	n->answer[0] = '\0';
	n->derr = decode(n->sess, sdp, true);
	if (n->derr)
		return;

	n->err = sdpneg_decide(&n->res, n->sess, prefs, true);
	if (n->err)
		return;

	assert_int_equal(0, sdpneg_apply(n->sess, &n->res, LPORT,
					 n->res.rtcp_mux ? 0 : LPORT_RTCP));
	assert_int_equal(0, sdp_encode(&mb, n->sess, false));
	assert_true(mbuf_get_left(mb) < sizeof(n->answer));
	memcpy(n->answer, mbuf_buf(mb), mbuf_get_left(mb));
	n->answer[mbuf_get_left(mb)] = '\0';
	mem_deref(mb);
}


static void negotiate(struct neg *n, const char *sdp,
		      const struct sdpneg_prefs *prefs)
{
	struct sdpneg_prefs dflt;
	struct sa laddr;

	memset(n, 0, sizeof(*n));
	if (!prefs) {
		sdpneg_prefs_default(&dflt);
		prefs = &dflt;
	}

	assert_int_equal(0, sa_set_str(&laddr, "198.51.100.1", 0));
	assert_int_equal(0, sdpneg_session_alloc(&n->sess, &laddr, prefs));
	negotiate_on(n, sdp, prefs);
}


static void neg_free(struct neg *n)
{
	n->sess = mem_deref(n->sess);
}


static void assert_has(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("missing \"%s\" in:\n%s", needle, text);
}


static void assert_lacks(const char *text, const char *needle)
{
	if (strstr(text, needle))
		fail_msg("unexpected \"%s\" in:\n%s", needle, text);
}


static void opus_only_offer_gets_opus_with_peer_pt(void **state)
{
	struct neg n;
	(void)state;

	negotiate(&n, SDP_HEAD
		  "m=audio 4000 RTP/AVP 96\r\n"
		  "a=rtpmap:96 opus/48000/2\r\n"
		  "a=fmtp:96 useinbandfec=1\r\n", NULL);

	assert_int_equal(0, n.derr);
	assert_int_equal(0, n.err);
	assert_int_equal(CODEC_OPUS, n.res.codec.id);
	assert_int_equal(96, n.res.codec.pt);
	assert_int_equal(48000, n.res.codec.rtp_clock);
	assert_int_equal(48000, n.res.codec.srate);
	assert_int_equal(1, n.res.codec.channels);
	assert_true(n.res.codec.fec);
	assert_false(n.res.codec.dtx);
	assert_int_equal(20, n.res.codec.ptime_ms);
	assert_int_equal(-1, n.res.telev_pt);
	assert_int_equal(MEDIA_SENDRECV, n.res.dir);
	assert_false(n.res.hold);
	assert_int_equal(4000, sa_port(&n.res.raddr_rtp));
	assert_int_equal(4001, sa_port(&n.res.raddr_rtcp));

	assert_has(n.answer, "m=audio 30000 RTP/AVP 96\r\n");
	assert_has(n.answer, "a=rtpmap:96 opus/48000/2\r\n");
	assert_has(n.answer, "a=fmtp:96 minptime=10;useinbandfec=1\r\n");
	assert_has(n.answer, "c=IN IP4 198.51.100.1\r\n");
	assert_has(n.answer, "a=sendrecv\r\n");
	assert_lacks(n.answer, "PCMU");
	assert_lacks(n.answer, "G722");
	neg_free(&n);
}


static void g722_keeps_8000_in_sdp_but_16k_audio(void **state)
{
	struct neg n;
	(void)state;

	negotiate(&n, SDP_HEAD
		  "m=audio 4000 RTP/AVP 9 0\r\n"
		  "a=rtpmap:9 G722/8000\r\n", NULL);

	assert_int_equal(0, n.err);
	assert_int_equal(CODEC_G722, n.res.codec.id);
	assert_int_equal(9, n.res.codec.pt);
	assert_int_equal(8000, n.res.codec.rtp_clock);
	assert_int_equal(16000, n.res.codec.srate);
	assert_has(n.answer, "m=audio 30000 RTP/AVP 9\r\n");
	assert_has(n.answer, "a=rtpmap:9 G722/8000\r\n");
	neg_free(&n);
}


static void static_pcma_pcmu_without_rtpmap(void **state)
{
	struct neg n;
	(void)state;

	negotiate(&n, SDP_HEAD "m=audio 4000 RTP/AVP 8 0\r\n", NULL);

	assert_int_equal(0, n.err);
	assert_int_equal(CODEC_PCMA, n.res.codec.id);
	assert_int_equal(8, n.res.codec.pt);
	assert_int_equal(8000, n.res.codec.srate);
	assert_has(n.answer, "m=audio 30000 RTP/AVP 8\r\n");
	neg_free(&n);

	negotiate(&n, SDP_HEAD "m=audio 4000 RTP/AVP 0\r\n", NULL);
	assert_int_equal(0, n.err);
	assert_int_equal(CODEC_PCMU, n.res.codec.id);
	assert_int_equal(0, n.res.codec.pt);
	neg_free(&n);
}


static void offerer_order_wins(void **state)
{
	struct sdpneg_prefs prefs;
	struct neg n;
	(void)state;

	/* we prefer opus, the offerer lists PCMU first */
	sdpneg_prefs_default(&prefs);
	prefs.codecs[0] = CODEC_OPUS;
	prefs.codecs[1] = CODEC_G722;
	prefs.codecs[2] = CODEC_PCMU;
	prefs.ncodecs = 3;

	negotiate(&n, SDP_HEAD
		  "m=audio 4000 RTP/AVP 0 9 111\r\n"
		  "a=rtpmap:111 opus/48000/2\r\n", &prefs);

	assert_int_equal(0, n.err);
	assert_int_equal(CODEC_PCMU, n.res.codec.id);
	assert_has(n.answer, "m=audio 30000 RTP/AVP 0\r\n");
	neg_free(&n);
}


static void cfg_codec_filter_skips_disallowed(void **state)
{
	struct sdpneg_prefs prefs;
	struct neg n;
	(void)state;

	sdpneg_prefs_default(&prefs);
	prefs.codecs[0] = CODEC_G722;
	prefs.codecs[1] = CODEC_PCMA;
	prefs.ncodecs = 2;

	negotiate(&n, SDP_HEAD
		  "m=audio 4000 RTP/AVP 96 0 8 9\r\n"
		  "a=rtpmap:96 opus/48000/2\r\n", &prefs);

	assert_int_equal(0, n.err);
	assert_int_equal(CODEC_PCMA, n.res.codec.id);
	assert_has(n.answer, "m=audio 30000 RTP/AVP 8\r\n");
	neg_free(&n);

	/* only disallowed codecs: no common codec */
	negotiate(&n, SDP_HEAD
		  "m=audio 4000 RTP/AVP 96 0\r\n"
		  "a=rtpmap:96 opus/48000/2\r\n", &prefs);
	assert_int_equal(ENOTSUP, n.err);
	assert_int_equal(488, n.res.scode);
	neg_free(&n);
}


static void telephone_event_pt_kept(void **state)
{
	struct neg n;
	(void)state;

	/* G.722 with telephone-event/8000 at the peer's PT */
	negotiate(&n, SDP_HEAD
		  "m=audio 4000 RTP/AVP 9 100\r\n"
		  "a=rtpmap:9 G722/8000\r\n"
		  "a=rtpmap:100 telephone-event/8000\r\n"
		  "a=fmtp:100 0-16\r\n", NULL);
	assert_int_equal(0, n.err);
	assert_int_equal(100, n.res.telev_pt);
	assert_int_equal(8000, n.res.telev_rate);
	assert_has(n.answer, "m=audio 30000 RTP/AVP 9 100\r\n");
	assert_has(n.answer, "a=rtpmap:100 telephone-event/8000\r\n");
	neg_free(&n);

	/* opus: the 48 kHz event clock wins when both are offered */
	negotiate(&n, SDP_HEAD
		  "m=audio 4000 RTP/AVP 107 101 120\r\n"
		  "a=rtpmap:107 opus/48000/2\r\n"
		  "a=rtpmap:101 telephone-event/8000\r\n"
		  "a=rtpmap:120 telephone-event/48000\r\n", NULL);
	assert_int_equal(0, n.err);
	assert_int_equal(CODEC_OPUS, n.res.codec.id);
	assert_int_equal(107, n.res.codec.pt);
	assert_int_equal(120, n.res.telev_pt);
	assert_int_equal(48000, n.res.telev_rate);
	assert_has(n.answer, "m=audio 30000 RTP/AVP 107 120\r\n");
	assert_lacks(n.answer, "telephone-event/8000");
	neg_free(&n);

	/* opus with only telephone-event/8000 (baresip does this) */
	negotiate(&n, SDP_HEAD
		  "m=audio 4000 RTP/AVP 96 101\r\n"
		  "a=rtpmap:96 opus/48000/2\r\n"
		  "a=rtpmap:101 telephone-event/8000\r\n", NULL);
	assert_int_equal(0, n.err);
	assert_int_equal(101, n.res.telev_pt);
	assert_int_equal(8000, n.res.telev_rate);
	neg_free(&n);
}


static void no_common_codec_is_488_with_reason(void **state)
{
	struct neg n;
	(void)state;

	negotiate(&n, SDP_HEAD
		  "m=audio 4000 RTP/AVP 18 101\r\n"
		  "a=rtpmap:18 G729/8000\r\n"
		  "a=rtpmap:101 telephone-event/8000\r\n", NULL);

	assert_int_equal(0, n.derr);
	assert_int_equal(ENOTSUP, n.err);
	assert_int_equal(488, n.res.scode);
	assert_string_equal("No common codec", n.res.reason);
	neg_free(&n);
}


static uint32_t ptime_for(const char *codec_line, const char *ptime_line)
{
	char sdp[512];
	struct neg n;
	uint32_t ptime;

	re_snprintf(sdp, sizeof(sdp), SDP_HEAD "%s%s", codec_line, ptime_line);
	negotiate(&n, sdp, NULL);
	assert_int_equal(0, n.err);
	ptime = n.res.codec.ptime_ms;
	neg_free(&n);

	return ptime;
}


static void ptime_honoured_and_clamped(void **state)
{
	const char *pcmu = "m=audio 4000 RTP/AVP 0\r\n";
	const char *opus = "m=audio 4000 RTP/AVP 96\r\n"
		"a=rtpmap:96 opus/48000/2\r\n";
	(void)state;

	assert_int_equal(20, ptime_for(pcmu, ""));
	assert_int_equal(40, ptime_for(pcmu, "a=ptime:40\r\n"));
	assert_int_equal(30, ptime_for(pcmu, "a=ptime:30\r\n"));
	assert_int_equal(10, ptime_for(pcmu, "a=ptime:5\r\n"));
	assert_int_equal(60, ptime_for(pcmu, "a=ptime:120\r\n"));
	assert_int_equal(20, ptime_for(pcmu, "a=ptime:40\r\na=maxptime:20\r\n"));
	assert_int_equal(10, ptime_for(opus, "a=ptime:10\r\n"));
	assert_int_equal(20, ptime_for(opus, "a=ptime:30\r\n"));
	assert_int_equal(60, ptime_for(opus, "a=ptime:60\r\n"));
}


static void direction_answered_with_complement(void **state)
{
	static const struct {
		const char *offer;
		const char *answer;
		enum media_dir dir;
		bool hold;
	} tab[] = {
		{"a=sendrecv\r\n", "a=sendrecv\r\n", MEDIA_SENDRECV, false},
		{"",               "a=sendrecv\r\n", MEDIA_SENDRECV, false},
		{"a=sendonly\r\n", "a=recvonly\r\n", MEDIA_RECV,     true},
		{"a=recvonly\r\n", "a=sendonly\r\n", MEDIA_SEND,     false},
		{"a=inactive\r\n", "a=inactive\r\n", MEDIA_INACTIVE, true},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(tab); i++) {
		char sdp[512];
		struct neg n;

		re_snprintf(sdp, sizeof(sdp), SDP_HEAD
			    "m=audio 4000 RTP/AVP 0\r\n%s", tab[i].offer);
		negotiate(&n, sdp, NULL);
		assert_int_equal(0, n.err);
		assert_int_equal(tab[i].dir, n.res.dir);
		assert_int_equal(tab[i].hold, n.res.hold);
		assert_has(n.answer, tab[i].answer);
		neg_free(&n);
	}
}


static void zero_address_is_hold(void **state)
{
	struct neg n;
	(void)state;

	negotiate(&n, "v=0\r\no=- 1 2 IN IP4 192.0.2.10\r\ns=-\r\n"
		  "c=IN IP4 0.0.0.0\r\nt=0 0\r\n"
		  "m=audio 4000 RTP/AVP 0\r\n", NULL);

	assert_int_equal(0, n.err);
	assert_true(n.res.zero_addr);
	assert_true(n.res.hold);
	assert_int_equal(MEDIA_INACTIVE, n.res.dir);
	assert_has(n.answer, "a=inactive\r\n");
	neg_free(&n);
}


static void rtcp_mux_and_rtcp_port(void **state)
{
	struct sa want;
	struct neg n;
	(void)state;

	negotiate(&n, SDP_HEAD "m=audio 4000 RTP/AVP 0\r\na=rtcp-mux\r\n",
		  NULL);
	assert_int_equal(0, n.err);
	assert_true(n.res.rtcp_mux);
	assert_true(sa_cmp(&n.res.raddr_rtp, &n.res.raddr_rtcp, SA_ALL));
	assert_has(n.answer, "a=rtcp-mux\r\n");
	assert_lacks(n.answer, "a=rtcp:");
	neg_free(&n);

	negotiate(&n, SDP_HEAD "m=audio 4000 RTP/AVP 0\r\n", NULL);
	assert_false(n.res.rtcp_mux);
	assert_int_equal(4001, sa_port(&n.res.raddr_rtcp));
	assert_has(n.answer, "a=rtcp:30001\r\n");
	assert_lacks(n.answer, "a=rtcp-mux");
	neg_free(&n);

	negotiate(&n, SDP_HEAD "m=audio 4000 RTP/AVP 0\r\na=rtcp:5005\r\n",
		  NULL);
	assert_int_equal(5005, sa_port(&n.res.raddr_rtcp));
	assert_true(sa_cmp(&n.res.raddr_rtp, &n.res.raddr_rtcp, SA_ADDR));
	neg_free(&n);

	negotiate(&n, SDP_HEAD "m=audio 4000 RTP/AVP 0\r\n"
		  "a=rtcp:5007 IN IP4 203.0.113.7\r\n", NULL);
	assert_int_equal(0, sa_set_str(&want, "203.0.113.7", 5007));
	assert_true(sa_cmp(&want, &n.res.raddr_rtcp, SA_ALL));
	neg_free(&n);
}


static void stereo_opus_params(void **state)
{
	struct neg n;
	(void)state;

	negotiate(&n, SDP_HEAD
		  "m=audio 4000 RTP/AVP 111\r\n"
		  "a=rtpmap:111 opus/48000/2\r\n"
		  "a=fmtp:111 stereo=1;sprop-stereo=1;"
		  "maxaveragebitrate=64000;usedtx=1\r\n", NULL);

	assert_int_equal(0, n.err);
	assert_int_equal(2, n.res.codec.channels);
	assert_int_equal(64000, n.res.codec.maxavgbitrate);
	assert_true(n.res.codec.dtx);
	assert_false(n.res.codec.fec);
	assert_has(n.answer, "a=fmtp:111 minptime=10;useinbandfec=1;"
		   "sprop-stereo=1\r\n");
	neg_free(&n);
}


static void malformed_and_missing_media(void **state)
{
	struct neg n;
	(void)state;

	/* not SDP at all: sdp_decode refuses it (the call answers 400) */
	negotiate(&n, "v=0\r\nthis is not sdp\r\n", NULL);
	assert_int_not_equal(0, n.derr);
	neg_free(&n);

	negotiate(&n, "v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n", NULL);
	assert_int_not_equal(0, n.derr);
	neg_free(&n);

	/* valid SDP without any m= line */
	negotiate(&n, SDP_HEAD, NULL);
	assert_int_equal(0, n.derr);
	assert_int_equal(EPROTO, n.err);
	assert_int_equal(488, n.res.scode);
	assert_string_equal("No audio stream in SDP", n.res.reason);
	neg_free(&n);

	/* AVPF is answered in kind */
	negotiate(&n, SDP_HEAD "m=audio 4000 RTP/AVPF 0\r\n", NULL);
	assert_int_equal(0, n.err);
	assert_has(n.answer, "m=audio 30000 RTP/AVPF 0\r\n");
	neg_free(&n);

	/* audio only over a transport we do not speak (SRTP) */
	negotiate(&n, SDP_HEAD "m=audio 4000 RTP/SAVP 0\r\n", NULL);
	assert_int_equal(EPROTO, n.err);
	assert_int_equal(488, n.res.scode);
	assert_non_null(strstr(n.res.reason, "RTP/SAVP"));
	neg_free(&n);
}


static void port_zero_stream_rejected(void **state)
{
	struct neg n;
	(void)state;

	negotiate(&n, SDP_HEAD "m=audio 0 RTP/AVP 0\r\n", NULL);
	assert_int_equal(EPROTO, n.err);
	assert_int_equal(488, n.res.scode);
	assert_string_equal("Audio stream rejected (port 0)", n.res.reason);
	neg_free(&n);
}


static void video_rejected_audio_accepted(void **state)
{
	struct neg n;
	(void)state;

	/* video first: the answer keeps the order, video at port 0 */
	negotiate(&n, SDP_HEAD
		  "m=video 5000 RTP/AVP 97\r\n"
		  "a=rtpmap:97 H264/90000\r\n"
		  "m=audio 4000 RTP/AVP 0 8\r\n", NULL);
	assert_int_equal(0, n.err);
	assert_int_equal(1, n.res.mindex);
	assert_int_equal(CODEC_PCMU, n.res.codec.id);
	assert_has(n.answer, "m=video 0 RTP/AVP");
	assert_has(n.answer, "m=audio 30000 RTP/AVP 0\r\n");
	assert_true(strstr(n.answer, "m=video") < strstr(n.answer, "m=audio"));
	neg_free(&n);

	/* audio first, then video, then a second audio line */
	negotiate(&n, SDP_HEAD
		  "m=audio 4000 RTP/AVP 8\r\n"
		  "m=video 5000 RTP/AVP 97\r\n"
		  "a=rtpmap:97 VP8/90000\r\n"
		  "m=audio 4002 RTP/AVP 0\r\n", NULL);
	assert_int_equal(0, n.err);
	assert_int_equal(0, n.res.mindex);
	assert_int_equal(CODEC_PCMA, n.res.codec.id);
	assert_int_equal(4000, sa_port(&n.res.raddr_rtp));
	assert_has(n.answer, "m=audio 30000 RTP/AVP 8\r\n");
	assert_has(n.answer, "m=video 0 RTP/AVP");
	assert_has(n.answer, "m=audio 0 RTP/AVP");
	neg_free(&n);
}


static void reoffer_changes_codec_and_holds(void **state)
{
	struct sdpneg_prefs prefs;
	struct neg n;
	(void)state;

	sdpneg_prefs_default(&prefs);
	negotiate(&n, SDP_HEAD "m=audio 4000 RTP/AVP 0 8\r\n", &prefs);
	assert_int_equal(CODEC_PCMU, n.res.codec.id);

	/* re-INVITE: new port, opus, sendonly (hold) */
	assert_int_equal(0, sdpneg_formats_reset(n.sess, &prefs));
	negotiate_on(&n, "v=0\r\no=- 1 2 IN IP4 192.0.2.10\r\ns=-\r\n"
		     "c=IN IP4 192.0.2.11\r\nt=0 0\r\n"
		     "m=audio 4100 RTP/AVP 96 0\r\n"
		     "a=rtpmap:96 opus/48000/2\r\na=sendonly\r\n", &prefs);
	assert_int_equal(0, n.err);
	assert_int_equal(CODEC_OPUS, n.res.codec.id);
	assert_int_equal(4100, sa_port(&n.res.raddr_rtp));
	assert_true(n.res.hold);
	assert_int_equal(MEDIA_RECV, n.res.dir);
	assert_has(n.answer, "m=audio 30000 RTP/AVP 96\r\n");
	assert_has(n.answer, "a=recvonly\r\n");
	assert_has(n.answer, "o=- ");

	/* resume with PCMU again */
	assert_int_equal(0, sdpneg_formats_reset(n.sess, &prefs));
	negotiate_on(&n, SDP_HEAD "m=audio 4100 RTP/AVP 0\r\n", &prefs);
	assert_int_equal(0, n.err);
	assert_int_equal(CODEC_PCMU, n.res.codec.id);
	assert_false(n.res.hold);
	assert_has(n.answer, "a=sendrecv\r\n");
	neg_free(&n);
}


static void late_offer_then_answer(void **state)
{
	struct sdpneg_prefs prefs;
	struct sdpneg_result res;
	struct sdp_session *sess;
	struct mbuf *mb = NULL;
	struct sa laddr;
	char offer[2048];
	size_t len;
	(void)state;

	sdpneg_prefs_default(&prefs);
	prefs.codecs[0] = CODEC_OPUS;
	prefs.codecs[1] = CODEC_PCMU;
	prefs.ncodecs = 2;

	assert_int_equal(0, sa_set_str(&laddr, "198.51.100.1", 0));
	assert_int_equal(0, sdpneg_session_alloc(&sess, &laddr, &prefs));
	assert_int_equal(0, sdpneg_offer_prepare(sess, &prefs, LPORT,
						 LPORT_RTCP));
	assert_int_equal(0, sdp_encode(&mb, sess, true));
	len = mbuf_get_left(mb);
	assert_true(len < sizeof(offer));
	memcpy(offer, mbuf_buf(mb), len);
	offer[len] = '\0';
	mem_deref(mb);

	assert_has(offer, "m=audio 30000 RTP/AVP 111 0 101 110\r\n");
	assert_has(offer, "a=rtpmap:111 opus/48000/2\r\n");
	assert_has(offer, "a=rtpmap:101 telephone-event/8000\r\n");
	assert_lacks(offer, "G722");
	assert_has(offer, "a=sendrecv\r\n");

	/* the answer (from the ACK) picks PCMU */
	assert_int_equal(0, decode(sess, SDP_HEAD
				   "m=audio 4000 RTP/AVP 0 101\r\n"
				   "a=rtpmap:101 telephone-event/8000\r\n",
				   false));
	assert_int_equal(0, sdpneg_decide(&res, sess, &prefs, false));
	assert_int_equal(CODEC_PCMU, res.codec.id);
	assert_int_equal(101, res.telev_pt);
	assert_false(res.hold);

	/* an answer that rejects the stream */
	assert_int_equal(0, decode(sess, SDP_HEAD
				   "m=audio 0 RTP/AVP 0\r\n", false));
	assert_int_equal(EPROTO, sdpneg_decide(&res, sess, &prefs, false));
	mem_deref(sess);
}


static void session_level_direction_and_ptime(void **state)
{
	struct neg n;
	(void)state;

	/* a= lines before the first m= apply to every stream */
	negotiate(&n, "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\n"
		  "c=IN IP4 192.0.2.10\r\nt=0 0\r\n"
		  "a=sendonly\r\na=ptime:40\r\n"
		  "m=audio 4000 RTP/AVP 8\r\n", NULL);

	assert_int_equal(0, n.err);
	assert_int_equal(MEDIA_RECV, n.res.dir);
	assert_true(n.res.hold);
	assert_int_equal(40, n.res.codec.ptime_ms);
	assert_has(n.answer, "a=recvonly\r\n");
	neg_free(&n);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(opus_only_offer_gets_opus_with_peer_pt),
		cmocka_unit_test(g722_keeps_8000_in_sdp_but_16k_audio),
		cmocka_unit_test(static_pcma_pcmu_without_rtpmap),
		cmocka_unit_test(offerer_order_wins),
		cmocka_unit_test(cfg_codec_filter_skips_disallowed),
		cmocka_unit_test(telephone_event_pt_kept),
		cmocka_unit_test(no_common_codec_is_488_with_reason),
		cmocka_unit_test(ptime_honoured_and_clamped),
		cmocka_unit_test(direction_answered_with_complement),
		cmocka_unit_test(zero_address_is_hold),
		cmocka_unit_test(rtcp_mux_and_rtcp_port),
		cmocka_unit_test(stereo_opus_params),
		cmocka_unit_test(malformed_and_missing_media),
		cmocka_unit_test(port_zero_stream_rejected),
		cmocka_unit_test(video_rejected_audio_accepted),
		cmocka_unit_test(reoffer_changes_codec_and_holds),
		cmocka_unit_test(late_offer_then_answer),
		cmocka_unit_test(session_level_direction_and_ptime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
