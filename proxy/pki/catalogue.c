#include "pki/catalogue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "pki/mint.h"
#include "diag/cert.h"
#include "base/err.h"

#define DAY 86400L

/* Case i of the table (pki/catalogue_cases.c). */
static const cp_cat_case_t *case_at(size_t i) {
  size_t n;

  return &cp_catalogue_cases(&n)[i];
}


static X509 *element(const cp_catalogue_t *cat, cp_element_t e) {
  switch (e) {
  case CP_EL_INTERMEDIATE:
    return cat->ca.intermediate;
  case CP_EL_CROSS:
    return cat->ca.cross;
  case CP_EL_ROOT:
    return cat->ca.root;
  case CP_EL_LEGACY_ROOT:
    return cat->ca.legacy_root;
  case CP_EL_UNTRUSTED_INTERMEDIATE:
    return cat->ca.untrusted_inter;
  case CP_EL_UNTRUSTED_ROOT:
    return cat->ca.untrusted_root;
  default:
    return NULL;
  }
}


static int push(STACK_OF(X509) *sk, X509 *x) {
  if (x == NULL || X509_up_ref(x) != 1) {
    return 0;
  }
  if (sk_X509_push(sk, x) <= 0) {
    X509_free(x);
    return 0;
  }
  return 1;
}


/* What one case's leaf is made of. */
typedef struct {
  X509 *issuer;         /* borrowed; NULL: self-signed */
  EVP_PKEY *issuer_key; /* borrowed */
  EVP_PKEY *key;        /* borrowed */
  cp_mint_opts_t opts;
  X509_EXTENSION *exts[2]; /* owned */
  int nexts;
} recipe_t;


static int add_ext(recipe_t *r, X509 *issuer, int nid, const char *v) {
  X509_EXTENSION *e = cp_cert_conf_ext(issuer, NULL, nid, v);

  if (e == NULL || r->nexts >= (int)CP_ARRAY_SIZE(r->exts)) {
    X509_EXTENSION_free(e);
    return 0;
  }
  r->exts[r->nexts++] = e;
  return 1;
}


/* The case's recipe from its profile, or the catalogue's own for the CA
 * defects profiles.json does not describe; the chain sent goes to sk. */
static int recipe(cp_catalogue_t *cat, const cp_cat_case_t *c,
                  const cp_profiles_t *profiles, recipe_t *r,
                  STACK_OF(X509) *sk, char *err, size_t errlen) {
  char url[256];
  int i, pi;

  r->key = cat->leaf_key;
  r->issuer = cat->ca.intermediate;
  r->issuer_key = cat->ca.inter_key;
  r->opts.not_before = CP_MINT_BACKDATE;
  r->opts.not_after = CP_MINT_LIFETIME;
  if (c->profile != NULL) {
    const cp_profile_t *p;

    pi = cp_profiles_find(profiles, c->profile);
    if (pi < 0) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "case %s: profile %s is not in the profiles file", c->name,
                     c->profile);
    }
    p = &profiles->p[pi];
    r->opts.not_before = p->not_before;
    r->opts.not_after = p->not_after;
    if (p->not_before == 0 && p->not_after == 0) {
      r->opts.not_before = CP_MINT_BACKDATE;
      r->opts.not_after = CP_MINT_LIFETIME;
    }
    if (p->issuer == CP_ISSUER_UNTRUSTED_INTERMEDIATE) {
      r->issuer = cat->ca.untrusted_inter;
      r->issuer_key = cat->ca.untrusted_inter_key;
    } else if (p->issuer == CP_ISSUER_SELF) {
      r->issuer = NULL;
      r->issuer_key = r->key;
    }
    for (i = 0; i < p->nsend; i++) {
      if (!push(sk, element(cat, p->send[i]))) {
        return cp_errf(err, errlen, CP_ETLS, "case %s: chain", c->name);
      }
    }
    if (strcmp(c->name, "incomplete") == 0) {
      snprintf(url, sizeof(url), "caIssuers;URI:%s/ca/intermediate.der",
               cat->base_url);
      if (!add_ext(r, r->issuer, NID_info_access, url)) {
        return cp_errf(err, errlen, CP_ETLS, "case %s: AIA", c->name);
      }
    }
    return 0;
  }
  if (strcmp(c->name, "expired-intermediate") == 0) {
    r->issuer = cat->expired_inter;
    r->issuer_key = cat->expired_key;
  } else if (strcmp(c->name, "sha1-intermediate") == 0) {
    r->issuer = cat->sha1_inter;
    r->issuer_key = cat->sha1_key;
  } else if (strcmp(c->name, "rsa1024") == 0) {
    r->key = cat->rsa1024_key;
  } else if (strcmp(c->name, "revoked") == 0) {
    snprintf(url, sizeof(url), "URI:%s/crl/intermediate.crl", cat->base_url);
    if (!add_ext(r, r->issuer, NID_crl_distribution_points, url)) {
      return cp_errf(err, errlen, CP_ETLS, "case %s: CRL DP", c->name);
    }
    snprintf(url, sizeof(url), "OCSP;URI:%s/ocsp", cat->base_url);
    if (!add_ext(r, r->issuer, NID_info_access, url)) {
      return cp_errf(err, errlen, CP_ETLS, "case %s: AIA", c->name);
    }
  } else {
    return cp_errf(err, errlen, CP_EINVAL, "case %s: no recipe", c->name);
  }
  if (!push(sk, r->issuer)) {
    return cp_errf(err, errlen, CP_ETLS, "case %s: chain", c->name);
  }
  return 0;
}


