#include "control.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <uv.h>

#include "ctx.h"
#include "diag.h"
#include "err.h"
#include "tls_io.h"

#define CTL_MAX_URL 4096
#define CTL_MAX_BODY (64 * 1024)
#define CTL_MAX_AUTH 512
#define CTL_SSE_MAX_QUEUE (1024 * 1024) /* a slow stream reader is cut */
#define CTL_MAX_CONNS 64

typedef struct cp_ctl_conn_s cp_ctl_conn_t;

struct cp_control_s {
  cp_ctx_t *ctx;
  uv_tcp_t listener;        /* embedded */
  int listening;
  int stopping;
  int handles;              /* open: listener + conns */
  cp_ctl_conn_t *conns;     /* list of live conns */
  unsigned nconns;
  uint64_t started_ms;
};

struct cp_ctl_conn_s {
  uv_tcp_t tcp;             /* embedded; the conn is freed on its close */
  cp_control_t *ctl;
  cp_ctl_conn_t *prev, *next;
  http_parser parser;
  cp_buf_t url;
  cp_buf_t body;
  char field[32];
  size_t field_len;
  int last_was_value;
  int in_auth;
  char auth[CTL_MAX_AUTH + 1];
  size_t auth_len;
  int have_auth;
  int allowed;              /* peer address allowed */
  int sse;                  /* streaming events */
  int closing;
  int close_after_write;
  char rbuf[8192];
};

typedef struct {
  uv_write_t req;
  cp_ctl_conn_t *conn;
  char data[];
} ctl_write_t;


static void conn_closed(uv_handle_t *h) {
  cp_ctl_conn_t *c = h->data;
  cp_control_t *ctl = c->ctl;

  cp_buf_free(&c->url);
  cp_buf_free(&c->body);
  free(c);
  ctl->handles--;
  if (ctl->stopping && ctl->handles == 0) {
    ctl->ctx->control = NULL;
    free(ctl);
  }
}


static void conn_close(cp_ctl_conn_t *c) {
  cp_control_t *ctl = c->ctl;

  if (c->closing) {
    return;
  }
  c->closing = 1;
  if (c->prev != NULL) {
    c->prev->next = c->next;
  } else {
    ctl->conns = c->next;
  }
  if (c->next != NULL) {
    c->next->prev = c->prev;
  }
  ctl->nconns--;
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
}


static void on_written(uv_write_t *req, int status) {
  ctl_write_t *w = (ctl_write_t *)req;
  cp_ctl_conn_t *c = w->conn;

  free(w);
  if (status < 0 || (c->close_after_write &&
                     uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp)
                         == 0)) {
    conn_close(c);
  }
}


static void conn_write(cp_ctl_conn_t *c, const char *data, size_t len) {
  ctl_write_t *w;
  uv_buf_t b;

  if (c->closing) {
    return;
  }
  w = malloc(sizeof(*w) + len);
  if (w == NULL) {
    conn_close(c);
    return;
  }
  memcpy(w->data, data, len);
  w->conn = c;
  b = uv_buf_init(w->data, (unsigned)len);
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
    free(w);
    conn_close(c);
  }
}


static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 413:
    return "Payload Too Large";
  default:
    return "Internal Server Error";
  }
}


/* ---- responses ---------------------------------------------------------- */

static void resp_json(cp_control_resp_t *r, int status, json_t *o) {
  char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);

  r->status = status;
  r->content_type = "application/json";
  cp_buf_reset(&r->body);
  if (s == NULL || cp_buf_append_str(&r->body, s) != 0 ||
      cp_buf_append(&r->body, "\n", 1) != 0) {
    r->status = 500;
    cp_buf_reset(&r->body);
    cp_buf_append_str(&r->body, "{\"error\":\"out of memory\"}\n");
  }
  free(s);
  json_decref(o);
}


static void resp_error(cp_control_resp_t *r, int status, const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));
static void resp_error(cp_control_resp_t *r, int status, const char *fmt,
                       ...) {
  char msg[600];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  resp_json(r, status, json_pack("{s:s}", "error", msg));
}


