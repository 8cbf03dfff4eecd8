#include "conn/conn.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/access.h"
#include "base/err.h"
#include "base/host.h"
#include "base/list.h"
#include "conn/conn_pool.h"

/* How long a closing conn waits for its last bytes to leave (and for the
 * client to acknowledge them) before the socket is closed anyway. */
#define LINGER_MS 5000

static const char *const state_names[CP_CONN_STATE_COUNT] = {
    "READ_REQUEST", "UPSTREAM_CONNECT", "CLIENT_HELLO", "UPSTREAM_TLS",
    "CLIENT_TLS",   "TUNNEL",           "FORWARD",      "H2",
    "CLOSING",
};

static void on_leg_data(cp_leg_t *leg, const char *data, size_t len);
static void on_leg_eof(cp_leg_t *leg);
static void on_leg_error(cp_leg_t *leg, int err);
static void on_leg_connect(cp_leg_t *leg, int status);
static void on_leg_drained(cp_leg_t *leg);
static void on_leg_closed(cp_leg_t *leg);
static void on_leg_handshake(cp_leg_t *leg);

static const cp_leg_cbs_t leg_cbs = {
    on_leg_data,    on_leg_eof,    on_leg_error,     on_leg_connect,
    on_leg_drained, on_leg_closed, on_leg_handshake,
};


void cp_conn_log(cp_conn_t *c, cp_log_level_e level, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  cp_logv(c->env->log, level, c->id, c->target.host[0] ? c->target.host : NULL,
          c->action, fmt, ap);
  va_end(ap);
}


cp_event_base_t cp_conn_base(const cp_conn_t *c) {
  cp_event_base_t b;

  b.conn = c->id;
  b.host = c->target.host[0] ? c->target.host : NULL;
  b.port = c->target.port;
  return b;
}


uint64_t cp_conn_now(const cp_conn_t *c) {
  return uv_now(c->env->loop);
}


void cp_conn_touch(cp_conn_t *c) {
  c->last_activity = cp_conn_now(c);
  if (c->compacted) {
    c->compacted = 0;
    cp_conn_arm_timer(c); /* for the next quiet moment */
  }
}


void cp_conn_set_reason(cp_conn_t *c, const char *reason) {
  if (c->close_reason == NULL) {
    c->close_reason = reason;
  }
}


/* ADDR:PORT, [ADDR]:PORT for IPv6. */
static void format_dst(const struct sockaddr_storage *ss, char *out,
                       size_t len) {
  char a[INET6_ADDRSTRLEN] = "?";

  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

    inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
    snprintf(out, len, "[%s]:%u", a, (unsigned)ntohs(s6->sin6_port));
  } else {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

    inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
    snprintf(out, len, "%s:%u", a, (unsigned)ntohs(s4->sin_port));
  }
}


void cp_conn_emit_connect(cp_conn_t *c, const char *method, const char *mode) {
  cp_event_base_t b = cp_conn_base(c);
  char dst[INET6_ADDRSTRLEN + 8];

  if (c->connect_emitted) {
    return;
  }
  c->connect_emitted = 1;
  if (c->transparent) {
    format_dst(&c->orig_dst, dst, sizeof(dst));
  }
  cp_event_connect(c->env->events, &b, c->client_addr, method, mode,
                   c->parent != NULL ? c->parent->url : NULL,
                   c->user[0] ? c->user : NULL, c->transparent ? dst : NULL);
}


const char *cp_conn_transparent_mode(const cp_conn_t *c) {
  return c->env->cfg->isolate ? "isolate" : "transparent";
}


const char *cp_conn_block_msg(const cp_conn_t *c) {
  return c->tls.block_msg != NULL ? c->tls.block_msg : c->tls.block_code;
}


