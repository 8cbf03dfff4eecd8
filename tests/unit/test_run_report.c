/* `chainproxy run`'s judge: rejected:CAUSE matches the defect of the chain
 * chainproxy served, whatever alert the client sent or none, and the
 * alert stays in the reason; chainproxy refusing a client is not a
 * rejection of the served chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "app/run_report.h"


static void add(cp_run_report_t *r, const char *line) {
  cp_run_report_add(r, line, strlen(line));
}


/* One connection to localhost:443 served PROFILE and refused with ALERT
 * (a JSON value: "\"bad_certificate\"" or "null"), by REFUSED_BY. */
static void refused(cp_run_report_t *r, const char *profile, const char *alert,
                    const char *refused_by) {
  char line[512];

  add(r, "{\"event\":\"connect\",\"host\":\"localhost\",\"port\":443,"
         "\"mode\":\"intercept\"}");
  snprintf(line, sizeof(line),
           "{\"event\":\"client_handshake\",\"host\":\"localhost\","
           "\"port\":443,\"accepted\":false,\"profile\":\"%s\","
           "\"alert\":%s,\"refused_by\":\"%s\"}",
           profile, alert, refused_by);
  add(r, line);
}


static int judge(cp_run_report_t *r, const char *spec, char *reason,
                 size_t len) {
  char err[256];
  int failed;

  assert_int_equal(cp_run_expect_parse(&r->expect[0], spec, err, sizeof(err)),
                   0);
  r->nexpect = 1;
  failed = cp_run_report_judge(r);
  snprintf(reason, len, "%s", r->expect[0].reason);
  return failed == 0;
}


static void test_rejected_by_served_defect(void **state) {
  /* Go sends bad_certificate, Chromium certificate_unknown, Node none. */
  static const char *const alerts[] = {"\"bad_certificate\"",
                                       "\"certificate_unknown\"", "null",
                                       "\"certificate_expired\""};
  char reason[512];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(alerts) / sizeof(alerts[0]); i++) {
    cp_run_report_t r;

    memset(&r, 0, sizeof(r));
    refused(&r, "expired", alerts[i], "client");
    assert_true(
        judge(&r, "localhost=rejected:expired_leaf", reason, sizeof(reason)));
    assert_non_null(strstr(reason, "served expired_leaf"));
    assert_non_null(strstr(reason, "alert "));
    assert_true(
        judge(&r, "localhost=rejected:expired", reason, sizeof(reason)));
    assert_true(judge(&r, "localhost=rejected", reason, sizeof(reason)));
    /* Another defect is not this one. */
    assert_false(judge(&r, "localhost=rejected:hostname_mismatch", reason,
                       sizeof(reason)));
    assert_non_null(strstr(reason, ", not hostname_mismatch"));
    cp_run_report_free(&r);
  }
}


static void test_alert_kept_in_reason_and_json(void **state) {
  cp_run_report_t r;
  char reason[512];
  json_t *o;
  json_t *client;

  (void)state;
  memset(&r, 0, sizeof(r));
  refused(&r, "self-signed", "\"bad_certificate\"", "client");
  assert_true(
      judge(&r, "localhost=rejected:self_signed_leaf", reason, sizeof(reason)));
  assert_string_equal(reason, "the client rejected the self-signed chain "
                              "(served self_signed_leaf; alert "
                              "bad_certificate)");
  /* An alert still matches as before. */
  assert_true(
      judge(&r, "localhost=rejected:bad_certificate", reason, sizeof(reason)));
  o = cp_run_report_json(&r);
  client =
      json_object_get(json_array_get(json_object_get(o, "hosts"), 0), "client");
  assert_string_equal(json_string_value(json_object_get(client, "alert")),
                      "bad_certificate");
  assert_string_equal(
      json_string_value(json_object_get(client, "served_defect")),
      "self_signed_leaf");
  json_decref(o);
  cp_run_report_free(&r);
}


static void test_chainproxy_refusal_is_not_the_chain(void **state) {
  cp_run_report_t r;
  char reason[512];

  (void)state;
  memset(&r, 0, sizeof(r));
  refused(&r, "expired", "\"protocol_version\"", "chainproxy");
  assert_false(
      judge(&r, "localhost=rejected:expired_leaf", reason, sizeof(reason)));
  cp_run_report_free(&r);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rejected_by_served_defect),
      cmocka_unit_test(test_alert_kept_in_reason_and_json),
      cmocka_unit_test(test_chainproxy_refusal_is_not_the_chain),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
