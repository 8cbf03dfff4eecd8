#include "net/leg.h"

#include <fcntl.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

typedef struct cp_wreq_s cp_wreq_t;

/* A write request owns its bytes; on_write frees it on every status. */
struct cp_wreq_s {
  uv_write_t req;
  size_t len;
  char data[];
};


static void leg_update_read(cp_leg_t *leg);
static void drain_tls(cp_leg_t *leg);


size_t cp_leg_queued(const cp_leg_t *leg) {
  if (!leg->open) {
    return 0;
  }
  return uv_stream_get_write_queue_size((const uv_stream_t *)&leg->tcp) +
         leg->held;
}


int cp_leg_busy(const cp_leg_t *leg) {
  return leg->writes_pending > 0 || leg->held > 0;
}


void cp_leg_compact(cp_leg_t *leg) {
  if (leg->tls != NULL && leg->open && !leg->closing && !cp_leg_busy(leg)) {
    cp_tls_compact(leg->tls);
  }
}


int cp_leg_init(cp_leg_t *leg, uv_loop_t *loop, const cp_leg_cbs_t *cb,
                void *owner, cp_leg_t *peer) {
  int rc;
  /* The buffers survive re-initialisation for a new upstream. */
  char *rbuf = leg->rbuf, *wire = leg->wire;
  unsigned shared = leg->shared_bufs;

  cp_tls_free(leg->tls);
  memset(leg, 0, sizeof(*leg));
  leg->rbuf = rbuf;
  leg->wire = wire;
  leg->shared_bufs = shared;
  leg->cb = cb;
  leg->owner = owner;
  leg->peer = peer;
  rc = uv_tcp_init(loop, &leg->tcp);
  if (rc != 0) {
    return rc;
  }
  leg->tcp.data = leg;
  leg->open = 1;
  return 0;
}


int cp_leg_accept(cp_leg_t *leg, uv_stream_t *server) {
  int rc = uv_accept(server, (uv_stream_t *)&leg->tcp);

  if (rc == 0) {
    leg->connected = 1;
    uv_tcp_nodelay(&leg->tcp, 1);
  }
  return rc;
}


static void on_connect(uv_connect_t *req, int status) {
  cp_leg_t *leg = req->handle->data;

  if (status == 0) {
    leg->connected = 1;
    uv_tcp_nodelay(&leg->tcp, 1);
    leg_update_read(leg);
  }
  leg->cb->on_connect(leg, status);
}


int cp_leg_adopt(cp_leg_t *leg, uv_os_sock_t fd) {
  int rc = uv_tcp_open(&leg->tcp, fd);

  if (rc == 0) {
    leg->connected = 1;
    uv_tcp_nodelay(&leg->tcp, 1);
    leg_update_read(leg);
  }
  return rc;
}


int cp_leg_detach(cp_leg_t *leg, uv_os_sock_t *fd, cp_tls_t **tls) {
  uv_os_fd_t own;

  if (!leg->open || leg->closing || !leg->connected || leg->eof ||
      leg->failed || leg->shut || leg->writes_pending > 0 || leg->held > 0 ||
      leg->hook != NULL || uv_fileno((uv_handle_t *)&leg->tcp, &own) != 0) {
    return -1;
  }
  /* uv_close takes the handle's descriptor out of the loop's epoll set
   * and closes it; the duplicate keeps the socket. */
  *fd = fcntl(own, F_DUPFD_CLOEXEC, 0);
  if (*fd < 0) {
    return -1;
  }
  *tls = leg->tls;
  leg->tls = NULL;
  cp_leg_close(leg);
  return 0;
}


int cp_leg_connect(cp_leg_t *leg, const struct sockaddr *addr) {
  return uv_tcp_connect(&leg->connect_req, &leg->tcp, addr, on_connect);
}


