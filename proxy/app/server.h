/* The server: the process. It owns what the workers share (the CA, the
 * event log, the rules and their snapshots) and the workers themselves
 * (worker.h: one loop per thread, each with its own listener and
 * connections), and runs the main loop: the control API and the signals.
 * SIGINT/SIGTERM stop every worker (stop accepting, let in-flight
 * connections finish within --grace, then close them); SIGHUP reloads
 * --rules and the diagnosis data and publishes them to every worker. It
 * tears everything down so that every uv_loop_close() succeeds. */
#ifndef CP_SERVER_H
#define CP_SERVER_H

#include <openssl/ssl.h>
#include <uv.h>

#include "pki/ca.h"
#include "pki/chain.h"
#include "config/config.h"
#include "conn/conn.h"
#include "control/control.h"
#include "events/event.h"
#include "net/listener.h"
#include "base/log.h"
#include "diag/policy.h"
#include "http/parent.h"
#include "tls/resume.h"
#include "diag/who.h"
#include "app/worker.h"
#include "app/origins.h"
#include "rules/snap.h"
#include "net/peers.h"
#include "diag/roots.h"
#include "rules/rules.h"
#include "events/stats.h"
#include "tls/keylog.h"

typedef struct cp_server_s cp_server_t;

/* For an owner that runs something beside the proxy (`chainproxy run`):
 * on_running once every worker listens; on_signal for SIGINT/SIGTERM
 * before the graceful stop begins. */
typedef struct cp_server_hooks_s {
  void (*on_running)(void *arg, cp_server_t *srv);
  void (*on_signal)(void *arg, int signum);
  void *arg;
} cp_server_hooks_t;

struct cp_server_s {
  uv_loop_t *loop;        /* borrowed: the main loop (control, signals) */
  const cp_config_t *cfg; /* borrowed, read-only */
  cp_log_t log;
  cp_events_t events;       /* owned: shared by the workers */
  cp_keylog_t keylog;       /* owned: --keylog, shared by the workers */
  cp_stats_t stats;         /* the process's counters (rules, reloads) */
  cp_ca_t ca;               /* owned: shared read-only */
  cp_chain_t chain;         /* owned: profile names for rules and the API */
  cp_incidents_t incidents; /* owned: the incident profiles' clones,
                               lent to every worker's chain */
  cp_rules_t rules;         /* owned: the master copy, changed by the API and
                               SIGHUP, published to the workers through snaps */
  cp_snaps_t snaps;         /* owned */
  uint64_t conn_ids;        /* the last connection id given (atomic) */
  cp_resume_t resume;       /* owned: upstream sessions, every worker's */
  cp_resume_t chains;       /* owned: diagnoses by exact chain */
  cp_horizons_t horizons;   /* owned: breakage horizons per host (/metrics) */
  cp_peers_t peers;         /* owned: connections open, per address */
  cp_parents_t parents;     /* --upstream-proxy, resolved at start */
  cp_users_t users;         /* owned: --auth-file, read at start */
  cp_origins_t *origins;    /* owned: --origins, the catalogue in-process */
  cp_worker_t *workers;     /* owned: cfg->workers of them */
  int nworkers;
  cp_stats_t **worker_stats; /* owned array: for the control API */
  cp_control_t control;      /* the control API */
  uv_signal_t sigint;        /* embedded */
  uv_signal_t sigterm;       /* embedded */
  uv_signal_t sighup;        /* embedded: reloads --rules and the data */
  uv_timer_t trim;           /* embedded: gives freed heap back to the system */
  cp_server_hooks_t hooks;   /* set by the owner before cp_server_run */
  unsigned stopping : 1;
};

/* Returns 0, or an error after printing one line to stderr. Whatever was
 * opened is released by cp_server_close(), which is always called. */
int cp_server_init(cp_server_t *srv, uv_loop_t *loop, const cp_config_t *cfg);
/* Starts the workers and runs the main loop until a signal stops them. */
int cp_server_run(cp_server_t *srv);
/* Stops and joins the workers, closes what is left and runs the loop
 * until every handle is closed. Returns 0, or CP_EIO when the event log
 * could not be written (or a worker loop kept handles open). */
int cp_server_close(cp_server_t *srv);
/* The graceful stop SIGTERM starts: stop accepting, let connections
 * finish within --grace; cp_server_run() then returns. */
void cp_server_shutdown(cp_server_t *srv);

#endif
