/**
 * @file focus.h  The conference focus (RFC 4579): what a room does as a
 * SIP user agent of its own besides the participant dialogs.
 *
 *  - SUBSCRIBE Event: conference (RFC 4575) to the room URI, in or out of
 *    a participant's dialog: full state first, then partial NOTIFYs with
 *    increasing versions on join, leave, mute, deaf, hold, role, lock;
 *  - REFER to the room URI out of dialog (refer.c) and MESSAGE relay
 *    (message.c);
 *  - the room control (room/control.h): INFO commands (info.c), RFC 4733
 *    keys from the media engine, kicks.
 *
 * Created by the endpoint after the sipsess listener and before its own
 * catch-all listener, so its requests reach us first. Libre thread only.
 */
#ifndef CHORUS_SIP_FOCUS_H
#define CHORUS_SIP_FOCUS_H

#include <re.h>

#include "media/media.h"
#include "room/control.h"

struct focus;
struct call_env;
struct call;
struct auth;

/** Methods the focus adds to Allow. */
#define FOCUS_ALLOW "INFO, REFER, SUBSCRIBE, NOTIFY, MESSAGE"
/** Our RFC 6086 info package. */
#define FOCUS_INFO_PACKAGE "chorus-control"

int  focus_alloc(struct focus **focusp, struct call_env *env);
/** Media events for legs (DTMF); others are ignored. */
void focus_media_event(struct focus *focus, const struct media_event *ev);
struct control *focus_control(const struct focus *focus);
struct sipevent_sock *focus_sipevent(const struct focus *focus);
struct call_env *focus_env(const struct focus *focus);
/** refer.c's pending and finished REFER jobs (owned by the focus). */
struct list *focus_refers(struct focus *focus);
/** Digest authentication state (sip/auth.h) for requests from outside. */
struct auth *focus_auth(const struct focus *focus);
/** Must the leg's media start out of the mix (PIN not entered yet)? */
bool focus_leg_isolated(const struct focus *focus, const struct leg *leg);
/** Admit a leg without PIN entry (the PIN came in the Request-URI). */
void focus_admit(struct focus *focus, struct leg *leg, enum leg_role role);
/** Hang up a leg after the current request was answered. */
void focus_kick(struct focus *focus, struct leg *leg, const char *why);
/** The call whose dialog msg belongs to, or NULL. */
struct call *focus_call_by_dialog(const struct focus *focus,
				  const struct sip_msg *msg);

#endif