static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  cp_leg_t *leg = h->data;

  (void)hint;
  if (leg->rbuf == NULL) {
    leg->rbuf = malloc(CP_LEG_RBUF);
  }
  /* A NULL base makes libuv report UV_ENOBUFS to on_read. */
  *buf = uv_buf_init(leg->rbuf, leg->rbuf ? CP_LEG_RBUF : 0);
}


static void report_error(cp_leg_t *leg, int err) {
  if (leg->failed) {
    return;
  }
  leg->failed = 1;
  leg->cb->on_error(leg, err);
}


static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  cp_leg_t *leg = s->data;

  (void)buf;
  if (nread > 0) {
    leg->bytes_in += (uint64_t)nread;
    if (leg->tls == NULL) {
      leg->cb->on_data(leg, leg->rbuf, (size_t)nread);
      return;
    }
    if (cp_tls_feed(leg->tls, leg->rbuf, (size_t)nread) != 0) {
      report_error(leg, CP_ENOMEM);
      return;
    }
    if (!leg->tls->done) {
      leg->cb->on_handshake(leg);
    }
    if (leg->tls != NULL && leg->tls->done) {
      drain_tls(leg);
    }
    return;
  }
  if (nread == 0) {
    return; /* EAGAIN */
  }
  /* libuv stops reading by itself after EOF and errors. */
  uv_read_stop(s);
  leg->reading = 0;
  if (nread == UV_EOF) {
    leg->eof = 1;
    leg->cb->on_eof(leg);
  } else {
    report_error(leg, (int)nread);
  }
}


static void leg_update_read(cp_leg_t *leg) {
  int should = leg->open && !leg->closing && leg->connected && leg->want_read &&
               !leg->throttled && !leg->eof && !leg->failed;

  if (should && !leg->reading) {
    if (uv_read_start((uv_stream_t *)&leg->tcp, on_alloc, on_read) == 0) {
      leg->reading = 1;
    }
  } else if (!should && leg->reading) {
    uv_read_stop((uv_stream_t *)&leg->tcp);
    leg->reading = 0;
  }
}


void cp_leg_want_read(cp_leg_t *leg, int want) {
  leg->want_read = want ? 1 : 0;
  leg_update_read(leg);
}


static void throttle_peer(cp_leg_t *leg) {
  cp_leg_t *peer = leg->peer;
  size_t queued = cp_leg_queued(leg);

  if (peer == NULL) {
    return;
  }
  if (!peer->throttled && queued > CP_WQ_HIGH) {
    peer->throttled = 1;
    leg_update_read(peer);
  } else if (peer->throttled && queued <= CP_WQ_LOW) {
    peer->throttled = 0;
    leg_update_read(peer);
  }
}


static void on_write(uv_write_t *req, int status) {
  cp_wreq_t *w = (cp_wreq_t *)req;
  cp_leg_t *leg = req->handle->data;

  leg->writes_pending--;
  if (status == 0) {
    leg->bytes_out += w->len;
  }
  free(w);
  if (status == UV_ECANCELED) {
    return; /* the handle is closing */
  }
  if (status < 0) {
    report_error(leg, status);
    return;
  }
  throttle_peer(leg);
  if (leg->writes_pending == 0 && leg->held == 0 &&
      leg->cb->on_drained != NULL) {
    leg->cb->on_drained(leg);
  }
}


