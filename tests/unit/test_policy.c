/* Browser-only policies on hand-made results, and the distrust file's
 * parser on bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "diag/policy.h"

#define Y2021 ((time_t)1609459200)
#define DAY 86400L


static cp_verify_result_t *chain(time_t nb, long days, int private_root) {
  cp_verify_result_t *r = calloc(1, sizeof(*r));

  r->ok = 1;
  r->private_root = private_root;
  r->nchain = r->nbuilt = 3;
  r->chain[0].nb = nb;
  r->chain[0].na = nb + days * DAY;
  snprintf(r->chain[0].not_before, sizeof(r->chain[0].not_before),
           "2021-01-01T00:00:00Z");
  snprintf(r->built[1].subject, sizeof(r->built[1].subject),
           "CN=Issuing CA,O=Old PKI Inc.");
  snprintf(r->built[2].sha256, sizeof(r->built[2].sha256), "%064d", 7);
  snprintf(r->built[2].subject, sizeof(r->built[2].subject), "CN=Root");
  r->built[0] = r->chain[0];
  return r;
}


static void test_policies(void **state) {
  static const char json[] =
      "{\"distrust\": [{\"name\": \"Old PKI\", \"clients\": \"Chrome, "
      "Firefox\", \"organizations\": [\"Old PKI Inc.\"], \"source\": "
      "\"2018\"}]}";
  cp_distrust_t d;
  cp_verify_result_t *r;
  char err[300];

  (void)state;
  assert_int_equal(
      cp_distrust_parse(&d, json, sizeof(json) - 1, err, sizeof(err)), 0);
  r = chain(Y2021, 825, 0);
  cp_policy_check(&d, r);
  assert_int_equal(r->nbrowser, 3);
  assert_string_equal(r->browser[0].name, "distrusted_ca");
  assert_non_null(strstr(r->browser[0].hint, "Chrome, Firefox distrust"));
  assert_string_equal(r->browser[1].name, "no_sct");
  assert_string_equal(r->browser[2].name, "long_validity");
  assert_string_equal(r->warning, "distrusted_ca");
  free(r);
  /* A private root: only the distrust list applies. With SCTs and a short
   * life, nothing. */
  r = chain(Y2021, 825, 1);
  r->chain[0].has_sct = 1;
  cp_policy_check(NULL, r);
  assert_int_equal(r->nbrowser, 0);
  assert_null(r->warning);
  free(r);
  cp_distrust_free(&d);
}


static void test_dates_and_fingerprints(void **state) {
  char json[512];
  cp_distrust_t d;
  cp_verify_result_t *r;
  char err[300];

  (void)state;
  snprintf(json, sizeof(json),
           "{\"distrust\": [{\"name\": \"Root Co\", \"clients\": \"Chrome\", "
           "\"after\": \"2024-11-30\", \"sha256\": [\"%064d\"], \"source\": "
           "\"s\"}]}",
           7);
  assert_int_equal(cp_distrust_parse(&d, json, strlen(json), err, sizeof(err)),
                   0);
  r = chain(Y2021, 300, 1);
  cp_policy_check(&d, r);
  assert_int_equal(r->nbrowser, 0); /* issued before the date */
  free(r);
  r = chain(Y2021 + 1500 * DAY, 300, 1);
  cp_policy_check(&d, r);
  assert_int_equal(r->nbrowser, 1);
  assert_non_null(strstr(r->browser[0].hint, "issued after 2024-11-30"));
  free(r);
  cp_distrust_free(&d);
}


static void test_parse_errors(void **state) {
  static const struct {
    const char *json, *want;
  } cases[] = {
      {"[]", "\"distrust\" list"},
      {"{\"distrust\": [{\"name\": \"x\"}]}", "entry 0: needs \"name\""},
      {"{\"distrust\": [{\"name\": \"x\", \"clients\": \"c\", \"source\": "
       "\"s\"}]}",
       "needs \"sha256\" or \"organizations\""},
      {"{\"distrust\": [{\"name\": \"x\", \"clients\": \"c\", \"source\": "
       "\"s\", \"sha256\": [\"ABC\"]}]}",
       "64 lower-case hex digits"},
      {"{\"distrust\": [{\"name\": \"x\", \"clients\": \"c\", \"source\": "
       "\"s\", \"after\": \"soon\", \"organizations\": [\"o\"]}]}",
       "is not a date"},
      {"{\"distrust\": ", "line 1"},
  };
  cp_distrust_t d;
  char err[300];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    err[0] = '\0';
    assert_int_not_equal(cp_distrust_parse(&d, cases[i].json,
                                           strlen(cases[i].json), err,
                                           sizeof(err)),
                         0);
    if (strstr(err, cases[i].want) == NULL) {
      fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
    assert_null(d.e);
  }
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_policies),
      cmocka_unit_test(test_dates_and_fingerprints),
      cmocka_unit_test(test_parse_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
