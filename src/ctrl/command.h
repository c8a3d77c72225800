/**
 * @file command.h  Parser for in-dialog control requests: the RFC 6086
 * info package "chorus-control" (application/json) and the legacy DTMF
 * INFO bodies (application/dtmf-relay, application/dtmf).
 *
 * Pure functions: no allocation survives a call, no global state, safe on
 * any thread. Errors come back as a SIP-ready result (status code plus a
 * reason that is safe to put inside a Warning header's quoted warn-text).
 *
 * JSON form, one object per request:
 *   {"cmd":"mute","target":"self"}
 *   {"cmd":"gain","target":"sip:alice@example.org","in_db":-6,"out_db":3}
 *   {"cmd":"role","target":7,"role":"moderator"}
 *   {"cmd":"lock"}
 * target: "self", "all" (every other participant), a SIP/SIPS URI, or a
 * roster id (JSON integer or a string of digits).
 * Unknown keys are ignored (forward compatibility); duplicated keys,
 * trailing data, wrong types and out-of-range values are rejected.
 */
#ifndef CHORUS_CTRL_COMMAND_H
#define CHORUS_CTRL_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Largest accepted body; larger ones get 413. */
#define CTRL_BODY_MAX      4096
/** Deepest accepted JSON nesting (the command itself is depth 1). */
#define CTRL_JSON_MAXDEPTH 4
/** Gain limits in dB, inclusive. */
#define CTRL_GAIN_MIN_DB   (-20.0)
#define CTRL_GAIN_MAX_DB   (12.0)
/** Size of ctrl_cmd.target including the NUL. */
#define CTRL_TARGET_SIZE   256
/** Size of ctrl_result.reason including the NUL. */
#define CTRL_REASON_SIZE   128
/** SIP warn-code for our Warning header (RFC 3261 399 = miscellaneous). */
#define CTRL_WARN_CODE     399

enum ctrl_op {
	CTRL_OP_NONE = 0,
	CTRL_OP_MUTE,
	CTRL_OP_UNMUTE,
	CTRL_OP_DEAF,
	CTRL_OP_UNDEAF,
	CTRL_OP_KICK,
	CTRL_OP_LOCK,      /**< room-wide, takes no target                 */
	CTRL_OP_UNLOCK,    /**< room-wide, takes no target                 */
	CTRL_OP_GAIN,
	CTRL_OP_ROLE,
};

enum ctrl_target_kind {
	CTRL_TARGET_NONE = 0,   /**< lock/unlock                            */
	CTRL_TARGET_SELF,       /**< the sender of the request              */
	CTRL_TARGET_ALL,        /**< every participant except the sender    */
	CTRL_TARGET_URI,        /**< target[] holds a sip:/sips: URI        */
	CTRL_TARGET_ID,         /**< target_id (and target[] in decimal)    */
};

enum ctrl_role {
	CTRL_ROLE_NONE = 0,
	CTRL_ROLE_PARTICIPANT,
	CTRL_ROLE_MODERATOR,
};

struct ctrl_cmd {
	enum ctrl_op op;
	enum ctrl_target_kind target_kind;
	char target[CTRL_TARGET_SIZE];  /**< URI or decimal id, else ""     */
	uint32_t target_id;             /**< valid for CTRL_TARGET_ID       */
	/** Gain on the audio the target sends into the mix (its talking). */
	double in_db;
	/** Gain on the mix the target hears. */
	double out_db;
	bool has_in, has_out;
	enum ctrl_role role;            /**< valid for CTRL_OP_ROLE         */
};

/** Outcome of a parse. scode 0 = accepted; else the SIP response code. */
struct ctrl_result {
	uint16_t scode;                 /**< 0, 400, 413 or 415             */
	/** Printable ASCII without '"' or '\\': drop it into a
	 *  Warning: 399 <host> "<reason>" header as it is. */
	char reason[CTRL_REASON_SIZE];
};

/** A decoded DTMF INFO body. */
struct ctrl_dtmf {
	char digit;               /**< '0'-'9', '*', '#', 'A'-'D'            */
	uint32_t duration_ms;     /**< 0 when the body gave none             */
};

/** What a control INFO body turned out to be. */
enum ctrl_info_kind {
	CTRL_INFO_NONE = 0,
	CTRL_INFO_CMD,
	CTRL_INFO_DTMF,
};

struct ctrl_info {
	enum ctrl_info_kind kind;
	struct ctrl_cmd cmd;      /**< valid for CTRL_INFO_CMD               */
	struct ctrl_dtmf dtmf;    /**< valid for CTRL_INFO_DTMF              */
};

/**
 * Parse a chorus-control JSON body.
 * @return 0 on success (res->scode == 0), EBADMSG when rejected
 *         (res->scode and res->reason say why), EINVAL on NULL args.
 */
int ctrl_cmd_parse(struct ctrl_cmd *cmd, struct ctrl_result *res,
		   const char *body, size_t len);

/** Parse an application/dtmf-relay body ("Signal=5\r\nDuration=160"). */
int ctrl_dtmf_relay_parse(struct ctrl_dtmf *dtmf, struct ctrl_result *res,
			  const char *body, size_t len);

/** Parse an application/dtmf body ("5"). */
int ctrl_dtmf_parse(struct ctrl_dtmf *dtmf, struct ctrl_result *res,
		    const char *body, size_t len);

/**
 * Dispatch on the Content-Type (type/subtype, parameters ignored,
 * case-insensitive) to one of the parsers above. Unknown type: 415.
 */
int ctrl_info_parse(struct ctrl_info *info, struct ctrl_result *res,
		    const char *ctype, const char *body, size_t len);

/** Stable lower-case names ("mute", ...), "?" for out-of-range values. */
const char *ctrl_op_name(enum ctrl_op op);
const char *ctrl_role_name(enum ctrl_role role);

#endif
