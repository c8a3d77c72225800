/**
 * @file sanity.h  Request checks before routing (RFC 4475/5118 torture):
 * repeated single-value headers, numeric ranges, quoting, Request-URI
 * scheme and IPv6 host, NUL in an SDP body. Pure, no state.
 */
#ifndef CHORUS_SANITY_H
#define CHORUS_SANITY_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>

/**
 * Strict unsigned decimal: only digits, at most 10 of them, value <= max.
 * libre's pl_u32 wraps silently, this does not.
 * @return 0, EINVAL (empty or not all digits) or ERANGE (too big)
 */
int sanity_uint(const struct pl *pl, uint64_t max, uint64_t *val);

/** False if a quoted-string in a header value is never closed. */
bool sanity_quotes_ok(const struct pl *pl);

/** True if the Request-URI scheme is sip or sips (case-insensitive). */
bool sanity_scheme_ok(const struct pl *ruri);

/** False for an IPv6 reference host without [] (RFC 5118 4.10). */
bool sanity_ipv6_host_ok(const struct pl *ruri);

/**
 * Check a request (not ACK). On a problem returns EBADMSG with the
 * status code (400 or 416) and a one-line reason in why.
 */
int sanity_request(const struct sip_msg *msg, uint16_t *scode, char *why,
		   size_t sz);

#endif
