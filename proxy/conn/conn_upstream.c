#include "conn/conn_upstream.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn_http.h"
#include "conn/conn_pool.h"
#include "pki/catalogue.h"
#include "base/err.h"

static void connect_next(cp_conn_t *c);
static void upstream_ready(cp_conn_t *c);
static void resolve(cp_conn_t *c);


/* Where the TCP connection goes: the parent proxy, else the target;
 * with --origins, a name under chainproxy.test (a reserved TLD, RFC 6761:
 * nothing real is there) is the catalogue's case on 127.0.0.1, whatever
 * port was asked, without DNS. */
static const char *dial_host(const cp_conn_t *c, int *kind, uint16_t *port) {
  int i;

  if (c->parent != NULL) {
    *kind = c->parent->host_kind;
    *port = c->parent->port;
    return c->parent->host;
  }
  if (c->env->cfg->origins_port != 0 &&
      (i = cp_catalogue_host_case(c->target.host)) != -1) {
    *kind = CP_HOST_IPV4;
    *port = cp_catalogue_port(c->env->cfg->origins_port, i);
    return "127.0.0.1";
  }
  *kind = (int)c->target.host_kind;
  *port = c->target.port;
  return c->target.host;
}


static void parent_failed(cp_conn_t *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));


/* A parent proxy that did not let us through: the 502 names it, what it
 * said, and the target it was asked for. */
static void parent_failed(cp_conn_t *c, const char *code, const char *fmt,
                          ...) {
  char what[256], msg[1200], hp[CP_HOSTPORT_MAX];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  snprintf(msg, sizeof(msg), "parent proxy %s %s (asked for %s)",
           c->parent->url, what,
           cp_hostport_format(hp, sizeof(hp), c->target.host, c->target.port));
  cp_conn_respond(c, 502, code, msg, NULL);
}


/* The target cannot be reached. A client whose ClientHello came first (a
 * CONNECT deferred for the pool) is inside its TLS handshake: it finishes
 * it and every request gets the answer, as for a refused upstream
 * (conn_tls reads dial.fail_*); any other client gets it now. */
static void dial_failed(cp_conn_t *c, int status, const char *code,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void dial_failed(cp_conn_t *c, int status, const char *code,
                        const char *fmt, ...) {
  cp_event_base_t b;
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (!c->dial.deferred || c->client.tls == NULL || c->tls.client_done) {
    cp_conn_respond(c, status, code, msg, NULL);
    return;
  }
  b = cp_conn_base(c);
  cp_conn_log(c, CP_LOG_WARN, "%d %s", status, msg);
  cp_event_error(c->env->events, &b, code, msg, c->action, status);
  free(c->dial.fail_msg);
  c->dial.fail_msg = strdup(msg);
  c->dial.fail_code = code;
  cp_conn_go_state(c, CP_CONN_UPSTREAM_TLS);
}


static void connect_failed(cp_conn_t *c, int err) {
  if (c->parent != NULL) {
    parent_failed(c, "parent_proxy_unreachable", "could not be reached: %s",
                  uv_strerror(err));
  } else if (err == UV_ECONNREFUSED) {
    dial_failed(c, 502, "connection_refused", "%s:%u refused the connection",
                c->target.host, c->target.port);
  } else {
    dial_failed(c, 502, "connect_failed", "could not connect to %s:%u: %s",
                c->target.host, c->target.port, uv_strerror(err));
  }
}


/* The address being dialled, for the events (serverIPAddress in HAR). */
static void note_address(cp_conn_t *c, const struct sockaddr *sa) {
  const void *a =
      sa->sa_family == AF_INET6
          ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
          : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

  if (inet_ntop(sa->sa_family, a, c->dial.server_ip,
                sizeof(c->dial.server_ip)) == NULL) {
    c->dial.server_ip[0] = '\0';
  }
}


static int start_connect(cp_conn_t *c, const struct sockaddr *sa) {
  int rc;

  note_address(c, sa);
  rc = cp_conn_leg_init(c, &c->upstream);
  if (rc != 0) {
    return rc;
  }
  rc = cp_leg_connect(&c->upstream, sa);
  if (rc != 0) {
    c->dial.last_err = rc;
    c->dial.retry_next = c->dial.next_addr != NULL;
    cp_leg_close(&c->upstream);
    if (!c->dial.retry_next) {
      return rc;
    }
  }
  return 0;
}


static void connect_next(cp_conn_t *c) {
  struct addrinfo *ai = c->dial.next_addr;
  int rc;

  if (ai == NULL) {
    connect_failed(c, c->dial.last_err ? c->dial.last_err : UV_EHOSTUNREACH);
    return;
  }
  c->dial.next_addr = ai->ai_next;
  rc = start_connect(c, ai->ai_addr);
  if (rc != 0) {
    connect_failed(c, rc);
  }
}


static void dns_failed(cp_conn_t *c, int status) {
  if (c->parent != NULL) {
    parent_failed(c, "parent_proxy_unreachable", "could not be resolved: %s",
                  uv_strerror(status));
    return;
  }
  dial_failed(c, 502, "dns_failure", "DNS lookup of %s failed: %s",
              c->target.host, uv_strerror(status));
}


static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res) {
  cp_conn_t *c = req->data;

  c->dial.resolving = 0;
  c->dial.t_resolved = cp_conn_now(c);
  if (c->state != CP_CONN_UPSTREAM_CONNECT) {
    uv_freeaddrinfo(res);
  } else if (status < 0) {
    uv_freeaddrinfo(res);
    dns_failed(c, status);
  } else {
    c->dial.addrs = res;
    c->dial.next_addr = res;
    connect_next(c);
  }
  cp_conn_unref(c); /* the resolver's, taken in resolve() */
}


