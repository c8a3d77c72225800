/**
 * @file test_rtp.c  RTP/RTCP wire format: validation of hostile headers,
 * build round-trips, sequence arithmetic across wrap-around, RFC 4733
 * digit de-duplication.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "media/rtp.h"


static size_t mkpkt(uint8_t *buf, size_t size, const struct rtph *h,
		    size_t paylen)
{
	size_t n = rtph_encode(buf, size, h);

	assert_true(n > 0);
	memset(buf + n, 0xd5, paylen);
	return n + paylen;
}


static void test_rtp_roundtrip_with_csrc_and_ext(void **state)
{
	uint8_t buf[256];
	struct rtph h = {0}, d;
	size_t n;
	(void)state;

	h.marker = true;
	h.pt = 111;
	h.seq = 0xfffe;
	h.ts = 0xdeadbeef;
	h.ssrc = 0x01020304;
	h.cc = 2;
	h.csrc[0] = 7;
	h.csrc[1] = 0xffffffff;
	h.ext = true;
	h.ext_profile = 0xbede;
	h.ext_words = 2;

	n = mkpkt(buf, sizeof(buf), &h, 160);
	assert_int_equal(12 + 8 + 4 + 8 + 160, n);

	assert_int_equal(0, rtph_decode(&d, buf, n));
	assert_true(d.marker);
	assert_false(d.pad);
	assert_int_equal(111, d.pt);
	assert_int_equal(0xfffe, d.seq);
	assert_int_equal(0xdeadbeef, d.ts);
	assert_int_equal(0x01020304, d.ssrc);
	assert_int_equal(2, d.cc);
	assert_int_equal(7, d.csrc[0]);
	assert_int_equal(0xffffffff, d.csrc[1]);
	assert_int_equal(0xbede, d.ext_profile);
	assert_int_equal(2, d.ext_words);
	assert_int_equal(32, d.hdr_len);
	assert_int_equal(160, d.pay_len);
	assert_int_equal(0xd5, buf[d.hdr_len]);
}


static void test_rtp_rejects_bad_version_and_truncation(void **state)
{
	uint8_t buf[64];
	struct rtph h = { .pt = 0, .seq = 1, .ts = 2, .ssrc = 3 }, d;
	size_t n, i;
	(void)state;

	n = mkpkt(buf, sizeof(buf), &h, 20);
	assert_int_equal(0, rtph_decode(&d, buf, n));

	/* every truncation below the fixed header is malformed */
	for (i = 0; i < 12; i++)
		assert_int_equal(EBADMSG, rtph_decode(&d, buf, i));

	/* header only, empty payload: valid (e.g. keep-alive) */
	assert_int_equal(0, rtph_decode(&d, buf, 12));
	assert_int_equal(0, d.pay_len);

	buf[0] = (uint8_t)((buf[0] & 0x3f) | (1 << 6));
	assert_int_equal(EPROTO, rtph_decode(&d, buf, n));
	buf[0] = (uint8_t)((buf[0] & 0x3f) | (3 << 6));
	assert_int_equal(EPROTO, rtph_decode(&d, buf, n));
}


static void test_rtp_rejects_csrc_beyond_packet(void **state)
{
	uint8_t buf[128];
	struct rtph h = { .pt = 8, .cc = 15 }, d;
	size_t n;
	(void)state;

	n = rtph_encode(buf, sizeof(buf), &h);
	assert_int_equal(12 + 60, n);
	assert_int_equal(0, rtph_decode(&d, buf, n));
	assert_int_equal(0, d.pay_len);
	/* one byte short of the 15th CSRC */
	assert_int_equal(EBADMSG, rtph_decode(&d, buf, n - 1));
	assert_int_equal(EBADMSG, rtph_decode(&d, buf, 12 + 4));
}


