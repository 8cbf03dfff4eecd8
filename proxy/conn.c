#include "conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_int.h"
#include "err.h"

/* Bytes of a pipelined next request kept while the current one is answered;
 * past this the client is not read until the exchange ends. */
#define PENDING_MAX (64 * 1024)
/* How long a closing conn waits for its last bytes to leave (and for the
 * client to acknowledge them) before the socket is closed anyway. */
#define LINGER_MS 5000

static const char *const state_names[] = {
    "READ_REQUEST", "UPSTREAM_CONNECT", "CLIENT_HELLO", "UPSTREAM_TLS",
    "CLIENT_TLS",   "TUNNEL",           "FORWARD",      "CLOSING",
};

static void conn_feed_request(cp_conn_t *c, const char *data, size_t len);
static void on_leg_data(cp_leg_t *leg, const char *data, size_t len);
static void on_leg_eof(cp_leg_t *leg);
static void on_leg_error(cp_leg_t *leg, int err);
static void on_leg_connect(cp_leg_t *leg, int status);
static void on_leg_drained(cp_leg_t *leg);
static void on_leg_closed(cp_leg_t *leg);

static const cp_leg_cbs_t leg_cbs = {
    on_leg_data,    on_leg_eof,    on_leg_error,
    on_leg_connect, on_leg_drained, on_leg_closed,
    cp_intercept_on_handshake,
};


void cp_conn_log(cp_conn_t *c, cp_log_level_e level, const char *fmt,
                     ...) {
  va_list ap;

  va_start(ap, fmt);
  cp_logv(&c->ctx->log, level, c->id,
          c->target.host[0] ? c->target.host : NULL, c->action, fmt, ap);
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
  return uv_now(c->ctx->loop);
}


void cp_conn_touch(cp_conn_t *c) {
  c->last_activity = cp_conn_now(c);
}


void cp_conn_set_reason(cp_conn_t *c, const char *reason) {
  if (c->close_reason == NULL) {
    c->close_reason = reason;
  }
}


void cp_conn_emit_connect(cp_conn_t *c, const char *method,
                              const char *mode) {
  cp_event_base_t b = cp_conn_base(c);

  if (c->connect_emitted) {
    return;
  }
  c->connect_emitted = 1;
  cp_event_connect(&c->ctx->events, &b, c->client_addr, method, mode);
}


static void conn_free(cp_conn_t *c) {
  cp_ctx_t *ctx = c->ctx;
  cp_event_base_t b;
  cp_event_close_t ev;

  /* Every connection gets exactly one connect and one close event, even
   * one that never sent a parsable request. */
  cp_conn_emit_connect(c, NULL, NULL);
  b = cp_conn_base(c);
  memset(&ev, 0, sizeof(ev));
  ev.reason = c->close_reason ? c->close_reason : "closed";
  ev.bytes_from_client = c->client.bytes_in;
  ev.bytes_to_client = c->client.bytes_out;
  ev.bytes_from_upstream = c->upstream.bytes_in;
  ev.bytes_to_upstream = c->upstream.bytes_out;
  ev.duration_ms = cp_conn_now(c) - c->t_start;
  ev.requests = c->requests;
  cp_event_close(&ctx->events, &b, &ev);
  cp_conn_log(c, CP_LOG_DEBUG, "closed: %s", ev.reason);

  if (c->prev != NULL) {
    c->prev->next = c->next;
  } else {
    ctx->conns = c->next;
  }
  if (c->next != NULL) {
    c->next->prev = c->prev;
  }
  ctx->nconns--;
  uv_freeaddrinfo(c->addrs);
  c->addrs = NULL;
  free(c->verify);
  c->verify = NULL;
  free(c->block_detail);
  c->block_detail = NULL;
  cp_http_msg_free(&c->req);
  cp_http_msg_free(&c->resp);
  cp_buf_free(&c->out);
  cp_buf_free(&c->pending);
  cp_leg_free(&c->client);
  cp_leg_free(&c->upstream);
  free(c);
  if (ctx->shutting_down && ctx->nconns == 0) {
    cp_server_conns_drained(ctx);
  }
}


static void conn_unref(cp_conn_t *c) {
  if (--c->refs == 0) {
    conn_free(c); /* the only free of a conn */
  }
}


static void on_timer_closed(uv_handle_t *h) {
  conn_unref(h->data);
}


