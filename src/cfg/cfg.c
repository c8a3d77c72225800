/**
 * @file cfg.c  chorus.conf: defaults, validation of every key, printing.
 *
 * Every key is optional (the default is what conf/chorus.conf ships), but
 * a key that is present must be known, set once and valid; otherwise the
 * error names the file, line, key and reason and loading fails. All
 * errors of a file are reported, not only the first.
 */
#include <stdint.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <re.h>

#include "ctrl/log.h"
#include "cfg/cfg.h"
#include "cfg/cfg_int.h"
#include "sip/guard.h"
#include "ctrl/menu.h"

enum {
	RTP_PORT_LOWEST  = 1024,
	WORKERS_MAX      = 256,
	DSCP_MAX         = 63,
	RTP_TIMEOUT_MAX  = 3600,       /* s */
	TOPK_MAX         = 1000,
	OPUS_CPLX_MAX    = 10,
	JB_MS_MAX        = 2000,
	SE_MIN           = 90,         /* RFC 4028 Min-SE floor */
	SE_MAX           = 86400,
	ANSWER_DELAY_MAX = 10000,      /* ms */
};

enum key_type {
	K_UINT,      /* number in [min, max], times scale               */
	K_BOOL,
	K_STR,       /* free text / path                                */
	K_LISTEN,    /* address:port                                    */
	K_IPADDR,    /* IP address or empty                             */
	K_URI,       /* SIP URI or empty                                */
	K_SRATE,
	K_PTIME,
	K_CODECS,
	K_SRTP,
	K_LOGLEVEL,
};

struct cfg_key {
	const char *name;
	enum key_type type;
	size_t off;
	size_t size;
	uint32_t min, max, scale;
};

#define FSZ(f) sizeof(((struct cfg *)0)->f)
#define KEY(n, t, f) {n, t, offsetof(struct cfg, f), FSZ(f), 0, 0, 1}
#define KNUM(n, f, lo, hi, sc) \
	{n, K_UINT, offsetof(struct cfg, f), FSZ(f), lo, hi, sc}

static const struct cfg_key keys[] = {
	KEY("sip_listen",      K_LISTEN,   sip_listen),
	KEY("sip_udp",         K_BOOL,     sip_udp),
	KEY("sip_tcp",         K_BOOL,     sip_tcp),
	KEY("sip_tls",         K_BOOL,     sip_tls),
	KEY("tls_listen",      K_LISTEN,   tls_listen),
	KEY("tls_cert",        K_STR,      tls_cert),
	KEY("public_addr",     K_IPADDR,   public_addr),
	KNUM("dscp_sip",       dscp_sip, 0, DSCP_MAX, 1),
	KEY("outbound_proxy",  K_URI,      outbound_proxy),
	KNUM("session_expires", session_expires, 0, SE_MAX, 1),
	KNUM("answer_delay_ms", answer_delay_ms, 0, ANSWER_DELAY_MAX, 1),
	KNUM("pike_rate",      pike_rate, 0, 100000, 1),
	KNUM("pike_burst",     pike_burst, 1, 1000000, 1),
	KNUM("pike_ban_s",     pike_ban_ms, 1, 86400, 1000),
	KNUM("max_legs_total", max_legs_total, 0, 1000000, 1),
	KNUM("max_dialogs_per_source", max_dialogs_per_source, 0, 1000000, 1),
	KNUM("overload_permille", overload_permille, 0, 1000, 1),
	KNUM("retry_after",    retry_after_s, 1, 3600, 1),
	KEY("pike_exempt",     K_STR,      pike_exempt),
	KNUM("media_workers",  media.workers, 0, WORKERS_MAX, 1),
	KEY("room_srate",      K_SRATE,    media.room_srate),
	KEY("ptime",           K_PTIME,    media.ptime_ms),
	KNUM("rtp_port_min",   media.rtp_port_min, RTP_PORT_LOWEST, 65534, 1),
	KNUM("rtp_port_max",   media.rtp_port_max, RTP_PORT_LOWEST, 65535, 1),
	KNUM("dscp_rtp",       media.dscp_rtp, 0, DSCP_MAX, 1),
	KNUM("rtp_timeout",    media.rtp_timeout_ms, 0, RTP_TIMEOUT_MAX, 1000),
	KNUM("topk",           media.topk, 0, TOPK_MAX, 1),
	KNUM("opus_complexity", media.opus_complexity, 0, OPUS_CPLX_MAX, 1),
	KEY("join_tones",      K_BOOL,     media.join_tones),
	KNUM("jb_min_ms",      media.jb_min_ms, 0, JB_MS_MAX, 1),
	KNUM("jb_max_ms",      media.jb_max_ms, 1, JB_MS_MAX, 1),
	KEY("codecs",          K_CODECS,   codecs),
	KEY("srtp",            K_SRTP,     srtp),
	KEY("log_level",       K_LOGLEVEL, log_level),
	KEY("menu_keys",       K_STR,      menu_keys),
	KEY("prompt_dir",      K_STR,      prompt_dir),
	KEY("auth_realm",      K_STR,      auth_realm),
	KEY("auth_users",      K_STR,      auth_users),
	KEY("auth_trust_from_uri", K_BOOL, auth_trust_from_uri),
};

