/* The control API (--control HOST:PORT): the router and its endpoints. The
 * HTTP side is ctl_http.c; this module decides what each request means,
 * reading and changing only what its env hands it (rules, counters, the
 * event ring, the CA's certificates), answering JSON built with jansson,
 * and feeding new events to the event streams. cp_control_route() takes a
 * plain request, so unit tests drive it without sockets. */
#ifndef CP_CONTROL_H
#define CP_CONTROL_H

#include <stdint.h>

#include <openssl/x509.h>
#include <uv.h>

#include "pki/chain.h"
#include "config/config.h"
#include "control/ctl_http.h"
#include "events/event.h"
#include "base/log.h"
#include "rules/rules.h"
#include "rules/snap.h"
#include "events/stats.h"
#include "events/horizon.h"

#define CP_CONTROL_RING 4096 /* events kept for /events */

typedef struct cp_control_s cp_control_t;
typedef struct cp_control_env_s cp_control_env_t;

/* Everything borrowed; the server owns it and outlives the control API. */
struct cp_control_env_s {
  uv_loop_t *loop;
  const cp_config_t *cfg; /* token, allowed networks, listener */
  const cp_log_t *log;
  cp_events_t *events;             /* /events, /events/stream */
  cp_stats_t *stats;               /* /stats, /metrics: the process's own */
  cp_stats_t *const *worker_stats; /* ... summed with each worker's */
  int nworkers;
  cp_rules_t *rules;       /* /rules: the master copy, changed here only */
  cp_snaps_t *snaps;       /* each change is published to the workers */
  cp_horizons_t *horizons; /* /metrics: breakage horizons; NULL: none */
  uint64_t *streamed;      /* set by cp_control_start: the last event id the
                              streams were sent */
  const cp_profiles_t *profiles; /* names for rules */
  int default_profile;           /* --chain */
  X509 *root;                    /* /ca.pem */
  X509 *legacy_root;             /* /ca/legacy-root.pem */
};

struct cp_control_s {
  cp_control_env_t env; /* copied at start */
  cp_ctl_http_t *http;  /* owned: NULL when not serving */
  uint64_t started_ms;
  uv_async_t wake;   /* embedded: a worker recorded events */
  uint64_t streamed; /* the last event id sent to the streams */
  unsigned wake_open : 1;
};

/* Serves the API when cfg->control_host is set; also keeps the last
 * CP_CONTROL_RING events. ctl is the caller's, zeroed. */
int cp_control_start(cp_control_t *ctl, const cp_control_env_t *env);
/* Stops serving (idempotent); connections close asynchronously. */
void cp_control_stop(cp_control_t *ctl);
/* One request: method and target as sent, the Authorization header value
 * (or NULL) and the body. Fills resp, whose body the caller initialised. */
void cp_control_route(cp_control_t *ctl, const cp_ctl_request_t *req,
                      cp_ctl_response_t *resp);

#endif