const cp_parent_t *cp_conn_parent_for(const cp_conn_t *c,
                                      const cp_http_target_t *t, int tls) {
  const cp_rule_t *ru = cp_rules_find(&c->snap->rules, t->host, t->port);

  return cp_parents_pick(
      c->env->parents, ru != NULL && ru->parent_set ? &ru->parent : NULL,
      ru != NULL && ru->parent_direct, t->host, t->port, tls);
}


void cp_conn_route(cp_conn_t *c, const cp_http_target_t *t,
                   const cp_parent_t *parent) {
  if (t != &c->target) {
    c->target = *t;
  }
  c->parent = parent;
}


void cp_conn_set_intercept(cp_conn_t *c, int on) {
  c->intercept = on != 0;
}


void cp_conn_set_upstream_ok(cp_conn_t *c, int ok) {
  c->upstream_ok = ok != 0;
}


void cp_conn_set_resp_sent(cp_conn_t *c, int sent) {
  c->resp_sent = sent != 0;
}


void cp_conn_set_shape(cp_conn_t *c, cp_shape_t *shape) {
  c->shape = shape;
  cp_conn_ref(c); /* the shape's timer; released when it closes */
  cp_shape_attach(shape, &c->client, 1);
  if (c->upstream.open) {
    cp_shape_attach(shape, &c->upstream, 0);
  }
}


void cp_conn_head_started(cp_conn_t *c) {
  c->t_head_start = cp_conn_now(c);
}


void cp_conn_count_request(cp_conn_t *c) {
  c->requests++;
}


void cp_conn_count_relayed(cp_conn_t *c, int to_client, size_t len) {
  if (to_client) {
    c->relayed_to_client += len;
  } else {
    c->relayed_from_client += len;
  }
}


static void conn_free(cp_conn_t *c) {
  cp_conn_env_t *env = c->env;
  cp_event_base_t b;
  cp_event_close_t ev;
  unsigned i;

  /* Every connection gets exactly one connect and one close event, even
   * one that never sent a parsable request; a protocol's last request
   * events come before the close. */
  cp_conn_emit_connect(c, NULL, NULL);
  if (c->h2.proto_free != NULL) {
    c->h2.proto_free(c->h2.proto);
  }
  b = cp_conn_base(c);
  memset(&ev, 0, sizeof(ev));
  ev.reason = c->close_reason ? c->close_reason : "closed";
  ev.bytes_from_client = c->client.bytes_in;
  ev.bytes_to_client = c->client.bytes_out;
  ev.bytes_from_upstream = c->upstream.bytes_in;
  ev.bytes_to_upstream = c->upstream.bytes_out;
  ev.duration_ms = cp_conn_now(c) - c->t_start;
  ev.requests = c->requests;
  ev.upgraded = c->http.upgraded;
  ev.relayed_from_client = c->relayed_from_client;
  ev.relayed_to_client = c->relayed_to_client;
  for (i = 0; i < CP_FAULT_COUNT && ev.nfaults < 16; i++) {
    if (c->fault.applied & (1u << i)) {
      ev.faults[ev.nfaults++] = cp_rule_fault_name(i);
    }
  }
  cp_event_close(env->events, &b, &ev);
  cp_conn_log(c, CP_LOG_DEBUG, "closed: %s", ev.reason);

  CP_LIST_UNLINK(env->conns, c);
  env->nconns--;
  env->stats->v[CP_STAT_CONN_OPEN] = env->nconns;
  uv_freeaddrinfo(c->dial.addrs);
  free(c->tls.verify);
  cp_resume_blob_unref(c->tls.pool_blob);
  free(c->dial.fail_msg);
  if (c->dial.pooled != NULL) {
    cp_pool_entry_free(env->pool, c->dial.pooled);
  }
  cp_resume_slot_clear(&c->tls.resume);
  cp_snaps_release(env->snaps, c->snap);
  if (c->counted) {
    __atomic_sub_fetch(&env->peers->open, 1, __ATOMIC_RELAXED);
  }
  if (c->peer_conns > 0) {
    cp_peers_remove(env->peers, c->peer);
  }
  free(c->tls.block_detail);
  free(c->tls.block_msg);
  cp_http_msg_free(&c->http.req);
  cp_http_msg_free(&c->http.resp);
  cp_buf_free(&c->http.out);
  cp_buf_free(&c->http.req_body);
  cp_buf_free(&c->http.resp_body);
  cp_buf_free(&c->http.pending);
  cp_buf_free(&c->early);
  cp_leg_free(&c->client);
  cp_leg_free(&c->upstream);
  free(c);
  if (env->shutting_down && env->nconns == 0 && env->on_drained != NULL) {
    env->on_drained(env);
  }
}


