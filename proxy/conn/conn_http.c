#include "conn/conn_http.h"

#include <stdio.h>
#include <string.h>

#include "rules/access.h"
#include "conn/conn_fault.h"
#include "conn/conn_judge.h"
#include "base/err.h"
#include "base/host.h"
#include "diag/hs_diag.h"
#include "tls/tls_client.h"
#include "net/transparent.h"


/* One remote client may not take every slot (slow heads, idle sockets):
 * a cap per address, loopback exempt (the local user and benchmarks). */
static int over_client_limit(const cp_conn_t *c) {
  const cp_conn_t *o;
  unsigned n = 0;

  if (c->env->cfg->max_conns_per_client == 0 ||
      cp_host_addr_is_loopback(c->peer)) {
    return 0;
  }
  if (c->env->peers != NULL) { /* counted over every worker at accept */
    return c->peer_conns > c->env->cfg->max_conns_per_client;
  }
  for (o = c->env->conns; o != NULL; o = o->next) {
    n += memcmp(o->peer, c->peer, sizeof(c->peer)) == 0;
  }
  return n > c->env->cfg->max_conns_per_client;
}


/* --mode transparent: the upstream is where the client was going before
 * the kernel redirected it; names come later (SNI, Host). */
static int transparent_start(cp_conn_t *c) {
  cp_http_target_t t;
  char host[64];
  uint16_t port = 0;
  int rc = cp_transparent_dst(&c->client.tcp, c->env->cfg->listen_port,
                              &c->orig_dst, host, sizeof(host), &port);

  if (rc == CP_EINVAL && c->env->cfg->isolate) {
    /* `run --isolate`: a client that uses the proxy variables came to the
     * listener itself; it is served as a forward proxy serves it. */
    return 0;
  }
  if (rc != 0) {
    cp_conn_respond_error(
        c, 400, "not_redirected",
        "chainproxy runs with --mode transparent and this connection came "
        "straight to its listener instead of being redirected by the "
        "kernel (%s; see docs/transparent.md)",
        rc == CP_EINVAL ? "no original destination" : cp_strerror(rc));
    return -1;
  }
  if (c->env->cfg->nallow > 0 &&
      !cp_access_allowed(c->env->cfg->allow, c->env->cfg->nallow, c->peer)) {
    cp_conn_log(c, CP_LOG_WARN, "%s may not use this proxy (see --allow)",
                c->client_addr);
    cp_conn_abort(c, "client_not_allowed"); /* it may not even speak HTTP */
    return -1;
  }
  c->transparent = 1;
  memset(&t, 0, sizeof(t));
  snprintf(t.host, sizeof(t.host), "%s", host);
  t.port = port;
  t.host_kind = strchr(host, ':') ? CP_HOST_IPV6 : CP_HOST_IPV4;
  cp_conn_route(c, &t, c->parent);
  return 0;
}


void cp_conn_http_start(cp_conn_t *c) {
  cp_conn_env_t *env = c->env;

  if ((env->peers != NULL ? c->open_at_accept : env->nconns) >
      env->cfg->max_conns) {
    env->stats->v[CP_STAT_CONN_REFUSED]++;
    cp_conn_respond_error(c, 503, "too_many_connections",
                          "over the limit of %u connections",
                          env->cfg->max_conns);
    return;
  }
  if (over_client_limit(c)) {
    env->stats->v[CP_STAT_CONN_REFUSED]++;
    cp_conn_respond_error(c, 503, "too_many_connections",
                          "%s has more than %u connections open (see "
                          "--max-conns-per-client)",
                          c->client_addr, env->cfg->max_conns_per_client);
    return;
  }
  if (env->cfg->transparent && transparent_start(c) != 0) {
    return;
  }
  cp_conn_go_state(c, CP_CONN_READ_REQUEST);
}


/* Writes what the parser produced to a leg. */
static int flush_out(cp_conn_t *c, cp_leg_t *leg) {
  int rc = 0;

  if (c->http.out.len > 0) {
    rc = cp_leg_write(leg, c->http.out.data, c->http.out.len);
    cp_buf_reset(&c->http.out);
  }
  return rc;
}


static int same_target(const cp_http_target_t *a, const cp_http_target_t *b) {
  return a->port == b->port && strcmp(a->host, b->host) == 0;
}


