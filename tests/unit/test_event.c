/* The event log: JSON Lines written whole, the ring behind /events, the
 * hook behind the event stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "event.h"

typedef struct {
  uint64_t ids[64];
  size_t n;
} seen_t;


static void collect(void *arg, uint64_t id, const char *kind, const char *json,
                    size_t len) {
  seen_t *s = arg;

  assert_string_equal(kind, "connect");
  assert_true(len > 0 && json[0] == '{' && json[len - 1] == '}');
  s->ids[s->n++] = id;
}


static void emit(cp_events_t *ev, int n) {
  cp_event_base_t b = {1, "a.test", 443};
  int i;

  for (i = 0; i < n; i++) {
    cp_event_connect(ev, &b, "127.0.0.1:5", "CONNECT", "intercept", NULL, NULL);
  }
}


static void test_ring_keeps_the_newest(void **state) {
  cp_events_t ev;
  seen_t s;

  (void)state;
  assert_int_equal(cp_events_open(&ev, NULL), 0);
  assert_int_equal(cp_events_ring_init(&ev, 4), 0);
  emit(&ev, 6);
  memset(&s, 0, sizeof(s));
  assert_int_equal(cp_events_query(&ev, 0, 100, collect, &s), 2);
  assert_int_equal(s.n, 4);
  assert_int_equal(s.ids[0], 3);
  assert_int_equal(s.ids[3], 6);
  memset(&s, 0, sizeof(s));
  assert_int_equal(cp_events_query(&ev, 4, 100, collect, &s), 0);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.ids[0], 5);
  memset(&s, 0, sizeof(s));
  assert_int_equal(cp_events_query(&ev, 2, 1, collect, &s), 0);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.ids[0], 3);
  memset(&s, 0, sizeof(s));
  assert_int_equal(cp_events_query(&ev, 6, 100, collect, &s), 0);
  assert_int_equal(s.n, 0);
  assert_int_equal(cp_events_close(&ev), 0);
}


static void test_hook_sees_every_event(void **state) {
  cp_events_t ev;
  seen_t s;

  (void)state;
  memset(&s, 0, sizeof(s));
  assert_int_equal(cp_events_open(&ev, NULL), 0);
  assert_int_equal(cp_events_ring_init(&ev, 2), 0);
  ev.on_event = collect;
  ev.on_event_arg = &s;
  emit(&ev, 5);
  assert_int_equal(s.n, 5);
  assert_int_equal(s.ids[4], 5);
  assert_int_equal(cp_events_close(&ev), 0);
}


static void test_lines_are_whole_json(void **state) {
  char path[] = "/tmp/cp-event-XXXXXX";
  int fd = mkstemp(path);
  cp_events_t ev;
  cp_event_base_t b = {9, NULL, 0};
  cp_event_close_t c;
  char line[4096];
  FILE *fp;
  int n = 0;

  (void)state;
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(cp_events_open(&ev, path), 0);
  emit(&ev, 2);
  memset(&c, 0, sizeof(c));
  c.reason = "peer sent \"\n\x01\" and \xff"; /* hostile bytes */
  cp_event_close(&ev, &b, &c);
  assert_int_equal(cp_events_close(&ev), 0);
  fp = fopen(path, "r");
  assert_non_null(fp);
  while (fgets(line, sizeof(line), fp) != NULL) {
    json_error_t jerr;
    json_t *o = json_loads(line, 0, &jerr);

    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "id")), ++n);
    assert_non_null(json_object_get(o, "ts"));
    json_decref(o);
  }
  fclose(fp);
  unlink(path);
  assert_int_equal(n, 3);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ring_keeps_the_newest),
      cmocka_unit_test(test_hook_sees_every_event),
      cmocka_unit_test(test_lines_are_whole_json),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
