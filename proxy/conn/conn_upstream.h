/* UPSTREAM_CONNECT: resolving the target (IP literals skip the resolver),
 * connecting with fallback over every address, reusing or replacing a
 * keep-alive upstream, and answering CONNECT once the upstream is there.
 * Through a parent proxy, the parent's address is connected instead and,
 * for tunnels, a CONNECT is sent and its answer read before going on.
 * Failures are answered 502/504 through conn_http. */
#ifndef CP_CONN_UPSTREAM_H
#define CP_CONN_UPSTREAM_H

#include "conn/conn.h"

void cp_conn_upstream_entry(cp_conn_t *c);
void cp_conn_upstream_on_data(cp_conn_t *c, cp_leg_t *leg, const char *data,
                              size_t len);
void cp_conn_upstream_on_connect(cp_conn_t *c, int status);
void cp_conn_upstream_on_closed(cp_conn_t *c, cp_leg_t *leg);
void cp_conn_upstream_on_eof(cp_conn_t *c, cp_leg_t *leg);
void cp_conn_upstream_on_timeout(cp_conn_t *c, double secs);

/* After a deferred CONNECT's ClientHello: the pooled connection for its
 * target and name becomes the upstream (c->dial.pooled keeps its
 * verdict). 1: taken; 0: none, the upstream is to be dialled. */
int cp_conn_upstream_take(cp_conn_t *c);

#endif