static int is_passthrough(const cp_config_t *cfg, const char *host) {
  size_t i;

  for (i = 0; i < cfg->npassthrough; i++) {
    if (cp_host_glob_match(cfg->passthrough[i], host)) {
      return 1;
    }
  }
  return 0;
}


/* Decides where the request goes once its head is parsed. Returns nonzero
 * when the conn has answered or failed and the caller must stop. */
/* --allow and --auth, for requests that reach the proxy itself (not the
 * ones inside an intercepted tunnel, which was admitted). 0: go on. */
static int admitted(cp_conn_t *c) {
  const cp_config_t *cfg = c->env->cfg;
  const cp_rule_t *ru;
  const cp_users_t *users;
  size_t vl = 0;
  const char *v, *need;

  if (cfg->nallow > 0 && !cp_access_allowed(cfg->allow, cfg->nallow, c->peer)) {
    cp_conn_respond_error(c, 403, "client_not_allowed",
                          "%s may not use this proxy (see --allow)",
                          c->client_addr);
    return -1;
  }
  /* A rule's credentials for its host, else --auth's and --auth-file's. */
  ru = cp_rules_find(&c->snap->rules, c->http.req.target.host,
                     c->http.req.target.port);
  need = ru != NULL && ru->auth[0] ? ru->auth : cfg->auth;
  users = need == cfg->auth ? c->env->users : NULL;
  if (need == NULL && users == NULL) {
    return 0;
  }
  v = cp_http_msg_field(&c->http.req, "proxy-authorization", &vl);
  if ((need != NULL && cp_access_basic_ok(need, v, vl)) ||
      cp_users_check(users, v, vl)) {
    cp_access_basic_user(v, vl, c->user, sizeof(c->user));
    return 0;
  }
  if (need != cfg->auth) {
    /* the events name the host */
    cp_conn_route(c, &c->http.req.target, c->parent);
    cp_conn_fault_record(c, CP_FAULT_AUTH, 407,
                         "proxy credentials required for %s (rule %s)",
                         c->http.req.target.host, ru->host);
  }
  c->http.extra_header = "Proxy-Authenticate: Basic realm=\"chainproxy\"\r\n";
  cp_conn_respond_error(c, 407, "proxy_auth_required",
                        "%s: send Proxy-Authorization: Basic with the user "
                        "and password of %s (e.g. "
                        "HTTPS_PROXY=http://user:password@host:port)",
                        v ? "wrong credentials"
                          : "this proxy needs credentials",
                        need != cfg->auth ? "the rule for this host"
                        : users != NULL   ? "--auth-file"
                                          : "--auth");
  return -1;
}


/* A request for chainproxy's own listener or control port: forwarding it
 * would loop (a proxy behind chainproxy that is chainproxy again is a
 * chain, not a loop, and passes). */
static int loops(cp_conn_t *c) {
  const cp_config_t *cfg = c->env->cfg;
  const cp_http_target_t *t = &c->http.req.target;
  int local =
      cp_host_is_loopback(t->host) || strcmp(t->host, cfg->listen_host) == 0;

  if (local && (t->port == cfg->listen_port ||
                (cfg->control_host[0] && t->port == cfg->control_port))) {
    char hp[CP_HOSTPORT_MAX];

    cp_conn_respond_error(c, 508, "proxy_loop",
                          "%s is chainproxy itself: forwarding the request "
                          "there would loop",
                          cp_hostport_format(hp, sizeof(hp), t->host, t->port));
    return 1;
  }
  return 0;
}