static void test_rtp_rejects_extension_length_overflow(void **state)
{
	uint8_t buf[64];
	struct rtph h = { .pt = 0, .ext = true, .ext_words = 1 }, d;
	size_t n;
	(void)state;

	n = rtph_encode(buf, sizeof(buf), &h);
	assert_int_equal(20, n);
	assert_int_equal(0, rtph_decode(&d, buf, n));

	/* extension header itself truncated */
	assert_int_equal(EBADMSG, rtph_decode(&d, buf, 14));

	/* claims 0xffff words */
	buf[14] = 0xff;
	buf[15] = 0xff;
	assert_int_equal(EBADMSG, rtph_decode(&d, buf, n));
}


static void test_rtp_padding(void **state)
{
	uint8_t buf[64];
	struct rtph h = { .pt = 0, .pad = true }, d;
	size_t n;
	(void)state;

	n = mkpkt(buf, sizeof(buf), &h, 10);
	buf[n - 1] = 4;   /* 6 bytes payload + 4 padding */
	assert_int_equal(0, rtph_decode(&d, buf, n));
	assert_int_equal(6, d.pay_len);

	buf[n - 1] = 10;  /* all padding: legal, empty payload */
	assert_int_equal(0, rtph_decode(&d, buf, n));
	assert_int_equal(0, d.pay_len);

	buf[n - 1] = 11;  /* more padding than payload */
	assert_int_equal(EBADMSG, rtph_decode(&d, buf, n));

	buf[n - 1] = 0;   /* a zero count is impossible */
	assert_int_equal(EBADMSG, rtph_decode(&d, buf, n));
}


static void test_rtp_encode_refuses_small_buffer(void **state)
{
	uint8_t buf[64];
	struct rtph h = { .pt = 0, .cc = 1 };
	(void)state;

	assert_int_equal(0, rtph_encode(buf, 15, &h));
	assert_int_equal(16, rtph_encode(buf, 16, &h));
	h.pt = 128;
	assert_int_equal(0, rtph_encode(buf, sizeof(buf), &h));
}


static void test_rtp_rtcp_demux(void **state)
{
	uint8_t rtp[2] = { 0x80, 0x80 | 0 };     /* PCMU with marker */
	uint8_t rtp2[2] = { 0x80, 111 };
	uint8_t sr[2] = { 0x80, 200 };
	uint8_t rr[2] = { 0x81, 201 };
	(void)state;

	assert_false(rtph_is_rtcp(rtp, 2));
	assert_false(rtph_is_rtcp(rtp2, 2));
	assert_true(rtph_is_rtcp(sr, 2));
	assert_true(rtph_is_rtcp(rr, 2));
	assert_false(rtph_is_rtcp(sr, 1));
}


static void test_rtp_seq_ts_arithmetic_wraps(void **state)
{
	(void)state;

	assert_int_equal(1, rtph_seq_diff(0, 0xffff));
	assert_int_equal(-1, rtph_seq_diff(0xffff, 0));
	assert_int_equal(10, rtph_seq_diff(5, 0xfffb));
	assert_int_equal(-32768, rtph_seq_diff(0x8000, 0));
	assert_int_equal(160, rtph_ts_diff(100, 0xffffffff - 59));
	assert_int_equal(-160, rtph_ts_diff(0xffffffff - 59, 100));
}


static void test_rtp_seq_stats_across_wrap_with_loss(void **state)
{
	struct rtph_seq s = {0};
	uint16_t seq = 0xfff0;
	unsigned i;
	(void)state;

	/* 64 packets crossing the wrap, every 8th lost */
	for (i = 0; i < 64; i++, seq++) {
		if (i % 8 == 7)
			continue;
		assert_true(rtph_seq_update(&s, 42, seq));
	}

	assert_int_equal(0x10000 + (uint16_t)(0xfff0 + 62),
			 rtph_seq_ext_max(&s));
	/* seq 63 (i = 63) was lost and is beyond max: 7 lost below max */
	assert_int_equal(7, rtph_seq_lost(&s));
	assert_int_equal((7 << 8) / 63, rtph_seq_fraction(&s));
	/* nothing new: the interval fraction is 0 */
	assert_int_equal(0, rtph_seq_fraction(&s));

	/* a duplicate counts as received: loss goes down (RFC 3550) */
	assert_true(rtph_seq_update(&s, 42, (uint16_t)(0xfff0 + 62)));
	assert_int_equal(6, rtph_seq_lost(&s));
}


