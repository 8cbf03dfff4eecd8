/* A delay line for one connection's two legs, as a slow or hostile network
 * path behaves: every wire byte written to a leg is held until it is due
 * (a latency with jitter, a rate in bytes per second), and the client
 * leg can be cut with a TCP reset after a budget of bytes. One libuv timer
 * serves both directions; bytes keep their order. The held bytes count as
 * the leg's queue, so the other side stops being read while too many wait.
 *
 * Ownership: the owner creates the shape with its loop, attaches legs
 * (again after a leg is re-initialised), and closes it once; the shape
 * frees itself after its timer closed and then calls on_closed. */
#ifndef CP_SHAPE_H
#define CP_SHAPE_H

#include <stdint.h>

#include <uv.h>

#include "net/leg.h"

typedef struct cp_shape_s cp_shape_t;
typedef struct cp_shape_cfg_s cp_shape_cfg_t;

struct cp_shape_cfg_s {
  unsigned latency_ms;  /* each direction */
  unsigned jitter_ms;   /* uniformly within +/- of latency_ms */
  uint64_t rate;        /* bytes per second each direction; 0: no cap */
  uint64_t reset_after; /* bytes to the client before a reset; 0: never */
  void (*on_reset)(void *arg); /* the budget was spent and sent */
  void *arg;
};

int cp_shape_new(cp_shape_t **out, uv_loop_t *loop, const cp_shape_cfg_t *cfg);
/* to_client: the leg whose bytes go to the client (the budget's). */
void cp_shape_attach(cp_shape_t *sh, cp_leg_t *leg, int to_client);
/* Drops what is held and frees the shape once its timer is closed;
 * on_closed(arg) runs then. */
void cp_shape_close(cp_shape_t *sh, void (*on_closed)(void *arg), void *arg);

#endif