static int on_request_head(cp_conn_t *c) {
  cp_http_msg_t *req = &c->http.req;

  c->http.head_seen = 1;
  c->http.t_req = cp_conn_now(c);
  if (!c->intercept && !c->transparent &&
      (admitted(c) != 0 || loops(c) || cp_conn_fault_request(c) != 0)) {
    return -1;
  }
  if (c->transparent && !c->intercept && cp_conn_fault_request(c) != 0) {
    return -1; /* clients that do not know of a proxy are never asked for
                  credentials; --allow was checked at accept */
  }
  if (req->is_connect) {
    if (c->requests > 0 || c->upstream_ok || c->tunnel) {
      cp_conn_respond_error(c, 400, "bad_request",
                            "CONNECT must be the first request of a "
                            "connection");
      return -1;
    }
    c->tunnel = 1;
    cp_conn_route(c, &req->target, cp_conn_parent_for(c, &req->target, 1));
    cp_conn_set_intercept(c, !is_passthrough(c->env->cfg, c->target.host));
    cp_conn_emit_connect(c, "CONNECT", c->intercept ? "intercept" : "tunnel");
    cp_conn_go_state(c, CP_CONN_UPSTREAM_CONNECT);
    return c->state == CP_CONN_CLOSING;
  }
  c->http.resp.req_method = req->method;
  c->http.resp.ws_upgrade = req->ws_upgrade;
  c->http.resp.peer_http11 = req->http_major == 1 && req->http_minor >= 1;
  c->http.resp.want_keepalive = req->keepalive_in && !c->env->shutting_down;
  if (c->intercept) {
    /* Decrypted requests go to the tunnel's origin, whatever they name. */
    if (c->tls.blocked) {
      cp_conn_respond(c, 502, c->tls.block_code, cp_conn_block_msg(c),
                      c->tls.block_detail);
      return -1;
    }
    cp_conn_go_state(c, c->upstream_ok ? CP_CONN_FORWARD
                                       : CP_CONN_UPSTREAM_CONNECT);
    return c->state == CP_CONN_CLOSING;
  }
  if (req->target.form != CP_TARGET_ABSOLUTE) { /* transparent: absolute */
    char hp[CP_HOSTPORT_MAX], msg[256];
    const cp_config_t *cfg = c->env->cfg;

    /* The address clients reached: the one they should name. */
    snprintf(msg, sizeof(msg),
             "this is a forward proxy: send absolute-form requests (GET "
             "http://host/path) or use CONNECT for https, e.g. "
             "HTTPS_PROXY=http://%s",
             cp_hostport_format(hp, sizeof(hp),
                                strcmp(cfg->listen_host, "0.0.0.0") == 0 ||
                                        strcmp(cfg->listen_host, "::") == 0
                                    ? "127.0.0.1"
                                    : cfg->listen_host,
                                cfg->listen_port));
    cp_conn_emit_connect(c, cp_http_msg_method_name(req), "forward");
    cp_conn_respond_error(c, 400, "not_absolute_url", "%s", msg);
    return -1;
  }
  if (!c->connect_emitted) {
    cp_conn_route(c, &req->target, c->http.req_parent);
    cp_conn_emit_connect(c, cp_http_msg_method_name(req),
                         c->transparent ? cp_conn_transparent_mode(c)
                                        : "forward");
  }
  if (c->upstream_ok && same_target(&c->target, &req->target) &&
      c->parent == c->http.req_parent) {
    cp_conn_go_state(c, CP_CONN_FORWARD);
  } else {
    cp_conn_route(c, &req->target, c->http.req_parent);
    cp_conn_go_state(c, CP_CONN_UPSTREAM_CONNECT);
  }
  return c->state == CP_CONN_CLOSING;
}


/* The field a CP_EFIELDWS error is about, for the message: a token and
 * spaces (http-parser refused anything else), cut at 64 bytes. */
static const char *field_name_at(const cp_http_msg_t *m) {
  size_t name_len, value_len;
  const char *value;

  return cp_http_msg_field_at(m, m->err_field, &name_len, &value, &value_len);
}


static int field_name_len(const cp_http_msg_t *m) {
  size_t name_len, value_len;
  const char *value;

  cp_http_msg_field_at(m, m->err_field, &name_len, &value, &value_len);
  return name_len > 64 ? 64 : (int)name_len;
}


static void request_error(cp_conn_t *c, int rc) {
  const char *why =
      c->http.req.err_text ? c->http.req.err_text : cp_strerror(rc);

  if (c->http.head_seen) {
    /* The head went upstream already; a broken body cannot be answered. */
    cp_conn_fail(c, rc, "bad_request_body");
    return;
  }
  cp_conn_emit_connect(c, NULL, NULL);
  if (rc == CP_EHDRSIZE) {
    cp_conn_respond_error(c, 431, "headers_too_large",
                          "request head too large: %s (limits: %zu bytes, "
                          "%d fields)",
                          why, c->env->cfg->max_header_bytes,
                          CP_HTTP_MAX_FIELDS);
  } else if (rc == CP_EFIELDWS) {
    cp_conn_respond_error(
        c, 400, "header_name_whitespace", "malformed request: %s: '%.*s'", why,
        field_name_len(&c->http.req), field_name_at(&c->http.req));
  } else if (rc == CP_ETARGET) {
    cp_conn_respond_error(
        c, 400, "bad_target",
        "bad request target '%.*s': expected "
        "http://host/path or, for CONNECT, host:port",
        (int)(c->http.req.url_len > 200 ? 200 : c->http.req.url_len),
        cp_http_msg_url(&c->http.req));
  } else {
    cp_conn_respond_error(c, 400, "bad_request", "malformed request: %s", why);
  }
}


