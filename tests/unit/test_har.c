/* HAR from event lines: one entry per request, the first of a connection
 * with the upstream leg's dns/connect/ssl (connect counting ssl) and the
 * rest -1; a connection refused before any request is an entry with
 * _error and status 0; the filters (host glob, since, conn); lines that
 * are not events are ignored; startedDateTime is the request's start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "events/har.h"

static const char *const lines[] = {
    "{\"ts\":\"2026-12-06T03:00:00.000Z\",\"id\":1,\"event\":\"connect\","
    "\"conn\":1,\"host\":\"a.test\",\"port\":443,\"method\":\"CONNECT\"}",
    "{\"ts\":\"2026-12-06T03:00:00.050Z\",\"id\":2,\"event\":"
    "\"upstream_verify\",\"conn\":1,\"host\":\"a.test\",\"port\":443,"
    "\"ok\":true,\"dns_ms\":3,\"connect_ms\":5,\"ssl_ms\":7,\"server_ip\":"
    "\"127.0.0.1\",\"chain\":[{\"depth\":0,\"subject\":\"CN=a.test\"}]}",
    "{\"ts\":\"2026-12-06T03:00:00.060Z\",\"id\":3,\"event\":"
    "\"client_handshake\",\"conn\":1,\"host\":\"a.test\",\"port\":443,"
    "\"accepted\":true,\"profile\":\"modern\"}",
    "{\"ts\":\"2026-12-06T03:00:01.000Z\",\"id\":4,\"event\":\"request\","
    "\"conn\":1,\"host\":\"a.test\",\"port\":443,\"method\":\"GET\","
    "\"url\":\"https://a.test/x?q=1\",\"status\":200,\"http_version\":"
    "\"1.1\",\"bytes_from_client\":0,\"bytes_to_client\":10,\"ttfb_ms\":40,"
    "\"total_ms\":100,\"send_ms\":2,\"outcome\":\"ok\"}",
    "{\"ts\":\"2026-12-06T03:00:02.000Z\",\"id\":5,\"event\":\"request\","
    "\"conn\":1,\"host\":\"a.test\",\"port\":443,\"method\":\"GET\","
    "\"url\":\"https://a.test/y\",\"status\":404,\"http_version\":\"2\","
    "\"stream_id\":3,\"ttfb_ms\":5,\"total_ms\":5,\"outcome\":\"ok\"}",
    "not an event",
    "{\"ts\":\"2026-12-06T03:00:03.000Z\",\"id\":6,\"event\":\"connect\","
    "\"conn\":2,\"host\":\"b.test\",\"port\":443,\"method\":\"CONNECT\"}",
    "{\"ts\":\"2026-12-06T03:00:03.100Z\",\"id\":7,\"event\":"
    "\"client_handshake\",\"conn\":2,\"host\":\"b.test\",\"port\":443,"
    "\"accepted\":false,\"profile\":\"legacy\",\"refused_by\":\"client\","
    "\"alert\":\"certificate_expired\",\"error\":\"x\"}",
    "{\"ts\":\"2026-12-06T03:00:03.200Z\",\"id\":8,\"event\":\"close\","
    "\"conn\":2,\"host\":\"b.test\",\"port\":443,\"duration_ms\":200}",
};


static json_t *build(const cp_har_filter_t *f) {
  cp_har_t *h = cp_har_new(f);
  size_t i;

  assert_non_null(h);
  for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
    cp_har_add(h, lines[i], strlen(lines[i]));
  }
  return cp_har_finish(h);
}


static json_t *entry(json_t *har, size_t i) {
  return json_array_get(json_object_get(json_object_get(har, "log"), "entries"),
                        i);
}


static json_int_t timing(json_t *e, const char *k) {
  return json_integer_value(json_object_get(json_object_get(e, "timings"), k));
}


static void test_entries_and_timings(void **state) {
  cp_har_filter_t f;
  json_t *har, *e;

  (void)state;
  memset(&f, 0, sizeof(f));
  har = build(&f);
  assert_non_null(har);
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(har, "log"), "version")),
                      "1.2");
  assert_int_equal(
      json_array_size(json_object_get(json_object_get(har, "log"), "entries")),
      3);
  e = entry(har, 0);
  assert_string_equal(json_string_value(json_object_get(e, "startedDateTime")),
                      "2026-12-06T03:00:00.900Z");
  assert_int_equal(timing(e, "blocked"), -1);
  assert_int_equal(timing(e, "dns"), 3);
  assert_int_equal(timing(e, "connect"), 12); /* 5 + ssl 7 */
  assert_int_equal(timing(e, "ssl"), 7);
  assert_int_equal(timing(e, "send"), 2);
  assert_int_equal(timing(e, "wait"), 38);
  assert_int_equal(timing(e, "receive"), 60);
  assert_int_equal(json_integer_value(json_object_get(e, "time")), 115);
  assert_string_equal(json_string_value(json_object_get(e, "serverIPAddress")),
                      "127.0.0.1");
  assert_int_equal(json_array_size(json_object_get(
                       json_object_get(e, "request"), "queryString")),
                   1);
  e = entry(har, 1); /* the HTTP/2 stream reuses the connection */
  assert_int_equal(timing(e, "dns"), -1);
  assert_int_equal(timing(e, "connect"), -1);
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(e, "request"), "httpVersion")),
                      "HTTP/2.0");
  e = entry(har, 2); /* refused before any request */
  assert_int_equal(json_integer_value(json_object_get(
                       json_object_get(e, "response"), "status")),
                   0);
  assert_non_null(strstr(json_string_value(json_object_get(e, "_error")),
                         "certificate_expired"));
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(json_object_get(e, "_chainproxy"),
                                          "client_handshake"),
                          "profile")),
                      "legacy");
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(e, "request"), "url")),
      "https://b.test:443/");
  json_decref(har);
}


static void test_filters(void **state) {
  cp_har_filter_t f;
  json_t *har;

  (void)state;
  memset(&f, 0, sizeof(f));
  f.host = "b.*";
  har = build(&f);
  assert_int_equal(
      json_array_size(json_object_get(json_object_get(har, "log"), "entries")),
      1);
  json_decref(har);
  memset(&f, 0, sizeof(f));
  f.conn = 1;
  har = build(&f);
  assert_int_equal(
      json_array_size(json_object_get(json_object_get(har, "log"), "entries")),
      2);
  json_decref(har);
  memset(&f, 0, sizeof(f));
  f.since = 4; /* only the second request and conn 2 */
  har = build(&f);
  assert_int_equal(
      json_array_size(json_object_get(json_object_get(har, "log"), "entries")),
      2);
  json_decref(har);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_entries_and_timings),
      cmocka_unit_test(test_filters),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
