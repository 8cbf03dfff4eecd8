/* The remedy sentence for a diagnosis: a table of templates, one or more
 * rows per cause (diag.h's CP_DIAG_CAUSES), filled with the facts of the
 * failing element. Pure: no allocation, no I/O. */
#ifndef CP_HINT_H
#define CP_HINT_H

#include <stddef.h>

#include "diag/diag.h"
#include "diag/verify.h"

/* The hint for cause at depth (error code: OpenSSL's X509_V_ERR_*) into out
 * (len bytes, truncated); c is the element at depth, NULL when there is
 * none; host the name the client asked for (NULL: unknown). */
void cp_diag_hint(const cp_verify_result_t *r, cp_cause_t cause,
                  const cp_cert_info_t *c, int depth, int code,
                  const char *host, char *out, size_t len);

#endif