static int wire_send(cp_leg_t *leg, const char *data, size_t len) {
  cp_wreq_t *w;
  uv_buf_t b;
  int rc;

  if (!leg->open || leg->closing || !leg->connected || leg->shut ||
      leg->failed) {
    return UV_EPIPE;
  }
  if (len == 0) {
    return 0;
  }
  /* Most writes fit the socket buffer: try without copying first, but only
   * when nothing is queued, so bytes never overtake each other. */
  if (leg->writes_pending == 0) {
    b = uv_buf_init((char *)data, (unsigned)len);
    rc = uv_try_write((uv_stream_t *)&leg->tcp, &b, 1);
    if (rc > 0) {
      leg->bytes_out += (uint64_t)rc;
      data += rc;
      len -= (size_t)rc;
      if (len == 0) {
        return 0;
      }
    } else if (rc != UV_EAGAIN) {
      return rc;
    }
  }
  w = malloc(sizeof(*w) + len);
  if (w == NULL) {
    return CP_ENOMEM;
  }
  w->len = len;
  memcpy(w->data, data, len);
  b = uv_buf_init(w->data, (unsigned)len);
  rc = uv_write(&w->req, (uv_stream_t *)&leg->tcp, &b, 1, on_write);
  if (rc != 0) {
    free(w);
    return rc;
  }
  leg->writes_pending++;
  throttle_peer(leg);
  return 0;
}


static int raw_send(cp_leg_t *leg, const char *data, size_t len) {
  if (leg->hook != NULL && len > 0) {
    if (!leg->open || leg->closing || !leg->connected || leg->shut ||
        leg->failed) {
      return UV_EPIPE;
    }
    return leg->hook->send(leg, data, len, leg->hook_arg);
  }
  return wire_send(leg, data, len);
}


void cp_leg_hold(cp_leg_t *leg, size_t len) {
  leg->held += len;
  throttle_peer(leg);
}


static void do_shutdown(cp_leg_t *leg);


int cp_leg_release(cp_leg_t *leg, const char *data, size_t len,
                   size_t held_len) {
  int rc;

  leg->held -= held_len < leg->held ? held_len : leg->held;
  rc = wire_send(leg, data, len);
  if (rc != 0) {
    return rc;
  }
  throttle_peer(leg);
  if (leg->held == 0 && leg->shut_wanted) {
    leg->shut_wanted = 0;
    do_shutdown(leg);
  }
  if (leg->held == 0 && leg->writes_pending == 0 &&
      leg->cb->on_drained != NULL) {
    leg->cb->on_drained(leg);
  }
  return 0;
}


/* Sends what the TLS object produced. The bytes are read from the memory
 * BIO in slices into this leg's read buffer (whose bytes were fed to the
 * BIO before anything can flush), then handed to raw_send, which copies
 * only what the socket does not take at once. The plaintext scratch is
 * not used here: it may hold bytes the owner is still reading. */
static int flush_tls(cp_leg_t *leg) {
  size_t n;
  int rc;
  char *out;

  if (leg->rbuf == NULL && (leg->rbuf = malloc(CP_LEG_RBUF)) == NULL) {
    return CP_ENOMEM;
  }
  /* A shared read buffer may hold bytes an owner is still parsing (a
   * plaintext leg's read that led to this write): TLS output takes the
   * other buffer then. */
  out = leg->wire != NULL ? leg->wire : leg->rbuf;
  while (cp_tls_pending(leg->tls) > 0) {
    n = cp_tls_take(leg->tls, out, CP_LEG_RBUF);
    if (n == 0) {
      break;
    }
    rc = raw_send(leg, out, n);
    if (rc != 0) {
      return rc;
    }
  }
  return 0;
}


int cp_leg_write(cp_leg_t *leg, const char *data, size_t len) {
  int rc;

  if (leg->tls == NULL) {
    return raw_send(leg, data, len);
  }
  if (!leg->open || leg->closing || leg->shut || leg->failed) {
    return UV_EPIPE;
  }
  if (len == 0) {
    return 0;
  }
  rc = cp_tls_write(leg->tls, data, len);
  if (rc != 0) {
    return rc;
  }
  return flush_tls(leg);
}


void cp_leg_set0_tls(cp_leg_t *leg, cp_tls_t *tls, char *plain) {
  cp_tls_free(leg->tls);
  leg->tls = tls;
  leg->plain = plain;
}


int cp_leg_handshake(cp_leg_t *leg) {
  int rc = cp_tls_handshake(leg->tls);
  int frc = flush_tls(leg);

  if (frc != 0 && rc != CP_ETLS) {
    return CP_ETLS;
  }
  return rc;
}


