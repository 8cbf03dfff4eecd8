/* cp_conn_t: one client connection and everything it owns: the client leg,
 * the upstream leg, a timer, the HTTP parsers and buffers. conn.c is the
 * state machine's frame: the type, conn_go_state() (the only writer of
 * c->state), timers, the leg callbacks, closing and freeing. What each
 * state does lives in the module named for it (conn_http.c, conn_upstream.c,
 * conn_tls.c, conn_tunnel.c); conn_states.c binds them into the table of
 * per-state handlers that conn.c dispatches through, so calls go one way:
 * from the state modules down to conn.c, never back up.
 *
 * Lifetime: a conn is created on accept and freed in exactly one place, the
 * close callback that brings c->refs (open handles plus a getaddrinfo in
 * flight) to zero. Nothing frees a conn from inside its own callbacks. */
#ifndef CP_CONN_H
#define CP_CONN_H

#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <uv.h>

#include "rules/access.h"
#include "base/buf.h"
#include "pki/chain.h"
#include "config/config.h"
#include "events/event.h"
#include "events/horizon.h"
#include "http/http_parse.h"
#include "net/leg.h"
#include "base/log.h"
#include "http/parent.h"
#include "net/peers.h"
#include "tls/resume.h"
#include "rules/snap.h"
#include "rules/rules.h"
#include "net/shape.h"
#include "events/stats.h"
#include "diag/verify.h"

/* Bytes of a pipelined next request kept while the current one is answered;
 * past this the client is not read until the exchange ends. */
#define CP_CONN_PENDING_MAX (64 * 1024)

typedef enum cp_conn_state_e {
  CP_CONN_READ_REQUEST,     /* waiting for a request head from the client */
  CP_CONN_UPSTREAM_CONNECT, /* resolving and connecting upstream */
  CP_CONN_CLIENT_HELLO,     /* intercepting: waiting for the ClientHello */
  CP_CONN_UPSTREAM_TLS,     /* TLS handshake with upstream, verification */
  CP_CONN_CLIENT_TLS,       /* finishing the client handshake */
  CP_CONN_TUNNEL,           /* blind byte relay after CONNECT */
  CP_CONN_FORWARD,          /* one HTTP exchange in flight */
  CP_CONN_H2,               /* relaying HTTP/2 streams (conn_h2.c) */
  CP_CONN_CLOSING,          /* flushing, then closing every handle */
  CP_CONN_STATE_COUNT
} cp_conn_state_e;

typedef struct cp_conn_s cp_conn_t;
typedef struct cp_conn_env_s cp_conn_env_t;
typedef struct cp_conn_state_ops_s cp_conn_state_ops_t;

/* What a state does with what happens to the conn. A NULL handler means
 * the default: data is discarded, an error fails the conn, the rest is
 * ignored. CLOSING is conn.c's own and has no row. */
struct cp_conn_state_ops_s {
  const char *action; /* for logs: "relaying the tunnel" */
  void (*entry)(cp_conn_t *c);
  void (*on_data)(cp_conn_t *c, cp_leg_t *leg, const char *data, size_t len);
  void (*on_eof)(cp_conn_t *c, cp_leg_t *leg);
  void (*on_error)(cp_conn_t *c, cp_leg_t *leg, int err);
  void (*on_connect)(cp_conn_t *c, int status);      /* upstream leg */
  void (*on_closed)(cp_conn_t *c, cp_leg_t *leg);    /* handle closed */
  void (*on_handshake)(cp_conn_t *c, cp_leg_t *leg); /* TLS bytes came */
  void (*on_timeout)(cp_conn_t *c, double secs);
  void (*on_drained)(cp_conn_t *c, cp_leg_t *leg); /* a write queue emptied */
  void (*on_shutdown)(cp_conn_t *c); /* the server is shutting down */
  /* The conn is cut unfinished (shutdown's grace is over): record each
   * exchange in flight with outcome reason (static). */
  void (*on_cut)(cp_conn_t *c, const char *reason);
  /* The conn is about to close, not aborted, in this state: what outlives
   * it is kept (conn_pool: the upstream connection). */
  void (*on_finish)(cp_conn_t *c);
};

