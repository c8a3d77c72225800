/**
 * @file test_mix_kernels.c  Every compiled SIMD kernel is bit-exact with
 * the scalar reference, on random and extreme inputs and odd lengths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../../mixer/mix_priv.h"

#define MAXN MIX_KERNEL_MAX_N
#define PAD  64   /* guard samples after each buffer */

static const size_t lens[] = {
	0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49,
	63, 64, 65, 80, 95, 97, 160, 479, 480, 961, 960, 1001, 2880,
};

enum pattern { P_RANDOM, P_SILENCE, P_MIN, P_MAX, P_ALTERNATE, P_SMALL,
	       P_COUNT };

static uint32_t rng = 12345;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void fill16(int16_t *x, size_t n, enum pattern p)
{
	size_t i;

	for (i = 0; i < n + PAD; i++) {
		switch (p) {
		case P_RANDOM:    x[i] = (int16_t)rnd(); break;
		case P_SILENCE:   x[i] = 0; break;
		case P_MIN:       x[i] = INT16_MIN; break;
		case P_MAX:       x[i] = INT16_MAX; break;
		case P_ALTERNATE: x[i] = (i & 1) ? INT16_MAX : INT16_MIN; break;
		default:          x[i] = (int16_t)((int)(rnd() % 65) - 32); break;
		}
	}
}

/* Sums as the mixer sees them: up to ~2^30 in magnitude. */
static void fill32(int32_t *s, size_t n, enum pattern p, int bits)
{
	size_t i;

	for (i = 0; i < n + PAD; i++) {
		int32_t m = (int32_t)(1u << bits);

		switch (p) {
		case P_SILENCE: s[i] = 0; break;
		case P_MIN:     s[i] = -m; break;
		case P_MAX:     s[i] = m - 1; break;
		default:        s[i] = (int32_t)(rnd() % (2u * (uint32_t)m)) - m;
		}
	}
}

static struct mix_ramp ramp_of(unsigned r, size_t n)
{
	switch (r) {
	case 0:  return mix_ramp_const(MIX_ONE);
	case 1:  return mix_ramp_const(5000);
	case 2:  return mix_ramp_const(32612);
	case 3:  return mix_ramp_make(0, 32612, n ? n : 1);
	case 4:  return mix_ramp_make(MIX_ONE, 0, n ? n : 1);
	default: return mix_ramp_make(819, 20000, n ? n : 1);
	}
}

static const struct mix_kernels *others[MIX_ISA_COUNT];
static const char *other_names[MIX_ISA_COUNT];
static unsigned nothers;

static int setup(void **state)
{
	unsigned mask = mix_isa_supported();
	int i;

	nothers = 0;
	for (i = MIX_ISA_SSE2; i < MIX_ISA_COUNT; i++) {
		if ((mask & (1u << i)) && mix_kernels_get((enum mix_isa)i)) {
			others[nothers] = mix_kernels_get((enum mix_isa)i);
			other_names[nothers++] = mix_isa_name((enum mix_isa)i);
		}
	}
	print_message("kernels compared with scalar: %u\n", nothers);
	return 0;
}

static int16_t xa[MAXN + PAD] __attribute__((aligned(64)));
static int32_t sa[MAXN + PAD] __attribute__((aligned(64)));
static int32_t sr[MAXN + PAD] __attribute__((aligned(64)));
static int32_t sk[MAXN + PAD] __attribute__((aligned(64)));
static int16_t orf[MAXN + PAD] __attribute__((aligned(64)));
static int16_t ok_[MAXN + PAD] __attribute__((aligned(64)));

