/* The classifier rule by rule, on hand-made results: no certificates, no
 * OpenSSL verification, only the data the rules read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509_vfy.h>

#include "diag/diag.h"

#define NOW ((time_t)1800000000) /* 2027-01-15 */
#define DAY 86400L

static cp_verify_result_t res;

/* cert(depth, subject, issuer, is_ca, self_issued, not_after) into both
 * the presented and the built chain. */
static cp_cert_info_t *cert(int depth, const char *subject, const char *issuer,
                            int is_ca, int self_issued, time_t na) {
  cp_cert_info_t *c = &res.built[depth];

  memset(c, 0, sizeof(*c));
  c->depth = depth;
  snprintf(c->subject, sizeof(c->subject), "%s", subject);
  snprintf(c->issuer, sizeof(c->issuer), "%s", issuer);
  c->is_ca = is_ca;
  c->self_issued = self_issued;
  c->nb = NOW - 365 * DAY;
  c->na = na;
  snprintf(c->not_after, sizeof(c->not_after), "2030-01-01T00:00:00Z");
  snprintf(c->sha256, sizeof(c->sha256), "%064d", depth);
  snprintf(c->key_type, sizeof(c->key_type), "EC");
  c->key_bits = 256;
  snprintf(c->sig_alg, sizeof(c->sig_alg), "ecdsa-with-SHA256");
  if (depth >= res.nbuilt) {
    res.nbuilt = depth + 1;
  }
  return c;
}


/* Presented chain = the first n built elements. */
static void present(int n) {
  memcpy(res.chain, res.built, sizeof(res.chain[0]) * (size_t)n);
  res.nchain = n;
}


static void error(int depth, int code) {
  res.errors[res.nerrors].depth = depth;
  res.errors[res.nerrors].code = code;
  res.errors[res.nerrors].error = X509_verify_cert_error_string(code);
  res.nerrors++;
  res.ok = 0;
}


static int setup(void **state) {
  (void)state;
  memset(&res, 0, sizeof(res));
  res.at = NOW;
  res.ok = 1;
  return 0;
}


/* The usual shape: leaf, intermediate, root (root from the store). */
static void usual_chain(void) {
  cert(0, "CN=leaf", "CN=Inter", 0, 0, NOW + 300 * DAY);
  cert(1, "CN=Inter", "CN=Root", 1, 0, NOW + 900 * DAY);
  cert(2, "CN=Root", "CN=Root", 1, 1, NOW + 3000 * DAY);
  present(2);
}


static void classify(void) {
  cp_diag_classify(&res, "leaf.test", CP_DIAG_WARN_DAYS);
}


static void test_ok_no_warning(void **state) {
  (void)state;
  usual_chain();
  classify();
  assert_null(res.cause);
  assert_null(res.warning);
  assert_int_equal(res.expires_first, 0);
  assert_int_equal(res.expires_days, 300);
}


static void test_expired_leaf(void **state) {
  (void)state;
  usual_chain();
  res.built[0].na = res.chain[0].na = NOW - 2 * DAY;
  error(0, X509_V_ERR_CERT_HAS_EXPIRED);
  classify();
  assert_string_equal(res.cause, "expired_leaf");
  assert_int_equal(res.error_depth, 0);
  assert_string_equal(res.failing.subject, "CN=leaf");
  assert_non_null(strstr(res.hint, "renew"));
  assert_int_equal(res.expires_days, -2);
}


static void test_expired_intermediate(void **state) {
  (void)state;
  usual_chain();
  error(1, X509_V_ERR_CERT_HAS_EXPIRED);
  classify();
  assert_string_equal(res.cause, "expired_intermediate");
  assert_string_equal(res.failing.subject, "CN=Inter");
}


static void test_expired_root(void **state) {
  (void)state;
  usual_chain();
  error(2, X509_V_ERR_CERT_HAS_EXPIRED);
  classify();
  assert_string_equal(res.cause, "expired_root");
  assert_string_equal(res.failing.subject, "CN=Root");
  assert_non_null(strstr(res.hint, "trust store"));
}


