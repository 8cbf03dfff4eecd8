#include "net/shape.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

typedef struct chunk_s chunk_t;
typedef struct line_s line_t;

struct chunk_s {
  chunk_t *next;
  uint64_t due; /* loop time, ms */
  size_t len;
  char data[];
};

struct line_s {
  cp_shape_t *sh;
  cp_leg_t *leg; /* borrowed; NULL: not attached */
  chunk_t *head, *tail;
  uint64_t last_due; /* bytes never overtake each other */
  uint64_t taken;    /* bytes accepted into the line */
  unsigned cut : 1;  /* the budget ends with the last chunk */
};

struct cp_shape_s {
  uv_timer_t timer; /* embedded */
  cp_shape_cfg_t cfg;
  line_t line[2]; /* [0]: to the client, [1]: to the upstream */
  uint64_t rng;
  unsigned reset_done : 1;
  void (*on_closed)(void *arg);
  void *closed_arg;
};


static void drop(line_t *l) {
  chunk_t *c = l->head, *next;

  for (; c != NULL; c = next) {
    next = c->next;
    free(c);
  }
  l->head = l->tail = NULL;
}


/* xorshift64*: jitter needs spread, not secrecy. */
static uint64_t next_rand(cp_shape_t *sh) {
  sh->rng ^= sh->rng >> 12;
  sh->rng ^= sh->rng << 25;
  sh->rng ^= sh->rng >> 27;
  return sh->rng * 2685821657736338717ULL;
}


static uint64_t delay(cp_shape_t *sh) {
  int64_t d = sh->cfg.latency_ms;

  if (sh->cfg.jitter_ms > 0) {
    d += (int64_t)(next_rand(sh) % (2 * (uint64_t)sh->cfg.jitter_ms + 1)) -
         (int64_t)sh->cfg.jitter_ms;
  }
  return d > 0 ? (uint64_t)d : 0;
}


static void on_timer(uv_timer_t *t);


static void rearm(cp_shape_t *sh) {
  uint64_t now = uv_now(sh->timer.loop), when = UINT64_MAX;
  int i;

  for (i = 0; i < 2; i++) {
    const line_t *l = &sh->line[i];

    if (l->head != NULL && l->head->due < when) {
      when = l->head->due;
    } else if (l->head == NULL && l->cut && !sh->reset_done) {
      when = now;
    }
  }
  if (when == UINT64_MAX) {
    uv_timer_stop(&sh->timer);
    return;
  }
  uv_timer_start(&sh->timer, on_timer, when > now ? when - now : 0, 0);
}


static void flush_line(cp_shape_t *sh, line_t *l, uint64_t now) {
  while (l->head != NULL && l->head->due <= now) {
    chunk_t *c = l->head;

    l->head = c->next;
    if (l->head == NULL) {
      l->tail = NULL;
    }
    if (l->leg != NULL && l->leg->open && !l->leg->closing) {
      cp_leg_release(l->leg, c->data, c->len, c->len);
    }
    free(c);
  }
  if (l->head == NULL && l->cut && !sh->reset_done) {
    sh->reset_done = 1;
    if (sh->cfg.on_reset != NULL) {
      sh->cfg.on_reset(sh->cfg.arg);
    }
  }
}


static void on_timer(uv_timer_t *t) {
  cp_shape_t *sh = t->data;
  uint64_t now = uv_now(t->loop);

  flush_line(sh, &sh->line[0], now);
  flush_line(sh, &sh->line[1], now);
  if (!uv_is_closing((uv_handle_t *)&sh->timer)) {
    rearm(sh);
  }
}


static int enqueue(line_t *l, const char *data, size_t len, uint64_t due) {
  chunk_t *c = malloc(sizeof(*c) + len);

  if (c == NULL) {
    return CP_ENOMEM;
  }
  c->next = NULL;
  c->due = due;
  c->len = len;
  memcpy(c->data, data, len);
  if (l->tail != NULL) {
    l->tail->next = c;
  } else {
    l->head = c;
  }
  l->tail = c;
  cp_leg_hold(l->leg, len);
  return 0;
}


