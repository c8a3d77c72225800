/*
 * Codecs through the real send and receive chains: a 1 kHz tone at the
 * room rate (48 and 16 kHz) survives Opus, G.722, PCMU and PCMA with its
 * frequency and level; packet sizes and RTP timestamp steps are right
 * (G.722's 8 kHz clock quirk); malformed Opus payloads are rejected.
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
#include "media/codec_priv.h"   /* codec_opus_has_fec() */
#include <opus/opus.h>

enum {
	TONE_HZ    = 1000,
	TONE_AMP   = 8000,      /* -12 dBFS peak */
	ROOM_PTIME = 20,
	SECONDS    = 1,
	MAX_ROOM   = 48000,
	SKIP_MS    = 300,       /* codec + jitter buffer delay, settle   */
};

struct rt_result {
	double freq_hz;         /* from zero crossings                   */
	double purity;          /* share of the energy at 1 kHz          */
	double level_db;        /* output RMS relative to input RMS      */
	unsigned packets;
	size_t last_len;
	uint32_t ts_inc;
	bool all_true;          /* rxchain_get true after the warm-up    */
};


static void tone(int16_t *v, size_t n, uint32_t srate, double *phase)
{
	size_t i;

	for (i = 0; i < n; i++) {
		v[i] = (int16_t)lrint(TONE_AMP * sin(*phase));
		*phase += 2 * M_PI * TONE_HZ / srate;
		if (*phase > 2 * M_PI)
			*phase -= 2 * M_PI;
	}
}


static double zc_freq(const int16_t *v, size_t n, uint32_t srate)
{
	unsigned zc = 0;
	size_t i;

	for (i = 1; i < n; i++) {
		if ((v[i - 1] < 0 && v[i] >= 0) || (v[i - 1] >= 0 && v[i] < 0))
			++zc;
	}

	return zc / 2.0 / ((double)n / srate);
}


static void roundtrip(enum codec_id id, uint32_t room, uint32_t ptime,
		      struct rt_result *res)
{
	const struct rx_cfg cfg = {room, ROOM_PTIME, 40, 200};
	const size_t frame = room * ROOM_PTIME / 1000;
	const unsigned nframes = SECONDS * 1000 / ROOM_PTIME;
	const size_t skip = room * SKIP_MS / 1000;
	struct codec_fmt fmt;
	struct txchain *tx;
	struct rxchain *rx;
	int16_t in[MAX_ROOM / 50], *out;
	uint8_t buf[CODEC_MAX_PAYLOAD];
	double phase = 0;
	uint64_t now = 1000000;
	uint32_t ts = 12345;
	uint16_t seq = 100;
	unsigned k;

	memset(res, 0, sizeof(*res));
	res->all_true = true;

	codec_fmt_default(&fmt, id);
	fmt.ptime_ms = ptime;

	assert_int_equal(0, txchain_alloc(&tx, &fmt, room, ROOM_PTIME, 5));
	assert_int_equal(0, rxchain_alloc(&rx, &fmt, &cfg));
	out = calloc(frame * nframes, sizeof(*out));
	assert_non_null(out);

	for (k = 0; k < nframes; k++) {
		size_t len;
		uint32_t ts_inc;

		tone(in, frame, room, &phase);
		assert_int_equal(0, txchain_put(tx, in, buf, sizeof(buf),
						&len, &ts_inc));
		/* ptime < room frame: more than one packet per frame */
		while (len) {
			assert_int_equal(0, rxchain_put(rx, 0xc0dec, seq++, ts,
							false, buf, len, now));
			ts += ts_inc;
			res->ts_inc = ts_inc;
			res->last_len = len;
			++res->packets;
			assert_int_equal(0, txchain_pull(tx, buf, sizeof(buf),
							 &len, &ts_inc));
		}

		if (!rxchain_get(rx, out + k * frame, now) &&
		    (k + 1) * frame > skip)
			res->all_true = false;

		now += ROOM_PTIME * 1000;
	}

	res->freq_hz = zc_freq(out + skip, frame * nframes - skip, room);
	res->purity = tu_purity(out + skip, frame * nframes - skip, TONE_HZ,
				room);
	res->level_db = 20 * log10(tu_rms(out + skip, frame * nframes - skip) /
				   (TONE_AMP / sqrt(2)));

	if (getenv("CODEC_DEBUG"))
		print_message("%s room %u ptime %u: %.1f Hz purity %.3f "
			      "level %.2f dB, %u packets of %zu bytes, "
			      "ts_inc %u\n", codec_name(id), room, ptime,
			      res->freq_hz, res->purity, res->level_db,
			      res->packets, res->last_len, res->ts_inc);