/* "PRI * HTTP/2.0": an HTTP/2 client that did not ask in ALPN (prior
 * knowledge). The origin is asked for h2 on a new connection; the relay
 * or a clear refusal follows (conn_tls, conn_h2). */
static int prior_knowledge(cp_conn_t *c, const char *data, size_t len) {
  if (!c->intercept || !c->tls.client_done || c->requests > 0 ||
      c->http.req_bytes > 0 || len < 3 || memcmp(data, "PRI", 3) != 0) {
    return 0;
  }
  cp_conn_log(c, CP_LOG_INFO,
              "client speaks HTTP/2 without ALPN; asking "
              "the origin for h2");
  c->h2.want = 1;
  cp_conn_stash(c, data, len);
  cp_conn_go_state(c, CP_CONN_UPSTREAM_CONNECT);
  return 1;
}


static void feed_request(cp_conn_t *c, const char *data, size_t len) {
  size_t n = 0;
  int rc;

  if (c->fault.hold) {
    return; /* a rule's "timeout": whatever comes is ignored */
  }
  if (c->transparent && !c->intercept && c->requests == 0 &&
      c->http.req_bytes == 0 && len > 0 && (unsigned char)data[0] == 0x16) {
    /* A TLS record where a request would be: intercepted as a CONNECT
     * to the original destination is; the SNI names the host. */
    c->tunnel = 1;
    cp_conn_set_intercept(c, 1);
    cp_conn_stash(c, data, len);
    cp_conn_go_state(c, CP_CONN_CLIENT_HELLO);
    return;
  }
  if (c->transparent && !c->intercept && !c->tunnel && c->requests == 0 &&
      c->http.req_bytes == 0 && len > 0 &&
      !((unsigned char)data[0] >= 'A' && (unsigned char)data[0] <= 'Z')) {
    /* Neither TLS nor an HTTP request (whose methods are upper-case
     * tokens): relayed as it is to the original destination, recorded
     * as a connection with neither method nor name. */
    c->tunnel = 1;
    cp_conn_set_intercept(c, 0);
    cp_conn_stash(c, data, len);
    cp_conn_emit_connect(c, NULL, cp_conn_transparent_mode(c));
    cp_conn_go_state(c, CP_CONN_UPSTREAM_CONNECT);
    return;
  }
  if (prior_knowledge(c, data, len)) {
    return;
  }
  if (c->http.req_bytes == 0 && len > 0) {
    cp_conn_head_started(c); /* the head deadline starts */
  }
  rc = cp_http_msg_feed(&c->http.req, data, len, &n, &c->http.out);
  c->http.req_bytes += n;
  if (rc < 0) {
    request_error(c, rc);
    return;
  }
  if (c->http.req.head_complete && !c->http.head_seen) {
    if (on_request_head(c) != 0) {
      return;
    }
  }
  if (rc == CP_HTTP_DONE) {
    c->http.req_done = 1;
    c->http.t_req_done = cp_conn_now(c);
    if (n < len) {
      cp_conn_stash(c, data + n, len - n);
    }
    if (c->state == CP_CONN_FORWARD) {
      cp_conn_arm_timer(c); /* now waiting for the first byte */
    }
  }
  if (c->state == CP_CONN_FORWARD && c->upstream_ok &&
      flush_out(c, &c->upstream) != 0) {
    cp_conn_fail(c, CP_EIO, "upstream_write_failed");
  }
}


void cp_conn_http_reset_exchange(cp_conn_t *c) {
  cp_http_msg_reset(&c->http.req);
  cp_http_msg_reset(&c->http.resp);
  /* An idle keep-alive connection holds no message memory: the next
   * exchange allocates its heads again (a malloc beside its crypto). */
  cp_http_msg_free(&c->http.req);
  cp_http_msg_free(&c->http.resp);
  if (c->http.out.len == 0) {
    cp_buf_free(&c->http.out);
  }
  c->http.head_seen = c->http.req_done = 0;
  c->http.resp_started = 0;
  cp_conn_set_resp_sent(c, 0);
  c->http.req_bytes = 0;
}


