#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "control.h"
#include "err.h"
#include "listener.h"
#include "tls_client.h"
#include "tls_server.h"


static void on_ctx_handle_closed(uv_handle_t *h) {
  cp_ctx_t *ctx = h->data;

  ctx->open_handles--;
}


static void close_ctx_handle(cp_ctx_t *ctx, uv_handle_t *h) {
  if (h->data == ctx && !uv_is_closing(h)) {
    uv_close(h, on_ctx_handle_closed);
  }
}


/* Once no conn is left, the loop only needs to close the ctx's own
 * handles, and uv_run() returns. */
static void server_finish(cp_ctx_t *ctx) {
  cp_listener_stop(ctx, on_ctx_handle_closed);
  cp_control_stop(ctx);
  close_ctx_handle(ctx, (uv_handle_t *)&ctx->sighup);
  close_ctx_handle(ctx, (uv_handle_t *)&ctx->sigint);
  close_ctx_handle(ctx, (uv_handle_t *)&ctx->sigterm);
  close_ctx_handle(ctx, (uv_handle_t *)&ctx->grace);
}


void cp_server_conns_drained(cp_ctx_t *ctx) {
  server_finish(ctx);
}


static void on_grace_over(uv_timer_t *t) {
  cp_ctx_t *ctx = t->data;
  cp_conn_t *c;
  cp_conn_t *next;

  cp_log(&ctx->log, CP_LOG_WARN, 0, NULL, "shutting down",
         "grace period over, closing %u connection(s)", ctx->nconns);
  for (c = ctx->conns; c != NULL; c = next) {
    next = c->next;
    cp_conn_abort(c, "shutdown");
  }
}


void cp_server_shutdown(cp_ctx_t *ctx) {
  cp_conn_t *c;
  cp_conn_t *next;

  if (ctx->shutting_down) {
    return;
  }
  ctx->shutting_down = 1;
  cp_listener_stop(ctx, on_ctx_handle_closed);
  cp_control_stop(ctx); /* event streams would keep the loop alive */
  cp_log(&ctx->log, CP_LOG_INFO, 0, NULL, "shutting down",
         "stopped accepting; %u connection(s) in flight", ctx->nconns);
  if (ctx->nconns == 0) {
    server_finish(ctx);
    return;
  }
  uv_timer_start(&ctx->grace, on_grace_over, ctx->cfg->grace_ms, 0);
  for (c = ctx->conns; c != NULL; c = next) {
    next = c->next;
    cp_conn_shutdown(c);
  }
}


static void on_signal(uv_signal_t *s, int signum) {
  cp_ctx_t *ctx = s->data;

  cp_log(&ctx->log, CP_LOG_INFO, 0, NULL, NULL, "received %s",
         signum == SIGINT ? "SIGINT" : "SIGTERM");
  cp_server_shutdown(ctx);
}


static int start_signal(cp_ctx_t *ctx, uv_signal_t *s, int signum) {
  int rc = uv_signal_init(ctx->loop, s);

  if (rc != 0) {
    return rc;
  }
  s->data = ctx;
  ctx->open_handles++;
  return uv_signal_start(s, on_signal, signum);
}


/* SIGHUP: re-read --rules. A bad file keeps the rules in force (including
 * those set through the control API) and says why. */
static void on_sighup(uv_signal_t *s, int signum) {
  cp_ctx_t *ctx = s->data;
  cp_rules_t fresh;
  char err[1400];

  (void)signum;
  if (ctx->cfg->rules_path == NULL) {
    cp_log(&ctx->log, CP_LOG_WARN, 0, NULL, NULL,
           "SIGHUP: no --rules file to reload");
    return;
  }
  if (cp_rules_load(&fresh, ctx->cfg->rules_path, &ctx->serve.profiles, err,
                    sizeof(err)) != 0) {
    ctx->stats.rules_reload_failures++;
    cp_log(&ctx->log, CP_LOG_WARN, 0, NULL, NULL,
           "SIGHUP: kept the current %d rule(s): %s", ctx->rules.n, err);
    return;
  }
  cp_rules_free(&ctx->rules);
  ctx->rules = fresh;
  ctx->stats.rules_reloads++;
  cp_log(&ctx->log, CP_LOG_WARN, 0, NULL, NULL,
         "SIGHUP: loaded %d rule(s) from %s", ctx->rules.n,
         ctx->cfg->rules_path);
}


/* CA, minter, leaf cache and both SSL_CTXs. Every failure names what is
 * wrong on one stderr line. */
