#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "base/err.h"


static int parse(cp_config_t *cfg, char *err, size_t len, ...) {
  char *argv[32];
  int argc = 0;
  va_list ap;
  char *a;

  argv[argc++] = "chainproxy";
  va_start(ap, len);
  while ((a = va_arg(ap, char *)) != NULL) {
    argv[argc++] = a;
  }
  va_end(ap);
  cp_config_defaults(cfg);
  return cp_config_parse(cfg, argc, argv, err, len);
}


static void test_defaults(void **state) {
  cp_config_t cfg;
  char err[256];

  (void)state;
  assert_int_equal(parse(&cfg, err, sizeof(err), NULL), 0);
  assert_string_equal(cfg.listen_host, "127.0.0.1");
  assert_int_equal(cfg.listen_port, 8080);
  assert_null(cfg.events_path);
  assert_int_equal(cfg.max_header_bytes, 65536);
  assert_int_equal(cfg.upstream_failure, CP_FAIL_BLOCK);
}


static void test_values(void **state) {
  cp_config_t cfg;
  char err[256];

  (void)state;
  assert_int_equal(parse(&cfg, err, sizeof(err), "--listen", "[::1]:9000",
                         "--events=-", "--idle-timeout", "0.5", "-v", "-v",
                         "--passthrough", "*.bank.test", "--passthrough",
                         "pinned.test", "--upstream-failure", "ignore", NULL),
                   0);
  assert_string_equal(cfg.listen_host, "::1");
  assert_int_equal(cfg.listen_port, 9000);
  assert_string_equal(cfg.events_path, "-");
  assert_int_equal(cfg.idle_timeout_ms, 500);
  assert_int_equal(cfg.verbose, 2);
  assert_int_equal(cfg.npassthrough, 2);
  assert_string_equal(cfg.passthrough[1], "pinned.test");
  assert_int_equal(cfg.upstream_failure, CP_FAIL_IGNORE);
  assert_int_equal(
      parse(&cfg, err, sizeof(err), "--listen", "localhost:1", NULL), 0);
  assert_string_equal(cfg.listen_host, "127.0.0.1");
}


static void test_errors_name_the_option(void **state) {
  static const struct {
    const char *a;
    const char *b;
    const char *needle;
  } cases[] = {
      {"--listen", "example.com:80", "--listen"},
      {"--listen", "127.0.0.1", "--listen"},
      {"--listen", "127.0.0.1:99999", "--listen"},
      {"--idle-timeout", "-1", "--idle-timeout"},
      {"--idle-timeout", "abc", "--idle-timeout"},
      {"--connect-timeout", "0", "--connect-timeout"},
      {"--max-header-bytes", "12", "--max-header-bytes"},
      {"--max-conns", "0", "--max-conns"},
      {"--upstream-failure", "sometimes", "--upstream-failure"},
      {"--bogus", NULL, "unknown option '--bogus'"},
      {"--events", NULL, "--events needs a value"},
      {"--help=x", NULL, "takes no value"},
  };
  cp_config_t cfg;
  char err[256];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    err[0] = '\0';
    assert_int_equal(
        parse(&cfg, err, sizeof(err), cases[i].a, cases[i].b, NULL), CP_EINVAL);
    assert_non_null(strstr(err, cases[i].needle));
  }
}


static void test_help_and_version(void **state) {
  cp_config_t cfg;
  char err[256];

  (void)state;
  assert_int_equal(parse(&cfg, err, sizeof(err), "--help", NULL), 0);
  assert_true(cfg.show_help);
  assert_int_equal(parse(&cfg, err, sizeof(err), "--version", NULL), 0);
  assert_true(cfg.show_version);
  assert_non_null(strstr(cp_config_usage(), "--listen HOST:PORT"));
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_errors_name_the_option),
      cmocka_unit_test(test_help_and_version),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
