/**
 * @file dispatch.c  Kernel selection by CPU detection (the libopus
 * x86_celt_map.c pattern: one table per ISA, chosen once per mixer)
 */
#include <stdlib.h>
#include <string.h>
#include "mix_kernels.h"

static const char *isa_names[MIX_ISA_COUNT] = {
	[MIX_ISA_AUTO]   = "auto",
	[MIX_ISA_SCALAR] = "scalar",
	[MIX_ISA_SSE2]   = "sse2",
	[MIX_ISA_AVX2]   = "avx2",
	[MIX_ISA_AVX512] = "avx512",
	[MIX_ISA_NEON]   = "neon",
};

unsigned mix_isa_supported(void)
{
	unsigned mask = 1u << MIX_ISA_SCALAR;

#ifdef MIX_HAVE_X86
	/* gcc's cpu model also checks that the OS saves the wide
	 * registers (XGETBV), so AVX/AVX-512 bits imply OS support. */
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse2"))
		mask |= 1u << MIX_ISA_SSE2;
	if (__builtin_cpu_supports("avx2"))
		mask |= 1u << MIX_ISA_AVX2;
	if (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512bw"))
		mask |= 1u << MIX_ISA_AVX512;
#endif
#ifdef MIX_HAVE_NEON
	mask |= 1u << MIX_ISA_NEON;
#endif
	return mask;
}

const char *mix_isa_name(enum mix_isa isa)
{
	if ((unsigned)isa >= MIX_ISA_COUNT)
		return "?";
	return isa_names[isa];
}

enum mix_isa mix_isa_from_name(const char *name)
{
	int i;

	if (!name)
		return MIX_ISA_AUTO;
	for (i = MIX_ISA_SCALAR; i < MIX_ISA_COUNT; i++) {
		if (!strcmp(name, isa_names[i]))
			return (enum mix_isa)i;
	}
	return MIX_ISA_AUTO;
}

enum mix_isa mix_isa_default(void)
{
	static const enum mix_isa pref[] = {
		MIX_ISA_AVX512, MIX_ISA_AVX2, MIX_ISA_SSE2, MIX_ISA_NEON,
	};
	unsigned mask = mix_isa_supported();
	enum mix_isa env = mix_isa_from_name(getenv("CHORUS_MIX_ISA"));
	size_t i;

	if (env != MIX_ISA_AUTO && (mask & (1u << env)))
		return env;
	for (i = 0; i < sizeof(pref) / sizeof(pref[0]); i++) {
		if (mask & (1u << pref[i]))
			return pref[i];
	}
	return MIX_ISA_SCALAR;
}

const struct mix_kernels *mix_kernels_get(enum mix_isa isa)
{
	switch (isa) {
	case MIX_ISA_SCALAR: return &mix_kernels_c;
#ifdef MIX_HAVE_X86
	case MIX_ISA_SSE2:   return &mix_kernels_sse2;
	case MIX_ISA_AVX2:   return &mix_kernels_avx2;
	case MIX_ISA_AVX512: return &mix_kernels_avx512;
#endif
#ifdef MIX_HAVE_NEON
	case MIX_ISA_NEON:   return &mix_kernels_neon;
#endif
	default:             return NULL;
	}
}
