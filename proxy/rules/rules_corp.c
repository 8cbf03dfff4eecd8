/* The rules' corporate-network behaviours: what a web filter, an SNI
 * filter, a DLP box or a slow WAN link does to one host. Parsed from the
 * same rule object as the chain and TLS settings (rules.c). */
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

#define BLOCK_PAGE_MAX (64 * 1024)


/* TLS 1.0 .. 1.3 by the names users type; OpenSSL's numbers are
 * TLS1_VERSION (0x0301) upwards in the same order. */
static const char *const tls_versions[] = {"1.0", "1.1", "1.2", "1.3"};


int cp_rules_parse_tls_version(const char *v) {
  size_t k;

  for (k = 0; k < CP_ARRAY_SIZE(tls_versions); k++) {
    if (strcmp(v, tls_versions[k]) == 0) {
      return 0x0301 + (int)k;
    }
  }
  return 0;
}


const char *cp_rules_tls_version_str(int version) {
  return version >= 0x0301 && version <= 0x0304 ? tls_versions[version - 0x0301]
                                                : NULL;
}

static const char *const names[CP_FAULT_COUNT] = {
    [CP_FAULT_BLOCK] = "block",
    [CP_FAULT_AUTH] = "auth",
    [CP_FAULT_SNI_BLOCK] = "sni_block",
    [CP_FAULT_TIMEOUT] = "timeout",
    [CP_FAULT_RESET] = "reset_after_bytes",
    [CP_FAULT_LATENCY] = "latency",
    [CP_FAULT_BANDWIDTH] = "bandwidth",
    [CP_FAULT_STRIP] = "strip_intermediate",
    [CP_FAULT_DOWNGRADE] = "downgrade_tls",
};


const char *cp_rule_fault_name(unsigned fault) {
  return fault < CP_FAULT_COUNT ? names[fault] : "?";
}


static int bad(char *err, size_t errlen, const char *field, const char *what) {
  return cp_errf(err, errlen, CP_ECONFIG, "\"%s\" must be %s", field, what);
}


/* An optional non-negative integer field up to max. */
static int count_field(json_t *o, const char *name, uint64_t max, uint64_t *out,
                       char *err, size_t errlen) {
  json_t *v = json_object_get(o, name);
  char what[96];

  if (v == NULL || json_is_null(v)) {
    return 0;
  }
  if (!json_is_integer(v) || json_integer_value(v) < 0 ||
      (uint64_t)json_integer_value(v) > max) {
    snprintf(what, sizeof(what), "a number from 0 to %llu",
             (unsigned long long)max);
    return bad(err, errlen, name, what);
  }
  *out = (uint64_t)json_integer_value(v);
  return 0;
}


static int flag_field(json_t *o, const char *name, int *out, char *err,
                      size_t errlen) {
  json_t *v = json_object_get(o, name);

  if (v == NULL || json_is_null(v)) {
    return 0;
  }
  if (!json_is_boolean(v)) {
    return bad(err, errlen, name, "true or false");
  }
  *out = json_is_true(v);
  return 0;
}


/* "block": true | STATUS | {"status": N, "page": HTML}. The page is
 * parsed last so that nothing can fail after it is allocated. */
static int block_field(cp_rule_t *r, json_t *o, char *err, size_t errlen) {
  json_t *v = json_object_get(o, "block"), *st, *page;
  const char *what = "true, a status from 400 to 599, or "
                     "{\"status\": N, \"page\": \"<html>...\"}";
  json_int_t status = 403;

  if (v == NULL || json_is_null(v) || json_is_false(v)) {
    return 0;
  }
  if (json_is_true(v)) {
    r->block_status = 403;
    return 0;
  }
  if (json_is_integer(v)) {
    status = json_integer_value(v);
    page = NULL;
  } else if (json_is_object(v)) {
    const char *key;
    json_t *x;

    json_object_foreach(v, key, x) {
      if (strcmp(key, "status") != 0 && strcmp(key, "page") != 0) {
        return bad(err, errlen, "block", what);
      }
    }
    st = json_object_get(v, "status");
    page = json_object_get(v, "page");
    if (st != NULL && !json_is_integer(st)) {
      return bad(err, errlen, "block", what);
    }
    status = st ? json_integer_value(st) : 403;
    if (page != NULL &&
        (!json_is_string(page) || json_string_length(page) > BLOCK_PAGE_MAX)) {
      return bad(err, errlen, "block", "with a \"page\" of at most 64 KiB");
    }
  } else {
    return bad(err, errlen, "block", what);
  }
  if (status < 400 || status > 599) {
    return bad(err, errlen, "block", what);
  }
  r->block_status = (int)status;
  if (page != NULL) {
    r->block_page = strdup(json_string_value(page));
    if (r->block_page == NULL) {
      return cp_errf(err, errlen, CP_ENOMEM, "out of memory");
    }
  }
  return 0;
}


