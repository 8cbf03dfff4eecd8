#include "diag/diag.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509_vfy.h>

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


static void day_str(const cp_cert_info_t *c, int after, char *out, size_t len) {
  snprintf(out, len, "%.10s", after ? c->not_after : c->not_before);
}


/* The first CA above the leaf that carries nameConstraints. */
static const cp_cert_info_t *constrained_ca(const cp_verify_result_t *r) {
  int i;

  for (i = 1; i < r->nbuilt; i++) {
    if (r->built[i].name_constraints[0] != '\0') {
      return &r->built[i];
    }
  }
  return NULL;
}


/* The one-sentence remedy for cause at depth. */
static void hint_for(const cp_verify_result_t *r, cp_cause_t cause, int depth,
                     int code, const char *host, char *out, size_t len) {
  static const cp_cert_info_t none;
  const cp_cert_info_t *c = cert_at(r, depth);
  char na[16], nb[16];

  if (c == NULL) {
    c = &none;
  }
  day_str(c, 1, na, sizeof(na));
  day_str(c, 0, nb, sizeof(nb));
  switch (cause) {
  case CP_CAUSE_UNTRUSTED_ROOT:
    snprintf(out, len,
             "The chain ends at the self-signed root '%s', which "
             "this trust store does not hold: this is what a "
             "TLS-intercepting (corporate) proxy or a private CA looks like; "
             "trust that root only if you know who runs it, otherwise "
             "connect without the device that re-signs TLS.",
             c->subject);
    break;
  case CP_CAUSE_SELF_SIGNED_LEAF:
    snprintf(out, len,
             "The server presents a self-signed certificate "
             "('%s'): give it a certificate issued by a CA the clients "
             "trust, or pin this exact certificate in the client.",
             c->subject);
    break;
  case CP_CAUSE_INCOMPLETE_CHAIN:
    if (c->ca_issuers[0] != '\0') {
      snprintf(out, len,
               "The server sent its leaf without the intermediate "
               "that issued it ('%s'), and the store does not hold that "
               "issuer: configure the server to send the full chain (leaf "
               "then intermediates). Browsers fetch the missing intermediate "
               "from the leaf's AIA caIssuers URL %s and pass; curl, Python, "
               "Node and Java do not: that file is what the server's admin "
               "must add to the chain.",
               c->issuer, c->ca_issuers);
    } else {
      snprintf(out, len,
               "The server sent its leaf without the intermediate "
               "that issued it ('%s'), and the store does not hold that "
               "issuer: configure the server to send the full chain (leaf "
               "then intermediates); the leaf names no AIA caIssuers URL, so "
               "even browsers can only pass with the intermediate cached.",
               c->issuer);
    }
    break;
  case CP_CAUSE_UNKNOWN_ISSUER:
    snprintf(out, len,
             "No certificate in the trust store issued '%s' "
             "(its issuer is '%s'): add the root that issued it to the "
             "store, or, if the store is an outdated bundle shipped with "
             "the app (Datadog Agent 5 kept only AddTrust), use the system "
             "store instead.",
             c->subject, c->issuer);
    break;
  case CP_CAUSE_EXPIRED_CROSS_SIGN:
    if (c->twin_root) {
      snprintf(out, len,
               "'%s' at depth %d is a cross-sign that expired on "
               "%s; this store holds the valid root with the same name and "
               "key, yet the path went through the expired copy, as "
               "OpenSSL 1.0.x-style chain builders do (current OpenSSL, "
               "GnuTLS 3.6.14+, Java, Node and browsers prefer the trusted "
               "root and pass): remove the expired cross-sign from the "
               "server's chain.",
               c->subject, depth, na);
    } else {
      snprintf(out, len,
               "'%s' at depth %d is a cross-sign issued by the "
               "old root '%s'; both expired on %s and this store has no "
               "valid root with the same name and key, so clients holding "
               "only the old root fail (the AddTrust 2020 and DST Root CA X3 "
               "2021 case): trust the current root '%s' (e.g. the system "
               "store instead of an app's own bundle) and remove the "
               "cross-sign from the server's chain.",
               c->subject, depth, c->issuer, na, c->subject);
    }
    break;
  case CP_CAUSE_EXPIRED_ROOT:
    snprintf(out, len,
             "The trusted root '%s' expired on %s: replace it in "
             "the client's trust store with its successor; the server can "
             "only help by sending a chain to a root clients still hold.",
             c->subject, na);
    break;
  case CP_CAUSE_EXPIRED_INTERMEDIATE:
    snprintf(out, len,
             "The intermediate '%s' expired on %s: the server "
             "must send the current intermediate from its CA (update its "
             "chain file).",
             c->subject, na);
    break;
  case CP_CAUSE_EXPIRED_LEAF:
    snprintf(out, len,
             "The server certificate '%s' expired on %s: renew it "
             "and reload the server (if the date looks wrong, check the "
             "client's clock).",
             c->subject, na);
    break;
  case CP_CAUSE_NOT_YET_VALID:
    snprintf(out, len,
             "'%s' at depth %d is valid only from %s: check the "
             "client's clock, or the server is using a certificate before "
             "its start date.",
             c->subject, depth, nb);
    break;
  case CP_CAUSE_WEAK_KEY:
    snprintf(out, len,
             "'%s' has a %d-bit %s key, under this client's "
             "security level: reissue it with RSA 2048 or more, or ECDSA "
             "P-256.",
             c->subject, c->key_bits, c->key_type);
    break;
  case CP_CAUSE_WEAK_SIGNATURE:
    snprintf(out, len,
             "'%s' is signed with %s, which current clients "
             "refuse: reissue it with a SHA-256 signature.",
             c->subject, c->sig_alg);
    break;
  case CP_CAUSE_BAD_SIGNATURE:
    snprintf(out, len,
             "The signature on '%s' at depth %d does not verify with its "
             "issuer's key (%s): the certificate was altered, or the chain "
             "file puts the wrong issuer above it (a renewed intermediate "
             "with a new key); send the issuer that signed it.",
             c->subject, depth, X509_verify_cert_error_string(code));
    break;
  case CP_CAUSE_MALFORMED:
    snprintf(out, len,
             "'%s' at depth %d is not a well-formed certificate (%s): "
             "clients refuse it before any trust decision; reissue it.",
             c->subject[0] ? c->subject : "(no subject)", depth,
             X509_verify_cert_error_string(code));
    break;
  case CP_CAUSE_REVOKED:
    snprintf(out, len,
             "'%s' at depth %d was revoked by its CA%s%s%s%s%s: the server "
             "must be given a new certificate; clients that do not check "
             "revocation (most command-line clients) still connect to it, "
             "browsers that do refuse it.",
             c->subject, depth, r->revoked_at[0] ? " on " : "", r->revoked_at,
             r->revoked_reason[0] ? " (reason: " : "", r->revoked_reason,
             r->revoked_reason[0] ? ")" : "");
    break;
  case CP_CAUSE_INVALID_CA:
    snprintf(out, len,
             "'%s' at depth %d issued the certificate below it but may not "
             "issue certificates (%s): the server sends a leaf, or the wrong "
             "file, where its intermediate belongs; send the intermediate its "
             "CA issued (basicConstraints CA:TRUE, keyUsage keyCertSign).",
             c->subject, depth,
             code == X509_V_ERR_KEYUSAGE_NO_CERTSIGN
                 ? "its keyUsage lacks keyCertSign"
                 : "basicConstraints CA:FALSE or absent, or keyUsage "
                   "without keyCertSign");
    break;
  case CP_CAUSE_PATH_LENGTH:
    if (code == X509_V_ERR_CERT_CHAIN_TOO_LONG) {
      snprintf(out, len,
               "The chain is longer than this client's verify depth "
               "(depth %d at '%s'): the server sends a long or looping chain "
               "of cross-signs; send the shortest chain to a current root.",
               depth, c->subject);
      break;
    }
    snprintf(out, len,
             "'%s' at depth %d allows %d CA certificate(s) below it "
             "(basicConstraints pathlen:%d), but the chain puts %d there: "
             "the server sends an extra intermediate (a cross-sign or an "
             "old chain file); send the chain its CA issued.",
             c->subject, depth, c->path_len < 0 ? 0 : c->path_len,
             c->path_len < 0 ? 0 : c->path_len, depth > 0 ? depth - 1 : 0);
    break;
  case CP_CAUSE_NAME_CONSTRAINTS: {
    const cp_cert_info_t *ca = constrained_ca(r);
    const cp_cert_info_t *leaf = cert_at(r, 0);

    snprintf(out, len,
             "'%s' (%s) is outside the names its issuer '%s' may certify "
             "(nameConstraints: %s): the certificate was issued from a "
             "constrained (often a corporate or private) CA for a name it may "
             "not cover; reissue it from a CA allowed to cover this name.",
             leaf ? leaf->subject : c->subject,
             leaf && leaf->names[0] ? leaf->names : "no subjectAltName",
             ca ? ca->subject : c->issuer,
             ca ? ca->name_constraints : "unknown");
    break;
  }
  case CP_CAUSE_CRITICAL_EXTENSION:
    snprintf(out, len,
             "'%s' at depth %d carries the critical extension %s, which "
             "this client does not understand and so must refuse (RFC 5280 "
             "4.2): reissue it without the extension, or with it marked "
             "non-critical.",
             c->subject, depth,
             c->unknown_critical[0] ? c->unknown_critical : "(unknown)");
    break;
  case CP_CAUSE_POLICY:
    snprintf(out, len,
             "The chain requires an explicit certificate policy "
             "(policyConstraints in '%s') that the leaf does not assert (%s): "
             "clients that check policies fail (Java does by default; "
             "OpenSSL-based clients only when asked); reissue the leaf with "
             "the certificatePolicies its CA requires.",
             c->subject, X509_verify_cert_error_string(code));
    break;
  case CP_CAUSE_BAD_EKU:
    if (depth == 0) {
      snprintf(out, len,
               "The server certificate '%s' is not for TLS servers: its "
               "extendedKeyUsage lacks serverAuth (a client certificate or "
               "an S/MIME one, installed on a server): reissue it with "
               "extendedKeyUsage serverAuth.",
               c->subject);
    } else {
      snprintf(out, len,
               "'%s' at depth %d limits what it may issue for "
               "(extendedKeyUsage without serverAuth), so the leaf below it "
               "cannot serve TLS: the CA must issue it from an intermediate "
               "allowed for serverAuth.",
               c->subject, depth);
    }
    break;
  case CP_CAUSE_BAD_USAGE:
    snprintf(out, len,
             "'%s' at depth %d may not be used this way (%s): "
             "reissue it with the right extensions (a server needs "
             "extendedKeyUsage serverAuth, an issuer basicConstraints "
             "CA:TRUE and keyUsage keyCertSign).",
             c->subject, depth, X509_verify_cert_error_string(code));
    break;
  case CP_CAUSE_HOSTNAME_MISMATCH:
    snprintf(out, len,
             "The certificate is for %s, not for '%s': connect "
             "with a name it covers, or reissue it with this name in its "
             "subjectAltName.",
             c->names[0] ? c->names : c->subject,
             host ? host : "the requested name");
    break;
  default:
    snprintf(out, len, "OpenSSL says: %s (error %d at depth %d).",
             X509_verify_cert_error_string(code), code, depth);
    break;
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
    /* Not the untrusted hierarchy: nobody is meant to trust that one. */
    if (strstr(r->chain[i].issuer, "O=chainproxy") != NULL &&
        strstr(r->chain[i].issuer, "Untrusted") == NULL) {
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
    hint_for(r, best, r->error_depth, r->error_code, host, r->hint,
             sizeof(r->hint));
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
