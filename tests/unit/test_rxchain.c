/*
 * Receive chain behaviour with real codecs: silence before the first
 * packet, concealment of a lost packet (every codec), fade-out and "no
 * audio" after the stream stops, Opus inband FEC recovery, SSRC change,
 * codec change without a gap, and stats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>
#include <cmocka.h>

#include "testutil.h"

#include "media/codec.h"
#include "media/codec_priv.h"

enum {
	TONE_HZ  = 1000,
	TONE_AMP = 8000,
	PTIME    = 20,
	MAX_FRAMES = 100,
	MAX_FRAME  = 960,
	MAX_PKTS   = 100,
};

struct run {
	/* input */
	enum codec_id id;
	uint32_t room;
	bool rx_fec;
	unsigned tx_loss;        /* txchain_set_loss(): opus FEC on      */
	int drop_seq;            /* packet index to lose, -1 none        */
	unsigned stop_after;     /* packets sent, then silence            */
	/* output */
	int16_t out[MAX_FRAMES][MAX_FRAME];
	bool live[MAX_FRAMES];
	uint8_t pkt[MAX_PKTS][CODEC_MAX_PAYLOAD];
	size_t pkt_len[MAX_PKTS];
	unsigned npkt;
	struct rx_stats st;
};


/* encode a 1 kHz tone, lose/stop as asked, decode every 20 ms */
static void run_chain(struct run *r)
{
	const struct rx_cfg cfg = {r->room, PTIME, 40, 200};
	const size_t frame = r->room * PTIME / 1000;
	struct codec_fmt fmt, rfmt;
	struct txchain *tx;
	struct rxchain *rx;
	int16_t in[MAX_FRAME];
	uint8_t buf[CODEC_MAX_PAYLOAD];
	double phase = 0;
	uint64_t now = 5000000;
	uint32_t ts = 1000;
	uint16_t seq = 0;
	unsigned k;
	size_t i;

	codec_fmt_default(&fmt, r->id);
	rfmt = fmt;
	rfmt.fec = r->rx_fec;
	assert_int_equal(0, txchain_alloc(&tx, &fmt, r->room, PTIME, 5));
	assert_int_equal(0, rxchain_alloc(&rx, &rfmt, &cfg));
	if (r->tx_loss)
		txchain_set_loss(tx, r->tx_loss);

	for (k = 0; k < MAX_FRAMES; k++) {
		size_t len;
		uint32_t inc;

		for (i = 0; i < frame; i++) {
			in[i] = (int16_t)lrint(TONE_AMP * sin(phase));
			phase += 2 * M_PI * TONE_HZ / r->room;
		}

		assert_int_equal(0, txchain_put(tx, in, buf, sizeof(buf),
						&len, &inc));
		if (len && seq < r->stop_after) {
			if (r->npkt < MAX_PKTS) {
				memcpy(r->pkt[r->npkt], buf, len);
				r->pkt_len[r->npkt++] = len;
			}
			if (seq != r->drop_seq) {
				assert_int_equal(0, rxchain_put(rx, 0x1234,
						 seq, ts, false, buf, len,
						 now));
			}
			++seq;
			ts += inc;
		}

		r->live[k] = rxchain_get(rx, r->out[k], now);
		now += PTIME * 1000;
	}

	rxchain_stats(rx, &r->st);
	rxchain_free(rx);
	txchain_free(tx);
}


static struct run *run_new(enum codec_id id, uint32_t room)
{
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->id = id;
	r->room = room;
	r->drop_seq = -1;
	r->stop_after = MAX_PKTS;

	return r;
}


static void test_rx_silent_before_first_packet(void **state)
{
	const struct rx_cfg cfg = {48000, 20, 40, 200};
	struct codec_fmt fmt;
	struct rxchain *rx;
	int16_t frame[960];
	struct rx_stats st;
	unsigned k;
	(void)state;

	codec_fmt_default(&fmt, CODEC_PCMU);
	assert_int_equal(0, rxchain_alloc(&rx, &fmt, &cfg));

	for (k = 0; k < 10; k++) {
		memset(frame, 0x55, sizeof(frame));
		assert_false(rxchain_get(rx, frame, 1000 + k * 20000));
		assert_int_equal(0, tu_rms(frame, 960));
	}

	rxchain_stats(rx, &st);
	assert_int_equal(0, st.packets);
	assert_int_equal(0, st.plc_frames);

	rxchain_free(rx);
}


