#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/rfc3339.h"


static void test_forms(void **state) {
  time_t t;

  (void)state;
  assert_int_equal(cp_rfc3339_parse("2020-05-31T00:00:00Z", &t), 0);
  assert_int_equal(t, 1590883200);
  assert_int_equal(cp_rfc3339_parse("2020-05-31", &t), 0);
  assert_int_equal(t, 1590883200);
  assert_int_equal(cp_rfc3339_parse("2020-05-31T12:00:00+02:00", &t), 0);
  assert_int_equal(t, 1590883200 + 10 * 3600);
  assert_int_equal(cp_rfc3339_parse("2020-05-30T10:48:38.5Z", &t), 0);
  assert_int_equal(t, 1590835718);
  assert_int_equal(cp_rfc3339_parse("yesterday", &t), -1);
  assert_int_equal(cp_rfc3339_parse("2020-13-01", &t), -1);
  assert_int_equal(cp_rfc3339_parse("2020-05-31T00:00:00", &t), -1);
  assert_int_equal(cp_rfc3339_parse("2020-05-31Tjunk", &t), -1);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forms),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
