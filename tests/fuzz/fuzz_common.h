/**
 * @file fuzz_common.h  Helpers shared by the libFuzzer harnesses.
 *
 * Every harness is built with clang -fsanitize=fuzzer,address,undefined
 * (see CMakeLists.txt); a finding is a sanitizer report or an abort from
 * FUZZ_CHECK (an invariant of our own API that the input broke).
 */
#ifndef CHORUS_FUZZ_COMMON_H
#define CHORUS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* an API promise was broken: report and abort (libFuzzer saves the input) */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n",	\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

/* Consume bytes from the front of the input (FuzzedDataProvider-like). */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fin_u8(struct fuzz_in *in)
{
	uint8_t v;

	if (!in->n)
		return 0;
	v = *in->p++;
	--in->n;

	return v;
}

static inline uint16_t fin_u16(struct fuzz_in *in)
{
	uint8_t hi = fin_u8(in);

	return (uint16_t)(hi << 8 | fin_u8(in));
}

static inline uint32_t fin_u32(struct fuzz_in *in)
{
	uint32_t hi = fin_u16(in);

	return hi << 16 | fin_u16(in);
}

/* Take up to max bytes; *lenp gets how many. */
static inline const uint8_t *fin_bytes(struct fuzz_in *in, size_t max,
				       size_t *lenp)
{
	const uint8_t *p = in->p;
	size_t l = max < in->n ? max : in->n;

	in->p += l;
	in->n -= l;
	*lenp = l;

	return p;
}

#endif
