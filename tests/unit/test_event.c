/* The event log: JSON Lines written whole, the ring behind /events, the
 * hook behind the event stream. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/err.h"
#include "events/event.h"

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
    cp_event_connect(ev, &b, "127.0.0.1:5", "CONNECT", "intercept", NULL, NULL,
                     NULL);
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


/* Reads the whole file: each line parsed (NULL when it does not parse),
 * at most cap of them; returns how many. */
static size_t read_lines(const char *path, json_t **out, size_t cap) {
  FILE *fp = fopen(path, "r");
  char line[16384];
  size_t n = 0;

  assert_non_null(fp);
  while (n < cap && fgets(line, sizeof(line), fp) != NULL) {
    out[n++] = json_loads(line, 0, NULL);
  }
  fclose(fp);
  return n;
}


static void error_event(cp_events_t *ev, size_t msg_len) {
  cp_event_base_t b = {3, "a.test", 443};
  char *msg = malloc(msg_len + 1);

  assert_non_null(msg);
  memset(msg, 'm', msg_len);
  msg[msg_len] = '\0';
  cp_event_error(ev, &b, "upstream_error", msg, "testing", 0);
  free(msg);
}


/* A file that cannot grow (RLIMIT_FSIZE: the kernel writes what fits,
 * then EFBIG, as a full disk does with ENOSPC): the line it cut is taken
 * back, and once it grows again the log goes on with whole lines and a
 * dropped event for the gap. */
static void test_full_file_takes_back_a_cut_line(void **state) {
  char path[] = "/tmp/cp-event-XXXXXX";
  int fd = mkstemp(path);
  struct rlimit old, lim;
  struct stat st;
  cp_events_t ev;
  json_t *lines[16];
  size_t n, i;

  (void)state;
  assert_true(fd >= 0);
  close(fd);
  signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(cp_events_open(&ev, path), 0);
  emit(&ev, 2);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  lim = old;
  lim.rlim_cur = (rlim_t)st.st_size + 100; /* half a line fits */
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  emit(&ev, 3); /* ids 3-5: the first is cut, the others do not start */
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_size, (off_t)lim.rlim_cur - 100);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  emit(&ev, 1); /* id 6, then the dropped event, id 7 */
  assert_int_equal(cp_events_close(&ev), CP_EIO); /* the log has a gap */
  n = read_lines(path, lines, 16);
  unlink(path);
  assert_int_equal(n, 4);
  for (i = 0; i < n; i++) {
    assert_non_null(lines[i]);
  }
  assert_int_equal(json_integer_value(json_object_get(lines[2], "id")), 6);
  assert_string_equal(json_string_value(json_object_get(lines[3], "event")),
                      "dropped");
  assert_int_equal(json_integer_value(json_object_get(lines[3], "id")), 7);
  assert_int_equal(json_integer_value(json_object_get(lines[3], "count")), 3);
  assert_int_equal(json_integer_value(json_object_get(lines[3], "first_id")),
                   3);
  assert_int_equal(json_integer_value(json_object_get(lines[3], "last_id")), 5);
  assert_int_equal(json_integer_value(json_object_get(lines[3], "conn")), 0);
  for (i = 0; i < n; i++) {
    json_decref(lines[i]);
  }
}


/* A worker's queue: nothing is recorded until the flush; then its lines
 * get their ids in order, in one write, after those another queue
 * flushed first. A batch the file cannot take is lost whole and told of
 * by a dropped event once the log takes lines again. */
