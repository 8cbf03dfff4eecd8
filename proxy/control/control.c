#include "control/control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "base/err.h"
#include "base/host.h"
#include "http/http_parse.h"
#include "control/pac.h"
#include "control/ui.h"
#include "control/ctl_guard.h"
#include "control/ctl_har.h"
#include "control/ctl_resp.h"

#define MAX_PATH 4096


/* ---- endpoints ---------------------------------------------------------- */

static void get_pem(cp_ctl_response_t *r, X509 *x) {
  BIO *b = BIO_new(BIO_s_mem());
  char *data;
  long len;

  if (b == NULL || PEM_write_bio_X509(b, x) != 1) {
    BIO_free(b);
    cp_ctl_resp_error(r, 500, "cannot encode the certificate");
    return;
  }
  len = BIO_get_mem_data(b, &data);
  r->status = 200;
  r->content_type = "application/x-pem-file";
  cp_buf_reset(&r->body);
  cp_buf_append(&r->body, data, (size_t)len);
  BIO_free(b);
}


static json_t *floor_json(int v) {
  const char *s = cp_rules_tls_version_str(v);

  return s ? json_string(s) : json_null();
}


/* A rule as the API shows it; TLS settings only when the rule sets
 * them. */
static json_t *rule_json(const cp_control_env_t *env, const cp_rule_t *ru) {
  json_t *o = json_pack(
      "{s:s,s:o,s:o}", "host", ru->host, "port",
      ru->port ? json_integer(ru->port) : json_null(), "chain",
      ru->profile >= 0 ? json_string(env->profiles->p[ru->profile].name)
                       : json_null());

  if (ru->client_tls_min != 0) {
    json_object_set_new(o, "client_tls_min", floor_json(ru->client_tls_min));
  }
  if (ru->upstream_tls_min != 0) {
    json_object_set_new(o, "upstream_tls_min",
                        floor_json(ru->upstream_tls_min));
  }
  if (ru->leaf_key != CP_RULE_LEAF_DEFAULT) {
    json_object_set_new(
        o, "leaf_key",
        json_string(ru->leaf_key == CP_RULE_LEAF_RSA ? "rsa" : "ec"));
  }
  if (ru->require_sni) {
    json_object_set_new(o, "require_sni", json_true());
  }
  if (ru->no_resume) {
    json_object_set_new(o, "upstream_resume", json_false());
  }
  if (ru->pool != 0) {
    json_object_set_new(o, "upstream_pool", json_boolean(ru->pool > 0));
  }
  if (ru->client_cert[0] != '\0') {
    json_object_set_new(o, "upstream_client_cert",
                        json_string(ru->client_cert));
  }
  cp_rule_corp_json(ru, o);
  if (ru->parent_set || ru->parent_direct) {
    /* The password is never shown: the URL names the user only. */
    json_object_set_new(
        o, "upstream_proxy",
        json_string(ru->parent_direct ? "direct" : ru->parent.url));
  }
  return o;
}


static json_t *rules_json(const cp_control_env_t *env) {
  json_t *arr = json_array();
  int i;

  for (i = 0; i < env->rules->n; i++) {
    json_array_append_new(arr, rule_json(env, &env->rules->r[i]));
  }
  return json_pack("{s:o,s:s}", "rules", arr, "default",
                   env->profiles->p[env->default_profile].name);
}


/* The master rules changed: the workers' next connections see them. */
static int publish(const cp_control_env_t *env) {
  return env->snaps != NULL ? cp_snaps_publish(env->snaps, env->rules, NULL)
                            : 0;
}


