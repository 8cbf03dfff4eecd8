#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_states.h"
#include "err.h"
#include "host.h"
#include "leg.h"
#include "revoke.h"
#include "tls_client.h"
#include "tls_server.h"


static void close_server_handle(cp_server_t *srv, uv_handle_t *h) {
  if (h->data == srv && !uv_is_closing(h)) {
    uv_close(h, NULL); /* embedded: nothing to free */
  }
}


/* Once no conn is left, the loop only needs to close the server's own
 * handles, and uv_run() returns. */
static void server_finish(cp_server_t *srv) {
  cp_listener_stop(&srv->listener, NULL);
  cp_control_stop(&srv->control);
  close_server_handle(srv, (uv_handle_t *)&srv->sighup);
  close_server_handle(srv, (uv_handle_t *)&srv->sigint);
  close_server_handle(srv, (uv_handle_t *)&srv->sigterm);
  close_server_handle(srv, (uv_handle_t *)&srv->grace);
}


static void on_conns_drained(cp_conn_env_t *env) {
  server_finish(env->data);
}


static void abort_all(cp_server_t *srv) {
  cp_conn_t *c;
  cp_conn_t *next;

  for (c = srv->env.conns; c != NULL; c = next) {
    next = c->next;
    cp_conn_abort(c, "shutdown");
  }
}


static void on_grace_over(uv_timer_t *t) {
  cp_server_t *srv = t->data;

  cp_log(&srv->log, CP_LOG_WARN, 0, NULL, "shutting down",
         "grace period over, closing %u connection(s)", srv->env.nconns);
  abort_all(srv);
}


/* Graceful: stop accepting, let in-flight connections finish. */
static void server_shutdown(cp_server_t *srv) {
  cp_conn_t *c;
  cp_conn_t *next;

  if (srv->env.shutting_down) {
    return;
  }
  srv->env.shutting_down = 1;
  cp_listener_stop(&srv->listener, NULL);
  cp_control_stop(&srv->control); /* event streams keep the loop alive */
  cp_log(&srv->log, CP_LOG_INFO, 0, NULL, "shutting down",
         "stopped accepting; %u connection(s) in flight", srv->env.nconns);
  if (srv->env.nconns == 0) {
    server_finish(srv);
    return;
  }
  uv_timer_start(&srv->grace, on_grace_over, srv->cfg->grace_ms, 0);
  for (c = srv->env.conns; c != NULL; c = next) {
    next = c->next;
    cp_conn_shutdown(c);
  }
}


static void on_signal(uv_signal_t *s, int signum) {
  cp_server_t *srv = s->data;

  cp_log(&srv->log, CP_LOG_INFO, 0, NULL, NULL, "received %s",
         signum == SIGINT ? "SIGINT" : "SIGTERM");
  server_shutdown(srv);
}


/* SIGHUP: re-read --rules. A bad file keeps the rules in force (including
 * those set through the control API) and says why. */
static void on_sighup(uv_signal_t *s, int signum) {
  cp_server_t *srv = s->data;
  cp_rules_t fresh;
  char err[1400];

  (void)signum;
  if (srv->cfg->rules_path == NULL) {
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
           "SIGHUP: no --rules file to reload");
    return;
  }
  if (cp_rules_load(&fresh, srv->cfg->rules_path, &srv->chain.profiles, err,
                    sizeof(err)) != 0) {
    srv->stats.v[CP_STAT_RULES_RELOAD_FAILURES]++;
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
           "SIGHUP: kept the current %d rule(s): %s", srv->rules.n, err);
    return;
  }
  cp_rules_free(&srv->rules);
  cp_roots_free(&srv->roots);
  cp_distrust_free(&srv->distrust);
  cp_who_free(&srv->who);
  /* Stored diagnoses point into the data just freed. */
  cp_resume_flush(&srv->resume);
  srv->rules = fresh;
  srv->stats.v[CP_STAT_RULES_RELOADS]++;
  cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL,
         "SIGHUP: loaded %d rule(s) from %s", srv->rules.n,
         srv->cfg->rules_path);
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


/* CA, chain profiles, rules and both SSL_CTXs. Every failure names what
 * is wrong on one stderr line. */
