/* The intercepted handshake: after CONNECT is answered, read the
 * ClientHello (pausing the handshake), handshake with the upstream using
 * the client's SNI and record its verification, then mint a leaf from the
 * chosen profile and finish the client handshake. The decision (block or
 * relay) is taken after the upstream handshake, from the verification
 * record. Handlers for CLIENT_HELLO, UPSTREAM_TLS and CLIENT_TLS. */
#ifndef CP_CONN_TLS_H
#define CP_CONN_TLS_H

#include "conn/conn.h"

void cp_conn_tls_entry_client_hello(cp_conn_t *c);
void cp_conn_tls_on_hello_data(cp_conn_t *c, cp_leg_t *leg, const char *data,
                               size_t len);
void cp_conn_tls_entry_upstream(cp_conn_t *c);
void cp_conn_tls_entry_client(cp_conn_t *c);
void cp_conn_tls_on_handshake(cp_conn_t *c, cp_leg_t *leg);
/* CLIENT_TLS: upstream bytes are kept (c->early) for the relay. */
void cp_conn_tls_on_client_tls_data(cp_conn_t *c, cp_leg_t *leg,
                                    const char *data, size_t len);
void cp_conn_tls_on_eof(cp_conn_t *c, cp_leg_t *leg);
void cp_conn_tls_on_error(cp_conn_t *c, cp_leg_t *leg, int err);
void cp_conn_tls_on_timeout(cp_conn_t *c, double secs);

#endif