/* Closes whatever is still open; the last close callback frees the conn. */
static void conn_close_handles(cp_conn_t *c) {
  cp_leg_close(&c->client);
  cp_leg_close(&c->upstream);
  if (!uv_is_closing((uv_handle_t *)&c->timer)) {
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
  }
  if (c->resolving) {
    uv_cancel((uv_req_t *)&c->gai); /* on_resolved still runs */
  }
}


static uint64_t state_timeout(const cp_conn_t *c) {
  const cp_config_t *cfg = c->ctx->cfg;

  switch (c->state) {
  case CP_CONN_UPSTREAM_CONNECT:
  case CP_CONN_UPSTREAM_TLS:
  case CP_CONN_CLIENT_TLS:
    return cfg->connect_timeout_ms;
  case CP_CONN_TUNNEL:
    return cfg->tunnel_idle_timeout_ms;
  case CP_CONN_CLOSING:
    return LINGER_MS;
  default:
    return cfg->idle_timeout_ms;
  }
}


static void on_timer(uv_timer_t *t);


/* Arms the timer for the current state, counted from the last activity.
 * Activity only updates a timestamp; the timer re-arms itself when it fires
 * early, so reads and writes never touch the timer heap. */
void cp_conn_arm_timer(cp_conn_t *c) {
  uint64_t timeout = state_timeout(c);
  uint64_t idle = cp_conn_now(c) - c->last_activity;

  if (uv_is_closing((uv_handle_t *)&c->timer)) {
    return;
  }
  uv_timer_start(&c->timer, on_timer, idle >= timeout ? 0 : timeout - idle,
                 0);
}


static const char *status_text(int status) {
  switch (status) {
  case 400:
    return "Bad Request";
  case 408:
    return "Request Timeout";
  case 431:
    return "Request Header Fields Too Large";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  default:
    return "Error";
  }
}


static void conn_emit_request(cp_conn_t *c, int status, const char *outcome) {
  cp_event_base_t b = cp_conn_base(c);
  cp_event_request_t r;
  char url[2048];
  char path[2048];
  uint64_t now = cp_conn_now(c);

  if (!c->head_seen || (c->tunnel && !c->intercept)) {
    return;
  }
  memset(&r, 0, sizeof(r));
  if (c->intercept) {
    /* The client sent origin-form inside the tunnel: the event names the
     * full URL it asked for. */
    int v6 = strchr(c->target.host, ':') != NULL;
    char port[8] = "";

    if (c->target.port != 443) {
      snprintf(port, sizeof(port), ":%u", (unsigned)c->target.port);
    }
    snprintf(url, sizeof(url), "https://%s%s%s%s%.*s", v6 ? "[" : "",
             c->target.host, v6 ? "]" : "", port, (int)c->req.url_len,
             cp_http_msg_url(&c->req));
  } else {
    snprintf(url, sizeof(url), "%.*s", (int)c->req.url_len,
             cp_http_msg_url(&c->req));
  }
  if (c->req.origin_len == 0) {
    snprintf(path, sizeof(path), "/");
  } else {
    snprintf(path, sizeof(path), "%.*s", (int)c->req.origin_len,
             c->req.head.data + c->req.origin_off);
  }
  r.method = cp_http_msg_method_name(&c->req);
  r.url = url;
  r.path = path;
  r.status = status;
  r.http_minor = (int)c->req.http_minor;
  r.bytes_from_client = c->req.body_bytes;
  r.bytes_to_client = c->resp.body_bytes;
  r.ttfb_ms = c->resp_started ? c->t_first_byte - c->t_req : 0;
  r.total_ms = now - c->t_req;
  r.outcome = outcome;
  r.scheme = c->intercept ? "https" : "http";
  c->ctx->stats.requests++;
  cp_conn_log(c, CP_LOG_INFO, "%s %s -> %d (%llu bytes, %llu ms)", r.method,
              url, status, (unsigned long long)r.bytes_to_client,
              (unsigned long long)r.total_ms);
  cp_event_request(&c->ctx->events, &b, &r);
}


