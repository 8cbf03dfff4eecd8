#include "app/server.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/host.h"
#include "diag/tls_names.h"
#include "config/config_control.h"

/* Distinct chains whose diagnosis is kept (about 15 KB each). */
#define CP_CHAIN_CACHE 512


static void close_server_handle(cp_server_t *srv, uv_handle_t *h) {
  if (h->data == srv && !uv_is_closing(h)) {
    uv_close(h, NULL); /* embedded: nothing to free */
  }
}


/* Stops the main loop's own handles: uv_run() returns once they close. */
static void server_finish(cp_server_t *srv) {
  cp_control_stop(&srv->control);
  close_server_handle(srv, (uv_handle_t *)&srv->sighup);
  close_server_handle(srv, (uv_handle_t *)&srv->sigint);
  close_server_handle(srv, (uv_handle_t *)&srv->sigterm);
  close_server_handle(srv, (uv_handle_t *)&srv->trim);
}


/* A burst of handshakes (each holds TLS record buffers for a moment)
 * leaves free memory between long-lived connections' blocks that the
 * allocator keeps; giving it back keeps RSS near what is in use. */
static void on_trim(uv_timer_t *t) {
  (void)t;
  malloc_trim(0);
}


/* Graceful: every worker stops accepting and lets in-flight connections
 * finish within --grace; cp_server_close() waits for them. */
void cp_server_shutdown(cp_server_t *srv) {
  int i;

  if (srv->stopping) {
    return;
  }
  srv->stopping = 1;
  cp_log(&srv->log, CP_LOG_INFO, 0, NULL, "shutting down", "stopped accepting");
  for (i = 0; i < srv->nworkers; i++) {
    cp_worker_stop(&srv->workers[i], 0);
  }
  server_finish(srv);
}


static void on_signal(uv_signal_t *s, int signum) {
  cp_server_t *srv = s->data;

  cp_log(&srv->log, CP_LOG_INFO, 0, NULL, NULL, "received %s",
         signum == SIGINT ? "SIGINT" : "SIGTERM");
  if (srv->hooks.on_signal != NULL) {
    srv->hooks.on_signal(srv->hooks.arg, signum);
  }
  cp_server_shutdown(srv);
}


/* The diagnosis data of a snapshot; with --origins, the catalogue CA is
 * trusted upstream, so the simulator's store holds it too. */
static int data_load(cp_server_t *srv, cp_snap_data_t **data, char *err,
                     size_t len) {
  const cp_config_t *cfg = srv->cfg;

  if (cp_snap_data_load(data, cfg->system_roots, cfg->distrust_path,
                        cfg->clients_path, cfg->data_families, cfg->upstream_ca,
                        err, len) != 0) {
    return -1;
  }
  /* Out of memory here only leaves the catalogue's chains judged
   * without their root: the snapshot itself is whole. */
  if (srv->origins != NULL) {
    STACK_OF(X509) *roots = srv->origins->cat.roots;
    int i;

    for (i = 0; i < sk_X509_num(roots); i++) {
      (void)cp_whosim_add_root(&(*data)->sim, sk_X509_value(roots, i));
    }
  }
  return 0;
}


/* SIGHUP: re-read --rules and the diagnosis data (roots, distrust, client
 * families). A bad file keeps what is in force (including rules set
 * through the control API) and says why. */
static void on_sighup(uv_signal_t *s, int signum) {
  cp_server_t *srv = s->data;
  const cp_config_t *cfg = srv->cfg;
  cp_rules_t fresh;
  cp_snap_data_t *data;
  char err[1400];

  (void)signum;
  memset(&fresh, 0, sizeof(fresh));
  if (cfg->rules_path != NULL &&
      cp_rules_load(&fresh, cfg->rules_path, &srv->chain.profiles, err,
                    sizeof(err)) != 0) {
    srv->stats.v[CP_STAT_RULES_RELOAD_FAILURES]++;
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
           "SIGHUP: kept the current %d rule(s): %s", srv->rules.n, err);
    return;
  }
  if (data_load(srv, &data, err, sizeof(err)) != 0) {
    cp_rules_free(&fresh);
    srv->stats.v[CP_STAT_RULES_RELOAD_FAILURES]++;
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
           "SIGHUP: kept the current rules and data: %s", err);
    return;
  }
  if (cfg->rules_path != NULL) {
    cp_rules_free(&srv->rules);
    srv->rules = fresh;
  }
  /* Stored upstream diagnoses were judged with the old data: the new
   * generation retires them. */
  if (cp_snaps_publish(&srv->snaps, &srv->rules, data) != 0) {
    srv->stats.v[CP_STAT_RULES_RELOAD_FAILURES]++;
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL, "SIGHUP: out of memory");
    return;
  }
  srv->stats.v[CP_STAT_RULES_RELOADS]++;
  if (cfg->rules_path != NULL) {
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
           "SIGHUP: loaded %d rule(s) from %s", srv->rules.n, cfg->rules_path);
  } else {
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
           "SIGHUP: reloaded the diagnosis data (no --rules file)");
  }
}


