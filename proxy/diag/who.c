#include "diag/who.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "diag/diag.h"
#include "base/err.h"

static const char *const kind_names[] = {
#define CP_WHO_NAME(e, s) s,
    CP_WHO_KINDS(CP_WHO_NAME)
#undef CP_WHO_NAME
};

static const char *const path_names[] = {
    "trusted_first", "alternate_chains", "presented",
    "any_path",      "strict_expiry",
};


void cp_who_free(cp_who_t *w) {
  free(w->f);
  w->f = NULL;
  w->n = 0;
}


/* true, false, or null (unknown); "private_only" for sha1. */
static int tristate(json_t *v, const char *name, char *err, size_t errlen,
                    int *out) {
  if (json_is_true(v)) {
    *out = 1;
  } else if (json_is_false(v)) {
    *out = 0;
  } else if (v == NULL || json_is_null(v)) {
    *out = -1;
  } else if (json_is_string(v) &&
             strcmp(json_string_value(v), "private_only") == 0) {
    *out = 2;
  } else {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "\"%s\" must be true, false or null", name);
  }
  return 0;
}


static int parse_family(cp_who_family_t *f, json_t *o, char *err,
                        size_t errlen) {
  const char *id = json_string_value(json_object_get(o, "id"));
  const char *name = json_string_value(json_object_get(o, "name"));
  const char *path = json_string_value(json_object_get(o, "path"));
  json_t *errors = json_object_get(o, "errors"), *v;
  const char *key;
  size_t k;

  if (id == NULL || name == NULL || path == NULL ||
      strlen(id) >= sizeof(f->id) || !json_is_object(errors) ||
      !json_is_object(json_object_get(o, "sources"))) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "needs \"id\", \"name\", \"path\", \"errors\" and "
                   "\"sources\"");
  }
  snprintf(f->id, sizeof(f->id), "%s", id);
  snprintf(f->name, sizeof(f->name), "%s", name);
  for (k = 0; k < CP_ARRAY_SIZE(path_names); k++) {
    if (strcmp(path, path_names[k]) == 0) {
      break;
    }
  }
  if (k == CP_ARRAY_SIZE(path_names)) {
    return cp_errf(err, errlen, CP_ECONFIG, "\"path\": unknown '%s'", path);
  }
  f->path = (cp_who_path_t)k;
  if (tristate(json_object_get(o, "aia_fetch"), "aia_fetch", err, errlen,
               &f->aia_fetch) ||
      tristate(json_object_get(o, "weak_rsa1024"), "weak_rsa1024", err, errlen,
               &f->weak_rsa1024) ||
      tristate(json_object_get(o, "sha1"), "sha1", err, errlen, &f->sha1) ||
      tristate(json_object_get(o, "browser"), "browser", err, errlen,
               &f->browser) ||
      tristate(json_object_get(o, "revocation"), "revocation", err, errlen,
               &f->revocation) ||
      tristate(json_object_get(o, "anchor_expiry"), "anchor_expiry", err,
               errlen, &f->anchor_expiry) ||
      tristate(json_object_get(o, "policy_check"), "policy_check", err, errlen,
               &f->policy_check)) {
    return CP_ECONFIG;
  }
  json_object_foreach(errors, key, v) {
    if (strcmp(key, "openssl") == 0) {
      f->openssl_errors = json_is_true(v);
      continue;
    }
    for (k = 0; k < CP_WHO_NKINDS; k++) {
      if (strcmp(key, kind_names[k]) == 0) {
        break;
      }
    }
    if (k == CP_WHO_NKINDS || !json_is_string(v)) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "\"errors\": unknown kind '%s' or not a string", key);
    }
    snprintf(f->errors[k], sizeof(f->errors[k]), "%s", json_string_value(v));
  }
  return 0;
}


static int from_doc(cp_who_t *w, json_t *doc, char *err, size_t errlen) {
  json_t *list = json_object_get(doc, "families");
  char inner[300];
  size_t i;

  if (!json_is_array(list) || json_array_size(list) == 0 ||
      json_array_size(list) > 10) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "must be an object with a \"families\" list (1 to 10)");
  }
  w->f = calloc(json_array_size(list), sizeof(*w->f));
  if (w->f == NULL) {
    return cp_errf(err, errlen, CP_ENOMEM, "out of memory");
  }
  for (i = 0; i < json_array_size(list); i++) {
    if (parse_family(&w->f[i], json_array_get(list, i), inner, sizeof(inner)) !=
        0) {
      cp_who_free(w);
      return cp_errf(err, errlen, CP_ECONFIG, "family %zu: %s", i, inner);
    }
    w->n++;
  }
  return 0;
}


