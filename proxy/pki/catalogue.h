/* The catalogue of broken origins (`chainproxy origins`, `--origins`) as
 * data: the cases (name, what each breaks, the cause chainproxy names
 * through the proxy, what each client family prints, the TLS settings a
 * server needs for it) and, built from a CA of its own in CA_DIR/catalogue
 * (created on first use, keys 0600) and from certs/profiles.json where a
 * profile already describes the chain, each case's leaf, key and the chain
 * sent after it, the CRL of the intermediate. A cp_catalogue_t owns every
 * certificate it built; cp_catalogue_free() releases them. No sockets:
 * app/origins_serve serves what this builds. */
#ifndef CP_CATALOGUE_H
#define CP_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki/ca.h"
#include "pki/incident.h"
#include "pki/profile.h"

/* Names under the reserved .test TLD (RFC 6761): <case>.chainproxy.test,
 * and chainproxy.test itself for the index. */
#define CP_CATALOGUE_DOMAIN "chainproxy.test"
/* The index's port is the base; case i listens on base + 1 + i. */
#define CP_CATALOGUE_DEFAULT_PORT 18600
#define CP_CATALOGUE_MAX 24
#define CP_CATALOGUE_INDEX (-2) /* cp_catalogue_host_case: the index */

typedef enum {
  CP_CAT_CURL,
  CP_CAT_PYTHON,
  CP_CAT_NODE,
  CP_CAT_JAVA,
  CP_CAT_GO,
  CP_CAT_CHROMIUM,
  CP_CAT_NCLIENTS
} cp_cat_client_e;

typedef enum {
  CP_CAT_ALPN_NONE,  /* no ALPN: HTTP/1.1 */
  CP_CAT_ALPN_H2,    /* only h2; a client without it is refused */
  CP_CAT_ALPN_HTTP1, /* only http/1.1; a client without it is refused */
} cp_cat_alpn_e;

typedef struct cp_cat_case_s {
  const char *name;
  const char *breaks;  /* what it breaks, one sentence */
  const char *cause;   /* chainproxy's upstream cause ("" : none) */
  const char *profile; /* certs/profiles.json's chain; NULL: built here */
  const char *words[CP_CAT_NCLIENTS]; /* what each client said (observed
                                         by it_catalogue_clients.sh) */
  int tls_min, tls_max; /* TLS1_VERSION...; 0: OpenSSL's defaults */
  int seclevel0;        /* the server needs OpenSSL's security level 0 */
  const char *ciphers;  /* TLS 1.2 cipher list; NULL: the defaults */
  int client_cert;      /* a client certificate is required */
  cp_cat_alpn_e alpn;
  /* An incident profile's case: the store of that time its clients trust
   * (the profile's "stores"), in place of the catalogue CA. */
  const char *store;
} cp_cat_case_t;

/* A trust store a case documents: a name ("modern", "both", "dst") and
 * the PEM file that holds it. */
typedef struct cp_cat_store_s {
  char name[24];
  char *path; /* owned */
} cp_cat_store_t;

typedef struct cp_catalogue_s {
  cp_ca_t ca;            /* owned: the catalogue CA (CA_DIR/catalogue) and its
                            in-memory untrusted hierarchy */
  EVP_PKEY *leaf_key;    /* owned: P-256, shared by the leaves */
  EVP_PKEY *rsa1024_key; /* owned */
  X509 *expired_inter;   /* owned: an intermediate that has expired */
  EVP_PKEY *expired_key; /* owned */
  X509 *sha1_inter;      /* owned: an intermediate signed with SHA-1 */
  EVP_PKEY *sha1_key;    /* owned */
  X509_CRL *crl;         /* owned: the intermediate's CRL (revoked) */
  X509 *leaf[CP_CATALOGUE_MAX];            /* owned */
  EVP_PKEY *key[CP_CATALOGUE_MAX];         /* borrowed: leaf_key or ... */
  STACK_OF(X509) *chain[CP_CATALOGUE_MAX]; /* owned: sent after the leaf */
  char base_url[128]; /* http://HOST:BASE, the index (AIA, CRL, OCSP) */
  /* The incident cases' clones, in CA_DIR/catalogue (keys in clones/keys,
   * stores and chains in incidents/), apart from the proxy's own. */
  cp_incidents_t *incidents;     /* owned */
  char *trust[CP_CATALOGUE_MAX]; /* owned: the file case i's clients trust */
  cp_cat_store_t stores[CP_CATALOGUE_MAX][CP_PROFILE_MAX_STORES];
  int nstores[CP_CATALOGUE_MAX]; /* the stores case i documents (0: none) */
  STACK_OF(X509) *roots;         /* owned: every trust file's certificates, the
                                    catalogue root first (trusted upstream with
                                    --origins) */
} cp_catalogue_t;

/* The cases, in port order. */
const cp_cat_case_t *cp_catalogue_cases(size_t *n);
/* Index of the case called name, or -1. */
int cp_catalogue_find(const char *name);
/* "expired.chainproxy.test" -> expired's index; "chainproxy.test" ->
 * CP_CATALOGUE_INDEX; anything else (another name, a case that does not
 * exist) -> -1. Case-insensitive, a trailing dot allowed. */
int cp_catalogue_host_case(const char *host);
/* The port of case i (CP_CATALOGUE_INDEX: the index) under base. */
uint16_t cp_catalogue_port(uint16_t base, int i);
const char *cp_catalogue_client_name(cp_cat_client_e c);

/* Loads or creates the catalogue CA in ca_dir/catalogue and builds every
 * case (the incident cases' clone keys are made the first time: seconds).
 * profiles must outlive the catalogue. base_url is where the index answers (the
 * AIA and CRL URLs in the certificates). err names what failed. */
int cp_catalogue_build(cp_catalogue_t *cat, const char *ca_dir,
                       const cp_profiles_t *profiles, const char *base_url,
                       char *err, size_t errlen);
void cp_catalogue_free(cp_catalogue_t *cat);

#endif