/* What every connection of one loop shares. Filled by the server, which
 * owns every pointed-to object and outlives its connections. */
struct cp_conn_env_s {
  uv_loop_t *loop;             /* borrowed */
  const cp_config_t *cfg;      /* borrowed, read-only */
  const cp_log_t *log;         /* borrowed */
  cp_events_t *events;         /* borrowed */
  cp_stats_t *stats;           /* borrowed */
  cp_chain_t *chain;           /* borrowed: profiles, minting, leaves */
  cp_snaps_t *snaps;           /* borrowed: rules and diagnosis data, shared by
                                  every worker; each conn holds one snapshot */
  SSL_CTX *tls_server;         /* borrowed: client-facing */
  SSL_CTX *tls_client;         /* borrowed: upstream */
  cp_resume_t *resume;         /* borrowed: upstream sessions of this loop */
  cp_resume_t *chains;         /* borrowed: diagnoses by exact chain */
  cp_horizons_t *horizons;     /* borrowed: /metrics' horizon gauge; NULL:
                                  none */
  const cp_parents_t *parents; /* borrowed: --upstream-proxy; NULL: none */
  const cp_users_t *users;     /* borrowed: --auth-file; NULL: none */
  char *plain;                 /* borrowed: CP_LEG_RBUF plaintext scratch */
  char *rbuf; /* borrowed: CP_LEG_RBUF read scratch, NULL: per leg */
  char *wire; /* borrowed: CP_LEG_RBUF TLS output scratch */
  const cp_conn_state_ops_t *states; /* [CP_CONN_CLOSING] handlers */
  void (*start)(cp_conn_t *c);       /* runs once an accepted conn is set up */
  void (*on_drained)(cp_conn_env_t *env); /* last conn freed in shutdown */
  void *data;                             /* the server's */
  cp_conn_t *conns; /* list of live conns; they free themselves */
  unsigned nconns;
  uint64_t next_id;       /* ids when conn_ids is NULL */
  uint64_t *conn_ids;     /* shared by the workers (atomic); NULL: next_id */
  cp_peers_t *peers;      /* shared: connections open in total and per
                             address; NULL: this loop's own list counts */
  struct cp_pool_s *pool; /* borrowed: this loop's idle upstream
                             connections (conn_pool.h); NULL: none */
  unsigned shutting_down : 1;
};

/* The exchange in progress on an HTTP/1.1 connection and its timings:
 * conn_http's. */
typedef struct cp_conn_http_s {
  cp_http_msg_t req;             /* client -> upstream */
  cp_http_msg_t resp;            /* upstream -> client */
  cp_buf_t out;                  /* parser output, flushed after each feed */
  cp_buf_t pending;              /* client bytes after the current request */
  const cp_parent_t *req_parent; /* the parent chosen for the request being
                                    read (plain HTTP) */
  const char *extra_header;      /* static: one more line for cp_conn_respond */
  uint64_t t_req;                /* loop time of the request head, ms */
  uint64_t t_req_done;           /* the request was all sent upstream */
  uint64_t t_first_byte;         /* loop time of the first response byte */
  uint64_t req_bytes;            /* bytes fed to the current request */
  cp_buf_t req_body, resp_body;  /* --har-bodies: the exchange's bodies
                                    (req.capture and resp.capture) */
  unsigned head_seen : 1;        /* current request head handled */
  unsigned req_done : 1;
  unsigned resp_started : 1;  /* upstream sent response bytes */
  unsigned resp_done_evt : 1; /* the cut exchange's event is out */
  unsigned upgraded : 1;      /* switched protocols (WebSocket) */
} cp_conn_http_t;