static int server_tls_init(cp_ctx_t *ctx) {
  const cp_config_t *cfg = ctx->cfg;
  char dir[1024];
  char err[1400];
  int rc;

  if (cp_ca_default_dir(cfg->ca_dir, dir, sizeof(dir)) != 0) {
    fprintf(stderr, "chainproxy: no CA directory: set --ca-dir, "
                    "CHAINPROXY_HOME or HOME\n");
    return CP_ECONFIG;
  }
  rc = cp_ca_load_or_create(&ctx->ca, dir, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "chainproxy: CA: %s\n", err);
    return rc;
  }
  if (ctx->ca.created) {
    cp_log(&ctx->log, CP_LOG_WARN, 0, NULL, NULL,
           "created a new CA in %s; clients must trust %s/root.pem "
           "(see: chainproxy ca)", dir, dir);
  }
  rc = cp_serve_init(ctx, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return rc;
  }
  if (cfg->rules_path != NULL) {
    rc = cp_rules_load(&ctx->rules, cfg->rules_path, &ctx->serve.profiles,
                       err, sizeof(err));
    if (rc != 0) {
      fprintf(stderr, "chainproxy: --rules %s\n", err);
      return rc;
    }
  }
  if (cp_leaf_cache_init(&ctx->leaves, 1024) != 0) {
    fprintf(stderr, "chainproxy: cannot set up the leaf cache\n");
    return CP_ENOMEM;
  }
  ctx->tls_server = cp_tls_server_ctx_new();
  if (ctx->tls_server == NULL) {
    fprintf(stderr, "chainproxy: cannot create the client TLS context\n");
    return CP_ETLS;
  }
  ctx->tls_client = cp_tls_client_ctx_new(cfg->upstream_ca, err, sizeof(err));
  if (ctx->tls_client == NULL) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return CP_ECONFIG;
  }
  return 0;
}


int cp_server_init(cp_ctx_t *ctx, uv_loop_t *loop, const cp_config_t *cfg) {
  int rc;

  memset(ctx, 0, sizeof(*ctx));
  ctx->loop = loop;
  ctx->cfg = cfg;
  ctx->log.level = cfg->verbose >= 2   ? CP_LOG_DEBUG
                   : cfg->verbose == 1 ? CP_LOG_INFO
                                       : CP_LOG_WARN;
  rc = cp_events_open(&ctx->events, cfg->events_path);
  if (rc != 0) {
    fprintf(stderr, "chainproxy: cannot open event log %s: %s\n",
            cfg->events_path, uv_strerror(rc));
    return rc;
  }
  rc = uv_timer_init(loop, &ctx->grace);
  if (rc != 0) {
    return rc;
  }
  ctx->grace.data = ctx;
  ctx->open_handles++;
  rc = start_signal(ctx, &ctx->sigint, SIGINT);
  if (rc == 0) {
    rc = start_signal(ctx, &ctx->sigterm, SIGTERM);
  }
  if (rc == 0) {
    rc = uv_signal_init(loop, &ctx->sighup);
    if (rc == 0) {
      ctx->sighup.data = ctx;
      ctx->open_handles++;
      rc = uv_signal_start(&ctx->sighup, on_sighup, SIGHUP);
    }
  }
  if (rc != 0) {
    fprintf(stderr, "chainproxy: cannot install signal handlers: %s\n",
            uv_strerror(rc));
    return rc;
  }
  rc = server_tls_init(ctx);
  if (rc != 0) {
    return rc;
  }
  rc = cp_listener_start(ctx, cfg->listen_host, cfg->listen_port);
  if (rc != 0) {
    fprintf(stderr, "chainproxy: cannot listen on %s%s%s:%u: %s\n",
            strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
            strchr(cfg->listen_host, ':') ? "]" : "", cfg->listen_port,
            uv_strerror(rc));
    return rc;
  }
  rc = cp_control_start(ctx);
  if (rc != 0) {
    fprintf(stderr, "chainproxy: cannot serve the control API on %s%s%s:%u:"
            " %s\n", strchr(cfg->control_host, ':') ? "[" : "",
            cfg->control_host, strchr(cfg->control_host, ':') ? "]" : "",
            cfg->control_port, uv_strerror(rc));
    return rc;
  }
  return 0;
}


int cp_server_run(cp_ctx_t *ctx) {
  const cp_config_t *cfg = ctx->cfg;

  cp_log(&ctx->log, CP_LOG_WARN, 0, NULL, NULL,
         "chainproxy %s listening on %s%s%s:%u", CP_VERSION,
         strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
         strchr(cfg->listen_host, ':') ? "]" : "", cfg->listen_port);
  return uv_run(ctx->loop, UV_RUN_DEFAULT);
}


int cp_server_close(cp_ctx_t *ctx) {
  cp_conn_t *c;
  cp_conn_t *next;
  int rc;

  for (c = ctx->conns; c != NULL; c = next) {
    next = c->next;
    cp_conn_abort(c, "shutdown");
  }
  server_finish(ctx);
  uv_run(ctx->loop, UV_RUN_DEFAULT); /* the control frees itself */
  SSL_CTX_free(ctx->tls_server);
  ctx->tls_server = NULL;
  SSL_CTX_free(ctx->tls_client);
  ctx->tls_client = NULL;
  cp_leaf_cache_free(&ctx->leaves);
  cp_rules_free(&ctx->rules);
  cp_serve_free(ctx);
  cp_ca_free(&ctx->ca);
  rc = cp_events_close(&ctx->events);
  if (rc != 0) {
    fprintf(stderr, "chainproxy: writing the event log failed\n");
  }
  return rc;
}