static void exchange_end(cp_conn_t *c) {
  int keep;

  cp_conn_count_request(c);
  cp_conn_emit_request(c, c->http.resp.status, "ok");
  if (!c->http.resp.keepalive_in || c->upstream.failed || c->upstream.eof) {
    cp_leg_close(&c->upstream);
    cp_conn_set_upstream_ok(c, 0);
  }
  keep = c->http.resp.keepalive_out && c->http.req_done && !c->client.eof &&
         !c->env->shutting_down;
  if (!keep) {
    cp_conn_finish(c, c->env->shutting_down ? "shutdown" : "done");
    return;
  }
  cp_conn_http_reset_exchange(c);
  cp_conn_go_state(c, CP_CONN_READ_REQUEST);
}


/* The origin accepted a WebSocket handshake: from here on both sides
 * speak WebSocket, and the conn relays bytes (TUNNEL) with the tunnel's
 * idle timeout. rest: upstream bytes that came behind the 101. */
static void switch_protocols(cp_conn_t *c, const char *rest, size_t len) {
  cp_conn_count_request(c);
  c->http.upgraded = 1;
  cp_conn_emit_request(c, 101, "upgrade");
  cp_conn_log(c, CP_LOG_INFO, "switched to %s", "WebSocket");
  if (len > 0 && cp_leg_write(&c->client, rest, len) != 0) {
    cp_conn_fail(c, CP_EIO, "client_write_failed");
    return;
  }
  cp_conn_count_relayed(c, 1, len);
  cp_conn_go_state(c, CP_CONN_TUNNEL); /* replays the client's early bytes */
}


static void feed_response(cp_conn_t *c, const char *data, size_t len) {
  size_t n = 0;
  int rc;

  if (!c->http.resp_started) {
    c->http.resp_started = 1;
    c->http.t_first_byte = cp_conn_now(c);
    cp_conn_arm_timer(c); /* from now on, gaps in the body */
  }
  rc = cp_http_msg_feed(&c->http.resp, data, len, &n, &c->http.out);
  if (c->parent != NULL && !c->intercept && !c->resp_sent &&
      c->http.resp.head_complete && c->http.resp.status == 407) {
    /* The parent wants credentials we did not have: not the client's
     * business (its proxy is chainproxy), and not the origin's answer. */
    cp_buf_reset(&c->http.out);
    cp_conn_respond_error(c, 502, "parent_proxy_auth_required",
                          "parent proxy %s wants credentials: \"HTTP/1.1 "
                          "407 %.*s\" (asked for %s:%u)",
                          c->parent->url, (int)c->http.resp.url_len,
                          cp_http_msg_url(&c->http.resp), c->target.host,
                          c->target.port);
    return;
  }
  if (c->http.out.len > 0) {
    cp_conn_set_resp_sent(c, 1);
  }
  if (flush_out(c, &c->client) != 0) {
    cp_conn_fail(c, CP_EIO, "client_write_failed");
    return;
  }
  if (rc < 0) {
    if (!c->resp_sent) {
      if (rc == CP_EUPCLOSED && c->http.resp.head.len == 0) {
        cp_conn_respond_error(c, 502, "upstream_closed",
                              "%s:%u closed the connection without sending "
                              "a response",
                              c->target.host, c->target.port);
      } else if (rc == CP_EFIELDWS) {
        /* RFC 9112 5.1 lets a proxy strip the whitespace instead; the
         * parser framed the message by a name the origin may mean
         * otherwise, so nothing of it is passed on. */
        cp_conn_respond_error(
            c, 502, "upstream_header_name_whitespace",
            "%s:%u sent a response that chainproxy "
            "refuses: %s: '%.*s'",
            c->target.host, c->target.port, c->http.resp.err_text,
            field_name_len(&c->http.resp), field_name_at(&c->http.resp));
      } else {
        cp_conn_respond_error(c, 502, "bad_upstream_response",
                              "%s:%u sent a malformed response: %s",
                              c->target.host, c->target.port,
                              c->http.resp.err_text ? c->http.resp.err_text
                                                    : cp_strerror(rc));
      }
      return;
    }
    cp_conn_emit_request(c, c->http.resp.status, "upstream_truncated");
    cp_conn_fail(c, rc, "upstream_truncated");
    return;
  }
  if (rc == CP_HTTP_DONE && c->http.resp.status == 101) {
    switch_protocols(c, data + n, len - n);
  } else if (rc == CP_HTTP_DONE) {
    if (n < len) {
      /* Bytes after a complete response: the upstream cannot be reused. */
      c->upstream.failed = 1;
    }
    exchange_end(c);
  }
}