static int start_signal(cp_server_t *srv, uv_signal_t *s, int signum,
                        uv_signal_cb cb) {
  int rc = uv_signal_init(srv->loop, s);

  if (rc != 0) {
    return rc;
  }
  s->data = srv;
  return uv_signal_start(s, cb, signum);
}


static void warn_floors(cp_server_t *srv) {
  const cp_config_t *cfg = srv->cfg;

  if (cfg->client_tls_min < TLS1_2_VERSION) {
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
           "--client-tls-min: clients may use %s (security level 0 on the "
           "client side, as a legacy server)",
           cp_tls_version_name(cfg->client_tls_min));
  }
  if (cfg->upstream_tls_min < TLS1_2_VERSION) {
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
           "--upstream-tls-min: offering %s upstream (security level 0 for "
           "the handshake; chains are still judged at the default level)",
           cp_tls_version_name(cfg->upstream_tls_min));
  }
}


/* --upstream-proxy and --upstream-no-proxy (or the environment's, when
 * asked for) into the parents every worker picks from. */
static int parents_init(cp_server_t *srv) {
  const cp_config_t *cfg = srv->cfg;
  cp_parents_t *ps = &srv->parents;
  char err[512];
  int i;

  memset(ps, 0, sizeof(*ps));
  for (i = 0; i < cfg->nno_proxy && i < CP_PARENT_LISTS; i++) {
    ps->no_proxy[ps->nno_proxy++] = cfg->no_proxy[i];
  }
  if (cfg->upstream_proxy == NULL) {
    return 0;
  }
  if (strcmp(cfg->upstream_proxy, "env") == 0) {
    if (cp_parents_from_env(ps, cfg->listen_host, cfg->listen_port, err,
                            sizeof(err)) != 0) {
      fprintf(stderr, "chainproxy: %s\n", err);
      return CP_ECONFIG;
    }
  } else if (cp_parent_parse(&ps->https, cfg->upstream_proxy, err,
                             sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy: --upstream-proxy: %s\n", err);
    return CP_ECONFIG;
  } else {
    ps->http = ps->https;
    ps->has_https = ps->has_http = 1;
  }
  if (ps->has_https) {
    cp_log(&srv->log, CP_LOG_INFO, 0, NULL, NULL, "tunnels go out through %s",
           ps->https.url);
  }
  if (ps->has_http) {
    cp_log(&srv->log, CP_LOG_INFO, 0, NULL, NULL,
           "plain HTTP goes out through %s", ps->http.url);
  }
  return 0;
}


/* Profile i's incident clones, if it is an incident profile, built now:
 * its stores are on disk before the first client connects. */
static int incident_build(cp_server_t *srv, int i) {
  const cp_profile_t *p;
  const cp_incident_t *inc;
  char err[400];

  /* i is -1 for a rule that names no profile: checked before indexing. */
  if (i < 0 || i >= srv->chain.profiles.n) {
    return 0;
  }
  p = &srv->chain.profiles.p[i];
  if (!p->incident) {
    return 0;
  }
  inc = cp_incidents_get0(&srv->incidents, i, err, sizeof(err));
  if (inc == NULL) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return CP_ECONFIG;
  }
  cp_log(&srv->log, CP_LOG_INFO, 0, NULL, NULL,
         "profile %s: real chain cloned, shifted by %lld s; stores in "
         "%s/%s-store-*.pem",
         p->name, inc->shift, srv->incidents.out_dir, p->name);
  return 0;
}