enum { NKEYS = ARRAY_SIZE(keys) };

struct load_ctx {
	struct cfg *cfg;
	unsigned line[NKEYS];      /* where each key was set, 0 = default */
};

static const struct {
	const char *name;
	enum codec_id id;
} codec_names[] = {
	{"opus", CODEC_OPUS},
	{"G722", CODEC_G722},
	{"PCMU", CODEC_PCMU},
	{"PCMA", CODEC_PCMA},
};

static const char *log_names[] = {"error", "warning", "info", "debug"};

/* the engine needs a whole number of frames per second */
static const uint32_t ptimes[] = {10, 20, 40};


static void destructor(void *arg)
{
	struct cfg *cfg = arg;

	mem_deref(cfg->rooms);
	mem_deref(cfg->users);
}


static void set_defaults(struct cfg *cfg)
{
	str_ncpy(cfg->sip_listen, "0.0.0.0:5060", sizeof(cfg->sip_listen));
	cfg->sip_udp = true;
	cfg->sip_tcp = true;
	cfg->sip_tls = false;
	str_ncpy(cfg->tls_listen, "0.0.0.0:5061", sizeof(cfg->tls_listen));
	cfg->dscp_sip = 24;              /* CS3 */
	cfg->session_expires = 1800;
	cfg->answer_delay_ms = 0;

	cfg->pike_rate = 100;
	cfg->pike_burst = 200;
	cfg->pike_ban_ms = 60000;
	cfg->max_legs_total = 4000;
	cfg->max_dialogs_per_source = 200;
	cfg->overload_permille = 800;
	cfg->retry_after_s = 10;

	cfg->media.workers = 0;
	cfg->media.room_srate = 48000;
	cfg->media.ptime_ms = 20;
	cfg->media.rtp_port_min = 16384;
	cfg->media.rtp_port_max = 32767;
	cfg->media.dscp_rtp = 46;        /* EF */
	cfg->media.rtp_timeout_ms = 30000;
	cfg->media.topk = 0;
	cfg->media.opus_complexity = 5;
	cfg->media.join_tones = false;
	cfg->media.jb_min_ms = 20;
	cfg->media.jb_max_ms = 200;

	cfg->codecs[0] = CODEC_OPUS;
	cfg->codecs[1] = CODEC_G722;
	cfg->codecs[2] = CODEC_PCMU;
	cfg->codecs[3] = CODEC_PCMA;
	cfg->ncodecs = 4;

	cfg->srtp = CFG_SRTP_OFF;
	cfg->log_level = LOG_LVL_INFO;

	str_ncpy(cfg->auth_realm, "chorus", sizeof(cfg->auth_realm));

	/* the room keys are set by rooms.c */
}


const char *cfg_codec_name(enum codec_id id)
{
	for (size_t i = 0; i < ARRAY_SIZE(codec_names); i++) {
		if (codec_names[i].id == id)
			return codec_names[i].name;
	}

	return "?";
}


