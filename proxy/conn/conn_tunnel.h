/* TUNNEL: a blind byte relay in both directions (CONNECT to a passthrough
 * host, or a client that does not speak TLS after CONNECT), with half-close
 * passed on and the tunnel idle timeout. */
#ifndef CP_CONN_TUNNEL_H
#define CP_CONN_TUNNEL_H

#include "conn/conn.h"

void cp_conn_tunnel_entry(cp_conn_t *c);
void cp_conn_tunnel_on_data(cp_conn_t *c, cp_leg_t *leg, const char *data,
                            size_t len);
void cp_conn_tunnel_on_eof(cp_conn_t *c, cp_leg_t *leg);

#endif