static void put_rule(const cp_control_env_t *env, const char *host,
                     const char *body, size_t len, cp_ctl_response_t *r) {
  json_error_t jerr;
  json_t *doc = json_loadb(body, len, 0, &jerr);
  cp_rule_t rule;
  char err[700];

  if (doc == NULL) {
    cp_ctl_resp_error(r, 400, "body is not JSON: line %d, column %d: %s",
                      jerr.line, jerr.column, jerr.text);
    return;
  }
  /* The same parser as the rules file: the same fields, the same
   * errors. */
  if (cp_rule_parse(&rule, doc, host, env->profiles, err, sizeof(err)) != 0) {
    cp_ctl_resp_error(r, 400, "%s", err);
  } else if (cp_rules_put(env->rules, &rule) != 0) {
    cp_rule_clear(&rule);
    cp_ctl_resp_error(r, 400, "cannot add the rule (at most %d rules)",
                      CP_RULES_MAX);
  } else if (publish(env) != 0) {
    cp_ctl_resp_error(r, 500, "out of memory");
  } else {
    cp_log(env->log, CP_LOG_INFO, 0, host, NULL,
           "control: rule for %s (port %s%u) -> %s", host,
           rule.port ? "" : "any, ", (unsigned)rule.port,
           rule.profile >= 0 ? env->profiles->p[rule.profile].name
                             : "the default profile");
    cp_ctl_resp_json(r, 200, json_pack("{s:o}", "rule", rule_json(env, &rule)));
  }
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


static void get_events(const cp_control_env_t *env, const char *query,
                       cp_ctl_response_t *r) {
  unsigned long long since, limit;
  collect_t c;
  uint64_t dropped;
  char tail[128];

  if (cp_ctl_query_u64(query, "since", 0, UINT64_MAX / 2, &since) != 0 ||
      cp_ctl_query_u64(query, "limit", 100, 1000, &limit) != 0 || limit == 0) {
    cp_ctl_resp_error(r, 400,
                      "since must be an event id and limit a number from "
                      "1 to 1000");
    return;
  }
  cp_buf_reset(&r->body);
  cp_buf_append_str(&r->body, "{\"events\":[");
  c.out = &r->body;
  c.n = 0;
  c.last = since;
  dropped =
      cp_events_query(env->events, since, (size_t)limit, collect_event, &c);
  if (dropped > 0 && c.n == 0) {
    c.last = since + dropped;
  }
  snprintf(tail, sizeof(tail), "],\"next\":%llu,\"dropped\":%llu}\n",
           (unsigned long long)c.last, (unsigned long long)dropped);
  cp_buf_append_str(&r->body, tail);
  r->status = 200;
  r->content_type = "application/json";
}


static void sse_event(void *arg, uint64_t id, const char *kind,
                      const char *json, size_t len) {
  cp_buf_t *b = arg;

  cp_buf_appendf(b, "id: %llu\nevent: %s\ndata: ", (unsigned long long)id,
                 kind);
  cp_buf_append(b, json, len);
  cp_buf_append(b, "\n\n", 2);
}


static void get_stream(const cp_control_env_t *env, const char *query,
                       cp_ctl_response_t *r) {
  unsigned long long since;
  uint64_t upto;
  int replay =
      strncmp(query, "since=", 6) == 0 || strstr(query, "&since=") != NULL;

  if (cp_ctl_query_u64(query, "since", 0, UINT64_MAX / 2, &since) != 0) {
    cp_ctl_resp_error(r, 400, "since must be an event id");
    return;
  }
  r->status = 200;
  r->stream = 1;
  r->content_type = "text/event-stream";
  cp_buf_reset(&r->body);
  upto = env->streamed != NULL ? *env->streamed : UINT64_MAX;
  if (replay && since < upto) {
    /* The kept events after since go first, as the stream's opening; the
     * ones after the last streamed come with the next wake-up, as to
     * every stream. */
    cp_events_query(env->events, since,
                    (size_t)(upto - since < CP_CONTROL_RING ? upto - since
                                                            : CP_CONTROL_RING),
                    sse_event, &r->body);
  }
}


/* The process's counters plus every worker's. */
static void stats_sum(const cp_control_env_t *env, cp_stats_t *sum) {
  int i;

  memset(sum, 0, sizeof(*sum));
  cp_events_counts(env->events, &env->stats->v[CP_STAT_EVENTS],
                   &env->stats->v[CP_STAT_EVENTS_DROPPED]);
  env->stats->v[CP_STAT_RULES] = (uint64_t)env->rules->n;
  cp_stats_add(sum, env->stats);
  for (i = 0; i < env->nworkers; i++) {
    cp_stats_add(sum, env->worker_stats[i]);
  }
}


static void get_stats(const cp_control_env_t *env, cp_ctl_response_t *r) {
  json_t *doc, *per = json_array();
  cp_stats_t sum;
  int i;

  stats_sum(env, &sum);
  doc = cp_stats_json(&sum);
  /* How the kernel spread the connections over the workers. */
  for (i = 0; i < env->nworkers; i++) {
    json_array_append_new(
        per, json_pack("{s:I,s:I}", "accepted",
                       (json_int_t)__atomic_load_n(
                           &env->worker_stats[i]->v[CP_STAT_CONN_ACCEPTED],
                           __ATOMIC_RELAXED),
                       "open",
                       (json_int_t)__atomic_load_n(
                           &env->worker_stats[i]->v[CP_STAT_CONN_OPEN],
                           __ATOMIC_RELAXED)));
  }
  json_object_set_new(doc, "workers", per);
  cp_ctl_resp_json(r, 200, doc);
}


static void get_metrics(const cp_control_env_t *env, cp_ctl_response_t *r) {
  cp_stats_t sum;

  stats_sum(env, &sum);
  cp_buf_reset(&r->body);
  if (cp_stats_prometheus(&sum, &r->body) != 0 ||
      (env->horizons != NULL &&
       cp_horizons_prometheus(env->horizons, &r->body) != 0)) {
    cp_ctl_resp_error(r, 500, "out of memory");
    return;
  }
  r->status = 200;
  r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}


static int token_ok(const char *token, const char *authorization) {
  size_t tl;

  if (token == NULL) {
    return 1;
  }
  tl = strlen(token);
  return authorization != NULL && strncmp(authorization, "Bearer ", 7) == 0 &&
         strlen(authorization + 7) == tl &&
         CRYPTO_memcmp(authorization + 7, token, tl) == 0;
}


/* The web view: its files from the binary, with a policy that forbids
 * any other origin and any inline script. */
static void get_ui(const char *path, cp_ctl_response_t *r) {
  const cp_ui_asset_t *a = cp_ui_find(path);

  if (a == NULL) {
    cp_ctl_resp_error(r, 404, "no such file in the web view: %s", path);
    return;
  }
  cp_buf_reset(&r->body);
  if (cp_buf_append(&r->body, a->data, a->len) != 0) {
    cp_ctl_resp_error(r, 500, "out of memory");
    return;
  }
  r->status = 200;
  r->content_type = cp_ui_type(a);
  r->headers = "Content-Security-Policy: default-src 'none'; script-src "
               "'self'; style-src 'self'; connect-src 'self'; img-src "
               "'self'; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'none'\r\n"
               "X-Content-Type-Options: nosniff\r\n"
               "Referrer-Policy: no-referrer\r\n";
}


/* PAC fetchers cannot send a bearer token: /proxy.pac also takes it as
 * ?token=... (the same constant-time comparison). */
static int query_token_ok(const char *token, const char *query) {
  char bearer[300];
  const char *t = strstr(query, "token=");
  size_t n;

  if (token == NULL || t == NULL || (t != query && t[-1] != '&')) {
    return 0;
  }
  t += 6;
  n = strcspn(t, "&");
  if (n + 8 > sizeof(bearer)) {
    return 0;
  }
  memcpy(bearer, "Bearer ", 7);
  memcpy(bearer + 7, t, n);
  bearer[7 + n] = '\0';
  return token_ok(token, bearer);
}


/* GET /proxy.pac[?all=1]: the PAC points at the address the proxy
 * listens on, or, when that is every interface, at the host the client
 * reached this API by. */
static void get_pac(const cp_control_env_t *env, const char *host,
                    const char *query, cp_ctl_response_t *r) {
  const cp_config_t *cfg = env->cfg;
  char proxy[CP_HOSTPORT_MAX], name[CP_HOST_MAX + 1];
  const char *listen = cfg->listen_host;
  cp_http_target_t t;
  int all = strstr(query, "all=1") != NULL;

  if (strcmp(listen, "0.0.0.0") == 0 || strcmp(listen, "::") == 0) {
    if (host == NULL ||
        cp_http_parse_authority(host, strlen(host), 80, &t) != 0) {
      cp_ctl_resp_error(r, 400,
                        "chainproxy listens on every interface: send a Host "
                        "header naming the address clients reach it by");
      return;
    }
    snprintf(name, sizeof(name), "%s", t.host);
    listen = name;
  }
  cp_hostport_format(proxy, sizeof(proxy), listen, cfg->listen_port);
  if (cp_pac_build(&r->body, env->rules, cfg->pac_direct, cfg->npac_direct,
                   proxy, all) != 0) {
    cp_buf_reset(&r->body);
    cp_ctl_resp_error(r, 500, "cannot build the PAC file");
    return;
  }
  r->status = 200;
  /* Not JavaScript to a browser: with nosniff a page cannot run it as a
   * <script> (rule hosts and the listener would leak to it). */
  r->content_type = "application/x-ns-proxy-autoconfig";
  r->headers = "X-Content-Type-Options: nosniff\r\n"
               "Cache-Control: no-store\r\n";
}


static void route_rule(const cp_control_env_t *env, const char *method,
                       const char *host, const cp_ctl_request_t *req,
                       cp_ctl_response_t *r) {
  int n;

  if (!cp_rules_host_ok(host)) {
    cp_ctl_resp_error(r, 400, "'%s' is not a host name or glob", host);
  } else if (strcmp(method, "PUT") == 0) {
    put_rule(env, host, req->body, req->body_len, r);
  } else if (strcmp(method, "DELETE") == 0) {
    n = cp_rules_delete(env->rules, host);
    if (n == 0) {
      cp_ctl_resp_error(r, 404, "no rule for '%s'", host);
    } else if (publish(env) != 0) {
      cp_ctl_resp_error(r, 500, "out of memory");
    } else {
      cp_ctl_resp_json(r, 200,
                       json_pack("{s:s,s:i}", "deleted", host, "rules", n));
    }
  } else {
    r->allow = "PUT, DELETE";
    cp_ctl_resp_error(
        r, 405, "method %s not allowed here (allowed: PUT, DELETE)", method);
  }
}


/* Only requests meant for this API, from its own pages or from no page
 * at all: a page elsewhere must not read or steer it, whether it reached
 * the port by DNS rebinding (a foreign Host) or by a cross-origin request
 * (Origin, Sec-Fetch-Site). GET /healthz stays open to any origin so
 * monitors can probe it; the Host rule still holds. */
static int guard_ok(const cp_config_t *cfg, const cp_ctl_request_t *req,
                    const char *path, cp_ctl_response_t *r) {
  int health =
      strcmp(path, "/healthz") == 0 &&
      (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0);

  /* Health checkers (HAProxy's httpchk) may send HTTP/1.0 without Host;
   * a browser never does, so this opens nothing to a page. */
  if (health && req->host == NULL) {
    return 1;
  }
  if (!cp_ctl_guard_host(cfg, req->local, req->local_loopback, req->host)) {
    cp_ctl_resp_error(r, 421,
                      "Host '%s' does not name this control API: it answers to "
                      "localhost, 127.0.0.1, [::1], its own address and "
                      "--control-host names, with port %u or none",
                      req->host ? req->host : "(none)",
                      (unsigned)cfg->control_port);
    return 0;
  }
  if (health) {
    return 1;
  }
  if (req->origin != NULL &&
      !cp_ctl_guard_origin(cfg, req->local, req->origin)) {
    cp_ctl_resp_error(
        r, 403,
        "Origin '%s' is not this control API's own: requests from "
        "other web pages are refused",
        req->origin);
    return 0;
  }
  if (!cp_ctl_guard_fetch_site(req->fetch_site)) {
    cp_ctl_resp_error(r, 403,
                      "Sec-Fetch-Site '%s': requests from other web pages are "
                      "refused",
                      req->fetch_site);
    return 0;
  }
  return 1;
}


/* ---- the route table ---------------------------------------------------- */

/* One request as a handler sees it. */
typedef struct {
  cp_control_t *ctl;
  const cp_ctl_request_t *req;
  const char *path;  /* without the query */
  const char *query; /* after '?', "" when none */
} route_call_t;

enum {
  ROUTE_OPEN = 1,        /* no token needed (health probes) */
  ROUTE_QUERY_TOKEN = 2, /* ?token= accepted: what a browser fetches
                            without headers of its own (a PAC fetcher, the
                            web view, EventSource, download links) */
  ROUTE_PREFIX = 4,      /* path matches as a prefix */
  ROUTE_OWN_METHODS = 8  /* the handler checks the method itself */
};

typedef struct {
  const char *path;
  int flags;
  void (*fn)(const route_call_t *x, cp_ctl_response_t *r);
} route_t;

static void h_healthz(const route_call_t *x, cp_ctl_response_t *r) {
  const cp_control_env_t *env = &x->ctl->env;

  cp_ctl_resp_json(
      r, 200,
      json_pack("{s:b,s:s,s:I}", "ok", 1, "version", CP_VERSION, "uptime_ms",
                (json_int_t)(uv_now(env->loop) - x->ctl->started_ms)));
}

static void h_ca(const route_call_t *x, cp_ctl_response_t *r) {
  get_pem(r, x->ctl->env.root);
}

static void h_legacy_root(const route_call_t *x, cp_ctl_response_t *r) {
  get_pem(r, x->ctl->env.legacy_root);
}

static void h_rules(const route_call_t *x, cp_ctl_response_t *r) {
  cp_ctl_resp_json(r, 200, rules_json(&x->ctl->env));
}

static void h_rule(const route_call_t *x, cp_ctl_response_t *r) {
  route_rule(&x->ctl->env, x->req->method, x->path + 7, x->req, r);
}

static void h_events(const route_call_t *x, cp_ctl_response_t *r) {
  get_events(&x->ctl->env, x->query, r);
}

static void h_stream(const route_call_t *x, cp_ctl_response_t *r) {
  get_stream(&x->ctl->env, x->query, r);
}

static void h_stats(const route_call_t *x, cp_ctl_response_t *r) {
  get_stats(&x->ctl->env, r);
}

static void h_metrics(const route_call_t *x, cp_ctl_response_t *r) {
  get_metrics(&x->ctl->env, r);
}

static void h_har(const route_call_t *x, cp_ctl_response_t *r) {
  cp_ctl_har_get(&x->ctl->env, x->query, r);
}

static void h_pac(const route_call_t *x, cp_ctl_response_t *r) {
  get_pac(&x->ctl->env, x->req->host, x->query, r);
}

static void h_ui(const route_call_t *x, cp_ctl_response_t *r) {
  get_ui(x->path, r);
}

/* Every endpoint; docs/control-api.md lists the same. Without
 * ROUTE_OWN_METHODS an endpoint is read-only (GET and HEAD). */
static const route_t routes[] = {
    {"/healthz", ROUTE_OPEN, h_healthz},
    {"/ca.pem", ROUTE_QUERY_TOKEN, h_ca},
    {"/ca/legacy-root.pem", ROUTE_QUERY_TOKEN, h_legacy_root},
    {"/rules", 0, h_rules},
    {"/rules/", ROUTE_PREFIX | ROUTE_OWN_METHODS, h_rule},
    {"/events", 0, h_events},
    {"/events/stream", ROUTE_QUERY_TOKEN, h_stream},
    {"/stats", 0, h_stats},
    {"/metrics", 0, h_metrics},
    {"/har", ROUTE_QUERY_TOKEN, h_har},
    {"/proxy.pac", ROUTE_QUERY_TOKEN, h_pac},
    {"/ui", ROUTE_QUERY_TOKEN, h_ui},
    {"/ui/", ROUTE_QUERY_TOKEN | ROUTE_PREFIX, h_ui},
};

static const route_t *route_find(const char *path) {
  size_t i;

  for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
    const route_t *rt = &routes[i];

    if ((rt->flags & ROUTE_PREFIX)
            ? strncmp(path, rt->path, strlen(rt->path)) == 0
            : strcmp(path, rt->path) == 0) {
      return rt;
    }
  }
  return NULL;
}