static int method_is(const char *m, const char *want, cp_control_resp_t *r,
                     const char *allow) {
  if (strcmp(m, want) == 0 || (strcmp(want, "GET") == 0 &&
                               strcmp(m, "HEAD") == 0)) {
    return 1;
  }
  r->allow = allow;
  resp_error(r, 405, "method %s not allowed here (allowed: %s)", m, allow);
  return 0;
}


/* ---- endpoints ---------------------------------------------------------- */

static void get_pem(cp_control_resp_t *r, X509 *x) {
  BIO *b = BIO_new(BIO_s_mem());
  char *data;
  long len;

  if (b == NULL || PEM_write_bio_X509(b, x) != 1) {
    BIO_free(b);
    resp_error(r, 500, "cannot encode the certificate");
    return;
  }
  len = BIO_get_mem_data(b, &data);
  r->status = 200;
  r->content_type = "application/x-pem-file";
  cp_buf_reset(&r->body);
  cp_buf_append(&r->body, data, (size_t)len);
  BIO_free(b);
}


static json_t *rules_json(const cp_ctx_t *ctx) {
  json_t *arr = json_array();
  int i;

  for (i = 0; i < ctx->rules.n; i++) {
    const cp_rule_t *ru = &ctx->rules.r[i];

    json_array_append_new(arr, json_pack(
        "{s:s,s:o,s:s}", "host", ru->host, "port",
        ru->port ? json_integer(ru->port) : json_null(), "chain",
        ctx->serve.profiles.p[ru->profile].name));
  }
  return json_pack("{s:o,s:s}", "rules", arr, "default",
                   ctx->serve.profiles.p[ctx->serve.default_profile].name);
}


static void put_rule(cp_ctx_t *ctx, const char *host, const char *body,
                     size_t len, cp_control_resp_t *r) {
  json_error_t jerr;
  json_t *doc = json_loadb(body, len, 0, &jerr);
  json_t *chain, *port;
  const char *key;
  json_t *v;
  char list[512];
  int profile;
  uint16_t p = 0;

  if (doc == NULL) {
    resp_error(r, 400, "body is not JSON: line %d, column %d: %s",
               jerr.line, jerr.column, jerr.text);
    return;
  }
  if (!json_is_object(doc)) {
    resp_error(r, 400, "body must be an object like {\"chain\": "
               "\"legacy\", \"port\": 443}");
    goto out;
  }
  json_object_foreach(doc, key, v) {
    if (strcmp(key, "chain") != 0 && strcmp(key, "port") != 0) {
      resp_error(r, 400, "unknown field \"%s\" (fields: chain, port)", key);
      goto out;
    }
  }
  chain = json_object_get(doc, "chain");
  port = json_object_get(doc, "port");
  if (!json_is_string(chain)) {
    resp_error(r, 400, "\"chain\" must name a profile");
    goto out;
  }
  profile = cp_profiles_find(&ctx->serve.profiles, json_string_value(chain));
  if (profile < 0) {
    cp_profiles_list(&ctx->serve.profiles, list, sizeof(list));
    resp_error(r, 400, "unknown profile '%s' (profiles: %s)",
               json_string_value(chain), list);
    goto out;
  }
  if (port != NULL && !json_is_null(port)) {
    if (!json_is_integer(port) || json_integer_value(port) < 1 ||
        json_integer_value(port) > 65535) {
      resp_error(r, 400, "\"port\" must be a number from 1 to 65535");
      goto out;
    }
    p = (uint16_t)json_integer_value(port);
  }
  if (cp_rules_put(&ctx->rules, host, p, profile) != 0) {
    resp_error(r, 400, "cannot add the rule (at most %d rules)",
               CP_RULES_MAX);
    goto out;
  }
  cp_log(&ctx->log, CP_LOG_INFO, 0, host, NULL, "control: rule for %s "
         "(port %s%u) -> %s", host, p ? "" : "any, ", (unsigned)p,
         ctx->serve.profiles.p[profile].name);
  resp_json(r, 200, json_pack("{s:{s:s,s:o,s:s}}", "rule", "host", host,
                              "port", p ? json_integer(p) : json_null(),
                              "chain", ctx->serve.profiles.p[profile].name));
out:
  json_decref(doc);
}