int cp_rule_parse_corp(cp_rule_t *r, json_t *o, const cp_profiles_t *profiles,
                       char *err, size_t errlen) {
  uint64_t latency = 0, jitter = 0, bandwidth = 0;
  json_t *v;

  v = json_object_get(o, "auth");
  if (v != NULL && !json_is_null(v)) {
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    const char *colon = strchr(s, ':');

    if (colon == NULL || colon == s || colon[1] == '\0' ||
        strlen(s) >= sizeof(r->auth)) {
      return bad(err, errlen, "auth",
                 "\"USER:PASSWORD\" (both non-empty, at most 255 characters)");
    }
    snprintf(r->auth, sizeof(r->auth), "%s", s);
  }
  if (flag_field(o, "sni_block", &r->sni_block, err, errlen) ||
      flag_field(o, "timeout", &r->hold, err, errlen) ||
      flag_field(o, "strip_intermediate", &r->strip, err, errlen) ||
      count_field(o, "reset_after_bytes", (uint64_t)1 << 40, &r->reset_after,
                  err, errlen) ||
      count_field(o, "latency", 60000, &latency, err, errlen) ||
      count_field(o, "jitter", 60000, &jitter, err, errlen) ||
      count_field(o, "bandwidth", 10000000, &bandwidth, err, errlen)) {
    return CP_ECONFIG;
  }
  r->latency_ms = (unsigned)latency;
  r->jitter_ms = (unsigned)jitter;
  r->bandwidth = (unsigned)bandwidth;
  if (r->jitter_ms > 0 && r->latency_ms == 0) {
    return bad(err, errlen, "jitter", "given with \"latency\"");
  }
  v = json_object_get(o, "downgrade_tls");
  if (v != NULL && !json_is_null(v)) {
    r->tls_max = json_is_string(v)
                     ? cp_rules_parse_tls_version(json_string_value(v))
                     : 0;
    if (r->tls_max == 0) {
      return bad(err, errlen, "downgrade_tls",
                 "one of \"1.0\", \"1.1\", \"1.2\", \"1.3\"");
    }
  }
  if (r->strip) {
    /* The profile that leaves the intermediate out, by its name. */
    int incomplete = cp_profiles_find(profiles, "incomplete");

    if (incomplete < 0 || (r->profile >= 0 && r->profile != incomplete)) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "\"strip_intermediate\" serves the \"incomplete\" "
                     "profile: leave \"chain\" out or make it "
                     "\"incomplete\"");
    }
    r->profile = incomplete;
  }
  return block_field(r, o, err, errlen);
}


void cp_rule_corp_json(const cp_rule_t *r, json_t *o) {
  if (r->block_status != 0) {
    json_object_set_new(o, "block",
                        r->block_page
                            ? json_pack("{s:i,s:s}", "status", r->block_status,
                                        "page", r->block_page)
                            : json_pack("{s:i}", "status", r->block_status));
  }
  if (r->auth[0] != '\0') {
    /* The user only: the API never shows a password. */
    json_object_set_new(o, "auth_user",
                        json_stringn(r->auth, strcspn(r->auth, ":")));
  }
  if (r->sni_block) {
    json_object_set_new(o, "sni_block", json_true());
  }
  if (r->hold) {
    json_object_set_new(o, "timeout", json_true());
  }
  if (r->strip) {
    json_object_set_new(o, "strip_intermediate", json_true());
  }
  if (r->reset_after != 0) {
    json_object_set_new(o, "reset_after_bytes",
                        json_integer((json_int_t)r->reset_after));
  }
  if (r->latency_ms != 0) {
    json_object_set_new(o, "latency", json_integer(r->latency_ms));
  }
  if (r->jitter_ms != 0) {
    json_object_set_new(o, "jitter", json_integer(r->jitter_ms));
  }
  if (r->bandwidth != 0) {
    json_object_set_new(o, "bandwidth", json_integer(r->bandwidth));
  }
  if (r->tls_max != 0) {
    json_object_set_new(o, "downgrade_tls",
                        json_string(cp_rules_tls_version_str(r->tls_max)));
  }
}


int cp_rule_has_faults(const cp_rule_t *r) {
  return r->block_status || r->auth[0] || r->sni_block || r->hold || r->strip ||
         r->reset_after || r->latency_ms || r->bandwidth || r->tls_max;
}
