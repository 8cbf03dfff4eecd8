/* A worker: one event loop on its own thread, with its own listening
 * socket (SO_REUSEPORT: the kernel spreads connections over the workers),
 * connections, chain profiles, leaf cache, TLS contexts, scratch buffer
 * and counters. Nothing here is touched by another
 * thread except the counters (read whole by /stats) and the stop request,
 * which comes through an async handle. What all workers share (the CA,
 * the configuration, the log, the event log, the rules snapshot, the
 * upstream session cache and the connection counts) is the server's and
 * read-only or locked.
 *
 * Life: cp_worker_init() on the main thread (errors are reported there),
 * cp_worker_start() runs the loop on a new thread, cp_worker_stop() asks
 * it to stop (graceful, or at once), cp_worker_join() waits for it, and
 * cp_worker_close() frees everything. */
#ifndef CP_WORKER_H
#define CP_WORKER_H

#include <openssl/ssl.h>
#include <uv.h>

#include "pki/ca.h"
#include "pki/chain.h"
#include "config/config.h"
#include "conn/conn.h"
#include "conn/conn_pool.h"
#include "events/event.h"
#include "net/listener.h"
#include "base/log.h"
#include "tls/resume.h"
#include "rules/snap.h"
#include "events/stats.h"
#include "tls/keylog.h"

typedef struct cp_worker_s cp_worker_t;

/* What the server lends every worker. */
typedef struct cp_worker_shared_s {
  const cp_config_t *cfg;
  const cp_log_t *log;
  cp_events_t *events;
  cp_keylog_t *keylog; /* --keylog; its fd < 0: none */
  const cp_ca_t *ca;
  cp_incidents_t *incidents; /* the incident profiles' clones */
  cp_snaps_t *snaps;
  uint64_t *conn_ids;            /* connection ids, unique across workers */
  cp_resume_t *resume;           /* upstream sessions */
  cp_resume_t *chains;           /* diagnoses by exact chain */
  cp_horizons_t *horizons;       /* breakage horizons per host, for /metrics */
  cp_peers_t *peers;             /* connections open, per address */
  const cp_parents_t *parents;   /* parent proxies */
  const cp_users_t *users;       /* --auth-file; NULL: none */
  STACK_OF(X509) *origins_roots; /* --origins: the catalogue CA first, then
                                     the incident cases' stores, trusted
                                     upstream besides the store; NULL: none */
} cp_worker_shared_t;

struct cp_worker_s {
  int index;
  uv_loop_t loop; /* embedded, run on thread */
  uv_thread_t thread;
  cp_stats_t stats;       /* this worker's; /stats sums them */
  cp_chain_t chain;       /* owned: profiles, minters, leaf cache */
  SSL_CTX *tls_server;    /* owned: client-facing */
  SSL_CTX *tls_client;    /* owned: upstream */
  char *plain;            /* owned: TLS plaintext scratch */
  char *rbuf, *wire;      /* owned: read and TLS output scratch, lent to
                             every leg (idle connections hold none) */
  cp_conn_env_t env;      /* what this worker's connections share */
  cp_listener_t listener; /* embedded */
  uv_async_t cmd;         /* embedded: stop requests from the server */
  uv_timer_t grace;       /* embedded: shutdown deadline */
  uv_prepare_t flush;     /* embedded: records evq before the loop waits */
  cp_event_queue_t evq;   /* owned: this thread's events, not yet recorded */
  cp_pool_t pool;         /* owned: idle upstream connections */
  uv_timer_t pool_sweep;  /* embedded: closes the pool's expired ones */
  int stop_mode;          /* written before cmd is sent: 1 graceful, 2 now */
  unsigned loop_open : 1, thread_started : 1;
};

/* fd: a bound listening socket the worker takes, or -1 to bind
 * cfg->listen_host:port itself. Prints one stderr line on error. */
int cp_worker_init(cp_worker_t *w, int index, const cp_worker_shared_t *sh,
                   int fd);
int cp_worker_start(cp_worker_t *w);
/* now: close every connection at once instead of letting them finish
 * within --grace. Any thread. */
void cp_worker_stop(cp_worker_t *w, int now);
void cp_worker_join(cp_worker_t *w);
/* After join (or when it never started). Returns nonzero if handles were
 * left open. */
int cp_worker_close(cp_worker_t *w);

#endif