/* A redirected plain-HTTP request names its host in Host (the port is
 * the original destination's); through a parent it goes out in absolute
 * form like a proxied one. */
static void transparent_target(cp_conn_t *c, cp_http_msg_t *m) {
  size_t n = 0;
  const char *h = cp_http_msg_field(m, "host", &n);
  cp_http_target_t t;

  if (h == NULL || cp_http_parse_authority(h, n, c->target.port, &t) != 0) {
    t = c->target; /* no usable Host: the address itself */
  }
  t.port = c->target.port;
  t.form = CP_TARGET_ABSOLUTE;
  m->target = t;
}


/* Plain HTTP through a parent proxy goes out in absolute form with the
 * parent's credentials; the choice is made as soon as the target is known,
 * before the head is written. */
static void on_target(cp_http_msg_t *m, void *arg) {
  cp_conn_t *c = arg;

  c->http.req_parent = NULL;
  if (c->transparent && !c->intercept) {
    transparent_target(c, m);
  }
  if (c->intercept || m->target.form != CP_TARGET_ABSOLUTE) {
    return;
  }
  c->http.req_parent = cp_conn_parent_for(c, &m->target, 0);
  if (c->http.req_parent != NULL) {
    m->absolute_out = 1;
    m->proxy_auth =
        c->http.req_parent->auth[0] ? c->http.req_parent->auth : NULL;
  }
}


void cp_conn_http_entry_read_request(cp_conn_t *c) {
  if (c->env->shutting_down && c->http.pending.len == 0) {
    cp_conn_finish(c, "shutdown");
    return;
  }
  c->http.req.on_target = on_target;
  c->http.req.on_target_arg = c;
  cp_leg_want_read(&c->client, 1);
  /* An idle upstream is read too, so its close is noticed. */
  cp_leg_want_read(&c->upstream, c->upstream_ok);
  cp_conn_arm_timer(c);
  cp_conn_replay_pending(c, feed_request);
}


void cp_conn_http_entry_forward(cp_conn_t *c) {
  if (c->http.req_done) {
    c->http.t_req_done = cp_conn_now(c); /* sent upstream just now */
  }
  cp_leg_want_read(&c->client, c->http.pending.len < CP_CONN_PENDING_MAX);
  cp_leg_want_read(&c->upstream, 1);
  cp_conn_arm_timer(c);
  if (flush_out(c, &c->upstream) != 0) {
    cp_conn_fail(c, CP_EIO, "upstream_write_failed");
  }
}


/* An upstream kept for keep-alive talked or closed between exchanges: it
 * cannot be reused. */
static void drop_idle_upstream(cp_conn_t *c) {
  cp_conn_set_upstream_ok(c, 0);
  cp_leg_close(&c->upstream);
}


void cp_conn_http_on_read_data(cp_conn_t *c, cp_leg_t *leg, const char *data,
                               size_t len) {
  if (leg == &c->client) {
    feed_request(c, data, len);
  } else {
    drop_idle_upstream(c);
  }
}


void cp_conn_http_on_exchange_data(cp_conn_t *c, cp_leg_t *leg,
                                   const char *data, size_t len) {
  if (leg == &c->upstream) {
    feed_response(c, data, len);
  } else if (!c->http.req_done) {
    feed_request(c, data, len);
  } else {
    cp_conn_stash(c, data, len);
  }
}


void cp_conn_http_on_read_eof(cp_conn_t *c, cp_leg_t *leg) {
  if (leg == &c->upstream) {
    drop_idle_upstream(c);
    return;
  }
  cp_conn_finish(c, c->http.req_bytes ? "client_closed_mid_request"
                                      : "client_closed");
}


