/* The verification result as event fields: the upstream_verify event's
 * and `chainproxy verify --json`'s (docs/events.md). */
#ifndef CP_EVENT_VERIFY_H
#define CP_EVENT_VERIFY_H

#include <jansson.h>

#include "diag/verify.h"

/* The fields of an upstream_verify event, added to o. tls_error: the
 * handshake itself failed (no chain to judge), or NULL. */
void cp_verify_result_to_json(const cp_verify_result_t *r, const char *sni,
                              const char *tls_error, json_t *o);

#endif
