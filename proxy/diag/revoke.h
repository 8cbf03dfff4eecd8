/* Revocation: CRLs given with --crl, loaded into a trust store that then
 * checks every element it can (a missing CRL is "not checked", never a
 * failure), and the OCSP response an upstream staples to its handshake
 * (status_request), judged against the chain and the store. The verdicts
 * go into a cp_verify_result_t (revocation, ocsp, and a revoked error at
 * depth 0 when the staple says so); diag.c words them. */
#ifndef CP_REVOKE_H
#define CP_REVOKE_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "diag/verify.h"

/* Loads every CRL of each PEM file into store and turns CRL checking on
 * for the whole chain. err names the file that failed. */
int cp_revoke_load_crls(X509_STORE *store, const char *const *files, int n,
                        char *err, size_t errlen);
/* Judges the stapled OCSP response of ssl (none: r->ocsp = "none") for
 * the presented chain's leaf at time at (0: now). A revoked leaf becomes
 * an error in r (r->ok = 0): call before cp_diag_classify. */
void cp_revoke_staple(SSL *ssl, time_t at, cp_verify_result_t *r);
/* The same from DER bytes, for tests and fuzzing: chain is the presented
 * chain (leaf first), store the trust store. */
void cp_revoke_staple_der(const unsigned char *der, long len,
                          STACK_OF(X509) *chain, X509_STORE *store, time_t at,
                          cp_verify_result_t *r);

#endif
