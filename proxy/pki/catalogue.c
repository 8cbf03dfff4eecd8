#include "pki/catalogue.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "pki/mint.h"
#include "diag/cert.h"
#include "base/err.h"

#define DAY 86400L

/* What each client printed (curl and Python on Debian's OpenSSL 3.0,
 * Node with its bundled OpenSSL, Java 17's JSSE, Go's crypto/tls, and
 * Chromium for good, expired, wrong-host and incomplete) is
 * pinned by tests/integration/it_catalogue_clients.sh: the words here are
 * the ones it greps for (docs/catalogue.md shows the table). "ok": the
 * client accepted the connection; "": not observed yet. */
static const cp_cat_case_t cases[] = {
    {"good",
     "nothing: a valid chain to the catalogue root (the control)",
     "",
     "modern",
     {"ok", "ok", "ok", "ok", "ok", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE},
    {"expired",
     "the leaf's validity ended 30 days ago",
     "expired_leaf",
     "expired",
     {"certificate has expired", "certificate has expired", "CERT_HAS_EXPIRED",
      "validity check failed", "certificate has expired or is not yet valid",
      "ERR_CERT_DATE_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE},
    {"not-yet-valid",
     "the leaf is valid only from 30 days from now",
     "not_yet_valid",
     "not-yet-valid",
     {"certificate is not yet valid", "certificate is not yet valid",
      "CERT_NOT_YET_VALID", "validity check failed",
      "certificate has expired or is not yet valid", "ERR_CERT_DATE_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE},
    {"wrong-host",
     "the leaf names another host (wrong-host.chainproxy.invalid)",
     "hostname_mismatch",
     "wrong-host",
     {"no alternative certificate subject name matches", "Hostname mismatch",
      "ERR_TLS_CERT_ALTNAME_INVALID",
      "No subject alternative DNS name matching",
      "certificate is valid for wrong-host.chainproxy.invalid",
      "ERR_CERT_COMMON_NAME_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE},
    {"self-signed",
     "the leaf signs itself",
     "self_signed_leaf",
     "self-signed",
     {"self-signed certificate", "self-signed certificate",
      "DEPTH_ZERO_SELF_SIGNED_CERT", "unable to find valid certification path",
      "certificate signed by unknown authority", "ERR_CERT_AUTHORITY_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE},
    {"untrusted-root",
     "a complete chain to a root nobody was given",
     "untrusted_root",
     "untrusted-root",
     {"self-signed certificate in certificate chain",
      "self-signed certificate in certificate chain",
      "SELF_SIGNED_CERT_IN_CHAIN", "unable to find valid certification path",
      "certificate signed by unknown authority", "ERR_CERT_AUTHORITY_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE},
    {"incomplete",
     "the leaf alone, without its intermediate (the leaf's AIA caIssuers URL "
     "serves it)",
     "incomplete_chain",
     "incomplete",
     {"unable to get local issuer certificate",
      "unable to get local issuer certificate",
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "unable to find valid certification path",
      "certificate signed by unknown authority", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE},
    {"expired-intermediate",
     "the intermediate's validity ended 30 days ago",
     "expired_intermediate",
     NULL,
     {"certificate has expired", "certificate has expired", "CERT_HAS_EXPIRED",
      "validity check failed", "certificate has expired or is not yet valid",
      "ERR_CERT_DATE_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE},
    {"revoked",
     "the leaf is revoked on its intermediate's CRL (at its CRL distribution "
     "point) and by the OCSP responder; only clients that check revocation "
     "notice",
     "",
     NULL,
     {"ok", "ok", "ok", "ok", "ok", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE},
    {"sha1-intermediate",
     "the intermediate is signed with SHA-1",
     "weak_signature",
     NULL,
     {"CA signature digest algorithm too weak",
      "CA signature digest algorithm too weak",
      "CA signature digest algorithm too weak", "ok",
      "insecure algorithm ECDSA-SHA1", "ERR_CERT_INVALID"},
     0,
     0,
     1,
     NULL,
     0,
     CP_CAT_ALPN_NONE},
    {"rsa1024",
     "the leaf's key is RSA 1024",
     "weak_key",
     NULL,
     {"EE certificate key too weak", "EE certificate key too weak", "ok", "ok",
      "ok", "ok"},
     0,
     0,
     1,
     NULL,
     0,
     CP_CAT_ALPN_NONE},
    {"tls1.0-only",
     "the server speaks TLS 1.0 and nothing newer",
     "",
     "modern",
     {"legacy sigalg disallowed or unsupported", "tlsv1 alert protocol version",
      "tlsv1 alert protocol version", "Received fatal alert: protocol_version",
      "tls: protocol version not supported",
      "ERR_SSL_VERSION_OR_CIPHER_MISMATCH"},
     TLS1_VERSION,
     TLS1_VERSION,
     1,
     "DEFAULT@SECLEVEL=0",
     0,
     CP_CAT_ALPN_NONE},
    {"tls1.1-only",
     "the server speaks TLS 1.1 and nothing newer",
     "",
     "modern",
     {"legacy sigalg disallowed or unsupported", "tlsv1 alert protocol version",
      "tlsv1 alert protocol version", "Received fatal alert: protocol_version",
      "tls: protocol version not supported",
      "ERR_SSL_VERSION_OR_CIPHER_MISMATCH"},
     TLS1_1_VERSION,
     TLS1_1_VERSION,
     1,
     "DEFAULT@SECLEVEL=0",
     0,
     CP_CAT_ALPN_NONE},
    {"client-cert-required",
     "the server requires a client certificate",
     "",
     "modern",
     {"tlsv13 alert certificate required", "tlsv13 alert certificate required",
      "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
      "Received fatal alert: certificate_required", "tls: certificate required",
      /* Chromium's word varies from run to run (ERR_BAD_SSL_CLIENT_AUTH_CERT
       * or ERR_SOCKET_NOT_CONNECTED): TLS 1.3 asks for the certificate
       * after the handshake, and the alert races its first read. */
      ""},
     0,
     0,
     0,
     NULL,
     1,
     CP_CAT_ALPN_NONE},
    {"no-shared-cipher",
     "the server offers only a TLS 1.2 NULL cipher, which no client enables",
     "",
     "modern",
     {"sslv3 alert handshake failure", "sslv3 alert handshake failure",
      "sslv3 alert handshake failure",
      "Received fatal alert: handshake_failure", "tls: handshake failure",
      "ERR_SSL_VERSION_OR_CIPHER_MISMATCH"},
     0,
     TLS1_2_VERSION,
     1,
     "ECDHE-ECDSA-NULL-SHA@SECLEVEL=0",
     0,
     CP_CAT_ALPN_NONE},
    {"h2-only",
     "the server speaks HTTP/2 only (ALPN h2); a client offering only http/1.1 "
     "is refused",
     "",
     "modern",
     {"ok", "tlsv1 alert no application protocol", "ok",
      "Received fatal alert: no_application_protocol", "ok", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_H2},
    {"http1-only",
     "the server speaks HTTP/1.1 only (ALPN http/1.1)",
     "",
     "modern",
     {"ok", "ok", "ok", "ok", "ok", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_HTTP1},
};

static const char *const client_names[CP_CAT_NCLIENTS] = {
    "curl", "python", "node", "java", "go", "chromium"};


const cp_cat_case_t *cp_catalogue_cases(size_t *n) {
  *n = CP_ARRAY_SIZE(cases);
  return cases;
}


const char *cp_catalogue_client_name(cp_cat_client_e c) {
  return (unsigned)c < CP_CAT_NCLIENTS ? client_names[c] : "?";
}


int cp_catalogue_find(const char *name) {
  size_t i;

  for (i = 0; i < CP_ARRAY_SIZE(cases); i++) {
    if (strcmp(cases[i].name, name) == 0) {
      return (int)i;
    }
  }
  return -1;
}


int cp_catalogue_host_case(const char *host) {
  static const char dom[] = CP_CATALOGUE_DOMAIN;
  char label[64];
  size_t len = strlen(host);
  size_t dl = sizeof(dom) - 1;
  size_t i;

  if (len > 0 && host[len - 1] == '.') {
    len--;
  }
  if (len == dl && strncasecmp(host, dom, dl) == 0) {
    return CP_CATALOGUE_INDEX;
  }
  if (len <= dl + 1 || host[len - dl - 1] != '.' ||
      strncasecmp(host + len - dl, dom, dl) != 0 ||
      len - dl - 1 >= sizeof(label)) {
    return -1;
  }
  for (i = 0; i < len - dl - 1; i++) {
    label[i] =
        (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]);
  }
  label[i] = '\0';
  return cp_catalogue_find(label);
}


uint16_t cp_catalogue_port(uint16_t base, int i) {
  return i < 0 ? base : (uint16_t)(base + 1 + i);
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


static int build_case(cp_catalogue_t *cat, int idx,
                      const cp_profiles_t *profiles, char *err, size_t errlen) {
  const cp_cat_case_t *c = &cases[idx];
  recipe_t r;
  cp_minter_t m;
  char host[96];
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
  rc = recipe(cat, c, profiles, &r, cat->chain[idx], err, errlen);
  if (rc != 0) {
    goto out;
  }
  /* A profile's fixed names (wrong-host) replace the case's own. */
  pi = c->profile ? cp_profiles_find(profiles, c->profile) : -1;
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


int cp_catalogue_build(cp_catalogue_t *cat, const char *ca_dir,
                       const cp_profiles_t *profiles, const char *base_url,
                       char *err, size_t errlen) {
  char dir[1100];
  time_t now = time(NULL);
  size_t i;
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
  for (i = 0; i < CP_ARRAY_SIZE(cases); i++) {
    rc = build_case(cat, (int)i, profiles, err, errlen);
    if (rc != 0) {
      return rc;
    }
  }
  return 0;
}


void cp_catalogue_free(cp_catalogue_t *cat) {
  size_t i;

  for (i = 0; i < CP_CATALOGUE_MAX; i++) {
    X509_free(cat->leaf[i]);
    cat->leaf[i] = NULL;
    cat->key[i] = NULL;
    sk_X509_pop_free(cat->chain[i], X509_free);
    cat->chain[i] = NULL;
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
