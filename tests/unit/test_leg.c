/* cp_leg_t on a real loop, over TCP connections on 127.0.0.1: bytes
 * arrive in order both ways, a write the peer does not read stops
 * reading on the other leg of the conn and resumes it once drained, EOF
 * and a reset are reported as such, and closing releases everything
 * (every test ends with uv_loop_close() == 0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "legpair.h"
#include "net/leg.h"


/* Many writes of odd sizes, both ways at once: each side gets the other's
 * stream whole and in order, and the byte counters agree. */
static void test_order(void **state) {
  static const size_t sizes[] = {1, 7, 1500, 65536, 3, 200000, 4096, 9};
  lp_fx_t fx;
  size_t off = 0, i, k;

  (void)state;
  legpair_open(&fx);
  legpair_connect(&fx, 0, 1);
  cp_leg_want_read(&fx.side[0].leg, 1);
  cp_leg_want_read(&fx.side[1].leg, 1);
  for (k = 0; k < 4; k++) {
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
      char *p = legpair_pattern(off, sizes[i]);

      assert_int_equal(cp_leg_write(&fx.side[0].leg, p, sizes[i]), 0);
      assert_int_equal(cp_leg_write(&fx.side[1].leg, p, sizes[i]), 0);
      free(p);
      off += sizes[i];
    }
  }
  legpair_run_until_bytes(&fx, &fx.side[1], off);
  legpair_run_until_bytes(&fx, &fx.side[0], off);
  legpair_assert_pattern(&fx.side[1], off);
  legpair_assert_pattern(&fx.side[0], off);
  legpair_run_until_idle(&fx, &fx.side[0]);
  legpair_run_until_idle(&fx, &fx.side[1]);
  assert_int_equal(fx.side[0].leg.bytes_out, off);
  assert_int_equal(fx.side[1].leg.bytes_in, off);
  assert_int_equal(fx.side[1].leg.bytes_out, off);
  assert_int_equal(fx.side[0].leg.bytes_in, off);
  assert_false(cp_leg_busy(&fx.side[0].leg));
  assert_int_equal(cp_leg_queued(&fx.side[0].leg), 0);
  assert_int_equal(fx.side[0].nerror + fx.side[1].nerror, 0);
  legpair_close(&fx);
}


/* A conn in miniature: side 1 (the client leg) and side 2 (the upstream
 * leg) are each other's peer. The upstream's far end (side 3) does not
 * read, so a large write queues past CP_WQ_HIGH: reading on the client
 * leg stops, and bytes the client sends wait in the kernel. When side 3
 * reads, the queue drains, on_drained runs and the client leg reads
 * again. */
static void test_backpressure(void **state) {
  const size_t big = 8 * 1024 * 1024;
  lp_fx_t fx;
  lp_side_t *cl, *up, *far;
  char *p;

  (void)state;
  legpair_open(&fx);
  legpair_connect(&fx, 0, 1);
  legpair_connect(&fx, 2, 3);
  cl = &fx.side[1];
  up = &fx.side[2];
  far = &fx.side[3];
  cl->leg.peer = &up->leg;
  up->leg.peer = &cl->leg;
  /* Small kernel buffers, so the leg's own queue takes the write. */
  {
    int sz = 16 * 1024;

    uv_send_buffer_size((uv_handle_t *)&up->leg.tcp, &sz);
    sz = 16 * 1024;
    uv_recv_buffer_size((uv_handle_t *)&far->leg.tcp, &sz);
  }
  cp_leg_want_read(&cl->leg, 1);
  assert_true(cl->leg.reading);
  p = legpair_pattern(0, big);
  assert_int_equal(cp_leg_write(&up->leg, p, big), 0);
  free(p);
  assert_true(cp_leg_queued(&up->leg) > CP_WQ_HIGH);
  assert_true(cp_leg_busy(&up->leg));
  assert_true(cl->leg.throttled);
  assert_false(cl->leg.reading);
  /* The client's bytes are not read while the upstream is full. */
  assert_int_equal(cp_leg_write(&fx.side[0].leg, "hello", 5), 0);
  legpair_run_for(&fx, 100);
  assert_int_equal(cl->ngot, 0);
  assert_true(cl->leg.throttled);
  assert_int_equal(up->ndrained, 0);
  /* The far end reads: everything arrives in order, the queue drains
   * and the client leg reads again. */
  cp_leg_want_read(&far->leg, 1);
  legpair_run_until_bytes(&fx, far, big);
  legpair_assert_pattern(far, big);
  legpair_run_until(&fx, &up->ndrained);
  assert_false(cp_leg_busy(&up->leg));
  assert_false(cl->leg.throttled);
  assert_true(cl->leg.reading);
  legpair_run_until_bytes(&fx, cl, 5);
  assert_memory_equal(cl->got, "hello", 5);
  legpair_close(&fx);
}


/* A FIN after some bytes: the bytes first, then on_eof once, and the
 * leg stops reading. A shut leg refuses further writes. */
