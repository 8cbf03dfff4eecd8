#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"


static void test_limit_is_hard(void **state) {
  cp_buf_t b;

  (void)state;
  cp_buf_init(&b, 10);
  assert_int_equal(cp_buf_append(&b, "0123456789", 10), 0);
  assert_int_equal(cp_buf_append(&b, "x", 1), CP_ENOMEM);
  assert_int_equal(b.len, 10);
  cp_buf_consume(&b, 4);
  assert_memory_equal(b.data, "456789", 6);
  assert_int_equal(cp_buf_appendf(&b, "%d", 1234), 0);
  assert_int_equal(cp_buf_appendf(&b, "%d", 1), CP_ENOMEM);
  assert_memory_equal(b.data, "4567891234", 10);
  cp_buf_free(&b);
  assert_null(b.data);
}


static void test_ieq(void **state) {
  (void)state;
  assert_true(cp_str_ieq("Content-Length", 14, "content-length"));
  assert_false(cp_str_ieq("Content-Len", 11, "content-length"));
  assert_false(cp_str_ieq("Content-Lengthy", 15, "content-length"));
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_limit_is_hard),
      cmocka_unit_test(test_ieq),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