typedef struct {
  cp_buf_t *out;
  size_t n;
  uint64_t last;
} collect_t;


static void collect_event(void *arg, uint64_t id, const char *kind,
                          const char *json, size_t len) {
  collect_t *c = arg;

  (void)kind;
  if (c->n++ > 0) {
    cp_buf_append(c->out, ",", 1);
  }
  cp_buf_append(c->out, json, len);
  c->last = id;
}


/* since/limit from a query string; -1 when malformed. */
static int query_u64(const char *q, const char *name, unsigned long long def,
                     unsigned long long max, unsigned long long *out) {
  size_t nl = strlen(name);
  const char *p = q;

  *out = def;
  while (p != NULL && *p != '\0') {
    if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
      char *end;
      const char *v = p + nl + 1;

      if (*v < '0' || *v > '9') {
        return -1;
      }
      *out = strtoull(v, &end, 10);
      if ((*end != '\0' && *end != '&') || *out > max) {
        return -1;
      }
      return 0;
    }
    p = strchr(p, '&');
    p = p ? p + 1 : NULL;
  }
  return 0;
}


static void get_events(cp_ctx_t *ctx, const char *query,
                       cp_control_resp_t *r) {
  unsigned long long since, limit;
  collect_t c;
  uint64_t dropped;
  char tail[128];

  if (query_u64(query, "since", 0, UINT64_MAX / 2, &since) != 0 ||
      query_u64(query, "limit", 100, 1000, &limit) != 0 || limit == 0) {
    resp_error(r, 400, "since must be an event id and limit a number from "
               "1 to 1000");
    return;
  }
  cp_buf_reset(&r->body);
  cp_buf_append_str(&r->body, "{\"events\":[");
  c.out = &r->body;
  c.n = 0;
  c.last = since;
  dropped = cp_events_query(&ctx->events, since, (size_t)limit,
                            collect_event, &c);
  if (dropped > 0 && c.n == 0) {
    c.last = since + dropped;
  }
  snprintf(tail, sizeof(tail), "],\"next\":%llu,\"dropped\":%llu}\n",
           (unsigned long long)c.last, (unsigned long long)dropped);
  cp_buf_append_str(&r->body, tail);
  r->status = 200;
  r->content_type = "application/json";
}


/* The label of stats.alerts[i]: the alert's RFC name, "none" for a
 * client that just closed. */
static const char *alert_label(int i) {
  const char *n = i < 256 ? cp_tls_alert_name(i) : "none";

  return n ? n : "unknown";
}


static json_t *stats_json(cp_ctx_t *ctx) {
  const cp_stats_t *s = &ctx->stats;
  json_t *alerts = json_object(), *causes = json_object();
  int i;

  for (i = 0; i < 257; i++) {
    if (s->alerts[i] > 0) {
      json_object_set_new(alerts, alert_label(i),
                          json_integer((json_int_t)s->alerts[i]));
    }
  }
  for (i = 0; i < CP_CAUSE_NONE; i++) {
    if (s->by_cause[i] > 0) {
      json_object_set_new(causes, cp_cause_name(i),
                          json_integer((json_int_t)s->by_cause[i]));
    }
  }
  return json_pack(
      "{s:{s:I,s:I,s:I},s:I,s:{s:I,s:I,s:o},s:{s:I,s:I,s:I,s:o},"
      "s:{s:I,s:I,s:I,s:I},s:{s:I},s:{s:i,s:I,s:I}}",
      "connections", "accepted", (json_int_t)ctx->accepted, "open",
      (json_int_t)ctx->nconns, "refused", (json_int_t)ctx->refused,
      "requests", (json_int_t)s->requests,
      "client_handshakes", "accepted", (json_int_t)s->handshakes_accepted,
      "refused", (json_int_t)s->handshakes_refused, "refused_by_alert",
      alerts,
      "upstream_verify", "ok", (json_int_t)s->verify_ok, "failed",
      (json_int_t)s->verify_failed, "tls_failed",
      (json_int_t)s->upstream_tls_failed, "failed_by_cause", causes,
      "leaves", "minted", (json_int_t)ctx->minted, "cache_hits",
      (json_int_t)ctx->leaves.hits, "cache_misses",
      (json_int_t)ctx->leaves.misses, "cached", (json_int_t)ctx->leaves.count,
      "events", "recorded", (json_int_t)(ctx->events.next_id - 1),
      "rules", "count", ctx->rules.n, "reloads",
      (json_int_t)s->rules_reloads, "reload_failures",
      (json_int_t)s->rules_reload_failures);
}


