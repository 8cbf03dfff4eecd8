/* The handshake classifier, rule by rule, on hand-made facts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/sslerr.h>

#include "diag/hs_diag.h"


static cp_hs_facts_t facts(int alert) {
  cp_hs_facts_t f;

  memset(&f, 0, sizeof(f));
  f.alert_in = alert;
  return f;
}


static const char *cause(const cp_hs_facts_t *f, char *hint, size_t cap) {
  cp_hs_result_t r;

  cp_hs_classify(f, &r);
  snprintf(hint, cap, "%s", r.hint);
  return r.name;
}


static void test_rules(void **state) {
  static const unsigned char http[] = "HTTP/1.0 400 Bad request";
  static const unsigned char tls[] = "\x15\x03\x03\x00\x02\x02\x46";
  cp_hs_facts_t f;
  char hint[512];

  (void)state;
  f = facts(-1);
  f.first = http;
  f.nfirst = 16;
  f.err_lib = ERR_LIB_SSL;
  f.err_reason = SSL_R_WRONG_VERSION_NUMBER;
  assert_string_equal(cause(&f, hint, sizeof(hint)), "not_tls");
  assert_non_null(strstr(hint, "'HTTP/1.0 400 Bad'"));
  assert_non_null(strstr(hint, "plain HTTP"));

  f = facts(70);
  f.first = tls;
  f.nfirst = 7;
  assert_string_equal(cause(&f, hint, sizeof(hint)), "tls_version");
  /* How to reach it anyway, beside "upgrade the server". */
  assert_non_null(strstr(hint, "upgrade the server"));
  assert_non_null(strstr(hint, "--upstream-tls-min 1.1"));
  assert_non_null(strstr(hint, "\"upstream_tls_min\": \"1.1\""));
  assert_true(strlen(hint) < sizeof(hint) - 1); /* not cut short */
  f = facts(-1);
  f.err_lib = ERR_LIB_SSL;
  f.err_reason = SSL_R_UNSUPPORTED_PROTOCOL;
  assert_string_equal(cause(&f, hint, sizeof(hint)), "tls_version");

  f = facts(120);
  f.offered = "http/1.1";
  assert_string_equal(cause(&f, hint, sizeof(hint)), "alpn_mismatch");
  assert_non_null(strstr(hint, "(http/1.1)"));

  f = facts(40); /* TLS 1.2 mTLS: handshake_failure after the request */
  f.cert_requested = 1;
  f.ca_names = "CN=Corp CA";
  assert_string_equal(cause(&f, hint, sizeof(hint)), "client_cert_required");
  assert_non_null(strstr(hint, "issued by one of: CN=Corp CA"));
  f = facts(116); /* TLS 1.3: certificate_required */
  assert_string_equal(cause(&f, hint, sizeof(hint)), "client_cert_required");
  f = facts(-1); /* asked, then closed without an alert */
  f.cert_requested = 1;
  f.closed = 1;
  assert_string_equal(cause(&f, hint, sizeof(hint)), "client_cert_required");

  f = facts(40); /* handshake_failure with no certificate asked for */
  assert_string_equal(cause(&f, hint, sizeof(hint)), "no_shared_cipher");

  f = facts(-1);
  f.timed_out = 1;
  assert_string_equal(cause(&f, hint, sizeof(hint)), "handshake_timeout");

  f = facts(112);
  assert_string_equal(cause(&f, hint, sizeof(hint)), "handshake_alert");
  assert_non_null(strstr(hint, "unrecognized_name (112)"));

  f = facts(-1);
  f.closed = 1;
  assert_string_equal(cause(&f, hint, sizeof(hint)), "handshake_closed");
  f = facts(-1);
  assert_string_equal(cause(&f, hint, sizeof(hint)), "handshake_failed");
}


static void test_client_side(void **state) {
  cp_hs_facts_t f = facts(-1);
  cp_hs_result_t r;

  (void)state;
  f.alert_out = -1; /* the client walked away: its refusal, not ours */
  assert_int_equal(cp_hs_classify_client(&f, &r), 0);
  f.alert_out = 70;
  f.client_versions = "TLSv1";
  assert_int_equal(cp_hs_classify_client(&f, &r), 1);
  assert_string_equal(r.name, "tls_version");
  assert_non_null(strstr(r.hint, "offers only TLSv1"));
  f.alert_out = 40;
  f.client_ciphers = "1 suites: RSA-key-exchange";
  assert_int_equal(cp_hs_classify_client(&f, &r), 1);
  assert_string_equal(r.name, "no_shared_cipher");
  assert_non_null(strstr(r.hint, "(1 suites: RSA-key-exchange)"));
  f.alert_out = 50;
  assert_int_equal(cp_hs_classify_client(&f, &r), 1);
  assert_string_equal(r.name, "handshake_alert");
  f.alert_out = 112;
  f.no_sni = 1;
  assert_int_equal(cp_hs_classify_client(&f, &r), 1);
  assert_string_equal(r.name, "no_sni");
  assert_non_null(strstr(r.hint, "sent no SNI"));
}


static void test_names(void **state) {
  (void)state;
  assert_string_equal(cp_hs_cause_name(CP_HS_NOT_TLS), "not_tls");
  assert_null(cp_hs_cause_name(CP_HS_NONE));
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rules),
      cmocka_unit_test(test_client_side),
      cmocka_unit_test(test_names),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