static void test_rtp_seq_restart_needs_confirmation(void **state)
{
	struct rtph_seq s = {0};
	(void)state;

	assert_true(rtph_seq_update(&s, 1, 100));
	assert_true(rtph_seq_update(&s, 1, 101));

	/* jump by 20000: probed, then accepted with the next packet */
	assert_false(rtph_seq_update(&s, 1, 20101));
	assert_true(rtph_seq_update(&s, 1, 20102));
	assert_int_equal(20102, rtph_seq_ext_max(&s));
	assert_int_equal(0, rtph_seq_lost(&s));

	/* a new SSRC restarts everything */
	assert_true(rtph_seq_update(&s, 2, 5));
	assert_int_equal(5, rtph_seq_ext_max(&s));
	assert_int_equal(1, s.received);
}


static void telev_pkt(uint8_t *p, uint8_t event, bool end, uint16_t dur)
{
	p[0] = event;
	p[1] = (uint8_t)((end ? 0x80 : 0) | 10);
	p[2] = (uint8_t)(dur >> 8);
	p[3] = (uint8_t)dur;
}


static char feed(struct telev_rx *st, uint32_t ts, uint8_t event, bool end,
		 uint16_t dur)
{
	uint8_t p[4];
	struct rtph_telev ev;

	telev_pkt(p, event, end, dur);
	assert_int_equal(0, rtph_telev_decode(&ev, p, sizeof(p)));
	assert_int_equal(event, ev.event);
	assert_int_equal(end, ev.end);
	assert_int_equal(10, ev.volume);
	assert_int_equal(dur, ev.duration);

	return telev_rx_put(st, ts, &ev);
}


static void test_rtp_telev_one_digit_per_event(void **state)
{
	struct telev_rx st = {0};
	uint8_t p[3] = {0};
	struct rtph_telev ev;
	(void)state;

	assert_int_equal(EBADMSG, rtph_telev_decode(&ev, p, 3));

	/* '5': three progress packets, then the end packet sent 3 times */
	assert_int_equal(0, feed(&st, 8000, 5, false, 160));
	assert_int_equal(0, feed(&st, 8000, 5, false, 320));
	assert_int_equal(0, feed(&st, 8000, 5, false, 480));
	assert_int_equal('5', feed(&st, 8000, 5, true, 640));
	assert_int_equal(0, feed(&st, 8000, 5, true, 640));
	assert_int_equal(0, feed(&st, 8000, 5, true, 640));

	/* the same digit again is a new event: new timestamp */
	assert_int_equal(0, feed(&st, 9600, 5, false, 160));
	assert_int_equal('5', feed(&st, 9600, 5, true, 320));
	assert_int_equal(0, feed(&st, 9600, 5, true, 320));

	/* '#' whose end packet arrives first (reordered), progress later */
	assert_int_equal('#', feed(&st, 12000, 11, true, 400));
	assert_int_equal(0, feed(&st, 12000, 11, false, 160));

	/* a straggler end packet of the earlier '5' is ignored */
	assert_int_equal(0, feed(&st, 9600, 5, true, 320));

	/* non-digit events (flash = 16) are not digits */
	assert_int_equal(0, feed(&st, 16000, 16, true, 160));
	assert_int_equal('*', rtph_telev_digit(10));
	assert_int_equal('D', rtph_telev_digit(15));
}


static void test_rtp_telev_lost_end_reported_on_next(void **state)
{
	struct telev_rx st = {0};
	(void)state;

	/* '1' loses every end packet */
	assert_int_equal(0, feed(&st, 100, 1, false, 160));
	assert_int_equal(0, feed(&st, 100, 1, false, 320));

	/* '2' starts: '1' is reported now */
	assert_int_equal('1', feed(&st, 2000, 2, false, 160));
	assert_int_equal('2', feed(&st, 2000, 2, true, 320));
	assert_int_equal(0, feed(&st, 2000, 2, true, 320));

	/* '3' lost its ends, '4' arrives only as end packets */
	assert_int_equal(0, feed(&st, 4000, 3, false, 160));
	assert_int_equal('3', feed(&st, 6000, 4, true, 160));
	assert_int_equal('4', feed(&st, 6000, 4, true, 160));
	assert_int_equal(0, feed(&st, 6000, 4, true, 160));
}


