/**
 * @file info.h  In-dialog INFO (RFC 6086): the "chorus-control" info
 * package (application/json commands, ctrl/command.h) and the legacy
 * DTMF bodies (application/dtmf-relay, application/dtmf) that feed the
 * keypad menu.
 *
 * Answers: 200 applied; 400 bad JSON / unknown command / bad value
 * (Warning: 399 says why); 403 a non-moderator acting on others or the
 * room; 404 unknown target; 413 body too large; 415 another content
 * type for chorus-control (with Accept); 469 unknown or missing
 * Info-Package (with Recv-Info), except for the legacy DTMF types.
 */
#ifndef CHORUS_SIP_INFO_H
#define CHORUS_SIP_INFO_H

#include <re.h>

struct call;

/** Header lines for answers that advertise our package (RFC 6086 5.2). */
#define INFO_RECV_HDR "Recv-Info: chorus-control\r\n"

/** sipsess INFO handler body for call (answers msg). */
void info_handle(struct call *call, struct sip *sip,
		 const struct sip_msg *msg);

#endif
