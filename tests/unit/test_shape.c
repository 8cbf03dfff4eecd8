/* The delay line on a real loop, over a TCP pair on 127.0.0.1: bytes come
 * out in order and never before their delay (checked with uv_now as a
 * lower bound only: a busy machine may be late, never early), a rate
 * spreads a write over time, held bytes count as the leg's queue (the
 * other leg stops reading), a FIN waits for the held bytes, the byte
 * budget ends in on_reset, and closing with bytes held releases
 * everything (uv_loop_close() == 0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "legpair.h"
#include "net/leg.h"
#include "net/shape.h"


static void on_shape_closed(void *arg) {
  (*(int *)arg)++;
}


static void close_shape(lp_fx_t *fx, cp_shape_t *sh) {
  int closed = 0;

  cp_shape_close(sh, on_shape_closed, &closed);
  legpair_run_until(fx, &closed);
  assert_int_equal(closed, 1);
}


static cp_shape_t *shape(lp_fx_t *fx, unsigned latency, unsigned jitter,
                         uint64_t rate) {
  cp_shape_cfg_t cfg;
  cp_shape_t *sh = NULL;

  memset(&cfg, 0, sizeof(cfg));
  cfg.latency_ms = latency;
  cfg.jitter_ms = jitter;
  cfg.rate = rate;
  assert_int_equal(cp_shape_new(&sh, &fx->loop, &cfg), 0);
  assert_non_null(sh);
  return sh;
}


static size_t write_chunks(lp_side_t *s, int n, size_t each) {
  size_t off = 0;
  int i;

  for (i = 0; i < n; i++) {
    char *p = legpair_pattern(off, each + (size_t)i);

    assert_int_equal(cp_leg_write(&s->leg, p, each + (size_t)i), 0);
    free(p);
    off += each + (size_t)i;
  }
  return off;
}


/* 50 ms each way: the bytes are held (and count as queued) until then,
 * arrive whole and in order, and on_drained says when they are out. */
static void test_delay(void **state) {
  lp_fx_t fx;
  cp_shape_t *sh;
  uint64_t t0;
  size_t total;

  (void)state;
  legpair_open(&fx);
  legpair_connect(&fx, 0, 1);
  sh = shape(&fx, 50, 0, 0);
  cp_shape_attach(sh, &fx.side[0].leg, 1);
  cp_leg_want_read(&fx.side[1].leg, 1);
  uv_update_time(&fx.loop);
  t0 = uv_now(&fx.loop);
  total = write_chunks(&fx.side[0], 20, 1000);
  assert_int_equal(cp_leg_queued(&fx.side[0].leg), total);
  assert_true(cp_leg_busy(&fx.side[0].leg));
  assert_int_equal(fx.side[0].leg.bytes_out, 0);
  legpair_run_until_bytes(&fx, &fx.side[1], total);
  assert_true(fx.side[1].first_ms >= t0 + 50);
  legpair_assert_pattern(&fx.side[1], total);
  legpair_run_until(&fx, &fx.side[0].ndrained);
  assert_false(cp_leg_busy(&fx.side[0].leg));
  assert_int_equal(fx.side[0].leg.bytes_out, total);
  close_shape(&fx, sh);
  legpair_close(&fx);
}


/* Jitter draws each slice's delay anew; bytes still never overtake
 * each other, and none comes before the shortest delay. */
static void test_jitter_order(void **state) {
  lp_fx_t fx;
  cp_shape_t *sh;
  uint64_t t0;
  size_t total = 0;
  int round;

  (void)state;
  legpair_open(&fx);
  legpair_connect(&fx, 0, 1);
  sh = shape(&fx, 40, 30, 0);
  cp_shape_attach(sh, &fx.side[0].leg, 1);
  cp_leg_want_read(&fx.side[1].leg, 1);
  uv_update_time(&fx.loop);
  t0 = uv_now(&fx.loop);
  for (round = 0; round < 5; round++) {
    size_t off = total, i;

    for (i = 0; i < 40; i++) {
      char *p = legpair_pattern(off, 100 + i);

      assert_int_equal(cp_leg_write(&fx.side[0].leg, p, 100 + i), 0);
      free(p);
      off += 100 + i;
    }
    total = off;
    legpair_run_for(&fx, 7); /* the next round at a later loop time */
  }
  legpair_run_until_bytes(&fx, &fx.side[1], total);
  assert_true(fx.side[1].first_ms >= t0 + 10);
  legpair_assert_pattern(&fx.side[1], total);
  close_shape(&fx, sh);
  legpair_close(&fx);
}


#define RATE 100000 /* bytes per second */


/* No byte may arrive before the rate allows it: by loop time t, at most
 * RATE * (t - t0) bytes. */
static void check_rate(const lp_side_t *s, uint64_t now) {
  uint64_t allowed = RATE * (now - s->t0) / 1000;

  if (s->ngot > allowed) {
    fail_msg("%zu bytes after %llu ms: more than the rate allows", s->ngot,
             (unsigned long long)(now - s->t0));
  }
}


