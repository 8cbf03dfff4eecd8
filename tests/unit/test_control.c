/* The control API's router without sockets: each endpoint, each error
 * status, the token, and the address check of ctl_http. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "pki/ca.h"
#include "control/control.h"
#include "base/err.h"

static const char profiles_json[] =
    "{\"profiles\": {"
    "\"modern\": {\"issuer\": \"intermediate\", \"send\": [\"intermediate\"]},"
    "\"legacy\": {\"issuer\": \"intermediate\", \"send\": [\"intermediate\", "
    "\"cross\"]}}}";

typedef struct {
  uv_loop_t loop;
  cp_config_t cfg;
  cp_log_t log;
  cp_events_t events;
  cp_stats_t stats;
  cp_rules_t rules;
  cp_profiles_t profiles;
  cp_ca_t ca;
  cp_control_t ctl;
} fixture_t;


static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));
  cp_control_env_t env;
  char err[256];

  if (f == NULL || uv_loop_init(&f->loop) != 0) {
    return -1;
  }
  cp_config_defaults(&f->cfg);
  f->log.level = CP_LOG_ERROR;
  if (cp_events_open(&f->events, NULL) != 0 ||
      cp_events_ring_init(&f->events, 8) != 0 ||
      cp_profiles_parse(&f->profiles, profiles_json, strlen(profiles_json), err,
                        sizeof(err)) != 0 ||
      cp_ca_make_untrusted(&f->ca) != 0) {
    return -1;
  }
  memset(&env, 0, sizeof(env));
  env.loop = &f->loop;
  env.cfg = &f->cfg;
  env.log = &f->log;
  env.events = &f->events;
  env.stats = &f->stats;
  env.rules = &f->rules;
  env.profiles = &f->profiles;
  env.default_profile = 0;
  env.root = f->ca.untrusted_root;
  env.legacy_root = f->ca.untrusted_inter;
  /* No control_host: the router only, no listener. */
  if (cp_control_start(&f->ctl, &env) != 0) {
    return -1;
  }
  *state = f;
  return 0;
}


static int teardown(void **state) {
  fixture_t *f = *state;

  cp_control_stop(&f->ctl);
  cp_rules_free(&f->rules);
  cp_events_close(&f->events);
  cp_ca_free(&f->ca);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  free(f);
  return 0;
}


typedef struct {
  cp_ctl_response_t r;
  json_t *doc; /* the body as JSON, when it is */
} answer_t;


static void ask(fixture_t *f, const char *method, const char *target,
                const char *auth, const char *body, answer_t *a) {
  cp_ctl_request_t q;
  json_error_t jerr;

  memset(&q, 0, sizeof(q));
  q.method = method;
  q.target = target;
  q.authorization = auth;
  q.host = "localhost";
  q.local_loopback = 1;
  q.body = body ? body : "";
  q.body_len = body ? strlen(body) : 0;
  memset(a, 0, sizeof(*a));
  cp_buf_init(&a->r.body, 1 << 20);
  cp_control_route(&f->ctl, &q, &a->r);
  /* NUL-terminated for strstr, not counted in the length. */
  cp_buf_append(&a->r.body, "", 1);
  a->r.body.len--;
  a->doc = json_loadb(a->r.body.data, a->r.body.len, 0, &jerr);
}


static void done(answer_t *a) {
  json_decref(a->doc);
  cp_buf_free(&a->r.body);
}


static const char *error_of(const answer_t *a) {
  return json_string_value(json_object_get(a->doc, "error"));
}


static void test_health_and_pem(void **state) {
  fixture_t *f = *state;
  answer_t a;

  ask(f, "GET", "/healthz", NULL, NULL, &a);
  assert_int_equal(a.r.status, 200);
  assert_true(json_is_true(json_object_get(a.doc, "ok")));
  done(&a);
  ask(f, "GET", "/ca.pem", NULL, NULL, &a);
  assert_int_equal(a.r.status, 200);
  assert_string_equal(a.r.content_type, "application/x-pem-file");
  assert_non_null(strstr(a.r.body.data, "BEGIN CERTIFICATE"));
  done(&a);
}


