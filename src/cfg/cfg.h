/**
 * @file cfg.h  chorusd configuration: <dir>/chorus.conf and <dir>/rooms.conf
 * (libre conf format: "key value" lines, '#' comments).
 *
 * Loaded and owned by the libre thread. The room table can be reloaded
 * (SIGHUP) without touching live calls.
 */
#ifndef CHORUS_CFG_H
#define CHORUS_CFG_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

#include "media/media.h"

enum { CFG_CODECS_MAX = 8, CFG_ROOMS_MAX = 4096, CFG_ROOM_LEGS_MAX = 1000 };

enum cfg_srtp { CFG_SRTP_OFF = 0, CFG_SRTP_OPTIONAL, CFG_SRTP_MANDATORY };

struct cfg_room {
	char     number[32];       /**< dialled user part, e.g. "1000"        */
	char     name[64];
	uint32_t max_legs;
	char     pin[16];          /**< empty = no PIN                        */
	char     mod_pin[16];      /**< moderator PIN, empty = none           */
	char     moderators[256];  /**< comma-separated SIP URIs              */
	enum cfg_srtp srtp;        /**< inherits the global policy if unset   */
};

enum { CFG_USERS_MAX = 1024 };

/** users.conf (added; sip/auth.h): digest credentials. Secrets are HA1
 *  hex only; never logged or printed. */
struct cfg_user {
	char     name[64];
	char     ha1_md5[33];      /**< md5(name:realm:pass) hex, "" = none   */
	char     ha1_sha256[65];   /**< sha256(...) hex, "" = none            */
	char     rooms[256];       /**< comma-separated numbers, "*" = all    */
	bool     moderator;        /**< role=moderator                        */
};

struct cfg {
	/* SIP */
	char     sip_listen[128];  /**< e.g. "0.0.0.0:5060" (UDP and TCP)     */
	bool     sip_udp, sip_tcp, sip_tls;
	char     tls_listen[128];  /**< e.g. "0.0.0.0:5061"                   */
	char     tls_cert[256];    /**< PEM with certificate and key          */
	char     public_addr[64];  /**< address put into SDP c=, "" = auto    */
	uint8_t  dscp_sip;         /**< 24 = CS3                              */
	char     outbound_proxy[256];
	uint32_t session_expires;  /**< RFC 4028 default interval, s          */
	uint32_t answer_delay_ms;  /**< ring (180) this long before 200, 0 = at once */

	/* admission control (added; src/sip/guard.c, docs/SECURITY.md) */
	uint32_t pike_rate;        /**< SIP requests/s per source, 0 = off    */
	uint32_t pike_burst;       /**< bucket size, requests                 */
	uint32_t pike_ban_ms;      /**< ban after an empty bucket, ms         */
	uint32_t max_legs_total;   /**< legs in all rooms, 0 = no limit       */
	uint32_t max_dialogs_per_source; /**< per source IP, 0 = no limit     */
	uint32_t overload_permille;/**< media worker busy share that refuses
					new INVITEs (503), 0 = off           */
	uint32_t retry_after_s;    /**< Retry-After in those 503s             */
	char     pike_exempt[256]; /**< sources without per-source limits:
					addresses/prefixes, comma-separated  */

	/* media */
	struct media_cfg media;
	enum codec_id codecs[CFG_CODECS_MAX];  /**< our preference order       */
	unsigned ncodecs;
	enum cfg_srtp srtp;

	/* in-call keypad menu (added; ctrl/menu.h): "name=keys,..." over
	   the defaults, "" = defaults */
	char     menu_keys[160];
	/* voice prompts (added; ctrl/prompt.h): directory of
	   <name>-<rate>.wav, relative to the config dir; "" = built ones */
	char     prompt_dir[256];
	/* digest authentication (added; sip/auth.h, docs/SECURITY.md) */
	char     auth_realm[64];   /**< realm of our challenges               */
	char     auth_users[256];  /**< users file, relative to dir; "" = none*/
	bool     auth_trust_from_uri; /**< with users: a mod= From URI alone
					  still authorises (spoofable)       */

	/* logging */
	int      log_level;        /**< 0 error, 1 warning, 2 info, 3 debug   */

	/* rooms (rooms.conf) */
	struct cfg_room *rooms;    /**< array of nrooms                        */
	unsigned nrooms;
	char     auto_pattern[32]; /**< e.g. "dddd": any 4 digits; "" = off   */
	uint32_t auto_max_legs;
	uint32_t default_max_legs; /**< rooms without max=                  */
	char     dir[256];         /**< config directory                      */

	/* users (auth_users file; users.c) */
	struct cfg_user *users;    /**< array of nusers                       */
	unsigned nusers;
};

/** Load dir/chorus.conf and dir/rooms.conf; errors are logged with the
 *  file, key and reason, and returned as errno values. */
int  cfg_load(struct cfg **cfgp, const char *dir);
/** Re-read only rooms.conf into cfg (SIGHUP). */
int  cfg_reload_rooms(struct cfg *cfg);
/**
 * Re-read chorus.conf (SIGHUP) without applying it: warn about each key
 * whose value differs from cfg (those need a restart). Returns the number
 * of changed keys, or -1 if the file no longer loads (errors logged).
 */
int  cfg_main_changes(const struct cfg *cfg);
/** Re-read the auth_users file (SIGHUP); on error the old users stay. */
int  cfg_reload_users(struct cfg *cfg);
/** Find the static room for number, or NULL. */
const struct cfg_room *cfg_room_find(const struct cfg *cfg, const char *number);
/** Does number match the auto-create pattern? */
bool cfg_room_auto(const struct cfg *cfg, const char *number);
int  cfg_print(struct re_printf *pf, const struct cfg *cfg);
/** Codec name as written in chorus.conf ("opus", "G722", ...). */
const char *cfg_codec_name(enum codec_id id);

#endif