/* one lost packet: concealed, no silent frame in the stream */
static void plc_single(enum codec_id id, uint32_t room)
{
	const size_t frame = room * PTIME / 1000;
	struct run *r = run_new(id, room);
	unsigned k, first = MAX_FRAMES;

	r->drop_seq = 40;
	r->rx_fec = false;
	run_chain(r);

	assert_int_equal(1, r->st.lost);
	assert_int_equal(1, r->st.plc_frames);
	assert_int_equal(0, r->st.fec_frames);
	assert_int_equal(MAX_PKTS - 1, r->st.packets);

	for (k = 0; k < MAX_FRAMES; k++) {
		if (r->live[k] && first == MAX_FRAMES)
			first = k;
	}
	/* 40 ms prebuffer: audio from the 2nd frame on */
	assert_int_equal(1, first);

	/* every frame after the codec settled carries sound: decoded ones
	   within 10 dB of the tone, the concealed one (packet 40 plays in
	   frame 41/42) within 20 dB: Opus hybrid PLC attenuates by ~11 dB */
	for (k = first + 3; k < MAX_FRAMES - 2; k++) {
		const double lv = tu_rms(r->out[k], frame);
		const double min = (k == 41 || k == 42) ? 10 : 3.2;

		assert_true(r->live[k]);
		if (lv < TONE_AMP / sqrt(2) / min) {
			print_error("%s room %u frame %u level %.0f\n",
				    codec_name(id), room, k, lv);
			fail();
		}
	}

	free(r);
}


static void test_rx_plc_single_loss(void **state)
{
	(void)state;

	plc_single(CODEC_PCMU, 48000);
	plc_single(CODEC_PCMA, 16000);
	plc_single(CODEC_G722, 48000);
	plc_single(CODEC_G722, 16000);
	plc_single(CODEC_OPUS, 48000);
	plc_single(CODEC_OPUS, 16000);
}


/* stream stops: concealment, fade to silence, then "no audio" */
static void plc_fade(enum codec_id id, uint32_t room)
{
	const size_t frame = room * PTIME / 1000;
	struct run *r = run_new(id, room);
	unsigned k, last_live = 0;

	r->stop_after = 30;   /* last packet arrives in frame 29 */
	run_chain(r);

	for (k = 0; k < MAX_FRAMES; k++) {
		if (r->live[k])
			last_live = k;
	}

	/* buffered 40 ms + 60 ms full concealment + 60 ms fade:
	   true up to ~160 ms after the last packet, never beyond 200 ms */
	assert_true(last_live >= 29 + 5);
	assert_true(last_live <= 29 + 10);

	/* the first concealed frames still sound like the tone */
	assert_true(tu_rms(r->out[31], frame) > TONE_AMP / sqrt(2) / 4);
	/* fading: the last live frame is much quieter than the tone */
	assert_true(tu_rms(r->out[last_live], frame) <
		    TONE_AMP / sqrt(2) / 2);
	/* then silence, reported as such */
	for (k = last_live + 1; k < MAX_FRAMES; k++) {
		assert_false(r->live[k]);
		assert_int_equal(0, tu_rms(r->out[k], frame));
	}

	/* bounded: 120 ms of concealment in 20 ms steps */
	assert_true(r->st.plc_frames >= 5);
	assert_true(r->st.plc_frames <= 7);

	free(r);
}


static void test_rx_plc_fades_out(void **state)
{
	(void)state;

	plc_fade(CODEC_PCMU, 48000);
	plc_fade(CODEC_G722, 48000);
	plc_fade(CODEC_OPUS, 48000);
	plc_fade(CODEC_OPUS, 16000);
}


