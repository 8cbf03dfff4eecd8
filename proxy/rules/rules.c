#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/host.h"
#include "tls/tls_client.h"

int cp_rules_host_ok(const char *host) {
  size_t n = strlen(host);

  return n > 0 && n < sizeof(((cp_rule_t *)0)->host) &&
         strspn(host, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:*") == n;
}


int cp_rules_put(cp_rules_t *rules, const cp_rule_t *rule) {
  cp_rule_t *grown;
  int i;

  if (!cp_rules_host_ok(rule->host)) {
    return CP_EINVAL;
  }
  for (i = 0; i < rules->n; i++) {
    if (rules->r[i].port == rule->port &&
        strcmp(rules->r[i].host, rule->host) == 0) {
      cp_rule_clear(&rules->r[i]);
      rules->r[i] = *rule; /* takes over the rule's page */
      return 0;
    }
  }
  if (rules->n == CP_RULES_MAX) {
    return CP_ENOMEM;
  }
  grown = realloc(rules->r, sizeof(*grown) * (size_t)(rules->n + 1));
  if (grown == NULL) {
    return CP_ENOMEM;
  }
  memmove(grown + 1, grown, sizeof(*grown) * (size_t)rules->n);
  grown[0] = *rule;
  rules->r = grown;
  rules->n++;
  return 0;
}


int cp_rules_delete(cp_rules_t *rules, const char *host) {
  int i, kept = 0, removed = 0;

  for (i = 0; i < rules->n; i++) {
    if (strcmp(rules->r[i].host, host) == 0) {
      cp_rule_clear(&rules->r[i]);
      removed++;
    } else {
      rules->r[kept++] = rules->r[i];
    }
  }
  rules->n = kept;
  return removed;
}


/* Each field of a rule is read by a function of this type from its value
 * v, never NULL nor JSON null (a null field is the same as an absent one). */
typedef int (*field_fn)(cp_rule_t *r, json_t *v, const cp_profiles_t *profiles,
                        char *err, size_t errlen);


static int port_field(cp_rule_t *r, json_t *v, const cp_profiles_t *profiles,
                      char *err, size_t errlen) {
  (void)profiles;
  if (!json_is_integer(v) || json_integer_value(v) < 1 ||
      json_integer_value(v) > 65535) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "\"port\" must be a number from 1 to 65535");
  }
  r->port = (uint16_t)json_integer_value(v);
  return 0;
}


static int chain_field(cp_rule_t *r, json_t *v, const cp_profiles_t *profiles,
                       char *err, size_t errlen) {
  char list[512];

  if (!json_is_string(v)) {
    return cp_errf(err, errlen, CP_ECONFIG, "\"chain\" must name a profile");
  }
  if ((r->profile = cp_profiles_find(profiles, json_string_value(v))) < 0) {
    cp_profiles_list(profiles, list, sizeof(list));
    return cp_errf(err, errlen, CP_ECONFIG,
                   "\"chain\": unknown profile '%s' (profiles: %s)",
                   json_string_value(v), list);
  }
  return 0;
}


static int floor_field(json_t *v, const char *name, int *out, char *err,
                       size_t errlen) {
  if (!json_is_string(v) ||
      (*out = cp_rules_parse_tls_version(json_string_value(v))) == 0) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "\"%s\" must be one of \"1.0\", \"1.1\", \"1.2\", "
                   "\"1.3\"",
                   name);
  }
  return 0;
}


static int client_floor_field(cp_rule_t *r, json_t *v,
                              const cp_profiles_t *profiles, char *err,
                              size_t errlen) {
  (void)profiles;
  return floor_field(v, "client_tls_min", &r->client_tls_min, err, errlen);
}


static int upstream_floor_field(cp_rule_t *r, json_t *v,
                                const cp_profiles_t *profiles, char *err,
                                size_t errlen) {
  (void)profiles;
  return floor_field(v, "upstream_tls_min", &r->upstream_tls_min, err, errlen);
}