static void test_errors(void **state) {
  static const struct {
    const char *method, *target, *body;
    int status;
    const char *needle;
  } cases[] = {
      {"GET", "/nowhere", NULL, 404, "no such endpoint"},
      {"GET", "nowhere", NULL, 400, "absolute path"},
      {"POST", "/rules", "{}", 405, "not allowed"},
      {"DELETE", "/stats", NULL, 405, "not allowed"},
      {"GET", "/rules/a.test", NULL, 405, "PUT, DELETE"},
      {"PUT", "/rules/a.test", "{not json", 400, "not JSON"},
      {"PUT", "/rules/a.test", "{\"chain\": \"vintage\"}", 400,
       "unknown profile"},
      {"PUT", "/rules/a.test", "{\"chain\": \"modern\", \"port\": 0}", 400,
       "\"port\""},
      {"PUT", "/rules/a.test", "{\"chain\": \"modern\", \"x\": 1}", 400,
       "unknown field"},
      {"PUT", "/rules/bad%20host", "{\"chain\": \"modern\"}", 400,
       "not a host"},
      {"DELETE", "/rules/absent.test", NULL, 404, "no rule"},
      {"GET", "/events?since=x", NULL, 400, "since"},
      {"GET", "/events?limit=5000", NULL, 400, "limit"},
      {"GET", "/events/stream?since=-1", NULL, 400, "since"},
  };
  fixture_t *f = *state;
  answer_t a;
  size_t i;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ask(f, cases[i].method, cases[i].target, NULL, cases[i].body, &a);
    assert_int_equal(a.r.status, cases[i].status);
    assert_non_null(error_of(&a));
    assert_non_null(strstr(error_of(&a), cases[i].needle));
    if (cases[i].status == 405) {
      assert_non_null(a.r.allow);
    }
    done(&a);
  }
}


static void test_rules_lifecycle(void **state) {
  fixture_t *f = *state;
  answer_t a;

  ask(f, "PUT", "/rules/*.a.test", NULL,
      "{\"chain\": \"legacy\", "
      "\"port\": 8443}",
      &a);
  assert_int_equal(a.r.status, 200);
  done(&a);
  assert_int_equal(f->rules.n, 1);
  assert_int_equal(cp_rules_match(&f->rules, "x.a.test", 8443), 1);
  assert_int_equal(cp_rules_match(&f->rules, "x.a.test", 443), -1);
  ask(f, "GET", "/rules", NULL, NULL, &a);
  assert_string_equal(
      json_string_value(json_object_get(
          json_array_get(json_object_get(a.doc, "rules"), 0), "chain")),
      "legacy");
  assert_string_equal(json_string_value(json_object_get(a.doc, "default")),
                      "modern");
  done(&a);
  ask(f, "PUT", "/rules/old.test", NULL,
      "{\"chain\": \"modern\", \"client_tls_min\": \"1.0\"}", &a);
  assert_int_equal(a.r.status, 200);
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(a.doc, "rule"), "client_tls_min")),
                      "1.0");
  done(&a);
  assert_int_equal(cp_rules_find(&f->rules, "old.test", 443)->client_tls_min,
                   0x0301);
  ask(f, "PUT", "/rules/sni.test", NULL,
      "{\"chain\": \"modern\", \"leaf_key\": \"rsa\", \"require_sni\": "
      "true}",
      &a);
  assert_int_equal(a.r.status, 200);
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(a.doc, "rule"), "leaf_key")),
                      "rsa");
  assert_true(json_is_true(
      json_object_get(json_object_get(a.doc, "rule"), "require_sni")));
  done(&a);
  ask(f, "DELETE", "/rules/sni.test", NULL, NULL, &a);
  done(&a);
  ask(f, "PUT", "/rules/old.test", NULL,
      "{\"chain\": \"modern\", \"upstream_tls_min\": \"0.9\"}", &a);
  assert_int_equal(a.r.status, 400);
  assert_non_null(strstr(error_of(&a), "upstream_tls_min"));
  done(&a);
  ask(f, "DELETE", "/rules/old.test", NULL, NULL, &a);
  done(&a);
  ask(f, "DELETE", "/rules/*.a.test", NULL, NULL, &a);
  assert_int_equal(a.r.status, 200);
  done(&a);
  assert_int_equal(f->rules.n, 0);
}


