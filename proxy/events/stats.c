#include "events/stats.h"

#include "base/err.h"
#include "diag/tls_names.h"

typedef struct stat_desc_s stat_desc_t;

/* One row per counter. group/key place it in the JSON document (group
 * NULL: at the top); metric/label/type/help in Prometheus. Rows of one
 * metric are adjacent so its HELP and TYPE are written once. */
struct stat_desc_s {
  cp_stat_e id;
  const char *group;
  const char *key;
  const char *metric;
  const char *label; /* e.g. result="ok", or NULL */
  const char *type;  /* counter or gauge */
  const char *help;
};

static const stat_desc_t table[] = {
    {CP_STAT_CONN_ACCEPTED, "connections", "accepted", "connections_total",
     NULL, "counter", "Client connections accepted."},
    {CP_STAT_CONN_OPEN, "connections", "open", "connections_open", NULL,
     "gauge", "Client connections open now."},
    {CP_STAT_CONN_REFUSED, "connections", "refused",
     "connections_refused_total", NULL, "counter",
     "Connections refused over --max-conns."},
    {CP_STAT_REQUESTS, NULL, "requests", "requests_total", NULL, "counter",
     "HTTP exchanges relayed or answered."},
    {CP_STAT_HS_ACCEPTED, "client_handshakes", "accepted",
     "client_handshakes_total", "result=\"accepted\"", "counter",
     "TLS handshakes with clients, by result."},
    {CP_STAT_HS_REFUSED, "client_handshakes", "refused",
     "client_handshakes_total", "result=\"refused\"", "counter", NULL},
    {CP_STAT_VERIFY_OK, "upstream_verify", "ok", "upstream_verify_total",
     "result=\"ok\"", "counter", "Upstream verifications, by result."},
    {CP_STAT_VERIFY_FAILED, "upstream_verify", "failed",
     "upstream_verify_total", "result=\"failed\"", "counter", NULL},
    {CP_STAT_UPSTREAM_TLS_FAILED, "upstream_verify", "tls_failed",
     "upstream_verify_total", "result=\"tls_failed\"", "counter", NULL},
    {CP_STAT_UPSTREAM_RESUMED, "upstream_verify", "resumed",
     "upstream_resumed_total", NULL, "counter",
     "Upstream handshakes that resumed a session (the stored diagnosis "
     "reused)."},
    {CP_STAT_CHAIN_CACHE_HITS, "upstream_verify", "chain_cache_hits",
     "upstream_chain_cache_hits_total", NULL, "counter",
     "Full upstream handshakes whose chain was judged before (the "
     "diagnosis reused)."},
    {CP_STAT_UPSTREAM_POOLED, "upstream_verify", "reused",
     "upstream_reused_total", NULL, "counter",
     "Tunnels that took an idle upstream connection from the pool "
     "(--upstream-pool) instead of a handshake."},
    {CP_STAT_LEAVES_MINTED, "leaves", "minted", "leaves_minted_total", NULL,
     "counter", "Leaf certificates minted."},
    {CP_STAT_LEAF_HITS, "leaves", "cache_hits", "leaf_cache_lookups_total",
     "result=\"hit\"", "counter", "Leaf cache lookups, by result."},
    {CP_STAT_LEAF_MISSES, "leaves", "cache_misses", "leaf_cache_lookups_total",
     "result=\"miss\"", "counter", NULL},
    {CP_STAT_LEAVES_CACHED, "leaves", "cached", "leaves_cached", NULL, "gauge",
     "Leaf certificates in the cache."},
    {CP_STAT_MINT_NS, "leaves", "mint_ns", "mint_seconds_total", NULL,
     "counter", "Time spent minting leaves."},
    {CP_STAT_EVENTS, "events", "recorded", "events_total", NULL, "counter",
     "Events recorded."},
    {CP_STAT_EVENTS_DROPPED, "events", "dropped", "events_dropped_total", NULL,
     "counter", "Events the event log could not take (a full disk)."},
    {CP_STAT_RULES, "rules", "count", "rules", NULL, "gauge",
     "Per-host rules in force."},
    {CP_STAT_RULES_RELOADS, "rules", "reloads", "rules_reloads_total",
     "result=\"ok\"", "counter", "Rules file reloads (SIGHUP), by result."},
    {CP_STAT_RULES_RELOAD_FAILURES, "rules", "reload_failures",
     "rules_reloads_total", "result=\"failed\"", "counter", NULL},
};


static void add_all(uint64_t *dst, const uint64_t *src, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
  }
}


