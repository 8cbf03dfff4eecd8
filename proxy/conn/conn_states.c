#include "conn/conn_states.h"

#include "conn/conn_h2.h"
#include "conn/conn_http.h"
#include "conn/conn_pool.h"
#include "conn/conn_tls.h"
#include "conn/conn_tunnel.h"
#include "conn/conn_upstream.h"

/* Rows in cp_conn_state_e order; NULL handlers take conn.c's default. */
static const cp_conn_state_ops_t states[CP_CONN_CLOSING] = {
    [CP_CONN_READ_REQUEST] =
        {
            .action = "reading the request",
            .entry = cp_conn_http_entry_read_request,
            .on_data = cp_conn_http_on_read_data,
            .on_eof = cp_conn_http_on_read_eof,
            .on_error = cp_conn_http_on_error,
            .on_timeout = cp_conn_http_on_read_timeout,
            .on_finish = cp_conn_pool_put,
        },
    [CP_CONN_UPSTREAM_CONNECT] =
        {
            .action = "connecting to upstream",
            .entry = cp_conn_upstream_entry,
            .on_data = cp_conn_upstream_on_data,
            .on_eof = cp_conn_upstream_on_eof,
            .on_connect = cp_conn_upstream_on_connect,
            .on_closed = cp_conn_upstream_on_closed,
            .on_timeout = cp_conn_upstream_on_timeout,
            .on_cut = cp_conn_http_on_cut,
        },
    [CP_CONN_CLIENT_HELLO] =
        {
            .action = "reading the ClientHello",
            .entry = cp_conn_tls_entry_client_hello,
            .on_data = cp_conn_tls_on_hello_data,
            .on_eof = cp_conn_tls_on_eof,
            .on_error = cp_conn_tls_on_error,
            .on_handshake = cp_conn_tls_on_handshake,
            .on_timeout = cp_conn_tls_on_timeout,
        },
    [CP_CONN_UPSTREAM_TLS] =
        {
            .action = "TLS handshake with upstream",
            .entry = cp_conn_tls_entry_upstream,
            .on_data = cp_conn_http_on_exchange_data,
            .on_eof = cp_conn_tls_on_eof,
            .on_error = cp_conn_tls_on_error,
            .on_handshake = cp_conn_tls_on_handshake,
            .on_timeout = cp_conn_tls_on_timeout,
            .on_cut = cp_conn_http_on_cut,
        },
    [CP_CONN_CLIENT_TLS] =
        {
            .action = "TLS handshake with client",
            .entry = cp_conn_tls_entry_client,
            .on_data = cp_conn_tls_on_client_tls_data,
            .on_eof = cp_conn_tls_on_eof,
            .on_error = cp_conn_tls_on_error,
            .on_handshake = cp_conn_tls_on_handshake,
            .on_timeout = cp_conn_tls_on_timeout,
        },
    [CP_CONN_TUNNEL] =
        {
            .action = "relaying the tunnel",
            .entry = cp_conn_tunnel_entry,
            .on_data = cp_conn_tunnel_on_data,
            .on_eof = cp_conn_tunnel_on_eof,
        },
    [CP_CONN_FORWARD] =
        {
            .action = "forwarding the request",
            .entry = cp_conn_http_entry_forward,
            .on_data = cp_conn_http_on_exchange_data,
            .on_eof = cp_conn_http_on_forward_eof,
            .on_error = cp_conn_http_on_error,
            .on_timeout = cp_conn_http_on_forward_timeout,
            .on_cut = cp_conn_http_on_cut,
            .on_finish = cp_conn_pool_put,
        },
    [CP_CONN_H2] =
        {
            .action = "relaying HTTP/2",
            .entry = cp_conn_h2_entry,
            .on_data = cp_conn_h2_on_data,
            .on_eof = cp_conn_h2_on_eof,
            .on_error = cp_conn_h2_on_error,
            .on_drained = cp_conn_h2_on_drained,
            .on_timeout = cp_conn_h2_on_timeout,
            .on_shutdown = cp_conn_h2_on_shutdown,
            .on_cut = cp_conn_h2_on_cut,
        },
};


void cp_conn_states_install(cp_conn_env_t *env) {
  env->states = states;
  env->start = cp_conn_http_start;
}
