/**
 * @file jsoncheck.h  Strict JSON validation for bodies from the network
 */
#ifndef CHORUS_CTRL_JSONCHECK_H
#define CHORUS_CTRL_JSONCHECK_H

#include <stddef.h>

/**
 * Is body exactly one JSON object (RFC 8259), nested at most maxdepth
 * containers deep, with no number of more than maxdigits integer digits
 * and no \u0000 in a string (libre decodes into C strings)?
 * Recursion is bounded by maxdepth.
 * @return NULL if so, else a short reason ("bad JSON: ...", "empty body",
 *         "JSON body must be an object") safe to show the client.
 */
const char *ctrl_json_check(const char *body, size_t len, unsigned maxdepth,
			    unsigned maxdigits);

#endif