/* The intercepted handshakes and their verdict: conn_tls's (conn_judge,
 * its verdict half, keeps the resumption slot and whether the upstream
 * asked for a certificate). */
typedef struct cp_conn_tls_s {
  char name[CP_HOST_MAX + 1];  /* SNI, else the CONNECT host */
  const cp_rule_t *rule;       /* borrowed from c->snap: the rule for name,
                                  looked up once when name is settled; NULL:
                                  none */
  cp_verify_result_t *verify;  /* owned: last upstream verification; freed
                                  once the client's chain is chosen (a new
                                  upstream builds it again) */
  cp_resume_slot_t resume;     /* the upstream session's key and result */
  int served_profile;          /* index of the profile served */
  const char *block_code;      /* static */
  char *block_msg;             /* owned: the block answer's message, set
                                  with blocked (NULL: out of memory) */
  char *block_detail;          /* owned: the 502 body's explanation */
  cp_resume_blob_t *pool_blob; /* owned ref: the verdict, packed when the
                                  pool applies (conn_pool.h) */
  uint64_t t_up_start;         /* loop time the upstream handshake began */
  uint64_t t_up_done;          /* ... it ended (verdict or failure) */
  unsigned client_done : 1;    /* client handshake complete */
  unsigned blocked : 1;        /* answer every request with block_* */
  unsigned mirrored : 1;       /* served profile mirrors the upstream */
  unsigned up_cert_asked : 1;  /* the upstream sent a CertificateRequest
                                  (conn_judge's) */
} cp_conn_tls_t;

/* A rule's corporate behaviours on this connection: conn_fault's. */
typedef struct cp_conn_fault_s {
  unsigned applied;  /* 1 << cp_fault_e of each fault applied */
  unsigned hold : 1; /* a rule's "timeout": never answer */
} cp_conn_fault_t;

/* The HTTP/2 relay: each field written by the one module named. */
typedef struct cp_conn_h2_s {
  void *proto; /* owned (conn_h2): the relay, freed by proto_free */
  void (*proto_free)(void *proto); /* conn_h2 */
  unsigned streams;          /* conn_h2_stream: streams open (for the timer) */
  unsigned want : 1;         /* conn_http: the client started HTTP/2 without
                                ALPN */
  unsigned refuse : 1;       /* conn_tls: ... and the origin does not speak
                                it */
  unsigned head_pending : 1; /* conn_h2_bridge: an HTTP/1.1 head is
                                arriving */
} cp_conn_h2_t;

/* Reaching the upstream: conn_upstream's. */
typedef struct cp_conn_dial_s {
  uv_getaddrinfo_t gai;       /* embedded request */
  struct addrinfo *addrs;     /* owned: resolved upstream addresses */
  struct addrinfo *next_addr; /* borrowed: next address to try */
  int last_err;
  uint64_t t_dial;                /* loop time the resolve (or the connect of
                                     an address) began, ms */
  uint64_t t_resolved;            /* ... the addresses were known */
  uint64_t t_connected;           /* ... the TCP connection was up */
  char server_ip[48];             /* the address connected to; "": none */
  struct cp_pool_entry_s *pooled; /* owned: the idle connection taken from
                                     the pool (its verdict); conn.c frees */
  unsigned resolving : 1;         /* getaddrinfo in flight */
  unsigned reconnect : 1;         /* resolve again once upstream closed */
  unsigned retry_next : 1;        /* try next address once upstream closed */
  unsigned parent_wait : 1;       /* CONNECT sent to the parent, waiting for its
                                     answer (in c->early) */
  const char *fail_code; /* static: why a deferred dial failed (answered
                            inside the client's TLS); NULL: it did not */
  char *fail_msg;        /* owned: ... and the message */
  unsigned answered : 1; /* the CONNECT's 200 went out */
  unsigned deferred : 1; /* no upstream until the ClientHello names the
                            pooled connection to take */
} cp_conn_dial_t;

