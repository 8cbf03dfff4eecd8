/* Profiles, rules and the mirror mapping, from bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "base/err.h"
#include "pki/profile.h"
#include "rules/rules.h"
#include "diag/diag.h"
#include "pki/chain.h"
#include "pki/ca.h"

static cp_profiles_t set;


static int parse(const char *json, char *err) {
  return cp_profiles_parse(&set, json, strlen(json), err, 512);
}


static void test_shipped_profiles(void **state) {
  static const char *const names[] = {
      "modern",     "legacy",      "expired",        "not-yet-valid",
      "wrong-host", "self-signed", "untrusted-root", "incomplete",
      "mirror",     "exact",
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
  assert_true(set.p[cp_profiles_find(&set, "exact")].exact);
  assert_false(set.p[cp_profiles_find(&set, "exact")].mirror);
}


/* Incident profiles: the shipped three, the fields, shift_to_now null,
 * and what is refused. */
static void test_incident_profiles(void **state) {
  char err[512];
  const cp_profile_t *p;
  char path[1200];

  (void)state;
  assert_int_equal(cp_profiles_load(&set, CP_PROFILES_PATH, err, sizeof(err)),
                   0);
  p = &set.p[cp_profiles_find(&set, "dst-2021")];
  assert_true(p->incident);
  assert_true(p->shifted);
  assert_true(p->shift_to_now == 1633014075LL); /* 2021-09-30T15:01:15Z */
  assert_string_equal(p->chain_file,
                      "real/extra/served-2021-default-leaf+R3+X1cross.pem");
  assert_int_equal(p->nstores, 3);
  assert_string_equal(p->stores[0].name, "both");
  assert_string_equal(p->stores[1].name, "isrg");
  assert_string_equal(p->stores[2].name, "dst");
  cp_profiles_path(&set, p->stores[2].file, path, sizeof(path));
  assert_int_equal(access(path, R_OK), 0);
  assert_true(set.p[cp_profiles_find(&set, "dst-2021-short")].incident);
  p = &set.p[cp_profiles_find(&set, "addtrust-2020")];
  assert_true(p->shift_to_now == 1590839318LL); /* 2020-05-30T11:48:38Z */
  assert_string_equal(p->stores[1].name, "usertrust");

  assert_int_equal(
      parse("{\"profiles\": {\"modern\": {\"issuer\": \"intermediate\", "
            "\"send\": []}, \"x\": {\"incident\": {\"chain\": \"/c.pem\", "
            "\"stores\": {\"a\": \"s.pem\"}}, \"shift_to_now\": null}}}",
            err),
      0);
  assert_true(set.p[1].incident);
  assert_false(set.p[1].shifted);
  cp_profiles_path(&set, set.p[1].chain_file, path, sizeof(path));
  assert_string_equal(path, "/c.pem");
  cp_profiles_path(&set, set.p[1].stores[0].file, path, sizeof(path));
  assert_string_equal(path, "s.pem"); /* parsed from bytes: the cwd */

  assert_int_not_equal(
      parse("{\"profiles\": {\"modern\": {\"issuer\": \"intermediate\", "
            "\"send\": [], \"shift_to_now\": \"2021-09-30T15:01:15Z\"}}}",
            err),
      0);
  assert_non_null(strstr(err, "incident profiles only"));
  assert_int_not_equal(
      parse("{\"profiles\": {\"modern\": {\"issuer\": \"intermediate\", "
            "\"send\": []}, \"x\": {\"incident\": {\"chain\": \"c.pem\", "
            "\"stores\": {\"a\": \"s.pem\"}}, \"shift_to_now\": "
            "\"yesterday\"}}}",
            err),
      0);
  assert_non_null(strstr(err, "RFC 3339"));
  assert_int_not_equal(
      parse("{\"profiles\": {\"modern\": {\"issuer\": \"intermediate\", "
            "\"send\": []}, \"x\": {\"incident\": {\"chain\": \"c.pem\", "
            "\"stores\": {}}}}}",
            err),
      0);
  assert_non_null(strstr(err, "\"incident\" must be"));
  assert_int_not_equal(
      parse("{\"profiles\": {\"modern\": {\"issuer\": \"intermediate\", "
            "\"send\": []}, \"x\": {\"incident\": {\"chain\": \"c.pem\", "
            "\"stores\": {\"a\": \"s.pem\"}}, \"send\": []}}}",
            err),
      0);
  assert_non_null(strstr(err, "takes no other field"));
  assert_int_not_equal(
      parse("{\"profiles\": {\"modern\": {\"issuer\": \"intermediate\", "
            "\"send\": []}, \"x\": {\"incident\": {\"chain\": \"c.pem\", "
            "\"stores\": {\"A B\": \"s.pem\"}}}}}",
            err),
      0);
  assert_non_null(strstr(err, "store 'A B'"));
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
      {"{\"profiles\": {\"modern\": {\"exact\": true, \"send\": []}}}",
       "an exact profile takes no other field"},
      {"{\"profiles\": {\"modern\": {\"exact\": 1}}}",
       "\"exact\" must be true or false"},
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
      /* The list comes from the parser's table: every field, in order. */
      {"[{\"host\": \"a.test\", \"chian\": \"modern\"}]",
       "(fields: host, chain, port, client_tls_min, upstream_tls_min, "
       "leaf_key, require_sni, upstream_client_cert, upstream_resume, "
       "upstream_pool, "
       "upstream_proxy, block, auth, sni_block, timeout, reset_after_bytes, "
       "latency, jitter, bandwidth, strip_intermediate, downgrade_tls)"},
      {"[{\"host\": \"a.test\", \"client_tls_min\": \"1.4\"}]",
       "\"client_tls_min\" must be one of"},
      {"[{\"host\": \"a.test\", \"upstream_tls_min\": 12}]",
       "\"upstream_tls_min\" must be one of"},
      {"[{\"host\": \"a.test\", \"upstream_resume\": \"no\"}]",
       "\"upstream_resume\" must be true or false"},
      {"[{\"host\": \"a.test\", \"upstream_proxy\": \"ftp://p:1\"}]",
       "\"upstream_proxy\" must be \"direct\" or"},
      {"[{\"host\": \"a.test\", \"chain\": 7}]",
       "\"chain\" must name a profile"},
      {"[\"a.test\"]", "rule 0: must be an object"},
      {"[{\"host\": \"a.test\", \"chain\": \"modern\", \"leaf_key\": "
       "\"dsa\"}]",
       "\"leaf_key\" must be \"rsa\" or \"ec\""},
      {"[{\"host\": \"a.test\", \"chain\": \"modern\", \"require_sni\": "
       "1}]",
       "\"require_sni\" must be true or false"},
      {"[{\"host\": \"a.test\", \"chain\": \"modern\", "
       "\"upstream_client_cert\": \"/nonexistent/client.pem\"}]",
       "\"upstream_client_cert\": not a readable PEM file"},
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
  cp_chain_resolve(&s, mirror, 0, &r, "www.test", &ch);
  assert_int_equal(ch.profile, modern);
  assert_true(ch.mirrored);
  cp_chain_resolve(&s, mirror, 0, NULL, "www.test", &ch);
  assert_int_equal(ch.profile, modern);
  r.ok = 0;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    r.cause_id = cases[i].cause;
    cp_chain_resolve(&s, mirror, 0, &r, "www.test", &ch);
    assert_string_equal(s.profiles.p[ch.profile].name, cases[i].want);
  }
  /* Host mismatch: a modern leaf for the upstream's own names. */
  r.cause_id = CP_CAUSE_HOSTNAME_MISMATCH;
  r.nchain = 1;
  cp_verify_san_add(&r.chain[0], GEN_DNS, "other.test", 10);
  cp_verify_san_add(&r.chain[0], GEN_DNS, "*.other.test", 12);
  cp_verify_san_add(&r.chain[0], GEN_IPADD, "\x7f\0\0\x09", 4);
  cp_chain_resolve(&s, mirror, 0, &r, "www.test", &ch);
  assert_int_equal(ch.profile, modern);
  assert_int_equal(ch.nnames, 2);
  assert_string_equal(ch.names[0], "other.test");
  assert_string_equal(ch.names[1], "127.0.0.9");
  /* A non-mirror profile stays, unless mirror mode forces it on a
   * failing upstream. */
  r.cause_id = CP_CAUSE_EXPIRED_LEAF;
  cp_chain_resolve(&s, modern, 0, &r, "www.test", &ch);
  assert_int_equal(ch.profile, modern);
  assert_false(ch.mirrored);
  cp_chain_resolve(&s, modern, 1, &r, "www.test", &ch);
  assert_string_equal(s.profiles.p[ch.profile].name, "expired");
}


