#include "diag/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/rfc3339.h"

/* CA/Browser Forum ballot SC31: leaves issued from 2020-09-01 live at
 * most 398 days in Chrome, Safari and Firefox. */
#define LIFETIME_FROM ((time_t)1598918400)
#define LIFETIME_DAYS 398


static void entry_free(cp_distrust_entry_t *e) {
  free(e->sha256);
  free(e->orgs);
  e->sha256 = NULL;
  e->orgs = NULL;
}


void cp_distrust_free(cp_distrust_t *d) {
  int i;

  for (i = 0; i < d->n; i++) {
    entry_free(&d->e[i]);
  }
  free(d->e);
  d->e = NULL;
  d->n = 0;
}


/* A list of strings (at most cap bytes each) into *out. */
static int strings(json_t *arr, const char *what, size_t cap, char **out,
                   int *n, char *err, size_t errlen) {
  size_t i;

  *out = NULL;
  *n = 0;
  if (arr == NULL) {
    return 0;
  }
  if (!json_is_array(arr) || json_array_size(arr) > 64) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "\"%s\" must be a list of at most 64 strings", what);
  }
  *out = calloc(json_array_size(arr) + 1, cap);
  if (*out == NULL) {
    return cp_errf(err, errlen, CP_ENOMEM, "out of memory");
  }
  for (i = 0; i < json_array_size(arr); i++) {
    json_t *v = json_array_get(arr, i);

    if (!json_is_string(v) || strlen(json_string_value(v)) >= cap ||
        json_string_length(v) == 0) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "\"%s\" %zu: a non-empty string under %zu bytes", what, i,
                     cap);
    }
    snprintf(*out + i * cap, cap, "%s", json_string_value(v));
    (*n)++;
  }
  return 0;
}


static int parse_entry(cp_distrust_entry_t *e, json_t *o, char *err,
                       size_t errlen) {
  const char *name = json_string_value(json_object_get(o, "name"));
  const char *clients = json_string_value(json_object_get(o, "clients"));
  const char *source = json_string_value(json_object_get(o, "source"));
  const char *after = json_string_value(json_object_get(o, "after"));
  char *p = NULL;
  int i;

  if (!json_is_object(o) || name == NULL || clients == NULL || source == NULL) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "needs \"name\", \"clients\" and \"source\"");
  }
  snprintf(e->name, sizeof(e->name), "%s", name);
  snprintf(e->clients, sizeof(e->clients), "%s", clients);
  snprintf(e->source, sizeof(e->source), "%s", source);
  if (after != NULL && cp_rfc3339_parse(after, &e->after) != 0) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "\"after\": '%s' is not a date (2024-11-30)", after);
  }
  if (strings(json_object_get(o, "sha256"), "sha256", 65, &p, &e->nsha256, err,
              errlen) != 0) {
    free(p);
    return CP_ECONFIG;
  }
  e->sha256 = (char(*)[65])p;
  for (i = 0; i < e->nsha256; i++) {
    if (strlen(e->sha256[i]) != 64 ||
        strspn(e->sha256[i], "0123456789abcdef") != 64) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "\"sha256\" %d: 64 lower-case hex digits", i);
    }
  }
  if (strings(json_object_get(o, "organizations"), "organizations", 96, &p,
              &e->norgs, err, errlen) != 0) {
    free(p);
    return CP_ECONFIG;
  }
  e->orgs = (char(*)[96])p;
  if (e->nsha256 == 0 && e->norgs == 0) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "needs \"sha256\" or \"organizations\" to match");
  }
  return 0;
}


static int from_doc(cp_distrust_t *d, json_t *doc, char *err, size_t errlen) {
  json_t *list = json_object_get(doc, "distrust");
  char inner[300];
  size_t i;

  if (!json_is_array(list)) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "must be an object with a \"distrust\" list");
  }
  d->e = calloc(json_array_size(list) + 1, sizeof(*d->e));
  if (d->e == NULL) {
    return cp_errf(err, errlen, CP_ENOMEM, "out of memory");
  }
  for (i = 0; i < json_array_size(list); i++) {
    d->n = (int)i + 1;
    if (parse_entry(&d->e[i], json_array_get(list, i), inner, sizeof(inner)) !=
        0) {
      cp_errf(err, errlen, CP_ECONFIG, "entry %zu: %s", i, inner);
      cp_distrust_free(d);
      return CP_ECONFIG;
    }
  }
  return 0;
}


int cp_distrust_parse(cp_distrust_t *d, const char *json, size_t len, char *err,
                      size_t errlen) {
  json_error_t jerr;
  json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
  int rc;

  memset(d, 0, sizeof(*d));
  if (doc == NULL) {
    return cp_errf_json(err, errlen, jerr.line, jerr.column, jerr.text);
  }
  rc = from_doc(d, doc, err, errlen);
  json_decref(doc);
  return rc;
}


