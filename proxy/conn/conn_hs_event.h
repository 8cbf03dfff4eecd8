/* The client_handshake event of an intercepted connection: what was
 * served (profile, chain, whether mirrored), what the client offered and
 * chose, and on a refusal who refused and why. conn_tls's, split out of
 * it; it closes the handshake's resumption slot (the session is settled
 * either way). */
#ifndef CP_CONN_HS_EVENT_H
#define CP_CONN_HS_EVENT_H

#include "conn/conn.h"
#include "diag/hs_diag.h"

/* hs, when set: chainproxy refused the client, and why. */
void cp_conn_emit_client_handshake(cp_conn_t *c, int accepted,
                                   const cp_hs_result_t *hs);

#endif
