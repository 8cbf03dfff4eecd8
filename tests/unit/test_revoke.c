/* The OCSP staple judge on bytes that are not a good response: it never
 * fails the chain for them, and says what it saw. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag/revoke.h"


static void test_no_staple(void **state) {
  cp_verify_result_t *r = calloc(1, sizeof(*r));

  (void)state;
  r->ok = 1;
  r->revocation = "not_checked";
  cp_revoke_staple_der(NULL, 0, NULL, NULL, 0, r);
  assert_string_equal(r->ocsp, "none");
  assert_int_equal(r->ok, 1);
  assert_string_equal(r->revocation, "not_checked");
  free(r);
}


static void test_garbage(void **state) {
  static const unsigned char junk[] = {0x30, 0x03, 0x0a, 0x01, 0x07, 0xff};
  cp_verify_result_t *r = calloc(1, sizeof(*r));

  (void)state;
  r->ok = 1;
  cp_revoke_staple_der(junk, sizeof(junk), NULL, NULL, 0, r);
  assert_non_null(r->ocsp);
  assert_string_equal(r->ocsp, "malformed");
  assert_int_equal(r->ok, 1);
  assert_int_equal(r->nerrors, 0);
  free(r);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_staple),
      cmocka_unit_test(test_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
