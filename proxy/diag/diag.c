#include "diag/diag.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "diag/hint.h"

static const char *const cause_names[] = {
#define CP_DIAG_NAME(e, s) s,
    CP_DIAG_CAUSES(CP_DIAG_NAME)
#undef CP_DIAG_NAME
};


const char *cp_cause_name(cp_cause_t c) {
  return c < CP_CAUSE_NONE ? cause_names[c] : NULL;
}


/* The certificate an error at depth refers to: depths count along the
 * chain OpenSSL built; fall back to the presented one. */
static const cp_cert_info_t *cert_at(const cp_verify_result_t *r, int depth) {
  if (depth >= 0 && depth < r->nbuilt) {
    return &r->built[depth];
  }
  if (depth >= 0 && depth < r->nchain) {
    return &r->chain[depth];
  }
  return NULL;
}


static int presented_has_subject(const cp_verify_result_t *r,
                                 const char *subject) {
  int i;

  for (i = 1; i < r->nchain; i++) {
    if (strcmp(r->chain[i].subject, subject) == 0) {
      return 1;
    }
  }
  return 0;
}


/* A cross-sign: a CA certificate that is not self-issued but either has a
 * valid self-issued twin (same subject and key) in the store, or expires
 * at the very instant its self-issued issuer does (cross-signs are issued
 * to end with the old root: AddTrust 2020, DST Root CA X3 2021). */
static int is_cross_sign(const cp_verify_result_t *r, int depth,
                         const cp_cert_info_t *c) {
  const cp_cert_info_t *up;

  if (c == NULL || !c->is_ca || c->self_issued) {
    return 0;
  }
  if (c->twin_root) {
    return 1;
  }
  up = depth + 1 < r->nbuilt ? &r->built[depth + 1] : NULL;
  return up != NULL && up->self_issued && up->na != 0 && up->na == c->na &&
         strcmp(up->subject, c->issuer) == 0;
}


/* Path validation rules (RFC 5280 6.1) that have a cause of their own;
 * CP_CAUSE_NONE for the rest. */
static cp_cause_t rule_cause(int code, int depth) {
  switch (code) {
  case X509_V_ERR_INVALID_CA:
  case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    return CP_CAUSE_INVALID_CA;
  case X509_V_ERR_PATH_LENGTH_EXCEEDED:
  case X509_V_ERR_CERT_CHAIN_TOO_LONG:
    return CP_CAUSE_PATH_LENGTH;
  case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
  case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
  case X509_V_ERR_NO_ISSUER_PUBLIC_KEY:
  case X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM:
  case X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH:
  case X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY:
    return CP_CAUSE_BAD_SIGNATURE;
  case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
  case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
#ifdef X509_V_ERR_ISSUER_NAME_EMPTY
  case X509_V_ERR_ISSUER_NAME_EMPTY:
  case X509_V_ERR_SUBJECT_NAME_EMPTY:
  case X509_V_ERR_EMPTY_SUBJECT_ALT_NAME:
  case X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL:
  case X509_V_ERR_EC_KEY_EXPLICIT_PARAMS:
#endif
    return CP_CAUSE_MALFORMED;
  case X509_V_ERR_PERMITTED_VIOLATION:
  case X509_V_ERR_EXCLUDED_VIOLATION:
  case X509_V_ERR_SUBTREE_MINMAX:
  case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
  case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
  case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
#ifdef X509_V_ERR_NAME_CONSTRAINTS_WITHOUT_SANS
  case X509_V_ERR_NAME_CONSTRAINTS_WITHOUT_SANS:
#endif
    return CP_CAUSE_NAME_CONSTRAINTS;
  case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
    return CP_CAUSE_CRITICAL_EXTENSION;
  case X509_V_ERR_INVALID_POLICY_EXTENSION:
  case X509_V_ERR_NO_EXPLICIT_POLICY:
    return CP_CAUSE_POLICY;
  case X509_V_ERR_INVALID_PURPOSE:
    return CP_CAUSE_BAD_EKU;
  case X509_V_ERR_CERT_REVOKED:
    return CP_CAUSE_REVOKED;
  default:
    (void)depth;
    return CP_CAUSE_NONE;
  }
}


static int is_usage_error(int code) {
  switch (code) {
  case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
  case X509_V_ERR_INVALID_NON_CA:
  case X509_V_ERR_INVALID_EXTENSION:
#ifdef X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA
  case X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA:
  case X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
  case X509_V_ERR_CA_BCONS_NOT_CRITICAL:
  case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
  case X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3:
  case X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA:
  case X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER:
  case X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER:
  case X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL:
  case X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL:
#endif
    return 1;
  default:
    return 0;
  }
}


