/**
 * @file prompt.c  Voice prompts: 16-bit mono WAV files at the room rate,
 * generated at build time (espeak-ng + sox, prompts/CMakeLists.txt) as
 * <dir>/<name>-<rate>.wav. A prompt whose file is missing or not in that
 * format becomes a short beep, so PIN entry and the menu still work.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <re.h>

#include "ctrl/log.h"
#include "ctrl/prompt.h"

enum {
	PROMPT_MAX_S  = 30,         /* longest file we take              */
	BEEP_MS       = 250,
	BEEP_AMPL     = 6000,
};

struct prompt {
	int16_t *pcm;
	size_t n;
	bool beep;
};

struct prompts {
	struct prompt v[PROMPT_MAX];
	uint32_t srate;
};


static void destructor(void *arg)
{
	struct prompts *ps = arg;

	for (size_t i = 0; i < PROMPT_MAX; i++)
		mem_deref(ps->v[i].pcm);
}


static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}


static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}


/* Read a RIFF/WAVE 16-bit mono file at srate; 0 or an errno value. */
int prompt_wav_read(int16_t **pcmp, size_t *np, const char *path,
		    uint32_t srate)
{
	uint8_t hdr[12], ch[8], fmt[16];
	bool have_fmt = false;
	int16_t *pcm = NULL;
	FILE *f;
	int err = EPROTO;

	f = fopen(path, "rb");
	if (!f)
		return errno ? errno : ENOENT;

	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
	    memcmp(hdr, "RIFF", 4) || memcmp(hdr + 8, "WAVE", 4))
		goto out;

	/* bounded: a WAV has a handful of chunks */
	for (int k = 0; k < 32; k++) {
		uint32_t len;

		if (fread(ch, 1, sizeof(ch), f) != sizeof(ch))
			goto out;
		len = le32(ch + 4);

		if (!memcmp(ch, "fmt ", 4)) {
			if (len < sizeof(fmt) ||
			    fread(fmt, 1, sizeof(fmt), f) != sizeof(fmt))
				goto out;
			if (le16(fmt) != 1 || le16(fmt + 2) != 1 ||
			    le32(fmt + 4) != srate || le16(fmt + 14) != 16) {
				err = ENOTSUP;
				goto out;
			}
			have_fmt = true;
			if (fseek(f, (long)(len - sizeof(fmt) + (len & 1)),
				  SEEK_CUR))
				goto out;
			continue;
		}

		if (!memcmp(ch, "data", 4)) {
			size_t n = len / 2, i;
			uint8_t *raw;

			if (!have_fmt || !n || n > (size_t)srate * PROMPT_MAX_S)
				goto out;
			raw = malloc(len);
			if (!raw) {
				err = ENOMEM;
				goto out;
			}
			if (fread(raw, 1, n * 2, f) != n * 2) {
				free(raw);
				goto out;
			}
			pcm = mem_alloc(n * sizeof(*pcm), NULL);
			if (!pcm) {
				free(raw);
				err = ENOMEM;
				goto out;
			}
			for (i = 0; i < n; i++)
				pcm[i] = (int16_t)le16(raw + 2 * i);
			free(raw);
			*pcmp = pcm;
			*np = n;
			err = 0;
			goto out;
		}

		if (fseek(f, (long)(len + (len & 1)), SEEK_CUR))
			goto out;
	}

 out:
	fclose(f);

	return err;
}


/* A short beep, its pitch telling prompts apart. */
static int beep(struct prompt *p, uint32_t srate, unsigned idx)
{
	const double freq = 400.0 + 100.0 * idx;
	size_t n = (size_t)srate * BEEP_MS / 1000, i;

	p->pcm = mem_alloc(n * sizeof(*p->pcm), NULL);
	if (!p->pcm)
		return ENOMEM;

	for (i = 0; i < n; i++) {
		/* 10 ms ramps: no clicks */
		double env = MIN(1.0, MIN((double)i, (double)(n - i)) /
				 (srate / 100.0));

		p->pcm[i] = (int16_t)(BEEP_AMPL * env *
				      sin(2 * M_PI * freq * i / srate));
	}
	p->n = n;
	p->beep = true;

	return 0;
}


static const char *names[PROMPT_MAX] = {
	"menu", "error", "muted", "unmuted", "locked", "unlocked",
	"pin", "pin_bad", "goodbye", "welcome",
};


const char *prompt_name(unsigned idx)
{
	return idx < PROMPT_MAX ? names[idx] : "?";
}


int prompts_load(struct prompts **psp, const char *dir, uint32_t srate)
{
	struct prompts *ps;
	unsigned files = 0;
	int err = 0;

	if (!psp || !srate)
		return EINVAL;

	ps = mem_zalloc(sizeof(*ps), destructor);
	if (!ps)
		return ENOMEM;

	ps->srate = srate;

	for (unsigned i = 0; i < PROMPT_MAX && !err; i++) {
		char path[512];

		if (dir && dir[0]) {
			re_snprintf(path, sizeof(path), "%s/%s-%u.wav", dir,
				    names[i], srate);
			if (!prompt_wav_read(&ps->v[i].pcm, &ps->v[i].n, path,
					     srate)) {
				++files;
				continue;
			}
		}
		err = beep(&ps->v[i], srate, i);
	}

	if (err) {
		mem_deref(ps);
		return err;
	}

	if (files < PROMPT_MAX)
		warning("prompt: %u of %u voice prompts found in %s at %u Hz;"
			" beeps for the others\n", files, PROMPT_MAX,
			dir && dir[0] ? dir : "(no directory)", srate);
	else
		info("prompt: %u voice prompts from %s (%u Hz)\n", files, dir,
		     srate);

	*psp = ps;

	return 0;
}


const int16_t *prompts_pcm(const struct prompts *ps, unsigned idx,
			   size_t *np)
{
	if (!ps || idx >= PROMPT_MAX || !np)
		return NULL;

	*np = ps->v[idx].n;

	return ps->v[idx].pcm;
}


bool prompts_is_voice(const struct prompts *ps, unsigned idx)
{
	return ps && idx < PROMPT_MAX && ps->v[idx].pcm && !ps->v[idx].beep;
}
