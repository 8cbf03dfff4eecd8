/* The counters table: /stats and /metrics render the same numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "events/stats.h"


static json_int_t at(json_t *doc, const char *group, const char *key) {
  return json_integer_value(json_object_get(json_object_get(doc, group), key));
}


static void test_json(void **state) {
  cp_stats_t s;
  json_t *doc;

  (void)state;
  memset(&s, 0, sizeof(s));
  s.v[CP_STAT_CONN_ACCEPTED] = 5;
  s.v[CP_STAT_CONN_OPEN] = 2;
  s.v[CP_STAT_REQUESTS] = 7;
  s.v[CP_STAT_VERIFY_FAILED] = 1;
  s.by_cause[CP_CAUSE_EXPIRED_ROOT] = 1;
  cp_stats_alert(&s, 45);
  cp_stats_alert(&s, 45);
  cp_stats_alert(&s, -1);
  cp_stats_alert(&s, 999);
  doc = cp_stats_json(&s);
  assert_int_equal(at(doc, "connections", "accepted"), 5);
  assert_int_equal(at(doc, "connections", "open"), 2);
  assert_int_equal(json_integer_value(json_object_get(doc, "requests")), 7);
  assert_int_equal(at(doc, "upstream_verify", "failed"), 1);
  assert_int_equal(
      json_integer_value(json_object_get(
          json_object_get(json_object_get(doc, "client_handshakes"),
                          "refused_by_alert"),
          "certificate_expired")),
      2);
  assert_int_equal(
      json_integer_value(json_object_get(
          json_object_get(json_object_get(doc, "client_handshakes"),
                          "refused_by_alert"),
          "none")),
      2);
  assert_int_equal(json_integer_value(json_object_get(
                       json_object_get(json_object_get(doc, "upstream_verify"),
                                       "failed_by_cause"),
                       "expired_root")),
                   1);
  json_decref(doc);
}


static int count(const char *hay, const char *needle) {
  int n = 0;

  while ((hay = strstr(hay, needle)) != NULL) {
    n++;
    hay++;
  }
  return n;
}


static void test_prometheus(void **state) {
  cp_stats_t s;
  cp_buf_t b;
  char *line, *save = NULL;

  (void)state;
  memset(&s, 0, sizeof(s));
  s.v[CP_STAT_HS_ACCEPTED] = 3;
  s.v[CP_STAT_HS_REFUSED] = 4;
  s.v[CP_STAT_MINT_NS] = 1500000000;
  cp_stats_alert(&s, 48);
  cp_buf_init(&b, 1 << 20);
  assert_int_equal(cp_stats_prometheus(&s, &b), 0);
  cp_buf_append(&b, "", 1);
  assert_non_null(strstr(b.data, "chainproxy_client_handshakes_total{result="
                                 "\"accepted\"} 3\n"));
  assert_non_null(strstr(b.data, "chainproxy_client_handshakes_total{result="
                                 "\"refused\"} 4\n"));
  assert_non_null(strstr(b.data, "chainproxy_mint_seconds_total 1.500000\n"));
  assert_non_null(strstr(b.data, "# TYPE chainproxy_connections_open gauge\n"));
  assert_non_null(strstr(b.data, "{alert=\"unknown_ca\"} 1\n"));
  /* One HELP and TYPE per metric, however many labelled samples. */
  assert_int_equal(count(b.data, "# TYPE chainproxy_client_handshakes_total "),
                   1);
  assert_int_equal(count(b.data, "# TYPE chainproxy_upstream_verify_total "),
                   1);
  for (line = strtok_r(b.data, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    assert_true(line[0] == '#' || strncmp(line, "chainproxy_", 11) == 0);
  }
  cp_buf_free(&b);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_prometheus),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
