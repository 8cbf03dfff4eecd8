/* The control API's HTTP/1.1 server, built from the proxy's own parts:
 * cp_listener accepts, each connection is a cp_leg_t (fixed read buffer,
 * write requests that own their bytes, backpressure) and requests are
 * parsed by cp_http_msg_t, so limits and timeouts behave as they do on the
 * proxy side. Each complete request goes to the owner's handler, which
 * fills a cp_ctl_response_t; the server writes it. A response can turn its
 * connection into a stream (Server-Sent Events): the server then keeps it
 * open and cp_ctl_http_broadcast() writes to every stream, cutting readers
 * that fall more than CP_CTL_STREAM_MAX bytes behind.
 *
 * The server owns its listener and connections; cp_ctl_http_stop() closes
 * them and the server frees itself once every handle is closed. */
#ifndef CP_CTL_HTTP_H
#define CP_CTL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/buf.h"
#include "config/config.h"
#include "base/log.h"

#define CP_CTL_MAX_HEAD (16 * 1024)
#define CP_CTL_MAX_BODY (64 * 1024)
#define CP_CTL_MAX_CONNS 64      /* open requests and streams, in all */
#define CP_CTL_MAX_PER_CLIENT 16 /* ... from one client address */
#define CP_CTL_MAX_STREAMS 16    /* event streams, in all */
#define CP_CTL_STREAMS_PER_CLIENT 4
#define CP_CTL_HEAD_MS 10000 /* a request head, from its first byte */
#define CP_CTL_REFUSED_LINGER_MS 1000
#define CP_CTL_STREAM_MAX (1024 * 1024)

typedef struct cp_ctl_http_s cp_ctl_http_t;
typedef struct cp_ctl_request_s cp_ctl_request_t;
typedef struct cp_ctl_response_s cp_ctl_response_t;

struct cp_ctl_request_s {
  const char *method;        /* "GET", ... */
  const char *target;        /* as sent, NUL-terminated */
  const char *authorization; /* the header's value, or NULL */
  const char *host;          /* the Host header's value, or NULL */
  const char *origin;        /* the Origin header's value, or NULL */
  const char *fetch_site;    /* Sec-Fetch-Site, or NULL */
  const char *local;         /* the address the client reached, or NULL */
  int local_loopback;        /* ... and it is a loopback address */
  const char *body;          /* decoded body (never NULL) */
  size_t body_len;
};

struct cp_ctl_response_s {
  int status;
  const char *content_type; /* static; NULL: application/json */
  cp_buf_t body;            /* owned: freed by the server */
  const char *allow;        /* static: Allow header of a 405 */
  const char *authenticate; /* static: WWW-Authenticate of a 401 */
  const char *headers;      /* static: more header lines, each ending in
                               CRLF (the web view's policy), or NULL */
  int stream;               /* keep the connection as an event stream;
                               body is its first bytes */
};

/* Fills resp (its body is initialised by the server, limit 8 MiB). */
typedef void (*cp_ctl_handler)(void *data, const cp_ctl_request_t *req,
                               cp_ctl_response_t *resp);

/* Listens on host:port. Clients outside loopback and cfg->control_allow
 * get 403; idle connections close after cfg->idle_timeout_ms. */
int cp_ctl_http_start(cp_ctl_http_t **out, uv_loop_t *loop,
                      const cp_config_t *cfg, const cp_log_t *log,
                      cp_ctl_handler handler, void *data);
/* Closes the listener and every connection; the server frees itself. */
void cp_ctl_http_stop(cp_ctl_http_t *srv);
/* Writes bytes to every stream connection. */
void cp_ctl_http_broadcast(cp_ctl_http_t *srv, const char *data, size_t len);
/* 1 when addr (16 bytes, IPv4 mapped) is loopback or inside one of the
 * --control-allow networks. Pure. */
int cp_ctl_http_allowed(const cp_config_t *cfg, const unsigned char addr[16]);

#endif