static void test_rtcp_sr_sdes_bye_roundtrip(void **state)
{
	uint8_t buf[256];
	struct rtcpx_sr sr = { 0x11223344, 3900000000u, 0x80000000u,
			       123456, 50, 8000 };
	struct rtcpx_rb rb = { 0xcafebabe, 64, -5, 0x1ffff, 80, 0x12345678,
			       65536 };
	struct rtcpx_info info;
	size_t n = 0, k;
	(void)state;

	k = rtcpx_encode_sr(buf, sizeof(buf), &sr, &rb);
	assert_int_equal(52, k);
	n += k;
	k = rtcpx_encode_sdes(buf + n, sizeof(buf) - n, sr.ssrc, "chorus@x");
	assert_int_equal(0, k % 4);
	n += k;
	k = rtcpx_encode_bye(buf + n, sizeof(buf) - n, sr.ssrc);
	assert_int_equal(8, k);
	n += k;

	assert_true(rtph_is_rtcp(buf, n));
	assert_int_equal(0, rtcpx_decode(&info, buf, n));
	assert_int_equal(3, info.npkt);
	assert_true(info.has_sr);
	assert_int_equal(sr.ssrc, info.sr.ssrc);
	assert_int_equal(sr.ntp_sec, info.sr.ntp_sec);
	assert_int_equal(sr.ntp_frac, info.sr.ntp_frac);
	assert_int_equal(sr.rtp_ts, info.sr.rtp_ts);
	assert_int_equal(50, info.sr.psent);
	assert_int_equal(8000, info.sr.osent);
	assert_true(info.has_rb);
	assert_int_equal(1, info.nrb);
	assert_int_equal(rb.ssrc, info.rb.ssrc);
	assert_int_equal(64, info.rb.fraction);
	assert_int_equal(-5, info.rb.lost);
	assert_int_equal(0x1ffff, info.rb.ext_seq);
	assert_int_equal(80, info.rb.jitter);
	assert_int_equal(0x12345678, info.rb.lsr);
	assert_int_equal(65536, info.rb.dlsr);
	assert_true(info.has_cname);
	assert_string_equal("chorus@x", info.cname);
	assert_true(info.bye);
}


/* (added) the report block about one source, wherever it is: second
 * block of an RR after an SR (adaptive Opus FEC reads our own) */
static void test_rtcp_rb_find(void **state)
{
	uint8_t buf[256];
	struct rtcpx_sr sr = { 0x11223344, 1, 2, 3, 4, 5 };
	struct rtcpx_rb a = { 0x0a0a0a0a, 10, 3, 100, 1, 0, 0 };
	struct rtcpx_rb b = { 0x0b0b0b0b, 64, 77, 200, 2, 0, 0 };
	struct rtcpx_rb rb;
	struct rtcpx_info info;
	size_t n, k;
	(void)state;

	n = rtcpx_encode_sr(buf, sizeof(buf), &sr, &a);
	/* an RR with two blocks: a copy of the one-block RR, the other
	   block appended and the header's count and length raised */
	k = rtcpx_encode_rr(buf + n, sizeof(buf) - n, 0x99, &a);
	assert_int_equal(32, k);
	k = rtcpx_encode_rr(buf + n + 32, sizeof(buf) - n - 32, 0x99, &b);
	memmove(buf + n + 32, buf + n + 32 + 8, 24);
	buf[n] = (uint8_t)((buf[n] & 0xe0) | 2);
	buf[n + 3] = 13;                      /* (4 + 4 + 48) / 4 - 1 */
	n += 56;
	assert_int_equal(0, rtcpx_decode(&info, buf, n));
	assert_int_equal(3, info.nrb);
	assert_int_equal(a.ssrc, info.rb.ssrc);   /* only the first one */

	assert_int_equal(0, rtcpx_rb_find(&rb, buf, n, b.ssrc));
	assert_int_equal(b.ssrc, rb.ssrc);
	assert_int_equal(64, rb.fraction);
	assert_int_equal(77, rb.lost);
	assert_int_equal(200, rb.ext_seq);
	assert_int_equal(0, rtcpx_rb_find(&rb, buf, n, a.ssrc));
	assert_int_equal(10, rb.fraction);
	assert_int_equal(ENOENT, rtcpx_rb_find(&rb, buf, n, 0x12345678));
	/* the sender's own SSRC is not a report block */
	assert_int_equal(ENOENT, rtcpx_rb_find(&rb, buf, n, sr.ssrc));

	/* a count beyond the packet's length */
	buf[52] = (uint8_t)((buf[52] & 0xe0) | 3);
	assert_int_equal(EBADMSG, rtcpx_rb_find(&rb, buf, n, 0x12345678));
	/* a length beyond the datagram */
	assert_int_equal(EBADMSG, rtcpx_rb_find(&rb, buf, n - 4, b.ssrc));
}