void cp_control_route(cp_control_t *ctl, const cp_ctl_request_t *req,
                      cp_ctl_response_t *r) {
  const cp_control_env_t *env = &ctl->env;
  const char *query = strchr(req->target, '?');
  const route_t *rt;
  char path[MAX_PATH + 1];
  size_t plen = query ? (size_t)(query - req->target) : strlen(req->target);
  route_call_t x;

  if (plen == 0 || plen > MAX_PATH || req->target[0] != '/') {
    cp_ctl_resp_error(r, 400, "the target must be an absolute path");
    return;
  }
  memcpy(path, req->target, plen);
  path[plen] = '\0';
  query = query ? query + 1 : "";
  if (!guard_ok(env->cfg, req, path, r)) {
    return;
  }
  /* The token is asked for before a 404, so an unknown path tells a
   * caller without it nothing about which endpoints exist. */
  rt = route_find(path);
  if (!(rt != NULL && (rt->flags & ROUTE_OPEN)) &&
      !token_ok(env->cfg->control_token, req->authorization) &&
      !(rt != NULL && (rt->flags & ROUTE_QUERY_TOKEN) &&
        query_token_ok(env->cfg->control_token, query))) {
    r->authenticate = "Bearer";
    cp_ctl_resp_error(r, 401, "send Authorization: Bearer <--control-token>");
    return;
  }
  if (rt == NULL) {
    cp_ctl_resp_error(r, 404, "no such endpoint: %s (see docs/control-api.md)",
                      path);
    return;
  }
  if (!(rt->flags & ROUTE_OWN_METHODS) &&
      !cp_ctl_method_is(req->method, "GET", r, "GET")) {
    return;
  }
  x.ctl = ctl;
  x.req = req;
  x.path = path;
  x.query = query;
  rt->fn(&x, r);
}


