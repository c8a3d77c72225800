/**
 * @file fuzz_rtp.c  The media worker's receive path (worker.c rx_socket,
 * rx_rtp, rx_rtcp) without sockets: RTP/RTCP demultiplexing, RTP header
 * validation, receive statistics, RTCP compound parsing, RFC 4733
 * telephone-events, and the receive chain (jitter buffer, decoder, PLC,
 * FEC, resampler) for the negotiated codec, with a simulated clock.
 *
 * Input: byte 0 selects the leg (bits 0-1 codec: opus, G.722, PCMU,
 * PCMA; bit 2 room rate 16 kHz instead of 48 kHz; bit 3 opus stereo;
 * bit 4 opus FEC; bit 5 payload type 96 for opus / dynamic, else
 * static). Then datagrams, each: 2 bytes length (mod 1500), 1 byte clock
 * step in ms (0..255) whose low 2 bits also say how many frames
 * rxchain_get() pulls afterwards, then the datagram bytes.
 */
#include <stdbool.h>
#include <re.h>

#include "media/codec.h"
#include "media/rtp.h"
#include "fuzz_common.h"

enum {
	TELEV_PT   = 101,
	MAX_DGRAM  = 1500,
	MAX_PKTS   = 64,       /* bound per input */
	PTIME      = 20,
};


static void rtcp_in(const uint8_t *buf, size_t len)
{
	struct rtcpx_info info;

	memset(&info, 0xa5, sizeof(info));
	if (rtcpx_decode(&info, buf, len))
		return;

	FUZZ_CHECK(info.npkt >= 1);
	if (info.has_cname)
		FUZZ_CHECK(memchr(info.cname, '\0', sizeof(info.cname)));
	if (info.has_sr)
		(void)rtcpx_ntp_mid(info.sr.ntp_sec, info.sr.ntp_frac);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum codec_id ids[4] = {
		CODEC_OPUS, CODEC_G722, CODEC_PCMU, CODEC_PCMA};
	struct fuzz_in in = {data, size};
	struct rxchain *rx = NULL;
	struct codec_fmt fmt;
	struct rx_cfg cfg;
	struct rtph_seq rseq;
	struct telev_rx telev;
	struct rx_stats st;
	int16_t *frame = NULL;
	size_t nsamp;
	uint64_t now_us = 1000000;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = fin_u8(&in);

	codec_fmt_default(&fmt, ids[sel & 3]);
	if (fmt.id == CODEC_OPUS) {
		fmt.channels = (sel & 8) ? 2 : 1;
		fmt.fec = !!(sel & 16);
	}
	if (sel & 32)
		fmt.pt = 96;

	cfg.room_srate = (sel & 4) ? 16000 : 48000;
	cfg.room_ptime = PTIME;
	cfg.jb_min_ms = 40;
	cfg.jb_max_ms = 200;

	if (rxchain_alloc(&rx, &fmt, &cfg))
		return 0;

	/* exactly one room frame, so ASan sees any write past it */
	nsamp = cfg.room_srate * PTIME / 1000;
	frame = malloc(nsamp * sizeof(*frame));
	if (!frame)
		goto out;

	memset(&rseq, 0, sizeof(rseq));
	memset(&telev, 0, sizeof(telev));

	for (int k = 0; k < MAX_PKTS && in.n >= 3; k++) {
		size_t want = fin_u16(&in) % MAX_DGRAM, len;
		uint8_t step = fin_u8(&in);
		const uint8_t *dg = fin_bytes(&in, want, &len);
		uint8_t *buf;
		struct rtph h;

		/* a copy of exactly len bytes: reads past it are caught */
		buf = malloc(len ? len : 1);
		if (!buf)
			break;
		memcpy(buf, dg, len);

		now_us += (uint64_t)step * 1000;

		if (rtph_is_rtcp(buf, len)) {
			rtcp_in(buf, len);
		}
		else if (!rtph_decode(&h, buf, len)) {
			const uint8_t *pay = buf + h.hdr_len;

			FUZZ_CHECK(h.hdr_len >= RTPH_HDR_SIZE);
			FUZZ_CHECK(h.hdr_len + h.pay_len <= len);
			FUZZ_CHECK(h.cc <= RTPH_CSRC_MAX);

			(void)rtph_seq_update(&rseq, h.ssrc, h.seq);
			(void)rtph_seq_lost(&rseq);
			(void)rtph_seq_fraction(&rseq);
			(void)rtph_seq_ext_max(&rseq);

			if (h.pt == fmt.pt) {
				(void)rxchain_put(rx, h.ssrc, h.seq, h.ts,
						  h.marker, pay, h.pay_len,
						  now_us);
			}
			else if (h.pt == TELEV_PT) {
				struct rtph_telev ev;
				char d;

				if (!rtph_telev_decode(&ev, pay, h.pay_len)) {
					d = telev_rx_put(&telev, h.ts, &ev);
					FUZZ_CHECK(!d || strchr("0123456789*#ABCD",
								  d));
				}
			}
		}
		free(buf);

		for (unsigned g = 0; g < (step & 3u); g++) {
			(void)rxchain_get(rx, frame, now_us);
			now_us += PTIME * 1000;
		}
	}

	/* drain what the jitter buffer holds */
	for (int g = 0; g < 20; g++) {
		(void)rxchain_get(rx, frame, now_us);
		now_us += PTIME * 1000;
	}

	rxchain_stats(rx, &st);

 out:
	free(frame);
	rxchain_free(rx);

	return 0;
}