static void metric(cp_buf_t *b, const char *name, const char *type,
                   const char *help) {
  cp_buf_appendf(b, "# HELP chainproxy_%s %s\n# TYPE chainproxy_%s %s\n",
                 name, help, name, type);
}


static void get_metrics(cp_ctx_t *ctx, cp_control_resp_t *r) {
  const cp_stats_t *s = &ctx->stats;
  cp_buf_t *b = &r->body;
  int i;

  cp_buf_reset(b);
  metric(b, "connections_total", "counter", "Client connections accepted.");
  cp_buf_appendf(b, "chainproxy_connections_total %llu\n",
                 (unsigned long long)ctx->accepted);
  metric(b, "connections_open", "gauge", "Client connections open now.");
  cp_buf_appendf(b, "chainproxy_connections_open %u\n", ctx->nconns);
  metric(b, "connections_refused_total", "counter",
         "Connections refused over --max-conns.");
  cp_buf_appendf(b, "chainproxy_connections_refused_total %llu\n",
                 (unsigned long long)ctx->refused);
  metric(b, "requests_total", "counter", "HTTP exchanges relayed or "
         "answered.");
  cp_buf_appendf(b, "chainproxy_requests_total %llu\n",
                 (unsigned long long)s->requests);
  metric(b, "client_handshakes_total", "counter",
         "TLS handshakes with clients, by result.");
  cp_buf_appendf(b, "chainproxy_client_handshakes_total{result=\"accepted\"}"
                 " %llu\nchainproxy_client_handshakes_total{result="
                 "\"refused\"} %llu\n",
                 (unsigned long long)s->handshakes_accepted,
                 (unsigned long long)s->handshakes_refused);
  metric(b, "client_rejections_total", "counter",
         "Served chains refused by clients, by the TLS alert they sent.");
  for (i = 0; i < 257; i++) {
    if (s->alerts[i] > 0) {
      cp_buf_appendf(b, "chainproxy_client_rejections_total{alert=\"%s\"} "
                     "%llu\n", alert_label(i),
                     (unsigned long long)s->alerts[i]);
    }
  }

  metric(b, "upstream_verify_total", "counter",
         "Upstream certificate verifications, by result.");
  cp_buf_appendf(b, "chainproxy_upstream_verify_total{result=\"ok\"} %llu\n"
                 "chainproxy_upstream_verify_total{result=\"failed\"} %llu\n"
                 "chainproxy_upstream_verify_total{result=\"tls_failed\"} "
                 "%llu\n", (unsigned long long)s->verify_ok,
                 (unsigned long long)s->verify_failed,
                 (unsigned long long)s->upstream_tls_failed);
  metric(b, "upstream_verify_failures_total", "counter",
         "Upstream verification failures, by diagnosed cause.");
  for (i = 0; i < CP_CAUSE_NONE; i++) {
    if (s->by_cause[i] > 0) {
      cp_buf_appendf(b, "chainproxy_upstream_verify_failures_total{cause="
                     "\"%s\"} %llu\n", cp_cause_name(i),
                     (unsigned long long)s->by_cause[i]);
    }
  }

  metric(b, "leaves_minted_total", "counter", "Leaf certificates minted.");
  cp_buf_appendf(b, "chainproxy_leaves_minted_total %llu\n",
                 (unsigned long long)ctx->minted);
  metric(b, "leaf_cache_lookups_total", "counter",
         "Leaf cache lookups, by result.");
  cp_buf_appendf(b, "chainproxy_leaf_cache_lookups_total{result=\"hit\"} "
                 "%llu\nchainproxy_leaf_cache_lookups_total{result=\"miss\"}"
                 " %llu\n", (unsigned long long)ctx->leaves.hits,
                 (unsigned long long)ctx->leaves.misses);
  metric(b, "events_total", "counter", "Events recorded.");
  cp_buf_appendf(b, "chainproxy_events_total %llu\n",
                 (unsigned long long)(ctx->events.next_id - 1));
  r->status = 200;
  r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}


