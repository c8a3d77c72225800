/**
 * @file roster.h  RFC 4575 conference state documents
 * (application/conference-info+xml) for the "conference" event package.
 *
 * A pure encoder: the caller snapshots the room into the structs below
 * (on the libre thread) and gets a well-formed, schema-valid, escaped
 * document in an mbuf. Versioning and the choice between full and
 * partial notifications stay with the caller (the subscription code).
 *
 * Mute and deafen: RFC 4575 has no per-participant mute flag, so the
 * state is carried three ways that existing clients understand:
 *  - media <status> seen from the participant: muted removes "send"
 *    (sendrecv -> recvonly), deaf removes "recv" (-> sendonly), both ->
 *    inactive, combined with the negotiated direction (hold);
 *  - endpoint <status> "muted-via-focus" when a connected participant is
 *    muted by the focus (the RFC 4575 status for exactly that);
 *  - <chorus:muted>/<chorus:deaf> inside <media>, in the
 *    ROSTER_EXT_NS namespace (the schema allows ##other there).
 */
#ifndef CHORUS_SIP_ROSTER_H
#define CHORUS_SIP_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <re.h>

#define ROSTER_CTYPE  "application/conference-info+xml"
#define ROSTER_NS     "urn:ietf:params:xml:ns:conference-info"
#define ROSTER_EXT_NS "urn:x-chorus:conference-info"

/** RFC 4575 state attribute of a document or of one <user>. */
enum roster_state {
	ROSTER_STATE_FULL = 0,
	ROSTER_STATE_PARTIAL,
	ROSTER_STATE_DELETED,
};

/** RFC 4575 endpoint <status>. */
enum roster_ep_status {
	ROSTER_EP_NONE = 0,            /**< element omitted               */
	ROSTER_EP_PENDING,
	ROSTER_EP_DIALING_OUT,
	ROSTER_EP_DIALING_IN,
	ROSTER_EP_ALERTING,
	ROSTER_EP_ON_HOLD,
	ROSTER_EP_CONNECTED,
	ROSTER_EP_MUTED_VIA_FOCUS,
	ROSTER_EP_DISCONNECTING,
	ROSTER_EP_DISCONNECTED,
};

enum roster_joining {
	ROSTER_JOIN_NONE = 0,          /**< element omitted               */
	ROSTER_JOIN_DIALED_IN,
	ROSTER_JOIN_DIALED_OUT,
	ROSTER_JOIN_FOCUS_OWNER,
};

enum roster_disconnection {
	ROSTER_DISC_NONE = 0,          /**< element omitted               */
	ROSTER_DISC_DEPARTED,
	ROSTER_DISC_BOOTED,
	ROSTER_DISC_FAILED,
	ROSTER_DISC_BUSY,
};

/** Negotiated media direction, from the participant's point of view. */
enum roster_dir {
	ROSTER_DIR_SENDRECV = 0,
	ROSTER_DIR_SENDONLY,
	ROSTER_DIR_RECVONLY,
	ROSTER_DIR_INACTIVE,
};

enum roster_role {
	ROSTER_ROLE_PARTICIPANT = 0,
	ROSTER_ROLE_MODERATOR,
};

/** The room. Strings may be NULL (element omitted) except entity. */
struct roster_conf {
	const char *entity;        /**< conference URI (required)           */
	const char *display_text;  /**< room name                           */
	const char *subject;
	uint32_t max_users;        /**< 0 = omit <maximum-user-count>       */
	uint32_t user_count;
	bool active;
	bool locked;
};

/** One participant; one endpoint with at most one audio stream. */
struct roster_user {
	enum roster_state state;   /**< per-user state (partial documents)  */
	const char *entity;        /**< AOR URI (required)                  */
	const char *display_text;  /**< From display name, may be NULL      */
	enum roster_role role;
	const char *ep_entity;     /**< endpoint (Contact) URI, NULL = entity */
	enum roster_ep_status status;
	enum roster_joining joining;
	enum roster_disconnection disconnection;
	const char *media_id;      /**< NULL = no <media>                   */
	const char *media_label;   /**< SDP a=label, may be NULL            */
	uint32_t ssrc;             /**< <src-id>, when has_ssrc             */
	bool has_ssrc;
	enum roster_dir dir;
	bool muted;                /**< focus does not mix this participant */
	bool deaf;                 /**< focus sends this participant silence */
	/** (added) keypad/INFO gains in dB as <chorus:gain-in>/<gain-out> */
	bool has_gain;
	int gain_in_db, gain_out_db;
	const char *call_id;       /**< <call-info><sip> when all three set */
	const char *from_tag;
	const char *to_tag;
};

struct roster_doc {
	const struct roster_conf *conf;
	const struct roster_user *users;
	size_t userc;
	uint32_t version;
	/** Full: every user, per-user state forced full, deleted users
	 *  skipped, conference-description included. Partial: only the
	 *  users given, each with its own state, and conference-state. */
	bool partial;
};

/**
 * Append the document to mb (at mb->pos). On error mb is left where it
 * was (pos and end restored). EINVAL when a required field is missing.
 */
int roster_encode(struct mbuf *mb, const struct roster_doc *doc);

/** %H printer: XML-escape a string for text or attribute content,
 *  replacing bytes XML 1.0 cannot carry (controls, bad UTF-8) by '?'. */
int roster_xml_escape(struct re_printf *pf, const char *s);

const char *roster_ep_status_name(enum roster_ep_status st);
const char *roster_dir_name(enum roster_dir dir);

#endif