static void test_rtcp_rejects_malformed_compound(void **state)
{
	uint8_t buf[256];
	struct rtcpx_rb rb = { 1, 0, 0, 0, 0, 0, 0 };
	struct rtcpx_info info;
	size_t n, k;
	(void)state;

	n = rtcpx_encode_rr(buf, sizeof(buf), 9, &rb);
	assert_int_equal(32, n);
	k = rtcpx_encode_sdes(buf + n, sizeof(buf) - n, 9, "abc");
	n += k;
	assert_int_equal(0, rtcpx_decode(&info, buf, n));
	assert_false(info.has_sr);
	assert_true(info.has_rb);

	/* truncated anywhere inside: rejected */
	assert_int_equal(EBADMSG, rtcpx_decode(&info, buf, n - 1));
	assert_int_equal(EBADMSG, rtcpx_decode(&info, buf, 31));
	assert_int_equal(EBADMSG, rtcpx_decode(&info, buf, 3));

	/* length field pointing past the datagram */
	buf[3] = 50;
	assert_int_equal(EBADMSG, rtcpx_decode(&info, buf, n));
	buf[3] = 7;

	/* report count larger than the packet holds */
	buf[0] = 0x80 | 2;
	assert_int_equal(EBADMSG, rtcpx_decode(&info, buf, n));
	buf[0] = 0x80 | 1;

	/* wrong version in the second packet */
	buf[32] = (uint8_t)(buf[32] & 0x3f);
	assert_int_equal(EBADMSG, rtcpx_decode(&info, buf, n));
	buf[32] = (uint8_t)(buf[32] | 0x80);
	assert_int_equal(0, rtcpx_decode(&info, buf, n));

	/* padding flag on the first (non-last) packet */
	buf[0] |= 0x20;
	assert_int_equal(EBADMSG, rtcpx_decode(&info, buf, n));
	buf[0] &= (uint8_t)~0x20;

	/* SDES item length running past its packet */
	buf[32 + 9] = 200;
	assert_int_equal(EBADMSG, rtcpx_decode(&info, buf, n));
}


static void test_rtcp_ntp_conversion(void **state)
{
	uint32_t sec, frac;
	(void)state;

	/* 1970-01-01 00:00:00.5 */
	rtcpx_ntp(&sec, &frac, 500000000ull);
	assert_int_equal(2208988800u, sec);
	assert_int_equal(0x80000000u, frac);
	assert_int_equal(0x0000 << 16 | 0x8000,
			 rtcpx_ntp_mid(0x10000, 0x80000000u));
}


static uint32_t fuzz_rng = 0x12345678;

static uint32_t fuzz_next(void)
{
	fuzz_rng ^= fuzz_rng << 13;
	fuzz_rng ^= fuzz_rng >> 17;
	fuzz_rng ^= fuzz_rng << 5;
	return fuzz_rng;
}