void cp_stats_add(cp_stats_t *dst, const cp_stats_t *src) {
  add_all(dst->v, src->v, CP_STAT_COUNT);
  add_all(dst->alerts, src->alerts, CP_STATS_NO_ALERT + 1);
  add_all(dst->by_cause, src->by_cause, CP_CAUSE_NONE);
}


void cp_stats_alert(cp_stats_t *s, int alert) {
  s->alerts[alert >= 0 && alert < CP_STATS_NO_ALERT ? alert
                                                    : CP_STATS_NO_ALERT]++;
}


/* The label of alerts[i]: the alert's RFC name, "none" for a client that
 * just closed. */
static const char *alert_label(int i) {
  const char *n = i < CP_STATS_NO_ALERT ? cp_tls_alert_name(i) : "none";

  return n ? n : "unknown";
}


static json_t *group_of(json_t *doc, const char *group) {
  json_t *g;

  if (group == NULL) {
    return doc;
  }
  g = json_object_get(doc, group);
  if (g == NULL) {
    g = json_object();
    json_object_set_new(doc, group, g);
  }
  return g;
}


json_t *cp_stats_json(const cp_stats_t *s) {
  json_t *doc = json_object();
  json_t *alerts = json_object(), *causes = json_object();
  size_t i;

  for (i = 0; i < CP_ARRAY_SIZE(table); i++) {
    json_object_set_new(group_of(doc, table[i].group), table[i].key,
                        json_integer((json_int_t)s->v[table[i].id]));
  }
  for (i = 0; i <= CP_STATS_NO_ALERT; i++) {
    if (s->alerts[i] > 0) {
      json_object_set_new(alerts, alert_label((int)i),
                          json_integer((json_int_t)s->alerts[i]));
    }
  }
  for (i = 0; i < CP_CAUSE_NONE; i++) {
    if (s->by_cause[i] > 0) {
      json_object_set_new(causes, cp_cause_name((cp_cause_t)i),
                          json_integer((json_int_t)s->by_cause[i]));
    }
  }
  json_object_set_new(group_of(doc, "client_handshakes"), "refused_by_alert",
                      alerts);
  json_object_set_new(group_of(doc, "upstream_verify"), "failed_by_cause",
                      causes);
  return doc;
}


static int help_type(cp_buf_t *b, const char *metric, const char *type,
                     const char *help) {
  return cp_buf_appendf(b,
                        "# HELP chainproxy_%s %s\n# TYPE chainproxy_%s "
                        "%s\n",
                        metric, help, metric, type);
}


int cp_stats_prometheus(const cp_stats_t *s, cp_buf_t *b) {
  size_t i;
  int rc = 0;

  for (i = 0; i < CP_ARRAY_SIZE(table) && rc == 0; i++) {
    const stat_desc_t *d = &table[i];
    uint64_t v = s->v[d->id];

    if (d->help != NULL) {
      rc = help_type(b, d->metric, d->type, d->help);
    }
    if (rc == 0 && d->id == CP_STAT_MINT_NS) {
      rc =
          cp_buf_appendf(b, "chainproxy_%s %.6f\n", d->metric, (double)v / 1e9);
    } else if (rc == 0) {
      rc = cp_buf_appendf(b, "chainproxy_%s%s%s%s %llu\n", d->metric,
                          d->label ? "{" : "", d->label ? d->label : "",
                          d->label ? "}" : "", (unsigned long long)v);
    }
  }
  if (rc == 0) {
    rc = help_type(b, "client_rejections_total", "counter",
                   "Served chains refused by clients, by the TLS alert "
                   "they sent.");
  }
  for (i = 0; i <= CP_STATS_NO_ALERT && rc == 0; i++) {
    if (s->alerts[i] > 0) {
      rc =
          cp_buf_appendf(b,
                         "chainproxy_client_rejections_total{alert=\"%s\""
                         "} %llu\n",
                         alert_label((int)i), (unsigned long long)s->alerts[i]);
    }
  }
  if (rc == 0) {
    rc = help_type(b, "upstream_verify_failures_total", "counter",
                   "Upstream verification failures, by diagnosed cause.");
  }
  for (i = 0; i < CP_CAUSE_NONE && rc == 0; i++) {
    if (s->by_cause[i] > 0) {
      rc = cp_buf_appendf(b,
                          "chainproxy_upstream_verify_failures_total{"
                          "cause=\"%s\"} %llu\n",
                          cp_cause_name((cp_cause_t)i),
                          (unsigned long long)s->by_cause[i]);
    }
  }
  return rc;
}
