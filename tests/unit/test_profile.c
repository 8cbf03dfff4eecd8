/* Profiles, rules and the mirror mapping, from bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "profile.h"
#include "rules.h"
#include "diag.h"
#include "chain.h"

static cp_profiles_t set;


static int parse(const char *json, char *err) {
  return cp_profiles_parse(&set, json, strlen(json), err, 512);
}


static void test_shipped_profiles(void **state) {
  static const char *const names[] = {
      "modern",         "legacy",     "expired",
      "not-yet-valid",  "wrong-host", "self-signed",
      "untrusted-root", "incomplete", "mirror",
  };
  char err[512];
  const cp_profile_t *p;
  size_t i;

  (void)state;
  assert_int_equal(cp_profiles_load(&set, CP_PROFILES_PATH, err, sizeof(err)),
                   0);
  for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    assert_true(cp_profiles_find(&set, names[i]) >= 0);
  }
  p = &set.p[cp_profiles_find(&set, "legacy")];
  assert_int_equal(p->nsend, 2);
  assert_int_equal(p->send[0], CP_EL_INTERMEDIATE);
  assert_int_equal(p->send[1], CP_EL_CROSS);
  p = &set.p[cp_profiles_find(&set, "expired")];
  assert_true(p->not_after < 0);
  p = &set.p[cp_profiles_find(&set, "self-signed")];
  assert_int_equal(p->issuer, CP_ISSUER_SELF);
  assert_int_equal(p->nsend, 0);
  assert_true(set.p[cp_profiles_find(&set, "mirror")].mirror);
}


static void test_defaults_and_offsets(void **state) {
  char err[512];
  long v;

  (void)state;
  assert_int_equal(parse("{\"profiles\": {\"modern\": {\"issuer\": "
                         "\"intermediate\", \"send\": []}}}",
                         err),
                   0);
  assert_int_equal(set.p[0].not_before, -3600);
  assert_int_equal(set.p[0].not_after, 30 * 86400);
  assert_int_equal(cp_parse_offset("+30d", &v), 0);
  assert_int_equal(v, 30 * 86400);
  assert_int_equal(cp_parse_offset("-90s", &v), 0);
  assert_int_equal(v, -90);
  assert_int_equal(cp_parse_offset("2m", &v), 0);
  assert_int_equal(v, 120);
  assert_int_not_equal(cp_parse_offset("30x", &v), 0);
  assert_int_not_equal(cp_parse_offset("d", &v), 0);
  assert_int_not_equal(cp_parse_offset("1dd", &v), 0);
  assert_int_not_equal(cp_parse_offset("99999999d", &v), 0);
}


static void test_errors_name_the_field(void **state) {
  static const struct {
    const char *json;
    const char *want;
  } cases[] = {
      {"{\"profiles\": ", "line 1"},
      {"[]", "\"profiles\" must be an object"},
      {"{\"profiles\": {\"x\": {\"issuer\": \"intermediate\", \"send\": []}}}",
       "no \"modern\""},
      {"{\"profiles\": {\"modern\": {\"issuer\": \"ca\", \"send\": []}}}",
       "profile 'modern': \"issuer\""},
      {"{\"profiles\": {\"modern\": {\"issuer\": \"self\", \"send\": "
       "[\"nope\"]}}}",
       "\"send\"[0]"},
      {"{\"profiles\": {\"modern\": {\"issuer\": \"self\", \"send\": [], "
       "\"not_after\": \"soon\"}}}",
       "\"not_after\" must be an offset"},
      {"{\"profiles\": {\"modern\": {\"issuer\": \"self\", \"send\": [], "
       "\"not_before\": \"+2d\", \"not_after\": \"+1d\"}}}",
       "must come after"},
      {"{\"profiles\": {\"modern\": {\"issuer\": \"self\", \"send\": [], "
       "\"names\": [\"bad name\"]}}}",
       "\"names\"[0]"},
      {"{\"profiles\": {\"modern\": {\"issuer\": \"self\", \"send\": [], "
       "\"colour\": 1}}}",
       "unknown field \"colour\""},
      {"{\"profiles\": {\"Bad_Name\": {\"issuer\": \"self\", \"send\": []}}}",
       "profile name 'Bad_Name'"},
      {"{\"profiles\": {\"modern\": {\"mirror\": true, \"send\": []}}}",
       "a mirror profile takes no other field"},
  };
  char err[512];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    err[0] = '\0';
    assert_int_equal(parse(cases[i].json, err), CP_ECONFIG);
    if (strstr(err, cases[i].want) == NULL) {
      fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].want);
    }
  }
}


static void test_rules(void **state) {
  static const char *json =
      "[{\"host\": \"*.legacy.test\", \"chain\": \"legacy\", "
      "\"leaf_key\": \"rsa\", \"require_sni\": true},"
      " {\"host\": \"api.test\", \"port\": 8443, \"chain\": \"expired\"},"
      " {\"host\": \"*\", \"port\": 9443, \"chain\": \"self-signed\"}]";
  cp_rules_t rules;
  char err[512];

  (void)state;
  assert_int_equal(cp_profiles_load(&set, CP_PROFILES_PATH, err, sizeof(err)),
                   0);
  assert_int_equal(
      cp_rules_parse(&rules, json, strlen(json), &set, err, sizeof(err)), 0);
  assert_int_equal(rules.n, 3);
  assert_int_equal(cp_rules_match(&rules, "a.legacy.test", 443),
                   cp_profiles_find(&set, "legacy"));
  assert_int_equal(cp_rules_match(&rules, "api.test", 8443),
                   cp_profiles_find(&set, "expired"));
  assert_int_equal(cp_rules_match(&rules, "api.test", 443), -1);
  /* First match wins. */
  assert_int_equal(cp_rules_match(&rules, "x.legacy.test", 9443),
                   cp_profiles_find(&set, "legacy"));
  assert_int_equal(cp_rules_find(&rules, "a.legacy.test", 443)->leaf_key,
                   CP_RULE_LEAF_RSA);
  assert_int_equal(cp_rules_find(&rules, "a.legacy.test", 443)->require_sni, 1);
  assert_int_equal(cp_rules_find(&rules, "api.test", 8443)->leaf_key,
                   CP_RULE_LEAF_DEFAULT);
  assert_int_equal(cp_rules_match(&rules, "other.test", 9443),
                   cp_profiles_find(&set, "self-signed"));
  cp_rules_free(&rules);
}