static int incidents_init(cp_server_t *srv, const char *dir) {
  if (cp_incidents_init(&srv->incidents, &srv->chain.profiles, dir) != 0) {
    fprintf(stderr, "chainproxy: cannot set up the incident profiles\n");
    return CP_ENOMEM;
  }
  cp_chain_set_incidents(&srv->chain, &srv->incidents);
  return incident_build(srv, srv->chain.default_profile);
}


/* The CA, the profiles, the rules and the data: what every worker shares.
 * Every failure names what is wrong on one stderr line. */
static int server_shared_init(cp_server_t *srv) {
  const cp_config_t *cfg = srv->cfg;
  cp_snap_data_t *data;
  char dir[1024];
  char err[1400];
  int i, rc;

  if (cp_ca_default_dir(cfg->ca_dir, dir, sizeof(dir)) != 0) {
    fprintf(stderr, "chainproxy: no CA directory: set --ca-dir, "
                    "CHAINPROXY_HOME or HOME\n");
    return CP_ECONFIG;
  }
  rc = cp_ca_load_or_create(&srv->ca, dir, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "chainproxy: CA: %s\n", err);
    return rc;
  }
  if (srv->ca.created) {
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
           "created a new CA in %s; clients must trust %s/root.pem "
           "(see: chainproxy ca)",
           dir, dir);
  }
  if (cp_ca_make_untrusted(&srv->ca) != 0) {
    fprintf(stderr, "chainproxy: cannot create the untrusted CA\n");
    return CP_ETLS;
  }
  rc = cp_chain_init(&srv->chain, &srv->ca, cfg->profiles_path, cfg->chain,
                     cfg->rsa_leaf, &srv->stats, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return rc;
  }
  rc = incidents_init(srv, dir);
  if (rc != 0) {
    return rc;
  }
  if (cfg->origins_port != 0) {
    srv->origins = calloc(1, sizeof(*srv->origins));
    if (srv->origins == NULL) {
      return CP_ENOMEM;
    }
    rc = cp_origins_start(srv->origins, dir, "127.0.0.1", cfg->origins_port,
                          cfg->profiles_path, err, sizeof(err));
    if (rc != 0) {
      free(srv->origins);
      srv->origins = NULL;
      fprintf(stderr, "chainproxy: --origins: %s\n", err);
      return rc;
    }
    cp_log(&srv->log, CP_LOG_INFO, 0, NULL, NULL,
           "catalogue of broken origins on 127.0.0.1:%u (index); "
           "https://CASE.chainproxy.test/ through the proxy",
           cfg->origins_port);
  }
  if (cfg->rules_path != NULL) {
    rc = cp_rules_load(&srv->rules, cfg->rules_path, &srv->chain.profiles, err,
                       sizeof(err));
    if (rc != 0) {
      fprintf(stderr, "chainproxy: --rules %s\n", err);
      return rc;
    }
    for (i = 0; i < srv->rules.n; i++) {
      rc = incident_build(srv, srv->rules.r[i].profile);
      if (rc != 0) {
        return rc;
      }
    }
  }
  rc = data_load(srv, &data, err, sizeof(err));
  if (rc == 0) {
    rc = cp_snaps_init(&srv->snaps, &srv->rules, data);
    snprintf(err, sizeof(err), "out of memory");
  }
  if (rc != 0) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return rc;
  }
  cp_horizons_init(&srv->horizons);
  if (cp_resume_init(&srv->resume, cfg->upstream_sessions) != 0 ||
      cp_resume_init(&srv->chains, CP_CHAIN_CACHE) != 0 ||
      cp_peers_init(&srv->peers, cfg->max_conns) != 0) {
    fprintf(stderr, "chainproxy: out of memory\n");
    return CP_ENOMEM;
  }
  warn_floors(srv);
  if (cfg->auth_file != NULL) {
    rc = cp_users_load(&srv->users, cfg->auth_file, err, sizeof(err));
    if (rc != 0) {
      fprintf(stderr, "chainproxy: %s\n", err);
      return rc;
    }
  }
  return parents_init(srv);
}


