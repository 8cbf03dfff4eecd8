#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/host.h"


static void test_valid_names(void **state) {
  char long_label[70];

  (void)state;
  assert_true(cp_host_is_valid("xn--bcher-kva.example"));
  assert_true(cp_host_is_valid("a_b.test"));
  assert_true(cp_host_is_valid("127.0.0.1"));
  assert_true(cp_host_is_valid("::1"));
  assert_false(cp_host_is_valid("a,DNS:evil.test")); /* SAN injection */
  assert_false(cp_host_is_valid(""));
  assert_false(cp_host_is_valid("a/b"));
  assert_false(cp_host_is_valid("a..b"));
  assert_false(cp_host_is_valid(".a"));
  assert_false(cp_host_is_valid("a b"));
  memset(long_label, 'a', 64);
  long_label[64] = '\0';
  assert_false(cp_host_is_valid(long_label));
  long_label[63] = '\0';
  assert_true(cp_host_is_valid(long_label));
}


static void test_ip_literals(void **state) {
  (void)state;
  assert_true(cp_host_is_ip("127.0.0.1"));
  assert_true(cp_host_is_ip("::1"));
  assert_true(cp_host_is_ipv6("fe80::1"));
  assert_false(cp_host_is_ipv6("127.0.0.1"));
  assert_false(cp_host_is_ip("localhost"));
  assert_false(cp_host_is_ip("[::1]"));
  assert_false(cp_host_is_ip("1.2.3"));
}


static void test_glob(void **state) {
  (void)state;
  assert_true(cp_host_glob_match("*.example.test", "a.example.test"));
  assert_true(cp_host_glob_match("*.example.test", "A.B.Example.TEST"));
  assert_false(cp_host_glob_match("*.example.test", "example.test"));
  assert_true(cp_host_glob_match("*", "anything"));
  assert_true(cp_host_glob_match("a*b*c", "aXXbYYc"));
  assert_false(cp_host_glob_match("a*b*c", "aXXbYY"));
  assert_true(cp_host_glob_match("exact.test", "exact.test"));
  assert_false(cp_host_glob_match("exact.test", "exact.test.evil"));
  assert_true(cp_host_glob_match("host?.test", "host1.test"));
  assert_true(cp_host_glob_match("127.0.0.*", "127.0.0.1"));
}


static void test_hostport(void **state) {
  char b[CP_HOSTPORT_MAX];

  (void)state;
  assert_string_equal(cp_hostport_format(b, sizeof(b), "a.test", 443),
                      "a.test:443");
  assert_string_equal(cp_hostport_format(b, sizeof(b), "::1", 8080),
                      "[::1]:8080");
  assert_string_equal(cp_hostport_format(b, sizeof(b), "::1", 0), "[::1]");
  assert_string_equal(cp_hostport_format(b, sizeof(b), "1.2.3.4", 0),
                      "1.2.3.4");
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_names),
      cmocka_unit_test(test_ip_literals),
      cmocka_unit_test(test_glob),
      cmocka_unit_test(test_hostport),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