/* Plaintext goes to the owner in slices; the scratch buffer is reused
 * for each, so owners copy what they keep (they do). */
static void drain_tls(cp_leg_t *leg) {
  size_t n;
  int rc;

  while (leg->open && !leg->closing && !leg->failed && !leg->eof) {
    rc = cp_tls_read(leg->tls, leg->plain, CP_LEG_RBUF, &n);
    if (flush_tls(leg) != 0) {
      report_error(leg, UV_EPIPE);
      return;
    }
    if (rc == CP_TLS_DONE) {
      leg->cb->on_data(leg, leg->plain, n);
    } else if (rc == CP_TLS_EOF) {
      leg->eof = 1;
      leg->cb->on_eof(leg);
      return;
    } else if (rc == CP_TLS_WANT) {
      cp_tls_idle(leg->tls);
      return;
    } else {
      report_error(leg, CP_ETLS);
      return;
    }
  }
}


static void on_shutdown(uv_shutdown_t *req, int status) {
  cp_leg_t *leg = req->handle->data;

  if (status < 0 && status != UV_ECANCELED && status != UV_ENOTCONN) {
    report_error(leg, status);
  }
}


void cp_leg_shutdown(cp_leg_t *leg) {
  if (!leg->open || leg->closing || !leg->connected || leg->shut ||
      leg->shut_wanted) {
    return;
  }
  if (leg->tls != NULL && leg->tls->done && !leg->failed) {
    cp_tls_close_notify(leg->tls);
    flush_tls(leg);
  }
  if (leg->held > 0) {
    leg->shut_wanted = 1; /* FIN after the held bytes */
    return;
  }
  do_shutdown(leg);
}


static void do_shutdown(cp_leg_t *leg) {
  if (!leg->open || leg->closing || !leg->connected || leg->shut) {
    return;
  }
  leg->shut = 1;
  if (uv_shutdown(&leg->shutdown_req, (uv_stream_t *)&leg->tcp, on_shutdown) !=
      0) {
    leg->shut = 0;
  }
}


static void on_closed(uv_handle_t *h) {
  cp_leg_t *leg = h->data;

  leg->open = 0;
  leg->closing = 0;
  leg->connected = 0;
  leg->reading = 0;
  leg->cb->on_closed(leg);
}


void cp_leg_close(cp_leg_t *leg) {
  if (!leg->open || leg->closing) {
    return;
  }
  leg->closing = 1;
  leg->held = 0; /* the hook drops what it holds for a closed leg */
  /* The peer may be waiting on this leg's queue; closing frees it. */
  if (leg->peer != NULL && leg->peer->throttled) {
    leg->peer->throttled = 0;
    leg_update_read(leg->peer);
  }
  uv_close((uv_handle_t *)&leg->tcp, on_closed);
}


void cp_leg_reset(cp_leg_t *leg) {
  if (!leg->open || leg->closing) {
    return;
  }
  leg->closing = 1;
  leg->held = 0;
  if (leg->peer != NULL && leg->peer->throttled) {
    leg->peer->throttled = 0;
    leg_update_read(leg->peer);
  }
  if (uv_tcp_close_reset(&leg->tcp, on_closed) != 0) {
    uv_close((uv_handle_t *)&leg->tcp, on_closed);
  }
}


void cp_leg_share_bufs(cp_leg_t *leg, char *rbuf, char *wire) {
  if (!leg->shared_bufs) {
    free(leg->rbuf);
  }
  leg->rbuf = rbuf;
  leg->wire = wire;
  leg->shared_bufs = 1;
}


void cp_leg_free(cp_leg_t *leg) {
  if (!leg->shared_bufs) {
    free(leg->rbuf);
  }
  leg->rbuf = NULL;
  leg->wire = NULL;
  cp_tls_free(leg->tls);
  leg->tls = NULL;
}