/* The cause of one error (code at depth) given the result\'s chains. */
static cp_cause_t cause_of(const cp_verify_result_t *r, int depth, int code) {
  const cp_cert_info_t *c = cert_at(r, depth);

  switch (code) {
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    return CP_CAUSE_UNTRUSTED_ROOT;
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    return CP_CAUSE_SELF_SIGNED_LEAF;
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
  case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    /* The leaf's issuer is neither presented nor trusted: the server left
     * out the intermediate. Further up, the top of a linked chain has an
     * issuer nobody here knows. */
    if (depth == 0 && c != NULL && !c->self_issued &&
        !presented_has_subject(r, c->issuer)) {
      return CP_CAUSE_INCOMPLETE_CHAIN;
    }
    return CP_CAUSE_UNKNOWN_ISSUER;
  case X509_V_ERR_CERT_HAS_EXPIRED:
    if (is_cross_sign(r, depth, c)) {
      return CP_CAUSE_EXPIRED_CROSS_SIGN;
    }
    if (depth == 0 || (c != NULL && !c->is_ca)) {
      return CP_CAUSE_EXPIRED_LEAF;
    }
    return c != NULL && c->self_issued ? CP_CAUSE_EXPIRED_ROOT
                                       : CP_CAUSE_EXPIRED_INTERMEDIATE;
  case X509_V_ERR_CERT_NOT_YET_VALID:
    return CP_CAUSE_NOT_YET_VALID;
  case X509_V_ERR_EE_KEY_TOO_SMALL:
  case X509_V_ERR_CA_KEY_TOO_SMALL:
    return CP_CAUSE_WEAK_KEY;
  case X509_V_ERR_CA_MD_TOO_WEAK:
    return CP_CAUSE_WEAK_SIGNATURE;
  case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    /* MD5 is not even computed by OpenSSL 3: it shows as a bad signature. */
    return c != NULL && c->weak_sig ? CP_CAUSE_WEAK_SIGNATURE
                                    : CP_CAUSE_BAD_SIGNATURE;
  case X509_V_ERR_HOSTNAME_MISMATCH:
  case X509_V_ERR_IP_ADDRESS_MISMATCH:
  case X509_V_ERR_EMAIL_MISMATCH:
    return CP_CAUSE_HOSTNAME_MISMATCH;
  default:
    if (rule_cause(code, depth) != CP_CAUSE_NONE) {
      return rule_cause(code, depth);
    }
    return is_usage_error(code) ? CP_CAUSE_BAD_USAGE : CP_CAUSE_OTHER;
  }
}


/* Days from `at` to t, rounded down (negative: already past). */
static long days_until(time_t t, time_t at) {
  return (long)floor(difftime(t, at) / 86400.0);
}


static void forecast(cp_verify_result_t *r, int warn_days) {
  int i, first = -1;

  for (i = 0; i < r->nchain; i++) {
    if (r->chain[i].na != 0 &&
        (first < 0 || r->chain[i].na < r->chain[first].na)) {
      first = i;
    }
  }
  r->expires_first = first;
  if (first < 0) {
    return;
  }
  r->expires_days = days_until(r->chain[first].na, r->at);
  if (!r->ok || r->expires_days >= warn_days) {
    return;
  }
  if (first == 0 && r->minted_by_chainproxy && r->expires_days >= 0) {
    return; /* chainproxy's own leaves live 30 days and are re-minted */
  }
  {
    const cp_cert_info_t *c = &r->chain[first];
    int cross = c->is_ca && !c->self_issued &&
                (c->twin_root || is_cross_sign(r, first, c));

    if (r->expires_days < 0) {
      r->warning = cross ? "expired_cross_sign" : "expired_in_chain";
      snprintf(r->warning_hint, sizeof(r->warning_hint),
               "'%s' at depth %d of the presented chain expired on %.10s; "
               "this client found another path%s, but clients that build "
               "the path through it (OpenSSL 1.0.x style, old GnuTLS, a "
               "bundle holding only the old root) fail: remove it from the "
               "server's chain.",
               c->subject, first, c->not_after,
               cross ? " (it is a cross-sign of a root this store trusts "
                       "directly)"
                     : "");
    } else {
      r->warning = "expires_soon";
      snprintf(r->warning_hint, sizeof(r->warning_hint),
               "'%s' at depth %d expires on %.10s, in %ld days%s: %s.",
               c->subject, first, c->not_after, r->expires_days,
               cross ? "; it is a cross-sign, so clients that rely on it "
                       "(an old root only, or OpenSSL 1.0.x style) fail "
                       "then"
                     : "",
               first == 0 ? "renew the certificate before then"
                          : "make sure clients trust the current root and "
                            "the server sends a chain that does not need "
                            "it");
    }
  }
}