static void test_reference_values(void **state)
{
	const struct mix_kernels *c = &mix_kernels_c;
	int16_t x[5] = { 100, -200, INT16_MIN, 3, 0 };
	int32_t s[5] = { 1, 2, 3, 4, 5 };
	int16_t o[5];
	uint32_t pk;
	uint64_t e;

	e = c->acc(s, x, 5, mix_ramp_const(MIX_ONE), &pk);
	assert_int_equal(s[0], 101);
	assert_int_equal(s[1], -198);
	assert_int_equal(s[2], -32765);
	assert_int_equal(pk, 32768);
	/* pairs: (100^2+200^2)>>8 = 195, (2^30+9)>>8 = 4194304, 0 */
	assert_int_equal(e, 195 + 4194304);

	/* Half gain: (x * 4096) >> 13, floor. */
	memset(s, 0, sizeof(s));
	c->acc(s, x, 5, mix_ramp_const(MIX_ONE / 2), &pk);
	assert_int_equal(s[0], 50);
	assert_int_equal(s[1], -100);
	assert_int_equal(s[2], -16384);
	assert_int_equal(s[3], 1);

	s[0] = 40000; s[1] = -40000; s[2] = 7; s[3] = 0; s[4] = -7;
	c->sub_sat(o, s, NULL, 5);
	assert_int_equal(o[0], INT16_MAX);
	assert_int_equal(o[1], INT16_MIN);
	assert_int_equal(o[2], 7);
	assert_int_equal(c->peak(s, NULL, 5, mix_ramp_const(MIX_ONE)), 40000);

	/* d >> 2 then * 2.0 (Q13 16384) >> 13 */
	c->out(o, s, NULL, 5, mix_ramp_const(MIX_ONE), 2,
	       mix_ramp_const(2 * MIX_ONE));
	assert_int_equal(o[0], 20000);
	assert_int_equal(o[1], -20000);
	assert_int_equal(o[2], 2);
	assert_int_equal(o[4], -4);   /* -7 >> 2 = -2, times 2 */
}

static void test_ramp_endpoints(void **state)
{
	struct mix_ramp r = mix_ramp_make(0, MIX_ONE, 960);

	assert_true(mix_ramp_gain(r, 0) < 16);
	assert_true(mix_ramp_gain(r, 959) >= MIX_ONE - 1);
	assert_int_equal(mix_ramp_gain(mix_ramp_at(r, 480), 0),
			 mix_ramp_gain(r, 480));
}

static void compare_all(size_t n, enum pattern px, enum pattern ps,
			unsigned ri, unsigned sh)
{
	const struct mix_kernels *c = &mix_kernels_c;
	struct mix_ramp gi = ramp_of(ri, n);
	struct mix_ramp go = ramp_of((ri + 3) % 6, n);
	unsigned k;

	fill16(xa, n, px);
	fill32(sa, n, ps, ps == P_SMALL ? 14 : 20 + (int)sh);

	for (k = 0; k < nothers; k++) {
		const struct mix_kernels *v = others[k];
		uint32_t pr, pv;
		uint64_t er, ev;
		int withx;

		/* acc */
		memcpy(sr, sa, sizeof(sa));
		memcpy(sk, sa, sizeof(sa));
		er = c->acc(sr, xa, n, gi, &pr);
		ev = v->acc(sk, xa, n, gi, &pv);
		if (memcmp(sr, sk, sizeof(sr)) || er != ev || pr != pv)
			fail_msg("%s acc n=%zu px=%d ramp=%u", other_names[k],
				 n, px, ri);

		/* energy */
		er = c->energy(xa, n, &pr);
		ev = v->energy(xa, n, &pv);
		if (er != ev || pr != pv)
			fail_msg("%s energy n=%zu px=%d", other_names[k], n, px);

		for (withx = 0; withx < 2; withx++) {
			const int16_t *x = withx ? xa : NULL;

			if (c->peak(sa, x, n, gi) != v->peak(sa, x, n, gi))
				fail_msg("%s peak n=%zu x=%d ramp=%u",
					 other_names[k], n, withx, ri);

			memset(orf, 0x55, sizeof(orf));
			memset(ok_, 0x55, sizeof(ok_));
			c->out(orf, sa, x, n, gi, sh, go);
			v->out(ok_, sa, x, n, gi, sh, go);
			if (memcmp(orf, ok_, sizeof(orf)))
				fail_msg("%s out n=%zu x=%d ramp=%u sh=%u",
					 other_names[k], n, withx, ri, sh);

			memset(orf, 0x55, sizeof(orf));
			memset(ok_, 0x55, sizeof(ok_));
			c->sub_sat(orf, sa, x, n);
			v->sub_sat(ok_, sa, x, n);
			if (memcmp(orf, ok_, sizeof(orf)))
				fail_msg("%s sub_sat n=%zu x=%d",
					 other_names[k], n, withx);
			/* guard area untouched */
			assert_int_equal(ok_[n], 0x5555);
		}
	}
}