void cp_control_route(cp_ctx_t *ctx, const char *method, const char *target,
                      const char *authorization, const char *body,
                      size_t body_len, cp_control_resp_t *r) {
  const char *token = ctx->cfg->control_token;
  char path[CTL_MAX_URL + 1];
  const char *query;
  size_t plen;

  memset(r, 0, sizeof(*r));
  cp_buf_init(&r->body, 8 * 1024 * 1024);
  query = strchr(target, '?');
  plen = query ? (size_t)(query - target) : strlen(target);
  if (plen == 0 || plen > CTL_MAX_URL || target[0] != '/') {
    resp_error(r, 400, "the target must be an absolute path");
    return;
  }
  memcpy(path, target, plen);
  path[plen] = '\0';
  query = query ? query + 1 : "";
  if (token != NULL && strcmp(path, "/healthz") != 0) {
    size_t tl = strlen(token);

    if (authorization == NULL || strncmp(authorization, "Bearer ", 7) != 0 ||
        strlen(authorization + 7) != tl ||
        CRYPTO_memcmp(authorization + 7, token, tl) != 0) {
      resp_error(r, 401, "send Authorization: Bearer <--control-token>");
      return;
    }
  }
  if (strcmp(path, "/healthz") == 0) {
    if (method_is(method, "GET", r, "GET")) {
      resp_json(r, 200, json_pack("{s:b,s:s,s:I}", "ok", 1, "version",
                                  CP_VERSION, "uptime_ms",
                                  (json_int_t)(uv_now(ctx->loop) -
                                               ctx->control->started_ms)));
    }
  } else if (strcmp(path, "/ca.pem") == 0) {
    if (method_is(method, "GET", r, "GET")) {
      get_pem(r, ctx->ca.root);
    }
  } else if (strcmp(path, "/ca/legacy-root.pem") == 0) {
    if (method_is(method, "GET", r, "GET")) {
      get_pem(r, ctx->ca.legacy_root);
    }
  } else if (strcmp(path, "/rules") == 0) {
    if (method_is(method, "GET", r, "GET")) {
      resp_json(r, 200, rules_json(ctx));
    }
  } else if (strncmp(path, "/rules/", 7) == 0) {
    const char *host = path + 7;

    if (!cp_rules_host_ok(host)) {
      resp_error(r, 400, "'%s' is not a host name or glob", host);
    } else if (strcmp(method, "PUT") == 0) {
      put_rule(ctx, host, body, body_len, r);
    } else if (strcmp(method, "DELETE") == 0) {
      int n = cp_rules_delete(&ctx->rules, host);

      if (n == 0) {
        resp_error(r, 404, "no rule for '%s'", host);
      } else {
        resp_json(r, 200, json_pack("{s:s,s:i}", "deleted", host, "rules",
                                    n));
      }
    } else {
      r->allow = "PUT, DELETE";
      resp_error(r, 405, "method %s not allowed here (allowed: PUT, DELETE)",
                 method);
    }
  } else if (strcmp(path, "/events") == 0) {
    if (method_is(method, "GET", r, "GET")) {
      get_events(ctx, query, r);
    }
  } else if (strcmp(path, "/events/stream") == 0) {
    if (method_is(method, "GET", r, "GET")) {
      r->sse_replay = strncmp(query, "since=", 6) == 0 ||
                      strstr(query, "&since=") != NULL;
      if (query_u64(query, "since", 0, UINT64_MAX / 2, &r->sse_since) !=
          0) {
        resp_error(r, 400, "since must be an event id");
        return;
      }
      r->status = 200;
      r->sse = 1;
      r->content_type = "text/event-stream";
    }
  } else if (strcmp(path, "/stats") == 0) {
    if (method_is(method, "GET", r, "GET")) {
      resp_json(r, 200, stats_json(ctx));
    }
  } else if (strcmp(path, "/metrics") == 0) {
    if (method_is(method, "GET", r, "GET")) {
      get_metrics(ctx, r);
    }
  } else {
    resp_error(r, 404, "no such endpoint: %s (see docs/control-api.md)",
               path);
  }
}