static int control_start(cp_server_t *srv) {
  cp_control_env_t env;

  memset(&env, 0, sizeof(env));
  env.loop = srv->loop;
  env.cfg = srv->cfg;
  env.log = &srv->log;
  env.events = &srv->events;
  env.stats = &srv->stats;
  env.worker_stats = srv->worker_stats;
  env.nworkers = srv->nworkers;
  env.rules = &srv->rules;
  env.snaps = &srv->snaps;
  env.horizons = &srv->horizons;
  env.profiles = &srv->chain.profiles;
  env.default_profile = srv->chain.default_profile;
  env.root = srv->ca.root;
  env.legacy_root = srv->ca.legacy_root;
  return cp_control_start(&srv->control, &env);
}


/* One worker per --workers; with more than one, the listening sockets are
 * bound here (SO_REUSEPORT) so a bad address fails the start. */
static int workers_init(cp_server_t *srv) {
  const cp_config_t *cfg = srv->cfg;
  cp_worker_shared_t sh;
  char hp[CP_HOSTPORT_MAX];
  int n = cfg->workers > 0 && cfg->listen_fd < 0 ? (int)cfg->workers : 1;
  int *fds = calloc((size_t)n, sizeof(int));
  int i, rc = 0;

  srv->workers = calloc((size_t)n, sizeof(*srv->workers));
  srv->worker_stats = calloc((size_t)n, sizeof(*srv->worker_stats));
  if (fds == NULL || srv->workers == NULL || srv->worker_stats == NULL) {
    free(fds);
    fprintf(stderr, "chainproxy: out of memory\n");
    return CP_ENOMEM;
  }
  for (i = 0; i < n; i++) {
    fds[i] = -1;
  }
  if (cfg->listen_fd >= 0) {
    fds[0] = cfg->listen_fd; /* the worker's from here on */
  } else if (n > 1) {
    rc = cp_listener_reuseport(cfg->listen_host, cfg->listen_port, n, fds);
    if (rc != 0) {
      fprintf(stderr, "chainproxy: cannot listen on %s: %s\n",
              cp_hostport_format(hp, sizeof(hp), cfg->listen_host,
                                 cfg->listen_port),
              uv_strerror(rc));
      free(fds);
      return rc;
    }
  }
  memset(&sh, 0, sizeof(sh));
  sh.cfg = cfg;
  sh.log = &srv->log;
  sh.events = &srv->events;
  sh.keylog = &srv->keylog;
  sh.ca = &srv->ca;
  sh.incidents = &srv->incidents;
  sh.origins_roots = srv->origins != NULL ? srv->origins->cat.roots : NULL;
  sh.snaps = &srv->snaps;
  sh.conn_ids = &srv->conn_ids;
  sh.resume = &srv->resume;
  sh.chains = &srv->chains;
  sh.horizons = &srv->horizons;
  sh.peers = &srv->peers;
  sh.parents = &srv->parents;
  sh.users = srv->users.n > 0 ? &srv->users : NULL;
  for (i = 0; i < n && rc == 0; i++) {
    srv->nworkers = i + 1;
    rc = cp_worker_init(&srv->workers[i], i, &sh, fds[i]);
    fds[i] = -1; /* the worker's now, even on error */
    srv->worker_stats[i] = &srv->workers[i].stats;
  }
  for (; i < n; i++) {
    if (fds[i] >= 0) {
      close(fds[i]);
    }
  }
  free(fds);
  return rc;
}


