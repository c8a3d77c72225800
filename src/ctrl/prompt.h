/**
 * @file prompt.h  Voice prompts (PIN request, menu, ...) as PCM at the
 * room rate, loaded once on the libre thread and handed to the media
 * engine with media_leg_prompt() (which copies them).
 *
 * Index order is room/control.h's enum control_prompt.
 */
#ifndef CHORUS_CTRL_PROMPT_H
#define CHORUS_CTRL_PROMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Prompts: menu error muted unmuted locked unlocked pin pin_bad goodbye
 *  welcome (files <dir>/<name>-<rate>.wav). */
#define PROMPT_MAX 10

struct prompts;

/** Load every prompt from dir (NULL/"": beeps only) at srate. */
int  prompts_load(struct prompts **psp, const char *dir, uint32_t srate);
const int16_t *prompts_pcm(const struct prompts *ps, unsigned idx,
			   size_t *np);
/** Was prompt idx read from a file (not a beep)? */
bool prompts_is_voice(const struct prompts *ps, unsigned idx);
const char *prompt_name(unsigned idx);
/** 16-bit mono RIFF/WAVE at srate into a mem_alloc'd buffer. */
int  prompt_wav_read(int16_t **pcmp, size_t *np, const char *path,
		     uint32_t srate);

#endif