	free(out);
	rxchain_free(rx);
	txchain_free(tx);
}


static void assert_tone(const struct rt_result *r, double max_db)
{
	assert_true(r->freq_hz > TONE_HZ - 10 && r->freq_hz < TONE_HZ + 10);
	assert_true(r->purity > 0.9);
	assert_true(fabs(r->level_db) < max_db);
	assert_true(r->all_true);
}


static void test_codec_opus_roundtrip(void **state)
{
	struct rt_result r;
	(void)state;

	roundtrip(CODEC_OPUS, 48000, 20, &r);
	assert_tone(&r, 3.0);
	assert_int_equal(50, r.packets);
	assert_int_equal(960, r.ts_inc);

	/* a 16 kHz room still speaks 48 kHz RTP time to the peer */
	roundtrip(CODEC_OPUS, 16000, 20, &r);
	assert_tone(&r, 3.0);
	assert_int_equal(960, r.ts_inc);
}


static void test_codec_g722_roundtrip(void **state)
{
	struct rt_result r;
	(void)state;

	roundtrip(CODEC_G722, 48000, 20, &r);
	assert_tone(&r, 3.0);
	/* RFC 3551: 20 ms = 320 samples at 16 kHz but 160 clock ticks */
	assert_int_equal(160, r.ts_inc);
	assert_int_equal(160, r.last_len);
	assert_int_equal(50, r.packets);

	roundtrip(CODEC_G722, 16000, 20, &r);
	assert_tone(&r, 3.0);
	assert_int_equal(160, r.ts_inc);
}


static void test_codec_pcmu_roundtrip(void **state)
{
	struct rt_result r;
	(void)state;

	roundtrip(CODEC_PCMU, 48000, 20, &r);
	assert_tone(&r, 3.0);
	assert_int_equal(160, r.ts_inc);
	assert_int_equal(160, r.last_len);

	roundtrip(CODEC_PCMU, 16000, 20, &r);
	assert_tone(&r, 3.0);
}


static void test_codec_pcma_roundtrip(void **state)
{
	struct rt_result r;
	(void)state;

	roundtrip(CODEC_PCMA, 48000, 20, &r);
	assert_tone(&r, 3.0);
	assert_int_equal(160, r.ts_inc);

	roundtrip(CODEC_PCMA, 16000, 20, &r);
	assert_tone(&r, 3.0);
}


static void test_codec_ptime(void **state)
{
	struct rt_result r;
	(void)state;

	/* 30 ms opus: three 10 ms frames joined by the repacketizer */
	roundtrip(CODEC_OPUS, 48000, 30, &r);
	assert_tone(&r, 3.0);
	assert_int_equal(1440, r.ts_inc);
	assert_int_equal(33, r.packets);

	roundtrip(CODEC_OPUS, 16000, 60, &r);
	assert_tone(&r, 3.0);
	assert_int_equal(2880, r.ts_inc);
	assert_int_equal(16, r.packets);

	roundtrip(CODEC_G722, 48000, 10, &r);
	assert_tone(&r, 3.0);
	assert_int_equal(80, r.ts_inc);
	assert_int_equal(80, r.last_len);
	/* 10 ms packets from 20 ms room frames: put + pull, two a frame */
	assert_int_equal(100, r.packets);

	roundtrip(CODEC_PCMA, 16000, 60, &r);
	assert_tone(&r, 3.0);
	assert_int_equal(480, r.ts_inc);
	assert_int_equal(480, r.last_len);
}


static void test_codec_names_defaults(void **state)
{
	struct codec_fmt f;
	(void)state;

	assert_string_equal("opus", codec_name(CODEC_OPUS));
	assert_string_equal("G722", codec_name(CODEC_G722));
	assert_string_equal("PCMU", codec_name(CODEC_PCMU));
	assert_string_equal("PCMA", codec_name(CODEC_PCMA));

	codec_fmt_default(&f, CODEC_G722);
	assert_int_equal(9, f.pt);
	assert_int_equal(8000, f.rtp_clock);
	assert_int_equal(16000, f.srate);
	assert_int_equal(20, f.ptime_ms);

	codec_fmt_default(&f, CODEC_PCMU);
	assert_int_equal(0, f.pt);
	codec_fmt_default(&f, CODEC_PCMA);
	assert_int_equal(8, f.pt);

	codec_fmt_default(&f, CODEC_OPUS);
	assert_int_equal(48000, f.rtp_clock);
	assert_int_equal(48000, f.srate);
	assert_true(f.pt >= 96 && f.pt <= 127);
	assert_true(f.fec);
	assert_false(f.dtx);
}


