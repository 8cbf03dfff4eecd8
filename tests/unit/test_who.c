/* Who breaks: the installed client families applied to hand-made
 * results, and the data file's parser on bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509_vfy.h>

#include "diag/diag.h"
#include "base/err.h"
#include "diag/who.h"

#define NOW ((time_t)1800000000)
#define DAY 86400L

static cp_who_t who;


static int load(void **state) {
  char err[400];

  (void)state;
  assert_int_equal(cp_who_load(&who, CP_CLIENTS_PATH, err, sizeof(err)), 0);
  return 0;
}


static int unload(void **state) {
  (void)state;
  cp_who_free(&who);
  return 0;
}


static const char *verdict(const cp_verify_result_t *r, const char *fam,
                           const char **error) {
  int i;

  for (i = 0; i < r->nwho; i++) {
    if (strcmp(r->who[i].family, fam) == 0) {
      *error = r->who[i].error;
      return r->who[i].verdict;
    }
  }
  fail_msg("no verdict for %s", fam);
  return NULL;
}


static cp_verify_result_t *usual(void) {
  cp_verify_result_t *r = calloc(1, sizeof(*r));
  int i;

  r->at = NOW;
  r->ok = 1;
  r->nchain = r->nbuilt = 3;
  for (i = 0; i < 3; i++) {
    r->chain[i].nb = NOW - 300 * DAY;
    r->chain[i].na = NOW + 300 * DAY;
    r->chain[i].is_ca = i > 0;
    r->chain[i].key_bits = 2048;
  }
  memcpy(r->built, r->chain, sizeof(r->chain));
  return r;
}


/* The AddTrust shape: an expired cross-sign presented, a valid twin in
 * the store; whether the store also holds the old root decides 1.0.2. */
static void test_cross_sign(void **state) {
  cp_verify_result_t *r = usual();
  const char *e = NULL;

  (void)state;
  r->chain[2].na = NOW - DAY;
  r->chain[2].twin_root = 1;
  r->chain[2].issuer_in_store = 1;
  cp_who_predict(&who, r);
  assert_string_equal(verdict(r, "openssl3", &e), "pass");
  assert_string_equal(verdict(r, "gnutls", &e), "pass");
  assert_string_equal(verdict(r, "openssl102", &e), "fail");
  assert_string_equal(e, "certificate has expired");
  assert_string_equal(verdict(r, "openssl101", &e), "fail");
  assert_string_equal(verdict(r, "gnutls_old", &e), "fail");
  assert_string_equal(verdict(r, "java", &e), "pass");
  r->chain[2].issuer_in_store = 0;
  cp_who_predict(&who, r);
  assert_string_equal(verdict(r, "openssl102", &e), "pass");
  assert_string_equal(verdict(r, "openssl101", &e), "fail");
  assert_string_equal(e, "unable to get local issuer certificate");
  free(r);
}


static void add_error(cp_verify_result_t *r, int depth, int code) {
  r->errors[r->nerrors].depth = depth;
  r->errors[r->nerrors].code = code;
  r->errors[r->nerrors].error = X509_verify_cert_error_string(code);
  r->nerrors++;
  r->ok = 0;
}


static void test_failures(void **state) {
  cp_verify_result_t *r = usual();
  const char *e = NULL;

  (void)state;
  /* A missing intermediate: browsers fetch it when the leaf says where. */
  r->nbuilt = r->nchain = 1;
  snprintf(r->built[0].issuer, sizeof(r->built[0].issuer), "CN=Inter");
  add_error(r, 0, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  cp_diag_classify(r, NULL, 30);
  cp_who_predict(&who, r);
  assert_string_equal(verdict(r, "browsers", &e), "unknown");
  assert_string_equal(verdict(r, "java", &e), "fail");
  assert_non_null(strstr(e, "unable to find valid certification path"));
  snprintf(r->built[0].ca_issuers, sizeof(r->built[0].ca_issuers),
           "http://ca.test/i.crt");
  cp_who_predict(&who, r);
  assert_string_equal(verdict(r, "browsers", &e), "pass");
  assert_string_equal(verdict(r, "openssl3", &e), "fail");
  free(r);
  /* A 1024-bit RSA leaf: OpenSSL 3 at level 2 refuses, Java takes it. */
  r = usual();
  r->built[0].key_bits = 1024;
  add_error(r, 0, X509_V_ERR_EE_KEY_TOO_SMALL);
  cp_diag_classify(r, NULL, 30);
  cp_who_predict(&who, r);
  assert_string_equal(verdict(r, "openssl3", &e), "fail");
  assert_string_equal(e, "EE certificate key too weak");
  assert_string_equal(verdict(r, "java", &e), "pass");
  assert_string_equal(verdict(r, "openssl101", &e), "pass");
  assert_string_equal(verdict(r, "gnutls", &e), "unknown");
  assert_string_equal(verdict(r, "browsers", &e), "fail");
  assert_string_equal(e, "NET::ERR_CERT_WEAK_KEY");
  free(r);
}


static void test_browser_policy(void **state) {
  cp_verify_result_t *r = usual();
  const char *e = NULL;

  (void)state;
  r->nbrowser = 1;
  r->browser[0].name = "no_sct";
  cp_who_predict(&who, r);
  assert_string_equal(verdict(r, "browsers", &e), "fail");
  assert_string_equal(e, "NET::ERR_CERTIFICATE_TRANSPARENCY_REQUIRED");
  assert_string_equal(verdict(r, "openssl3", &e), "pass");
  free(r);
}


static void test_parse_errors(void **state) {
  static const struct {
    const char *json, *want;
  } cases[] = {
      {"{}", "\"families\" list"},
      {"{\"families\": [{\"id\": \"x\"}]}", "family 0: needs"},
      {"{\"families\": [{\"id\": \"x\", \"name\": \"n\", \"path\": \"p\", "
       "\"errors\": {}, \"sources\": {}}]}",
       "unknown 'p'"},
      {"{\"families\": [{\"id\": \"x\", \"name\": \"n\", \"path\": "
       "\"any_path\", \"errors\": {\"nope\": \"t\"}, \"sources\": {}}]}",
       "unknown kind 'nope'"},
      {"{\"families\": [{\"id\": \"x\", \"name\": \"n\", \"path\": "
       "\"any_path\", \"sha1\": 3, \"errors\": {}, \"sources\": {}}]}",
       "\"sha1\" must be"},
  };
  cp_who_t w;
  char err[300];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    err[0] = '\0';
    assert_int_not_equal(cp_who_parse(&w, cases[i].json, strlen(cases[i].json),
                                      err, sizeof(err)),
                         0);
    if (strstr(err, cases[i].want) == NULL) {
      fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
    assert_null(w.f);
  }
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cross_sign),
      cmocka_unit_test(test_failures),
      cmocka_unit_test(test_browser_policy),
      cmocka_unit_test(test_parse_errors),
  };
  return cmocka_run_group_tests(tests, load, unload);
}
