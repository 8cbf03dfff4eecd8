#include "conn_upstream.h"

#include <stdio.h>
#include <string.h>

#include "conn_http.h"
#include "err.h"

static void connect_next(cp_conn_t *c);
static void resolve(cp_conn_t *c);


static void connect_failed(cp_conn_t *c, int err) {
  if (err == UV_ECONNREFUSED) {
    cp_conn_respond_error(c, 502, "connection_refused",
                          "%s:%u refused the connection", c->target.host,
                          c->target.port);
  } else {
    cp_conn_respond_error(c, 502, "connect_failed",
                          "could not connect to %s:%u: %s", c->target.host,
                          c->target.port, uv_strerror(err));
  }
}


static int start_connect(cp_conn_t *c, const struct sockaddr *sa) {
  int rc;

  rc = cp_conn_leg_init(c, &c->upstream);
  if (rc != 0) {
    return rc;
  }
  rc = cp_leg_connect(&c->upstream, sa);
  if (rc != 0) {
    c->last_connect_err = rc;
    c->retry_next = c->next_addr != NULL;
    cp_leg_close(&c->upstream);
    if (!c->retry_next) {
      return rc;
    }
  }
  return 0;
}


static void connect_next(cp_conn_t *c) {
  struct addrinfo *ai = c->next_addr;
  int rc;

  if (ai == NULL) {
    connect_failed(c,
                   c->last_connect_err ? c->last_connect_err : UV_EHOSTUNREACH);
    return;
  }
  c->next_addr = ai->ai_next;
  rc = start_connect(c, ai->ai_addr);
  if (rc != 0) {
    connect_failed(c, rc);
  }
}


static void dns_failed(cp_conn_t *c, int status) {
  cp_conn_respond_error(c, 502, "dns_failure", "DNS lookup of %s failed: %s",
                        c->target.host, uv_strerror(status));
}


static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res) {
  cp_conn_t *c = req->data;

  c->resolving = 0;
  if (c->state != CP_CONN_UPSTREAM_CONNECT) {
    uv_freeaddrinfo(res);
  } else if (status < 0) {
    uv_freeaddrinfo(res);
    dns_failed(c, status);
  } else {
    c->addrs = res;
    c->next_addr = res;
    connect_next(c);
  }
  cp_conn_unref(c); /* the resolver's, taken in resolve() */
}


static void resolve(cp_conn_t *c) {
  struct sockaddr_storage ss;
  struct addrinfo hints;
  char port[8];
  int rc;

  uv_freeaddrinfo(c->addrs);
  c->addrs = NULL;
  c->next_addr = NULL;
  c->last_connect_err = 0;
  /* IP literals skip the resolver (and its thread pool) entirely. */
  if (c->target.host_kind == CP_HOST_IPV4) {
    rc = uv_ip4_addr(c->target.host, c->target.port, (struct sockaddr_in *)&ss);
  } else if (c->target.host_kind == CP_HOST_IPV6) {
    rc =
        uv_ip6_addr(c->target.host, c->target.port, (struct sockaddr_in6 *)&ss);
  } else {
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    snprintf(port, sizeof(port), "%u", c->target.port);
    c->gai.data = c;
    rc = uv_getaddrinfo(c->env->loop, &c->gai, on_resolved, c->target.host,
                        port, &hints);
    if (rc != 0) {
      dns_failed(c, rc);
      return;
    }
    cp_conn_ref(c);
    c->resolving = 1;
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
  if (c->upstream.open) {
    /* Keep-alive to another origin: the old upstream goes first. */
    c->upstream_ok = 0;
    c->reconnect = 1;
    cp_leg_close(&c->upstream);
    return;
  }
  resolve(c);
}


void cp_conn_upstream_on_connect(cp_conn_t *c, int status) {
  static const char established[] = "HTTP/1.1 200 Connection established\r\n"
                                    "Via: 1.1 chainproxy\r\n\r\n";

  if (status < 0) {
    c->last_connect_err = status;
    c->retry_next = c->next_addr != NULL;
    if (!c->retry_next) {
      connect_failed(c, status);
      return;
    }
    cp_leg_close(&c->upstream); /* on_closed tries the next address */
    return;
  }
  uv_freeaddrinfo(c->addrs);
  c->addrs = NULL;
  c->next_addr = NULL;
  cp_conn_touch(c);
  if (c->intercept && c->client_tls_done) {
    cp_conn_go_state(c, CP_CONN_UPSTREAM_TLS); /* a new upstream */
    return;
  }
  if (c->tunnel) {
    if (cp_leg_write(&c->client, established, sizeof(established) - 1) != 0) {
      cp_conn_fail(c, CP_EIO, "client_write_failed");
      return;
    }
    if (c->intercept) {
      cp_conn_go_state(c, CP_CONN_CLIENT_HELLO);
      return;
    }
    c->upstream_ok = 1;
    cp_conn_go_state(c, CP_CONN_TUNNEL);
    return;
  }
  c->upstream_ok = 1;
  cp_conn_go_state(c, CP_CONN_FORWARD);
}


void cp_conn_upstream_on_closed(cp_conn_t *c, cp_leg_t *leg) {
  if (leg != &c->upstream) {
    return;
  }
  if (c->retry_next) {
    c->retry_next = 0;
    connect_next(c);
  } else if (c->reconnect) {
    c->reconnect = 0;
    resolve(c);
  }
}


void cp_conn_upstream_on_eof(cp_conn_t *c, cp_leg_t *leg) {
  (void)leg;
  cp_conn_abort(c, "client_closed");
}


void cp_conn_upstream_on_timeout(cp_conn_t *c, double secs) {
  cp_conn_respond_error(c, 504, "connect_timeout",
                        "connecting to %s:%u timed out after %.1f s",
                        c->target.host, c->target.port, secs);
}
