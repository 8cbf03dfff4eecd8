#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/alpn.h"
#include "base/err.h"


static void test_parse_ext(void **state) {
  static const unsigned char good[] = "\x00\x0c\x02h2\x08http/1.1";
  static const unsigned char short_len[] = "\x00\x0d\x02h2\x08http/1.1";
  static const unsigned char empty_name[] = "\x00\x03\x02h2\x00";
  static const unsigned char overrun[] = "\x00\x03\x05h2";
  unsigned char out[CP_ALPN_MAX];
  size_t n;

  (void)state;
  assert_int_equal(cp_alpn_parse_ext(good, sizeof(good) - 1, out, &n), 0);
  assert_int_equal(n, 12);
  assert_int_equal(cp_alpn_parse_ext(short_len, sizeof(short_len) - 1, out, &n),
                   CP_EINVAL);
  assert_int_equal(
      cp_alpn_parse_ext(empty_name, sizeof(empty_name) - 1, out, &n),
      CP_EINVAL);
  assert_int_equal(cp_alpn_parse_ext(overrun, sizeof(overrun) - 1, out, &n),
                   CP_EINVAL);
  assert_int_equal(cp_alpn_parse_ext(good, 1, out, &n), CP_EINVAL);
}


static void test_relayable_keeps_order(void **state) {
  static const unsigned char in[] = "\x06spdy/3\x08http/1.1\x02h2\x02h3\x02h2";
  unsigned char out[64];
  char text[64];
  size_t n;

  (void)state;
  n = cp_alpn_relayable(in, sizeof(in) - 1, out, sizeof(out));
  assert_string_equal(cp_alpn_str(out, n, text, sizeof(text)), "http/1.1,h2");
  assert_true(cp_alpn_has(out, n, "h2", 2));
  assert_false(cp_alpn_has(out, n, "h3", 2));
  assert_int_equal(cp_alpn_relayable(in, 8, out, sizeof(out)), 0);
  assert_int_equal(cp_alpn_relayable(in, sizeof(in) - 1, out, 5), 3);
}


static void test_str(void **state) {
  static const unsigned char odd[] = "\x03\x01,\x7f";
  char text[8];

  (void)state;
  assert_string_equal(cp_alpn_str(odd, 4, text, sizeof(text)), "???");
  assert_string_equal(cp_alpn_str(odd, 0, text, sizeof(text)), "");
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_ext),
      cmocka_unit_test(test_relayable_keeps_order),
      cmocka_unit_test(test_str),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
