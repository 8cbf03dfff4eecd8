/* Path simulator families as data: certs/families.json. Every family
 * names its strategy and judging rules; every rule has a source (the
 * file's "sources" objects; not read here, required to exist). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "diag/pathsim.h"

static const char *const strategies[] = {"trusted_first", "untrusted_first",
                                         "presented", "search"};


void cp_pathsim_set_free(cp_pathsim_set_t *s) {
  free(s->f);
  s->f = NULL;
  s->n = 0;
}


/* true/false/integer; null or "unknown" gives dflt and marks unknown. */
static int num(json_t *o, const char *key, int dflt, int *unknown) {
  json_t *v = json_object_get(o, key);

  if (json_is_true(v)) {
    return 1;
  }
  if (json_is_false(v)) {
    return 0;
  }
  if (json_is_integer(v)) {
    return (int)json_integer_value(v);
  }
  if (json_is_string(v) && strcmp(json_string_value(v), "unknown") == 0) {
    *unknown = 1;
    return -1;
  }
  return dflt;
}


static int parse_family(cp_pathsim_family_t *f, json_t *o, char *err,
                        size_t errlen) {
  const char *id = json_string_value(json_object_get(o, "id"));
  const char *name = json_string_value(json_object_get(o, "name"));
  const char *st = json_string_value(json_object_get(o, "strategy"));
  size_t k;

  if (id == NULL || name == NULL || st == NULL || strlen(id) >= sizeof(f->id) ||
      !json_is_object(json_object_get(o, "sources"))) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "needs \"id\", \"name\", \"strategy\" and \"sources\"");
  }
  snprintf(f->id, sizeof(f->id), "%s", id);
  snprintf(f->name, sizeof(f->name), "%s", name);
  for (k = 0; k < CP_ARRAY_SIZE(strategies); k++) {
    if (strcmp(st, strategies[k]) == 0) {
      break;
    }
  }
  if (k == CP_ARRAY_SIZE(strategies)) {
    return cp_errf(err, errlen, CP_ECONFIG, "%s: unknown strategy '%s'", id,
                   st);
  }
  f->strategy = (cp_pathsim_strategy_t)k;
  f->alt_chains = num(o, "alt_chains", 0, &f->unknown);
  f->anchor_expiry = num(o, "anchor_expiry", 1, &f->unknown);
  f->retry_expired = num(o, "retry_expired", 0, &f->unknown);
  f->stop_at_trusted = num(o, "stop_at_trusted", 0, &f->unknown);
  f->partial_chain = num(o, "partial_chain", 0, &f->unknown);
  f->strict = num(o, "strict", 0, &f->unknown);
  f->require_ca_bc = num(o, "require_ca_bc", 0, &f->unknown);
  f->aia_fetch = num(o, "aia_fetch", 0, &f->unknown);
  f->sha1 = num(o, "sha1", 1, &f->unknown);
  f->min_rsa_bits = num(o, "min_rsa_bits", 0, &f->unknown);
  f->max_rsa_bits = num(o, "max_rsa_bits", 0, &f->unknown);
  f->cn_fallback = num(o, "cn_fallback", -1, &f->unknown);
  f->openssl_errors = num(o, "openssl_errors", 0, &f->unknown);
  if (json_is_string(json_object_get(o, "speaks_for"))) {
    snprintf(f->speaks_for, sizeof(f->speaks_for), "%s",
             json_string_value(json_object_get(o, "speaks_for")));
  }
  /* an unknown rule judges as the permissive choice; the verdict is then
   * flagged as a prediction */
  if (f->anchor_expiry < 0) {
    f->anchor_expiry = 0;
  }
  if (f->sha1 < 0) {
    f->sha1 = 1;
  }
  if (f->min_rsa_bits < 0) {
    f->min_rsa_bits = 0;
  }
  if (f->max_rsa_bits < 0) {
    f->max_rsa_bits = 0;
  }
  return 0;
}


int cp_pathsim_parse(cp_pathsim_set_t *s, const char *json, size_t len,
                     char *err, size_t errlen) {
  json_error_t jerr;
  json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
  json_t *fams, *o;
  size_t i;
  int rc = 0;
  char inner[300];

  memset(s, 0, sizeof(*s));
  if (doc == NULL) {
    return cp_errf_json(err, errlen, jerr.line, jerr.column, jerr.text);
  }
  fams = json_object_get(doc, "families");
  if (!json_is_array(fams) || json_array_size(fams) == 0) {
    rc = cp_errf(err, errlen, CP_ECONFIG, "needs a \"families\" array");
    goto out;
  }
  s->f = calloc(json_array_size(fams), sizeof(*s->f));
  if (s->f == NULL) {
    rc = CP_ENOMEM;
    goto out;
  }
  json_array_foreach(fams, i, o) {
    rc = parse_family(&s->f[i], o, inner, sizeof(inner));
    if (rc != 0) {
      cp_errf(err, errlen, rc, "families[%zu]: %s", i, inner);
      cp_pathsim_set_free(s);
      goto out;
    }
    s->n++;
  }
out:
  json_decref(doc);
  return rc;
}


int cp_pathsim_load(cp_pathsim_set_t *s, const char *path, char *err,
                    size_t errlen) {
  FILE *fp = fopen(path, "rb");
  char *buf = NULL;
  long len;
  int rc;

  memset(s, 0, sizeof(*s));
  if (fp == NULL) {
    return cp_errf(err, errlen, CP_ECONFIG, "%s: cannot open", path);
  }
  if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
      fseek(fp, 0, SEEK_SET) != 0 || (buf = malloc((size_t)len + 1)) == NULL ||
      fread(buf, 1, (size_t)len, fp) != (size_t)len) {
    fclose(fp);
    free(buf);
    return cp_errf(err, errlen, CP_ECONFIG, "%s: cannot read", path);
  }
  fclose(fp);
  rc = cp_pathsim_parse(s, buf, (size_t)len, err, errlen);
  free(buf);
  return rc;
}


const cp_pathsim_family_t *cp_pathsim_find(const cp_pathsim_set_t *s,
                                           const char *id) {
  int i;

  for (i = 0; i < s->n; i++) {
    if (strcmp(s->f[i].id, id) == 0) {
      return &s->f[i];
    }
  }
  return NULL;
}
