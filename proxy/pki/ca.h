/* The CA state in --ca-dir: the modern root users install, the expired
 * legacy root, the modern root cross-signed by the legacy root (expired at
 * the same instant, as AddTrust's cross-sign of USERTrust was), and the
 * intermediate that signs every minted leaf. A cp_ca_t owns one reference
 * to each certificate and key; cp_ca_free() releases them. Creation uses
 * OpenSSL's API only; key files are created 0600 with O_EXCL, so an
 * existing key is never overwritten. */
#ifndef CP_CA_H
#define CP_CA_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef struct cp_ca_s cp_ca_t;

struct cp_ca_s {
  char dir[1024];
  char label[48];       /* names' prefix: "chainproxy Modern Root CA" */
  X509 *root;           /* owned: modern root (root.pem) */
  EVP_PKEY *root_key;   /* owned */
  X509 *legacy_root;    /* owned: expired legacy root */
  EVP_PKEY *legacy_key; /* owned */
  X509 *cross;          /* owned: modern root issued by the legacy root */
  X509 *intermediate;   /* owned: signs leaves */
  EVP_PKEY *inter_key;  /* owned */
  int created;          /* this start created the hierarchy */
  /* A second hierarchy nobody is ever given, made in memory at each start
   * (cp_ca_make_untrusted) for the untrusted-root profile. */
  X509 *untrusted_root;          /* owned */
  EVP_PKEY *untrusted_key;       /* owned */
  X509 *untrusted_inter;         /* owned */
  EVP_PKEY *untrusted_inter_key; /* owned */
};

/* The end of the legacy root's (and cross-sign's) validity: the instant
 * the AddTrust External CA Root expired, 2020-05-30 10:48:38 UTC. */
#define CP_LEGACY_NOT_AFTER ((time_t)1590835718)
#define CP_LEGACY_NOT_BEFORE ((time_t)959683718) /* 2000-05-30 10:48:38 */

/* dir NULL: $CHAINPROXY_HOME, else ~/.chainproxy. */
int cp_ca_default_dir(const char *dir, char *out, size_t len);
/* Loads the hierarchy from dir, creating it when dir holds none of it.
 * On failure err names the file and what is wrong with it. */
int cp_ca_load_or_create(cp_ca_t *ca, const char *dir, char *err,
                         size_t errlen);
/* The same under another label in the certificates' names (a hierarchy
 * of its own, such as the catalogue's "chainproxy Catalogue"). */
int cp_ca_load_or_create_as(cp_ca_t *ca, const char *dir, const char *label,
                            char *err, size_t errlen);
void cp_ca_free(cp_ca_t *ca);
/* A CA certificate for key named O=chainproxy, CN=cn, issued by issuer
 * (NULL: self-signed with issuer_key), signed with md (NULL: SHA-256);
 * pathlen0: an intermediate (pathlen 0). NULL on failure. */
X509 *cp_ca_cert_new(const char *cn, EVP_PKEY *key, X509 *issuer,
                     EVP_PKEY *issuer_key, time_t not_before, time_t not_after,
                     int pathlen0, const EVP_MD *md);
/* Creates the in-memory untrusted hierarchy. */
int cp_ca_make_untrusted(cp_ca_t *ca);

#endif
