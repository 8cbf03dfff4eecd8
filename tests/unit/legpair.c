#include "legpair.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>


static void on_data(cp_leg_t *leg, const char *data, size_t len) {
  lp_side_t *s = leg->owner;
  uint64_t now = uv_now(&s->fx->loop);

  if (s->ngot + len > s->cap) {
    s->cap = (s->ngot + len) * 2;
    s->got = realloc(s->got, s->cap);
    assert_non_null(s->got);
  }
  memcpy(s->got + s->ngot, data, len);
  s->ngot += len;
  if (s->ndata++ == 0) {
    s->first_ms = now;
  }
  s->last_ms = now;
  if (s->check != NULL) {
    s->check(s, now);
  }
}


static void on_eof(cp_leg_t *leg) {
  lp_side_t *s = leg->owner;

  s->eof++;
  s->got_at_eof = s->ngot;
}


static void on_error(cp_leg_t *leg, int err) {
  lp_side_t *s = leg->owner;

  s->nerror++;
  s->err = err;
}


static void on_connect(cp_leg_t *leg, int status) {
  lp_side_t *s = leg->owner;

  s->connected = 1;
  s->connect_status = status;
}


static void on_drained(cp_leg_t *leg) {
  lp_side_t *s = leg->owner;

  s->ndrained++;
}


static void on_closed(cp_leg_t *leg) {
  lp_side_t *s = leg->owner;

  s->closed++;
}


static void on_handshake(cp_leg_t *leg) {
  (void)leg;
  fail_msg("a plain TCP leg reported TLS handshake bytes");
}


static const cp_leg_cbs_t cbs = {on_data,    on_eof,    on_error,    on_connect,
                                 on_drained, on_closed, on_handshake};


static void on_watchdog(uv_timer_t *t) {
  (void)t;
  fail_msg("watchdog: the test did not finish in %d ms", LP_WATCHDOG_MS);
}


void legpair_side_init(lp_fx_t *fx, int i) {
  lp_side_t *s = &fx->side[i];

  assert_true(i < LP_SIDES);
  s->fx = fx;
  assert_int_equal(cp_leg_init(&s->leg, &fx->loop, &cbs, s, NULL), 0);
  if (i >= fx->nsides) {
    fx->nsides = i + 1;
  }
}


static void on_connection(uv_stream_t *server, int status) {
  lp_fx_t *fx = server->data;
  lp_side_t *s = &fx->side[fx->accept_into];

  assert_int_equal(status, 0);
  if (fx->on_accept != NULL) {
    fx->on_accept(fx, server);
    return;
  }
  legpair_side_init(fx, fx->accept_into);
  assert_int_equal(cp_leg_accept(&s->leg, server), 0);
  s->connected = 1;
}


void legpair_open(lp_fx_t *fx) {
  int len = sizeof(fx->addr);

  memset(fx, 0, sizeof(*fx));
  assert_int_equal(uv_loop_init(&fx->loop), 0);
  assert_int_equal(uv_timer_init(&fx->loop, &fx->watchdog), 0);
  fx->watchdog.data = fx;
  assert_int_equal(
      uv_timer_start(&fx->watchdog, on_watchdog, LP_WATCHDOG_MS, 0), 0);
  assert_int_equal(uv_tcp_init(&fx->loop, &fx->server), 0);
  fx->server.data = fx;
  assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &fx->addr), 0);
  assert_int_equal(
      uv_tcp_bind(&fx->server, (const struct sockaddr *)&fx->addr, 0), 0);
  assert_int_equal(
      uv_tcp_getsockname(&fx->server, (struct sockaddr *)&fx->addr, &len), 0);
  assert_int_equal(uv_listen((uv_stream_t *)&fx->server, 8, on_connection), 0);
}


void legpair_connect(lp_fx_t *fx, int i, int j) {
  legpair_side_init(fx, i);
  fx->accept_into = j;
  assert_int_equal(
      cp_leg_connect(&fx->side[i].leg, (const struct sockaddr *)&fx->addr), 0);
  legpair_run_until(fx, &fx->side[i].connected);
  assert_int_equal(fx->side[i].connect_status, 0);
  legpair_run_until(fx, &fx->side[j].connected);
  assert_true(fx->side[i].leg.connected);
  assert_true(fx->side[j].leg.connected);
}


void legpair_run_until(lp_fx_t *fx, const int *flag) {
  while (*flag == 0) {
    uv_run(&fx->loop, UV_RUN_ONCE);
  }
}


void legpair_run_until_idle(lp_fx_t *fx, lp_side_t *s) {
  while (cp_leg_busy(&s->leg)) {
    uv_run(&fx->loop, UV_RUN_ONCE);
  }
}


void legpair_run_until_bytes(lp_fx_t *fx, lp_side_t *s, size_t n) {
  while (s->ngot < n) {
    uv_run(&fx->loop, UV_RUN_ONCE);
  }
}


/* UV_RUN_ONCE runs due timers before it polls, and then still blocks
 * for I/O: uv_stop makes that poll return at once. */
static void on_pause(uv_timer_t *t) {
  *(int *)t->data = 1;
  uv_stop(t->loop);
}


static void on_pause_closed(uv_handle_t *h) {
  *(int *)h->data = 2;
}


void legpair_run_for(lp_fx_t *fx, uint64_t ms) {
  uv_timer_t t;
  int done = 0;

  assert_int_equal(uv_timer_init(&fx->loop, &t), 0);
  t.data = &done;
  assert_int_equal(uv_timer_start(&t, on_pause, ms, 0), 0);
  legpair_run_until(fx, &done);
  /* t lives on this stack frame: wait for its close callback. */
  uv_close((uv_handle_t *)&t, on_pause_closed);
  while (done != 2) {
    uv_run(&fx->loop, UV_RUN_ONCE);
  }
}


char legpair_byte(size_t i) {
  return (char)((i * 7 + i / 251) & 0xff);
}


char *legpair_pattern(size_t off, size_t len) {
  char *p = malloc(len > 0 ? len : 1);
  size_t i;

  assert_non_null(p);
  for (i = 0; i < len; i++) {
    p[i] = legpair_byte(off + i);
  }
  return p;
}


void legpair_assert_pattern(const lp_side_t *s, size_t len) {
  size_t i;

  assert_int_equal(s->ngot, len);
  for (i = 0; i < len; i++) {
    if (s->got[i] != legpair_byte(i)) {
      fail_msg("byte %zu of %zu out of order", i, len);
    }
  }
}


void legpair_close(lp_fx_t *fx) {
  int i;

  for (i = 0; i < fx->nsides; i++) {
    cp_leg_close(&fx->side[i].leg);
  }
  uv_close((uv_handle_t *)&fx->server, NULL);
  uv_close((uv_handle_t *)&fx->watchdog, NULL);
  assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
  for (i = 0; i < fx->nsides; i++) {
    lp_side_t *s = &fx->side[i];

    assert_int_equal(s->closed, 1);
    assert_false(s->leg.open);
    /* Every write request was called back (and freed). */
    assert_int_equal(s->leg.writes_pending, 0);
    cp_leg_free(&s->leg);
    free(s->got);
    s->got = NULL;
  }
  assert_int_equal(uv_loop_close(&fx->loop), 0);
}