/* The intermediate's CRL (version 2), listing the revoked case's leaf. */
static X509_CRL *make_crl(const cp_catalogue_t *cat, X509 *revoked) {
  X509_CRL *crl = X509_CRL_new();
  X509_REVOKED *rev = X509_REVOKED_new();
  ASN1_TIME *t = ASN1_TIME_new();
  time_t now = time(NULL);
  int ok;

  ok =
      crl != NULL && rev != NULL && t != NULL &&
      X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1 &&
      X509_CRL_set_issuer_name(
          crl, X509_get_subject_name(cat->ca.intermediate)) == 1 &&
      ASN1_TIME_set(t, now - 3600) != NULL &&
      X509_CRL_set1_lastUpdate(crl, t) == 1 &&
      X509_REVOKED_set_revocationDate(rev, t) == 1 &&
      ASN1_TIME_set(t, now + 7 * DAY) != NULL &&
      X509_CRL_set1_nextUpdate(crl, t) == 1 &&
      X509_REVOKED_set_serialNumber(rev, X509_get_serialNumber(revoked)) == 1 &&
      X509_CRL_add0_revoked(crl, rev) == 1;
  if (ok) {
    rev = NULL;
    ok = X509_CRL_sort(crl) == 1 &&
         X509_CRL_sign(crl, cat->ca.inter_key, EVP_sha256()) > 0;
  }
  X509_REVOKED_free(rev);
  ASN1_TIME_free(t);
  if (!ok) {
    X509_CRL_free(crl);
    return NULL;
  }
  return crl;
}


/* Documents store name (file dir/file) for case idx; it becomes the file
 * the case's clients trust when it is the one the case names (want). */
static int add_store(cp_catalogue_t *cat, int idx, const char *name,
                     const char *dir, const char *file, const char *want) {
  cp_cat_store_t *st = &cat->stores[idx][cat->nstores[idx]];
  char path[1400];

  if (cat->nstores[idx] >= CP_PROFILE_MAX_STORES) {
    return CP_EINVAL;
  }
  snprintf(st->name, sizeof(st->name), "%s", name);
  snprintf(path, sizeof(path), "%s/%s", dir, file);
  st->path = strdup(path);
  if (st->path == NULL) {
    return CP_ENOMEM;
  }
  cat->nstores[idx]++;
  if (want != NULL && strcmp(name, want) == 0) {
    free(cat->trust[idx]);
    cat->trust[idx] = strdup(path);
    if (cat->trust[idx] == NULL) {
      return CP_ENOMEM;
    }
  }
  return 0;
}


/* An incident case: the real leaf re-issued for the case's names and the
 * cloned chain as the server sent it; its clients trust the cloned store
 * the case names, written beside the clones. */
static int build_incident(cp_catalogue_t *cat, int idx, const cp_profile_t *p,
                          int pi, const char *const *names, int nnames,
                          char *err, size_t errlen) {
  const cp_cat_case_t *c = case_at((size_t)idx);
  const cp_incident_t *inc;
  char why[300], file[128];
  int i;

  inc = cp_incidents_get0(cat->incidents, pi, why, sizeof(why));
  if (inc == NULL || cp_incident_mint_names(inc, names, nnames, &cat->leaf[idx],
                                            why, sizeof(why)) != 0) {
    return cp_errf(err, errlen, CP_ETLS, "case %s: %s", c->name, why);
  }
  cat->key[idx] = inc->leaf_key;
  for (i = 0; i < sk_X509_num(inc->sent); i++) {
    if (!push(cat->chain[idx], sk_X509_value(inc->sent, i))) {
      return cp_errf(err, errlen, CP_ETLS, "case %s: chain", c->name);
    }
  }
  for (i = 0; i < p->nstores; i++) {
    snprintf(file, sizeof(file), "%s-store-%s.pem", p->name, p->stores[i].name);
    if (add_store(cat, idx, p->stores[i].name, cat->incidents->out_dir, file,
                  c->store) != 0) {
      return CP_ENOMEM;
    }
  }
  if (cat->trust[idx] == NULL) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "case %s: profile %s has no store %s", c->name, p->name,
                   c->store);
  }
  return 0;
}


