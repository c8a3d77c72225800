/**
 * @file opuscost.c  What an Opus encoder setting costs: CPU per 20 ms
 * frame (CLOCK_THREAD_CPUTIME_ID, best of several passes), bytes per
 * packet, the coded bandwidth and how often LBRR (in-band FEC) is in the
 * packet, for the mono 48 kHz encoder chorus runs per talking leg.
 *
 * The input is a conference mix: four speech-like voices (the synthesis
 * of bench/loadgen.c: wandering f0, two formants, syllable envelope,
 * a little noise) summed at -6 dB each, 10 s, looped.
 *
 * Not part of the daemon; docs/LOAD.md ("Opus settings") has the numbers.
 *   cc -O2 -o opuscost bench/opuscost.c -lopus -lm
 *   ./opuscost [frames]
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <opus/opus.h>

enum {
	SRATE = 48000,
	FRAME = 960,           /* 20 ms */
	SECONDS = 10,
	NSAMP = SRATE * SECONDS,
	VOICES = 4,
	PASSES = 5,
	MAXPKT = 1500,
};

struct setting {
	const char *name;
	int complexity;
	int fec;
	int loss;
	int bitrate;           /* OPUS_AUTO or bit/s */
	int signal;            /* OPUS_AUTO or OPUS_SIGNAL_VOICE */
	int maxbw;             /* 0: default (fullband) */
};


static void synth(double *acc, size_t n, unsigned var)
{
	const double two_pi = 2.0 * M_PI;
	const double f0_base = 100.0 + 25.0 * var;
	const double syl_hz = 3.0 + 0.4 * var;
	const double nyq = SRATE / 2.0 - 200.0;
	double phase = 0.0;
	uint32_t rnd = 0x1234567u + var * 7919u;

	for (size_t i = 0; i < n; i++) {
		const double t = (double)i / SRATE;
		const double f0 = f0_base * (1.0 + 0.12 * sin(two_pi * 0.7 * t)
					     + 0.05 * sin(two_pi * 5.3 * t));
		const double env = 0.45 + 0.55 * fabs(sin(M_PI * syl_hz * t));
		double v = 0.0;

		phase += two_pi * f0 / SRATE;
		if (phase > two_pi * 1000.0)
			phase -= two_pi * 1000.0;

		for (unsigned k = 1; k * f0 < nyq && k <= 40; k++) {
			const double fk = k * f0;
			const double fm1 = 500.0 + 60.0 * var;
			const double fm2 = 1500.0 + 80.0 * var;
			const double a = 1.0 / k *
				(1.0 + 2.0 * exp(-pow((fk - fm1) / 200.0, 2)) +
				 1.2 * exp(-pow((fk - fm2) / 300.0, 2)));

			v += a * sin(phase * k);
		}

		rnd = rnd * 1664525u + 1013904223u;
		v = env * (0.12 * v + 0.02 *
			   ((double)(rnd >> 8) / 8388608.0 - 1.0));
		acc[i] += 0.5 * v;
	}
}


static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}


/* RFC 6716 4.2.4: the LBRR flag follows the VAD flag of a 20 ms SILK
 * frame (codec.c: codec_opus_has_fec) */
static bool has_lbrr(const uint8_t *p, int len)
{
	if (len < 2 || (p[0] >> 3) >= 16 || (p[0] & 3) != 0)
		return false;
	return (p[1] >> 6) & 1;
}


static void run(const struct setting *s, const int16_t *pcm, int frames)
{
	static uint8_t pkt[MAXPKT];
	double best = 1e30;
	long bytes = 0;
	int lbrr = 0, bw[5] = {0}, silk = 0;

	for (int pass = 0; pass < PASSES; pass++) {
		int err;
		OpusEncoder *enc = opus_encoder_create(SRATE, 1,
						       OPUS_APPLICATION_VOIP,
						       &err);
		double t0, t;

		if (!enc) {
			fprintf(stderr, "encoder: %d\n", err);
			exit(1);
		}
		opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(s->complexity));
		opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(s->fec));
		opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(s->loss));
		opus_encoder_ctl(enc, OPUS_SET_BITRATE(s->bitrate));
		opus_encoder_ctl(enc, OPUS_SET_SIGNAL(s->signal));
		if (s->maxbw)
			opus_encoder_ctl(enc, OPUS_SET_MAX_BANDWIDTH(s->maxbw));

		t0 = now_us();
		for (int f = 0; f < frames; f++) {
			const int16_t *in = pcm +
				(size_t)(f % (NSAMP / FRAME)) * FRAME;
			int n = opus_encode(enc, in, FRAME, pkt, MAXPKT);

			if (n < 0) {
				fprintf(stderr, "encode: %d\n", n);
				exit(1);
			}
			if (pass == 0) {
				int b = opus_packet_get_bandwidth(pkt);

				bytes += n;
				lbrr += has_lbrr(pkt, n);
				silk += (pkt[0] >> 3) < 12;
				if (b >= OPUS_BANDWIDTH_NARROWBAND &&
				    b <= OPUS_BANDWIDTH_FULLBAND)
					bw[b - OPUS_BANDWIDTH_NARROWBAND]++;
			}
		}
		t = (now_us() - t0) / frames;
		if (t < best)
			best = t;
		opus_encoder_destroy(enc);
	}

	printf("%-34s %7.1f us %6.1f B %5.1f kbit/s  LBRR %3d%%  "
	       "SILK-only %3d%%  NB/MB/WB/SWB/FB %d/%d/%d/%d/%d\n",
	       s->name, best, (double)bytes / frames,
	       (double)bytes * 8 / frames / 20.0, 100 * lbrr / frames,
	       100 * silk / frames, bw[0], bw[1], bw[2], bw[3], bw[4]);
}