static void resolve(cp_conn_t *c) {
  struct sockaddr_storage ss;
  struct addrinfo hints;
  char port[8];
  int rc, kind;
  uint16_t dport;
  const char *host = dial_host(c, &kind, &dport);

  uv_freeaddrinfo(c->dial.addrs);
  c->dial.addrs = NULL;
  c->dial.next_addr = NULL;
  c->dial.last_err = 0;
  c->dial.t_dial = c->dial.t_resolved = cp_conn_now(c);
  c->dial.t_connected = 0;
  c->dial.server_ip[0] = '\0';
  if (c->transparent && c->parent == NULL &&
      !(c->env->cfg->origins_port != 0 &&
        cp_catalogue_host_case(c->target.host) != -1)) {
    /* Where the client was going, whatever its names resolve to here
     * (but a catalogue name, which goes to its case as dial_host says:
     * under run --isolate the namespace's resolver gave 127.0.0.1). */
    rc = start_connect(c, (const struct sockaddr *)&c->orig_dst);
    if (rc != 0) {
      connect_failed(c, rc);
    }
    return;
  }
  /* IP literals skip the resolver (and its thread pool) entirely. */
  if (kind == CP_HOST_IPV4) {
    rc = uv_ip4_addr(host, dport, (struct sockaddr_in *)&ss);
  } else if (kind == CP_HOST_IPV6) {
    rc = uv_ip6_addr(host, dport, (struct sockaddr_in6 *)&ss);
  } else {
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    snprintf(port, sizeof(port), "%u", dport);
    c->dial.gai.data = c;
    rc = uv_getaddrinfo(c->env->loop, &c->dial.gai, on_resolved, host, port,
                        &hints);
    if (rc != 0) {
      dns_failed(c, rc);
      return;
    }
    cp_conn_ref(c);
    c->dial.resolving = 1;
    return;
  }
  if (rc == 0) {
    rc = start_connect(c, (const struct sockaddr *)&ss);
  }
  if (rc != 0) {
    connect_failed(c, rc);
  }
}


