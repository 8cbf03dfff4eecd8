/* The connection state machine. conn_states.c is only the proxy's table
 * of per-state handlers; the transitions themselves are conn.c's frame
 * (cp_conn_go_state, the closing state, dispatch to the current row, the
 * defaults for empty handlers, the one free). The frame is driven here on
 * a real loop through a table of fake states installed in the env, with a
 * real client on 127.0.0.1 (a leg embeds its uv_tcp_t, so a fake leg would
 * not be one): every conn is freed, its close event says why, and the
 * loop closes with no handle left. The real table is checked for shape:
 * a row with an action and an entry for every state but CLOSING. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conn/conn.h"
#include "conn/conn_states.h"
#include "legpair.h"


typedef struct env_fx_s {
  lp_fx_t lp;
  cp_conn_env_t env;
  cp_config_t cfg;
  cp_log_t log;
  cp_events_t events;
  cp_stats_t stats;
  cp_snaps_t snaps;
  cp_rules_t rules;
  char trail[64];  /* states entered, one letter each */
  char reason[64]; /* the close event's "reason" */
  int nclosed;     /* close events */
  int drained;     /* env->on_drained ran */
  int after_close; /* go_state from CLOSING changed nothing */
} env_fx_t;


static env_fx_t *fx_of(cp_conn_t *c) {
  return c->env->data;
}


static void mark(cp_conn_t *c, char ch) {
  env_fx_t *f = fx_of(c);
  size_t n = strlen(f->trail);

  assert_true(n + 1 < sizeof(f->trail));
  f->trail[n] = ch;
}


/* READ_REQUEST: reads; "go" moves on to TUNNEL with what came. */
static void read_entry(cp_conn_t *c) {
  mark(c, 'R');
  cp_leg_want_read(&c->client, 1);
  cp_conn_arm_timer(c);
}


static void read_data(cp_conn_t *c, cp_leg_t *leg, const char *d, size_t n) {
  assert_ptr_equal(leg, &c->client);
  if (n >= 2 && memcmp(d, "go", 2) == 0) {
    cp_conn_go_state(c, CP_CONN_TUNNEL);
  }
}


/* TUNNEL: echoes; the client's FIN finishes the conn. */
static void tunnel_entry(cp_conn_t *c) {
  mark(c, 'T');
}


static void tunnel_data(cp_conn_t *c, cp_leg_t *leg, const char *d, size_t n) {
  assert_int_equal(cp_leg_write(leg, d, n), 0);
  (void)c;
}


static void tunnel_eof(cp_conn_t *c, cp_leg_t *leg) {
  (void)leg;
  cp_conn_finish(c, "test_done");
  assert_int_equal(c->state, CP_CONN_CLOSING);
  /* There is no way back from closing. */
  cp_conn_go_state(c, CP_CONN_TUNNEL);
  fx_of(c)->after_close = c->state == CP_CONN_CLOSING;
}


static void fake_start(cp_conn_t *c) {
  mark(c, 'S');
  cp_conn_go_state(c, CP_CONN_READ_REQUEST);
}


static const cp_conn_state_ops_t fake_states[CP_CONN_CLOSING] = {
    [CP_CONN_READ_REQUEST] = {.action = "test reading",
                              .entry = read_entry,
                              .on_data = read_data},
    [CP_CONN_TUNNEL] = {.action = "test tunnel",
                        .entry = tunnel_entry,
                        .on_data = tunnel_data,
                        .on_eof = tunnel_eof},
};


static void on_event(void *arg, uint64_t id, const char *kind, const char *json,
                     size_t len) {
  env_fx_t *f = arg;
  const char *r;
  size_t n;

  (void)id;
  (void)len;
  if (strcmp(kind, "close") != 0) {
    return;
  }
  f->nclosed++;
  r = strstr(json, "\"reason\":\"");
  assert_non_null(r);
  r += strlen("\"reason\":\"");
  n = strcspn(r, "\"");
  assert_true(n < sizeof(f->reason));
  memcpy(f->reason, r, n);
  f->reason[n] = '\0';
}


static void on_accept(lp_fx_t *lp, uv_stream_t *server) {
  env_fx_t *f = lp->data;

  cp_conn_accept(&f->env, server);
}


static void on_env_drained(cp_conn_env_t *env) {
  ((env_fx_t *)env->data)->drained = 1;
}


static env_fx_t *env_open(void) {
  env_fx_t *f = calloc(1, sizeof(*f));
  cp_snap_data_t *data = calloc(1, sizeof(*data));
  uint64_t now;

  assert_non_null(f);
  assert_non_null(data);
  data->refs = 1; /* as cp_snap_data_load leaves it */
  legpair_open(&f->lp);
  f->lp.data = f;
  f->lp.on_accept = on_accept;
  cp_config_defaults(&f->cfg);
  f->log.level = CP_LOG_ERROR;
  assert_int_equal(cp_events_open(&f->events, NULL), 0);
  assert_int_equal(cp_events_ring_init(&f->events, 16), 0);
  cp_events_listen(&f->events, on_event, f, &now);
  assert_int_equal(cp_snaps_init(&f->snaps, &f->rules, data), 0);
  f->env.loop = &f->lp.loop;
  f->env.cfg = &f->cfg;
  f->env.log = &f->log;
  f->env.events = &f->events;
  f->env.stats = &f->stats;
  f->env.snaps = &f->snaps;
  f->env.states = fake_states;
  f->env.start = fake_start;
  f->env.on_drained = on_env_drained;
  f->env.data = f;
  return f;
}