static int build_case(cp_catalogue_t *cat, int idx,
                      const cp_profiles_t *profiles, char *err, size_t errlen) {
  const cp_cat_case_t *c = case_at((size_t)idx);
  recipe_t r;
  cp_minter_t m;
  char host[96], path[1200];
  const char *names[CP_PROFILE_MAX_NAMES + 2];
  int i, pi, rc;

  memset(&r, 0, sizeof(r));
  memset(&m, 0, sizeof(m));
  snprintf(host, sizeof(host), "%s.%s", c->name, CP_CATALOGUE_DOMAIN);
  names[0] = host;
  names[1] = "localhost";
  names[2] = "127.0.0.1";
  r.opts.names = names;
  r.opts.nnames = 3;
  cat->chain[idx] = sk_X509_new_null();
  if (cat->chain[idx] == NULL) {
    return CP_ENOMEM;
  }
  pi = c->profile ? cp_profiles_find(profiles, c->profile) : -1;
  if (pi >= 0 && profiles->p[pi].incident) {
    return build_incident(cat, idx, &profiles->p[pi], pi, names, 3, err,
                          errlen);
  }
  /* The legacy shape also documents the legacy root, what the clients of
   * 2020 trusted alone. */
  if (strcmp(c->name, "legacy") == 0 &&
      (add_store(cat, idx, "modern", cat->ca.dir, "root.pem", NULL) != 0 ||
       add_store(cat, idx, "legacy", cat->ca.dir, "legacy-root.pem", NULL) !=
           0)) {
    return CP_ENOMEM;
  }
  snprintf(path, sizeof(path), "%s/root.pem", cat->ca.dir);
  cat->trust[idx] = strdup(path);
  if (cat->trust[idx] == NULL) {
    return CP_ENOMEM;
  }
  rc = recipe(cat, c, profiles, &r, cat->chain[idx], err, errlen);
  if (rc != 0) {
    goto out;
  }
  /* A profile's fixed names (wrong-host) replace the case's own. */
  if (pi >= 0 && profiles->p[pi].nnames > 0) {
    for (i = 0; i < profiles->p[pi].nnames; i++) {
      names[i] = profiles->p[pi].names[i];
    }
    r.opts.nnames = profiles->p[pi].nnames;
  }
  r.opts.names = names;
  r.opts.exts = r.exts;
  r.opts.nexts = r.nexts;
  rc = cp_minter_init(&m, r.key, r.issuer, r.issuer_key);
  if (rc == 0) {
    rc = cp_mint_leaf(&m, names[0], &r.opts, &cat->leaf[idx]);
  }
  if (rc != 0) {
    cp_errf(err, errlen, rc, "case %s: minting the leaf failed", c->name);
    goto out;
  }
  cat->key[idx] = r.key;
  if (strcmp(c->name, "revoked") == 0) {
    cat->crl = make_crl(cat, cat->leaf[idx]);
    if (cat->crl == NULL) {
      rc = cp_errf(err, errlen, CP_ETLS, "case %s: the CRL", c->name);
    }
  }
out:
  cp_minter_free(&m);
  for (i = 0; i < r.nexts; i++) {
    X509_EXTENSION_free(r.exts[i]);
  }
  return rc;
}


/* Every certificate of every case's trust file, each file once, the
 * catalogue root first. */
static int collect_roots(cp_catalogue_t *cat, char *err, size_t errlen) {
  size_t i, j, n;
  FILE *f;
  X509 *x;

  cp_catalogue_cases(&n);
  cat->roots = sk_X509_new_null();
  if (cat->roots == NULL || !push(cat->roots, cat->ca.root)) {
    return CP_ENOMEM;
  }
  for (i = 0; i < n; i++) {
    for (j = 0; j < i && strcmp(cat->trust[j], cat->trust[i]) != 0; j++) {
    }
    if (j < i || case_at(i)->store == NULL) {
      continue; /* seen, or the catalogue root's root.pem */
    }
    f = fopen(cat->trust[i], "r");
    if (f == NULL) {
      return cp_errf(err, errlen, -errno, "%s: %s", cat->trust[i],
                     strerror(errno));
    }
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
      if (sk_X509_push(cat->roots, x) <= 0) {
        X509_free(x);
        fclose(f);
        return CP_ENOMEM;
      }
    }
    ERR_clear_error(); /* the end of the file */
    fclose(f);
  }
  return 0;
}