static int leaf_key_field(cp_rule_t *r, json_t *v,
                          const cp_profiles_t *profiles, char *err,
                          size_t errlen) {
  const char *s = json_is_string(v) ? json_string_value(v) : "";

  (void)profiles;
  if (strcmp(s, "rsa") == 0) {
    r->leaf_key = CP_RULE_LEAF_RSA;
  } else if (strcmp(s, "ec") == 0) {
    r->leaf_key = CP_RULE_LEAF_EC;
  } else {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "\"leaf_key\" must be \"rsa\" or \"ec\"");
  }
  return 0;
}


static int bool_field(json_t *v, const char *name, char *err, size_t errlen) {
  if (!json_is_boolean(v)) {
    return cp_errf(err, errlen, CP_ECONFIG, "\"%s\" must be true or false",
                   name);
  }
  return 0;
}


static int require_sni_field(cp_rule_t *r, json_t *v,
                             const cp_profiles_t *profiles, char *err,
                             size_t errlen) {
  (void)profiles;
  if (bool_field(v, "require_sni", err, errlen) != 0) {
    return CP_ECONFIG;
  }
  r->require_sni = json_is_true(v);
  return 0;
}


static int resume_field(cp_rule_t *r, json_t *v, const cp_profiles_t *profiles,
                        char *err, size_t errlen) {
  (void)profiles;
  if (bool_field(v, "upstream_resume", err, errlen) != 0) {
    return CP_ECONFIG;
  }
  r->no_resume = json_is_false(v);
  return 0;
}


static int pool_field(cp_rule_t *r, json_t *v, const cp_profiles_t *profiles,
                      char *err, size_t errlen) {
  (void)profiles;
  if (bool_field(v, "upstream_pool", err, errlen) != 0) {
    return CP_ECONFIG;
  }
  r->pool = json_is_true(v) ? 1 : -1;
  return 0;
}


static int client_cert_field(cp_rule_t *r, json_t *v,
                             const cp_profiles_t *profiles, char *err,
                             size_t errlen) {
  const char *s = json_is_string(v) ? json_string_value(v) : "";

  (void)profiles;
  if (*s == '\0' || strlen(s) >= sizeof(r->client_cert)) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "\"upstream_client_cert\" must be the path of a PEM "
                   "file (certificate and key)");
  }
  if (cp_tls_client_cert_check(s, "\"upstream_client_cert\"", err, errlen) !=
      0) {
    return CP_ECONFIG;
  }
  snprintf(r->client_cert, sizeof(r->client_cert), "%s", s);
  return 0;
}


/* "upstream_proxy": a parent URL, or "direct" (past any --upstream-proxy). */
static int parent_field(cp_rule_t *r, json_t *v, const cp_profiles_t *profiles,
                        char *err, size_t errlen) {
  const char *s = json_is_string(v) ? json_string_value(v) : "";
  char inner[256];

  (void)profiles;
  if (strcmp(s, "direct") == 0) {
    r->parent_direct = 1;
    return 0;
  }
  if (cp_parent_parse(&r->parent, s, inner, sizeof(inner)) != 0) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "\"upstream_proxy\" must be \"direct\" or "
                   "http://[user:password@]host:port: %s",
                   inner);
  }
  r->parent_set = 1;
  return 0;
}


/* Every field a rule may have, in the order they are read. "host" is read
 * first by cp_rule_parse itself; a NULL parser marks the corporate
 * behaviours, read last by cp_rule_parse_corp (rules_corp.c), which checks
 * them against each other and may allocate the block page. The unknown-field
 * message lists this table, so the two cannot drift. */
static const struct {
  const char *name;
  field_fn parse;
} rule_fields[] = {
    {"host", NULL},
    {"chain", chain_field},
    {"port", port_field},
    {"client_tls_min", client_floor_field},
    {"upstream_tls_min", upstream_floor_field},
    {"leaf_key", leaf_key_field},
    {"require_sni", require_sni_field},
    {"upstream_client_cert", client_cert_field},
    {"upstream_resume", resume_field},
    {"upstream_pool", pool_field},
    {"upstream_proxy", parent_field},
    {"block", NULL},
    {"auth", NULL},
    {"sni_block", NULL},
    {"timeout", NULL},
    {"reset_after_bytes", NULL},
    {"latency", NULL},
    {"jitter", NULL},
    {"bandwidth", NULL},
    {"strip_intermediate", NULL},
    {"downgrade_tls", NULL},
};