/* A mirrored hostname mismatch stays a mismatch: names come from the SAN
 * bytes, a name a host name cannot hold is never minted, and no name may
 * match the host the client asked for (else the wrong-host profile). */
static void test_mirror_mismatch_names(void **state) {
  static const struct {
    const char *host;
    const char *san[3]; /* "D:" DNS bytes (\0 allowed via len), "I:" IPv4 */
    size_t len[3];
    int nnames; /* 0: the wrong-host profile */
    const char *first;
  } cases[] = {
      /* A C string stops at the NUL: it would have minted "localhost". */
      {"localhost", {"D:localhost\0.evil.example"}, {25}, 0, NULL},
      /* One name with a comma: split, it would have been two. */
      {"localhost", {"D:evil.test,DNS:localhost"}, {0}, 0, NULL},
      {"localhost",
       {"D:localhost\0.evil.example", "D:other.test"},
       {25, 0},
       1,
       "other.test"},
      {"localhost", {"D:evil\x1b[31m.test", "D:a b.test"}, {0, 0}, 0, NULL},
      /* A DNS name that is an IP literal would be minted as iPAddress. */
      {"127.0.0.1", {"D:127.0.0.1"}, {0}, 0, NULL},
      {"localhost", {"D:127.0.0.1", "D:other.test"}, {0, 0}, 1, "other.test"},
      /* Names a client may take for the host: fall back, mint nothing. */
      {"localhost", {"D:other.test", "D:LOCALHOST."}, {0, 0}, 0, NULL},
      {"127.0.0.1", {"I:\x7f\0\0\x01"}, {6}, 0, NULL},
      {"www.test", {"D:other.test", "I:\x7f\0\0\x09"}, {0, 6}, 2, "other.test"},
      {NULL, {"D:other.test"}, {0}, 0, NULL},
  };
  static cp_chain_t s;
  static cp_verify_result_t r;
  cp_chain_choice_t ch;
  char err[512];
  int mirror, modern, wrong;
  size_t i, k;

  (void)state;
  assert_int_equal(
      cp_profiles_load(&s.profiles, CP_PROFILES_PATH, err, sizeof(err)), 0);
  mirror = cp_profiles_find(&s.profiles, "mirror");
  modern = cp_profiles_find(&s.profiles, "modern");
  wrong = cp_profiles_find(&s.profiles, "wrong-host");
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    memset(&r, 0, sizeof(r));
    r.cause_id = CP_CAUSE_HOSTNAME_MISMATCH;
    r.nchain = 1;
    for (k = 0; k < 3 && cases[i].san[k] != NULL; k++) {
      const char *v = cases[i].san[k];
      size_t len = cases[i].len[k] ? cases[i].len[k] : strlen(v);

      assert_int_equal(cp_verify_san_add(&r.chain[0],
                                         v[0] == 'D' ? GEN_DNS : GEN_IPADD,
                                         v + 2, len - 2),
                       0);
    }
    cp_chain_resolve(&s, mirror, 0, &r, cases[i].host, &ch);
    if (ch.nnames != cases[i].nnames) {
      fail_msg("case %zu: %d names, want %d", i, ch.nnames, cases[i].nnames);
    }
    assert_true(ch.keep_mismatch);
    assert_int_equal(ch.profile, cases[i].nnames > 0 ? modern : wrong);
    if (cases[i].first != NULL) {
      assert_string_equal(ch.names[0], cases[i].first);
    }
  }
}


