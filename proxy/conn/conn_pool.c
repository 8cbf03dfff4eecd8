#include "conn/conn_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>


void cp_pool_init(cp_pool_t *p, cp_snaps_t *snaps, uint64_t idle_ms) {
  memset(p, 0, sizeof(*p));
  p->snaps = snaps;
  p->idle_ms =
      idle_ms > 0 && idle_ms < CP_POOL_IDLE_MS ? idle_ms : CP_POOL_IDLE_MS;
}


void cp_pool_entry_free(cp_pool_t *p, cp_pool_entry_t *e) {
  if (e == NULL) {
    return;
  }
  if (e->fd >= 0) {
    close(e->fd);
  }
  cp_tls_free(e->tls);
  cp_resume_blob_unref(e->blob);
  cp_snaps_release(p->snaps, e->snap);
  free(e);
}


void cp_pool_free(cp_pool_t *p) {
  cp_pool_entry_t *e, *next;

  for (e = p->head; e != NULL; e = next) {
    next = e->next;
    cp_pool_entry_free(p, e);
  }
  p->head = NULL;
  p->n = 0;
}


int cp_conn_pool_wanted(const cp_conn_t *c, const cp_rule_t *ru) {
  int on = c->env->cfg->upstream_pool;

  if (ru != NULL && ru->pool != 0) {
    on = ru->pool > 0;
  }
  /* Bridged HTTP/2 chooses its upstream protocol per tunnel. */
  return on && c->env->pool != NULL && c->intercept && c->tunnel &&
         !c->transparent && c->parent == NULL && !c->env->cfg->h2_bridge;
}


/* Unlinks e (whose predecessor is prev, NULL: the head). */
static void unlink_entry(cp_pool_t *p, cp_pool_entry_t *prev,
                         cp_pool_entry_t *e) {
  if (prev == NULL) {
    p->head = e->next;
  } else {
    prev->next = e->next;
  }
  e->next = NULL;
  p->n--;
}


void cp_pool_expire(cp_pool_t *p, uint64_t now) {
  cp_pool_entry_t *e = p->head, *prev = NULL, *next;

  for (; e != NULL; e = next) {
    next = e->next;
    if (now - e->since > p->idle_ms) {
      unlink_entry(p, prev, e);
      cp_pool_entry_free(p, e);
    } else {
      prev = e;
    }
  }
}


int cp_conn_pool_has(cp_conn_t *c) {
  cp_pool_t *p = c->env->pool;
  const cp_pool_entry_t *e;

  cp_pool_expire(p, uv_now(c->env->loop));
  for (e = p->head; e != NULL; e = e->next) {
    if (e->port == c->target.port && strcmp(e->host, c->target.host) == 0) {
      return 1;
    }
  }
  return 0;
}


/* An idle socket is usable when nothing came on it: EOF, an alert or any
 * byte means the origin closed or will not take a request. */
static int quiet(uv_os_sock_t fd) {
  char b;
  ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}


cp_pool_entry_t *cp_conn_pool_take(cp_conn_t *c) {
  cp_pool_t *p = c->env->pool;
  cp_pool_entry_t *e = p->head, *prev = NULL, *next;

  cp_pool_expire(p, uv_now(c->env->loop));
  for (; e != NULL; e = next) {
    next = e->next;
    if (e->port != c->target.port || e->snap != c->snap ||
        strcmp(e->host, c->target.host) != 0 ||
        strcmp(e->name, c->tls.name) != 0) {
      prev = e;
      continue;
    }
    unlink_entry(p, prev, e);
    if (quiet(e->fd)) {
      return e;
    }
    cp_pool_entry_free(p, e); /* closed by the origin meanwhile */
  }
  return NULL;
}


/* The upstream's TLS session is at a record boundary with nothing
 * buffered either way, and speaks HTTP/1.1. */
static int tls_idle(const cp_tls_t *t) {
  const unsigned char *alpn = NULL;
  unsigned alen = 0;

  if (t == NULL || !t->done || t->shut || SSL_pending(t->ssl) > 0 ||
      BIO_ctrl_pending(t->rbio) > 0 || BIO_ctrl_pending(t->wbio) > 0 ||
      (SSL_get_shutdown(t->ssl) & SSL_RECEIVED_SHUTDOWN) != 0) {
    return 0;
  }
  SSL_get0_alpn_selected(t->ssl, &alpn, &alen);
  return alen == 0 || (alen == 8 && memcmp(alpn, "http/1.1", 8) == 0);
}


/* A conn's last exchange ended cleanly: these are its reasons for
 * finishing with the upstream still good for another request. */
static int clean_end(const cp_conn_t *c) {
  static const char *const ok[] = {"done", "client_closed", "idle_timeout"};
  size_t i;

  for (i = 0; c->close_reason != NULL && i < sizeof(ok) / sizeof(ok[0]); i++) {
    if (strcmp(c->close_reason, ok[i]) == 0) {
      return 1;
    }
  }
  return 0;
}


void cp_conn_pool_put(cp_conn_t *c) {
  cp_pool_t *p = c->env->pool;
  cp_pool_entry_t *e, *prev, *last;
  cp_tls_t *tls = NULL;
  uv_os_sock_t fd;

  if (!cp_conn_pool_wanted(c, c->tls.rule) || c->abort ||
      c->env->shutting_down || !clean_end(c) || !c->upstream_ok ||
      c->tls.blocked || !c->tls.client_done || c->tls.pool_blob == NULL ||
      c->h2.proto != NULL || c->http.upgraded || c->shape != NULL ||
      c->fault.applied != 0 || (c->http.head_seen && !c->http.req_done) ||
      !tls_idle(c->upstream.tls)) {
    return;
  }
  e = calloc(1, sizeof(*e));
  if (e == NULL) {
    return;
  }
  if (cp_leg_detach(&c->upstream, &fd, &tls) != 0) {
    free(e);
    return;
  }
  tls->session_slot = NULL; /* the conn's resumption slot goes with it */
  snprintf(e->host, sizeof(e->host), "%s", c->target.host);
  e->port = c->target.port;
  snprintf(e->name, sizeof(e->name), "%s", c->tls.name);
  snprintf(e->server_ip, sizeof(e->server_ip), "%s", c->dial.server_ip);
  e->snap = cp_snaps_retain(p->snaps, c->snap);
  e->fd = fd;
  e->tls = tls;
  e->blob = cp_resume_blob_ref(c->tls.pool_blob);
  e->since = uv_now(c->env->loop);
  cp_pool_expire(p, e->since);
  if (p->n >= CP_POOL_MAX) {
    /* The oldest goes: the list is newest first. */
    for (prev = NULL, last = p->head; last->next != NULL; last = last->next) {
      prev = last;
    }
    unlink_entry(p, prev, last);
    cp_pool_entry_free(p, last);
  }
  e->next = p->head;
  p->head = e;
  p->n++;
}