/* Fails on a key the table does not hold (or "host" where the host is given
 * apart), naming the fields there are. */
static int known_fields(json_t *o, int host_apart, char *err, size_t errlen) {
  const char *key;
  json_t *v;
  char list[512];
  size_t k, len;

  json_object_foreach(o, key, v) {
    for (k = host_apart ? 1 : 0; k < CP_ARRAY_SIZE(rule_fields); k++) {
      if (strcmp(key, rule_fields[k].name) == 0) {
        break;
      }
    }
    if (k < CP_ARRAY_SIZE(rule_fields)) {
      continue;
    }
    list[0] = '\0';
    for (k = host_apart ? 1 : 0; k < CP_ARRAY_SIZE(rule_fields); k++) {
      len = strlen(list);
      snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "",
               rule_fields[k].name);
    }
    return cp_errf(err, errlen, CP_ECONFIG, "unknown field \"%s\" (fields: %s)",
                   key, list);
  }
  return 0;
}


int cp_rule_parse(cp_rule_t *r, json_t *o, const char *host,
                  const cp_profiles_t *profiles, char *err, size_t errlen) {
  json_t *v;
  size_t k;

  memset(r, 0, sizeof(*r));
  r->profile = -1; /* none: the default profile (--chain) */
  if (!json_is_object(o)) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "must be an object like {\"host\": "
                   "\"*.example.test\", \"chain\": \"legacy\"}");
  }
  if (known_fields(o, host != NULL, err, errlen) != 0) {
    return CP_ECONFIG;
  }
  v = json_object_get(o, "host");
  if (host == NULL &&
      (!json_is_string(v) || !cp_rules_host_ok(json_string_value(v)))) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "\"host\" must be a host name or glob such as "
                   "\"*.example.test\"");
  }
  snprintf(r->host, sizeof(r->host), "%s", host ? host : json_string_value(v));
  for (k = 0; k < CP_ARRAY_SIZE(rule_fields); k++) {
    v = json_object_get(o, rule_fields[k].name);
    if (rule_fields[k].parse != NULL && v != NULL && !json_is_null(v) &&
        rule_fields[k].parse(r, v, profiles, err, errlen) != 0) {
      return CP_ECONFIG;
    }
  }
  /* Last: it may allocate the block page, and nothing fails after it. */
  return cp_rule_parse_corp(r, o, profiles, err, errlen);
}


static int parse_rule(cp_rule_t *r, size_t i, json_t *o,
                      const cp_profiles_t *profiles, char *err, size_t errlen) {
  char inner[600];
  int rc = cp_rule_parse(r, o, NULL, profiles, inner, sizeof(inner));

  if (rc != 0) {
    cp_errf(err, errlen, rc, "rule %zu: %s", i, inner);
  }
  return rc;
}


/* Takes over doc (a reference). */
static int rules_from_doc(cp_rules_t *rules, json_t *doc,
                          const cp_profiles_t *profiles, char *err,
                          size_t errlen) {
  size_t i, n;
  int rc = 0;

  if (!json_is_array(doc)) {
    rc = cp_errf(err, errlen, CP_ECONFIG,
                 "must be a JSON list of rules, "
                 "e.g. [{\"host\": \"*.example.test\", \"chain\": "
                 "\"legacy\"}]");
    goto out;
  }
  n = json_array_size(doc);
  if (n > CP_RULES_MAX) {
    rc = cp_errf(err, errlen, CP_ECONFIG, "more than %d rules", CP_RULES_MAX);
    goto out;
  }
  rules->r = calloc(n ? n : 1, sizeof(*rules->r));
  if (rules->r == NULL) {
    rc = cp_errf(err, errlen, CP_ECONFIG, "out of memory");
    goto out;
  }
  for (i = 0; i < n; i++) {
    rc = parse_rule(&rules->r[i], i, json_array_get(doc, i), profiles, err,
                    errlen);
    if (rc != 0) {
      rules->n = (int)i; /* the rules parsed so far own pages */
      cp_rules_free(rules);
      goto out;
    }
  }
  rules->n = (int)n;
out:
  json_decref(doc);
  return rc;
}


