/**
 * @file mix_priv.h  Mixer internals shared by mix.c, level.c, limiter.c
 * and topk.c
 */
#ifndef MIX_PRIV_H
#define MIX_PRIV_H

#include "mix_kernels.h"

enum {
	MIX_ALIGN        = 64,
	MIX_LEVELS       = 127,     /**< levels 0..126 have a threshold   */
	MIX_LEVEL_PAD    = 8,       /**< zero thresholds after the last    */
	MIX_VAD_HANG_MS  = 300,     /**< VAD hangover                     */
	MIX_TOPK_HYST_MS = 200,     /**< newcomer must lead this long      */
	MIX_TOPK_HOLD_MS = 1500,    /**< silent speaker kept this long     */
	MIX_LIMIT_MARGIN = 8,       /**< LSBs of rounding headroom         */
	MIX_SHARE_SHIFT  = 4,       /**< class 1: own <= peak sum / 16     */
	MIX_SHARE_STEP   = 2,       /**< class 2: own <= peak sum / 4      */
	MIX_SHARE_CLASSES = 2,
	MIX_PLAN_CACHE   = 32,      /**< shared limiter plans per tick     */
	MIX_PLAN_H       = 2,       /**< own gains cached per plan         */
	MIX_SH_MAX       = 17,      /**< largest shift (peak < 2^32)       */
};

#define MIX_TOPK_HYST_DB   6.0f   /**< newcomer lead over weakest, dB  */
#define MIX_TOPK_SMOOTH    0.3f   /**< loudness smoothing per frame    */
#define MIX_LIMIT_RELEASE_MS 60.0 /**< exponential release constant    */
#define MIX_PLAN_LIM_TOL (1.0f / 64) /**< limiter states sharing a plan */
#define MIX_LIMIT_GROWTH_MAX 2.0f /**< envelope rise extrapolated, max  */

struct mix_leg {
	bool used;
	unsigned flags;          /**< requested MIX_MUTE/MIX_DEAF        */
	int32_t gin_q, gout_q;   /**< requested gains, Q13               */
	int32_t gi_cur, go_cur;  /**< effective gains at end of last tick */
	int32_t gi0, gi1;        /**< this tick's contribution ramp      */
	int32_t go0, go1;        /**< this tick's output gain ramp       */
	float lim;               /**< limiter factor at end of last tick */
	unsigned group;          /**< output group of the last tick      */
	unsigned pos;            /**< index in mixer->ids                */
	unsigned plan_hint;      /**< limiter plan index of the last tick */

	uint64_t energy;
	uint32_t xpeak;
	uint8_t level;
	bool vad;
	unsigned hang;           /**< hangover frames left               */

	bool speaker;            /**< top-K member (decided for next tick) */
	float loud;              /**< smoothed loudness, dB above -127 dBov */
	unsigned challenge;      /**< frames leading the weakest speaker  */
	unsigned quiet;          /**< frames since VAD was last on        */
};

/** A limiter plan for one frame: per-block gains for the out kernel. */
struct mix_plan {
	unsigned cls;            /**< 0: pk = sum, 1..: share class, ~0 own */
	unsigned uses;           /**< legs that used it this tick        */
	float lim0;              /**< limiter factor at the frame start  */
	int32_t go0, go1;        /**< output gain ramp, Q13              */
	bool unlimited;          /**< no gain reduction at all           */
	bool limited;
	float lim1;              /**< limiter factor at the frame end    */
	struct mix_ramp *g;      /**< [nblk] Q13 gain ramp of each block  */
	uint8_t *sh;             /**< [nblk] shift of d per block         */
	int16_t *a;              /**< [n] the limited mix without own     */
	/** cls 1..: 16-bit own gains for sub_mulhi, one per own gain hgi
	 * seen this tick (legs with different input gains share a plan) */
	int16_t *h[MIX_PLAN_H];  /**< [n] each                           */
	int32_t hgi[MIX_PLAN_H];
	bool h_ok[MIX_PLAN_H];
	unsigned hcnt;           /**< h slots filled this tick (mod)     */
	bool a_ready;
};

struct mixer {
	struct mix_cfg cfg;
	enum mix_isa isa;
	const struct mix_kernels *k;

	size_t n;                /**< samples per frame                  */
	size_t stride;           /**< samples between frames (64 B units) */
	size_t blk;              /**< limiter block: 1 ms                */
	unsigned nblk;           /**< blocks per frame                   */

	int16_t *in;             /**< [capacity][stride]                 */
	int16_t *out;            /**< [capacity + 2][stride]: legs, common,
				      silent                              */
	int32_t *sum;            /**< [stride]                           */
	uint32_t *spk;           /**< [nblk] block peaks of sum          */
	uint32_t spk_max;
	uint32_t *pk;            /**< [nblk] scratch                     */
	float *gp;               /**< [nblk + 1] scratch                 */
	uint32_t *pk_share;      /**< [classes][nblk] shared peak bounds */
	uint32_t ob_share[MIX_SHARE_CLASSES];  /**< own peak limit of each */
	struct mix_plan plans[MIX_PLAN_CACHE + 1];  /**< last: scratch   */
	unsigned nplans;
	float qscale[MIX_SH_MAX + 1];  /**< 2^(MIX_Q + sh)               */
	uint64_t *lvl_thr;       /**< [MIX_LEVELS + MIX_LEVEL_PAD] energy
				      per level, then zeros            */
	float lvl_a;             /**< 10 log10(full-scale energy) - 0.5  */

	struct mix_leg *legs;    /**< [capacity]                         */
	unsigned *ids;           /**< used slots, [0..count)             */
	uint32_t count;

	float common_lim;        /**< limiter of the common output       */
	unsigned common_hint;
	float rel;               /**< release coefficient per block      */
	float thr;               /**< limiter target peak                */
	unsigned hang_frames, hyst_frames, hold_frames;

	struct mix_stats stats;
};

static inline unsigned mix_group_common(const struct mixer *mix)
{
	return mix->cfg.capacity;
}

static inline unsigned mix_group_silent(const struct mixer *mix)
{
	return mix->cfg.capacity + 1;
}

static inline int16_t *mix_group_buf(const struct mixer *mix, unsigned g)
{
	return mix->out + (size_t)g * mix->stride;
}

/* level.c */
void mix_level_init(struct mixer *mix);
uint8_t mix_level_of(const struct mixer *mix, uint64_t energy);
void mix_vad_update(struct mixer *mix, struct mix_leg *leg);

/* limiter.c */
void mix_plan_reset(struct mixer *mix);
/* mix_render() result flags */
enum {
	MIX_R_LIMITED  = 1,      /**< the limiter acted on this frame     */
	MIX_R_CONSUMED = 2,      /**< x was cleared (read for the last time) */
};
unsigned mix_render(struct mixer *mix, int16_t *out, int16_t *x,
		struct mix_ramp gi, uint32_t xpeak, int32_t go0, int32_t go1,
		float *lim, unsigned *hint);

/* topk.c */
void mix_topk_update(struct mixer *mix);

#endif