static void test_bitexact_all_lengths(void **state)
{
	size_t li;
	int px, ps;
	unsigned ri, sh;

	for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
		for (px = 0; px < P_COUNT; px++)
			for (ps = 0; ps < P_COUNT; ps++)
				for (ri = 0; ri < 6; ri++)
					for (sh = 0; sh < 8; sh += 3)
						compare_all(lens[li], px, ps,
							    ri, sh);
}

static void test_bitexact_random_soak(void **state)
{
	unsigned it;

	for (it = 0; it < 3000; it++) {
		size_t n = rnd() % (MAXN + 1);

		compare_all(n, P_RANDOM, P_RANDOM, rnd() % 6, rnd() % 10);
	}
}

/* Kernels never read or write beyond n: unaligned starting points. */
static void test_unaligned_offsets(void **state)
{
	const struct mix_kernels *c = &mix_kernels_c;
	size_t off, n = 77;
	unsigned k;

	fill16(xa, MAXN - PAD, P_RANDOM);
	fill32(sa, MAXN - PAD, P_RANDOM, 18);
	for (k = 0; k < nothers; k++) {
		for (off = 1; off < 40; off += 3) {
			struct mix_ramp g = mix_ramp_make(100, 30000, n);

			memset(orf, 0, sizeof(orf));
			memset(ok_, 0, sizeof(ok_));
			c->out(orf + off, sa + off, xa + off, n, g, 1, g);
			others[k]->out(ok_ + off, sa + off, xa + off, n, g, 1,
				       g);
			assert_memory_equal(orf, ok_, sizeof(orf));
		}
	}
}

/* out_curve: random per-block shifts and gain ramps, all block sizes. */
static struct mix_ramp gcurve[60];

