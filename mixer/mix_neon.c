/**
 * @file mix_neon.c  NEON kernels: the SSE2 source compiled for ARM, where
 * SIMDe implements each SSE2 intrinsic with NEON instructions.
 */
#define MIX_SFX neon
#include "mix_sse2.c"