/* The leg hook: each slice is due after the latency, and with a rate
 * after the slices before it have had their time on the wire. */
static int shape_send(cp_leg_t *leg, const char *data, size_t len, void *arg) {
  line_t *l = arg;
  cp_shape_t *sh = l->sh;
  uint64_t now = uv_now(sh->timer.loop);
  size_t slice;
  int rc;

  if (l->cut) {
    return 0; /* past the budget: the reset is coming */
  }
  if (l == &sh->line[0] && sh->cfg.reset_after > 0 &&
      l->taken + len >= sh->cfg.reset_after) {
    len = (size_t)(sh->cfg.reset_after - l->taken);
    l->cut = 1;
  }
  l->taken += len;
  if (sh->cfg.latency_ms == 0 && sh->cfg.rate == 0 && l->head == NULL) {
    rc = len > 0 ? cp_leg_release(leg, data, len, 0) : 0;
    if (l->cut) {
      rearm(sh); /* the reset, from the loop, not from inside a write */
    }
    return rc;
  }
  /* 50 ms of the rate per slice keeps the flow smooth. */
  slice = sh->cfg.rate > 0 ? (size_t)(sh->cfg.rate / 20) : len;
  if (slice < 512) {
    slice = 512;
  }
  while (len > 0) {
    size_t n = len < slice ? len : slice;
    uint64_t due = now + delay(sh);

    if (due < l->last_due) {
      due = l->last_due;
    }
    if (sh->cfg.rate > 0) {
      due += (n * 1000 + sh->cfg.rate - 1) / sh->cfg.rate;
    }
    l->last_due = due;
    rc = enqueue(l, data, n, due);
    if (rc != 0) {
      return rc;
    }
    data += n;
    len -= n;
  }
  rearm(sh);
  return 0;
}


static const cp_leg_hook_t hook = {shape_send};


int cp_shape_new(cp_shape_t **out, uv_loop_t *loop, const cp_shape_cfg_t *cfg) {
  cp_shape_t *sh = calloc(1, sizeof(*sh));
  int rc;

  *out = NULL;
  if (sh == NULL) {
    return CP_ENOMEM;
  }
  rc = uv_timer_init(loop, &sh->timer);
  if (rc != 0) {
    free(sh);
    return rc;
  }
  sh->timer.data = sh;
  sh->cfg = *cfg;
  sh->rng = (uint64_t)(uintptr_t)sh ^ uv_hrtime() ^ 0x9e3779b97f4a7c15ULL;
  if (sh->rng == 0) {
    sh->rng = 1;
  }
  sh->line[0].sh = sh->line[1].sh = sh;
  *out = sh;
  return 0;
}


void cp_shape_attach(cp_shape_t *sh, cp_leg_t *leg, int to_client) {
  line_t *l = &sh->line[to_client ? 0 : 1];

  drop(l); /* bytes for a leg that was closed and made anew */
  l->leg = leg;
  l->last_due = 0;
  leg->hook = &hook;
  leg->hook_arg = l;
}


static void on_closed(uv_handle_t *h) {
  cp_shape_t *sh = h->data;
  void (*cb)(void *arg) = sh->on_closed;
  void *arg = sh->closed_arg;

  drop(&sh->line[0]);
  drop(&sh->line[1]);
  free(sh);
  if (cb != NULL) {
    cb(arg);
  }
}


void cp_shape_close(cp_shape_t *sh, void (*cb)(void *arg), void *arg) {
  int i;

  if (uv_is_closing((uv_handle_t *)&sh->timer)) {
    return;
  }
  for (i = 0; i < 2; i++) {
    if (sh->line[i].leg != NULL) {
      sh->line[i].leg->hook = NULL;
      sh->line[i].leg = NULL;
    }
  }
  sh->on_closed = cb;
  sh->closed_arg = arg;
  uv_timer_stop(&sh->timer);
  uv_close((uv_handle_t *)&sh->timer, on_closed);
}
