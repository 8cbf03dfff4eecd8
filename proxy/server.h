/* The server: one loop's worth of chainproxy. It owns everything the
 * connections and the control API share (CA, chain profiles, rules, TLS
 * contexts, event log, counters) and hands each the parts it uses: the
 * connections get a cp_conn_env_t, the control API a cp_control_env_t.
 * It starts the listener, handles SIGINT/SIGTERM (stop accepting, let
 * in-flight connections finish within --grace, then close them) and
 * SIGHUP (reload --rules), and tears everything down so that
 * uv_loop_close() succeeds. */
#ifndef CP_SERVER_H
#define CP_SERVER_H

#include <openssl/ssl.h>
#include <uv.h>

#include "ca.h"
#include "chain.h"
#include "config.h"
#include "conn.h"
#include "control.h"
#include "event.h"
#include "listener.h"
#include "log.h"
#include "policy.h"
#include "resume.h"
#include "who.h"
#include "roots.h"
#include "rules.h"
#include "stats.h"

typedef struct cp_server_s cp_server_t;

struct cp_server_s {
  uv_loop_t *loop;        /* borrowed */
  const cp_config_t *cfg; /* borrowed, read-only */
  cp_log_t log;
  cp_events_t events; /* owned */
  cp_stats_t stats;
  cp_ca_t ca;             /* owned */
  cp_chain_t chain;       /* owned: profiles, minters, leaf cache */
  cp_rules_t rules;       /* owned: --rules, changed by the API */
  cp_roots_t roots;       /* owned: the distribution\'s root set */
  cp_distrust_t distrust; /* owned: CAs browsers distrust */
  cp_who_t who;           /* owned: client families (who breaks) */
  SSL_CTX *tls_server;    /* owned: client-facing */
  SSL_CTX *tls_client;    /* owned: upstream */
  cp_resume_t resume;     /* owned: upstream sessions for resumption */
  char *plain;            /* owned: TLS plaintext scratch, one thread */
  cp_conn_env_t env;      /* what connections share */
  cp_control_t control;   /* the control API */
  cp_listener_t listener; /* embedded */
  uv_signal_t sigint;     /* embedded */
  uv_signal_t sigterm;    /* embedded */
  uv_signal_t sighup;     /* embedded: reloads --rules */
  uv_timer_t grace;       /* embedded: shutdown deadline */
};

/* Returns 0, or an error after printing one line to stderr. Whatever was
 * opened is released by cp_server_close(), which is always called. */
int cp_server_init(cp_server_t *srv, uv_loop_t *loop, const cp_config_t *cfg);
int cp_server_run(cp_server_t *srv);
/* Closes what is left and runs the loop until every handle is closed.
 * Returns 0, or CP_EIO when the event log could not be written. */
int cp_server_close(cp_server_t *srv);

#endif