static void test_rule_errors(void **state) {
  static const struct {
    const char *json;
    const char *want;
  } cases[] = {
      {"[{\"host\": \"a.test\", \"chain\": \"legacy\"},\n {\"host\": ",
       "line 2"},
      {"{}", "must be a JSON list"},
      {"[{\"host\": \"a.test\", \"chain\": \"vintage\"}]",
       "rule 0: \"chain\": unknown profile 'vintage'"},
      {"[{\"host\": \"a.test\", \"chain\": \"modern\"}, {\"chain\": "
       "\"modern\"}]",
       "rule 1: \"host\""},
      {"[{\"host\": \"a.test\", \"port\": 70000, \"chain\": \"modern\"}]",
       "rule 0: \"port\""},
      {"[{\"host\": \"a.test\", \"chian\": \"modern\"}]",
       "unknown field \"chian\""},
      {"[\"a.test\"]", "rule 0: must be an object"},
      {"[{\"host\": \"a.test\", \"chain\": \"modern\", \"leaf_key\": "
       "\"dsa\"}]",
       "\"leaf_key\" must be \"rsa\" or \"ec\""},
      {"[{\"host\": \"a.test\", \"chain\": \"modern\", \"require_sni\": "
       "1}]",
       "\"require_sni\" must be true or false"},
      {"[{\"host\": \"a.test\", \"chain\": \"modern\", "
       "\"upstream_client_cert\": \"/nonexistent/client.pem\"}]",
       "\"upstream_client_cert\" /nonexistent/client.pem: no PEM certificate"},
      {"[{\"host\": \"a.test\", \"chain\": \"modern\", "
       "\"upstream_client_cert\": \"\"}]",
       "must be the path of a PEM file"},
  };
  cp_rules_t rules;
  char err[512];
  size_t i;

  (void)state;
  assert_int_equal(cp_profiles_load(&set, CP_PROFILES_PATH, err, sizeof(err)),
                   0);
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    err[0] = '\0';
    assert_int_equal(cp_rules_parse(&rules, cases[i].json,
                                    strlen(cases[i].json), &set, err,
                                    sizeof(err)),
                     CP_ECONFIG);
    if (strstr(err, cases[i].want) == NULL) {
      fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].want);
    }
    assert_null(rules.r);
  }
}