static void test_rx_opus_fec(void **state)
{
	const size_t frame = 960;
	struct run *r = run_new(CODEC_OPUS, 48000), *ref;
	int lost = -1;
	unsigned k;
	(void)state;

	/* find a packet whose successor carries LBRR: the encoder only adds
	   FEC data after active frames, so not every packet has it; and
	   only with an expected loss (adaptive FEC: none at 0 %) */
	r->rx_fec = true;
	r->tx_loss = 10;
	run_chain(r);
	for (k = 30; k < 80 && lost < 0; k++) {
		if (codec_opus_has_fec(r->pkt[k + 1], r->pkt_len[k + 1]))
			lost = (int)k;
	}
	assert_true(lost > 0);
	free(r);

	/* lose it: recovered from the next packet's FEC, no PLC */
	r = run_new(CODEC_OPUS, 48000);
	r->rx_fec = true;
	r->tx_loss = 10;
	r->drop_seq = lost;
	run_chain(r);
	assert_int_equal(1, r->st.lost);
	assert_int_equal(1, r->st.fec_frames);
	assert_int_equal(0, r->st.plc_frames);

	/* the same loss without FEC is concealed instead */
	ref = run_new(CODEC_OPUS, 48000);
	ref->rx_fec = false;
	ref->tx_loss = 10;
	ref->drop_seq = lost;
	run_chain(ref);
	assert_int_equal(1, ref->st.plc_frames);
	assert_int_equal(0, ref->st.fec_frames);

	/* the recovered stretch (frames around the lost packet, which plays
	   two frames after it arrives) is still the 1 kHz tone */
	for (k = (unsigned)lost; k < (unsigned)lost + 4; k++) {
		assert_true(tu_purity(r->out[k], frame, TONE_HZ, 48000) > 0.8);
		assert_true(tu_rms(r->out[k], frame) >
			    TONE_AMP / sqrt(2) / 2);
	}

	free(ref);
	free(r);
}


static void test_rx_ssrc_change_and_stats(void **state)
{
	const struct rx_cfg cfg = {16000, 20, 40, 200};
	struct codec_fmt fmt;
	struct rxchain *rx;
	uint8_t pl[160];
	int16_t frame[320];
	struct rx_stats st;
	uint64_t now = 0;
	unsigned k, live = 0;
	(void)state;

	codec_fmt_default(&fmt, CODEC_PCMA);
	assert_int_equal(0, rxchain_alloc(&rx, &fmt, &cfg));
	memset(pl, 0x55 ^ 0x40, sizeof(pl));   /* a-law, non-zero level */

	for (k = 0; k < 100; k++) {
		const bool second = k >= 50;
		const uint32_t ssrc = second ? 0xbeef : 0xcafe;
		const uint32_t ts = second ? 900000 + (k - 50) * 160 : k * 160;

		assert_int_equal(0, rxchain_put(rx, ssrc, (uint16_t)k, ts,
						false, pl, sizeof(pl), now));
		/* duplicate of every 10th packet */
		if (k % 10 == 5)
			assert_int_equal(EALREADY,
					 rxchain_put(rx, ssrc, (uint16_t)k, ts,
						     false, pl, sizeof(pl),
						     now + 100));
		if (rxchain_get(rx, frame, now))
			++live;
		now += 20000;
	}

	rxchain_stats(rx, &st);
	assert_int_equal(100, st.packets);
	assert_int_equal(1, st.resets);
	assert_int_equal(10, st.dup);
	assert_int_equal(0, st.late);
	assert_int_equal(0, st.lost);
	assert_int_equal(0, st.jitter_ms);
	/* 40 ms target: 20 ms queued + the partial FIFO */
	assert_true(st.delay_ms >= 20 && st.delay_ms <= 40);
	/* only the first prebuffer frame is empty: the FIFO bridges the
	   switch to the new source */
	assert_int_equal(99, live);

	rxchain_free(rx);
}


static void test_rx_set_fmt_keeps_playing(void **state)
{
	const struct rx_cfg cfg = {48000, 20, 40, 200};
	struct codec_fmt pcmu, g722;
	struct rxchain *rx;
	struct txchain *tx;
	uint8_t buf[CODEC_MAX_PAYLOAD];
	int16_t in[960], out[960];
	double phase = 0;
	uint64_t now = 0;
	uint32_t ts = 0;
	unsigned k, i, dead = 0;
	(void)state;

	codec_fmt_default(&pcmu, CODEC_PCMU);
	codec_fmt_default(&g722, CODEC_G722);
	assert_int_equal(0, rxchain_alloc(&rx, &pcmu, &cfg));
	assert_int_equal(0, txchain_alloc(&tx, &pcmu, 48000, 20, 5));

	for (k = 0; k < 60; k++) {
		size_t len;
		uint32_t inc;

		if (k == 30) {
			/* re-INVITE: both directions move to G.722 */
			assert_int_equal(0, rxchain_set_fmt(rx, &g722));
			assert_int_equal(0, txchain_set_fmt(tx, &g722));
		}

		for (i = 0; i < 960; i++) {
			in[i] = (int16_t)lrint(TONE_AMP * sin(phase));
			phase += 2 * M_PI * TONE_HZ / 48000;
		}
		assert_int_equal(0, txchain_put(tx, in, buf, sizeof(buf),
						&len, &inc));
		assert_int_equal(k < 30 ? 160 : 160, inc);
		assert_int_equal(0, rxchain_put(rx, 77, (uint16_t)k, ts, false,
						buf, len, now));
		ts += inc;

		if (!rxchain_get(rx, out, now) && k > 1)
			++dead;
		now += 20000;
	}

	/* the switch costs a re-prebuffer, bridged by concealment */
	assert_int_equal(0, dead);

	txchain_free(tx);
	rxchain_free(rx);
}