int cp_server_init(cp_server_t *srv, uv_loop_t *loop, const cp_config_t *cfg) {
  char hp[CP_HOSTPORT_MAX];
  char err[512];
  int rc;

  memset(srv, 0, sizeof(*srv));
  srv->loop = loop;
  srv->cfg = cfg;
  if (cp_config_check_exposure(cfg, err, sizeof(err)) != 0 ||
      cp_config_check_control_exposure(cfg, err, sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return CP_ECONFIG;
  }
  srv->log.level = cfg->verbose >= 2   ? CP_LOG_DEBUG
                   : cfg->verbose == 1 ? CP_LOG_INFO
                   : cfg->verbose < 0  ? CP_LOG_ERROR /* chainproxy run */
                                       : CP_LOG_WARN;
  rc = cp_events_open(&srv->events, cfg->events_path);
  if (rc != 0) {
    fprintf(stderr, "chainproxy: cannot open event log %s: %s\n",
            cfg->events_path, uv_strerror(rc));
    return rc;
  }
  rc = cp_keylog_open(&srv->keylog, cfg->keylog_path, err, sizeof(err));
  if (rc != 0) {
    /* Name what the user set: the variable when no --keylog was given. */
    const char *env = getenv("SSLKEYLOGFILE");
    int from_env = env != NULL && cfg->keylog_path == env;

    fprintf(stderr, "chainproxy: %s%s\n",
            from_env ? "SSLKEYLOGFILE (in chainproxy's environment) is " : "",
            from_env && strncmp(err, "--keylog ", 9) == 0 ? err + 9 : err);
    return rc;
  }
  rc = start_signal(srv, &srv->sigint, SIGINT, on_signal);
  if (rc == 0) {
    rc = start_signal(srv, &srv->sigterm, SIGTERM, on_signal);
  }
  if (rc == 0) {
    rc = start_signal(srv, &srv->sighup, SIGHUP, on_sighup);
  }
  if (rc != 0) {
    fprintf(stderr, "chainproxy: cannot install signal handlers: %s\n",
            uv_strerror(rc));
    return rc;
  }
  if (uv_timer_init(loop, &srv->trim) == 0) {
    srv->trim.data = srv;
    uv_timer_start(&srv->trim, on_trim, 10000, 10000);
    uv_unref((uv_handle_t *)&srv->trim);
  }
  rc = server_shared_init(srv);
  if (rc == 0) {
    rc = workers_init(srv);
  }
  if (rc != 0) {
    return rc;
  }
  rc = control_start(srv);
  if (rc != 0) {
    fprintf(stderr, "chainproxy: cannot serve the control API on %s: %s\n",
            cp_hostport_format(hp, sizeof(hp), cfg->control_host,
                               cfg->control_port),
            uv_strerror(rc));
    return rc;
  }
  return 0;
}


int cp_server_run(cp_server_t *srv) {
  char hp[CP_HOSTPORT_MAX];
  int i;

  for (i = 0; i < srv->nworkers; i++) {
    if (cp_worker_start(&srv->workers[i]) != 0) {
      cp_server_shutdown(srv);
      break;
    }
  }
  if (!srv->stopping) {
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
           "chainproxy %s listening on %s (%d worker%s)", CP_VERSION,
           cp_hostport_format(hp, sizeof(hp), srv->cfg->listen_host,
                              srv->cfg->listen_port),
           srv->nworkers, srv->nworkers == 1 ? "" : "s");
    if (srv->cfg->control_token_argv) {
      cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
             "--control-token is visible to every local user in the process "
             "list; give it with --control-token-file FILE or "
             "CHAINPROXY_CONTROL_TOKEN instead");
    }
    if (srv->hooks.on_running != NULL) {
      srv->hooks.on_running(srv->hooks.arg, srv);
    }
  }
  return uv_run(srv->loop, UV_RUN_DEFAULT);
}


int cp_server_close(cp_server_t *srv) {
  int rc, i, left = 0;

  for (i = 0; i < srv->nworkers; i++) {
    cp_worker_stop(&srv->workers[i], 0);
  }
  for (i = 0; i < srv->nworkers; i++) {
    cp_worker_join(&srv->workers[i]);
    left |= cp_worker_close(&srv->workers[i]);
  }
  free(srv->workers);
  srv->workers = NULL;
  free(srv->worker_stats);
  srv->worker_stats = NULL;
  server_finish(srv);
  uv_run(srv->loop, UV_RUN_DEFAULT); /* closes every handle left */
  cp_rules_free(&srv->rules);
  cp_users_free(&srv->users);
  cp_snaps_free(&srv->snaps);
  cp_resume_free(&srv->resume);
  cp_resume_free(&srv->chains);
  cp_horizons_free(&srv->horizons);
  cp_peers_free(&srv->peers);
  cp_chain_free(&srv->chain);
  cp_incidents_free(&srv->incidents);
  if (srv->origins != NULL) {
    cp_origins_stop(srv->origins);
    free(srv->origins);
    srv->origins = NULL;
  }
  cp_ca_free(&srv->ca);
  cp_keylog_close(&srv->keylog); /* after every worker's SSL_CTX */
  rc = cp_events_close(&srv->events);
  if (rc != 0) {
    fprintf(stderr, "chainproxy: writing the event log failed\n");
  }
  if (left != 0) {
    fprintf(stderr, "chainproxy: internal error: a worker left handles "
                    "open\n");
    rc = rc != 0 ? rc : CP_EIO;
  }
  return rc;
}