/* leaf, inter, cross (modern root issued by the old root, same end), old
 * root from the store: the Datadog Agent 5 shape. */
static void legacy_chain(void) {
  cert(0, "CN=leaf", "CN=Inter", 0, 0, NOW + 300 * DAY);
  cert(1, "CN=Inter", "CN=Modern", 1, 0, NOW + 900 * DAY);
  cert(2, "CN=Modern", "CN=Old", 1, 0, NOW - 10 * DAY);
  cert(3, "CN=Old", "CN=Old", 1, 1, NOW - 10 * DAY);
  present(3);
}


static void test_expired_cross_sign_no_alternate(void **state) {
  (void)state;
  legacy_chain();
  error(2, X509_V_ERR_CERT_HAS_EXPIRED);
  error(3, X509_V_ERR_CERT_HAS_EXPIRED);
  classify();
  assert_string_equal(res.cause, "expired_cross_sign");
  assert_int_equal(res.error_depth, 2);
  assert_string_equal(res.failing.subject, "CN=Modern");
  assert_non_null(strstr(res.hint, "no valid root"));
  assert_int_equal(res.primary, 0);
}


static void test_expired_cross_sign_with_alternate(void **state) {
  (void)state;
  legacy_chain();
  /* The store also holds a valid CN=Modern root: a 1.0.2-style builder
   * still went through the cross-sign. */
  res.built[2].twin_root = 1;
  res.built[3].na = NOW + 10 * DAY;
  error(2, X509_V_ERR_CERT_HAS_EXPIRED);
  classify();
  assert_string_equal(res.cause, "expired_cross_sign");
  assert_non_null(strstr(res.hint, "holds the valid root"));
}


/* Not a cross-sign: the intermediate simply ended before its root. */
static void test_expired_ca_with_other_end_is_intermediate(void **state) {
  (void)state;
  legacy_chain();
  res.built[2].na = NOW - 20 * DAY;
  error(2, X509_V_ERR_CERT_HAS_EXPIRED);
  classify();
  assert_string_equal(res.cause, "expired_intermediate");
}


static void test_verified_with_expired_cross_sign_warns(void **state) {
  (void)state;
  legacy_chain();
  /* Trusted-first found CN=Modern in the store: the built chain ends
   * there, the presented cross-sign is unused. */
  res.built[2].twin_root = 1;
  res.chain[2].twin_root = 1;
  res.built[2].self_issued = 1;
  res.nbuilt = 3;
  classify();
  assert_null(res.cause);
  assert_string_equal(res.warning, "expired_cross_sign");
  assert_int_equal(res.expires_first, 2);
  assert_true(res.expires_days < 0);
}


static void test_expires_soon_warns(void **state) {
  (void)state;
  usual_chain();
  res.built[1].na = res.chain[1].na = NOW + 12 * DAY;
  classify();
  assert_string_equal(res.warning, "expires_soon");
  assert_int_equal(res.expires_first, 1);
  assert_int_equal(res.expires_days, 12);
  res.warning = NULL;
  cp_diag_classify(&res, NULL, 10);
  assert_null(res.warning);
}


static void test_not_yet_valid(void **state) {
  (void)state;
  usual_chain();
  error(0, X509_V_ERR_CERT_NOT_YET_VALID);
  classify();
  assert_string_equal(res.cause, "not_yet_valid");
}


