#include "app/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn_states.h"
#include "base/err.h"
#include "base/host.h"
#include "net/leg.h"
#include "diag/revoke.h"
#include "tls/tls_client.h"
#include "tls/tls_server.h"
#include "net/transparent.h"


static void close_own(cp_worker_t *w, uv_handle_t *h) {
  if (h->data == w && !uv_is_closing(h)) {
    uv_close(h, NULL); /* embedded: nothing to free */
  }
}


/* Once no conn is left the thread may end. The stop handle stays open
 * (the server may still signal it) until cp_worker_close(). */
static void worker_finish(cp_worker_t *w) {
  cp_listener_stop(&w->listener, NULL);
  close_own(w, (uv_handle_t *)&w->grace);
  uv_stop(&w->loop);
}


static void on_pool_sweep(uv_timer_t *t) {
  cp_worker_t *w = t->data;

  cp_pool_expire(&w->pool, uv_now(&w->loop));
}


static void on_flush(uv_prepare_t *p) {
  cp_worker_t *w = p->data;

  cp_event_queue_flush(&w->evq);
}


static void on_conns_drained(cp_conn_env_t *env) {
  worker_finish(env->data);
}


static void abort_all(cp_worker_t *w) {
  cp_conn_t *c;
  cp_conn_t *next;

  for (c = w->env.conns; c != NULL; c = next) {
    next = c->next;
    cp_conn_cut(c, "shutdown"); /* what is in flight is recorded */
  }
}


static void on_grace_over(uv_timer_t *t) {
  cp_worker_t *w = t->data;

  cp_log(w->env.log, CP_LOG_WARN, 0, NULL, "shutting down",
         "grace period over, closing %u connection(s)", w->env.nconns);
  abort_all(w);
}


/* Graceful: stop accepting, let in-flight connections finish. */
static void worker_shutdown(cp_worker_t *w) {
  cp_conn_t *c;
  cp_conn_t *next;

  if (w->env.shutting_down) {
    return;
  }
  w->env.shutting_down = 1;
  cp_listener_stop(&w->listener, NULL);
  if (w->env.nconns == 0) {
    worker_finish(w);
    return;
  }
  cp_log(w->env.log, CP_LOG_INFO, 0, NULL, "shutting down",
         "worker %d: %u connection(s) in flight", w->index, w->env.nconns);
  uv_timer_start(&w->grace, on_grace_over, w->env.cfg->grace_ms, 0);
  for (c = w->env.conns; c != NULL; c = next) {
    next = c->next;
    cp_conn_shutdown(c);
  }
}


static void on_cmd(uv_async_t *a) {
  cp_worker_t *w = a->data;
  int mode = __atomic_load_n(&w->stop_mode, __ATOMIC_ACQUIRE);

  if (mode >= 1) {
    worker_shutdown(w);
  }
  if (mode >= 2) {
    abort_all(w);
  }
}


static void on_accept(cp_listener_t *l, int status) {
  cp_worker_t *w = l->data;

  if (status < 0) {
    cp_log(w->env.log, CP_LOG_WARN, 0, NULL, "accepting", "accept: %s",
           uv_strerror(status));
    return;
  }
  cp_conn_accept(&w->env, (uv_stream_t *)&l->tcp);
}


