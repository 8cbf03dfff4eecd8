/* The counters behind /stats and /metrics, as one table: each counter has
 * its place in the JSON document and its Prometheus name, label and help
 * text, so both renderings come from the same data and cannot drift. The
 * modules that count get the cp_stats_t (owned by the server) and bump
 * fields; rendering is pure (no I/O) and unit-tested. */
#ifndef CP_STATS_H
#define CP_STATS_H

#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "diag/diag.h"

typedef enum cp_stat_e {
  CP_STAT_CONN_ACCEPTED,
  CP_STAT_CONN_OPEN,    /* gauge */
  CP_STAT_CONN_REFUSED, /* over --max-conns */
  CP_STAT_REQUESTS,
  CP_STAT_HS_ACCEPTED,
  CP_STAT_HS_REFUSED,
  CP_STAT_VERIFY_OK,
  CP_STAT_VERIFY_FAILED,
  CP_STAT_UPSTREAM_TLS_FAILED,
  CP_STAT_UPSTREAM_RESUMED, /* upstream handshakes that resumed */
  CP_STAT_CHAIN_CACHE_HITS, /* diagnoses reused for an identical chain */
  CP_STAT_UPSTREAM_POOLED,  /* upstream connections taken from the pool */
  CP_STAT_LEAVES_MINTED,
  CP_STAT_LEAF_HITS,
  CP_STAT_LEAF_MISSES,
  CP_STAT_LEAVES_CACHED, /* gauge */
  CP_STAT_MINT_NS,       /* time spent minting */
  CP_STAT_EVENTS,
  CP_STAT_EVENTS_DROPPED, /* not written to the event log */
  CP_STAT_RULES,          /* gauge */
  CP_STAT_RULES_RELOADS,
  CP_STAT_RULES_RELOAD_FAILURES,
  CP_STAT_COUNT
} cp_stat_e;

/* Index of "the client closed without an alert" in alerts[]. */
#define CP_STATS_NO_ALERT 256

typedef struct cp_stats_s cp_stats_t;

struct cp_stats_s {
  uint64_t v[CP_STAT_COUNT];
  uint64_t alerts[CP_STATS_NO_ALERT + 1]; /* client refusals by alert */
  uint64_t by_cause[CP_CAUSE_NONE];       /* verify failures by cause */
};

/* Counts a client refusal with TLS alert code (-1: none). */
void cp_stats_alert(cp_stats_t *s, int alert);
/* dst += src, counter by counter. src may belong to a running worker:
 * each counter is read whole (one aligned 64-bit load). */
void cp_stats_add(cp_stats_t *dst, const cp_stats_t *src);
/* The /stats document (a new reference). */
json_t *cp_stats_json(const cp_stats_t *s);
/* The /metrics text (Prometheus exposition format 0.0.4). */
int cp_stats_prometheus(const cp_stats_t *s, cp_buf_t *out);

#endif