int cp_rules_parse(cp_rules_t *rules, const char *json, size_t len,
                   const cp_profiles_t *profiles, char *err, size_t errlen) {
  json_error_t jerr;
  json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);

  memset(rules, 0, sizeof(*rules));
  if (doc == NULL) {
    return cp_errf_json(err, errlen, jerr.line, jerr.column, jerr.text);
  }
  return rules_from_doc(rules, doc, profiles, err, errlen);
}


int cp_rules_load(cp_rules_t *rules, const char *path,
                  const cp_profiles_t *profiles, char *err, size_t errlen) {
  json_error_t jerr;
  json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  char inner[600];
  int rc;

  memset(rules, 0, sizeof(*rules));
  rc = doc ? rules_from_doc(rules, doc, profiles, inner, sizeof(inner))
           : cp_errf_json(inner, sizeof(inner), jerr.line, jerr.column,
                          jerr.text);
  if (rc != 0) {
    cp_errf(err, errlen, rc, "%s: %s", path, inner);
  }
  return rc;
}


void cp_rules_free(cp_rules_t *rules) {
  int i;

  for (i = 0; i < rules->n; i++) {
    cp_rule_clear(&rules->r[i]);
  }
  free(rules->r);
  rules->r = NULL;
  rules->n = 0;
}


const cp_rule_t *cp_rules_find(const cp_rules_t *rules, const char *host,
                               uint16_t port) {
  int i;

  for (i = 0; i < rules->n; i++) {
    const cp_rule_t *r = &rules->r[i];

    if ((r->port == 0 || r->port == port) &&
        cp_host_glob_match(r->host, host)) {
      return r;
    }
  }
  return NULL;
}


int cp_rules_match(const cp_rules_t *rules, const char *host, uint16_t port) {
  const cp_rule_t *r = cp_rules_find(rules, host, port);

  return r ? r->profile : -1;
}


void cp_rule_clear(cp_rule_t *r) {
  free(r->block_page);
  r->block_page = NULL;
}


int cp_rules_equal(const cp_rules_t *a, const cp_rules_t *b) {
  int i;

  if (a->n != b->n) {
    return 0;
  }
  for (i = 0; i < a->n; i++) {
    cp_rule_t x = a->r[i];
    cp_rule_t y = b->r[i];

    /* Rules start zeroed (calloc, memset) and are copied whole, so equal
     * rules have equal bytes; a difference in padding could only make
     * two equal lists look different, never the reverse. */
    x.block_page = NULL;
    y.block_page = NULL;
    if (memcmp(&x, &y, sizeof(x)) != 0) {
      return 0;
    }
    if ((a->r[i].block_page == NULL) != (b->r[i].block_page == NULL) ||
        (a->r[i].block_page != NULL &&
         strcmp(a->r[i].block_page, b->r[i].block_page) != 0)) {
      return 0;
    }
  }
  return 1;
}


int cp_rules_copy(cp_rules_t *dst, const cp_rules_t *src) {
  int i;

  memset(dst, 0, sizeof(*dst));
  if (src == NULL || src->n == 0) {
    return 0;
  }
  dst->r = malloc((size_t)src->n * sizeof(*src->r));
  if (dst->r == NULL) {
    return CP_ENOMEM;
  }
  memcpy(dst->r, src->r, (size_t)src->n * sizeof(*src->r));
  for (i = 0; i < src->n; i++) {
    if (src->r[i].block_page != NULL &&
        (dst->r[i].block_page = strdup(src->r[i].block_page)) == NULL) {
      dst->n = i; /* the pages copied so far are freed */
      cp_rules_free(dst);
      return CP_ENOMEM;
    }
  }
  dst->n = src->n;
  return 0;
}
