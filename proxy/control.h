/* The control API (--control HOST:PORT): a small HTTP/1.1 server on the
 * proxy's loop, parsed with http-parser, answering JSON built with
 * jansson. It reads and changes the ctx (rules, counters, the event ring)
 * and streams events as Server-Sent Events. Loopback clients only unless
 * --control-allow names more; --control-token requires a bearer token.
 * cp_control_route() holds every endpoint and takes plain request data,
 * so tests and fuzzers can drive it without sockets. */
#ifndef CP_CONTROL_H
#define CP_CONTROL_H

#include <stddef.h>

#include "buf.h"

typedef struct cp_ctx_s cp_ctx_t;

#define CP_CONTROL_RING 4096        /* events kept for /events */

typedef struct {
  int status;
  const char *content_type;
  cp_buf_t body;            /* owned by the caller after the call */
  const char *allow;        /* for 405: the methods allowed */
  int sse;                  /* switch the connection to an event stream */
  int sse_replay;           /* since= given: send the kept events first */
  unsigned long long sse_since;
} cp_control_resp_t;

/* Starts the listener when cfg->control_host is set. */
int cp_control_start(cp_ctx_t *ctx);
/* Closes the listener and every control connection (idempotent). */
void cp_control_stop(cp_ctx_t *ctx);
/* One request: method and target as sent, the Authorization header value
 * (or NULL) and the body. Fills resp (resp->body initialised here). */
void cp_control_route(cp_ctx_t *ctx, const char *method, const char *target,
                      const char *authorization, const char *body,
                      size_t body_len, cp_control_resp_t *resp);

#endif