/* ---- the HTTP side ------------------------------------------------------ */

static void sse_send(cp_ctl_conn_t *c, uint64_t id, const char *kind,
                     const char *json, size_t len) {
  cp_buf_t b;

  if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) >
      CTL_SSE_MAX_QUEUE) {
    conn_close(c); /* bounded: a reader that does not keep up is cut */
    return;
  }
  cp_buf_init(&b, len + 128);
  cp_buf_appendf(&b, "id: %llu\nevent: %s\ndata: ", (unsigned long long)id,
                 kind);
  cp_buf_append(&b, json, len);
  cp_buf_append(&b, "\n\n", 2);
  conn_write(c, b.data, b.len);
  cp_buf_free(&b);
}


static void replay_event(void *arg, uint64_t id, const char *kind,
                         const char *json, size_t len) {
  sse_send(arg, id, kind, json, len);
}


static void on_event(void *arg, uint64_t id, const char *kind,
                     const char *json, size_t len) {
  cp_control_t *ctl = arg;
  cp_ctl_conn_t *c, *next;

  for (c = ctl->conns; c != NULL; c = next) {
    next = c->next;
    if (c->sse) {
      sse_send(c, id, kind, json, len);
    }
  }
}


static void respond(cp_ctl_conn_t *c, const cp_control_resp_t *r,
                    int head_only, int keep_alive) {
  cp_buf_t h;

  cp_buf_init(&h, 1024);
  cp_buf_appendf(&h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n", r->status,
                 reason(r->status), r->content_type ? r->content_type
                                                    : "application/json");
  if (r->sse) {
    cp_buf_append_str(&h, "Cache-Control: no-cache\r\n");
  } else {
    cp_buf_appendf(&h, "Content-Length: %zu\r\n", r->body.len);
  }
  if (r->allow != NULL) {
    cp_buf_appendf(&h, "Allow: %s\r\n", r->allow);
  }
  if (r->status == 401) {
    cp_buf_append_str(&h, "WWW-Authenticate: Bearer\r\n");
  }
  if (!r->sse && !keep_alive) {
    cp_buf_append_str(&h, "Connection: close\r\n");
    c->close_after_write = 1;
  }
  cp_buf_append_str(&h, "\r\n");
  conn_write(c, h.data, h.len);
  if (!head_only && !r->sse && r->body.len > 0) {
    conn_write(c, r->body.data, r->body.len);
  }
  cp_buf_free(&h);
}


static int on_url(http_parser *p, const char *at, size_t len) {
  cp_ctl_conn_t *c = p->data;

  return cp_buf_append(&c->url, at, len) == 0 ? 0 : -1;
}


static int on_header_field(http_parser *p, const char *at, size_t len) {
  cp_ctl_conn_t *c = p->data;

  if (c->last_was_value) {
    c->field_len = 0;
    c->last_was_value = 0;
  }
  if (c->field_len + len < sizeof(c->field)) {
    memcpy(c->field + c->field_len, at, len);
    c->field_len += len;
  } else {
    c->field_len = sizeof(c->field); /* too long: not one we want */
  }
  return 0;
}