static int server_tls_init(cp_server_t *srv) {
  const cp_config_t *cfg = srv->cfg;
  char dir[1024];
  char err[1400];
  int rc;

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
  if (cp_roots_load(&srv->roots, cfg->system_roots) != 0) {
    fprintf(stderr, "chainproxy: out of memory\n");
    return CP_ENOMEM;
  }
  if (cp_distrust_load(&srv->distrust, cfg->distrust_path, err, sizeof(err)) !=
          0 ||
      cp_who_load(&srv->who, cfg->clients_path, err, sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return CP_ECONFIG;
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
  if (cfg->rules_path != NULL) {
    rc = cp_rules_load(&srv->rules, cfg->rules_path, &srv->chain.profiles, err,
                       sizeof(err));
    if (rc != 0) {
      fprintf(stderr, "chainproxy: --rules %s\n", err);
      return rc;
    }
  }
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
  srv->tls_server = cp_tls_server_ctx_new(cfg->client_tls_min);
  if (srv->tls_server == NULL) {
    fprintf(stderr, "chainproxy: cannot create the client TLS context\n");
    return CP_ETLS;
  }
  srv->tls_client = cp_tls_client_ctx_new(
      cfg->upstream_ca, cfg->upstream_tls_min, err, sizeof(err));
  if (srv->tls_client == NULL) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return CP_ECONFIG;
  }
  if (cfg->ncrls > 0 &&
      cp_revoke_load_crls(SSL_CTX_get_cert_store(srv->tls_client), cfg->crls,
                          cfg->ncrls, err, sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return CP_ECONFIG;
  }
  if (cp_resume_init(&srv->resume, cfg->upstream_sessions) != 0) {
    fprintf(stderr, "chainproxy: out of memory\n");
    return CP_ENOMEM;
  }
  cp_resume_install(srv->tls_client);
  if (cfg->upstream_client_cert != NULL &&
      cp_tls_client_set_cert(srv->tls_client, cfg->upstream_client_cert, err,
                             sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return CP_ECONFIG;
  }
  return 0;
}


static void on_accept(cp_listener_t *l, int status) {
  cp_server_t *srv = l->data;

  if (status < 0) {
    cp_log(&srv->log, CP_LOG_WARN, 0, NULL, "accepting", "accept: %s",
           uv_strerror(status));
    return;
  }
  cp_conn_accept(&srv->env, (uv_stream_t *)&l->tcp);
}


static void env_init(cp_server_t *srv) {
  cp_conn_env_t *env = &srv->env;

  env->loop = srv->loop;
  env->cfg = srv->cfg;
  env->log = &srv->log;
  env->events = &srv->events;
  env->stats = &srv->stats;
  env->chain = &srv->chain;
  env->rules = &srv->rules;
  env->roots = &srv->roots;
  env->distrust = &srv->distrust;
  env->who = &srv->who;
  env->tls_server = srv->tls_server;
  env->tls_client = srv->tls_client;
  env->resume = &srv->resume;
  env->plain = srv->plain;
  env->on_drained = on_conns_drained;
  env->data = srv;
  cp_conn_states_install(env);
}


static int control_start(cp_server_t *srv) {
  cp_control_env_t env;

  memset(&env, 0, sizeof(env));
  env.loop = srv->loop;
  env.cfg = srv->cfg;
  env.log = &srv->log;
  env.events = &srv->events;
  env.stats = &srv->stats;
  env.rules = &srv->rules;
  env.profiles = &srv->chain.profiles;
  env.default_profile = srv->chain.default_profile;
  env.root = srv->ca.root;
  env.legacy_root = srv->ca.legacy_root;
  return cp_control_start(&srv->control, &env);
}


int cp_server_init(cp_server_t *srv, uv_loop_t *loop, const cp_config_t *cfg) {
  char hp[CP_HOSTPORT_MAX];
  int rc;

  memset(srv, 0, sizeof(*srv));
  srv->loop = loop;
  srv->cfg = cfg;
  {
    char err[512];

    if (cp_config_check_exposure(cfg, err, sizeof(err)) != 0) {
      fprintf(stderr, "chainproxy: %s\n", err);
      return CP_ECONFIG;
    }
  }
  srv->log.level = cfg->verbose >= 2   ? CP_LOG_DEBUG
                   : cfg->verbose == 1 ? CP_LOG_INFO
                                       : CP_LOG_WARN;
  rc = cp_events_open(&srv->events, cfg->events_path);
  if (rc != 0) {
    fprintf(stderr, "chainproxy: cannot open event log %s: %s\n",
            cfg->events_path, uv_strerror(rc));
    return rc;
  }
  srv->plain = malloc(CP_LEG_RBUF);
  rc = uv_timer_init(loop, &srv->grace);
  if (srv->plain == NULL || rc != 0) {
    fprintf(stderr, "chainproxy: out of memory\n");
    return CP_ENOMEM;
  }
  srv->grace.data = srv;
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
  rc = server_tls_init(srv);
  if (rc != 0) {
    return rc;
  }
  env_init(srv);
  rc = cp_listener_start(&srv->listener, loop, cfg->listen_host,
                         cfg->listen_port, 511, on_accept, srv);
  if (rc != 0) {
    fprintf(
        stderr, "chainproxy: cannot listen on %s: %s\n",
        cp_hostport_format(hp, sizeof(hp), cfg->listen_host, cfg->listen_port),
        uv_strerror(rc));
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

  cp_log(&srv->log, CP_LOG_WARN, 0, NULL, NULL, "chainproxy %s listening on %s",
         CP_VERSION,
         cp_hostport_format(hp, sizeof(hp), srv->cfg->listen_host,
                            srv->cfg->listen_port));
  return uv_run(srv->loop, UV_RUN_DEFAULT);
}


int cp_server_close(cp_server_t *srv) {
  int rc;

  abort_all(srv);
  server_finish(srv);
  uv_run(srv->loop, UV_RUN_DEFAULT); /* closes every handle left */
  SSL_CTX_free(srv->tls_server);
  srv->tls_server = NULL;
  cp_resume_free(&srv->resume);
  SSL_CTX_free(srv->tls_client);
  srv->tls_client = NULL;
  cp_rules_free(&srv->rules);
  cp_roots_free(&srv->roots);
  cp_distrust_free(&srv->distrust);
  cp_who_free(&srv->who);
  cp_chain_free(&srv->chain);
  cp_ca_free(&srv->ca);
  free(srv->plain);
  srv->plain = NULL;
  rc = cp_events_close(&srv->events);
  if (rc != 0) {
    fprintf(stderr, "chainproxy: writing the event log failed\n");
  }
  return rc;
}