void cp_conn_upstream_entry(cp_conn_t *c) {
  cp_leg_want_read(&c->client, 0);
  cp_conn_touch(c);
  cp_conn_arm_timer(c);
  if (c->dial.pooled != NULL) {
    /* The pooled connection was the first upstream: a new one is dialled
     * and handshaken (a request waits after the origin closed it). */
    cp_pool_entry_free(c->env->pool, c->dial.pooled);
    c->dial.pooled = NULL;
  }
  if (c->upstream.open) {
    /* Keep-alive to another origin: the old upstream goes first. */
    cp_conn_set_upstream_ok(c, 0);
    c->dial.reconnect = 1;
    cp_leg_close(&c->upstream);
    return;
  }
  if (!c->dial.answered &&
      cp_conn_pool_wanted(
          c, cp_rules_find(&c->snap->rules, c->target.host, c->target.port)) &&
      cp_conn_pool_has(c)) {
    /* An idle connection to this target waits in the pool: the ClientHello
     * names the one to take (its SNI), so it is read first. */
    c->dial.deferred = 1;
    upstream_ready(c);
    return;
  }
  resolve(c);
}


int cp_conn_upstream_take(cp_conn_t *c) {
  cp_pool_entry_t *e;

  if (!cp_conn_pool_wanted(c, c->tls.rule) ||
      (e = cp_conn_pool_take(c)) == NULL) {
    return 0;
  }
  if (cp_conn_leg_init(c, &c->upstream) != 0 ||
      cp_leg_adopt(&c->upstream, e->fd) != 0) {
    cp_pool_entry_free(c->env->pool, e);
    return 0;
  }
  e->fd = -1;
  cp_leg_set0_tls(&c->upstream, e->tls, c->env->plain);
  e->tls = NULL;
  c->dial.pooled = e;
  snprintf(c->dial.server_ip, sizeof(c->dial.server_ip), "%s", e->server_ip);
  c->dial.t_dial = c->dial.t_resolved = c->dial.t_connected = cp_conn_now(c);
  c->env->stats->v[CP_STAT_UPSTREAM_POOLED]++;
  return 1;
}


/* The upstream reaches the target (directly, or through the parent's
 * tunnel): on to the next state. */
static void upstream_ready(cp_conn_t *c) {
  static const char established[] = "HTTP/1.1 200 Connection established\r\n"
                                    "Via: 1.1 chainproxy\r\n\r\n";

  cp_conn_touch(c);
  if (c->intercept &&
      (c->tls.client_done || c->transparent || c->dial.answered)) {
    /* a new upstream, or a client whose hello was read first (redirected,
     * or deferred for the pool) */
    cp_conn_go_state(c, CP_CONN_UPSTREAM_TLS);
    return;
  }
  if (c->tunnel) {
    /* A redirected client (a relayed protocol) asked for no CONNECT; a
     * deferred one was answered before its upstream. */
    if (!c->transparent && !c->dial.answered &&
        cp_leg_write(&c->client, established, sizeof(established) - 1) != 0) {
      cp_conn_fail(c, CP_EIO, "client_write_failed");
      return;
    }
    c->dial.answered = 1;
    if (c->intercept) {
      cp_conn_go_state(c, CP_CONN_CLIENT_HELLO);
      return;
    }
    cp_conn_set_upstream_ok(c, 1);
    if (c->early.len > 0) {
      /* A server-first protocol spoke behind the parent's 200. */
      if (cp_leg_write(&c->client, c->early.data, c->early.len) != 0) {
        cp_conn_fail(c, CP_EIO, "client_write_failed");
        return;
      }
      cp_conn_count_relayed(c, 1, c->early.len);
      cp_buf_reset(&c->early);
    }
    cp_conn_go_state(c, CP_CONN_TUNNEL);
    return;
  }
  cp_conn_set_upstream_ok(c, 1);
  cp_conn_go_state(c, CP_CONN_FORWARD);
}