static int on_header_value(http_parser *p, const char *at, size_t len) {
  cp_ctl_conn_t *c = p->data;

  if (!c->last_was_value) {
    c->last_was_value = 1;
    c->in_auth = c->field_len == 13 &&
                 strncasecmp(c->field, "authorization", 13) == 0;
    if (c->in_auth) {
      c->auth_len = 0;
      c->have_auth = 1;
    }
  }
  if (c->in_auth) {
    if (c->auth_len + len > CTL_MAX_AUTH) {
      return -1;
    }
    memcpy(c->auth + c->auth_len, at, len);
    c->auth_len += len;
    c->auth[c->auth_len] = '\0';
  }
  return 0;
}


static int on_body(http_parser *p, const char *at, size_t len) {
  cp_ctl_conn_t *c = p->data;

  return cp_buf_append(&c->body, at, len) == 0 ? 0 : -1;
}


static int on_message_complete(http_parser *p) {
  cp_ctl_conn_t *c = p->data;
  cp_ctx_t *ctx = c->ctl->ctx;
  cp_control_resp_t r;
  const char *method = http_method_str(p->method);
  int keep = http_should_keep_alive(p);

  cp_buf_append(&c->url, "", 1);
  cp_control_route(ctx, method, c->url.data, c->have_auth ? c->auth : NULL,
                   c->body.data ? c->body.data : "", c->body.len, &r);
  respond(c, &r, strcmp(method, "HEAD") == 0, keep);
  if (r.sse) {
    c->sse = 1;
    if (r.sse_replay) {
      cp_events_query(&ctx->events, r.sse_since, CP_CONTROL_RING,
                      replay_event, c);
    }
  }
  cp_buf_free(&r.body);
  cp_buf_reset(&c->url);
  cp_buf_reset(&c->body);
  c->have_auth = 0;
  c->auth_len = 0;
  c->field_len = 0;
  c->last_was_value = 0;
  return c->sse || !keep ? 1 : 0; /* stop parsing after a final answer */
}


static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  cp_ctl_conn_t *c = h->data;

  (void)hint;
  *buf = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}


static void send_error_and_close(cp_ctl_conn_t *c, int status,
                                 const char *msg) {
  cp_control_resp_t r;

  memset(&r, 0, sizeof(r));
  cp_buf_init(&r.body, 4096);
  resp_error(&r, status, "%s", msg);
  respond(c, &r, 0, 0);
  cp_buf_free(&r.body);
  uv_read_stop((uv_stream_t *)&c->tcp);
}


static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
  };
  cp_ctl_conn_t *c = s->data;
  size_t used;

  if (n < 0) {
    conn_close(c);
    return;
  }
  if (n == 0 || c->closing) {
    return;
  }
  if (c->sse || c->close_after_write) {
    return; /* nothing more is read from a stream or a closing conn */
  }
  used = http_parser_execute(&c->parser, &settings, buf->base, (size_t)n);
  if (c->sse || c->close_after_write) {
    return;
  }
  if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
    char msg[200];

    if (c->url.len >= CTL_MAX_URL || c->body.len >= CTL_MAX_BODY) {
      send_error_and_close(c, 413, "request too large");
      return;
    }
    snprintf(msg, sizeof(msg), "malformed HTTP request: %s",
             http_errno_description(HTTP_PARSER_ERRNO(&c->parser)));
    send_error_and_close(c, 400, msg);
    return;
  }
  (void)used;
}