/* Chain profiles and both SSL_CTXs; every failure names what is wrong. */
static int worker_tls_init(cp_worker_t *w, const cp_worker_shared_t *sh) {
  const cp_config_t *cfg = sh->cfg;
  char err[1400];
  int rc, i;

  rc = cp_chain_init(&w->chain, sh->ca, cfg->profiles_path, cfg->chain,
                     cfg->rsa_leaf, &w->stats, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return rc;
  }
  cp_chain_set_incidents(&w->chain, sh->incidents);
  cp_chain_set_exact_root(&w->chain, sh->origins_roots != NULL
                                         ? sk_X509_value(sh->origins_roots, 0)
                                         : NULL);
  w->tls_server = cp_tls_server_ctx_new(cfg->client_tls_min);
  if (w->tls_server == NULL) {
    fprintf(stderr, "chainproxy: cannot create the client TLS context\n");
    return CP_ETLS;
  }
  w->tls_client = cp_tls_client_ctx_new(cfg->upstream_ca, cfg->upstream_tls_min,
                                        err, sizeof(err));
  if (w->tls_client == NULL) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return CP_ECONFIG;
  }
  for (i = 0; sh->origins_roots != NULL && i < sk_X509_num(sh->origins_roots);
       i++) {
    if (X509_STORE_add_cert(SSL_CTX_get_cert_store(w->tls_client),
                            sk_X509_value(sh->origins_roots, i)) != 1) {
      fprintf(stderr, "chainproxy: --origins: cannot trust the catalogue CA\n");
      return CP_ETLS;
    }
  }
  if (cfg->ncrls > 0 &&
      cp_revoke_load_crls(SSL_CTX_get_cert_store(w->tls_client), cfg->crls,
                          cfg->ncrls, err, sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return CP_ECONFIG;
  }
  cp_resume_install(w->tls_client);
  if (cp_keylog_attach(w->tls_server, sh->keylog) != 0 ||
      cp_keylog_attach(w->tls_client, sh->keylog) != 0) {
    fprintf(stderr, "chainproxy: cannot install the key log\n");
    return CP_ETLS;
  }
  if (cfg->upstream_client_cert != NULL &&
      cp_tls_client_set_cert(w->tls_client, cfg->upstream_client_cert, err,
                             sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return CP_ECONFIG;
  }
  return 0;
}


static void env_init(cp_worker_t *w, const cp_worker_shared_t *sh) {
  cp_conn_env_t *env = &w->env;

  env->loop = &w->loop;
  env->cfg = sh->cfg;
  env->log = sh->log;
  env->events = sh->events;
  env->stats = &w->stats;
  env->chain = &w->chain;
  env->snaps = sh->snaps;
  env->tls_server = w->tls_server;
  env->tls_client = w->tls_client;
  env->resume = sh->resume;
  env->chains = sh->chains;
  env->horizons = sh->horizons;
  env->parents = sh->parents;
  env->users = sh->users;
  env->peers = sh->peers;
  env->plain = w->plain;
  env->rbuf = w->rbuf;
  env->wire = w->wire;
  env->on_drained = on_conns_drained;
  env->data = w;
  env->conn_ids = sh->conn_ids;
  cp_pool_init(&w->pool, sh->snaps, sh->cfg->idle_timeout_ms);
  env->pool = &w->pool;
  cp_conn_states_install(env);
}


static int listen_on(cp_worker_t *w, const cp_config_t *cfg, int fd) {
  char hp[CP_HOSTPORT_MAX];
  int rc;

  if (fd >= 0) {
    rc = cp_listener_adopt(&w->listener, &w->loop, fd, 511, on_accept, w);
  } else {
    rc = cp_listener_start(&w->listener, &w->loop, cfg->listen_host,
                           cfg->listen_port, 511, on_accept, w);
  }
  if (rc != 0) {
    fprintf(
        stderr, "chainproxy: cannot listen on %s: %s\n",
        cp_hostport_format(hp, sizeof(hp), cfg->listen_host, cfg->listen_port),
        uv_strerror(rc));
  } else if (cfg->isolate) {
    /* The listener is in CMD's namespace: redirect only, no tproxy. */
  } else if (cfg->transparent && w->index == 0 &&
             cp_transparent_listener(&w->listener.tcp) != 0) {
    cp_log(w->env.log, CP_LOG_INFO, 0, NULL, NULL,
           "--mode transparent: no IP_TRANSPARENT (needs CAP_NET_ADMIN), "
           "so nftables tproxy cannot deliver here; redirect can");
  } else if (cfg->transparent) {
    cp_transparent_listener(&w->listener.tcp);
  }
  return rc;
}


int cp_worker_init(cp_worker_t *w, int index, const cp_worker_shared_t *sh,
                   int fd) {
  int rc;

  memset(w, 0, sizeof(*w));
  w->index = index;
  if (uv_loop_init(&w->loop) != 0) {
    fprintf(stderr, "chainproxy: cannot create an event loop\n");
    return CP_ENOMEM;
  }
  w->loop_open = 1;
  w->plain = malloc(CP_LEG_RBUF);
  w->rbuf = malloc(CP_LEG_RBUF);
  w->wire = malloc(CP_LEG_RBUF);
  cp_event_queue_init(&w->evq, sh->events);
  if (w->plain == NULL || w->rbuf == NULL || w->wire == NULL ||
      uv_timer_init(&w->loop, &w->grace) != 0 ||
      uv_async_init(&w->loop, &w->cmd, on_cmd) != 0 ||
      uv_prepare_init(&w->loop, &w->flush) != 0 ||
      uv_timer_init(&w->loop, &w->pool_sweep) != 0) {
    fprintf(stderr, "chainproxy: out of memory\n");
    return CP_ENOMEM;
  }
  w->grace.data = w;
  w->cmd.data = w;
  w->flush.data = w;
  w->pool_sweep.data = w;
  /* Every iteration ends with the events it made recorded, so a line is
   * in the log before the loop sleeps (and the loop never stays up for
   * it: unreferenced). */
  uv_prepare_start(&w->flush, on_flush);
  uv_unref((uv_handle_t *)&w->flush);
  uv_timer_start(&w->pool_sweep, on_pool_sweep, CP_POOL_SWEEP_MS,
                 CP_POOL_SWEEP_MS);
  uv_unref((uv_handle_t *)&w->pool_sweep);
  rc = worker_tls_init(w, sh);
  if (rc != 0) {
    return rc;
  }
  env_init(w, sh);
  return listen_on(w, sh->cfg, fd);
}


static void run(void *arg) {
  cp_worker_t *w = arg;

  cp_event_queue_attach(&w->evq);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  cp_event_queue_attach(NULL);
  cp_event_queue_flush(&w->evq);
}


int cp_worker_start(cp_worker_t *w) {
  int rc = uv_thread_create(&w->thread, run, w);

  if (rc == 0) {
    w->thread_started = 1;
  } else {
    fprintf(stderr, "chainproxy: cannot start worker %d: %s\n", w->index,
            uv_strerror(rc));
  }
  return rc;
}


void cp_worker_stop(cp_worker_t *w, int now) {
  int mode = now ? 2 : 1;

  if (!w->loop_open) {
    return;
  }
  if (__atomic_load_n(&w->stop_mode, __ATOMIC_ACQUIRE) < mode) {
    __atomic_store_n(&w->stop_mode, mode, __ATOMIC_RELEASE);
  }
  uv_async_send(&w->cmd);
}


void cp_worker_join(cp_worker_t *w) {
  if (w->thread_started) {
    uv_thread_join(&w->thread);
    w->thread_started = 0;
  }
}


int cp_worker_close(cp_worker_t *w) {
  int rc = 0;

  if (w->loop_open) {
    abort_all(w);
    cp_listener_stop(&w->listener, NULL);
    close_own(w, (uv_handle_t *)&w->grace);
    close_own(w, (uv_handle_t *)&w->cmd);
    close_own(w, (uv_handle_t *)&w->flush);
    close_own(w, (uv_handle_t *)&w->pool_sweep);
    uv_run(&w->loop, UV_RUN_DEFAULT); /* closes every handle left */
    rc = uv_loop_close(&w->loop);
    w->loop_open = 0;
  }
  SSL_CTX_free(w->tls_server);
  w->tls_server = NULL;
  SSL_CTX_free(w->tls_client);
  w->tls_client = NULL;
  cp_event_queue_free(&w->evq);
  if (w->env.pool != NULL) {
    cp_pool_free(&w->pool);
  }
  cp_chain_free(&w->chain);
  free(w->plain);
  w->plain = NULL;
  free(w->rbuf);
  free(w->wire);
  w->rbuf = w->wire = NULL;
  return rc;
}
