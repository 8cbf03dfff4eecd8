/* Test fixture for the transport tests: a real libuv loop, a watchdog
 * that fails a test instead of letting it hang, and pairs of cp_leg_t
 * joined by real TCP connections on 127.0.0.1 (cp_leg_t embeds a
 * uv_tcp_t, so a socketpair() would not be its own kind of socket). Each
 * side records what its leg reports. The fixture owns the loop, the
 * listener and every side; legpair_close closes them all and asserts
 * that the loop closes with no handle left. */
#ifndef CP_TEST_LEGPAIR_H
#define CP_TEST_LEGPAIR_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "net/leg.h"

#define LP_SIDES 4
#define LP_WATCHDOG_MS 10000

typedef struct lp_side_s lp_side_t;
typedef struct lp_fx_s lp_fx_t;

struct lp_side_s {
  cp_leg_t leg;
  lp_fx_t *fx; /* borrowed */
  char *got;   /* owned: every byte on_data delivered */
  size_t ngot, cap;
  uint64_t first_ms, last_ms; /* uv_now at the first and last on_data */
  int ndata;
  int eof, nerror, err, connected, connect_status, ndrained, closed;
  size_t got_at_eof;
  /* Optional: called after each on_data with the loop time. */
  void (*check)(const lp_side_t *s, uint64_t now);
  uint64_t t0; /* for check: a test's start time */
};

struct lp_fx_s {
  uv_loop_t loop;
  uv_tcp_t server;
  uv_timer_t watchdog;
  struct sockaddr_in addr; /* the listener's */
  lp_side_t side[LP_SIDES];
  int nsides;      /* initialised */
  int accept_into; /* the side the next accept fills */
  /* Optional: takes each connection instead of a side (a conn under
   * test accepts it). */
  void (*on_accept)(lp_fx_t *fx, uv_stream_t *server);
  void *data; /* the test's */
};

void legpair_open(lp_fx_t *fx);
/* Initialises side[i]'s leg (not connected). */
void legpair_side_init(lp_fx_t *fx, int i);
/* Connects side[i] to side[j] (j accepted); both connected on return. */
void legpair_connect(lp_fx_t *fx, int i, int j);
/* Runs the loop one step at a time until *flag (an int) is nonzero. */
void legpair_run_until(lp_fx_t *fx, const int *flag);
void legpair_run_until_bytes(lp_fx_t *fx, lp_side_t *s, size_t n);
/* Runs the loop until the side's leg has nothing left to send. */
void legpair_run_until_idle(lp_fx_t *fx, lp_side_t *s);
/* Runs the loop for ms milliseconds of loop time. */
void legpair_run_for(lp_fx_t *fx, uint64_t ms);
/* Byte i of a test stream: distinct enough to show reordering. */
char legpair_byte(size_t i);
char *legpair_pattern(size_t off, size_t len);
void legpair_assert_pattern(const lp_side_t *s, size_t len);
/* Closes every leg, the listener and the watchdog, runs the loop to
 * completion and asserts uv_loop_close() == 0. */
void legpair_close(lp_fx_t *fx);

#endif