/* 50 kB at 100 kB/s takes at least 500 ms, a slice at a time. */
static void test_rate(void **state) {
  const size_t total = 50000;
  lp_fx_t fx;
  cp_shape_t *sh;
  char *p;

  (void)state;
  legpair_open(&fx);
  legpair_connect(&fx, 0, 1);
  sh = shape(&fx, 0, 0, RATE);
  cp_shape_attach(sh, &fx.side[0].leg, 1);
  cp_leg_want_read(&fx.side[1].leg, 1);
  uv_update_time(&fx.loop);
  fx.side[1].t0 = uv_now(&fx.loop);
  fx.side[1].check = check_rate;
  p = legpair_pattern(0, total);
  assert_int_equal(cp_leg_write(&fx.side[0].leg, p, total), 0);
  free(p);
  legpair_run_until_bytes(&fx, &fx.side[1], total);
  assert_true(fx.side[1].last_ms >= fx.side[1].t0 + 500);
  assert_true(fx.side[1].ndata >= 2); /* not in one piece */
  legpair_assert_pattern(&fx.side[1], total);
  close_shape(&fx, sh);
  legpair_close(&fx);
}


/* Held bytes are queued bytes: past CP_WQ_HIGH the other leg of the conn
 * stops reading. A FIN asked for meanwhile waits for them. */
static void test_held_backpressure_and_fin(void **state) {
  const size_t big = CP_WQ_HIGH + 1000;
  lp_fx_t fx;
  cp_shape_t *sh;
  lp_side_t *up, *cl;
  char *p;

  (void)state;
  legpair_open(&fx);
  legpair_connect(&fx, 0, 1);
  legpair_connect(&fx, 2, 3);
  cl = &fx.side[0]; /* the shaped leg, to the client at side 1 */
  up = &fx.side[2]; /* the conn's other leg */
  cl->leg.peer = &up->leg;
  up->leg.peer = &cl->leg;
  sh = shape(&fx, 100, 0, 0);
  cp_shape_attach(sh, &cl->leg, 1);
  cp_shape_attach(sh, &up->leg, 0);
  cp_leg_want_read(&up->leg, 1);
  cp_leg_want_read(&fx.side[1].leg, 1);
  p = legpair_pattern(0, big);
  assert_int_equal(cp_leg_write(&cl->leg, p, big), 0);
  free(p);
  assert_true(up->leg.throttled);
  assert_false(up->leg.reading);
  cp_leg_shutdown(&cl->leg);
  assert_false(cl->leg.shut); /* not yet: bytes are held */
  legpair_run_until(&fx, &fx.side[1].eof);
  assert_int_equal(fx.side[1].got_at_eof, big);
  legpair_assert_pattern(&fx.side[1], big);
  assert_false(up->leg.throttled);
  assert_true(up->leg.reading);
  close_shape(&fx, sh);
  legpair_close(&fx);
}


static void on_budget(void *arg) {
  lp_side_t *s = arg;

  /* What the conn does: cut the client leg with a reset. */
  cp_leg_reset(&s->leg);
}


/* reset_after: the client gets exactly the budget, then the end. (The
 * reset may read as EOF: when the RST follows the last bytes in one
 * poll, libuv reports the hang-up after a short read as UV_EOF without
 * reading the error.) */
static void test_reset_after(void **state) {
  lp_fx_t fx;
  cp_shape_cfg_t cfg;
  cp_shape_t *sh = NULL;

  (void)state;
  legpair_open(&fx);
  legpair_connect(&fx, 0, 1);
  memset(&cfg, 0, sizeof(cfg));
  cfg.reset_after = 1000;
  cfg.on_reset = on_budget;
  cfg.arg = &fx.side[0];
  assert_int_equal(cp_shape_new(&sh, &fx.loop, &cfg), 0);
  cp_shape_attach(sh, &fx.side[0].leg, 1);
  cp_leg_want_read(&fx.side[1].leg, 1);
  write_chunks(&fx.side[0], 5, 300);
  while (fx.side[1].eof == 0 && fx.side[1].nerror == 0) {
    uv_run(&fx.loop, UV_RUN_ONCE);
  }
  assert_true(fx.side[0].leg.closing || fx.side[0].closed);
  assert_true(fx.side[1].nerror == 0 || fx.side[1].err == UV_ECONNRESET);
  legpair_assert_pattern(&fx.side[1], 1000);
  close_shape(&fx, sh);
  legpair_close(&fx);
}


/* Closing with bytes held for seconds, legs first (as the conn does) or
 * the shape first: on_closed runs once, nothing is sent late, and the
 * loop closes with no handle left. */
static void test_close_pending(void **state) {
  lp_fx_t fx;
  cp_shape_t *sh;
  int order, closed;

  (void)state;
  for (order = 0; order < 2; order++) {
    legpair_open(&fx);
    legpair_connect(&fx, 0, 1);
    sh = shape(&fx, 5000, 0, 1000);
    cp_shape_attach(sh, &fx.side[0].leg, 1);
    cp_shape_attach(sh, &fx.side[1].leg, 0);
    write_chunks(&fx.side[0], 10, 4000);
    write_chunks(&fx.side[1], 10, 4000);
    assert_true(cp_leg_busy(&fx.side[0].leg));
    closed = 0;
    if (order == 0) {
      cp_leg_close(&fx.side[0].leg);
      cp_leg_close(&fx.side[1].leg);
    }
    cp_shape_close(sh, on_shape_closed, &closed);
    cp_shape_close(sh, on_shape_closed, &closed); /* once is enough */
    legpair_close(&fx);
    assert_int_equal(closed, 1);
    assert_int_equal(fx.side[0].leg.bytes_out, 0);
    assert_int_equal(fx.side[1].ngot, 0);
  }
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_delay),
      cmocka_unit_test(test_jitter_order),
      cmocka_unit_test(test_rate),
      cmocka_unit_test(test_held_backpressure_and_fin),
      cmocka_unit_test(test_reset_after),
      cmocka_unit_test(test_close_pending),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