static void on_request(void *data, const cp_ctl_request_t *req,
                       cp_ctl_response_t *resp) {
  cp_control_route(data, req, resp);
}


/* Any thread, with the event log locked: only wake the control loop. */
static void on_event(void *arg, uint64_t id, const char *kind, const char *json,
                     size_t len) {
  cp_control_t *ctl = arg;

  (void)id;
  (void)kind;
  (void)json;
  (void)len;
  uv_async_send(&ctl->wake);
}


static void stream_one(void *arg, uint64_t id, const char *kind,
                       const char *json, size_t len) {
  cp_control_t *ctl = arg;
  cp_buf_t b;

  cp_buf_init(&b, len + 128);
  sse_event(&b, id, kind, json, len);
  cp_ctl_http_broadcast(ctl->http, b.data, b.len);
  cp_buf_free(&b);
  ctl->streamed = id;
}


/* On the control loop: what was recorded since the last wake-up goes to
 * every stream, in id order. */
static void on_wake(uv_async_t *a) {
  cp_control_t *ctl = a->data;
  uint64_t dropped;

  if (ctl->http == NULL) {
    return;
  }
  dropped = cp_events_query(ctl->env.events, ctl->streamed, CP_CONTROL_RING,
                            stream_one, ctl);
  (void)dropped; /* a ring overrun between two wake-ups: the ids show it */
}