static bool parse_codecs(struct cfg_parser *p, const char *key,
			 const char *val, struct cfg *cfg)
{
	enum codec_id list[CFG_CODECS_MAX];
	unsigned n = 0;
	const char *s = val;

	if (!*s) {
		cfg_perr(p, key, "missing value (e.g. opus,G722,PCMU,PCMA)");
		return false;
	}

	while (*s) {
		size_t len = strcspn(s, ", \t");
		enum codec_id id = CODEC_NONE;

		for (size_t i = 0; i < ARRAY_SIZE(codec_names); i++) {
			if (strlen(codec_names[i].name) == len &&
			    !strncasecmp(s, codec_names[i].name, len))
				id = codec_names[i].id;
		}

		if (id == CODEC_NONE) {
			cfg_perr(p, key, "unknown codec '%b' (known: opus, "
				 "G722, PCMU, PCMA)", s, len);
			return false;
		}

		for (unsigned i = 0; i < n; i++) {
			if (list[i] == id) {
				cfg_perr(p, key, "codec '%b' listed twice",
					 s, len);
				return false;
			}
		}

		if (n >= CFG_CODECS_MAX) {
			cfg_perr(p, key, "more than %u codecs",
				 CFG_CODECS_MAX);
			return false;
		}

		list[n++] = id;
		s += len;
		s += strspn(s, ", \t");
	}

	memcpy(cfg->codecs, list, n * sizeof(list[0]));
	cfg->ncodecs = n;

	return true;
}


/* sa_decode() truncates the port to 16 bits: check it ourselves */
static bool listen_valid(const char *val)
{
	const char *colon = strrchr(val, ':');
	uint32_t port = 0;
	struct sa sa;
	size_t n;

	if (!colon)
		return false;

	n = strlen(colon + 1);
	if (n == 0 || n > 5)
		return false;

	for (const char *c = colon + 1; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		port = port * 10 + (uint32_t)(*c - '0');
	}

	if (port == 0 || port > 65535)
		return false;

	return 0 == sa_decode(&sa, val, strlen(val));
}


static void store_uint(void *field, size_t size, uint32_t v)
{
	/* every numeric field is unsigned or an int holding a small value */
	switch (size) {

	case 1: *(uint8_t *)field = (uint8_t)v;   break;
	case 2: *(uint16_t *)field = (uint16_t)v; break;
	default: memcpy(field, &v, sizeof(v));   break;
	}
}


static void parse_key(struct cfg_parser *p, const struct cfg_key *k,
		      const char *val, struct cfg *cfg)
{
	void *field = (uint8_t *)cfg + k->off;
	struct sa sa;
	uint32_t v;
	int i;

	switch (k->type) {

	case K_UINT:
		if (cfg_get_u32(p, k->name, val, k->min, k->max, &v))
			store_uint(field, k->size, v * k->scale);
		break;

	case K_BOOL:
		cfg_get_bool(p, k->name, val, field);
		break;

	case K_STR:
		cfg_get_str(p, k->name, val, field, k->size);
		break;

	case K_LISTEN:
		if (!cfg_get_str(p, k->name, val, field, k->size))
			break;
		if (!listen_valid(field)) {
			cfg_perr(p, k->name, "'%s' is not address:port "
				 "(e.g. 0.0.0.0:5060 or [::]:5060)", val);
		}
		break;

	case K_IPADDR:
		if (!cfg_get_str(p, k->name, val, field, k->size))
			break;
		if (*(char *)field && sa_set_str(&sa, field, 0))
			cfg_perr(p, k->name, "'%s' is not an IP address", val);
		break;

	case K_URI:
		cfg_get_uri(p, k->name, val, field, k->size);
		break;

	case K_SRATE:
		if (!cfg_get_u32(p, k->name, val, 0, UINT32_MAX, &v))
			break;
		if (v != 48000 && v != 16000)
			cfg_perr(p, k->name, "%u Hz: must be 48000 or 16000",
				 v);
		else
			store_uint(field, k->size, v);
		break;

	case K_PTIME:
		if (!cfg_get_u32(p, k->name, val, 0, UINT32_MAX, &v))
			break;
		for (i = 0; i < (int)ARRAY_SIZE(ptimes); i++) {
			if (ptimes[i] == v)
				break;
		}
		if (i == (int)ARRAY_SIZE(ptimes))
			cfg_perr(p, k->name, "%u ms: must be 10, 20 or 40",
				 v);
		else
			store_uint(field, k->size, v);
		break;

	case K_CODECS:
		parse_codecs(p, k->name, val, cfg);
		break;

	case K_SRTP:
		if (cfg_get_srtp(p, k->name, val, &i))
			cfg->srtp = i;
		break;

	case K_LOGLEVEL:
		for (i = 0; i < (int)ARRAY_SIZE(log_names); i++) {
			if (!str_casecmp(val, log_names[i]))
				break;
		}
		if (i == (int)ARRAY_SIZE(log_names))
			cfg_perr(p, k->name, "'%s' is not error, warning, "
				 "info or debug", val);
		else
			cfg->log_level = i;
		break;
	}
}