/* Loopback always; others only inside a --control-allow network. */
static int peer_allowed(const cp_ctx_t *ctx, uv_tcp_t *tcp) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  unsigned char a[16];
  size_t i;

  if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) != 0) {
    return 0;
  }
  memset(a, 0, sizeof(a));
  if (ss.ss_family == AF_INET) {
    a[10] = a[11] = 0xff;
    memcpy(a + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
  } else {
    memcpy(a, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
  }
  if ((a[10] == 0xff && a[11] == 0xff && a[12] == 127 &&
       memcmp(a, "\0\0\0\0\0\0\0\0\0\0", 10) == 0) ||
      memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0) {
    return 1;
  }
  for (i = 0; i < ctx->cfg->ncontrol_allow; i++) {
    const unsigned char *net = ctx->cfg->control_allow[i].addr;
    int bits = ctx->cfg->control_allow[i].bits;
    int full = bits / 8, rest = bits % 8;

    if (memcmp(a, net, (size_t)full) == 0 &&
        (rest == 0 || ((a[full] ^ net[full]) & (0xff << (8 - rest))) == 0)) {
      return 1;
    }
  }
  return 0;
}


static void on_connection(uv_stream_t *server, int status) {
  cp_control_t *ctl = server->data;
  cp_ctl_conn_t *c;

  if (status < 0) {
    return;
  }
  c = calloc(1, sizeof(*c));
  if (c == NULL || uv_tcp_init(ctl->ctx->loop, &c->tcp) != 0) {
    free(c);
    return;
  }
  c->tcp.data = c;
  c->ctl = ctl;
  ctl->handles++;
  c->next = ctl->conns;
  if (ctl->conns != NULL) {
    ctl->conns->prev = c;
  }
  ctl->conns = c;
  ctl->nconns++;
  cp_buf_init(&c->url, CTL_MAX_URL);
  cp_buf_init(&c->body, CTL_MAX_BODY);
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  if (ctl->nconns > CTL_MAX_CONNS) {
    send_error_and_close(c, 403, "too many control connections");
    return;
  }
  if (!peer_allowed(ctl->ctx, &c->tcp)) {
    send_error_and_close(c, 403, "this address may not use the control "
                                 "API (see --control-allow)");
    return;
  }
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}


static void listener_closed(uv_handle_t *h) {
  cp_control_t *ctl = h->data;

  ctl->handles--;
  if (ctl->stopping && ctl->handles == 0) {
    ctl->ctx->control = NULL;
    free(ctl);
  }
}


int cp_control_start(cp_ctx_t *ctx) {
  const cp_config_t *cfg = ctx->cfg;
  struct sockaddr_storage ss;
  cp_control_t *ctl;
  int rc;

  if (cfg->control_host[0] == '\0') {
    return 0;
  }
  rc = strchr(cfg->control_host, ':')
           ? uv_ip6_addr(cfg->control_host, cfg->control_port,
                         (struct sockaddr_in6 *)&ss)
           : uv_ip4_addr(cfg->control_host, cfg->control_port,
                         (struct sockaddr_in *)&ss);
  if (rc != 0) {
    return rc;
  }
  ctl = calloc(1, sizeof(*ctl));
  if (ctl == NULL) {
    return UV_ENOMEM;
  }
  ctl->ctx = ctx;
  ctl->started_ms = uv_now(ctx->loop);
  rc = uv_tcp_init(ctx->loop, &ctl->listener);
  if (rc != 0) {
    free(ctl);
    return rc;
  }
  ctx->control = ctl;
  ctl->listener.data = ctl;
  ctl->handles = 1;
  ctl->listening = 1;
  rc = uv_tcp_bind(&ctl->listener, (const struct sockaddr *)&ss, 0);
  if (rc == 0) {
    rc = uv_listen((uv_stream_t *)&ctl->listener, 64, on_connection);
  }
  if (rc != 0) {
    cp_control_stop(ctx);
    return rc;
  }
  if (ctx->events.ring == NULL) {
    rc = cp_events_ring_init(&ctx->events, CP_CONTROL_RING);
    if (rc != 0) {
      cp_control_stop(ctx);
      return UV_ENOMEM;
    }
  }
  ctx->events.on_event = on_event;
  ctx->events.on_event_arg = ctl;
  return 0;
}


void cp_control_stop(cp_ctx_t *ctx) {
  cp_control_t *ctl = ctx->control;

  if (ctl == NULL || ctl->stopping) {
    return;
  }
  ctl->stopping = 1;
  ctx->events.on_event = NULL;
  ctx->events.on_event_arg = NULL;
  while (ctl->conns != NULL) {
    conn_close(ctl->conns);
  }
  if (ctl->listening) {
    ctl->listening = 0;
    uv_close((uv_handle_t *)&ctl->listener, listener_closed);
  }
}
