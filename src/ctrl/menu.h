/**
 * @file menu.h  DTMF keypad menu and PIN entry, as a pure state machine
 *
 * One struct menu per leg, embedded (no allocation). Feed it each DTMF
 * key with the current time; it answers with what to do. It never acts
 * itself: toggles (mute, lock, mute-all) are reported as toggles because
 * only the room knows the current state; gains as signed dB steps.
 *
 * Default keys (conf: "menu_keys"):
 *   *6 mute/unmute self     *4 / *7 hear quieter / louder
 *   *1 / *3 talk quieter / louder
 *   *5 lock/unlock room     *8 mute/unmute all others   (moderators)
 *   *0 help (play the menu)
 * A sequence that matches nothing is reported as MENU_INVALID, but its
 * last key may start a new sequence ("**6" is *6). A sequence left
 * unfinished for timeout_ms is dropped (menu_poll() reports it).
 *
 * PIN mode (menu_pin_start): keys are collected until '#', until the
 * PIN buffer is full, or until the inter-digit timeout, then compared
 * in constant time; '*' clears the entry. After max_tries wrong entries
 * the answer is MENU_HANGUP.
 */
#ifndef CHORUS_CTRL_MENU_H
#define CHORUS_CTRL_MENU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Longest key sequence in the menu. */
#define MENU_SEQ_MAX         4
/** Longest PIN. */
#define MENU_PIN_MAX         16
/** Defaults. */
#define MENU_TIMEOUT_MS      3000
#define MENU_GAIN_STEP_DB    3
#define MENU_PIN_TRIES       3
#define MENU_REASON_SIZE     96
#define MENU_KEYS_DEFAULT \
	"mute=*6,hear_down=*4,hear_up=*7,talk_down=*1,talk_up=*3," \
	"lock=*5,muteall=*8,help=*0"

/** Menu functions a key sequence can be bound to. */
enum menu_func {
	MENU_FN_MUTE = 0,
	MENU_FN_HEAR_DOWN,
	MENU_FN_HEAR_UP,
	MENU_FN_TALK_DOWN,
	MENU_FN_TALK_UP,
	MENU_FN_LOCK,          /**< moderators only */
	MENU_FN_MUTEALL,       /**< moderators only */
	MENU_FN_HELP,
	MENU_FN_COUNT
};

enum menu_action {
	MENU_NONE = 0,         /**< key taken, nothing to do yet           */
	MENU_MUTE_TOGGLE,
	MENU_HEAR_GAIN,        /**< value: dB step (+ louder, - quieter)   */
	MENU_TALK_GAIN,        /**< value: dB step                         */
	MENU_LOCK_TOGGLE,
	MENU_MUTEALL_TOGGLE,
	MENU_HELP,
	MENU_INVALID,          /**< no such sequence: play an error tone   */
	MENU_DENIED,           /**< moderator function, caller is not one;
				    value: its enum menu_func           */
	MENU_TIMEOUT,          /**< an unfinished sequence was dropped     */
	MENU_PIN_OK,
	MENU_PIN_BAD,          /**< value: tries left (> 0)                */
	MENU_HANGUP,           /**< PIN tries used up                      */
};

struct menu_event {
	enum menu_action action;
	int value;
};

/** Key sequence per function; "" = function disabled. */
struct menu_keymap {
	char seq[MENU_FN_COUNT][MENU_SEQ_MAX + 1];
};

struct menu {
	struct menu_keymap km;
	uint32_t timeout_ms;
	int step_db;
	bool moderator;
	char buf[MENU_PIN_MAX + 1];    /**< keys so far (sequence or PIN)  */
	size_t len;
	uint64_t last_ms;              /**< time of the last key            */
	/* PIN mode */
	bool pin_mode;
	char pin[MENU_PIN_MAX + 1];
	unsigned tries_left;
};

/** Fill km with MENU_KEYS_DEFAULT. */
void menu_keymap_default(struct menu_keymap *km);

/**
 * Apply "name=keys,..." over what km holds (start from the defaults to
 * change only some keys). Names: mute hear_down hear_up talk_down
 * talk_up lock muteall help. Keys: 1..MENU_SEQ_MAX of 0-9 * # A-D, or
 * empty to disable. The result must be unambiguous: no two functions on
 * the same sequence, none a prefix of another.
 * @return 0, or EINVAL with reason filled (km unchanged).
 */
int menu_keymap_parse(struct menu_keymap *km, const char *str,
		      char *reason, size_t rsz);

/**
 * Write km in the menu_keymap_parse() form ("mute=*6,...", every
 * function, disabled ones as "name="). Returns the length written, or
 * -1 when sz is too small (buf then holds "").
 */
int menu_keymap_str(char *buf, size_t sz, const struct menu_keymap *km);

/** Start a menu. km NULL = defaults; timeout_ms 0 = MENU_TIMEOUT_MS;
 *  step_db 0 = MENU_GAIN_STEP_DB. */
void menu_init(struct menu *m, const struct menu_keymap *km,
	       uint32_t timeout_ms, int step_db);

void menu_set_moderator(struct menu *m, bool moderator);

/**
 * Switch to PIN entry (until MENU_PIN_OK or MENU_HANGUP).
 * @param pin        1..MENU_PIN_MAX keys of 0-9 A-D
 * @param max_tries  0 = MENU_PIN_TRIES
 */
int menu_pin_start(struct menu *m, const char *pin, unsigned max_tries);
bool menu_pin_active(const struct menu *m);

/** One DTMF key ('0'-'9', '*', '#', 'A'-'D'; others are ignored). */
struct menu_event menu_feed(struct menu *m, char key, uint64_t now_ms);

/** Report an expired inter-digit timeout; call from a timer. */
struct menu_event menu_poll(struct menu *m, uint64_t now_ms);

const char *menu_action_name(enum menu_action a);
const char *menu_func_name(enum menu_func f);

#endif
