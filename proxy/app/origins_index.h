/* The catalogue's index: plain HTTP on the base port, one request per
 * connection, blocking (the caller's thread and timeouts). GET / (HTML),
 * /cases.json, /ca/root.pem, /ca/intermediate.der (the incomplete case's
 * AIA caIssuers URL), /crl/intermediate.crl (the revoked case's CRL
 * distribution point), POST /ocsp (RFC 6960 over HTTP, the revoked case's
 * OCSP URL). The listing is built once at start into the cp_origins_t,
 * which owns it. */
#ifndef CP_ORIGINS_INDEX_H
#define CP_ORIGINS_INDEX_H

#include <stddef.h>

#include "app/origins.h"

int cp_origins_index_build(cp_origins_t *o, char *err, size_t errlen);
void cp_origins_index_serve(cp_origins_t *o, int fd);

#endif