int cp_catalogue_build(cp_catalogue_t *cat, const char *ca_dir,
                       const cp_profiles_t *profiles, const char *base_url,
                       char *err, size_t errlen) {
  char dir[1100];
  time_t now = time(NULL);
  size_t i, n;
  int rc;

  memset(cat, 0, sizeof(*cat));
  snprintf(cat->base_url, sizeof(cat->base_url), "%s", base_url);
  if (snprintf(dir, sizeof(dir), "%s/catalogue", ca_dir) >= (int)sizeof(dir)) {
    return cp_errf(err, errlen, CP_EINVAL, "%s: path too long", ca_dir);
  }
  /* The CA directory itself, as the proxy makes it on first use. */
  if (mkdir(ca_dir, 0700) != 0 && errno != EEXIST) {
    return cp_errf(err, errlen, -errno, "%s: cannot create directory: %s",
                   ca_dir, strerror(errno));
  }
  rc = cp_ca_load_or_create_as(&cat->ca, dir, "chainproxy Catalogue", err,
                               errlen);
  if (rc != 0) {
    return rc;
  }
  if (cp_ca_make_untrusted(&cat->ca) != 0) {
    return cp_errf(err, errlen, CP_ETLS, "the untrusted hierarchy");
  }
  cat->leaf_key = cp_mint_key_new();
  cat->rsa1024_key = EVP_RSA_gen(1024);
  cat->expired_key = EVP_EC_gen("P-256");
  cat->sha1_key = EVP_EC_gen("P-256");
  if (cat->leaf_key == NULL || cat->rsa1024_key == NULL ||
      cat->expired_key == NULL || cat->sha1_key == NULL) {
    return cp_errf(err, errlen, CP_ETLS, "key generation failed");
  }
  cat->expired_inter = cp_ca_cert_new(
      "chainproxy Catalogue Expired Intermediate CA", cat->expired_key,
      cat->ca.root, cat->ca.root_key, now - 400 * DAY, now - 30 * DAY, 1, NULL);
  cat->sha1_inter = cp_ca_cert_new(
      "chainproxy Catalogue SHA-1 Intermediate CA", cat->sha1_key, cat->ca.root,
      cat->ca.root_key, now - DAY, now + 365 * DAY, 1, EVP_sha1());
  if (cat->expired_inter == NULL || cat->sha1_inter == NULL) {
    return cp_errf(err, errlen, CP_ETLS, "intermediate creation failed");
  }
  cat->incidents = malloc(sizeof(*cat->incidents));
  if (cat->incidents == NULL ||
      cp_incidents_init(cat->incidents, profiles, dir) != 0) {
    free(cat->incidents);
    cat->incidents = NULL;
    return cp_errf(err, errlen, CP_ENOMEM, "the incident cases");
  }
  cp_catalogue_cases(&n);
  for (i = 0; i < n; i++) {
    rc = build_case(cat, (int)i, profiles, err, errlen);
    if (rc != 0) {
      return rc;
    }
  }
  return collect_roots(cat, err, errlen);
}


void cp_catalogue_free(cp_catalogue_t *cat) {
  size_t i;
  int j;

  for (i = 0; i < CP_CATALOGUE_MAX; i++) {
    for (j = 0; j < cat->nstores[i]; j++) {
      free(cat->stores[i][j].path);
    }
    cat->nstores[i] = 0;
    free(cat->trust[i]);
    cat->trust[i] = NULL;
    X509_free(cat->leaf[i]);
    cat->leaf[i] = NULL;
    cat->key[i] = NULL;
    sk_X509_pop_free(cat->chain[i], X509_free);
    cat->chain[i] = NULL;
  }
  sk_X509_pop_free(cat->roots, X509_free);
  cat->roots = NULL;
  if (cat->incidents != NULL) {
    cp_incidents_free(cat->incidents);
    free(cat->incidents);
    cat->incidents = NULL;
  }
  X509_CRL_free(cat->crl);
  cat->crl = NULL;
  X509_free(cat->expired_inter);
  cat->expired_inter = NULL;
  X509_free(cat->sha1_inter);
  cat->sha1_inter = NULL;
  EVP_PKEY_free(cat->expired_key);
  cat->expired_key = NULL;
  EVP_PKEY_free(cat->sha1_key);
  cat->sha1_key = NULL;
  EVP_PKEY_free(cat->leaf_key);
  cat->leaf_key = NULL;
  EVP_PKEY_free(cat->rsa1024_key);
  cat->rsa1024_key = NULL;
  cp_ca_free(&cat->ca);
}
