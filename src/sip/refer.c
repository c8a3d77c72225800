/**
 * @file refer.c  REFER to the conference focus (RFC 3515, RFC 4579).
 */
#include <stdbool.h>
#include <re.h>

#include "ctrl/log.h"
#include "sip/call.h"
#include "sip/call_int.h"
#include "sip/focus.h"
#include "sip/refer.h"


void refer_handle(struct call *call, struct sip *sip,
		  const struct sip_msg *msg)
{
	(void)call;
	call_reject(sip, msg, 501, "Not Implemented", NULL, "REFER");
}


void refer_ood_handle(struct focus *f, const struct sip_msg *msg)
{
	call_reject(focus_env(f)->sip, msg, 501, "Not Implemented", NULL,
		    "REFER");
}


void refer_leg_gone(struct focus *f, const struct leg *leg)
{
	(void)f;
	(void)leg;
}


bool refer_leg_dialed_out(const struct focus *f, const struct leg *leg)
{
	(void)f;
	(void)leg;
	return false;
}
