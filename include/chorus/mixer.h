/**
 * @file mixer.h  chorus minus-one audio mixer (pure C11, no libre)
 *
 * One mixer per room. Legs occupy slots; each slot has an aligned int16
 * input frame the caller fills before mix_tick() and an output frame the
 * caller reads after it. All memory is allocated in mix_alloc(); the tick
 * path does no allocation, takes no lock and makes no system call.
 *
 * A mixer object belongs to one thread (the room's media worker).
 */
#ifndef CHORUS_MIXER_H
#define CHORUS_MIXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Kernel families; MIX_ISA_AUTO picks the best the CPU supports. */
enum mix_isa {
	MIX_ISA_AUTO = 0,
	MIX_ISA_SCALAR,
	MIX_ISA_SSE2,
	MIX_ISA_AVX2,
	MIX_ISA_AVX512,
	MIX_ISA_NEON,
	MIX_ISA_COUNT
};

/** Leg state flags (combine with |). Hold = MIX_MUTE | MIX_DEAF. */
enum mix_leg_flags {
	MIX_MUTE = 1u << 0,  /**< does not contribute to the mix      */
	MIX_DEAF = 1u << 1,  /**< hears silence                       */
	MIX_HOLD = MIX_MUTE | MIX_DEAF,
};

enum {
	MIX_LEVEL_SILENT = 127,  /**< RFC 6464 level for digital silence */
	MIX_GAIN_MIN_DB  = -20,
	MIX_GAIN_MAX_DB  = 12,
	/** Largest capacity: the int32 sum cannot overflow below it. */
	MIX_CAPACITY_MAX = 16000,
	/** Limiter ceiling for every output sample (-1 dBFS). */
	MIX_LIMIT_THRESHOLD = 29204,
	/** Voice activity: level at or below this (louder than -50 dBov). */
	MIX_VAD_LEVEL = 50,
};

struct mix_cfg {
	uint32_t srate;      /**< 8000, 16000, 24000, 32000 or 48000      */
	uint32_t ptime_ms;   /**< 10..60, default 20                      */
	uint32_t capacity;   /**< maximum number of legs                  */
	uint32_t topk;       /**< 0 = everyone contributes; else K loudest */
	enum mix_isa isa;    /**< MIX_ISA_AUTO, or force one kernel        */
};

struct mixer;

/** Bitmask (1u << enum mix_isa) of kernels this CPU can run. */
unsigned mix_isa_supported(void);
/** "scalar", "sse2", "avx2", "avx512", "neon" */
const char *mix_isa_name(enum mix_isa isa);
/** Parse a name as above; returns MIX_ISA_AUTO for unknown/NULL. */
enum mix_isa mix_isa_from_name(const char *name);
/**
 * The ISA MIX_ISA_AUTO resolves to: the environment variable
 * CHORUS_MIX_ISA (scalar|sse2|avx2|avx512|neon) if set and supported,
 * else the best supported kernel.
 */
enum mix_isa mix_isa_default(void);

/** Returns 0 or an errno value (EINVAL bad cfg, ENOTSUP isa, ENOMEM). */
int  mix_alloc(struct mixer **mixp, const struct mix_cfg *cfg);
void mix_free(struct mixer *mix);

enum mix_isa mix_isa_active(const struct mixer *mix);
size_t mix_frame_samples(const struct mixer *mix);  /**< srate*ptime/1000 */
uint32_t mix_leg_count(const struct mixer *mix);

/** Add a leg between ticks; *idp gets its slot (< capacity). ENOSPC full. */
int  mix_leg_add(struct mixer *mix, unsigned *idp);
int  mix_leg_remove(struct mixer *mix, unsigned id);

/**
 * The leg's input frame (mix_frame_samples() int16, 64-byte aligned) to
 * fill before each tick: decoded audio, PLC output or silence. The mixer
 * zeroes it after each tick, so a leg with no packet contributes silence.
 */
int16_t *mix_leg_input(struct mixer *mix, unsigned id);

/**
 * The leg's output frame after a tick. Legs that share an output (see
 * mix_leg_output_group) return the same pointer.
 */
const int16_t *mix_leg_output(const struct mixer *mix, unsigned id);

/**
 * Output group id of a leg after a tick: legs with the same group id have
 * bit-identical output this tick, so the caller may encode it once per
 * codec configuration. Group ids are < 2*capacity+2 and stable while the
 * set of sharing legs does not change.
 *
 * The rule (evaluated every tick):
 *  - a deaf leg (flag set for the whole tick, fade finished) hears the
 *    shared silent frame: group capacity + 1;
 *  - a leg whose own contribution is zero this tick (muted, on hold, not
 *    among the top-K speakers, or an all-zero input frame) and whose
 *    output gain is 0 dB and not changing hears the common mix of all
 *    contributors, one buffer with one limiter: group capacity;
 *  - every other leg (contributing, or a non-unity or ramping output
 *    gain, or a mute/deaf fade in progress) has its own output: group =
 *    its slot id.
 */
unsigned mix_leg_output_group(const struct mixer *mix, unsigned id);

/** Set MIX_MUTE / MIX_DEAF flags; applied with a fade at the next tick. */
int  mix_leg_set_flags(struct mixer *mix, unsigned id, unsigned flags);
unsigned mix_leg_flags(const struct mixer *mix, unsigned id);

/** Gains in dB, clamped to MIX_GAIN_MIN_DB..MIX_GAIN_MAX_DB; ramped. */
int  mix_leg_set_gain(struct mixer *mix, unsigned id, float in_db, float out_db);

/** Mix one frame for every leg. */
void mix_tick(struct mixer *mix);

/** Input level of the last tick, RFC 6464 -dBov 0..127 (127 silence). */
uint8_t mix_leg_level(const struct mixer *mix, unsigned id);
/** Voice activity (with hangover) of the last tick. */
bool mix_leg_vad(const struct mixer *mix, unsigned id);
/** Did the leg contribute to the mix in the last tick (not muted, top-K)? */
bool mix_leg_contributing(const struct mixer *mix, unsigned id);
/**
 * Top-K mode: is the leg one of the K selected speakers for the next
 * tick? (false when cfg.topk is 0)
 */
bool mix_leg_speaker(const struct mixer *mix, unsigned id);
/**
 * Active speakers (VAD on) of the last tick, loudest first; returns the
 * number written to ids (at most max).
 */
size_t mix_active_speakers(const struct mixer *mix, unsigned *ids, size_t max);

/** Counters since mix_alloc(). */
struct mix_stats {
	uint64_t ticks;
	uint64_t limited_frames;   /**< output frames where the limiter acted */
	uint64_t plans_shared;     /**< limiter plans shared by several legs  */
	uint64_t plans_own;        /**< limiter plans made for one leg        */
};
void mix_stats_get(const struct mixer *mix, struct mix_stats *st);

#ifdef __cplusplus
}
#endif

#endif