void cp_conn_http_on_forward_eof(cp_conn_t *c, cp_leg_t *leg) {
  if (leg == &c->upstream) {
    feed_response(c, NULL, 0);
    return;
  }
  if (!c->http.req_done) {
    cp_conn_abort(c, "client_closed");
  }
  /* Otherwise the response still goes out, then the conn closes. */
}


/* The upstream refused with a TLS alert once the request was on its way
 * (over TLS 1.3 a server that wants a client certificate does so after
 * the handshake): answered with the handshake's cause and hint. */
static void refused_by_alert(cp_conn_t *c) {
  cp_hs_facts_t f;
  cp_hs_result_t hs;
  char cas[512], msg[700];
  char *detail = NULL;

  cp_conn_judge_refusal(c, c->upstream.tls->err, 0, 0, &f, &hs, cas,
                        sizeof(cas), msg, sizeof(msg), &detail);
  cp_conn_respond(c, 502, "upstream_tls_failed", msg, detail ? detail : "");
  free(detail);
}


void cp_conn_http_on_error(cp_conn_t *c, cp_leg_t *leg, int err) {
  int is_client = leg == &c->client;

  if (!is_client && c->state == CP_CONN_READ_REQUEST) {
    drop_idle_upstream(c);
    return;
  }
  if (!is_client && c->state == CP_CONN_FORWARD && !c->http.resp_started &&
      c->upstream.tls != NULL && c->upstream.tls->alert_in >= 0) {
    refused_by_alert(c);
    return;
  }
  if (!is_client && c->state == CP_CONN_FORWARD && !c->http.resp_started) {
    cp_conn_respond_error(c, 502, "upstream_error",
                          "connection to %s:%u failed: %s", c->target.host,
                          c->target.port, uv_strerror(err));
    return;
  }
  if (c->state == CP_CONN_FORWARD && c->http.resp_started &&
      !c->http.resp_done_evt) {
    /* Cut mid-response (a reset): the exchange still gets its event. */
    c->http.resp_done_evt = 1;
    cp_conn_emit_request(c, c->http.resp.status,
                         is_client ? "client_error" : "upstream_truncated");
  }
  cp_conn_fail(c, err, is_client ? "client_error" : "upstream_error");
}


void cp_conn_http_on_read_timeout(cp_conn_t *c, double secs) {
  if (c->fault.hold) {
    cp_conn_abort(c, "fault_timeout"); /* silent to the end */
    return;
  }
  if (c->http.req_bytes > 0) {
    cp_conn_emit_connect(c, NULL, NULL);
    cp_conn_respond_error(c, 408, "request_timeout",
                          "no complete request head within %.1f s", secs);
    return;
  }
  cp_conn_finish(c, "idle_timeout"); /* an idle keep-alive conn */
}


void cp_conn_http_on_forward_timeout(cp_conn_t *c, double secs) {
  if (!c->http.req_done && !c->http.resp_started) {
    cp_conn_respond_error(c, 408, "request_body_timeout",
                          "the request body stalled for %.1f s "
                          "(--body-idle-timeout)",
                          secs);
  } else if (!c->http.resp_started) {
    cp_conn_respond_error(c, 504, "upstream_timeout",
                          "%s:%u sent no response within %.1f s",
                          c->target.host, c->target.port, secs);
  } else {
    /* A response is under way: all that can be done is to cut it, and
     * say so where people look. */
    cp_conn_log(c, CP_LOG_WARN,
                "response body idle for %.1f s "
                "(--body-idle-timeout): cut after %llu bytes",
                secs, (unsigned long long)c->http.resp.body_bytes);
    cp_conn_emit_request(c, c->http.resp.status, "body_idle_timeout");
    cp_conn_abort(c, "body_idle_timeout");
  }
}


/* Requests waiting on the origin when the grace is over were lost from
 * the log with their URLs: each gets its request event, with the status
 * if a response had begun. A CONNECT counts until it is answered; once
 * it is, the tunnel's own requests are what matter. */
void cp_conn_http_on_cut(cp_conn_t *c, const char *reason) {
  if (!c->http.head_seen || c->http.resp_done_evt ||
      (c->http.req.is_connect && c->state != CP_CONN_UPSTREAM_CONNECT)) {
    return;
  }
  c->http.resp_done_evt = 1;
  cp_conn_emit_request(c, c->http.resp.status, reason);
}
