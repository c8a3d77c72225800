/**
 * @file mix_sse2.c  SSE2 kernels (compiled with -msse2; on ARM the same
 * source becomes the NEON kernels through SIMDe, see mix_neon.c)
 */
#include <simde/x86/sse2.h>
#include <simde/x86/sse4.1.h>   /* pmulld, emulated on SSE2 (per ramp only) */
#include "mix_kernels.h"

#ifndef MIX_SFX
#define MIX_SFX sse2
#endif

typedef simde__m128i V;
#define VW 4

static inline V v_ld(const void *p) { return simde_mm_loadu_si128(p); }
static inline void v_st(void *p, V v) { simde_mm_storeu_si128(p, v); }
static inline V v_zero(void) { return simde_mm_setzero_si128(); }
static inline V v_set1(int32_t a) { return simde_mm_set1_epi32(a); }
static inline V v_add(V a, V b) { return simde_mm_add_epi32(a, b); }
static inline V v_sub(V a, V b) { return simde_mm_sub_epi32(a, b); }
static inline V v_madd(V a, V b) { return simde_mm_madd_epi16(a, b); }
static inline V v_max16(V a, V b) { return simde_mm_max_epi16(a, b); }
static inline V v_min16(V a, V b) { return simde_mm_min_epi16(a, b); }
#define v_srai(v, i) simde_mm_srai_epi32(v, i)
#define v_srli(v, i) simde_mm_srli_epi32(v, i)

static inline V v_sra(V v, unsigned sh)
{
	return simde_mm_sra_epi32(v, simde_mm_cvtsi32_si128((int)sh));
}

/* SSE2 has no pmaxsd/pminsd: select through a compare mask. */
static inline V v_max32(V a, V b)
{
	V m = simde_mm_cmpgt_epi32(a, b);

	return simde_mm_or_si128(simde_mm_and_si128(m, a),
				 simde_mm_andnot_si128(m, b));
}

static inline V v_min32(V a, V b)
{
	V m = simde_mm_cmplt_epi32(a, b);

	return simde_mm_or_si128(simde_mm_and_si128(m, a),
				 simde_mm_andnot_si128(m, b));
}

static inline V v_ld_half_z(const int16_t *p)
{
	return simde_mm_loadl_epi64((const void *)p);
}

/* No pmovsxwd in SSE2: duplicate each word, shift the copy down. */
static inline void v_widen(V x, V *lo, V *hi)
{
	*lo = simde_mm_srai_epi32(simde_mm_unpacklo_epi16(x, x), 16);
	*hi = simde_mm_srai_epi32(simde_mm_unpackhi_epi16(x, x), 16);
}

static inline V v_widen_lo(V x)
{
	return simde_mm_srai_epi32(simde_mm_unpacklo_epi16(x, x), 16);
}

static inline V v_pack(V lo, V hi) { return simde_mm_packs_epi32(lo, hi); }

static inline void v_st_half(int16_t *p, V lo)
{
	simde_mm_storel_epi64((void *)p, simde_mm_packs_epi32(lo, lo));
}

static inline V v_mullo(V a, V b) { return simde_mm_mullo_epi32(a, b); }
static inline V v_lanes1(void) { return simde_mm_set_epi32(4, 3, 2, 1); }

static inline void v_ld_widen(const int16_t *p, V *lo, V *hi)
{
	v_widen(v_ld(p), lo, hi);
}
static inline V v_mulhi16(V a, V b) { return simde_mm_mulhi_epi16(a, b); }
static inline V v_subs16(V a, V b) { return simde_mm_subs_epi16(a, b); }

#include "mix_simd.h"