int cp_who_parse(cp_who_t *w, const char *json, size_t len, char *err,
                 size_t errlen) {
  json_error_t jerr;
  json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
  int rc;

  memset(w, 0, sizeof(*w));
  if (doc == NULL) {
    return cp_errf_json(err, errlen, jerr.line, jerr.column, jerr.text);
  }
  rc = from_doc(w, doc, err, errlen);
  json_decref(doc);
  return rc;
}


int cp_who_load(cp_who_t *w, const char *path, char *err, size_t errlen) {
  json_error_t jerr;
  json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  char inner[400];
  int rc;

  memset(w, 0, sizeof(*w));
  rc = doc ? from_doc(w, doc, inner, sizeof(inner))
           : cp_errf_json(inner, sizeof(inner), jerr.line, jerr.column,
                          jerr.text);
  json_decref(doc);
  if (rc != 0) {
    cp_errf(err, errlen, rc, "%s: %s", path, inner);
  }
  return rc;
}


static cp_who_kind_t kind_of(int cause) {
  switch (cause) {
  case CP_CAUSE_UNTRUSTED_ROOT:
    return CP_WHO_IN_CHAIN;
  case CP_CAUSE_SELF_SIGNED_LEAF:
    return CP_WHO_SELF_SIGNED;
  case CP_CAUSE_INCOMPLETE_CHAIN:
    return CP_WHO_INCOMPLETE;
  case CP_CAUSE_UNKNOWN_ISSUER:
    return CP_WHO_UNKNOWN_ISSUER;
  case CP_CAUSE_EXPIRED_CROSS_SIGN:
  case CP_CAUSE_EXPIRED_ROOT:
  case CP_CAUSE_EXPIRED_INTERMEDIATE:
  case CP_CAUSE_EXPIRED_LEAF:
    return CP_WHO_EXPIRED;
  case CP_CAUSE_NOT_YET_VALID:
    return CP_WHO_NOT_YET_VALID;
  case CP_CAUSE_HOSTNAME_MISMATCH:
    return CP_WHO_HOSTNAME;
  case CP_CAUSE_WEAK_KEY:
    return CP_WHO_WEAK_KEY;
  case CP_CAUSE_WEAK_SIGNATURE:
    return CP_WHO_WEAK_SIGNATURE;
  case CP_CAUSE_REVOKED:
    return CP_WHO_REVOKED;
  default:
    return CP_WHO_OTHER;
  }
}


/* Would family f pass an error of this cause? 1 yes, 0 no, -1 unknown. */
static int tolerates(const cp_who_family_t *f, const cp_verify_result_t *r,
                     int i, cp_cause_t cause) {
  int d = r->errors[i].depth;
  const cp_cert_info_t *c = d >= 0 && d < r->nbuilt ? &r->built[d] : NULL;

  switch (cause) {
  case CP_CAUSE_WEAK_KEY:
    return c != NULL && c->key_bits >= 1024 ? f->weak_rsa1024 : 0;
  case CP_CAUSE_WEAK_SIGNATURE:
    return f->sha1 == 2 ? -1 : f->sha1; /* whose root: not known here */
  case CP_CAUSE_REVOKED:
    return f->revocation < 0 ? -1 : !f->revocation;
  case CP_CAUSE_EXPIRED_ROOT:
    /* Some take the trust anchor as it is, dates and all. */
    return c != NULL && c->in_store && f->anchor_expiry >= 0 ? !f->anchor_expiry
           : f->anchor_expiry < 0                            ? -1
                                                             : 0;
  case CP_CAUSE_INCOMPLETE_CHAIN:
    /* A client that fetches the issuer from the leaf's AIA URL. */
    return f->aia_fetch == 1 && r->nbuilt > 0 && r->built[0].ca_issuers[0] ? 1
           : f->aia_fetch == 1                                             ? -1
                                                                           : 0;
  default:
    return 0;
  }
}


static void set(cp_verify_result_t *r, const cp_who_family_t *f,
                const char *verdict, const char *error) {
  int n = r->nwho;

  if (n >= (int)(sizeof(r->who) / sizeof(r->who[0]))) {
    return;
  }
  r->who[n].family = f->id;
  r->who[n].verdict = verdict;
  r->who[n].path_rule = 0;
  snprintf(r->who[n].error, sizeof(r->who[n].error), "%s", error ? error : "");
  r->nwho++;
}