static void test_bitexact_curve(void **state)
{
	static const size_t blks[] = { 8, 16, 24, 32, 48, 5, 13 };
	const struct mix_kernels *c = &mix_kernels_c;
	uint8_t sh[60];
	unsigned it, k, b;

	for (it = 0; it < 400; it++) {
		size_t blk = blks[it % 7];
		unsigned nblk = 1 + rnd() % 60;
		size_t n = blk * nblk;
		struct mix_ramp gi = ramp_of(rnd() % 6, n);
		int withx = it % 3 != 0;

		for (b = 0; b < nblk; b++) {
			/* constant, rising, falling; from and to the limits */
			int32_t q0 = (int32_t)(rnd() % 4 ? rnd() % 32768 :
					       (rnd() & 1) * 32767);
			int32_t q1 = rnd() % 3 ? (int32_t)(rnd() % 32768) : q0;

			sh[b] = (uint8_t)(rnd() % 12);
			gcurve[b].base = q0 * MIX_ONE;
			gcurve[b].step = (q1 - q0) * MIX_ONE / (int32_t)blk;
		}
		fill16(xa, n, it % 5 ? P_RANDOM : P_ALTERNATE);
		fill32(sa, n, P_RANDOM, 16 + (int)(rnd() % 12));
		for (k = 0; k < nothers; k++) {
			const int32_t hg = (int32_t)(rnd() % 32768);
			int32_t mr, mk;

			/* curve16: the same ramps as 16-bit own gains */
			memset(orf, 0x55, sizeof(orf));
			memset(ok_, 0x55, sizeof(ok_));
			mr = c->curve16(orf, gcurve, sh, blk, nblk, hg,
					MIX_Q - 3);
			mk = others[k]->curve16(ok_, gcurve, sh, blk, nblk, hg,
						MIX_Q - 3);
			if (mr != mk || memcmp(orf, ok_, sizeof(orf)))
				fail_msg("%s curve16 blk=%zu nblk=%u gi=%d",
					 other_names[k], blk, nblk, hg);

			memset(orf, 0x55, sizeof(orf));
			memset(ok_, 0x55, sizeof(ok_));
			c->out_curve(orf, sa, withx ? xa : NULL, blk, nblk, gi,
				     gcurve, sh);
			others[k]->out_curve(ok_, sa, withx ? xa : NULL, blk,
					     nblk, gi, gcurve, sh);
			if (memcmp(orf, ok_, sizeof(orf)))
				fail_msg("%s out_curve blk=%zu nblk=%u",
					 other_names[k], blk, nblk);
		}
	}

	/* Reference: block 1 uses its own shift and ramps from 1 to 2:
	 * its samples 0, 1 get gains 9/8 and 10/8 (floored). */
	fill32(sa, 16, P_SILENCE, 0);
	sa[0] = 1000; sa[7] = 1000; sa[8] = 1000; sa[9] = 1000;
	gcurve[0] = mix_ramp_const(MIX_ONE);
	gcurve[1] = mix_ramp_make(MIX_ONE, 2 * MIX_ONE, 8);
	sh[0] = 0; sh[1] = 2;
	c->out_curve(orf, sa, NULL, 8, 2, mix_ramp_const(MIX_ONE), gcurve, sh);
	assert_int_equal(orf[0], 1000);
	assert_int_equal(orf[7], 1000);
	assert_int_equal(orf[8], 281);
	assert_int_equal(orf[9], 312);
	for (k = 0; k < nothers; k++) {
		others[k]->out_curve(ok_, sa, NULL, 8, 2,
				     mix_ramp_const(MIX_ONE), gcurve, sh);
		assert_memory_equal(orf, ok_, 16 * sizeof(orf[0]));
	}

	/* curve16 of those ramps at gi = 1.0, q = 10: block 0 gain 1.0
	 * -> 2^13 * 2^13 >> 10 = 65536 (the maximum) saturates; block 1
	 * (shift 2) at 9/8 -> 9216 * 8192 >> 12 = 18432. */
	assert_int_equal(c->curve16(orf, gcurve, sh, 8, 2, MIX_ONE, MIX_Q - 3),
			 (MIX_ONE * MIX_ONE) >> (MIX_Q - 3));
	assert_int_equal(orf[0], INT16_MAX);
	assert_int_equal(orf[8], 18432);
}

/* acc2: two frames in one pass equal two acc() calls, on every ISA. */
static int16_t xb[MAXN + PAD] __attribute__((aligned(64)));

static void test_bitexact_acc2(void **state)
{
	static const int32_t gains[][2] = {
		{ MIX_ONE, MIX_ONE }, { MIX_ONE, 5000 }, { 32612, 0 },
		{ 0, MIX_ONE }, { 819, 32767 },
	};
	const struct mix_kernels *c = &mix_kernels_c;
	size_t li;
	unsigned gk, k;
	int p;

	for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		for (p = 0; p < P_COUNT; p++) {
			size_t n = lens[li];

			for (gk = 0; gk < 5; gk++) {
				const int32_t ga = gains[gk][0];
				const int32_t gb = gains[gk][1];
				uint32_t pr[2], pv[2];
				uint64_t er[2], ev[2];

				fill16(xa, n, (enum pattern)p);
				fill16(xb, n, (enum pattern)((p + gk) % P_COUNT));
				fill32(sa, n, P_RANDOM, 24);

				/* the specification: two acc() calls */
				memcpy(sr, sa, sizeof(sa));
				er[0] = c->acc(sr, xa, n, mix_ramp_const(ga),
					       &pr[0]);
				er[1] = c->acc(sr, xb, n, mix_ramp_const(gb),
					       &pr[1]);
				memcpy(sk, sa, sizeof(sa));
				c->acc2(sk, xa, xb, n, ga, gb, ev, pv);
				assert_memory_equal(sr, sk, sizeof(sr));
				assert_memory_equal(er, ev, sizeof(er));
				assert_memory_equal(pr, pv, sizeof(pr));

				for (k = 0; k < nothers; k++) {
					memcpy(sk, sa, sizeof(sa));
					memset(ev, 0, sizeof(ev));
					memset(pv, 0, sizeof(pv));
					others[k]->acc2(sk, xa, xb, n, ga, gb,
							ev, pv);
					if (memcmp(sr, sk, sizeof(sr)) ||
					    memcmp(er, ev, sizeof(er)) ||
					    memcmp(pr, pv, sizeof(pr)))
						fail_msg("%s acc2 n=%zu p=%d g=%u",
							 other_names[k], n, p,
							 gk);
				}
			}
		}
	}
}