/* A client (side 0) connects; the conn is set up on accept. */
static cp_conn_t *client_connect(env_fx_t *f) {
  legpair_side_init(&f->lp, 0);
  assert_int_equal(
      cp_leg_connect(&f->lp.side[0].leg, (const struct sockaddr *)&f->lp.addr),
      0);
  legpair_run_until(&f->lp, &f->lp.side[0].connected);
  assert_int_equal(f->lp.side[0].connect_status, 0);
  while (f->env.nconns == 0) {
    uv_run(&f->lp.loop, UV_RUN_ONCE);
  }
  cp_leg_want_read(&f->lp.side[0].leg, 1);
  return f->env.conns;
}


static void wait_freed(env_fx_t *f) {
  while (f->env.nconns > 0) {
    uv_run(&f->lp.loop, UV_RUN_ONCE);
  }
}


static void env_close(env_fx_t *f) {
  assert_int_equal(f->env.nconns, 0);
  assert_null(f->env.conns);
  legpair_close(&f->lp);
  cp_snaps_free(&f->snaps);
  cp_rules_free(&f->rules);
  cp_events_listen(&f->events, NULL, NULL, NULL);
  assert_int_equal(cp_events_close(&f->events), 0);
  free(f);
}


/* start -> READ_REQUEST -> TUNNEL -> CLOSING, each entry once, data
 * dispatched to the current state's row; the client's FIN finishes the
 * conn, which shuts its side and is freed once the client has closed. */
static void test_transitions(void **state) {
  env_fx_t *f = env_open();
  cp_conn_t *c;

  (void)state;
  c = client_connect(f);
  assert_int_equal(c->state, CP_CONN_READ_REQUEST);
  assert_string_equal(c->action, "test reading");
  assert_string_equal(f->trail, "SR");
  assert_int_equal(cp_leg_write(&f->lp.side[0].leg, "go", 2), 0);
  while (c->state != CP_CONN_TUNNEL) {
    uv_run(&f->lp.loop, UV_RUN_ONCE);
  }
  assert_string_equal(f->trail, "SRT");
  assert_string_equal(c->action, "test tunnel");
  /* Now TUNNEL's row gets the bytes: they come back. */
  assert_int_equal(cp_leg_write(&f->lp.side[0].leg, "ping", 4), 0);
  legpair_run_until_bytes(&f->lp, &f->lp.side[0], 4);
  assert_memory_equal(f->lp.side[0].got, "ping", 4);
  c = NULL; /* freed once the client is gone: not used again */
  cp_leg_shutdown(&f->lp.side[0].leg);
  legpair_run_until(&f->lp, &f->lp.side[0].eof); /* the conn's FIN */
  assert_true(f->after_close);
  cp_leg_close(&f->lp.side[0].leg);
  wait_freed(f);
  assert_int_equal(f->nclosed, 1);
  assert_string_equal(f->reason, "test_done");
  assert_string_equal(f->trail, "SRT");
  env_close(f);
}


/* A row without on_error takes conn.c's default: the conn fails with
 * "client_error" and is freed (a reset needs no linger). */
static void test_default_error(void **state) {
  env_fx_t *f = env_open();

  (void)state;
  client_connect(f);
  cp_leg_reset(&f->lp.side[0].leg);
  wait_freed(f);
  assert_int_equal(f->nclosed, 1);
  assert_string_equal(f->reason, "client_error");
  assert_string_equal(f->trail, "SR");
  env_close(f);
}


/* A row without on_timeout: the state's timeout aborts the conn with
 * "idle_timeout" (not before the timeout: a lower bound). */
static void test_default_timeout(void **state) {
  env_fx_t *f = env_open();
  uint64_t t0;

  (void)state;
  f->cfg.idle_timeout_ms = 100;
  client_connect(f);
  t0 = f->env.conns->t_start;
  legpair_run_until(&f->lp, &f->lp.side[0].eof);
  assert_true(uv_now(&f->lp.loop) >= t0 + 100);
  cp_leg_close(&f->lp.side[0].leg);
  wait_freed(f);
  assert_string_equal(f->reason, "idle_timeout");
  env_close(f);
}


/* Shutdown of an idle conn finishes it; the env hears when the last
 * conn is gone. */
static void test_shutdown_idle(void **state) {
  env_fx_t *f = env_open();

  (void)state;
  client_connect(f);
  f->env.shutting_down = 1;
  cp_conn_shutdown(f->env.conns);
  assert_int_equal(f->env.conns->state, CP_CONN_CLOSING);
  legpair_run_until(&f->lp, &f->lp.side[0].eof);
  assert_false(f->drained); /* lingers until the client closes */
  cp_leg_close(&f->lp.side[0].leg);
  legpair_run_until(&f->lp, &f->drained);
  assert_string_equal(f->reason, "shutdown");
  env_close(f);
}


/* The proxy's table: every state but CLOSING has a row with an action
 * and an entry, and new conns start in conn_http. */
static void test_real_table(void **state) {
  cp_conn_env_t env;
  int st;

  (void)state;
  memset(&env, 0, sizeof(env));
  cp_conn_states_install(&env);
  assert_non_null(env.states);
  assert_non_null(env.start);
  for (st = 0; st < CP_CONN_CLOSING; st++) {
    assert_non_null(env.states[st].action);
    assert_non_null(env.states[st].entry);
  }
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transitions),
      cmocka_unit_test(test_default_error),
      cmocka_unit_test(test_default_timeout),
      cmocka_unit_test(test_shutdown_idle),
      cmocka_unit_test(test_real_table),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
