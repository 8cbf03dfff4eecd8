/* cp_conn_t: one client connection and everything it owns: the client leg,
 * the upstream leg, a timer, the HTTP parsers and buffers. THE state
 * machine lives here; conn_go_state() is the only writer of c->state.
 *
 * Lifetime: a conn is created on accept and freed in exactly one place, the
 * close callback that brings c->refs (open handles plus a getaddrinfo in
 * flight) to zero. Nothing frees a conn from inside its own callbacks. */
#ifndef CP_CONN_H
#define CP_CONN_H

#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "ctx.h"
#include "http_parse.h"
#include "leg.h"
#include "verify.h"

typedef enum cp_conn_state_e {
  CP_CONN_READ_REQUEST,     /* waiting for a request head from the client */
  CP_CONN_UPSTREAM_CONNECT, /* resolving and connecting upstream */
  CP_CONN_CLIENT_HELLO,     /* intercepting: waiting for the ClientHello */
  CP_CONN_UPSTREAM_TLS,     /* TLS handshake with upstream, verification */
  CP_CONN_CLIENT_TLS,       /* finishing the client handshake */
  CP_CONN_TUNNEL,           /* blind byte relay after CONNECT */
  CP_CONN_FORWARD,          /* one HTTP exchange in flight */
  CP_CONN_CLOSING           /* flushing, then closing every handle */
} cp_conn_state_e;

struct cp_conn_s {
  cp_ctx_t *ctx;                /* borrowed */
  cp_conn_t *prev, *next;       /* links in ctx->conns */
  uint64_t id;
  cp_conn_state_e state;
  const char *action;           /* static: what we are doing, for logs */
  cp_leg_t client;              /* embedded */
  cp_leg_t upstream;            /* embedded; re-initialised per target */
  uv_timer_t timer;             /* embedded: every timeout of this conn */
  uv_getaddrinfo_t gai;         /* embedded request */
  struct addrinfo *addrs;       /* owned: resolved upstream addresses */
  struct addrinfo *next_addr;   /* borrowed: next address to try */
  int refs;                     /* open handles + resolver in flight */
  int last_connect_err;
  cp_http_msg_t req;            /* client -> upstream */
  cp_http_msg_t resp;           /* upstream -> client */
  cp_buf_t out;                 /* parser output, flushed after each feed */
  cp_buf_t pending;             /* client bytes after the current request */
  cp_http_target_t target;      /* upstream host and port */
  char client_addr[80];
  uint64_t t_start;             /* loop time of accept, ms */
  uint64_t t_req;               /* loop time of the request head, ms */
  uint64_t t_first_byte;        /* loop time of the first response byte */
  uint64_t last_activity;       /* loop time of the last read or write */
  uint64_t req_bytes;           /* bytes fed to the current request */
  unsigned requests;
  const char *close_reason;     /* static; first reason wins */
  unsigned connect_emitted : 1;
  unsigned tunnel : 1;          /* CONNECT: relay bytes, not HTTP */
  unsigned head_seen : 1;       /* current request head handled */
  unsigned req_done : 1;
  unsigned resp_done : 1;
  unsigned resp_started : 1;    /* upstream sent response bytes */
  unsigned resp_sent : 1;       /* response bytes went to the client */
  unsigned resolving : 1;       /* getaddrinfo in flight */
  unsigned upstream_ok : 1;     /* upstream connected to target */
  unsigned reconnect : 1;       /* resolve again once upstream closed */
  unsigned retry_next : 1;      /* try next address once upstream closed */
  unsigned abort : 1;           /* close without flushing */
  unsigned intercept : 1;       /* CONNECT is terminated here (TLS MITM) */
  unsigned client_tls_done : 1; /* client handshake complete */
  unsigned blocked : 1;         /* answer every request with block_* */
  char tls_name[CP_HOST_MAX + 1]; /* SNI, else the CONNECT host */
  cp_verify_result_t *verify;   /* owned: last upstream verification */
  int served_profile;           /* index of the profile served */
  unsigned mirrored : 1;        /* ... chosen by mirroring upstream */
  const char *block_code;       /* static */
  char block_msg[1024];
  char *block_detail;           /* owned: the 502 body's explanation */
};

/* Accepts one pending connection from the ctx's listener. */
void cp_conn_accept(cp_ctx_t *ctx);
/* Shutdown: idle conns close now; busy ones finish their exchange. */
void cp_conn_shutdown(cp_conn_t *c);
/* Shutdown grace over: close without flushing. */
void cp_conn_abort(cp_conn_t *c, const char *reason);
/* Called by a conn when it is freed and the ctx has no conn left while
 * shutting down; defined by server.c. */
void cp_server_conns_drained(cp_ctx_t *ctx);

#endif