void cp_conn_respond(cp_conn_t *c, int status, const char *code,
                     const char *msg, const char *detail) {
  cp_event_base_t b = cp_conn_base(c);
  cp_buf_t resp;
  size_t body_len;

  if (c->state == CP_CONN_CLOSING) {
    return;
  }
  cp_conn_log(c, CP_LOG_WARN, "%d %s", status, msg);
  cp_event_error(&c->ctx->events, &b, code, msg, c->action, status);
  conn_emit_request(c, status, code);
  cp_conn_set_reason(c, code);
  if (c->resp_sent) {
    /* Part of a response is out already: all we can do is cut it off. */
    cp_conn_go_state(c, CP_CONN_CLOSING);
    return;
  }
  body_len = strlen("chainproxy: \n") + strlen(msg) +
             (detail ? strlen(detail) : 0);
  cp_buf_init(&resp, body_len + 1024);
  if (cp_buf_appendf(&resp,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: close\r\n"
                     "X-Chainproxy-Error: %s\r\n"
                     "Via: 1.1 chainproxy\r\n"
                     "\r\n"
                     "chainproxy: %s\n%s",
                     status, status_text(status), body_len, code, msg,
                     detail ? detail : "") == 0) {
    c->resp_sent = 1;
    cp_leg_write(&c->client, resp.data, resp.len);
  }
  cp_buf_free(&resp);
  cp_conn_go_state(c, CP_CONN_CLOSING);
}


void cp_conn_respond_error(cp_conn_t *c, int status, const char *code,
                           const char *fmt, ...) {
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  cp_conn_respond(c, status, code, msg, NULL);
}


/* Asynchronous failures all end here: record, then close. */
void cp_conn_fail(cp_conn_t *c, int err, const char *reason) {
  cp_event_base_t b = cp_conn_base(c);

  if (c->state == CP_CONN_CLOSING) {
    return;
  }
  cp_conn_log(c, CP_LOG_INFO, "%s: %s", reason, cp_strerror(err));
  cp_event_error(&c->ctx->events, &b, cp_err_name(err), cp_strerror(err),
                 c->action, 0);
  cp_conn_set_reason(c, reason);
  c->abort = 1;
  cp_conn_go_state(c, CP_CONN_CLOSING);
}


/* Writes what the parser produced to a leg. */
static int conn_flush(cp_conn_t *c, cp_leg_t *leg) {
  int rc = 0;

  if (c->out.len > 0) {
    rc = cp_leg_write(leg, c->out.data, c->out.len);
    cp_buf_reset(&c->out);
  }
  return rc;
}


static void conn_stash(cp_conn_t *c, const char *data, size_t len) {
  if (cp_buf_append(&c->pending, data, len) != 0) {
    cp_conn_fail(c, CP_ENOMEM, "client_overrun");
    return;
  }
  if (c->pending.len >= PENDING_MAX) {
    cp_leg_want_read(&c->client, 0);
  }
}


static int same_target(const cp_http_target_t *a, const cp_http_target_t *b) {
  return a->port == b->port && strcmp(a->host, b->host) == 0;
}


/* Decides where the request goes once its head is parsed. Returns nonzero
 * when the conn has answered or failed and the caller must stop. */
static int conn_on_request_head(cp_conn_t *c) {
  cp_http_msg_t *req = &c->req;

  c->head_seen = 1;
  c->t_req = cp_conn_now(c);
  if (req->is_connect) {
    if (c->requests > 0 || c->upstream_ok || c->tunnel) {
      cp_conn_respond_error(c, 400, "bad_request",
                            "CONNECT must be the first request of a "
                            "connection");
      return -1;
    }
    c->target = req->target;
    c->tunnel = 1;
    c->intercept = !cp_intercept_is_passthrough(c->ctx->cfg,
                                                c->target.host);
    cp_conn_emit_connect(c, "CONNECT", c->intercept ? "intercept" : "tunnel");
    cp_conn_go_state(c, CP_CONN_UPSTREAM_CONNECT);
    return c->state == CP_CONN_CLOSING;
  }
  c->resp.req_method = req->method;
  c->resp.peer_http11 = req->http_major == 1 && req->http_minor >= 1;
  c->resp.want_keepalive = req->keepalive_in && !c->ctx->shutting_down;
  if (c->intercept) {
    /* Decrypted requests go to the tunnel's origin, whatever they name. */
    if (c->blocked) {
      cp_conn_respond(c, 502, c->block_code, c->block_msg, c->block_detail);
      return -1;
    }
    cp_conn_go_state(c, c->upstream_ok ? CP_CONN_FORWARD
                                       : CP_CONN_UPSTREAM_CONNECT);
    return c->state == CP_CONN_CLOSING;
  }
  if (req->target.form != CP_TARGET_ABSOLUTE) {
    cp_conn_emit_connect(c, cp_http_msg_method_name(req), "forward");
    cp_conn_respond_error(c, 400, "not_absolute_url",
                       "this is a forward proxy: send absolute-form requests "
                       "(GET http://host/path) or use CONNECT for https, "
                       "e.g. HTTPS_PROXY=http://127.0.0.1:8080");
    return -1;
  }
  if (!c->connect_emitted) {
    c->target = req->target;
    cp_conn_emit_connect(c, cp_http_msg_method_name(req), "forward");
  }
  if (c->upstream_ok && same_target(&c->target, &req->target)) {
    cp_conn_go_state(c, CP_CONN_FORWARD);
  } else {
    c->target = req->target;
    cp_conn_go_state(c, CP_CONN_UPSTREAM_CONNECT);
  }
  return c->state == CP_CONN_CLOSING;
}