static void test_token(void **state) {
  fixture_t *f = *state;
  answer_t a;

  f->cfg.control_token = "s3cret-token";
  ask(f, "GET", "/stats", NULL, NULL, &a);
  assert_int_equal(a.r.status, 401);
  assert_string_equal(a.r.authenticate, "Bearer");
  done(&a);
  ask(f, "GET", "/stats", "Bearer s3cret-tokeX", NULL, &a);
  assert_int_equal(a.r.status, 401);
  done(&a);
  ask(f, "GET", "/stats", "Bearer s3cret-token", NULL, &a);
  assert_int_equal(a.r.status, 200);
  done(&a);
  ask(f, "GET", "/healthz", NULL, NULL, &a); /* for probes, always open */
  assert_int_equal(a.r.status, 200);
  done(&a);
  f->cfg.control_token = NULL;
}


static void test_events_and_stream(void **state) {
  fixture_t *f = *state;
  cp_event_base_t b = {7, "a.test", 443};
  answer_t a;
  json_t *evs;
  int i;

  for (i = 0; i < 10; i++) { /* the ring keeps 8 */
    cp_event_connect(&f->events, &b, "127.0.0.1:1", "CONNECT", "intercept",
                     NULL, NULL, NULL);
  }
  ask(f, "GET", "/events?since=0&limit=2", NULL, NULL, &a);
  assert_int_equal(a.r.status, 200);
  evs = json_object_get(a.doc, "events");
  assert_int_equal(json_array_size(evs), 2);
  assert_int_equal(
      json_integer_value(json_object_get(json_array_get(evs, 0), "id")), 3);
  assert_int_equal(json_integer_value(json_object_get(a.doc, "dropped")), 2);
  assert_int_equal(json_integer_value(json_object_get(a.doc, "next")), 4);
  done(&a);
  ask(f, "GET", "/events/stream?since=8", NULL, NULL, &a);
  assert_int_equal(a.r.status, 200);
  assert_true(a.r.stream);
  assert_string_equal(a.r.content_type, "text/event-stream");
  assert_non_null(strstr(a.r.body.data, "id: 9\nevent: connect\ndata: {"));
  assert_non_null(strstr(a.r.body.data, "id: 10\n"));
  assert_null(strstr(a.r.body.data, "id: 8\n"));
  done(&a);
  ask(f, "GET", "/events/stream", NULL, NULL, &a); /* no replay */
  assert_true(a.r.stream);
  assert_int_equal(a.r.body.len, 0);
  done(&a);
}


static void test_stats_and_metrics(void **state) {
  fixture_t *f = *state;
  answer_t a;

  f->stats.v[CP_STAT_HS_REFUSED] = 3;
  cp_stats_alert(&f->stats, 48);
  ask(f, "GET", "/stats", NULL, NULL, &a);
  assert_int_equal(json_integer_value(json_object_get(
                       json_object_get(a.doc, "client_handshakes"), "refused")),
                   3);
  done(&a);
  ask(f, "HEAD", "/metrics", NULL, NULL, &a);
  assert_int_equal(a.r.status, 200);
  assert_non_null(strstr(a.r.body.data,
                         "chainproxy_client_rejections_total{alert="
                         "\"unknown_ca\"} 1\n"));
  done(&a);
}


static void test_allowed_addresses(void **state) {
  unsigned char a[16];
  cp_config_t cfg;

  (void)state;
  cp_config_defaults(&cfg);
  memset(a, 0, sizeof(a));
  a[10] = a[11] = 0xff;
  a[12] = 127;
  a[15] = 9;
  assert_true(cp_ctl_http_allowed(&cfg, a)); /* 127.0.0.9 */
  a[12] = 10;
  assert_false(cp_ctl_http_allowed(&cfg, a)); /* 10.0.0.9 */
  assert_int_equal(cp_config_parse_cidr("10.0.0.0/8", cfg.control_allow[0].addr,
                                        &cfg.control_allow[0].bits),
                   0);
  cfg.ncontrol_allow = 1;
  assert_true(cp_ctl_http_allowed(&cfg, a));
  a[12] = 11;
  assert_false(cp_ctl_http_allowed(&cfg, a));
  memset(a, 0, sizeof(a));
  a[15] = 1;
  assert_true(cp_ctl_http_allowed(&cfg, a)); /* ::1 */
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_health_and_pem, setup, teardown),
      cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rules_lifecycle, setup, teardown),
      cmocka_unit_test_setup_teardown(test_token, setup, teardown),
      cmocka_unit_test_setup_teardown(test_events_and_stream, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stats_and_metrics, setup, teardown),
      cmocka_unit_test(test_allowed_addresses),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
