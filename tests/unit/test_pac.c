/* The PAC file from rules: what it names, in which order, and what it
 * leaves out rather than escape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "control/pac.h"


static void test_pac(void **state) {
  cp_rule_t r[3];
  cp_rules_t rules = {r, 3};
  const char *direct[] = {"*.intranet.test", "bad\"glob"};
  cp_buf_t out;
  const char *p;

  (void)state;
  memset(r, 0, sizeof(r));
  strcpy(r[0].host, "*.Corp.test");
  strcpy(r[1].host, "x\");alert(1);//"); /* never valid, never written */
  strcpy(r[2].host, "::1");
  cp_buf_init(&out, 64 * 1024);
  assert_int_equal(cp_pac_build(&out, &rules, direct, 2, "127.0.0.1:8080", 0),
                   0);
  assert_int_equal(cp_buf_append(&out, "", 1), 0);
  p = out.data;
  assert_non_null(strstr(p, "function FindProxyForURL(url, host)"));
  /* DIRECT exceptions first, then the rules' hosts, lower-cased. */
  assert_true(strstr(p, "\"*.intranet.test\")) return \"DIRECT\"") <
              strstr(p, "\"*.corp.test\")) return \"PROXY 127.0.0.1:8080\""));
  assert_non_null(strstr(p, "\"::1\")) return \"PROXY 127.0.0.1:8080\""));
  assert_null(strstr(p, "alert"));
  assert_null(strstr(p, "bad"));
  assert_non_null(strstr(p, "  return \"DIRECT\";\n}\n"));
  cp_buf_reset(&out);
  assert_int_equal(cp_pac_build(&out, &rules, NULL, 0, "[::1]:8080", 1), 0);
  assert_int_equal(cp_buf_append(&out, "", 1), 0);
  assert_non_null(strstr(out.data, "  return \"PROXY [::1]:8080\";\n}\n"));
  assert_null(strstr(out.data, "corp.test"));
  /* A proxy address that is not one is refused. */
  cp_buf_reset(&out);
  assert_int_equal(cp_pac_build(&out, &rules, NULL, 0, "a\";b", 0), CP_EINVAL);
  cp_buf_free(&out);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pac),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
