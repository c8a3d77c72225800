/**
 * @file control.h  In-call room control: applies chorus-control commands
 * (ctrl/command.h) and DTMF keypad menu actions (ctrl/menu.h) to a room,
 * with permission checks, and keeps each leg's control state (muted,
 * deaf, gains, menu) for the roster.
 *
 * Lives on the libre thread. Audio changes go to the media engine with
 * media_leg_control(); the worker applies them at a frame boundary.
 * Every change that the roster shows ends in leg_changed() (or the
 * room handler for lock/unlock), so the conference focus can notify.
 *
 * Permissions: anybody may change their own mute/deaf/gains and leave
 * (kick self); only moderators act on other participants, lock or
 * unlock the room, or change roles (a participant may only give up a
 * role it does not have, i.e. set itself "participant").
 */
#ifndef CHORUS_ROOM_CONTROL_H
#define CHORUS_ROOM_CONTROL_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

#include "ctrl/command.h"
#include "ctrl/menu.h"
#include "media/media.h"
#include "room/room.h"

struct control;

/** What the roster shows about one leg besides signalling state. */
struct control_state {
	bool muted;
	bool deaf;
	int  gain_in;      /**< dB, what the leg sends into the mix        */
	int  gain_out;     /**< dB, the mix it hears                       */
};

/** Kick a leg (BYE). Called after the request that asked is answered. */
typedef void (control_kick_h)(struct leg *leg, const char *why, void *arg);
/** Room-wide state (lock) changed. */
typedef void (control_room_h)(struct room *room, void *arg);
/** Play a prompt to one leg (menu help, errors). */
enum control_prompt {
	CONTROL_PROMPT_MENU = 0,
	CONTROL_PROMPT_ERROR,
	CONTROL_PROMPT_MUTED,
	CONTROL_PROMPT_UNMUTED,
	CONTROL_PROMPT_LOCKED,
	CONTROL_PROMPT_UNLOCKED,
	CONTROL_PROMPT_PIN,        /**< "enter the PIN, then #"          */
	CONTROL_PROMPT_PIN_BAD,
	CONTROL_PROMPT_GOODBYE,
	CONTROL_PROMPT_WELCOME,    /**< admitted                          */
	CONTROL_PROMPT_STOP,       /**< stop whatever plays               */
	CONTROL_PROMPT_COUNT
};
typedef void (control_prompt_h)(struct leg *leg, enum control_prompt p,
				void *arg);

/** me may be NULL (signalling only); km NULL = default key map. */
int  control_alloc(struct control **ctlp, struct media_engine *me,
		   const struct menu_keymap *km);
void control_set_handlers(struct control *ctl, control_kick_h *kickh,
			  control_room_h *roomh, control_prompt_h *prompth,
			  void *arg);

/**
 * PIN admission (rooms with pin=). Call when the leg's media is up (or
 * when it is established without media): in a PIN room a leg not yet
 * admitted is muted and deafened in the mix and hears the PIN prompt;
 * its keys go to PIN entry ('#' ends, '*' clears) until room_pin_check
 * accepts (moderator PIN gives the moderator role) or the third wrong
 * entry hangs up. Idempotent.
 */
void control_leg_media(struct control *ctl, struct leg *leg);
/** Admit a leg at once (PIN given in the Request-URI as room*pin). */
void control_admit(struct control *ctl, struct leg *leg, enum leg_role role);
/** In the room (and the roster): admitted or no PIN needed. */
bool control_admitted(const struct control *ctl, const struct leg *leg);
/** Wrong PIN entries before the hang-up. */
#define CONTROL_PIN_TRIES 3

/** The leg's state (defaults for a leg never touched). */
struct control_state control_state(const struct control *ctl,
				   const struct leg *leg);
/** Forget a leg (registry observer: REGISTRY_LEG_FREE). */
void control_leg_free(struct control *ctl, const struct leg *leg);

/**
 * The permission rule alone (pure, unit-tested).
 * @param role        sender's role
 * @param cmd         parsed command
 * @param others      the command acts on a leg other than the sender
 * @return true when allowed
 */
bool control_permitted(enum leg_role role, const struct ctrl_cmd *cmd,
		       bool others);

/**
 * Apply one command sent by leg from.
 * @return SIP status: 200 applied, 400 bad value (reason), 403 not
 *         allowed, 404 no such target (reason filled for non-200)
 */
uint16_t control_apply(struct control *ctl, struct leg *from,
		       const struct ctrl_cmd *cmd, char *reason, size_t rsz);

/** One DTMF key from leg (RFC 4733 or INFO) for its keypad menu. */
void control_key(struct control *ctl, struct leg *leg, char key);

/** Does uri name the same user@host as pattern (port only when the
 *  pattern has one; "Name <uri>" and parameters ignored)? */
bool control_uri_match(const char *pattern, const char *uri);

#endif