/* One connection. The frame (ids, legs, timer, state) is conn.c's; so are
 * the route and the counters that several state modules change: those are
 * written only through conn.c's functions (cp_conn_route,
 * cp_conn_set_upstream_ok, cp_conn_count_*, ...). Each sub-record's fields
 * are written by the one module its comment names. lint.layers fails on
 * a field of c assigned in two modules. */
struct cp_conn_s {
  cp_conn_env_t *env;     /* borrowed */
  cp_conn_t *prev, *next; /* links in env->conns */
  uint64_t id;
  cp_conn_state_e state;
  const char *action; /* static: what we are doing, for logs */
  cp_leg_t client;    /* embedded */
  cp_leg_t upstream;  /* embedded; re-initialised per target */
  uv_timer_t timer;   /* embedded: every timeout of this conn */
  int refs;           /* open handles + resolver in flight */
  cp_buf_t early;     /* upstream bytes before the client handshake ended */
  /* The route: where this connection goes and how (conn.c's; tunnel and
   * transparent conn_http's, which reads the request). */
  cp_http_target_t target;   /* upstream host and port */
  const cp_parent_t *parent; /* borrowed (env or snapshot): the parent
                                proxy the upstream goes through; NULL:
                                direct */
  unsigned tunnel : 1;       /* CONNECT: relay bytes, not HTTP */
  unsigned intercept : 1;    /* CONNECT is terminated here (TLS MITM) */
  unsigned transparent : 1;  /* redirected by the kernel: upstream is
                                orig_dst, whatever names say */
  unsigned upstream_ok : 1;  /* upstream connected to target */
  unsigned resp_sent : 1;    /* response bytes went to the client */
  unsigned connect_emitted : 1;
  unsigned abort : 1;     /* close without flushing */
  unsigned counted : 1;   /* in env->peers->open */
  unsigned compacted : 1; /* the legs gave back their TLS buffers since
                             last_activity (conn.c's quiet timer) */
  /* Who the client is. */
  char client_addr[80];
  unsigned char peer[16]; /* the client's address, ::ffff:a.b.c.d form */
  char user[64];          /* the proxy user who authenticated; "": none */
  struct sockaddr_storage orig_dst; /* transparent: where the client was
                                       going */
  unsigned open_at_accept; /* connections open (all workers) with this one */
  unsigned peer_conns;     /* ... from this address; 0: not counted */
  /* Counters for the close event (conn.c's, through cp_conn_count_*). */
  uint64_t t_start;       /* loop time of accept, ms */
  uint64_t t_head_start;  /* loop time of a request head's first byte (the
                             head deadline), cp_conn_head_started */
  uint64_t t_hs_start;    /* the client's TLS handshake began (moved on by
                             the time spent on the upstream's) */
  uint64_t t_hs_paused;   /* the client's handshake waits on upstream
                             since; 0: it does not */
  uint64_t last_activity; /* loop time of the last read or write */
  unsigned requests;
  uint64_t relayed_from_client; /* TUNNEL: bytes relayed (plaintext) */
  uint64_t relayed_to_client;
  const char *close_reason; /* static; first reason wins */
  cp_snap_t *snap;   /* one reference: the rules and data this conn uses */
  cp_shape_t *shape; /* owned: a rule's latency, bandwidth, reset budget
                        (conn_fault makes it, cp_conn_set_shape); closed
                        with the handles */
  cp_conn_http_t http;
  cp_conn_tls_t tls;
  cp_conn_fault_t fault;
  cp_conn_h2_t h2;
  cp_conn_dial_t dial;
};

/* The route and the counters several state modules change, written only
 * here. cp_conn_route: the upstream is t, through parent (NULL: direct). */
void cp_conn_route(cp_conn_t *c, const cp_http_target_t *t,
                   const cp_parent_t *parent);