static const char *error_for(const cp_who_family_t *f,
                             const cp_verify_result_t *r, cp_who_kind_t k) {
  if (f->openssl_errors && r->error != NULL && !r->ok) {
    return r->error; /* OpenSSL prints its own text, as recorded */
  }
  if (f->openssl_errors && k == CP_WHO_EXPIRED) {
    return "certificate has expired";
  }
  if (f->openssl_errors && k == CP_WHO_UNKNOWN_ISSUER) {
    return "unable to get local issuer certificate";
  }
  return f->errors[k][0] ? f->errors[k] : f->errors[CP_WHO_OTHER];
}


static void failed_chain(const cp_who_family_t *f, cp_verify_result_t *r) {
  int i, verdict = r->nerrors > 0 ? 1 : 0;

  for (i = 0; i < r->nerrors && verdict != 0; i++) {
    int t = tolerates(f, r, i, cp_diag_error_cause(r, i));

    verdict = t == 0 ? 0 : t < 0 ? -1 : verdict;
  }
  if (verdict == 1) {
    set(r, f, "pass", NULL);
  } else if (verdict < 0) {
    set(r, f, "unknown", NULL);
  } else {
    set(r, f, "fail", error_for(f, r, kind_of(r->cause_id)));
  }
}


/* The expired certificate of a presented chain that verified anyway
 * (the AddTrust shape), or NULL. */
static const cp_cert_info_t *expired_presented(const cp_verify_result_t *r) {
  int i;

  for (i = 1; i < r->nchain; i++) {
    if (r->chain[i].na != 0 && r->chain[i].na <= r->at) {
      return &r->chain[i];
    }
  }
  return NULL;
}


/* A CA requires an explicit policy the leaf does not assert (OpenSSL
 * checks it only when asked; PKIX clients always do). */
static int policy_violated(const cp_verify_result_t *r) {
  int i;

  for (i = 1; i < r->nbuilt; i++) {
    if (r->built[i].requires_policy && r->nbuilt > 0 &&
        !r->built[0].has_policies) {
      return 1;
    }
  }
  return 0;
}


static void mark_path_rule(cp_verify_result_t *r) {
  if (r->nwho > 0) {
    r->who[r->nwho - 1].path_rule = 1;
  }
}


static void verified_chain(const cp_who_family_t *f, cp_verify_result_t *r) {
  const cp_cert_info_t *x = expired_presented(r);
  int i, cross = x != NULL && x->twin_root;

  if (x != NULL) {
    /* Every verdict set in this switch guesses at the family's path. */
    switch (f->path) {
    case CP_PATH_TRUSTED_FIRST:
    case CP_PATH_ANY:
      break;
    case CP_PATH_STRICT_EXPIRY:
      set(r, f, "fail", error_for(f, r, CP_WHO_EXPIRED));
      mark_path_rule(r);
      return;
    case CP_PATH_ALTERNATE_CHAINS:
      /* Follows the presented chain to the old root when the store has
       * it (expired); tries the trusted twin only when it does not. */
      if (!cross) {
        set(r, f, "unknown", NULL);
      } else if (x->issuer_in_store) {
        set(r, f, "fail", error_for(f, r, CP_WHO_EXPIRED));
      } else {
        break;
      }
      mark_path_rule(r);
      return;
    case CP_PATH_PRESENTED:
      if (!cross) {
        set(r, f, "unknown", NULL);
      } else {
        set(r, f, "fail",
            error_for(f, r,
                      x->issuer_in_store ? CP_WHO_EXPIRED
                                         : CP_WHO_UNKNOWN_ISSUER));
      }
      mark_path_rule(r);
      return;
    }
  }
  if (policy_violated(r) && f->policy_check != 0) {
    if (f->policy_check < 0) {
      set(r, f, "unknown", NULL);
    } else {
      set(r, f, "fail", error_for(f, r, CP_WHO_POLICY));
    }
    return;
  }
  for (i = 0; f->browser == 1 && i < r->nbrowser; i++) {
    cp_who_kind_t k = strcmp(r->browser[i].name, "no_sct") == 0 ? CP_WHO_NO_SCT
                      : strcmp(r->browser[i].name, "long_validity") == 0
                          ? CP_WHO_LONG_VALIDITY
                          : CP_WHO_DISTRUSTED_CA;

    set(r, f, "fail", error_for(f, r, k));
    return;
  }
  set(r, f, "pass", NULL);
}


void cp_who_predict(const cp_who_t *w, cp_verify_result_t *r) {
  int i;

  r->nwho = 0;
  for (i = 0; w != NULL && i < w->n; i++) {
    if (r->ok) {
      verified_chain(&w->f[i], r);
    } else {
      failed_chain(&w->f[i], r);
    }
  }
}