static void conn_request_error(cp_conn_t *c, int rc) {
  const char *why = c->req.err_text ? c->req.err_text : cp_strerror(rc);

  if (c->head_seen) {
    /* The head went upstream already; a broken body cannot be answered. */
    cp_conn_fail(c, rc, "bad_request_body");
    return;
  }
  cp_conn_emit_connect(c, NULL, NULL);
  if (rc == CP_EHDRSIZE) {
    cp_conn_respond_error(c, 431, "headers_too_large",
                       "request head too large: %s (limits: %zu bytes, %d "
                       "fields)", why, c->ctx->cfg->max_header_bytes,
                       CP_HTTP_MAX_FIELDS);
  } else if (rc == CP_ETARGET) {
    cp_conn_respond_error(c, 400, "bad_target",
                       "bad request target '%.*s': expected http://host/path "
                       "or, for CONNECT, host:port",
                       (int)(c->req.url_len > 200 ? 200 : c->req.url_len),
                       cp_http_msg_url(&c->req));
  } else {
    cp_conn_respond_error(c, 400, "bad_request", "malformed request: %s", why);
  }
}


static void conn_feed_request(cp_conn_t *c, const char *data, size_t len) {
  size_t n = 0;
  int rc;

  rc = cp_http_msg_feed(&c->req, data, len, &n, &c->out);
  c->req_bytes += n;
  if (rc < 0) {
    conn_request_error(c, rc);
    return;
  }
  if (c->req.head_complete && !c->head_seen) {
    if (conn_on_request_head(c) != 0) {
      return;
    }
  }
  if (rc == CP_HTTP_DONE) {
    c->req_done = 1;
    if (n < len) {
      conn_stash(c, data + n, len - n);
    }
  }
  if (c->state == CP_CONN_FORWARD && c->upstream_ok &&
      conn_flush(c, &c->upstream) != 0) {
    cp_conn_fail(c, CP_EIO, "upstream_write_failed");
  }
}


void cp_conn_reset_exchange(cp_conn_t *c) {
  cp_http_msg_reset(&c->req);
  cp_http_msg_reset(&c->resp);
  c->head_seen = c->req_done = c->resp_done = 0;
  c->resp_started = c->resp_sent = 0;
  c->req_bytes = 0;
}


static void conn_exchange_end(cp_conn_t *c) {
  int keep;

  c->requests++;
  conn_emit_request(c, c->resp.status, "ok");
  if (!c->resp.keepalive_in || c->upstream.failed || c->upstream.eof) {
    cp_leg_close(&c->upstream);
    c->upstream_ok = 0;
  }
  keep = c->resp.keepalive_out && c->req_done && !c->client.eof &&
         !c->ctx->shutting_down;
  if (!keep) {
    cp_conn_set_reason(c, c->ctx->shutting_down ? "shutdown" : "done");
    cp_conn_go_state(c, CP_CONN_CLOSING);
    return;
  }
  cp_conn_reset_exchange(c);
  cp_conn_go_state(c, CP_CONN_READ_REQUEST);
}


