/* The HTTP/1 side of a connection: reading requests (absolute-form for
 * plain HTTP, CONNECT, origin-form inside an intercepted tunnel), deciding
 * where each goes, relaying one exchange at a time with keep-alive and
 * pipelining. Handlers for READ_REQUEST and FORWARD; answers through
 * conn_respond, a rule's corporate behaviours through conn_fault. */
#ifndef CP_CONN_HTTP_H
#define CP_CONN_HTTP_H

#include "conn/conn.h"
#include "conn/conn_respond.h"

/* env->start: refuses over --max-conns, else reads the first request. */
void cp_conn_http_start(cp_conn_t *c);
void cp_conn_http_entry_read_request(cp_conn_t *c);
void cp_conn_http_entry_forward(cp_conn_t *c);
/* READ_REQUEST: client bytes are requests; an idle upstream must not
 * talk. */
void cp_conn_http_on_read_data(cp_conn_t *c, cp_leg_t *leg, const char *data,
                               size_t len);
/* While an exchange is in flight (connecting, handshaking, forwarding):
 * upstream bytes are the response, client bytes the request body or the
 * next request. */
void cp_conn_http_on_exchange_data(cp_conn_t *c, cp_leg_t *leg,
                                   const char *data, size_t len);
void cp_conn_http_on_read_eof(cp_conn_t *c, cp_leg_t *leg);
void cp_conn_http_on_forward_eof(cp_conn_t *c, cp_leg_t *leg);
void cp_conn_http_on_error(cp_conn_t *c, cp_leg_t *leg, int err);
void cp_conn_http_on_read_timeout(cp_conn_t *c, double secs);
void cp_conn_http_on_forward_timeout(cp_conn_t *c, double secs);
/* Cut unfinished (shutdown): the exchange in flight gets its event. */
void cp_conn_http_on_cut(cp_conn_t *c, const char *reason);
/* Forgets the last request and response (keep-alive, or the CONNECT that
 * opened an intercepted tunnel). */
void cp_conn_http_reset_exchange(cp_conn_t *c);

#endif