/* The level estimate (level.c) equals a binary search over the
 * thresholds: at every threshold +-3, small, huge and random energies,
 * for every frame length class. */
static unsigned level_ref(const struct mixer *mix, uint64_t e)
{
	unsigned lo = 0, hi = MIX_LEVELS;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (e >= mix->lvl_thr[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void test_level_search(void **state)
{
	static const uint32_t cfgs[][2] = {
		{ 8000, 10 }, { 16000, 20 }, { 24000, 30 }, { 48000, 20 },
		{ 48000, 60 }, { 32000, 10 },
	};
	unsigned c, l, i;
	int d;

	for (c = 0; c < 6; c++) {
		struct mix_cfg cfg = { cfgs[c][0], cfgs[c][1], 2, 0,
				       MIX_ISA_SCALAR };
		struct mixer *mix = NULL;

		assert_int_equal(mix_alloc(&mix, &cfg), 0);
		for (l = 0; l < MIX_LEVELS; l++) {
			for (d = -3; d <= 3; d++) {
				uint64_t e = mix->lvl_thr[l] + (uint64_t)d;

				if (d < 0 && mix->lvl_thr[l] < (uint64_t)-d)
					continue;
				assert_int_equal(mix_level_of(mix, e),
						 level_ref(mix, e));
			}
		}
		for (i = 0; i < 100000; i++) {
			uint64_t e = ((uint64_t)rnd() << 32 | rnd()) >>
				(rnd() % 64);

			assert_int_equal(mix_level_of(mix, e),
					 level_ref(mix, e));
		}
		for (i = 0; i < 5000; i++)
			assert_int_equal(mix_level_of(mix, i),
					 level_ref(mix, i));
		assert_int_equal(mix_level_of(mix, 0), MIX_LEVEL_SILENT);
		assert_int_equal(mix_level_of(mix, UINT64_MAX), 0);
		mix_free(mix);
	}
}

static int16_t ha[MAXN + PAD] __attribute__((aligned(64)));
static int16_t aa[MAXN + PAD] __attribute__((aligned(64)));

static int16_t xz[MAXN + PAD] __attribute__((aligned(64)));

/* x[0..n) is zero and the guard samples after it are those of ref */
static bool zeroed_upto(const int16_t *x, const int16_t *ref, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (x[i])
			return false;
	}
	return !memcmp(x + n, ref + n, PAD * sizeof(*x));
}

static void test_bitexact_sub_mulhi(void **state)
{
	const struct mix_kernels *c = &mix_kernels_c;
	size_t li;
	unsigned k;
	int p;

	for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		for (p = 0; p < P_COUNT; p++) {
			size_t n = lens[li];

			fill16(xa, n, (enum pattern)p);
			fill16(ha, n, (enum pattern)((p + 1) % P_COUNT));
			fill16(aa, n, (enum pattern)((p + 3) % P_COUNT));
			for (k = 0; k < nothers; k++) {
				memset(orf, 0x55, sizeof(orf));
				memset(ok_, 0x55, sizeof(ok_));
				c->sub_mulhi(orf, aa, xa, ha, n);
				others[k]->sub_mulhi(ok_, aa, xa, ha, n);
				if (memcmp(orf, ok_, sizeof(orf)))
					fail_msg("%s sub_mulhi n=%zu p=%d",
						 other_names[k], n, p);
			}
			/* _z variants: the same output, then exactly
			 * x[0..n) cleared (the guard after it kept) */
			for (k = 0; k <= nothers; k++) {
				const struct mix_kernels *v =
					k < nothers ? others[k] : c;

				memcpy(xz, xa, sizeof(xz));
				memset(ok_, 0x55, sizeof(ok_));
				v->sub_mulhi_z(ok_, aa, xz, ha, n);
				if (memcmp(orf, ok_, sizeof(orf)) ||
				    !zeroed_upto(xz, xa, n))
					fail_msg("%s sub_mulhi_z n=%zu p=%d",
						 k < nothers ? other_names[k] :
						 "scalar", n, p);
			}
			for (k = 0; k <= nothers; k++) {
				const struct mix_kernels *v =
					k < nothers ? others[k] : c;
				uint32_t pr, pv;
				uint64_t er = c->energy(xa, n, &pr), ev;

				memcpy(xz, xa, sizeof(xz));
				ev = v->energy_z(xz, n, &pv);
				if (er != ev || pr != pv || !zeroed_upto(xz, xa, n))
					fail_msg("%s energy_z n=%zu p=%d",
						 k < nothers ? other_names[k] :
						 "scalar", n, p);
			}
		}
	}
	aa[0] = 1000; xa[0] = 16384; ha[0] = 8192;     /* 16384*8192>>16 */
	aa[1] = -32768; xa[1] = 100; ha[1] = 32767;    /* saturates */
	aa[2] = 5; xa[2] = -1; ha[2] = 1;              /* floor: -1 */
	c->sub_mulhi(orf, aa, xa, ha, 3);
	assert_int_equal(orf[0], 1000 - 2048);
	assert_int_equal(orf[1], -32768);
	assert_int_equal(orf[2], 6);
}

static void test_isa_names(void **state)
{
	int i;

	assert_int_equal(mix_isa_from_name("avx2"), MIX_ISA_AVX2);
	assert_int_equal(mix_isa_from_name("bogus"), MIX_ISA_AUTO);
	assert_int_equal(mix_isa_from_name(NULL), MIX_ISA_AUTO);
	for (i = MIX_ISA_SCALAR; i < MIX_ISA_COUNT; i++)
		assert_int_equal(mix_isa_from_name(
			mix_isa_name((enum mix_isa)i)), i);
	assert_true(mix_isa_supported() & (1u << MIX_ISA_SCALAR));
	assert_non_null(mix_kernels_get(MIX_ISA_SCALAR));
	assert_null(mix_kernels_get(MIX_ISA_AUTO));

	setenv("CHORUS_MIX_ISA", "scalar", 1);
	assert_int_equal(mix_isa_default(), MIX_ISA_SCALAR);
	unsetenv("CHORUS_MIX_ISA");
#if defined(__x86_64__)
	if (__builtin_cpu_supports("avx2"))
		assert_true(mix_isa_supported() & (1u << MIX_ISA_AVX2));
	assert_int_not_equal(mix_isa_default(), MIX_ISA_SCALAR);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_values),
		cmocka_unit_test(test_ramp_endpoints),
		cmocka_unit_test(test_bitexact_all_lengths),
		cmocka_unit_test(test_bitexact_random_soak),
		cmocka_unit_test(test_unaligned_offsets),
		cmocka_unit_test(test_bitexact_curve),
		cmocka_unit_test(test_bitexact_acc2),
		cmocka_unit_test(test_level_search),
		cmocka_unit_test(test_bitexact_sub_mulhi),
		cmocka_unit_test(test_isa_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