void cp_conn_ref(cp_conn_t *c) {
  c->refs++;
}


void cp_conn_unref(cp_conn_t *c) {
  if (--c->refs == 0) {
    conn_free(c); /* the only free of a conn */
  }
}


static void on_timer_closed(uv_handle_t *h) {
  cp_conn_unref(h->data);
}


static void on_shape_closed(void *arg) {
  cp_conn_unref(arg);
}


/* Closes whatever is still open; the last close callback frees the conn. */
static void conn_close_handles(cp_conn_t *c) {
  cp_leg_close(&c->client);
  cp_leg_close(&c->upstream);
  if (!uv_is_closing((uv_handle_t *)&c->timer)) {
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
  }
  if (c->dial.resolving) {
    uv_cancel((uv_req_t *)&c->dial.gai); /* on_resolved still runs */
  }
  if (c->shape != NULL) {
    cp_shape_close(c->shape, on_shape_closed, c);
    c->shape = NULL;
  }
}


/* The client's TLS handshake: idle (idle, from the last read or write)
 * or its whole deadline (--handshake-timeout, from t_hs_start), whichever
 * comes first. Bytes trickled one at a time push the idle timeout back,
 * never the deadline. */
static uint64_t client_hs_timeout(const cp_conn_t *c, uint64_t idle,
                                  uint64_t *from) {
  uint64_t hs = c->env->cfg->handshake_timeout_ms;

  *from = c->last_activity;
  if (hs == 0 || (idle != 0 && c->last_activity + idle <= c->t_hs_start + hs)) {
    return idle;
  }
  *from = c->t_hs_start;
  return hs;
}


int cp_conn_hs_expired(const cp_conn_t *c) {
  uint64_t hs = c->env->cfg->handshake_timeout_ms;

  return (c->state == CP_CONN_CLIENT_HELLO || c->state == CP_CONN_CLIENT_TLS) &&
         hs != 0 && cp_conn_now(c) >= c->t_hs_start + hs;
}


/* The handshake deadline counts the client's time only: from the moment
 * the proxy waits for the ClientHello (after its 200 to a CONNECT, or the
 * first byte of a redirected connection's record) until the handshake
 * completes, less the time the upstream's handshake, which the client
 * waits on, takes in between (that has --connect-timeout). */
static void hs_clock(cp_conn_t *c, cp_conn_state_e st) {
  uint64_t now = cp_conn_now(c);

  if (st == CP_CONN_CLIENT_HELLO) {
    c->t_hs_start = now;
    c->t_hs_paused = 0;
  } else if (c->state == CP_CONN_CLIENT_HELLO &&
             (st == CP_CONN_UPSTREAM_TLS || st == CP_CONN_UPSTREAM_CONNECT)) {
    c->t_hs_paused = now;
  } else if (st == CP_CONN_CLIENT_TLS && c->t_hs_paused != 0) {
    c->t_hs_start += now - c->t_hs_paused;
    c->t_hs_paused = 0;
  }
}


/* The length of the current state's timeout and the loop time it counts
 * from; 0: no timeout. Most are idle timeouts (from the last read or
 * write); a request head and the wait for a response's first byte are
 * deadlines that bytes do not push back. */
