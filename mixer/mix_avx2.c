/**
 * @file mix_avx2.c  AVX2 kernels (compiled with -mavx2)
 */
#include <simde/x86/avx2.h>
#include "mix_kernels.h"

#define MIX_SFX avx2

typedef simde__m256i V;
#define VW 8

static inline V v_ld(const void *p) { return simde_mm256_loadu_si256(p); }
static inline void v_st(void *p, V v) { simde_mm256_storeu_si256(p, v); }
static inline V v_zero(void) { return simde_mm256_setzero_si256(); }
static inline V v_set1(int32_t a) { return simde_mm256_set1_epi32(a); }
static inline V v_add(V a, V b) { return simde_mm256_add_epi32(a, b); }
static inline V v_sub(V a, V b) { return simde_mm256_sub_epi32(a, b); }
static inline V v_madd(V a, V b) { return simde_mm256_madd_epi16(a, b); }
static inline V v_max16(V a, V b) { return simde_mm256_max_epi16(a, b); }
static inline V v_min16(V a, V b) { return simde_mm256_min_epi16(a, b); }
static inline V v_max32(V a, V b) { return simde_mm256_max_epi32(a, b); }
static inline V v_min32(V a, V b) { return simde_mm256_min_epi32(a, b); }
#define v_srai(v, i) simde_mm256_srai_epi32(v, i)
#define v_srli(v, i) simde_mm256_srli_epi32(v, i)

static inline V v_sra(V v, unsigned sh)
{
	return simde_mm256_sra_epi32(v, simde_mm_cvtsi32_si128((int)sh));
}

static inline V v_ld_half_z(const int16_t *p)
{
	return simde_mm256_zextsi128_si256(simde_mm_loadu_si128((const void *)p));
}

static inline V v_widen_lo(V x)
{
	return simde_mm256_cvtepi16_epi32(simde_mm256_castsi256_si128(x));
}

static inline void v_widen(V x, V *lo, V *hi)
{
	*lo = v_widen_lo(x);
	*hi = simde_mm256_cvtepi16_epi32(simde_mm256_extracti128_si256(x, 1));
}

/* vpackssdw works per 128-bit lane: restore sample order. */
static inline V v_pack(V lo, V hi)
{
	return simde_mm256_permute4x64_epi64(simde_mm256_packs_epi32(lo, hi),
					     0xD8);
}

static inline void v_st_half(int16_t *p, V lo)
{
	simde_mm_storeu_si128((void *)p,
		simde_mm_packs_epi32(simde_mm256_castsi256_si128(lo),
				     simde_mm256_extracti128_si256(lo, 1)));
}

static inline V v_mullo(V a, V b) { return simde_mm256_mullo_epi32(a, b); }
static inline V v_lanes1(void) { return simde_mm256_set_epi32(8, 7, 6, 5, 4, 3, 2, 1); }

/* vpmovsxwd straight from memory: no lane extract. */
static inline void v_ld_widen(const int16_t *p, V *lo, V *hi)
{
	*lo = simde_mm256_cvtepi16_epi32(simde_mm_loadu_si128((const void *)p));
	*hi = simde_mm256_cvtepi16_epi32(
		simde_mm_loadu_si128((const void *)(p + 8)));
}
static inline V v_mulhi16(V a, V b) { return simde_mm256_mulhi_epi16(a, b); }
static inline V v_subs16(V a, V b) { return simde_mm256_subs_epi16(a, b); }

#include "mix_simd.h"