/*
 * Random and mutated datagrams: the parsers never read outside the
 * buffer (ASan watches: the datagram sits at the end of an exactly
 * sized allocation) and what they accept is self-consistent.
 */
static void test_rtp_rtcp_parsers_survive_fuzz(void **state)
{
	uint8_t seed[256];
	struct rtcpx_rb rb = { 1, 2, 3, 4, 5, 6, 7 };
	struct rtcpx_sr sr = { 9, 1, 2, 3, 4, 5 };
	unsigned iter, accepted_rtp = 0, accepted_rtcp = 0;
	size_t seedlen;
	(void)state;

	/* a valid compound as the mutation seed */
	seedlen = rtcpx_encode_sr(seed, sizeof(seed), &sr, &rb);
	seedlen += rtcpx_encode_sdes(seed + seedlen, sizeof(seed) - seedlen,
				     9, "fuzz@chorus");
	seedlen += rtcpx_encode_bye(seed + seedlen, sizeof(seed) - seedlen, 9);

	for (iter = 0; iter < 200000; iter++) {
		size_t len = fuzz_next() % 200, i;
		uint8_t *buf = malloc(len ? len : 1);
		struct rtcpx_info info;
		struct rtph h;

		assert_non_null(buf);

		if (iter & 1) {
			/* mutate the seed: truncate, flip a few bytes */
			len = len % (seedlen + 1);
			memcpy(buf, seed, len);
			for (i = 0; len && i < 1 + fuzz_next() % 4; i++)
				buf[fuzz_next() % len] ^=
					(uint8_t)(1u << (fuzz_next() % 8));
		}
		else {
			for (i = 0; i < len; i++)
				buf[i] = (uint8_t)fuzz_next();
			if (len)
				buf[0] = (uint8_t)((buf[0] & 0x3f) | 0x80);
		}

		if (!rtph_decode(&h, buf, len)) {
			++accepted_rtp;
			assert_true(h.hdr_len >= RTPH_HDR_SIZE);
			assert_true(h.hdr_len + h.pay_len <= len);
			assert_true(h.cc <= RTPH_CSRC_MAX);
		}

		if (!rtcpx_decode(&info, buf, len)) {
			++accepted_rtcp;
			assert_true(info.npkt >= 1);
			if (info.has_cname)
				assert_true(strlen(info.cname) <=
					    RTCPX_CNAME_MAX);
		}

		free(buf);
	}

	/* both kinds of input were exercised on both paths */
	print_message("accepted: rtp %u rtcp %u of 200000\n", accepted_rtp,
		      accepted_rtcp);
	assert_true(accepted_rtp > 1000);
	assert_true(accepted_rtcp > 1000);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_roundtrip_with_csrc_and_ext),
		cmocka_unit_test(test_rtp_rejects_bad_version_and_truncation),
		cmocka_unit_test(test_rtp_rejects_csrc_beyond_packet),
		cmocka_unit_test(test_rtp_rejects_extension_length_overflow),
		cmocka_unit_test(test_rtp_padding),
		cmocka_unit_test(test_rtp_encode_refuses_small_buffer),
		cmocka_unit_test(test_rtp_rtcp_demux),
		cmocka_unit_test(test_rtp_seq_ts_arithmetic_wraps),
		cmocka_unit_test(test_rtp_seq_stats_across_wrap_with_loss),
		cmocka_unit_test(test_rtp_seq_restart_needs_confirmation),
		cmocka_unit_test(test_rtp_telev_one_digit_per_event),
		cmocka_unit_test(test_rtp_telev_lost_end_reported_on_next),
		cmocka_unit_test(test_rtcp_sr_sdes_bye_roundtrip),
		cmocka_unit_test(test_rtcp_rejects_malformed_compound),
		cmocka_unit_test(test_rtcp_rb_find),
		cmocka_unit_test(test_rtcp_ntp_conversion),
		cmocka_unit_test(test_rtp_rtcp_parsers_survive_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