int cp_distrust_load(cp_distrust_t *d, const char *path, char *err,
                     size_t errlen) {
  json_error_t jerr;
  json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  char inner[400];
  int rc;

  memset(d, 0, sizeof(*d));
  rc = doc ? from_doc(d, doc, inner, sizeof(inner))
           : cp_errf_json(inner, sizeof(inner), jerr.line, jerr.column,
                          jerr.text);
  json_decref(doc);
  if (rc != 0) {
    cp_errf(err, errlen, rc, "--distrust %s: %s", path, inner);
  }
  return rc;
}


/* Does CA certificate c belong to entry e? */
static int matches(const cp_distrust_entry_t *e, const cp_cert_info_t *c) {
  char org[104];
  int i;

  for (i = 0; i < e->nsha256; i++) {
    if (strcmp(e->sha256[i], c->sha256) == 0) {
      return 1;
    }
  }
  for (i = 0; i < e->norgs; i++) {
    snprintf(org, sizeof(org), "O=%s", e->orgs[i]);
    if (strstr(c->subject, org) != NULL) {
      return 1;
    }
  }
  return 0;
}


static void add(cp_verify_result_t *r, const char *name, const char *hint) {
  if (r->nbrowser < (int)(sizeof(r->browser) / sizeof(r->browser[0]))) {
    char *out = r->browser[r->nbrowser].hint;
    size_t n = strlen(hint);

    if (n >= sizeof(r->browser[0].hint)) {
      n = sizeof(r->browser[0].hint) - 1; /* cut: the hint is advice */
    }
    memcpy(out, hint, n);
    out[n] = '\0';
    r->browser[r->nbrowser].name = name;
    r->nbrowser++;
  }
}


static void distrust(const cp_distrust_t *d, cp_verify_result_t *r,
                     const cp_cert_info_t *leaf) {
  char hint[1400], after[16];
  int i, k;

  for (i = 1; d != NULL && i < r->nbuilt; i++) {
    for (k = 0; k < d->n; k++) {
      const cp_distrust_entry_t *e = &d->e[k];

      if (!matches(e, &r->built[i]) ||
          (e->after != 0 && leaf->nb <= e->after)) {
        continue;
      }
      strftime(after, sizeof(after), "%Y-%m-%d", gmtime(&e->after));
      snprintf(hint, sizeof(hint),
               "'%s' belongs to %s, which %s distrust%s%s (%s): this leaf "
               "(issued %.10s) fails there while curl, Python and Node pass; "
               "move the site to another CA.",
               r->built[i].subject, e->name, e->clients,
               e->after ? " for certificates issued after " : "",
               e->after ? after : "", e->source, leaf->not_before);
      add(r, "distrusted_ca", hint);
      return;
    }
  }
}


void cp_policy_check(const cp_distrust_t *d, cp_verify_result_t *r) {
  const cp_cert_info_t *leaf = r->nchain > 0 ? &r->chain[0] : NULL;
  char hint[480];
  long days;

  r->nbrowser = 0;
  if (!r->ok || leaf == NULL) {
    return;
  }
  distrust(d, r, leaf);
  /* CT and lifetime bind publicly trusted CAs only: a root added locally
   * (a corporate or private CA) is exempt in every browser. */
  if (r->private_root == 0 && !leaf->has_sct) {
    add(r, "no_sct",
        "The leaf carries no embedded SCTs (Certificate Transparency): "
        "Chrome and Safari refuse publicly trusted certificates without "
        "them, unless the server sends SCTs in its TLS handshake or OCSP "
        "staple (chainproxy does not read those); curl, Python and Node "
        "do not check.");
  }
  days = leaf->na > leaf->nb ? (long)((leaf->na - leaf->nb) / 86400) : 0;
  if (r->private_root == 0 && leaf->nb >= LIFETIME_FROM &&
      days > LIFETIME_DAYS) {
    snprintf(hint, sizeof(hint),
             "The leaf is valid for %ld days (from %.10s): Chrome, Safari and "
             "Firefox refuse publicly trusted leaves issued since 2020-09-01 "
             "that live more than %d days; curl, Python and Node accept it. "
             "Reissue it for at most %d days.",
             days, leaf->not_before, LIFETIME_DAYS, LIFETIME_DAYS);
    add(r, "long_validity", hint);
  }
  if (r->nbrowser > 0 && r->warning == NULL) {
    r->warning = r->browser[0].name;
    snprintf(r->warning_hint, sizeof(r->warning_hint), "%s",
             r->browser[0].hint);
  }
}