static void line_handler(struct cfg_parser *p, const char *key, char *val,
			 void *arg)
{
	struct load_ctx *ctx = arg;

	for (size_t i = 0; i < NKEYS; i++) {

		if (strcmp(key, keys[i].name))
			continue;

		if (ctx->line[i]) {
			cfg_perr(p, key, "set twice (first on line %u)",
				 ctx->line[i]);
			return;
		}

		ctx->line[i] = p->line;
		parse_key(p, &keys[i], val, ctx->cfg);
		return;
	}

	cfg_perr(p, key, "unknown key");
}


static unsigned key_line(const struct load_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (!strcmp(keys[i].name, name))
			return ctx->line[i];
	}

	return 0;
}


/* checks that involve more than one key; reported at the later key */
static void cross_check(struct cfg_parser *p, struct load_ctx *ctx)
{
	const struct cfg *cfg = ctx->cfg;
	const struct media_cfg *m = &cfg->media;

	p->line = key_line(ctx, "rtp_port_min");
	if (m->rtp_port_min & 1)
		cfg_perr(p, "rtp_port_min", "%u is odd: RTP uses even ports",
			 m->rtp_port_min);

	p->line = key_line(ctx, "rtp_port_max");
	if (m->rtp_port_max < m->rtp_port_min + 1)
		cfg_perr(p, "rtp_port_max", "%u leaves no RTP/RTCP pair above "
			 "rtp_port_min %u", m->rtp_port_max, m->rtp_port_min);

	p->line = key_line(ctx, "jb_max_ms");
	if (m->jb_max_ms < m->jb_min_ms)
		cfg_perr(p, "jb_max_ms", "%u is below jb_min_ms %u",
			 m->jb_max_ms, m->jb_min_ms);

	p->line = key_line(ctx, "session_expires");
	if (cfg->session_expires && cfg->session_expires < SE_MIN)
		cfg_perr(p, "session_expires", "%u s is below the RFC 4028 "
			 "minimum of %u (0 turns session timers off)",
			 cfg->session_expires, SE_MIN);

	p->line = key_line(ctx, "menu_keys");
	if (cfg->menu_keys[0]) {
		struct menu_keymap km;
		char why[MENU_REASON_SIZE];

		menu_keymap_default(&km);
		if (menu_keymap_parse(&km, cfg->menu_keys, why, sizeof(why)))
			cfg_perr(p, "menu_keys", "%s", why);
	}

	p->line = key_line(ctx, "pike_exempt");
	{
		char bad[64];

		if (guard_exempt_check(cfg->pike_exempt, bad, sizeof(bad)))
			cfg_perr(p, "pike_exempt", "'%s' is not an IP address"
				 " or prefix (e.g. 10.0.0.0/8, 2001:db8::/32;"
				 " at most 32)", bad);
	}

	/* the realm goes into a quoted-string of every challenge */
	p->line = key_line(ctx, "auth_realm");
	if (!cfg->auth_realm[0])
		cfg_perr(p, "auth_realm", "empty");
	for (const char *c = cfg->auth_realm; *c; c++) {
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20 ||
		    *c == 0x7f) {
			cfg_perr(p, "auth_realm", "no quotes, backslashes or "
				 "control characters");
			break;
		}
	}

	p->line = key_line(ctx, "sip_tls");
	if (!cfg->sip_udp && !cfg->sip_tcp && !cfg->sip_tls)
		cfg_perr(p, "sip_udp", "no SIP transport enabled "
			 "(sip_udp, sip_tcp and sip_tls are all no)");

	/* a relative certificate path is relative to the config dir */
	if (cfg->tls_cert[0] && cfg->tls_cert[0] != '/') {
		char path[sizeof(cfg->tls_cert)];

		p->line = key_line(ctx, "tls_cert");
		if (re_snprintf(path, sizeof(path), "%s/%s", cfg->dir,
				cfg->tls_cert) < 0 ||
		    strlen(cfg->dir) + strlen(cfg->tls_cert) + 2 >
		    sizeof(path))
			cfg_perr(p, "tls_cert", "path longer than %zu "
				 "characters with the config directory",
				 sizeof(path) - 1);
		else
			str_ncpy(ctx->cfg->tls_cert, path,
				 sizeof(ctx->cfg->tls_cert));
	}

	if (cfg->sip_tls) {
		p->line = key_line(ctx, "tls_cert");
		if (!cfg->tls_cert[0])
			cfg_perr(p, "tls_cert", "sip_tls is yes but no "
				 "certificate is set");
		else if (access(cfg->tls_cert, R_OK))
			cfg_perr(p, "tls_cert", "cannot read '%s': %m",
				 cfg->tls_cert, errno);
	}

	p->line = 0;
}


