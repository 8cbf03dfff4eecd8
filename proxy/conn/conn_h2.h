/* H2: the HTTP/2 relay, on nghttp2. When the client and the origin both
 * chose h2 in ALPN, the intercepted connection runs two sessions over the
 * decrypted legs (a server session with the client, a client session with
 * the origin) and relays each stream: request head and body one way,
 * response head, body and trailers the other, resets and GOAWAY. Flow
 * control is end to end: a DATA frame is acknowledged (WINDOW_UPDATE) to
 * its sender only once the other side has taken its bytes, so a slow
 * reader slows the writer and nothing buffers without bound. Every stream
 * ends with a request event (http_version "2", its stream id). With --h2
 * bridge one side may speak HTTP/1.1 instead (conn_h2_bridge.c, which
 * defines cp_conn_h2_entry and picks the sides). */
#ifndef CP_CONN_H2_H
#define CP_CONN_H2_H

#include "conn/conn.h"

void cp_conn_h2_entry(cp_conn_t *c);
void cp_conn_h2_on_data(cp_conn_t *c, cp_leg_t *leg, const char *data,
                        size_t len);
void cp_conn_h2_on_eof(cp_conn_t *c, cp_leg_t *leg);
void cp_conn_h2_on_error(cp_conn_t *c, cp_leg_t *leg, int err);
void cp_conn_h2_on_drained(cp_conn_t *c, cp_leg_t *leg);
void cp_conn_h2_on_timeout(cp_conn_t *c, double secs);
void cp_conn_h2_on_shutdown(cp_conn_t *c);
/* Cut unfinished (shutdown): each open stream is recorded with reason. */
void cp_conn_h2_on_cut(cp_conn_t *c, const char *reason);

#endif