static void test_eof(void **state) {
  lp_fx_t fx;
  lp_side_t *a, *b;

  (void)state;
  legpair_open(&fx);
  legpair_connect(&fx, 0, 1);
  a = &fx.side[0];
  b = &fx.side[1];
  cp_leg_want_read(&b->leg, 1);
  assert_int_equal(cp_leg_write(&a->leg, "last words", 10), 0);
  cp_leg_shutdown(&a->leg);
  assert_true(a->leg.shut);
  assert_int_equal(cp_leg_write(&a->leg, "more", 4), UV_EPIPE);
  legpair_run_until(&fx, &b->eof);
  assert_int_equal(b->eof, 1);
  assert_int_equal(b->got_at_eof, 10);
  assert_memory_equal(b->got, "last words", 10);
  assert_true(b->leg.eof);
  assert_false(b->leg.reading);
  assert_int_equal(b->nerror, 0);
  /* The other direction still works after a half close. */
  cp_leg_want_read(&a->leg, 1);
  assert_int_equal(cp_leg_write(&b->leg, "ack", 3), 0);
  legpair_run_until_bytes(&fx, a, 3);
  assert_memory_equal(a->got, "ack", 3);
  legpair_close(&fx);
}


/* A reset is an error, not an EOF. */
static void test_reset(void **state) {
  lp_fx_t fx;
  lp_side_t *b;

  (void)state;
  legpair_open(&fx);
  legpair_connect(&fx, 0, 1);
  b = &fx.side[1];
  cp_leg_want_read(&b->leg, 1);
  cp_leg_reset(&fx.side[0].leg);
  legpair_run_until(&fx, &b->nerror);
  assert_int_equal(b->err, UV_ECONNRESET);
  assert_int_equal(b->eof, 0);
  assert_false(b->leg.reading);
  legpair_run_until(&fx, &fx.side[0].closed);
  legpair_close(&fx);
}


/* A refused connect is reported through on_connect. */
static void test_connect_refused(void **state) {
  lp_fx_t fx;
  struct sockaddr_in addr;
  uv_tcp_t probe;
  int len = sizeof(addr);

  (void)state;
  legpair_open(&fx);
  /* A port that was free a moment ago: bound, not listening. */
  assert_int_equal(uv_tcp_init(&fx.loop, &probe), 0);
  assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
  assert_int_equal(uv_tcp_bind(&probe, (const struct sockaddr *)&addr, 0), 0);
  assert_int_equal(uv_tcp_getsockname(&probe, (struct sockaddr *)&addr, &len),
                   0);
  legpair_side_init(&fx, 0);
  assert_int_equal(
      cp_leg_connect(&fx.side[0].leg, (const struct sockaddr *)&addr), 0);
  legpair_run_until(&fx, &fx.side[0].connected);
  assert_int_equal(fx.side[0].connect_status, UV_ECONNREFUSED);
  assert_false(fx.side[0].leg.connected);
  assert_int_equal(cp_leg_write(&fx.side[0].leg, "x", 1), UV_EPIPE);
  uv_close((uv_handle_t *)&probe, NULL);
  legpair_close(&fx);
}


/* Closing with megabytes still queued: every write request is called
 * back (UV_ECANCELED) and freed, on_closed runs once per leg, the peer
 * leg is no longer throttled, and the loop closes clean. */
static void test_close_pending(void **state) {
  const size_t big = 4 * 1024 * 1024;
  lp_fx_t fx;
  lp_side_t *cl, *up;
  char *p;
  int sz = 16 * 1024;

  (void)state;
  legpair_open(&fx);
  legpair_connect(&fx, 0, 1);
  legpair_connect(&fx, 2, 3);
  cl = &fx.side[1];
  up = &fx.side[2];
  cl->leg.peer = &up->leg;
  up->leg.peer = &cl->leg;
  uv_send_buffer_size((uv_handle_t *)&up->leg.tcp, &sz);
  cp_leg_want_read(&cl->leg, 1);
  p = legpair_pattern(0, big);
  assert_int_equal(cp_leg_write(&up->leg, p, big), 0);
  assert_int_equal(cp_leg_write(&up->leg, p, big), 0);
  free(p);
  assert_true(up->leg.writes_pending > 0);
  assert_true(cl->leg.throttled);
  cp_leg_close(&up->leg);
  assert_false(cl->leg.throttled);
  assert_true(cl->leg.reading);
  assert_int_equal(cp_leg_write(&up->leg, "x", 1), UV_EPIPE);
  legpair_run_until(&fx, &up->closed);
  assert_int_equal(up->leg.writes_pending, 0);
  assert_int_equal(up->nerror, 0); /* a cancel is not an error */
  legpair_close(&fx);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order),
      cmocka_unit_test(test_backpressure),
      cmocka_unit_test(test_eof),
      cmocka_unit_test(test_reset),
      cmocka_unit_test(test_connect_refused),
      cmocka_unit_test(test_close_pending),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
