/* Per-host chain rules (--rules FILE): a JSON list of
 * {"host": GLOB, "port": N (optional), "chain": PROFILE, and optional
 * per-host TLS settings}; the first match wins. Parsed from a file or from
 * bytes (the tests), validated against the profiles. */
#ifndef CP_RULES_H
#define CP_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http/parent.h"
#include "pki/profile.h"

#define CP_RULES_MAX 1024

/* cp_rule_t.leaf_key */
#define CP_RULE_LEAF_DEFAULT 0 /* --leaf-key */
#define CP_RULE_LEAF_EC 1
#define CP_RULE_LEAF_RSA 2

/* The corporate-network behaviours, as events and the API name them. */
typedef enum cp_fault_e {
  CP_FAULT_BLOCK,
  CP_FAULT_AUTH,
  CP_FAULT_SNI_BLOCK,
  CP_FAULT_TIMEOUT,
  CP_FAULT_RESET,
  CP_FAULT_LATENCY,
  CP_FAULT_BANDWIDTH,
  CP_FAULT_STRIP,
  CP_FAULT_DOWNGRADE,
  CP_FAULT_COUNT
} cp_fault_e;

typedef struct cp_rule_s cp_rule_t;
typedef struct cp_rules_s cp_rules_t;

struct cp_rule_s {
  char host[256];        /* glob, '*' matches any run of characters */
  uint16_t port;         /* 0: any */
  int profile;           /* index into the profiles */
  int client_tls_min;    /* TLS1_VERSION ..., 0: --client-tls-min */
  int upstream_tls_min;  /* 0: --upstream-tls-min */
  int leaf_key;          /* CP_RULE_LEAF_* */
  int require_sni;       /* 1: refuse clients that send no SNI */
  int no_resume;         /* 1: a full upstream handshake every time (a
                            host whose certificate changes) */
  int pool;              /* "upstream_pool": 1 on, -1 off, 0: as
                            --upstream-pool says */
  char client_cert[512]; /* PEM presented upstream (mTLS); "": the
                            global --upstream-client-cert */
  /* What a corporate network does to this host (rules_corp.c). */
  int block_status;     /* "block": answer with this status; 0: no */
  char *block_page;     /* owned: the block page's HTML; NULL: chainproxy's */
  char auth[256];       /* "auth": USER:PASSWORD required; "": none */
  int sni_block;        /* reset the connection after the ClientHello */
  int strip;            /* "strip_intermediate": profile is "incomplete" */
  int hold;             /* "timeout": accept, never answer */
  uint64_t reset_after; /* reset the client after this many bytes; 0: no */
  unsigned latency_ms;  /* added to each direction */
  unsigned jitter_ms;   /* +/- around latency_ms */
  unsigned bandwidth;   /* KB/s (1000 bytes) each direction; 0: no cap */
  int tls_max;          /* "downgrade_tls": the highest version offered to
                           clients (TLS1_VERSION ...); 0: no cap */
  int parent_set;       /* 1: "upstream_proxy" names a parent */
  int parent_direct;    /* 1: "upstream_proxy": "direct" */
  cp_parent_t parent;   /* when parent_set */
};

struct cp_rules_s {
  cp_rule_t *r; /* owned */
  int n;
};

int cp_rules_parse(cp_rules_t *rules, const char *json, size_t len,
                   const cp_profiles_t *profiles, char *err, size_t errlen);
int cp_rules_load(cp_rules_t *rules, const char *path,
                  const cp_profiles_t *profiles, char *err, size_t errlen);
void cp_rules_free(cp_rules_t *rules);
/* 1 when a and b say the same thing, rule by rule (block pages by their
 * bytes): a snapshot of b may stand in for one of a. */
int cp_rules_equal(const cp_rules_t *a, const cp_rules_t *b);
/* A copy whose rules own their own block pages. */
int cp_rules_copy(cp_rules_t *dst, const cp_rules_t *src);
/* Frees what one rule owns (a rule that never made it into a list). */
void cp_rule_clear(cp_rule_t *r);
/* The corporate-network fields of one rule object ("block", "auth",
 * "sni_block", "timeout", "reset_after_bytes", "latency", "jitter",
 * "bandwidth", "strip_intermediate", "downgrade_tls"), and back to JSON for
 * the control API. */
int cp_rule_parse_corp(cp_rule_t *r, json_t *o, const cp_profiles_t *profiles,
                       char *err, size_t errlen);
void cp_rule_corp_json(const cp_rule_t *r, json_t *o);
/* "latency", "block", ...; "?" for no fault. */
const char *cp_rule_fault_name(unsigned fault);
/* 1 when the rule does anything a corporate network does. */
int cp_rule_has_faults(const cp_rule_t *r);
/* Validates a host glob as rules accept it. */
int cp_rules_host_ok(const char *host);
/* Sets the rule for exactly (host, port): replaced in place when one
 * exists, else added first (it wins over older rules). */
int cp_rules_put(cp_rules_t *rules, const cp_rule_t *rule);
/* One rule from its JSON object: {"host", "port", "chain",
 * "client_tls_min", "upstream_tls_min", "leaf_key", "require_sni",
 * "upstream_client_cert", "upstream_resume", "upstream_pool",
 * "upstream_proxy"}; with host given (the control API's path) the object has no
 * "host". A client certificate file is loaded once to check it (and again by
 * each connection that uses it). err names the field. */
int cp_rule_parse(cp_rule_t *r, json_t *o, const char *host,
                  const cp_profiles_t *profiles, char *err, size_t errlen);
/* "1.0" .. "1.3" as OpenSSL's version number (TLS1_VERSION ...), 0 when
 * not one; and back ("1.2"), NULL when not one. */
int cp_rules_parse_tls_version(const char *v);
const char *cp_rules_tls_version_str(int version);
/* The first rule matching host:port, or NULL. */
const cp_rule_t *cp_rules_find(const cp_rules_t *rules, const char *host,
                               uint16_t port);
/* Removes every rule for host (any port); returns how many. */
int cp_rules_delete(cp_rules_t *rules, const char *host);
/* The profile index of the first rule matching host:port, or -1. */
int cp_rules_match(const cp_rules_t *rules, const char *host, uint16_t port);

#endif