int main(int argc, char **argv)
{
	const int frames = argc > 1 ? atoi(argv[1]) : 500;
	static const struct setting set[] = {
		{"c5 FEC loss10 auto (before)", 5, 1, 10, OPUS_AUTO,
		 OPUS_AUTO, 0},
		{"c5 FEC loss0 auto", 5, 1, 0, OPUS_AUTO, OPUS_AUTO, 0},
		{"c5 noFEC auto", 5, 0, 0, OPUS_AUTO, OPUS_AUTO, 0},
		{"c5 FEC loss0 32k", 5, 1, 0, 32000, OPUS_AUTO, 0},
		{"c5 FEC loss0 32k voice", 5, 1, 0, 32000,
		 OPUS_SIGNAL_VOICE, 0},
		{"c5 FEC loss0 32k voice SWB", 5, 1, 0, 32000,
		 OPUS_SIGNAL_VOICE, OPUS_BANDWIDTH_SUPERWIDEBAND},
		{"c5 FEC loss0 32k voice WB", 5, 1, 0, 32000,
		 OPUS_SIGNAL_VOICE, OPUS_BANDWIDTH_WIDEBAND},
		{"c5 FEC loss0 24k voice", 5, 1, 0, 24000,
		 OPUS_SIGNAL_VOICE, 0},
		{"c5 FEC loss10 32k voice", 5, 1, 10, 32000,
		 OPUS_SIGNAL_VOICE, 0},
		{"c5 FEC loss10 32k voice WB", 5, 1, 10, 32000,
		 OPUS_SIGNAL_VOICE, OPUS_BANDWIDTH_WIDEBAND},
		{"c5 FEC loss25 32k voice", 5, 1, 25, 32000,
		 OPUS_SIGNAL_VOICE, 0},
		{"c3 FEC loss0 32k voice", 3, 1, 0, 32000,
		 OPUS_SIGNAL_VOICE, 0},
		{"c0 FEC loss0 auto", 0, 1, 0, OPUS_AUTO, OPUS_AUTO, 0},
	};
	double *acc = calloc(NSAMP, sizeof(*acc));
	int16_t *pcm = malloc(NSAMP * sizeof(*pcm));
	OpusDecoder *dec;
	int err;

	if (!acc || !pcm || frames <= 0 || frames > 100000)
		return 1;

	for (unsigned v = 0; v < VOICES; v++)
		synth(acc, NSAMP, v + 2);
	for (size_t i = 0; i < NSAMP; i++) {
		double v = acc[i] > 0.95 ? 0.95 : acc[i] < -0.95 ? -0.95
			: acc[i];
		pcm[i] = (int16_t)lrint(v * 32767.0);
	}

	printf("%s, 48 kHz mono, 20 ms, VOIP, %d frames, best of %d\n",
	       opus_get_version_string(), frames, PASSES);
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		run(&set[i], pcm, frames);

	/* decode of what the 'before' setting produces, for reference */
	dec = opus_decoder_create(SRATE, 1, &err);
	if (dec) {
		OpusEncoder *enc = opus_encoder_create(SRATE, 1,
					OPUS_APPLICATION_VOIP, &err);
		static uint8_t pkts[500][MAXPKT];
		static int len[500];
		static int16_t out[FRAME];
		const int nf = frames < 500 ? frames : 500;
		double best = 1e30;

		opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(5));
		for (int f = 0; f < nf; f++)
			len[f] = opus_encode(enc, pcm + (size_t)f * FRAME,
					     FRAME, pkts[f], MAXPKT);
		for (int pass = 0; pass < PASSES; pass++) {
			double t0 = now_us(), t;

			for (int f = 0; f < nf; f++) {
				if (opus_decode(dec, pkts[f], len[f], out,
						FRAME, 0) < 0)
					exit(1);
			}
			t = (now_us() - t0) / nf;
			if (t < best)
				best = t;
		}
		printf("%-34s %7.1f us\n", "decode (c5 auto packets)", best);
		opus_encoder_destroy(enc);
		opus_decoder_destroy(dec);
	}

	free(acc);
	free(pcm);
	return 0;
}