/* Asks the parent for a tunnel to the target (RFC 9110 9.3.6). */
static void parent_connect(cp_conn_t *c) {
  char hp[CP_HOSTPORT_MAX], req[CP_HOSTPORT_MAX * 2 + 512];
  size_t n = cp_parent_connect_request(
      c->parent,
      cp_hostport_format(hp, sizeof(hp), c->target.host, c->target.port), req,
      sizeof(req));

  cp_buf_reset(&c->early);
  c->dial.parent_wait = 1;
  if (n == 0 || cp_leg_write(&c->upstream, req, n) != 0) {
    cp_conn_fail(c, CP_EIO, "upstream_write_failed");
    return;
  }
  cp_leg_want_read(&c->upstream, 1);
  cp_conn_touch(c);
}


void cp_conn_upstream_on_connect(cp_conn_t *c, int status) {
  if (status < 0) {
    c->dial.last_err = status;
    c->dial.retry_next = c->dial.next_addr != NULL;
    if (!c->dial.retry_next) {
      connect_failed(c, status);
      return;
    }
    cp_leg_close(&c->upstream); /* on_closed tries the next address */
    return;
  }
  c->dial.t_connected = cp_conn_now(c);
  uv_freeaddrinfo(c->dial.addrs);
  c->dial.addrs = NULL;
  c->dial.next_addr = NULL;
  if (c->parent != NULL && c->tunnel) {
    parent_connect(c);
    return;
  }
  upstream_ready(c);
}


/* The parent's answer to CONNECT, as far as it came. */
static void parent_reply(cp_conn_t *c, const char *data, size_t len) {
  cp_parent_reply_t r;
  const char *code;
  char what[400];
  int rc;

  if (cp_buf_append(&c->early, data, len) != 0) {
    parent_failed(c, "parent_proxy_bad_response",
                  "answered CONNECT with a head longer than %zu bytes",
                  c->early.limit);
    return;
  }
  rc = cp_parent_reply_parse(&r, c->early.data, c->early.len, 16 * 1024);
  if (rc == 0) {
    return;
  }
  if (rc < 0) {
    parent_failed(c, "parent_proxy_bad_response",
                  "answered CONNECT with something that is not HTTP "
                  "(\"%.*s\")",
                  (int)(c->early.len < 40 ? c->early.len : 40), c->early.data);
    return;
  }
  code = cp_parent_reply_verdict(&r, what, sizeof(what));
  if (code != NULL) {
    parent_failed(c, code, "%s", what);
    return;
  }
  c->dial.parent_wait = 0;
  cp_buf_consume(&c->early, r.head_len); /* the origin's first bytes */
  if (c->intercept) {
    cp_buf_reset(&c->early); /* TLS: the client speaks first */
  }
  cp_conn_log(c, CP_LOG_INFO, "tunnel through %s: %s", c->parent->url, r.line);
  upstream_ready(c);
}


void cp_conn_upstream_on_data(cp_conn_t *c, cp_leg_t *leg, const char *data,
                              size_t len) {
  if (leg == &c->upstream && c->dial.parent_wait) {
    parent_reply(c, data, len);
    return;
  }
  cp_conn_http_on_exchange_data(c, leg, data, len);
}


void cp_conn_upstream_on_closed(cp_conn_t *c, cp_leg_t *leg) {
  if (leg != &c->upstream) {
    return;
  }
  if (c->dial.retry_next) {
    c->dial.retry_next = 0;
    connect_next(c);
  } else if (c->dial.reconnect) {
    c->dial.reconnect = 0;
    resolve(c);
  }
}


void cp_conn_upstream_on_eof(cp_conn_t *c, cp_leg_t *leg) {
  if (leg == &c->upstream && c->dial.parent_wait) {
    parent_failed(c, "parent_proxy_closed",
                  "closed the connection without answering CONNECT");
    return;
  }
  cp_conn_abort(c, "client_closed");
}


void cp_conn_upstream_on_timeout(cp_conn_t *c, double secs) {
  if (c->parent != NULL) {
    parent_failed(c, "parent_proxy_timeout", "%s within %.1f s",
                  c->dial.parent_wait ? "did not answer CONNECT"
                                      : "could not be connected",
                  secs);
    return;
  }
  dial_failed(c, 504, "connect_timeout",
              "connecting to %s:%u timed out after %.1f s", c->target.host,
              c->target.port, secs);
}