static void test_queue_records_in_order(void **state) {
  char path[] = "/tmp/cp-event-XXXXXX";
  int fd = mkstemp(path);
  cp_event_queue_t qa, qb;
  struct rlimit old, lim;
  struct stat st;
  cp_events_t ev;
  json_t *lines[32];
  uint64_t recorded, dropped;
  size_t n, i;

  (void)state;
  assert_true(fd >= 0);
  close(fd);
  signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(cp_events_open(&ev, path), 0);
  assert_int_equal(cp_events_ring_init(&ev, 16), 0);
  cp_event_queue_init(&qa, &ev);
  cp_event_queue_init(&qb, &ev);
  cp_event_queue_attach(&qa);
  emit(&ev, 3);
  cp_event_queue_attach(&qb);
  emit(&ev, 2);
  cp_event_queue_attach(NULL);
  emit(&ev, 1); /* no queue: recorded at once, id 1 */
  assert_int_equal(stat(path, &st), 0);
  cp_events_counts(&ev, &recorded, &dropped);
  assert_int_equal(recorded, 1);
  cp_event_queue_flush(&qb); /* ids 2, 3 */
  cp_event_queue_flush(&qa); /* ids 4, 5, 6 */
  cp_event_queue_flush(&qa); /* nothing */
  cp_events_counts(&ev, &recorded, &dropped);
  assert_int_equal(recorded, 6);
  /* A file that cannot grow: the batch of three is lost whole. */
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  lim = old;
  lim.rlim_cur = (rlim_t)st.st_size + 100;
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  cp_event_queue_attach(&qa);
  emit(&ev, 3);
  cp_event_queue_flush(&qa); /* ids 7-9, lost */
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_size, (off_t)lim.rlim_cur - 100);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  emit(&ev, 2);
  cp_event_queue_free(&qa); /* id 10, the dropped event 11, id 12 */
  cp_event_queue_attach(NULL);
  cp_event_queue_free(&qb);
  cp_events_counts(&ev, &recorded, &dropped);
  assert_int_equal(recorded, 12);
  assert_int_equal(dropped, 3);
  assert_int_equal(cp_events_close(&ev), CP_EIO);
  n = read_lines(path, lines, 32);
  unlink(path);
  assert_int_equal(n, 9);
  for (i = 0; i < n; i++) {
    static const int want[] = {1, 2, 3, 4, 5, 6, 10, 11, 12};

    assert_non_null(lines[i]);
    assert_int_equal(json_integer_value(json_object_get(lines[i], "id")),
                     want[i]);
  }
  assert_string_equal(json_string_value(json_object_get(lines[7], "event")),
                      "dropped");
  assert_int_equal(json_integer_value(json_object_get(lines[7], "first_id")),
                   7);
  assert_int_equal(json_integer_value(json_object_get(lines[7], "last_id")), 9);
  for (i = 0; i < n; i++) {
    json_decref(lines[i]);
  }
}


/* A pipe cannot take a cut line back: the next line starts with a newline,
 * so only the cut line is lost to a reader. A line longer than PIPE_BUF
 * into a non-blocking pipe with little room goes out in part. */
static void test_pipe_cut_line_ends_before_the_next(void **state) {
  char path[] = "/tmp/cp-event-XXXXXX";
  int p[2], saved, out;
  cp_events_t ev;
  static char buf[1 << 20];
  char *room;
  ssize_t got;
  size_t len = 0, n, i;
  json_t *lines[16];

  (void)state;
  out = mkstemp(path);
  assert_true(out >= 0);
  assert_int_equal(pipe(p), 0);
  assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
  room = calloc(1, 65536);
  assert_non_null(room);
  while (write(p[1], room, 65536) > 0) {
  }
  while (write(p[1], room, 1) > 0) {
  }
  free(room);
  assert_int_equal(read(p[0], buf, 4096), 4096); /* room for part of one */
  fflush(stdout);
  saved = dup(STDOUT_FILENO);
  assert_int_equal(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);
  assert_int_equal(cp_events_open(&ev, "-"), 0);
  error_event(&ev, 6000); /* id 1: 4096 bytes go out, then EAGAIN */
  assert_true(ev.out.partial);
  /* The reader drains the pipe: the filler, then the cut line. */
  assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
  while ((got = read(p[0], buf + len, sizeof(buf) - len)) > 0) {
    len += (size_t)got;
  }
  assert_true(len >= 4096 && len < sizeof(buf));
  assert_int_equal(write(out, buf + len - 4096, 4096), 4096); /* the cut */
  emit(&ev, 1); /* id 2, then the dropped event */
  assert_int_equal(cp_events_close(&ev), CP_EIO);
  fflush(stdout);
  assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
  close(saved);
  close(p[1]);
  while ((got = read(p[0], buf, sizeof(buf))) > 0) {
    assert_int_equal(write(out, buf, (size_t)got), got);
  }
  close(p[0]);
  close(out);
  n = read_lines(path, lines, 16);
  unlink(path);
  assert_int_equal(n, 3);
  assert_null(lines[0]); /* the cut line, ended by the newline */
  assert_non_null(lines[1]);
  assert_int_equal(json_integer_value(json_object_get(lines[1], "id")), 2);
  assert_non_null(lines[2]);
  assert_string_equal(json_string_value(json_object_get(lines[2], "event")),
                      "dropped");
  assert_int_equal(json_integer_value(json_object_get(lines[2], "count")), 1);
  for (i = 0; i < n; i++) {
    json_decref(lines[i]);
  }
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ring_keeps_the_newest),
      cmocka_unit_test(test_hook_sees_every_event),
      cmocka_unit_test(test_lines_are_whole_json),
      cmocka_unit_test(test_full_file_takes_back_a_cut_line),
      cmocka_unit_test(test_pipe_cut_line_ends_before_the_next),
      cmocka_unit_test(test_queue_records_in_order),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