static void conn_feed_response(cp_conn_t *c, const char *data, size_t len) {
  size_t n = 0;
  int rc;

  if (!c->resp_started) {
    c->resp_started = 1;
    c->t_first_byte = cp_conn_now(c);
  }
  rc = cp_http_msg_feed(&c->resp, data, len, &n, &c->out);
  c->resp_sent |= c->out.len > 0;
  if (conn_flush(c, &c->client) != 0) {
    cp_conn_fail(c, CP_EIO, "client_write_failed");
    return;
  }
  if (rc < 0) {
    if (!c->resp_sent) {
      if (rc == CP_EUPCLOSED && c->resp.head.len == 0) {
        cp_conn_respond_error(c, 502, "upstream_closed",
                           "%s:%u closed the connection without sending a "
                           "response", c->target.host, c->target.port);
      } else {
        cp_conn_respond_error(c, 502, "bad_upstream_response",
                           "%s:%u sent a malformed response: %s",
                           c->target.host, c->target.port,
                           c->resp.err_text ? c->resp.err_text
                                            : cp_strerror(rc));
      }
      return;
    }
    conn_emit_request(c, c->resp.status, "upstream_truncated");
    cp_conn_fail(c, rc, "upstream_truncated");
    return;
  }
  if (rc == CP_HTTP_DONE) {
    c->resp_done = 1;
    if (n < len) {
      /* Bytes after a complete response: the upstream cannot be reused. */
      c->upstream.failed = 1;
    }
    conn_exchange_end(c);
  }
}


static void conn_resolve(cp_conn_t *c);
static void conn_connect_next(cp_conn_t *c);


static void conn_connect_failed(cp_conn_t *c, int err) {
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


static int conn_start_connect(cp_conn_t *c, const struct sockaddr *sa) {
  int rc;

  rc = cp_leg_init(&c->upstream, c->ctx->loop, &leg_cbs, c, &c->client);
  if (rc != 0) {
    return rc;
  }
  c->refs++;
  c->client.peer = &c->upstream;
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


static void conn_connect_next(cp_conn_t *c) {
  struct addrinfo *ai = c->next_addr;
  int rc;

  if (ai == NULL) {
    conn_connect_failed(c, c->last_connect_err ? c->last_connect_err
                                               : UV_EHOSTUNREACH);
    return;
  }
  c->next_addr = ai->ai_next;
  rc = conn_start_connect(c, ai->ai_addr);
  if (rc != 0) {
    conn_connect_failed(c, rc);
  }
}


static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res) {
  cp_conn_t *c = req->data;

  c->resolving = 0;
  if (c->state != CP_CONN_UPSTREAM_CONNECT) {
    uv_freeaddrinfo(res);
    conn_unref(c);
    return;
  }
  if (status < 0) {
    uv_freeaddrinfo(res);
    cp_conn_respond_error(c, 502, "dns_failure",
                       "DNS lookup of %s failed: %s", c->target.host,
                       uv_strerror(status));
  } else {
    c->addrs = res;
    c->next_addr = res;
    conn_connect_next(c);
  }
  conn_unref(c);
}


static void conn_resolve(cp_conn_t *c) {
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
    rc = uv_ip4_addr(c->target.host, c->target.port,
                     (struct sockaddr_in *)&ss);
  } else if (c->target.host_kind == CP_HOST_IPV6) {
    rc = uv_ip6_addr(c->target.host, c->target.port,
                     (struct sockaddr_in6 *)&ss);
  } else {
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    snprintf(port, sizeof(port), "%u", c->target.port);
    c->gai.data = c;
    rc = uv_getaddrinfo(c->ctx->loop, &c->gai, on_resolved, c->target.host,
                        port, &hints);
    if (rc != 0) {
      cp_conn_respond_error(c, 502, "dns_failure", "DNS lookup of %s failed: %s",
                         c->target.host, uv_strerror(rc));
      return;
    }
    c->refs++;
    c->resolving = 1;
    return;
  }
  if (rc == 0) {
    rc = conn_start_connect(c, (const struct sockaddr *)&ss);
  }
  if (rc != 0) {
    conn_connect_failed(c, rc);
  }
}


