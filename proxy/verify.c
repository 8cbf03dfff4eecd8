#include "verify.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/x509v3.h>

#include "ca.h"


void cp_verify_rec_clear(cp_verify_rec_t *r) {
  int i;

  for (i = 0; i < r->nerrs; i++) {
    X509_free(r->errs[i].cert);
    r->errs[i].cert = NULL;
  }
  r->nerrs = 0;
  r->dropped = 0;
  r->ran = 0;
}


int cp_verify_record_cb(int ok, X509_STORE_CTX *sctx) {
  cp_verify_rec_t *r = X509_STORE_CTX_get_app_data(sctx);
  X509 *cert;

  if (r == NULL) {
    return ok;
  }
  r->ran = 1;
  if (ok) {
    return 1;
  }
  if (r->nerrs == CP_VERIFY_MAX_ERRORS) {
    r->dropped++;
    return 1;
  }
  cert = X509_STORE_CTX_get_current_cert(sctx);
  if (cert != NULL) {
    X509_up_ref(cert);
  }
  r->errs[r->nerrs].depth = X509_STORE_CTX_get_error_depth(sctx);
  r->errs[r->nerrs].code = X509_STORE_CTX_get_error(sctx);
  r->errs[r->nerrs].cert = cert;
  r->nerrs++;
  /* Keep going: every error at every depth is wanted. The handshake's
   * outcome is decided afterwards from this record (nginx, s_client). */
  return 1;
}


static void name_str(const X509_NAME *n, char *out, size_t len) {
  BIO *b = BIO_new(BIO_s_mem());
  int got;

  out[0] = '\0';
  if (b == NULL) {
    return;
  }
  if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >=
      0) {
    got = BIO_read(b, out, (int)len - 1);
    out[got > 0 ? got : 0] = '\0';
  }
  BIO_free(b);
}


static void time_str(const ASN1_TIME *t, char *out, size_t len) {
  struct tm tm;

  out[0] = '\0';
  if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1) {
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
}


void cp_cert_info(X509 *x, int depth, cp_cert_info_t *out) {
  memset(out, 0, sizeof(*out));
  out->depth = depth;
  if (x == NULL) {
    return;
  }
  name_str(X509_get_subject_name(x), out->subject, sizeof(out->subject));
  name_str(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
  time_str(X509_get0_notBefore(x), out->not_before, sizeof(out->not_before));
  time_str(X509_get0_notAfter(x), out->not_after, sizeof(out->not_after));
  cp_cert_sha256(x, 0, out->sha256, sizeof(out->sha256));
  out->self_issued = X509_check_issued(x, x) == X509_V_OK;
}


void cp_verify_result_build(const cp_verify_rec_t *r,
                            STACK_OF(X509) *presented,
                            cp_verify_result_t *out) {
  int i;
  int n = presented ? sk_X509_num(presented) : 0;

  memset(out, 0, sizeof(*out));
  for (i = 0; i < n && i < CP_VERIFY_MAX_CHAIN; i++) {
    cp_cert_info(sk_X509_value(presented, i), i, &out->chain[i]);
  }
  out->nchain = i;
  for (i = 0; i < r->nerrs; i++) {
    out->errors[i].depth = r->errs[i].depth;
    out->errors[i].code = r->errs[i].code;
    out->errors[i].error = X509_verify_cert_error_string(r->errs[i].code);
  }
  out->nerrors = r->nerrs;
  if (n == 0 && r->nerrs == 0) {
    /* No certificate and no verifier run: nothing was verified. */
    out->ok = 0;
    out->error_depth = 0;
    out->error_code = X509_V_ERR_UNSPECIFIED;
    out->error = "the server presented no certificate";
    return;
  }
  out->ok = r->nerrs == 0;
  if (!out->ok) {
    out->error_depth = r->errs[0].depth;
    out->error_code = r->errs[0].code;
    out->error = X509_verify_cert_error_string(r->errs[0].code);
    cp_cert_info(r->errs[0].cert, r->errs[0].depth, &out->failing);
  }
}
