/**
 * @file mix_avx512.c  AVX-512 kernels (compiled with -mavx512f -mavx512bw)
 */
#include <simde/x86/avx512.h>
#include "mix_kernels.h"

#define MIX_SFX avx512

typedef simde__m512i V;
#define VW 16

static inline V v_ld(const void *p) { return simde_mm512_loadu_si512(p); }
static inline void v_st(void *p, V v) { simde_mm512_storeu_si512(p, v); }
static inline V v_zero(void) { return simde_mm512_setzero_si512(); }
static inline V v_set1(int32_t a) { return simde_mm512_set1_epi32(a); }
static inline V v_add(V a, V b) { return simde_mm512_add_epi32(a, b); }
static inline V v_sub(V a, V b) { return simde_mm512_sub_epi32(a, b); }
static inline V v_madd(V a, V b) { return simde_mm512_madd_epi16(a, b); }
static inline V v_max16(V a, V b) { return simde_mm512_max_epi16(a, b); }
static inline V v_min16(V a, V b) { return simde_mm512_min_epi16(a, b); }
static inline V v_max32(V a, V b) { return simde_mm512_max_epi32(a, b); }
static inline V v_min32(V a, V b) { return simde_mm512_min_epi32(a, b); }
#define v_srli(v, i) simde_mm512_srli_epi32(v, i)

/*
 * SIMDe 0.7.4 (Debian bookworm) lacks the 512-bit vpsrad and vpmovsxwd:
 * use the native intrinsics when compiled for AVX-512 (always, on x86),
 * else two 256-bit halves.
 */
#if defined(SIMDE_X86_AVX512F_NATIVE) && defined(SIMDE_X86_AVX512BW_NATIVE)
#define v_srai(v, i) _mm512_srai_epi32(v, i)

static inline V v_sra(V v, unsigned sh)
{
	return _mm512_sra_epi32(v, _mm_cvtsi32_si128((int)sh));
}

static inline V v_cvt16(simde__m256i x) { return _mm512_cvtepi16_epi32(x); }
#else
static inline V v_join(simde__m256i lo, simde__m256i hi)
{
	return simde_mm512_inserti64x4(simde_mm512_castsi256_si512(lo), hi, 1);
}

#define v_srai(v, i) v_join( \
	simde_mm256_srai_epi32(simde_mm512_castsi512_si256(v), i), \
	simde_mm256_srai_epi32(simde_mm512_extracti64x4_epi64(v, 1), i))

static inline V v_sra(V v, unsigned sh)
{
	simde__m128i c = simde_mm_cvtsi32_si128((int)sh);

	return v_join(simde_mm256_sra_epi32(simde_mm512_castsi512_si256(v), c),
		simde_mm256_sra_epi32(simde_mm512_extracti64x4_epi64(v, 1), c));
}

static inline V v_cvt16(simde__m256i x)
{
	return v_join(simde_mm256_cvtepi16_epi32(simde_mm256_castsi256_si128(x)),
		simde_mm256_cvtepi16_epi32(simde_mm256_extracti128_si256(x, 1)));
}
#endif

static inline V v_ld_half_z(const int16_t *p)
{
	return simde_mm512_inserti64x4(simde_mm512_setzero_si512(),
		simde_mm256_loadu_si256((const void *)p), 0);
}

static inline V v_widen_lo(V x)
{
	return v_cvt16(simde_mm512_castsi512_si256(x));
}

static inline void v_widen(V x, V *lo, V *hi)
{
	*lo = v_widen_lo(x);
	*hi = v_cvt16(simde_mm512_extracti64x4_epi64(x, 1));
}

/* vpackssdw interleaves per 128-bit lane: gather the quadwords back. */
static const int64_t pack_idx[8] __attribute__((aligned(64))) = {
	0, 2, 4, 6, 1, 3, 5, 7
};
static const int32_t lanes1[16] __attribute__((aligned(64))) = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
};

/* Constants come from memory: built in registers they cost a dozen
 * instructions per call. */
static inline V v_pack(V lo, V hi)
{
	const V idx = simde_mm512_load_si512(pack_idx);

	return simde_mm512_permutexvar_epi64(idx,
					     simde_mm512_packs_epi32(lo, hi));
}

static inline void v_st_half(int16_t *p, V lo)
{
	simde_mm256_storeu_si256((void *)p, simde_mm512_cvtsepi32_epi16(lo));
}

static inline V v_mullo(V a, V b) { return simde_mm512_mullo_epi32(a, b); }
static inline V v_lanes1(void) { return simde_mm512_load_si512(lanes1); }

static inline void v_ld_widen(const int16_t *p, V *lo, V *hi)
{
	*lo = v_cvt16(simde_mm256_loadu_si256((const void *)p));
	*hi = v_cvt16(simde_mm256_loadu_si256((const void *)(p + 16)));
}
static inline V v_mulhi16(V a, V b) { return simde_mm512_mulhi_epi16(a, b); }
static inline V v_subs16(V a, V b) { return simde_mm512_subs_epi16(a, b); }

#include "mix_simd.h"
