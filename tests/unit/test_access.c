/* Who may use the proxy: networks and Basic credentials, from bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rules/access.h"
#include "config/config.h"
#include "base/host.h"


static void addr(const char *s, unsigned char a[16]) {
  int bits;

  assert_int_equal(cp_config_parse_cidr(s, a, &bits), 0);
}


static void test_networks(void **state) {
  cp_cidr_t list[2];
  unsigned char a[16];

  (void)state;
  assert_int_equal(
      cp_config_parse_cidr("10.1.0.0/16", list[0].addr, &list[0].bits), 0);
  assert_int_equal(
      cp_config_parse_cidr("fd00::/8", list[1].addr, &list[1].bits), 0);
  addr("10.1.200.3", a);
  assert_true(cp_access_allowed(list, 2, a));
  addr("10.2.0.1", a);
  assert_false(cp_access_allowed(list, 2, a));
  addr("fd12::1", a);
  assert_true(cp_access_allowed(list, 2, a));
  addr("127.0.0.9", a);
  assert_true(cp_access_allowed(list, 0, a)); /* loopback, always */
  addr("::1", a);
  assert_true(cp_access_allowed(NULL, 0, a));
  addr("192.168.1.1", a);
  assert_false(cp_access_allowed(NULL, 0, a));
  assert_true(cp_host_is_loopback("127.0.0.1"));
  assert_true(cp_host_is_loopback("::1"));
  assert_true(cp_host_is_loopback("localhost"));
  assert_false(cp_host_is_loopback("0.0.0.0"));
  assert_false(cp_host_is_loopback("::"));
}


static int ok(const char *userpass, const char *value) {
  return cp_access_basic_ok(userpass, value, value ? strlen(value) : 0);
}


static void test_basic(void **state) {
  (void)state;
  /* "alice:s3cr3t" and variants, base64 by hand-checked values. */
  assert_true(ok("alice:s3cr3t", "Basic YWxpY2U6czNjcjN0"));
  assert_true(ok("alice:s3cr3t", "basic  YWxpY2U6czNjcjN0"));
  assert_false(ok("alice:s3cr3t", "Basic YWxpY2U6czNjcjN1"));
  assert_false(ok("alice:s3cr3", "Basic YWxpY2U6czNjcjN0"));  /* longer */
  assert_false(ok("alice:s3cr3t", "Basic YWxpY2U6czNjcjM=")); /* shorter */
  assert_true(ok("a:b", "Basic YTpi"));
  assert_true(ok("ab:c", "Basic YWI6Yw=="));
  assert_false(ok("a:b", "Bearer YTpi"));
  assert_false(ok("a:b", "Basic"));
  assert_false(ok("a:b", "Basic !!!!"));
  assert_false(ok("a:b", NULL));
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_networks),
      cmocka_unit_test(test_basic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