void cp_conn_set_intercept(cp_conn_t *c, int on);
void cp_conn_set_upstream_ok(cp_conn_t *c, int ok);
void cp_conn_set_resp_sent(cp_conn_t *c, int sent);
/* Takes over shape (made by conn_fault for a rule), holds the conn for
 * its timer and puts it on both legs. */
void cp_conn_set_shape(cp_conn_t *c, cp_shape_t *shape);
/* A request head's first byte: its --head-timeout starts now. */
void cp_conn_head_started(cp_conn_t *c);
void cp_conn_count_request(cp_conn_t *c);
/* len plaintext bytes relayed, to the client (to_client) or from it. */
void cp_conn_count_relayed(cp_conn_t *c, int to_client, size_t len);

/* Accepts one pending connection from server and runs env->start. */
void cp_conn_accept(cp_conn_env_t *env, uv_stream_t *server);
/* Shutdown: idle conns close now; busy ones finish their exchange. */
void cp_conn_shutdown(cp_conn_t *c);
/* Closes without flushing (shutdown grace over, or a broken conn). */
void cp_conn_abort(cp_conn_t *c, const char *reason);
/* Shutdown's grace is over: the exchanges still in flight get their
 * request events (outcome reason, static), then the conn is aborted. */
void cp_conn_cut(cp_conn_t *c, const char *reason);
/* Closes after flushing what is queued (a finished conversation). */
void cp_conn_finish(cp_conn_t *c, const char *reason);
/* Asynchronous failures: records an error event, then aborts. */
void cp_conn_fail(cp_conn_t *c, int err, const char *reason);
void cp_conn_go_state(cp_conn_t *c, cp_conn_state_e st);
/* (Re)initialises leg as one of this conn's legs, dispatching its events
 * through the state table; the conn holds a reference until it closes. */
int cp_conn_leg_init(cp_conn_t *c, cp_leg_t *leg);
/* A reference for an asynchronous request (the resolver); the last unref
 * frees the conn, so nothing may touch it after calling cp_conn_unref. */
void cp_conn_ref(cp_conn_t *c);
void cp_conn_unref(cp_conn_t *c);
/* Arms the timer for the current state, counted from the last activity. */
void cp_conn_arm_timer(cp_conn_t *c);
void cp_conn_touch(cp_conn_t *c);
uint64_t cp_conn_now(const cp_conn_t *c);
/* In the client's TLS handshake, and past --handshake-timeout. */
int cp_conn_hs_expired(const cp_conn_t *c);
void cp_conn_set_reason(cp_conn_t *c, const char *reason);
/* The parent proxy for t (a rule's, else --upstream-proxy's unless an
 * exception matches), or NULL for a direct connection; tls: a CONNECT or
 * intercepted tunnel, else plain HTTP. */
const cp_parent_t *cp_conn_parent_for(const cp_conn_t *c,
                                      const cp_http_target_t *t, int tls);
void cp_conn_emit_connect(cp_conn_t *c, const char *method, const char *mode);
/* The mode a redirected connection's events name: "isolate" under
 * `run --isolate`, else "transparent". */
const char *cp_conn_transparent_mode(const cp_conn_t *c);
/* The message every request of a blocked connection is answered with. */
const char *cp_conn_block_msg(const cp_conn_t *c);
cp_event_base_t cp_conn_base(const cp_conn_t *c);
void cp_conn_log(cp_conn_t *c, cp_log_level_e level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Hands the stashed client bytes (c->http.pending) to feed, once. */
void cp_conn_replay_pending(cp_conn_t *c,
                            void (*feed)(cp_conn_t *c, const char *data,
                                         size_t len));
/* Keeps client bytes that arrived ahead of their turn (a pipelined
 * request, a ClientHello behind a CONNECT); bounded, with reads paused
 * when full. */
void cp_conn_stash(cp_conn_t *c, const char *data, size_t len);

#endif
