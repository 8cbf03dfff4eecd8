#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "control/ctl_guard.h"


static void setup_cfg(cp_config_t *cfg, const char *listen) {
  cp_config_defaults(cfg);
  snprintf(cfg->control_host, sizeof(cfg->control_host), "%s", listen);
  cfg->control_port = 8081;
}


static void test_host(void **state) {
  cp_config_t cfg;

  (void)state;
  setup_cfg(&cfg, "127.0.0.1");
  assert_true(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, "localhost:8081"));
  assert_true(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, "LOCALHOST"));
  assert_true(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, "127.0.0.1:8081"));
  assert_true(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, "[::1]:8081"));
  assert_true(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, "[::1]"));
  assert_false(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, "evil.example:8081"));
  assert_false(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, "localhost:8082"));
  assert_false(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, "localhost:"));
  assert_false(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, "::1:8081"));
  assert_false(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, "[::1"));
  assert_false(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, ""));
  assert_false(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, "localhost.:8081"));
  /* No Host: loopback only. */
  assert_true(cp_ctl_guard_host(&cfg, "127.0.0.1", 1, NULL));
  assert_false(cp_ctl_guard_host(&cfg, "10.0.0.5", 0, NULL));
  /* --control-host and the address the client reached. */
  assert_false(cp_ctl_guard_host(&cfg, NULL, 1, "lab.internal"));
  cfg.control_names[cfg.ncontrol_names++] = "lab.internal";
  assert_true(cp_ctl_guard_host(&cfg, NULL, 1, "Lab.Internal:8081"));
  setup_cfg(&cfg, "0.0.0.0");
  assert_true(cp_ctl_guard_host(&cfg, "10.0.0.5", 0, "10.0.0.5:8081"));
  assert_false(cp_ctl_guard_host(&cfg, "10.0.0.5", 0, "0.0.0.0:8081"));
  assert_false(cp_ctl_guard_host(&cfg, "10.0.0.5", 0, "10.0.0.6:8081"));
}


static void test_origin(void **state) {
  cp_config_t cfg;

  (void)state;
  setup_cfg(&cfg, "127.0.0.1");
  assert_true(cp_ctl_guard_origin(&cfg, NULL, "http://127.0.0.1:8081"));
  assert_true(cp_ctl_guard_origin(&cfg, NULL, "http://localhost:8081"));
  assert_false(cp_ctl_guard_origin(&cfg, NULL, "http://localhost"));
  assert_false(cp_ctl_guard_origin(&cfg, NULL, "https://localhost:8081"));
  assert_false(cp_ctl_guard_origin(&cfg, NULL, "http://evil.example:8081"));
  assert_false(cp_ctl_guard_origin(&cfg, NULL, "null"));
  assert_false(cp_ctl_guard_origin(&cfg, NULL, "http://localhost:8081/x"));
  cfg.control_port = 80;
  assert_true(cp_ctl_guard_origin(&cfg, NULL, "http://localhost"));
  assert_true(cp_ctl_guard_fetch_site(NULL));
  assert_true(cp_ctl_guard_fetch_site("same-origin"));
  assert_true(cp_ctl_guard_fetch_site("none"));
  assert_false(cp_ctl_guard_fetch_site("same-site"));
  assert_false(cp_ctl_guard_fetch_site("cross-site"));
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_host),
      cmocka_unit_test(test_origin),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