static void test_mirror_mapping(void **state) {
  static const struct {
    cp_cause_t cause;
    const char *want;
  } cases[] = {
      {CP_CAUSE_EXPIRED_LEAF, "expired"},
      {CP_CAUSE_EXPIRED_INTERMEDIATE, "expired"},
      {CP_CAUSE_EXPIRED_ROOT, "expired"},
      {CP_CAUSE_EXPIRED_CROSS_SIGN, "legacy"},
      {CP_CAUSE_NOT_YET_VALID, "not-yet-valid"},
      {CP_CAUSE_SELF_SIGNED_LEAF, "self-signed"},
      {CP_CAUSE_UNKNOWN_ISSUER, "untrusted-root"},
      {CP_CAUSE_INCOMPLETE_CHAIN, "untrusted-root"},
      {CP_CAUSE_UNTRUSTED_ROOT, "untrusted-root"},
      {CP_CAUSE_WEAK_KEY, "untrusted-root"},
  };
  static cp_chain_t s;
  static cp_verify_result_t r;
  cp_chain_choice_t ch;
  char err[512];
  int mirror, modern;
  size_t i;

  (void)state;
  assert_int_equal(
      cp_profiles_load(&s.profiles, CP_PROFILES_PATH, err, sizeof(err)), 0);
  mirror = cp_profiles_find(&s.profiles, "mirror");
  modern = cp_profiles_find(&s.profiles, "modern");
  /* Clean upstream, or none: modern. */
  memset(&r, 0, sizeof(r));
  r.ok = 1;
  cp_chain_resolve(&s, mirror, 0, &r, &ch);
  assert_int_equal(ch.profile, modern);
  assert_true(ch.mirrored);
  cp_chain_resolve(&s, mirror, 0, NULL, &ch);
  assert_int_equal(ch.profile, modern);
  r.ok = 0;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    r.cause_id = cases[i].cause;
    cp_chain_resolve(&s, mirror, 0, &r, &ch);
    assert_string_equal(s.profiles.p[ch.profile].name, cases[i].want);
  }
  /* Host mismatch: a modern leaf for the upstream's own names. */
  r.cause_id = CP_CAUSE_HOSTNAME_MISMATCH;
  r.nchain = 1;
  snprintf(r.chain[0].names, sizeof(r.chain[0].names),
           "DNS:other.test, DNS:*.other.test, IP:127.0.0.9");
  cp_chain_resolve(&s, mirror, 0, &r, &ch);
  assert_int_equal(ch.profile, modern);
  assert_int_equal(ch.nnames, 2);
  assert_string_equal(ch.names[0], "other.test");
  assert_string_equal(ch.names[1], "127.0.0.9");
  /* A non-mirror profile stays, unless mirror mode forces it on a
   * failing upstream. */
  r.cause_id = CP_CAUSE_EXPIRED_LEAF;
  cp_chain_resolve(&s, modern, 0, &r, &ch);
  assert_int_equal(ch.profile, modern);
  assert_false(ch.mirrored);
  cp_chain_resolve(&s, modern, 1, &r, &ch);
  assert_string_equal(s.profiles.p[ch.profile].name, "expired");
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shipped_profiles),
      cmocka_unit_test(test_defaults_and_offsets),
      cmocka_unit_test(test_errors_name_the_field),
      cmocka_unit_test(test_rules),
      cmocka_unit_test(test_rule_errors),
      cmocka_unit_test(test_mirror_mapping),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
