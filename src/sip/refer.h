/**
 * @file refer.h  REFER (RFC 3515) to the conference focus (RFC 4579):
 * dial a participant in, remove one (method=BYE), or move the sender to
 * another room; progress as "refer" NOTIFYs with message/sipfrag bodies
 * (none with RFC 4488 Refer-Sub: false).
 */
#ifndef CHORUS_SIP_REFER_H
#define CHORUS_SIP_REFER_H

#include <stdbool.h>
#include <re.h>

struct focus;
struct call;
struct leg;

/** REFER inside a participant's dialog (sipsess refer handler). */
void refer_handle(struct call *call, struct sip *sip,
		  const struct sip_msg *msg);
/** REFER to the room URI outside any dialog. */
void refer_ood_handle(struct focus *focus, const struct sip_msg *msg);
/** The leg was freed: drop it from the dial-out bookkeeping. */
void refer_leg_gone(struct focus *focus, const struct leg *leg);
/** Did chorus dial this leg out (roster "dialed-out")? */
bool refer_leg_dialed_out(const struct focus *focus, const struct leg *leg);

#endif