static int load_main(struct cfg *cfg, const char *path)
{
	struct load_ctx ctx = {.cfg = cfg};
	struct cfg_parser p = {.path = path};
	int err;

	err = cfg_parse_file(path, line_handler, &ctx);
	if (err && err != EINVAL)
		return err;

	cross_check(&p, &ctx);
	if (p.nerr)
		err = EINVAL;

	return err;
}


int cfg_load(struct cfg **cfgp, const char *dir)
{
	struct cfg *cfg;
	char path[512];
	int err, err2;

	if (!cfgp)
		return EINVAL;

	if (!dir || !*dir)
		dir = "conf";

	cfg = mem_zalloc(sizeof(*cfg), destructor);
	if (!cfg)
		return ENOMEM;

	set_defaults(cfg);

	if (strlen(dir) >= sizeof(cfg->dir)) {
		log_error("cfg: %s: directory name too long\n", dir);
		err = ENAMETOOLONG;
		goto out;
	}
	str_ncpy(cfg->dir, dir, sizeof(cfg->dir));

	re_snprintf(path, sizeof(path), "%s/chorus.conf", dir);
	err = load_main(cfg, path);

	/* check rooms.conf too so that one run reports every error */
	err2 = cfg_rooms_load(cfg, false);
	if (!err)
		err = err2;

	/* digest users: HA1 of plain passwords needs the realm */
	err2 = cfg_users_load(cfg, false);
	if (!err)
		err = err2;

 out:
	if (err)
		mem_deref(cfg);
	else
		*cfgp = cfg;

	return err;
}


int cfg_main_changes(const struct cfg *cfg)
{
	struct cfg *fresh;
	char path[512];
	int n = 0;

	if (!cfg)
		return -1;

	fresh = mem_zalloc(sizeof(*fresh), destructor);
	if (!fresh)
		return -1;

	set_defaults(fresh);
	str_ncpy(fresh->dir, cfg->dir, sizeof(fresh->dir));
	re_snprintf(path, sizeof(path), "%s/chorus.conf", cfg->dir);

	if (load_main(fresh, path)) {
		warning("cfg: %s has errors (above); chorusd keeps running "
			"with the settings it started with\n", path);
		mem_deref(fresh);
		return -1;
	}

	/* every field is zero-initialised, so bytes compare values */
	for (size_t i = 0; i < NKEYS; i++) {
		const uint8_t *a = (const uint8_t *)cfg + keys[i].off;
		const uint8_t *b = (const uint8_t *)fresh + keys[i].off;

		if (!memcmp(a, b, keys[i].size) &&
		    (keys[i].type != K_CODECS || cfg->ncodecs == fresh->ncodecs))
			continue;

		warning("cfg: %s: %s changed: restart chorusd to apply it\n",
			path, keys[i].name);
		n++;
	}

	mem_deref(fresh);

	return n;
}