/* Leaves minted by chainproxy name their CA "O=chainproxy, CN=chainproxy
 * ..." (ca.c): a chain seen through chainproxy itself. */
static int from_chainproxy(const cp_verify_result_t *r) {
  int i;

  for (i = 0; i < r->nchain; i++) {
    /* Not the untrusted hierarchy (nobody is meant to trust it), nor the
     * catalogue's (an origin's chain, not a minted one). */
    if (strstr(r->chain[i].issuer, "O=chainproxy") != NULL &&
        strstr(r->chain[i].issuer, "Untrusted") == NULL &&
        strstr(r->chain[i].issuer, "Catalogue") == NULL) {
      return 1;
    }
  }
  return 0;
}


/* CA/Browser Forum limits: 398 days since 2020; a leaf valid from
 * before 2000 is a clock or a fake. */
static void check_validity(cp_verify_result_t *r) {
  const cp_cert_info_t *leaf = r->nchain > 0 ? &r->chain[0] : NULL;

  r->unusual_validity = 0;
  r->validity_days = 0;
  if (leaf == NULL || leaf->nb == 0 || leaf->na == 0) {
    return;
  }
  r->validity_days = (long)((leaf->na - leaf->nb) / 86400);
  r->unusual_validity = leaf->nb < (time_t)946684800 || r->validity_days > 398;
}


cp_cause_t cp_diag_error_cause(const cp_verify_result_t *r, int i) {
  return i >= 0 && i < r->nerrors
             ? cause_of(r, r->errors[i].depth, r->errors[i].code)
             : CP_CAUSE_NONE;
}


/* A stapled OCSP response that does not vouch for the leaf: a warning
 * (browsers and must-staple clients care; curl, Python, Node do not). */
static void staple_warning(cp_verify_result_t *r) {
  if (!r->ok || r->warning != NULL || r->ocsp == NULL ||
      strcmp(r->ocsp, "none") == 0 || strcmp(r->ocsp, "good") == 0) {
    return;
  }
  r->warning = "ocsp_staple";
  snprintf(r->warning_hint, sizeof(r->warning_hint),
           "%s: fix the server's OCSP stapling (it should staple a current "
           "response signed by the issuer or its OCSP responder).",
           r->ocsp_note);
}


void cp_diag_classify(cp_verify_result_t *r, const char *host, int warn_days) {
  cp_cause_t best = CP_CAUSE_NONE;
  int i, primary = -1;

  r->minted_by_chainproxy = from_chainproxy(r);
  check_validity(r);
  r->cause = NULL;
  r->cause_id = CP_CAUSE_NONE;
  r->hint[0] = '\0';
  r->primary = -1;
  r->warning = NULL;
  r->warning_hint[0] = '\0';
  for (i = 0; i < r->nerrors; i++) {
    cp_cause_t c = cause_of(r, r->errors[i].depth, r->errors[i].code);

    if (c < best) {
      best = c;
      primary = i;
    }
  }
  if (primary >= 0) {
    const cp_cert_info_t *c = cert_at(r, r->errors[primary].depth);

    r->primary = primary;
    r->cause_id = best;
    r->cause = cp_cause_name(best);
    r->error_depth = r->errors[primary].depth;
    r->error_code = r->errors[primary].code;
    r->error = r->errors[primary].error;
    if (c != NULL) {
      r->failing = *c;
    }
    cp_diag_hint(r, best, cert_at(r, r->error_depth), r->error_depth,
                 r->error_code, host, r->hint, sizeof(r->hint));
    if (r->minted_by_chainproxy &&
        (best == CP_CAUSE_UNKNOWN_ISSUER || best == CP_CAUSE_UNTRUSTED_ROOT ||
         best == CP_CAUSE_INCOMPLETE_CHAIN)) {
      snprintf(r->hint, sizeof(r->hint),
               "This chain was minted by chainproxy (the connection went "
               "through it): trust chainproxy's root.pem ('chainproxy ca' "
               "prints where it is; e.g. --upstream-ca "
               "~/.chainproxy/root.pem, or curl --cacert "
               "~/.chainproxy/root.pem).");
    }
  } else if (!r->ok) {
    r->cause_id = CP_CAUSE_OTHER;
    r->cause = cp_cause_name(CP_CAUSE_OTHER);
    snprintf(r->hint, sizeof(r->hint), "OpenSSL says: %s.",
             r->error ? r->error : "verification failed");
  }
  forecast(r, warn_days);
  staple_warning(r);
}