static uint64_t state_timeout(const cp_conn_t *c, uint64_t *from) {
  const cp_config_t *cfg = c->env->cfg;

  *from = c->last_activity;
  switch (c->state) {
  case CP_CONN_UPSTREAM_CONNECT:
  case CP_CONN_UPSTREAM_TLS:
    return cfg->connect_timeout_ms;
  case CP_CONN_CLIENT_HELLO:
    return client_hs_timeout(c, cfg->idle_timeout_ms, from);
  case CP_CONN_CLIENT_TLS:
    return client_hs_timeout(c, cfg->connect_timeout_ms, from);
  case CP_CONN_TUNNEL:
    return cfg->tunnel_idle_timeout_ms;
  case CP_CONN_CLOSING:
    /* Bytes a rule delays are still to go out. */
    return c->shape != NULL ? LINGER_MS + cfg->body_idle_timeout_ms : LINGER_MS;
  case CP_CONN_READ_REQUEST:
    if (c->fault
            .hold) { /* a rule's "timeout": silent until the client gives up */
      return cfg->tunnel_idle_timeout_ms;
    }
    if (c->http.req_bytes > 0) {
      *from = c->t_head_start;
      return cfg->head_timeout_ms;
    }
    return cfg->idle_timeout_ms;
  case CP_CONN_H2:
    if (c->h2.head_pending) { /* the bridge's HTTP/1.1 client */
      *from = c->t_head_start;
      return cfg->head_timeout_ms;
    }
    return c->h2.streams > 0 ? cfg->body_idle_timeout_ms : cfg->idle_timeout_ms;
  case CP_CONN_FORWARD:
    if (c->http.req_done && !c->http.resp_started) {
      *from = c->http.t_req_done;
      return cfg->response_timeout_ms;
    }
    return cfg->body_idle_timeout_ms;
  default:
    return cfg->idle_timeout_ms;
  }
}


static void on_timer(uv_timer_t *t);


/* A connection quiet this long gives its TLS buffers back (an idle
 * tunnel holds no memory BIO buffers); more often would allocate them again
 * for every record of a busy one. */
#define CP_CONN_QUIET_MS 1000


/* Whether the quiet moment is still to come for c. */
static int quiet_pending(const cp_conn_t *c) {
  return !c->compacted && c->state != CP_CONN_CLOSING &&
         (c->client.tls != NULL || c->upstream.tls != NULL);
}


/* Activity only updates a timestamp; the timer re-arms itself when it
 * fires early, so reads and writes do not touch the timer heap (but the
 * first after a quiet moment, which arms it for the next one). Callers
 * re-arm when the kind of timeout changes within a state. The timer is
 * due at the state's timeout or the quiet moment, whichever is first. */
void cp_conn_arm_timer(cp_conn_t *c) {
  uint64_t from;
  uint64_t timeout = state_timeout(c, &from);
  uint64_t now = cp_conn_now(c);
  uint64_t due = timeout != 0 ? from + timeout : UINT64_MAX;

  if (uv_is_closing((uv_handle_t *)&c->timer)) {
    return;
  }
  if (quiet_pending(c) && c->last_activity + CP_CONN_QUIET_MS < due) {
    due = c->last_activity + CP_CONN_QUIET_MS;
  }
  if (due == UINT64_MAX) {
    uv_timer_stop(&c->timer);
    return;
  }
  uv_timer_start(&c->timer, on_timer, due <= now ? 0 : due - now, 0);
}


void cp_conn_fail(cp_conn_t *c, int err, const char *reason) {
  cp_event_base_t b = cp_conn_base(c);

  if (c->state == CP_CONN_CLOSING) {
    return;
  }
  cp_conn_log(c, CP_LOG_INFO, "%s: %s", reason, cp_strerror(err));
  cp_event_error(c->env->events, &b, cp_err_name(err), cp_strerror(err),
                 c->action, 0);
  cp_conn_abort(c, reason);
}