static void test_codec_opus_malformed(void **state)
{
	/* TOC 0x0b: config 1 (SILK NB 20 ms), code 3 (count byte follows) */
	static const uint8_t code3_no_count[] = {0x0b};
	static const uint8_t code3_zero[] = {0x0b, 0x00};
	/* 20 ms frames, code 3, CBR, 7 frames = 140 ms > 120 ms */
	static const uint8_t too_long[] = {0x0b, 0x07, 1, 2, 3, 4, 5, 6, 7};
	/* code 1 (two equal frames) needs an even remainder */
	static const uint8_t code1_odd[] = {0x09, 1, 2, 3};
	/* code 2: first frame length 200 > what follows */
	static const uint8_t code2_short[] = {0x0a, 200, 1, 2, 3};
	const struct rx_cfg cfg = {48000, 20, 40, 200};
	struct codec_fmt fmt;
	struct rxchain *rx;
	struct rx_stats st;
	uint8_t junk[400];
	int16_t frame[960];
	unsigned i, ok = 0, bad = 0, rejected = 0;
	(void)state;

	codec_fmt_default(&fmt, CODEC_OPUS);
	assert_int_equal(0, rxchain_alloc(&rx, &fmt, &cfg));

	assert_int_equal(EBADMSG, rxchain_put(rx, 1, 1, 0, false,
					      code3_no_count, 1, 0));
	assert_int_equal(EBADMSG, rxchain_put(rx, 1, 2, 960, false,
					      code3_zero, 2, 0));
	assert_int_equal(EBADMSG, rxchain_put(rx, 1, 3, 1920, false,
					      too_long, sizeof(too_long), 0));
	assert_int_equal(EBADMSG, rxchain_put(rx, 1, 4, 2880, false,
					      code1_odd, sizeof(code1_odd), 0));
	assert_int_equal(EBADMSG, rxchain_put(rx, 1, 5, 3840, false,
					      code2_short, sizeof(code2_short),
					      0));
	assert_int_equal(EBADMSG, rxchain_put(rx, 1, 6, 4800, false,
					      junk, 0, 0));

	rxchain_stats(rx, &st);
	assert_int_equal(6, st.invalid);
	assert_int_equal(0, st.packets);

	/* random payloads: whatever passes validation is decoded or
	   concealed, nothing crashes (ASan/UBSan build) */
	srand(4711);
	for (i = 0; i < 3000; i++) {
		size_t len = 1 + (size_t)rand() % sizeof(junk), j;

		for (j = 0; j < len; j++)
			junk[j] = (uint8_t)rand();

		int err = rxchain_put(rx, 1, (uint16_t)(10 + i),
				      960 * (10 + i), false, junk, len,
				      20000ull * i);

		if (err == 0)
			++ok;
		else if (err == EBADMSG)
			++bad;
		else
			++rejected;   /* late/dup/full: valid but unusable */
		(void)rxchain_get(rx, frame, 20000ull * i);
	}

	rxchain_stats(rx, &st);
	/* invalid also counts packets the decoder refused after parsing */
	assert_true(st.invalid >= 6 + bad);
	assert_int_equal(ok, st.packets);
	assert_true(ok > 100);
	assert_true(bad > 100);
	if (getenv("CODEC_DEBUG"))
		print_message("fuzz: ok %u bad %u rejected %u invalid %lu\n",
			      ok, bad, rejected, (unsigned long)st.invalid);

	rxchain_free(rx);
}