static void test_incomplete_chain(void **state) {
  (void)state;
  usual_chain();
  present(1);
  res.nbuilt = 1;
  error(0, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  error(0, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE);
  classify();
  assert_string_equal(res.cause, "incomplete_chain");
  assert_non_null(strstr(res.hint, "CN=Inter"));
}


static void test_unknown_issuer(void **state) {
  (void)state;
  usual_chain();
  res.nbuilt = 2;
  error(1, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  classify();
  assert_string_equal(res.cause, "unknown_issuer");
  assert_string_equal(res.failing.subject, "CN=Inter");
}


/* The leaf's issuer is presented but unknown upstream: not incomplete. */
static void test_unknown_issuer_at_leaf_with_issuer_presented(void **state) {
  (void)state;
  usual_chain();
  error(0, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT);
  classify();
  assert_string_equal(res.cause, "unknown_issuer");
}


static void test_self_signed_leaf(void **state) {
  (void)state;
  cert(0, "CN=leaf", "CN=leaf", 0, 1, NOW + 300 * DAY);
  present(1);
  error(0, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  classify();
  assert_string_equal(res.cause, "self_signed_leaf");
}


static void test_untrusted_root(void **state) {
  (void)state;
  usual_chain();
  present(3);
  error(2, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
  classify();
  assert_string_equal(res.cause, "untrusted_root");
  assert_string_equal(res.failing.subject, "CN=Root");
  assert_non_null(strstr(res.hint, "corporate"));
}


static void test_hostname_mismatch(void **state) {
  (void)state;
  usual_chain();
  snprintf(res.built[0].names, sizeof(res.built[0].names), "DNS:other.test");
  error(0, X509_V_ERR_HOSTNAME_MISMATCH);
  classify();
  assert_string_equal(res.cause, "hostname_mismatch");
  assert_non_null(strstr(res.hint, "DNS:other.test"));
  assert_non_null(strstr(res.hint, "leaf.test"));
}


static void test_weak_signature(void **state) {
  (void)state;
  usual_chain();
  error(0, X509_V_ERR_CA_MD_TOO_WEAK);
  classify();
  assert_string_equal(res.cause, "weak_signature");
  /* MD5 shows up as a signature failure on OpenSSL 3. */
  setup(NULL);
  usual_chain();
  res.built[0].weak_sig = 1;
  error(0, X509_V_ERR_CERT_SIGNATURE_FAILURE);
  classify();
  assert_string_equal(res.cause, "weak_signature");
}


static void test_weak_key(void **state) {
  (void)state;
  usual_chain();
  error(0, X509_V_ERR_EE_KEY_TOO_SMALL);
  classify();
  assert_string_equal(res.cause, "weak_key");
  setup(NULL);
  usual_chain();
  error(1, X509_V_ERR_CA_KEY_TOO_SMALL);
  classify();
  assert_string_equal(res.cause, "weak_key");
  assert_int_equal(res.error_depth, 1);
}


static void test_bad_usage(void **state) {
  static const int codes[] = {
      X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE,
      X509_V_ERR_INVALID_NON_CA,
      X509_V_ERR_INVALID_EXTENSION,
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    setup(NULL);
    usual_chain();
    error(0, codes[i]);
    classify();
    assert_string_equal(res.cause, "bad_usage");
  }
}


/* Each rule of path validation that has a cause of its own: the cause
 * and the hint's key words (the element's data the hint names). */
static void test_path_rules(void **state) {
  static const struct {
    int depth, code;
    const char *cause, *words;
  } cases[] = {
      {1, X509_V_ERR_INVALID_CA, "invalid_ca", "may not issue certificates"},
      {1, X509_V_ERR_KEYUSAGE_NO_CERTSIGN, "invalid_ca",
       "its keyUsage lacks keyCertSign"},
      {2, X509_V_ERR_PATH_LENGTH_EXCEEDED, "path_length",
       "allows 0 CA certificate(s) below it (basicConstraints pathlen:0), "
       "but the chain puts 1 there"},
      {0, X509_V_ERR_PERMITTED_VIOLATION, "name_constraints",
       "(DNS:www.test) is outside the names its issuer 'CN=Inter' may "
       "certify (nameConstraints: permitted DNS:.corp.test)"},
      {0, X509_V_ERR_EXCLUDED_VIOLATION, "name_constraints", "outside"},
      {0, X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION, "critical_extension",
       "the critical extension 1.3.6.1.4.1.55555.1"},
      {0, X509_V_ERR_NO_EXPLICIT_POLICY, "policy", "Java does by default"},
      {0, X509_V_ERR_INVALID_POLICY_EXTENSION, "policy", "certificatePolicies"},
      {0, X509_V_ERR_INVALID_PURPOSE, "bad_eku", "lacks serverAuth"},
      {1, X509_V_ERR_INVALID_PURPOSE, "bad_eku", "without serverAuth"},
      {1, X509_V_ERR_CERT_REVOKED, "revoked", "was revoked by its CA"},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cp_cert_info_t *c;

    setup(NULL);
    usual_chain();
    snprintf(res.built[0].names, sizeof(res.built[0].names), "DNS:www.test");
    snprintf(res.built[0].unknown_critical,
             sizeof(res.built[0].unknown_critical), "1.3.6.1.4.1.55555.1");
    c = &res.built[1];
    snprintf(c->name_constraints, sizeof(c->name_constraints),
             "permitted DNS:.corp.test");
    res.built[2].path_len = 0;
    present(2);
    error(cases[i].depth, cases[i].code);
    classify();
    if (strcmp(res.cause, cases[i].cause) != 0 ||
        strstr(res.hint, cases[i].words) == NULL) {
      fail_msg("case %zu: %s: %s", i, res.cause, res.hint);
    }
  }
}


/* An incomplete chain names the URL browsers fetch the issuer from. */
static void test_incomplete_chain_aia(void **state) {
  (void)state;
  cert(0, "CN=leaf", "CN=Inter", 0, 0, NOW + 300 * DAY);
  snprintf(res.built[0].ca_issuers, sizeof(res.built[0].ca_issuers),
           "http://ca.test/inter.crt");
  present(1);
  error(0, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  classify();
  assert_string_equal(res.cause, "incomplete_chain");
  assert_non_null(strstr(res.hint, "caIssuers URL http://ca.test/inter.crt"));
}


/* Every error OpenSSL 3.0 can report gets a named cause, except these,
 * each for a reason: nothing here may fall to "other" by accident. */
static int allowed_other(int code) {
  /* About a CRL, not the chain: with --crl they become revocation notes
   * (verify.c), never chain errors. */
  if (cp_verify_is_crl_error(code)) {
    return 1;
  }
  switch (code) {
  /* Internal or caller errors, not about the chain. */
  case X509_V_ERR_UNSPECIFIED:
  case X509_V_ERR_OUT_OF_MEM:
  case X509_V_ERR_APPLICATION_VERIFICATION:
  case X509_V_ERR_INVALID_CALL:
  case X509_V_ERR_STORE_LOOKUP:
  /* Only with settings chainproxy never turns on: trust settings in
   * "TRUSTED CERTIFICATE" files, issuer-check callbacks, proxy
   * certificates, RFC 3779, Suite B, DANE, OpenSSL's own CT and OCSP
   * checks (chainproxy reads staples and SCTs itself). */
  case X509_V_ERR_CERT_UNTRUSTED:
  case X509_V_ERR_CERT_REJECTED:
  case X509_V_ERR_SUBJECT_ISSUER_MISMATCH:
  case X509_V_ERR_AKID_SKID_MISMATCH:
  case X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH:
  case X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED:
  case X509_V_ERR_PROXY_CERTIFICATES_NOT_ALLOWED:
  case X509_V_ERR_PROXY_SUBJECT_NAME_VIOLATION:
  case X509_V_ERR_UNNESTED_RESOURCE:
  case X509_V_ERR_UNSUPPORTED_EXTENSION_FEATURE:
  case X509_V_ERR_SUITE_B_INVALID_VERSION:
  case X509_V_ERR_SUITE_B_INVALID_ALGORITHM:
  case X509_V_ERR_SUITE_B_INVALID_CURVE:
  case X509_V_ERR_SUITE_B_INVALID_SIGNATURE_ALGORITHM:
  case X509_V_ERR_SUITE_B_LOS_NOT_ALLOWED:
  case X509_V_ERR_SUITE_B_CANNOT_SIGN_P_384_WITH_P_256:
  case X509_V_ERR_DANE_NO_MATCH:
  case X509_V_ERR_NO_VALID_SCTS:
  case X509_V_ERR_OCSP_VERIFY_NEEDED:
  case X509_V_ERR_OCSP_VERIFY_FAILED:
  case X509_V_ERR_OCSP_CERT_UNKNOWN:
  /* A path loop needs cross-certified CAs that point at each other. */
  case X509_V_ERR_PATH_LOOP:
    return 1;
  default:
    return 0;
  }
}


static void test_no_error_left_as_other(void **state) {
  int code, named = 0;

  (void)state;
  for (code = 1; code < 200; code++) {
    if (strstr(X509_verify_cert_error_string(code),
               "unknown certificate verification error") != NULL) {
      continue;
    }
    setup(NULL);
    usual_chain();
    error(1, code);
    classify();
    if (strcmp(res.cause, "other") == 0 && !allowed_other(code)) {
      fail_msg("error %d (%s) falls to 'other'", code,
               X509_verify_cert_error_string(code));
    }
    if (strcmp(res.cause, "other") != 0 && allowed_other(code)) {
      fail_msg("error %d is named now: take it off the list", code);
    }
    named += strcmp(res.cause, "other") != 0;
  }
  assert_true(named >= 45);
}


static void test_other_keeps_openssl_text(void **state) {
  (void)state;
  usual_chain();
  error(1, X509_V_ERR_UNABLE_TO_GET_CRL);
  classify();
  assert_string_equal(res.cause, "other");
  assert_non_null(strstr(res.hint, "unable to get certificate CRL"));
}


/* Several errors: the trust problem wins over time and name, and the
 * reported depth and subject follow the winner. */
static void test_priority(void **state) {
  (void)state;
  usual_chain();
  present(3);
  error(0, X509_V_ERR_HOSTNAME_MISMATCH);
  error(0, X509_V_ERR_CERT_HAS_EXPIRED);
  error(2, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
  classify();
  assert_string_equal(res.cause, "untrusted_root");
  assert_int_equal(res.primary, 2);
  assert_int_equal(res.error_depth, 2);
  assert_int_equal(res.error_code, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
  setup(NULL);
  usual_chain();
  error(0, X509_V_ERR_HOSTNAME_MISMATCH);
  error(0, X509_V_ERR_CERT_HAS_EXPIRED);
  classify();
  assert_string_equal(res.cause, "expired_leaf");
}


static void test_cause_names(void **state) {
  (void)state;
  assert_string_equal(cp_cause_name(CP_CAUSE_UNTRUSTED_ROOT), "untrusted_root");
  assert_string_equal(cp_cause_name(CP_CAUSE_OTHER), "other");
  assert_null(cp_cause_name(CP_CAUSE_NONE));
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_ok_no_warning, setup),
      cmocka_unit_test_setup(test_expired_leaf, setup),
      cmocka_unit_test_setup(test_expired_intermediate, setup),
      cmocka_unit_test_setup(test_expired_root, setup),
      cmocka_unit_test_setup(test_expired_cross_sign_no_alternate, setup),
      cmocka_unit_test_setup(test_expired_cross_sign_with_alternate, setup),
      cmocka_unit_test_setup(test_expired_ca_with_other_end_is_intermediate,
                             setup),
      cmocka_unit_test_setup(test_verified_with_expired_cross_sign_warns,
                             setup),
      cmocka_unit_test_setup(test_expires_soon_warns, setup),
      cmocka_unit_test_setup(test_not_yet_valid, setup),
      cmocka_unit_test_setup(test_incomplete_chain, setup),
      cmocka_unit_test_setup(test_unknown_issuer, setup),
      cmocka_unit_test_setup(test_unknown_issuer_at_leaf_with_issuer_presented,
                             setup),
      cmocka_unit_test_setup(test_self_signed_leaf, setup),
      cmocka_unit_test_setup(test_untrusted_root, setup),
      cmocka_unit_test_setup(test_hostname_mismatch, setup),
      cmocka_unit_test_setup(test_weak_signature, setup),
      cmocka_unit_test_setup(test_weak_key, setup),
      cmocka_unit_test_setup(test_bad_usage, setup),
      cmocka_unit_test_setup(test_path_rules, setup),
      cmocka_unit_test_setup(test_incomplete_chain_aia, setup),
      cmocka_unit_test_setup(test_other_keeps_openssl_text, setup),
      cmocka_unit_test_setup(test_no_error_left_as_other, setup),
      cmocka_unit_test_setup(test_priority, setup),
      cmocka_unit_test(test_cause_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
