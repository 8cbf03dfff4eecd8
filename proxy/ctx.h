/* cp_ctx_t: everything one event loop needs. There is no global mutable
 * state: each connection reaches configuration, the event log, the listener
 * and (later) TLS state through its ctx. The ctx is owned by main (on its
 * stack) and outlives every connection of its loop. */
#ifndef CP_CTX_H
#define CP_CTX_H

#include <stdint.h>

#include <uv.h>

#include "ca.h"
#include "config.h"
#include "diag.h"
#include "event.h"
#include "leaf_cache.h"
#include "leg.h"
#include "log.h"
#include "mint.h"
#include "rules.h"
#include "serve.h"

typedef struct cp_ctx_s cp_ctx_t;
typedef struct cp_control_s cp_control_t;

/* Counters for /stats and /metrics. */
typedef struct {
  uint64_t requests;
  uint64_t handshakes_accepted;
  uint64_t handshakes_refused;
  uint64_t alerts[257];         /* refusals by TLS alert; [256]: none */
  uint64_t verify_ok;
  uint64_t verify_failed;
  uint64_t upstream_tls_failed;
  uint64_t by_cause[CP_CAUSE_NONE];  /* failures by cp_cause_t */
  uint64_t rules_reloads;
  uint64_t rules_reload_failures;
} cp_stats_t;
typedef struct cp_conn_s cp_conn_t;

struct cp_ctx_s {
  uv_loop_t *loop;          /* borrowed */
  const cp_config_t *cfg;   /* borrowed, read-only */
  cp_log_t log;
  cp_events_t events;       /* owned */
  uv_tcp_t listener;        /* embedded */
  uv_signal_t sigint;       /* embedded */
  uv_signal_t sigterm;      /* embedded */
  uv_timer_t grace;         /* embedded: shutdown deadline */
  cp_conn_t *conns;         /* borrowed list head; conns free themselves */
  unsigned nconns;
  uint64_t next_conn_id;
  uint64_t accepted;
  uint64_t refused;         /* over --max-conns */
  int open_handles;         /* the ctx's own handles */
  cp_ca_t ca;               /* owned */
  cp_serve_t serve;         /* owned: profiles, minters, sent chains */
  cp_rules_t rules;         /* owned: --rules */
  cp_leaf_cache_t leaves;   /* owned */
  SSL_CTX *tls_server;      /* owned: client-facing */
  SSL_CTX *tls_client;      /* owned: upstream */
  cp_stats_t stats;
  cp_control_t *control;    /* owned: --control, NULL when off */
  uv_signal_t sighup;       /* embedded: reloads --rules */
  uint64_t minted;          /* leaves minted */
  uint64_t mint_ns;         /* time spent minting */
  char plain[CP_LEG_RBUF];  /* TLS plaintext scratch, one loop thread */
  int listening;
  int shutting_down;
};

#endif