/* The last check, on the leaf served: a choice that keeps a mismatch but
 * would match the host yields no leaf. */
static void test_mirror_leaf_never_matches(void **state) {
  static cp_chain_t ch;
  static cp_stats_t stats;
  cp_ca_t ca;
  cp_chain_choice_t choice;
  X509 *leaf = NULL;
  EVP_PKEY *key = NULL;
  STACK_OF(X509) *chain = NULL;
  char dir[64], err[512], cmd[128];

  (void)state;
  snprintf(dir, sizeof(dir), "/tmp/cp-profile-XXXXXX");
  assert_non_null(mkdtemp(dir));
  strcat(dir, "/ca");
  assert_int_equal(cp_ca_load_or_create(&ca, dir, err, sizeof(err)), 0);
  assert_int_equal(cp_ca_make_untrusted(&ca), 0);
  assert_int_equal(cp_chain_init(&ch, &ca, CP_PROFILES_PATH, "modern", 0,
                                 &stats, err, sizeof(err)),
                   0);
  memset(&choice, 0, sizeof(choice));
  choice.profile = cp_profiles_find(&ch.profiles, "modern");
  choice.mirrored = 1;
  choice.keep_mismatch = 1;
  choice.nnames = 1;
  snprintf(choice.names[0], sizeof(choice.names[0]), "localhost");
  assert_int_equal(
      cp_chain_leaf(&ch, &choice, "other.test", &leaf, &key, &chain), 0);
  assert_non_null(leaf);
  X509_free(leaf);
  leaf = NULL;
  assert_int_equal(
      cp_chain_leaf(&ch, &choice, "LocalHost", &leaf, &key, &chain), CP_EINVAL);
  assert_null(leaf);
  snprintf(choice.names[0], sizeof(choice.names[0]), "127.0.0.1");
  assert_int_equal(
      cp_chain_leaf(&ch, &choice, "127.0.0.1", &leaf, &key, &chain), CP_EINVAL);
  assert_null(leaf);
  cp_chain_free(&ch);
  cp_ca_free(&ca);
  dir[strlen(dir) - 3] = '\0';
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shipped_profiles),
      cmocka_unit_test(test_incident_profiles),
      cmocka_unit_test(test_defaults_and_offsets),
      cmocka_unit_test(test_errors_name_the_field),
      cmocka_unit_test(test_rules),
      cmocka_unit_test(test_rule_errors),
      cmocka_unit_test(test_mirror_mapping),
      cmocka_unit_test(test_mirror_mismatch_names),
      cmocka_unit_test(test_mirror_leaf_never_matches),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
