/* Who breaks: for a classified chain (and the browser policies that
 * apply), the verdict of each client family given the same trust store:
 * pass, fail with the error that client prints, or unknown where a rule
 * is not known. The families and their rules are data
 * (certs/clients.json, each rule with its source); this file only
 * applies them. Pure but for reading the data file. */
#ifndef CP_WHO_H
#define CP_WHO_H

#include <stddef.h>

#include "diag/verify.h"

#ifndef CP_CLIENTS_PATH
#define CP_CLIENTS_PATH "certs/clients.json"
#endif

#define CP_WHO_KINDS(X)                                                        \
  X(EXPIRED, "expired")                                                        \
  X(NOT_YET_VALID, "not_yet_valid")                                            \
  X(HOSTNAME, "hostname")                                                      \
  X(SELF_SIGNED, "self_signed")                                                \
  X(IN_CHAIN, "in_chain")                                                      \
  X(UNKNOWN_ISSUER, "unknown_issuer")                                          \
  X(INCOMPLETE, "incomplete")                                                  \
  X(WEAK_KEY, "weak_key")                                                      \
  X(WEAK_SIGNATURE, "weak_signature")                                          \
  X(REVOKED, "revoked")                                                        \
  X(POLICY, "policy")                                                          \
  X(DISTRUSTED_CA, "distrusted_ca")                                            \
  X(NO_SCT, "no_sct")                                                          \
  X(LONG_VALIDITY, "long_validity")                                            \
  X(OTHER, "other")

typedef enum {
#define CP_WHO_ENUM(e, s) CP_WHO_##e,
  CP_WHO_KINDS(CP_WHO_ENUM)
#undef CP_WHO_ENUM
      CP_WHO_NKINDS
} cp_who_kind_t;

typedef enum {
  CP_PATH_TRUSTED_FIRST,
  CP_PATH_ALTERNATE_CHAINS,
  CP_PATH_PRESENTED,
  CP_PATH_ANY,
  CP_PATH_STRICT_EXPIRY
} cp_who_path_t;

typedef struct cp_who_family_s cp_who_family_t;
typedef struct cp_who_s cp_who_t;

struct cp_who_family_s {
  char id[24];
  char name[96];
  cp_who_path_t path;
  int aia_fetch;      /* 1, 0 */
  int weak_rsa1024;   /* 1 passes, 0 fails, -1 unknown */
  int sha1;           /* 1, 0, -1, 2: only under a root added locally */
  int browser;        /* browser policies apply */
  int revocation;     /* checks CRLs on its own: 1, 0, -1 */
  int openssl_errors; /* prints OpenSSL's own error text */
  int anchor_expiry;  /* checks the trust anchor's validity: 1, 0, -1 */
  int policy_check;   /* processes certificate policies: 1, 0, -1 */
  char errors[CP_WHO_NKINDS][96];
};

struct cp_who_s {
  cp_who_family_t *f; /* owned */
  int n;
};

int cp_who_parse(cp_who_t *w, const char *json, size_t len, char *err,
                 size_t errlen);
int cp_who_load(cp_who_t *w, const char *path, char *err, size_t errlen);
void cp_who_free(cp_who_t *w);
/* Fills r->who (after cp_diag_classify and cp_policy_check). */
void cp_who_predict(const cp_who_t *w, cp_verify_result_t *r);

#endif
