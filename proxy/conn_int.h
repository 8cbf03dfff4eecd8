/* Internals shared by conn.c (the state machine and HTTP relay) and
 * intercept.c (the TLS states: ClientHello, upstream TLS and verification,
 * client TLS). Not for other modules. */
#ifndef CP_CONN_INT_H
#define CP_CONN_INT_H

#include "conn.h"

void cp_conn_go_state(cp_conn_t *c, cp_conn_state_e st);
void cp_conn_log(cp_conn_t *c, cp_log_level_e level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
cp_event_base_t cp_conn_base(const cp_conn_t *c);
uint64_t cp_conn_now(const cp_conn_t *c);
void cp_conn_touch(cp_conn_t *c);
void cp_conn_set_reason(cp_conn_t *c, const char *reason);
void cp_conn_emit_connect(cp_conn_t *c, const char *method, const char *mode);
void cp_conn_arm_timer(cp_conn_t *c);
/* Answers with status, a stable code and a readable body (msg, then
 * detail), and closes. */
void cp_conn_respond(cp_conn_t *c, int status, const char *code,
                     const char *msg, const char *detail);
void cp_conn_respond_error(cp_conn_t *c, int status, const char *code,
                           const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Forgets the last request and response (keep-alive, or the CONNECT that
 * opened an intercepted tunnel). */
void cp_conn_reset_exchange(cp_conn_t *c);
void cp_conn_fail(cp_conn_t *c, int err, const char *reason);

/* intercept.c */
int cp_intercept_is_passthrough(const cp_config_t *cfg, const char *host);
void cp_intercept_entry_client_hello(cp_conn_t *c);
void cp_intercept_entry_upstream_tls(cp_conn_t *c);
void cp_intercept_entry_client_tls(cp_conn_t *c);
void cp_intercept_hello_bytes(cp_conn_t *c, const char *data, size_t len);
void cp_intercept_on_handshake(cp_leg_t *leg);
void cp_intercept_eof(cp_conn_t *c, int is_client);
void cp_intercept_timeout(cp_conn_t *c, double secs);

#endif