int cp_control_start(cp_control_t *ctl, const cp_control_env_t *env) {
  int rc;

  ctl->env = *env;
  ctl->started_ms = uv_now(env->loop);
  if (env->cfg->control_host[0] == '\0') {
    return 0;
  }
  if (env->events->ring == NULL &&
      cp_events_ring_init(env->events, CP_CONTROL_RING) != 0) {
    return UV_ENOMEM;
  }
  rc = cp_ctl_http_start(&ctl->http, env->loop, env->cfg, env->log, on_request,
                         ctl);
  if (rc != 0) {
    return rc;
  }
  rc = uv_async_init(env->loop, &ctl->wake, on_wake);
  if (rc != 0) {
    return rc;
  }
  ctl->wake.data = ctl;
  ctl->wake_open = 1;
  ctl->env.streamed = &ctl->streamed;
  cp_events_listen(env->events, on_event, ctl, &ctl->streamed);
  return 0;
}


void cp_control_stop(cp_control_t *ctl) {
  if (ctl->http == NULL) {
    return;
  }
  cp_events_listen(ctl->env.events, NULL, NULL, NULL);
  if (ctl->wake_open) {
    ctl->wake_open = 0;
    uv_close((uv_handle_t *)&ctl->wake, NULL); /* embedded */
  }
  cp_ctl_http_stop(ctl->http);
  ctl->http = NULL;
}