int cfg_print(struct re_printf *pf, const struct cfg *cfg)
{
	const struct media_cfg *m;
	int err = 0;

	if (!cfg)
		return 0;

	m = &cfg->media;

	err |= re_hprintf(pf, "# %s/chorus.conf as loaded\n", cfg->dir);
	err |= re_hprintf(pf, "sip_listen %s\n", cfg->sip_listen);
	err |= re_hprintf(pf, "sip_udp %s\n", cfg->sip_udp ? "yes" : "no");
	err |= re_hprintf(pf, "sip_tcp %s\n", cfg->sip_tcp ? "yes" : "no");
	err |= re_hprintf(pf, "sip_tls %s\n", cfg->sip_tls ? "yes" : "no");
	err |= re_hprintf(pf, "tls_listen %s\n", cfg->tls_listen);
	err |= re_hprintf(pf, "tls_cert %s\n", cfg->tls_cert);
	err |= re_hprintf(pf, "public_addr %s\n", cfg->public_addr);
	err |= re_hprintf(pf, "dscp_sip %u\n", cfg->dscp_sip);
	err |= re_hprintf(pf, "outbound_proxy %s\n", cfg->outbound_proxy);
	err |= re_hprintf(pf, "session_expires %u\n", cfg->session_expires);
	err |= re_hprintf(pf, "answer_delay_ms %u\n", cfg->answer_delay_ms);
	err |= re_hprintf(pf, "pike_rate %u\n", cfg->pike_rate);
	err |= re_hprintf(pf, "pike_burst %u\n", cfg->pike_burst);
	err |= re_hprintf(pf, "pike_ban_s %u\n", cfg->pike_ban_ms / 1000);
	err |= re_hprintf(pf, "max_legs_total %u\n", cfg->max_legs_total);
	err |= re_hprintf(pf, "max_dialogs_per_source %u\n",
			  cfg->max_dialogs_per_source);
	err |= re_hprintf(pf, "overload_permille %u\n",
			  cfg->overload_permille);
	err |= re_hprintf(pf, "retry_after %u\n", cfg->retry_after_s);
	err |= re_hprintf(pf, "pike_exempt %s\n", cfg->pike_exempt);
	err |= re_hprintf(pf, "menu_keys %s\n", cfg->menu_keys);
	err |= re_hprintf(pf, "prompt_dir %s\n", cfg->prompt_dir);
	err |= re_hprintf(pf, "auth_realm %s\n", cfg->auth_realm);
	err |= re_hprintf(pf, "auth_users %s\n", cfg->auth_users);
	err |= re_hprintf(pf, "auth_trust_from_uri %s\n",
			  cfg->auth_trust_from_uri ? "yes" : "no");
	err |= re_hprintf(pf, "media_workers %u\n", m->workers);
	err |= re_hprintf(pf, "room_srate %u\n", m->room_srate);
	err |= re_hprintf(pf, "ptime %u\n", m->ptime_ms);
	err |= re_hprintf(pf, "rtp_port_min %u\n", m->rtp_port_min);
	err |= re_hprintf(pf, "rtp_port_max %u\n", m->rtp_port_max);
	err |= re_hprintf(pf, "dscp_rtp %u\n", m->dscp_rtp);
	err |= re_hprintf(pf, "rtp_timeout %u\n", m->rtp_timeout_ms / 1000);
	err |= re_hprintf(pf, "topk %u\n", m->topk);
	err |= re_hprintf(pf, "opus_complexity %d\n", m->opus_complexity);
	err |= re_hprintf(pf, "join_tones %s\n", m->join_tones ? "yes" : "no");
	err |= re_hprintf(pf, "jb_min_ms %u\n", m->jb_min_ms);
	err |= re_hprintf(pf, "jb_max_ms %u\n", m->jb_max_ms);

	err |= re_hprintf(pf, "codecs ");
	for (unsigned i = 0; i < cfg->ncodecs; i++)
		err |= re_hprintf(pf, "%s%s", i ? "," : "",
				  cfg_codec_name(cfg->codecs[i]));
	err |= re_hprintf(pf, "\n");

	err |= re_hprintf(pf, "srtp %s\n", cfg_srtp_name(cfg->srtp));
	err |= re_hprintf(pf, "log_level %s\n",
			  cfg->log_level >= 0 &&
			  cfg->log_level < (int)ARRAY_SIZE(log_names) ?
			  log_names[cfg->log_level] : "?");

	err |= cfg_rooms_print(pf, cfg);
	err |= cfg_users_print(pf, cfg);

	return err;
}
