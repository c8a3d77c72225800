/**
 * @file sip_tls.h  SIP over TLS listeners (RFC 3261 26.2, RFC 5630 sips:)
 * through libre's TLS: one certificate (PEM with certificate and private
 * key, cfg tls_cert), one listener per address of tls_listen (a wildcard
 * becomes one per local address, as for UDP/TCP).
 */
#ifndef CHORUS_SIP_TLS_H
#define CHORUS_SIP_TLS_H

#include <re.h>

#include "cfg/cfg.h"

/**
 * Add the TLS transports when cfg->sip_tls is set (else nothing).
 * The libre transports keep their own reference to the TLS context.
 * @return 0, or an errno (unreadable or bad certificate, bind failure),
 *         logged.
 */
int sip_tls_listen(struct sip *sip, const struct cfg *cfg);

#endif