void cp_conn_stash(cp_conn_t *c, const char *data, size_t len) {
  if (cp_buf_append(&c->http.pending, data, len) != 0) {
    cp_conn_fail(c, CP_ENOMEM, "client_overrun");
    return;
  }
  if (c->http.pending.len >= CP_CONN_PENDING_MAX) {
    cp_leg_want_read(&c->client, 0);
  }
}


void cp_conn_replay_pending(cp_conn_t *c,
                            void (*feed)(cp_conn_t *c, const char *data,
                                         size_t len)) {
  cp_buf_t tmp = c->http.pending;

  if (tmp.len == 0) {
    return;
  }
  /* feed may stash again: it gets a fresh buffer, the old bytes stay
   * valid until it returns. */
  cp_buf_init(&c->http.pending, tmp.limit);
  feed(c, tmp.data, tmp.len);
  cp_buf_free(&tmp);
}


int cp_conn_leg_init(cp_conn_t *c, cp_leg_t *leg) {
  cp_leg_t *peer = leg == &c->client ? &c->upstream : &c->client;
  int rc = cp_leg_init(leg, c->env->loop, &leg_cbs, c, peer);

  if (rc != 0) {
    return rc;
  }
  c->refs++;
  peer->peer = leg;
  if (c->env->rbuf != NULL) {
    cp_leg_share_bufs(leg, c->env->rbuf, c->env->wire);
  }
  if (c->shape != NULL) {
    cp_shape_attach(c->shape, leg, leg == &c->client);
  }
  return 0;
}


static void conn_try_close(cp_conn_t *c) {
  if (c->abort) {
    conn_close_handles(c);
    return;
  }
  /* Upstream: once its bytes are out. Client: once its bytes are out and
   * it has closed its side (or the linger timer fires), so that a response
   * is not destroyed by a reset caused by unread request bytes. */
  if (!cp_leg_busy(&c->upstream)) {
    cp_leg_close(&c->upstream);
  }
  if (!cp_leg_busy(&c->client) &&
      (c->client.eof || c->client.failed || !c->client.open)) {
    conn_close_handles(c);
  }
}


static void entry_closing(cp_conn_t *c) {
  cp_leg_want_read(&c->upstream, 0);
  if (c->abort) {
    conn_close_handles(c);
    return;
  }
  cp_leg_shutdown(&c->upstream);
  cp_leg_shutdown(&c->client);
  /* Keep reading the client (and discarding) until it closes. */
  cp_leg_want_read(&c->client, 1);
  cp_conn_touch(c);
  cp_conn_arm_timer(c);
  conn_try_close(c);
}


void cp_conn_go_state(cp_conn_t *c, cp_conn_state_e st) {
  if (c->state == CP_CONN_CLOSING) {
    return; /* there is no way back from closing */
  }
  cp_log(c->env->log, CP_LOG_DEBUG, c->id, NULL, NULL, "%s -> %s",
         state_names[c->state], state_names[st]);
  if (st == CP_CONN_CLOSING && !c->abort &&
      c->env->states[c->state].on_finish != NULL) {
    c->env->states[c->state].on_finish(c);
  }
  hs_clock(c, st);
  c->state = st;
  if (st == CP_CONN_CLOSING) {
    c->action = "closing";
    entry_closing(c);
    return;
  }
  c->action = c->env->states[st].action;
  if (c->env->states[st].entry != NULL) {
    c->env->states[st].entry(c);
  }
}


void cp_conn_finish(cp_conn_t *c, const char *reason) {
  cp_conn_set_reason(c, reason);
  cp_conn_go_state(c, CP_CONN_CLOSING);
}


void cp_conn_abort(cp_conn_t *c, const char *reason) {
  cp_conn_set_reason(c, reason);
  c->abort = 1;
  if (c->state == CP_CONN_CLOSING) {
    conn_close_handles(c);
    return;
  }
  cp_conn_go_state(c, CP_CONN_CLOSING);
}