static void on_leg_connect(cp_leg_t *leg, int status) {
  cp_conn_t *c = leg->owner;
  static const char established[] =
      "HTTP/1.1 200 Connection established\r\n"
      "Via: 1.1 chainproxy\r\n\r\n";

  if (status == UV_ECANCELED || c->state != CP_CONN_UPSTREAM_CONNECT) {
    return;
  }
  if (status < 0) {
    c->last_connect_err = status;
    c->retry_next = c->next_addr != NULL;
    if (!c->retry_next) {
      conn_connect_failed(c, status);
      return;
    }
    cp_leg_close(&c->upstream); /* on_leg_closed tries the next address */
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
    if (cp_leg_write(&c->client, established, sizeof(established) - 1) !=
        0) {
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


static void on_leg_closed(cp_leg_t *leg) {
  cp_conn_t *c = leg->owner;

  if (leg == &c->upstream && c->state == CP_CONN_UPSTREAM_CONNECT) {
    if (c->retry_next) {
      c->retry_next = 0;
      conn_connect_next(c);
    } else if (c->reconnect) {
      c->reconnect = 0;
      conn_resolve(c);
    }
  }
  conn_unref(c);
}


static void conn_replay_pending(cp_conn_t *c) {
  cp_buf_t tmp = c->pending;

  if (tmp.len == 0) {
    return;
  }
  cp_buf_init(&c->pending, PENDING_MAX * 2);
  conn_feed_request(c, tmp.data, tmp.len);
  cp_buf_free(&tmp);
}


static void entry_read_request(cp_conn_t *c) {
  c->action = "reading the request";
  if (c->ctx->shutting_down && c->pending.len == 0) {
    cp_conn_set_reason(c, "shutdown");
    cp_conn_go_state(c, CP_CONN_CLOSING);
    return;
  }
  cp_leg_want_read(&c->client, 1);
  /* An idle upstream is read too, so its close is noticed. */
  cp_leg_want_read(&c->upstream, c->upstream_ok);
  cp_conn_arm_timer(c);
  conn_replay_pending(c);
}


static void entry_upstream_connect(cp_conn_t *c) {
  c->action = "connecting to upstream";
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
  conn_resolve(c);
}


static void entry_tunnel(cp_conn_t *c) {
  c->action = "relaying the tunnel";
  cp_leg_want_read(&c->client, 1);
  cp_leg_want_read(&c->upstream, 1);
  cp_conn_arm_timer(c);
  if (c->pending.len > 0) {
    if (cp_leg_write(&c->upstream, c->pending.data, c->pending.len) != 0) {
      cp_conn_fail(c, CP_EIO, "upstream_write_failed");
      return;
    }
    cp_buf_reset(&c->pending);
  }
}


static void entry_forward(cp_conn_t *c) {
  c->action = "forwarding the request";
  cp_leg_want_read(&c->client, c->pending.len < PENDING_MAX);
  cp_leg_want_read(&c->upstream, 1);
  cp_conn_arm_timer(c);
  if (conn_flush(c, &c->upstream) != 0) {
    cp_conn_fail(c, CP_EIO, "upstream_write_failed");
  }
}


static void conn_try_close(cp_conn_t *c) {
  if (c->abort) {
    conn_close_handles(c);
    return;
  }
  /* Upstream: once its bytes are out. Client: once its bytes are out and
   * it has closed its side (or the linger timer fires), so that a response
   * is not destroyed by a reset caused by unread request bytes. */
  if (c->upstream.writes_pending == 0) {
    cp_leg_close(&c->upstream);
  }
  if (c->client.writes_pending == 0 &&
      (c->client.eof || c->client.failed || !c->client.open)) {
    conn_close_handles(c);
  }
}


static void entry_closing(cp_conn_t *c) {
  c->action = "closing";
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
  cp_log(&c->ctx->log, CP_LOG_DEBUG, c->id, NULL, NULL, "%s -> %s",
         state_names[c->state], state_names[st]);
  c->state = st;
  switch (st) {
  case CP_CONN_READ_REQUEST:
    entry_read_request(c);
    break;
  case CP_CONN_UPSTREAM_CONNECT:
    entry_upstream_connect(c);
    break;
  case CP_CONN_CLIENT_HELLO:
    cp_intercept_entry_client_hello(c);
    break;
  case CP_CONN_UPSTREAM_TLS:
    cp_intercept_entry_upstream_tls(c);
    break;
  case CP_CONN_CLIENT_TLS:
    cp_intercept_entry_client_tls(c);
    break;
  case CP_CONN_TUNNEL:
    entry_tunnel(c);
    break;
  case CP_CONN_FORWARD:
    entry_forward(c);
    break;
  case CP_CONN_CLOSING:
    entry_closing(c);
    break;
  }
}


static void on_timer(uv_timer_t *t) {
  cp_conn_t *c = t->data;
  uint64_t timeout = state_timeout(c);
  double secs = (double)timeout / 1000.0;

  if (cp_conn_now(c) - c->last_activity < timeout) {
    cp_conn_arm_timer(c);
    return;
  }
  switch (c->state) {
  case CP_CONN_UPSTREAM_CONNECT:
    cp_conn_respond_error(c, 504, "connect_timeout",
                       "connecting to %s:%u timed out after %.1f s",
                       c->target.host, c->target.port, secs);
    break;
  case CP_CONN_FORWARD:
    if (!c->resp_started) {
      cp_conn_respond_error(c, 504, "upstream_timeout",
                         "%s:%u sent no response within %.1f s",
                         c->target.host, c->target.port, secs);
      break;
    }
    cp_conn_set_reason(c, "idle_timeout");
    c->abort = 1;
    cp_conn_go_state(c, CP_CONN_CLOSING);
    break;
  case CP_CONN_READ_REQUEST:
    if (c->req_bytes > 0) {
      cp_conn_emit_connect(c, NULL, NULL);
      cp_conn_respond_error(c, 408, "request_timeout",
                         "no complete request head within %.1f s", secs);
      break;
    }
    cp_conn_set_reason(c, "idle_timeout");
    cp_conn_go_state(c, CP_CONN_CLOSING); /* an idle keep-alive conn */
    break;
  case CP_CONN_TUNNEL:
    cp_conn_set_reason(c, "idle_timeout");
    c->abort = 1;
    cp_conn_go_state(c, CP_CONN_CLOSING);
    break;
  case CP_CONN_CLIENT_HELLO:
  case CP_CONN_CLIENT_TLS:
  case CP_CONN_UPSTREAM_TLS:
    cp_intercept_timeout(c, secs);
    break;
  case CP_CONN_CLOSING:
    c->abort = 1;
    conn_close_handles(c);
    break;
  }
}


static void on_leg_data(cp_leg_t *leg, const char *data, size_t len) {
  cp_conn_t *c = leg->owner;
  int is_client = leg == &c->client;

  if (c->state != CP_CONN_CLOSING) {
    cp_conn_touch(c); /* a lingering close keeps its fixed deadline */
  }
  switch (c->state) {
  case CP_CONN_TUNNEL:
    if (cp_leg_write(is_client ? &c->upstream : &c->client, data, len) !=
        0) {
      cp_conn_fail(c, CP_EIO, is_client ? "upstream_write_failed"
                                     : "client_write_failed");
    }
    return;
  case CP_CONN_READ_REQUEST:
    if (is_client) {
      conn_feed_request(c, data, len);
    } else {
      /* An idle upstream must not talk; it cannot be reused. */
      c->upstream_ok = 0;
      cp_leg_close(&c->upstream);
    }
    return;
  case CP_CONN_CLIENT_HELLO:
    if (is_client) {
      cp_intercept_hello_bytes(c, data, len);
    }
    return;
  case CP_CONN_CLIENT_TLS:
    return; /* handshake bytes arrive through on_handshake */
  case CP_CONN_FORWARD:
  case CP_CONN_UPSTREAM_CONNECT:
  case CP_CONN_UPSTREAM_TLS:
    if (!is_client) {
      conn_feed_response(c, data, len);
    } else if (!c->req_done) {
      conn_feed_request(c, data, len);
    } else {
      conn_stash(c, data, len);
    }
    return;
  case CP_CONN_CLOSING:
    return; /* lingering: discard */
  }
}


static void on_leg_eof(cp_leg_t *leg) {
  cp_conn_t *c = leg->owner;
  int is_client = leg == &c->client;

  cp_conn_touch(c);
  switch (c->state) {
  case CP_CONN_TUNNEL:
    /* Half-close: pass the FIN on and keep the other direction open. */
    cp_leg_shutdown(is_client ? &c->upstream : &c->client);
    if (c->client.eof && c->upstream.eof) {
      cp_conn_set_reason(c, "done");
      cp_conn_go_state(c, CP_CONN_CLOSING);
    }
    return;
  case CP_CONN_FORWARD:
    if (!is_client) {
      conn_feed_response(c, NULL, 0);
      return;
    }
    if (!c->req_done) {
      cp_conn_set_reason(c, "client_closed");
      c->abort = 1;
      cp_conn_go_state(c, CP_CONN_CLOSING);
    }
    return; /* the response still goes out, then the conn closes */
  case CP_CONN_READ_REQUEST:
    if (!is_client) {
      c->upstream_ok = 0;
      cp_leg_close(&c->upstream);
      return;
    }
    cp_conn_set_reason(c, c->req_bytes ? "client_closed_mid_request"
                                    : "client_closed");
    cp_conn_go_state(c, CP_CONN_CLOSING);
    return;
  case CP_CONN_CLIENT_HELLO:
  case CP_CONN_CLIENT_TLS:
  case CP_CONN_UPSTREAM_TLS:
    cp_intercept_eof(c, is_client);
    return;
  case CP_CONN_UPSTREAM_CONNECT:
    cp_conn_set_reason(c, "client_closed");
    c->abort = 1;
    cp_conn_go_state(c, CP_CONN_CLOSING);
    return;
  case CP_CONN_CLOSING:
    conn_try_close(c);
    return;
  }
}


static void on_leg_error(cp_leg_t *leg, int err) {
  cp_conn_t *c = leg->owner;
  int is_client = leg == &c->client;

  if (c->state == CP_CONN_CLOSING) {
    conn_try_close(c);
    return;
  }
  if (c->state == CP_CONN_CLIENT_HELLO || c->state == CP_CONN_CLIENT_TLS ||
      c->state == CP_CONN_UPSTREAM_TLS) {
    cp_intercept_eof(c, is_client);
    return;
  }
  if (!is_client && c->state == CP_CONN_READ_REQUEST) {
    c->upstream_ok = 0;
    cp_leg_close(&c->upstream);
    return;
  }
  if (!is_client && c->state == CP_CONN_FORWARD && !c->resp_started) {
    cp_conn_respond_error(c, 502, "upstream_error",
                       "connection to %s:%u failed: %s", c->target.host,
                       c->target.port, uv_strerror(err));
    return;
  }
  cp_conn_fail(c, err, is_client ? "client_error" : "upstream_error");
}


static void on_leg_drained(cp_leg_t *leg) {
  cp_conn_t *c = leg->owner;

  cp_conn_touch(c);
  if (c->state == CP_CONN_CLOSING) {
    conn_try_close(c);
  }
}


void cp_conn_accept(cp_ctx_t *ctx) {
  cp_conn_t *c;
  struct sockaddr_storage ss;
  int sslen = sizeof(ss);
  char ip[INET6_ADDRSTRLEN];
  int rc;

  c = calloc(1, sizeof(*c));
  if (c == NULL) {
    cp_log(&ctx->log, CP_LOG_ERROR, 0, NULL, NULL, "out of memory");
    return;
  }
  c->ctx = ctx;
  rc = cp_leg_init(&c->client, ctx->loop, &leg_cbs, c, &c->upstream);
  if (rc != 0) {
    free(c);
    return;
  }
  c->refs = 1;
  uv_timer_init(ctx->loop, &c->timer);
  c->timer.data = c;
  c->refs++;
  c->id = ++ctx->next_conn_id;
  c->state = CP_CONN_READ_REQUEST;
  c->action = "accepting";
  c->t_start = c->last_activity = uv_now(ctx->loop);
  cp_http_msg_init(&c->req, CP_HTTP_REQUEST, ctx->cfg->max_header_bytes);
  cp_http_msg_init(&c->resp, CP_HTTP_RESPONSE, ctx->cfg->max_header_bytes);
  /* Parser output per feed: one read buffer, its chunk framing and a head. */
  cp_buf_init(&c->out, 2 * CP_LEG_RBUF + ctx->cfg->max_header_bytes + 4096);
  cp_buf_init(&c->pending, PENDING_MAX * 2);
  c->next = ctx->conns;
  if (ctx->conns != NULL) {
    ctx->conns->prev = c;
  }
  ctx->conns = c;
  ctx->nconns++;
  ctx->accepted++;

  rc = cp_leg_accept(&c->client, (uv_stream_t *)&ctx->listener);
  if (rc != 0) {
    cp_conn_fail(c, rc, "accept_failed");
    return;
  }
  if (uv_tcp_getpeername(&c->client.tcp, (struct sockaddr *)&ss, &sslen) ==
      0) {
    if (ss.ss_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
      snprintf(c->client_addr, sizeof(c->client_addr), "[%s]:%u", ip,
               ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    } else {
      uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
      snprintf(c->client_addr, sizeof(c->client_addr), "%s:%u", ip,
               ntohs(((struct sockaddr_in *)&ss)->sin_port));
    }
  }
  if (ctx->nconns > ctx->cfg->max_conns) {
    ctx->refused++;
    cp_conn_respond_error(c, 503, "too_many_connections",
                       "over the limit of %u connections",
                       ctx->cfg->max_conns);
    return;
  }
  entry_read_request(c);
}


void cp_conn_shutdown(cp_conn_t *c) {
  if (c->state == CP_CONN_READ_REQUEST && c->req_bytes == 0 &&
      c->pending.len == 0) {
    cp_conn_set_reason(c, "shutdown");
    cp_conn_go_state(c, CP_CONN_CLOSING);
  }
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
