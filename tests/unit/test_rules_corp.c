/* The rules' corporate-network fields from bytes: what each accepts and
 * refuses, the block page a rule owns through copies, replacement and
 * deletion (the sanitizer build finds a leak or a double free), and the
 * API's view of a rule, which never holds a password. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "pki/profile.h"
#include "rules/rules.h"

static cp_profiles_t set;


static int parse(cp_rules_t *rules, const char *json, char *err) {
  return cp_rules_parse(rules, json, strlen(json), &set, err, 512);
}


static void test_fields(void **state) {
  static const char *json =
      "[{\"host\": \"blocked.test\", \"block\": true},"
      " {\"host\": \"filtered.test\", \"block\": {\"status\": 451, "
      "\"page\": \"<p>no</p>\"}},"
      " {\"host\": \"slow.test\", \"latency\": 200, \"jitter\": 50, "
      "\"bandwidth\": 64, \"reset_after_bytes\": 1000},"
      " {\"host\": \"sni.test\", \"sni_block\": true, \"timeout\": false},"
      " {\"host\": \"auth.test\", \"auth\": \"qa:pw\"},"
      " {\"host\": \"old.test\", \"downgrade_tls\": \"1.0\", "
      "\"strip_intermediate\": true},"
      " {\"host\": \"plain.test\", \"chain\": \"legacy\"}]";
  cp_rules_t rules;
  const cp_rule_t *r;
  char err[512];

  (void)state;
  assert_int_equal(parse(&rules, json, err), 0);
  r = cp_rules_find(&rules, "blocked.test", 443);
  assert_int_equal(r->block_status, 403);
  assert_null(r->block_page);
  r = cp_rules_find(&rules, "filtered.test", 80);
  assert_int_equal(r->block_status, 451);
  assert_string_equal(r->block_page, "<p>no</p>");
  r = cp_rules_find(&rules, "slow.test", 443);
  assert_int_equal(r->latency_ms, 200);
  assert_int_equal(r->jitter_ms, 50);
  assert_int_equal(r->bandwidth, 64);
  assert_int_equal(r->reset_after, 1000);
  assert_int_equal(r->profile, -1); /* no chain: the default profile */
  assert_true(cp_rule_has_faults(r));
  r = cp_rules_find(&rules, "sni.test", 443);
  assert_true(r->sni_block && !r->hold);
  assert_string_equal(cp_rules_find(&rules, "auth.test", 443)->auth, "qa:pw");
  r = cp_rules_find(&rules, "old.test", 443);
  assert_int_equal(r->tls_max, 0x0301);
  assert_int_equal(r->profile, cp_profiles_find(&set, "incomplete"));
  assert_false(cp_rule_has_faults(cp_rules_find(&rules, "plain.test", 443)));
  assert_string_equal(cp_rule_fault_name(CP_FAULT_RESET), "reset_after_bytes");
  assert_string_equal(cp_rule_fault_name(99), "?");
  cp_rules_free(&rules);
}


static void test_errors(void **state) {
  static const struct {
    const char *json;
    const char *want;
  } cases[] = {
      {"[{\"host\": \"a\", \"block\": 200}]", "\"block\" must be"},
      {"[{\"host\": \"a\", \"block\": {\"status\": 403, \"x\": 1}}]",
       "\"block\" must be"},
      {"[{\"host\": \"a\", \"block\": {\"page\": 5}}]", "64 KiB"},
      {"[{\"host\": \"a\", \"auth\": \"nocolon\"}]", "\"auth\" must be"},
      {"[{\"host\": \"a\", \"auth\": \":pw\"}]", "\"auth\" must be"},
      {"[{\"host\": \"a\", \"latency\": -1}]", "\"latency\" must be"},
      {"[{\"host\": \"a\", \"latency\": 60001}]", "from 0 to 60000"},
      {"[{\"host\": \"a\", \"jitter\": 5}]", "given with \"latency\""},
      {"[{\"host\": \"a\", \"bandwidth\": \"fast\"}]", "\"bandwidth\""},
      {"[{\"host\": \"a\", \"sni_block\": 1}]", "true or false"},
      {"[{\"host\": \"a\", \"downgrade_tls\": \"1.4\"}]", "\"downgrade_tls\""},
      {"[{\"host\": \"a\", \"chain\": \"legacy\", "
       "\"strip_intermediate\": true}]",
       "\"incomplete\""},
      {"[{\"host\": \"a\", \"block\": {\"page\": \"<p>x</p>\"}}, "
       "{\"host\": \"b\", \"latency\": \"x\"}]",
       "rule 1"}, /* the first rule's page is freed */
  };
  cp_rules_t rules;
  char err[512];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    err[0] = '\0';
    assert_int_equal(parse(&rules, cases[i].json, err), CP_ECONFIG);
    if (strstr(err, cases[i].want) == NULL) {
      fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].want);
    }
  }
}


static void test_page_ownership(void **state) {
  static const char *json =
      "[{\"host\": \"a.test\", \"block\": {\"page\": \"<p>a</p>\"}},"
      " {\"host\": \"b.test\", \"block\": {\"page\": \"<p>b</p>\"}}]";
  cp_rules_t rules, copy;
  cp_rule_t r;
  json_t *o;
  char err[512];

  (void)state;
  assert_int_equal(parse(&rules, json, err), 0);
  assert_int_equal(cp_rules_copy(&copy, &rules), 0);
  assert_ptr_not_equal(copy.r[0].block_page, rules.r[0].block_page);
  cp_rules_free(&rules);
  assert_string_equal(copy.r[1].block_page, "<p>b</p>");
  /* Replaced in place: the old page goes. */
  o = json_loads("{\"block\": {\"page\": \"<p>new</p>\"}}", 0, NULL);
  assert_int_equal(cp_rule_parse(&r, o, "a.test", &set, err, sizeof(err)), 0);
  json_decref(o);
  assert_int_equal(cp_rules_put(&copy, &r), 0);
  assert_string_equal(cp_rules_find(&copy, "a.test", 1)->block_page,
                      "<p>new</p>");
  assert_int_equal(cp_rules_delete(&copy, "b.test"), 1);
  assert_int_equal(copy.n, 1);
  cp_rules_free(&copy);
}


static void test_api_view(void **state) {
  static const char *json =
      "[{\"host\": \"a.test\", \"auth\": \"qa:s3cret\", \"latency\": 5, "
      "\"block\": {\"status\": 451, \"page\": \"p\"}, \"timeout\": true, "
      "\"downgrade_tls\": \"1.1\"}]";
  cp_rules_t rules;
  json_t *o = json_object();
  char err[512], *s;

  (void)state;
  assert_int_equal(parse(&rules, json, err), 0);
  cp_rule_corp_json(&rules.r[0], o);
  s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
  assert_string_equal(s, "{\"auth_user\":\"qa\",\"block\":{\"page\":\"p\","
                         "\"status\":451},\"downgrade_tls\":\"1.1\","
                         "\"latency\":5,\"timeout\":true}");
  assert_null(strstr(s, "s3cret"));
  free(s);
  json_decref(o);
  cp_rules_free(&rules);
}


static int setup(void **state) {
  char err[512];

  (void)state;
  return cp_profiles_load(&set, CP_PROFILES_PATH, err, sizeof(err));
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fields),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_page_ownership),
      cmocka_unit_test(test_api_view),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
