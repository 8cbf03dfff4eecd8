/* Upstream verification as data. The recorder (installed by tls_client.c
 * around X509_verify_cert) appends every error at every depth and never
 * decides; cp_verify_result_build() turns the record and the presented
 * chain into plain strings for events, logs and the 502 body. No I/O. */
#ifndef CP_VERIFY_H
#define CP_VERIFY_H

#include <openssl/x509.h>

#define CP_VERIFY_MAX_ERRORS 32
#define CP_VERIFY_MAX_CHAIN 16

typedef struct cp_verify_rec_s cp_verify_rec_t;
typedef struct cp_cert_info_s cp_cert_info_t;
typedef struct cp_verify_result_s cp_verify_result_t;

struct cp_verify_rec_s {
  struct {
    int depth;
    int code;
    X509 *cert;       /* owned reference */
  } errs[CP_VERIFY_MAX_ERRORS];
  int nerrs;
  int dropped;        /* errors past the array */
  int ran;            /* the verifier ran at all */
};

struct cp_cert_info_s {
  int depth;
  char subject[256];
  char issuer[256];
  char not_before[32]; /* RFC 3339 */
  char not_after[32];
  char sha256[65];
  int self_issued;
};

struct cp_verify_result_s {
  int ok;
  int error_depth;
  int error_code;
  const char *error;            /* static OpenSSL text */
  cp_cert_info_t failing;       /* the element at error_depth */
  struct {
    int depth;
    int code;
    const char *error;
  } errors[CP_VERIFY_MAX_ERRORS];
  int nerrors;
  cp_cert_info_t chain[CP_VERIFY_MAX_CHAIN]; /* as presented */
  int nchain;
};

void cp_verify_rec_clear(cp_verify_rec_t *r);
/* The X509_STORE_CTX verify callback: records and returns 1. The record
 * is the store context's app data. */
int cp_verify_record_cb(int ok, X509_STORE_CTX *sctx);
void cp_cert_info(X509 *x, int depth, cp_cert_info_t *out);
/* presented may be NULL (no certificate at all). */
void cp_verify_result_build(const cp_verify_rec_t *r,
                            STACK_OF(X509) *presented,
                            cp_verify_result_t *out);

#endif
