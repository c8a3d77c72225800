/**
 * @file message.h  MESSAGE (RFC 3428) relay: a participant's message, in
 * its dialog or sent to the room URI, goes to every other participant in
 * their dialogs, with the sender's name; the sender gets 200.
 */
#ifndef CHORUS_SIP_MESSAGE_H
#define CHORUS_SIP_MESSAGE_H

#include <re.h>

struct focus;

void message_handle(struct focus *focus, const struct sip_msg *msg);

#endif