/* a stereo Opus sender (opus/48000/2 with stereo=1) is mixed to mono */
static void test_codec_opus_stereo_to_mono(void **state)
{
	const struct rx_cfg cfg = {48000, 20, 40, 200};
	struct codec_fmt fmt;
	struct rxchain *rx;
	OpusEncoder *enc;
	int16_t in[2 * 960], out[50 * 960];
	uint8_t buf[CODEC_MAX_PAYLOAD];
	double phase = 0;
	unsigned k, i;
	int err, len;
	(void)state;

	enc = opus_encoder_create(48000, 2, OPUS_APPLICATION_AUDIO, &err);
	assert_non_null(enc);
	codec_fmt_default(&fmt, CODEC_OPUS);
	fmt.channels = 2;
	assert_int_equal(0, rxchain_alloc(&rx, &fmt, &cfg));

	for (k = 0; k < 50; k++) {
		/* the tone on the left channel only */
		for (i = 0; i < 960; i++) {
			in[2 * i] = (int16_t)lrint(TONE_AMP * sin(phase));
			in[2 * i + 1] = 0;
			phase += 2 * M_PI * TONE_HZ / 48000;
		}
		len = opus_encode(enc, in, 960, buf, sizeof(buf));
		assert_true(len > 0);
		assert_int_equal(2, opus_packet_get_nb_channels(buf));
		assert_int_equal(0, rxchain_put(rx, 9, (uint16_t)k, k * 960,
						false, buf, (size_t)len,
						k * 20000ull));
		(void)rxchain_get(rx, out + k * 960, k * 20000ull);
	}

	/* one 1 kHz tone at half the level (-6 dB: L+R averaged) */
	assert_true(fabs(zc_freq(out + 14400, 960 * 35, 48000) - TONE_HZ) < 10);
	assert_true(tu_purity(out + 14400, 960 * 35, TONE_HZ, 48000) > 0.95);
	assert_true(fabs(20 * log10(tu_rms(out + 14400, 960 * 35) /
				    (TONE_AMP / sqrt(2))) + 6.0) < 1.5);

	opus_encoder_destroy(enc);
	rxchain_free(rx);
}


/* G.711/G.722 lengths are bounded too (120 ms) */
static void test_codec_g711_g722_oversize(void **state)
{
	const struct rx_cfg cfg = {48000, 20, 40, 200};
	static uint8_t big[CODEC_MAX_PAYLOAD];
	enum codec_id ids[] = {CODEC_PCMU, CODEC_PCMA, CODEC_G722};
	struct codec_fmt fmt;
	struct rxchain *rx;
	struct rx_stats st;
	unsigned i;
	(void)state;

	for (i = 0; i < 3; i++) {
		codec_fmt_default(&fmt, ids[i]);
		assert_int_equal(0, rxchain_alloc(&rx, &fmt, &cfg));
		assert_int_equal(EBADMSG, rxchain_put(rx, 1, 1, 0, false, big,
						      961, 0));
		assert_int_equal(0, rxchain_put(rx, 1, 2, 0, false, big,
						960, 0));
		rxchain_stats(rx, &st);
		assert_int_equal(1, st.invalid);
		assert_int_equal(1, st.packets);
		rxchain_free(rx);
	}
}


/* encode n 20 ms frames of the tone; packets and LBRR count */
enum { FEC_FRAMES = 60 };

struct fec_run {
	uint8_t pkt[FEC_FRAMES][CODEC_MAX_PAYLOAD];
	size_t len[FEC_FRAMES];
	unsigned lbrr;           /* packets carrying LBRR                 */
	size_t bytes;
};

/* speech-like: 130 Hz harmonics falling 1/k under a 4 Hz syllable
 * envelope (SILK's VAD finds no speech in a steady tone, and LBRR is
 * only coded for active frames) */
static void voice(int16_t *v, size_t n, double *t)
{
	size_t i;
	unsigned k;

	for (i = 0; i < n; i++) {
		const double env = 0.2 + 0.8 * fabs(sin(M_PI * 4.0 * *t));
		double s = 0;

		for (k = 1; k <= 20; k++)
			s += sin(2 * M_PI * 130.0 * k * *t) / k;
		v[i] = (int16_t)lrint(2500.0 * env * s);
		*t += 1.0 / 48000;
	}
}


static void fec_encode(struct txchain *tx, double *t, struct fec_run *r)
{
	int16_t in[960];
	unsigned k;

	memset(r, 0, sizeof(*r));
	for (k = 0; k < FEC_FRAMES; k++) {
		uint32_t inc;

		voice(in, 960, t);
		assert_int_equal(0, txchain_put(tx, in, r->pkt[k],
						sizeof(r->pkt[k]), &r->len[k],
						&inc));
		assert_true(r->len[k] > 0);
		assert_int_equal(960, inc);
		r->bytes += r->len[k];
		if (codec_opus_has_fec(r->pkt[k], r->len[k]))
			++r->lbrr;
	}
}


/*
 * Adaptive in-band FEC: the peer asked for FEC, but with no loss
 * reported the encoder sends none; a receiver report with loss turns it
 * on (the receive side then recovers a lost packet from it), the worst
 * of the last 4 reports holds it on, the cap is 25 %.
 */