/*
 * Sender clock 1 % fast, 1 s tone bursts with 1 s pauses, 60 s: the
 * buffer sheds the surplus 600 ms, all of it in the pauses (no burst is
 * cut short) and the delay stays bounded.
 */
static void test_rx_drift_skips_in_pauses(void **state)
{
	const struct rx_cfg cfg = {48000, 20, 40, 200};
	const unsigned seconds = 60, frames = seconds * 50;
	struct codec_fmt fmt;
	struct txchain *tx;
	struct rxchain *rx;
	int16_t in[960], out[960];
	uint8_t buf[CODEC_MAX_PAYLOAD];
	struct rx_stats st;
	double phase = 0, t_send = 0;
	uint64_t now;
	uint32_t ts = 0, max_delay = 0;
	unsigned k, i, sent = 0, bursts = 0, short_bursts = 0;
	long pos = 0, start = -1, last = -1;
	(void)state;

	codec_fmt_default(&fmt, CODEC_PCMU);
	assert_int_equal(0, txchain_alloc(&tx, &fmt, 48000, 20, 5));
	assert_int_equal(0, rxchain_alloc(&rx, &fmt, &cfg));

	/* the receiver ticks every 20 ms; the sender every 19.8 ms */
	for (k = 0; k < frames; k++) {
		now = (uint64_t)k * 20000;

		while (t_send <= (double)now && sent < frames + frames / 100) {
			size_t len;
			uint32_t inc;
			const bool on = (sent / 50) % 2 == 0;

			for (i = 0; i < 960; i++) {
				in[i] = on ? (int16_t)lrint(TONE_AMP *
							    sin(phase)) : 0;
				phase += 2 * M_PI * TONE_HZ / 48000;
			}
			assert_int_equal(0, txchain_put(tx, in, buf,
							sizeof(buf), &len,
							&inc));
			assert_int_equal(0, rxchain_put(rx, 5, (uint16_t)sent,
							ts, false, buf, len,
							(uint64_t)t_send));
			ts += inc;
			++sent;
			t_send += 20000 / 1.01;
		}

		(void)rxchain_get(rx, out, now);
		rxchain_stats(rx, &st);
		if (k > 50 && st.delay_ms > max_delay)
			max_delay = st.delay_ms;

		/* each burst's length in samples at the output: from its
		   first to its last loud sample (10 ms quiet ends it) */
		for (i = 0; i < 960; i++, pos++) {
			if (abs(out[i]) > TONE_AMP / 4) {
				if (start < 0)
					start = pos;
				last = pos;
			}
			else if (start >= 0 && pos - last > 480) {
				++bursts;
				/* 48000 samples sent; a lost 20 ms = 47040 */
				if (last - start + 1 < 47500)
					++short_bursts;
				start = -1;
			}
		}
	}

	rxchain_stats(rx, &st);
	/* 1 % of 60 s = 600 ms = 30 packets to shed */
	assert_true(st.skipped >= 25);
	assert_true(st.skipped <= 32);
	assert_int_equal(0, st.lost);
	assert_int_equal(0, st.underruns);
	assert_true(max_delay <= 100);
	assert_true(bursts >= 28);
	assert_int_equal(0, short_bursts);

	txchain_free(tx);
	rxchain_free(rx);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_silent_before_first_packet),
		cmocka_unit_test(test_rx_plc_single_loss),
		cmocka_unit_test(test_rx_plc_fades_out),
		cmocka_unit_test(test_rx_opus_fec),
		cmocka_unit_test(test_rx_ssrc_change_and_stats),
		cmocka_unit_test(test_rx_set_fmt_keeps_playing),
		cmocka_unit_test(test_rx_drift_skips_in_pauses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