static const cp_conn_state_ops_t *ops(const cp_conn_t *c) {
  return &c->env->states[c->state];
}


void cp_conn_cut(cp_conn_t *c, const char *reason) {
  if (c->state != CP_CONN_CLOSING && ops(c)->on_cut != NULL) {
    ops(c)->on_cut(c, reason);
  }
  cp_conn_abort(c, reason);
}


static void on_timer(uv_timer_t *t) {
  cp_conn_t *c = t->data;
  uint64_t from;
  uint64_t timeout = state_timeout(c, &from);

  if (quiet_pending(c) &&
      cp_conn_now(c) >= c->last_activity + CP_CONN_QUIET_MS) {
    cp_leg_compact(&c->client);
    cp_leg_compact(&c->upstream);
    c->compacted = 1;
  }
  if (timeout == 0 || cp_conn_now(c) < from + timeout) {
    cp_conn_arm_timer(c);
    return;
  }
  if (c->state == CP_CONN_CLOSING) {
    c->abort = 1;
    conn_close_handles(c);
    return;
  }
  if (ops(c)->on_timeout != NULL) {
    ops(c)->on_timeout(c, (double)timeout / 1000.0);
  } else {
    cp_conn_abort(c, "idle_timeout");
  }
}


static void on_leg_data(cp_leg_t *leg, const char *data, size_t len) {
  cp_conn_t *c = leg->owner;

  if (c->state == CP_CONN_CLOSING) {
    return; /* lingering: discard, and keep the fixed deadline */
  }
  cp_conn_touch(c);
  if (ops(c)->on_data != NULL) {
    ops(c)->on_data(c, leg, data, len);
  }
}


static void on_leg_eof(cp_leg_t *leg) {
  cp_conn_t *c = leg->owner;

  cp_conn_touch(c);
  if (c->state == CP_CONN_CLOSING) {
    conn_try_close(c);
  } else if (ops(c)->on_eof != NULL) {
    ops(c)->on_eof(c, leg);
  }
}


static void on_leg_error(cp_leg_t *leg, int err) {
  cp_conn_t *c = leg->owner;

  if (c->state == CP_CONN_CLOSING) {
    conn_try_close(c);
  } else if (ops(c)->on_error != NULL) {
    ops(c)->on_error(c, leg, err);
  } else {
    cp_conn_fail(c, err, leg == &c->client ? "client_error" : "upstream_error");
  }
}


static void on_leg_connect(cp_leg_t *leg, int status) {
  cp_conn_t *c = leg->owner;

  if (status != UV_ECANCELED && c->state != CP_CONN_CLOSING &&
      ops(c)->on_connect != NULL) {
    ops(c)->on_connect(c, status);
  }
}


static void on_leg_handshake(cp_leg_t *leg) {
  cp_conn_t *c = leg->owner;

  cp_conn_touch(c);
  if (c->state != CP_CONN_CLOSING && ops(c)->on_handshake != NULL) {
    ops(c)->on_handshake(c, leg);
  }
}


static void on_leg_drained(cp_leg_t *leg) {
  cp_conn_t *c = leg->owner;

  cp_conn_touch(c);
  if (c->state == CP_CONN_CLOSING) {
    conn_try_close(c);
  } else if (ops(c)->on_drained != NULL) {
    ops(c)->on_drained(c, leg);
  }
}


static void on_leg_closed(cp_leg_t *leg) {
  cp_conn_t *c = leg->owner;

  if (c->state != CP_CONN_CLOSING && ops(c)->on_closed != NULL) {
    ops(c)->on_closed(c, leg);
  }
  cp_conn_unref(c);
}


