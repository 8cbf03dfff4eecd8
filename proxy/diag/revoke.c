#include "diag/revoke.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "diag/cert.h"
#include "base/err.h"


int cp_revoke_load_crls(X509_STORE *store, const char *const *files, int n,
                        char *err, size_t errlen) {
  int i, k, found;

  for (i = 0; i < n; i++) {
    BIO *b = BIO_new_file(files[i], "r");
    STACK_OF(X509_INFO) *infos =
        b ? PEM_X509_INFO_read_bio(b, NULL, NULL, NULL) : NULL;

    found = 0;
    for (k = 0; infos != NULL && k < sk_X509_INFO_num(infos); k++) {
      X509_INFO *xi = sk_X509_INFO_value(infos, k);

      if (xi->crl != NULL && X509_STORE_add_crl(store, xi->crl) == 1) {
        found++;
      }
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(b);
    ERR_clear_error();
    if (found == 0) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "--crl %s: no PEM CRL in it (convert a DER CRL with "
                     "openssl crl -inform DER -in FILE -out FILE.pem)",
                     files[i]);
    }
  }
  if (n > 0) {
    X509_STORE_set_flags(store,
                         X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  }
  return 0;
}


static time_t secs(const ASN1_GENERALIZEDTIME *t) {
  struct tm tm;

  return t != NULL && ASN1_TIME_to_tm(t, &tm) == 1 ? timegm(&tm) : 0;
}


/* The leaf's issuer: presented after it, or from the store. */
static X509 *issuer_of(X509 *leaf, STACK_OF(X509) *chain, X509_STORE *store) {
  X509_STORE_CTX *ctx;
  X509 *found = NULL;
  int i;

  for (i = 1; i < sk_X509_num(chain); i++) {
    if (X509_check_issued(sk_X509_value(chain, i), leaf) == X509_V_OK) {
      found = sk_X509_value(chain, i);
      X509_up_ref(found);
      return found;
    }
  }
  ctx = X509_STORE_CTX_new();
  if (ctx != NULL && X509_STORE_CTX_init(ctx, store, leaf, chain) == 1 &&
      X509_STORE_CTX_get1_issuer(&found, ctx, leaf) != 1) {
    found = NULL;
  }
  X509_STORE_CTX_free(ctx);
  ERR_clear_error();
  return found;
}


static void set(cp_verify_result_t *r, const char *verdict, const char *note) {
  r->ocsp = verdict;
  snprintf(r->ocsp_note, sizeof(r->ocsp_note), "OCSP staple: %s", note);
}


/* A revoked leaf by the staple: the chain fails as a CRL would fail it. */
static void revoked(cp_verify_result_t *r, int reason,
                    const ASN1_GENERALIZEDTIME *when) {
  cp_cert_time_str(when, r->revoked_at, sizeof(r->revoked_at));
  snprintf(r->revoked_reason, sizeof(r->revoked_reason), "%s",
           reason >= 0 ? OCSP_crl_reason_str(reason) : "unspecified");
  r->revocation = "revoked";
  snprintf(r->revocation_note, sizeof(r->revocation_note),
           "OCSP staple: revoked on %s (reason: %s)", r->revoked_at,
           r->revoked_reason);
  if (r->nerrors < CP_VERIFY_MAX_ERRORS) {
    r->errors[r->nerrors].depth = 0;
    r->errors[r->nerrors].code = X509_V_ERR_CERT_REVOKED;
    r->errors[r->nerrors].error =
        X509_verify_cert_error_string(X509_V_ERR_CERT_REVOKED);
    r->nerrors++;
  }
  r->ok = 0;
}


void cp_revoke_staple_der(const unsigned char *der, long len,
                          STACK_OF(X509) *chain, X509_STORE *store, time_t at,
                          cp_verify_result_t *r) {
  const unsigned char *p = der;
  OCSP_RESPONSE *resp = NULL;
  OCSP_BASICRESP *bs = NULL;
  OCSP_CERTID *id = NULL;
  X509 *leaf = chain && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) : NULL;
  X509 *issuer = NULL;
  ASN1_GENERALIZEDTIME *rev = NULL, *thisu = NULL, *nextu = NULL;
  int status = -1, reason = -1;
  char next[32] = "";

  if (der == NULL || len <= 0) {
    set(r, "none", "the server stapled no OCSP response");
    return;
  }
  resp = d2i_OCSP_RESPONSE(NULL, &p, len);
  if (resp == NULL || leaf == NULL) {
    set(r, "malformed", "not a DER OCSP response");
    goto out;
  }
  if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    r->ocsp = "malformed";
    snprintf(r->ocsp_note, sizeof(r->ocsp_note),
             "OCSP staple: the responder answered %s, not a status",
             OCSP_response_status_str(OCSP_response_status(resp)));
    goto out;
  }
  bs = OCSP_response_get1_basic(resp);
  issuer = issuer_of(leaf, chain, store);
  id = issuer ? OCSP_cert_to_id(NULL, leaf, issuer) : NULL;
  if (bs == NULL || id == NULL ||
      OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisu, &nextu) !=
          1) {
    set(r, "unknown", "it is not about this certificate");
    goto out;
  }
  if (OCSP_basic_verify(bs, chain, store, 0) <= 0) {
    set(r, "bad_responder",
        "signed by a responder the chain does not authorize (not the "
        "issuer, nor a delegate with the OCSPSigning usage)");
    goto out;
  }
  cp_cert_time_str(nextu, next, sizeof(next));
  if (status == V_OCSP_CERTSTATUS_REVOKED) {
    set(r, "revoked", "the leaf is revoked");
    revoked(r, reason, rev);
  } else if (status == V_OCSP_CERTSTATUS_UNKNOWN) {
    set(r, "unknown", "the responder does not know the leaf");
  } else if (nextu != NULL && secs(nextu) + 300 < (at ? at : time(NULL))) {
    snprintf(r->ocsp_note, sizeof(r->ocsp_note),
             "OCSP staple: expired (its next update was %s): the server "
             "staples a stale response; strict clients (Firefox with "
             "must-staple) fail",
             next);
    r->ocsp = "expired";
  } else {
    snprintf(r->ocsp_note, sizeof(r->ocsp_note),
             "OCSP staple: good (next update %s)", next[0] ? next : "none");
    r->ocsp = "good";
    if (r->revocation == NULL || strcmp(r->revocation, "not_checked") == 0) {
      r->revocation = "good";
      snprintf(r->revocation_note, sizeof(r->revocation_note), "%s",
               r->ocsp_note);
    }
  }
out:
  ERR_clear_error();
  OCSP_CERTID_free(id);
  X509_free(issuer);
  OCSP_BASICRESP_free(bs);
  OCSP_RESPONSE_free(resp);
}


void cp_revoke_staple(SSL *ssl, time_t at, cp_verify_result_t *r) {
  const unsigned char *der = NULL;
  long len = SSL_get_tlsext_status_ocsp_resp(ssl, &der);

  cp_revoke_staple_der(der, len, SSL_get_peer_cert_chain(ssl),
                       SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl)), at, r);
}