static void test_codec_opus_adaptive_fec(void **state)
{
	const struct rx_cfg cfg = {48000, 20, 40, 200};
	struct fec_run *r = calloc(1, sizeof(*r));
	struct codec_fmt fmt, pcmu;
	struct txchain *tx;
	struct rxchain *rx;
	struct rx_stats st;
	int16_t out[960];
	double phase = 0;
	uint64_t now = 1000000;
	int lost = -1;
	unsigned k, i;
	(void)state;

	assert_non_null(r);
	codec_fmt_default(&fmt, CODEC_OPUS);
	assert_true(fmt.fec);
	assert_int_equal(0, txchain_alloc(&tx, &fmt, 48000, 20, 5));
	assert_int_equal(0, txchain_loss(tx));

	/* clean path: no LBRR at all */
	fec_encode(tx, &phase, r);
	assert_int_equal(0, r->lbrr);
	/* 32 kbit/s default (80 bytes per 20 ms), not OPUS_AUTO's 51 */
	assert_true(r->bytes / FEC_FRAMES <= 100);

	/* a report with 10 % loss: FEC in the packets after active frames */
	txchain_set_loss(tx, 10);
	assert_int_equal(10, txchain_loss(tx));
	fec_encode(tx, &phase, r);
	assert_true(r->lbrr > FEC_FRAMES / 4);

	/* the receive side recovers a lost packet from its successor */
	for (k = 10; k + 1 < FEC_FRAMES && lost < 0; k++) {
		if (codec_opus_has_fec(r->pkt[k + 1], r->len[k + 1]))
			lost = (int)k;
	}
	assert_true(lost > 0);
	assert_int_equal(0, rxchain_alloc(&rx, &fmt, &cfg));
	for (k = 0; k < FEC_FRAMES; k++) {
		if ((int)k != lost) {
			assert_int_equal(0, rxchain_put(rx, 7, (uint16_t)k,
							k * 960, false,
							r->pkt[k], r->len[k],
							now));
		}
		(void)rxchain_get(rx, out, now);
		now += 20000;
	}
	rxchain_stats(rx, &st);
	assert_int_equal(1, st.lost);
	assert_int_equal(1, st.fec_frames);
	assert_int_equal(0, st.plc_frames);
	rxchain_free(rx);

	/* smoothing: three clean reports keep it, the fourth ends it */
	for (i = 0; i < 3; i++) {
		txchain_set_loss(tx, 0);
		assert_int_equal(10, txchain_loss(tx));
	}
	txchain_set_loss(tx, 3);
	assert_int_equal(3, txchain_loss(tx));
	txchain_set_loss(tx, 0);
	assert_int_equal(3, txchain_loss(tx));
	for (i = 0; i < 3; i++)
		txchain_set_loss(tx, 0);
	assert_int_equal(0, txchain_loss(tx));
	fec_encode(tx, &phase, r);
	/* LBRR in packet n protects frame n-1: at most the first one */
	assert_true(r->lbrr <= 1);
	for (k = 1; k < FEC_FRAMES; k++)
		assert_false(codec_opus_has_fec(r->pkt[k], r->len[k]));

	/* capped */
	txchain_set_loss(tx, 90);
	assert_int_equal(25, txchain_loss(tx));

	/* a new format (re-INVITE) keeps the expected loss */
	assert_int_equal(0, txchain_set_fmt(tx, &fmt));
	assert_int_equal(25, txchain_loss(tx));
	fec_encode(tx, &phase, r);
	assert_true(r->lbrr > FEC_FRAMES / 4);
	txchain_free(tx);

	/* the peer's maxaveragebitrate lowers the rate */
	fmt.maxavgbitrate = 16000;
	assert_int_equal(0, txchain_alloc(&tx, &fmt, 48000, 20, 5));
	fec_encode(tx, &phase, r);
	assert_true(r->bytes / FEC_FRAMES <= 50);
	txchain_free(tx);

	/* not opus: nothing to do */
	codec_fmt_default(&pcmu, CODEC_PCMU);
	assert_int_equal(0, txchain_alloc(&tx, &pcmu, 48000, 20, 5));
	txchain_set_loss(tx, 10);
	assert_int_equal(0, txchain_loss(tx));
	txchain_free(tx);

	free(r);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_names_defaults),
		cmocka_unit_test(test_codec_opus_roundtrip),
		cmocka_unit_test(test_codec_g722_roundtrip),
		cmocka_unit_test(test_codec_pcmu_roundtrip),
		cmocka_unit_test(test_codec_pcma_roundtrip),
		cmocka_unit_test(test_codec_ptime),
		cmocka_unit_test(test_codec_opus_malformed),
		cmocka_unit_test(test_codec_opus_stereo_to_mono),
		cmocka_unit_test(test_codec_g711_g722_oversize),
		cmocka_unit_test(test_codec_opus_adaptive_fec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