static void peer_name(uv_tcp_t *tcp, char *out, size_t len) {
  struct sockaddr_storage ss;
  int sslen = sizeof(ss);
  char ip[INET6_ADDRSTRLEN] = "";
  uint16_t port = 0;

  if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &sslen) != 0) {
    return;
  }
  if (ss.ss_family == AF_INET6 &&
      IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr)) {
    /* A v4 client of a dual-stack listener (run --isolate's) is named
     * as v4 clients are. */
    inet_ntop(AF_INET, ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr + 12, ip,
              sizeof(ip));
    port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  } else if (ss.ss_family == AF_INET6) {
    uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
    port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  } else {
    uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
    port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  }
  cp_hostport_format(out, len, ip, port);
}


void cp_conn_accept(cp_conn_env_t *env, uv_stream_t *server) {
  const cp_config_t *cfg = env->cfg;
  cp_conn_t *c = calloc(1, sizeof(*c));
  int rc;

  if (c == NULL) {
    cp_log(env->log, CP_LOG_ERROR, 0, NULL, NULL, "out of memory");
    return;
  }
  c->env = env;
  if (cp_conn_leg_init(c, &c->client) != 0) {
    free(c);
    return;
  }
  uv_timer_init(env->loop, &c->timer);
  c->timer.data = c;
  c->refs++;
  c->snap = cp_snaps_acquire(env->snaps);
  c->id = env->conn_ids != NULL
              ? __atomic_add_fetch(env->conn_ids, 1, __ATOMIC_RELAXED)
              : ++env->next_id;
  c->state = CP_CONN_READ_REQUEST;
  c->action = "accepting";
  c->t_start = c->last_activity = uv_now(env->loop);
  cp_http_msg_init(&c->http.req, CP_HTTP_REQUEST, cfg->max_header_bytes);
  cp_http_msg_init(&c->http.resp, CP_HTTP_RESPONSE, cfg->max_header_bytes);
  cp_buf_init(&c->http.req_body, cfg->har_bodies);
  cp_buf_init(&c->http.resp_body, cfg->har_bodies);
  if (cfg->har_bodies > 0) {
    cp_http_msg_set_capture(&c->http.req, &c->http.req_body);
    cp_http_msg_set_capture(&c->http.resp, &c->http.resp_body);
  }
  /* Parser output per feed: one read buffer, its chunk framing and a head. */
  cp_buf_init(&c->http.out, 2 * CP_LEG_RBUF + cfg->max_header_bytes + 4096);
  cp_buf_init(&c->http.pending, CP_CONN_PENDING_MAX * 2);
  cp_buf_init(&c->early, CP_CONN_PENDING_MAX);
  CP_LIST_PUSH(env->conns, c);
  env->nconns++;
  env->stats->v[CP_STAT_CONN_ACCEPTED]++;
  env->stats->v[CP_STAT_CONN_OPEN] = env->nconns;

  rc = cp_leg_accept(&c->client, server);
  if (rc != 0) {
    cp_conn_fail(c, rc, "accept_failed");
    return;
  }
  peer_name(&c->client.tcp, c->client_addr, sizeof(c->client_addr));
  cp_access_peer(&c->client.tcp, c->peer);
  if (env->peers != NULL) {
    c->counted = 1;
    c->open_at_accept =
        __atomic_add_fetch(&env->peers->open, 1, __ATOMIC_RELAXED);
    if (cfg->max_conns_per_client > 0 && !cp_host_addr_is_loopback(c->peer)) {
      c->peer_conns = cp_peers_add(env->peers, c->peer);
    }
  }
  env->start(c);
}


void cp_conn_shutdown(cp_conn_t *c) {
  if (c->state == CP_CONN_READ_REQUEST && c->http.req_bytes == 0 &&
      c->http.pending.len == 0) {
    cp_conn_finish(c, "shutdown");
  } else if (c->state != CP_CONN_CLOSING && ops(c)->on_shutdown != NULL) {
    ops(c)->on_shutdown(c);
  }
}
