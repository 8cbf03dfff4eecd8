/* cp_leg_t: one TCP side of a connection (client or upstream). The leg
 * embeds its uv_tcp_t (handle.data points back at the leg), owns its read
 * buffer (or borrows its loop's: cp_leg_share_bufs) and every queued write, and
 * tells its owner what happened through a const callback table. Closing is
 * asynchronous: cb->on_closed runs when the handle is closed, and only then may
 * the owner free the leg's memory.
 *
 * Backpressure: when this leg's unsent bytes pass CP_WQ_HIGH, reading on
 * the peer leg stops; it resumes when they drop to CP_WQ_LOW. */
#ifndef CP_LEG_H
#define CP_LEG_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "tls/tls_io.h"

#define CP_LEG_RBUF (64 * 1024)
#define CP_WQ_HIGH (256 * 1024)
#define CP_WQ_LOW (64 * 1024)

typedef struct cp_leg_s cp_leg_t;
typedef struct cp_leg_cbs_s cp_leg_cbs_t;
typedef struct cp_leg_hook_s cp_leg_hook_t;

/* A delay line between the leg and its socket (shape.c): every wire byte
 * goes through send, which either sends it (cp_leg_release) or holds it
 * (cp_leg_hold) and releases it later. NULL: bytes go straight out. */
struct cp_leg_hook_s {
  int (*send)(cp_leg_t *leg, const char *data, size_t len, void *arg);
};

struct cp_leg_cbs_s {
  void (*on_data)(cp_leg_t *leg, const char *data, size_t len);
  void (*on_eof)(cp_leg_t *leg);
  void (*on_error)(cp_leg_t *leg, int err);
  void (*on_connect)(cp_leg_t *leg, int status);
  void (*on_drained)(cp_leg_t *leg); /* no write pending any more */
  void (*on_closed)(cp_leg_t *leg);
  void (*on_handshake)(cp_leg_t *leg); /* TLS bytes arrived mid-handshake */
};

struct cp_leg_s {
  uv_tcp_t tcp;               /* embedded; tcp.data = this leg */
  uv_connect_t connect_req;   /* embedded; one connect at a time */
  uv_shutdown_t shutdown_req; /* embedded; one shutdown per socket */
  const cp_leg_cbs_t *cb;     /* borrowed, static */
  void *owner;                /* borrowed: the conn */
  cp_leg_t *peer;             /* borrowed: the other leg of the conn */
  char *rbuf;                 /* CP_LEG_RBUF bytes: owned, made on first
                                 read, unless borrowed (shared) */
  char *wire;                 /* borrowed: TLS output scratch, or NULL
                                 (rbuf is used) */
  char *plain;                /* borrowed: the ctx's plaintext scratch */
  cp_tls_t *tls;              /* owned; NULL for plain TCP */
  uint64_t bytes_in;          /* wire bytes read */
  uint64_t bytes_out;         /* wire bytes written */
  size_t writes_pending;      /* uv_write requests in flight */
  const cp_leg_hook_t *hook;  /* borrowed, static; NULL: none */
  void *hook_arg;             /* borrowed */
  size_t held;                /* bytes the hook holds back */
  unsigned open : 1;          /* handle initialised and not closed */
  unsigned closing : 1;       /* uv_close called */
  unsigned connected : 1;     /* usable for reads and writes */
  unsigned want_read : 1;     /* owner wants bytes */
  unsigned throttled : 1;     /* peer's write queue is full */
  unsigned reading : 1;       /* uv_read_start is in effect */
  unsigned eof : 1;           /* peer sent FIN */
  unsigned shut : 1;          /* we sent FIN (or asked to) */
  unsigned failed : 1;        /* a read or write error was reported */
  unsigned shared_bufs : 1;   /* rbuf and wire are the loop's */
  unsigned shut_wanted : 1;   /* shutdown waits for held bytes */
};

/* Initialises the handle. Accepted sockets are connected already; pass 1. */
int cp_leg_init(cp_leg_t *leg, uv_loop_t *loop, const cp_leg_cbs_t *cb,
                void *owner, cp_leg_t *peer);
int cp_leg_accept(cp_leg_t *leg, uv_stream_t *server);
int cp_leg_connect(cp_leg_t *leg, const struct sockaddr *addr);
/* Takes over fd, a connected socket (from cp_leg_detach): the leg is
 * connected at once. On error fd is still the caller's. */
int cp_leg_adopt(cp_leg_t *leg, uv_os_sock_t fd);
/* Gives up a healthy, quiet connected leg for reuse elsewhere: *fd a
 * duplicate of its socket, *tls its TLS session (the leg holds none
 * after), and closes the leg's handle. -1 (nothing changed) when the leg
 * is not connected, saw EOF or an error, sent FIN or still sends. */
int cp_leg_detach(cp_leg_t *leg, uv_os_sock_t *fd, cp_tls_t **tls);
void cp_leg_want_read(cp_leg_t *leg, int want);
/* Lends the leg its loop's two CP_LEG_RBUF scratch buffers: one that reads
 * land in, one that TLS output passes through. Both are consumed before a
 * callback returns, so every leg of a loop can share them, and an idle
 * leg holds no buffer at all. Call after cp_leg_init. */
void cp_leg_share_bufs(cp_leg_t *leg, char *rbuf, char *wire);
/* Sends bytes; the leg copies what the socket does not take at once. */
int cp_leg_write(cp_leg_t *leg, const char *data, size_t len);
/* Takes over tls (set0): from now on reads are decrypted and writes
 * encrypted. plain is a CP_LEG_RBUF scratch buffer the leg may borrow. */
void cp_leg_set0_tls(cp_leg_t *leg, cp_tls_t *tls, char *plain);
/* Drives the handshake and sends what it produced: CP_TLS_WANT,
 * CP_TLS_DONE, CP_TLS_HELLO or CP_ETLS. */
int cp_leg_handshake(cp_leg_t *leg);
/* Sends close_notify (TLS legs), then FIN once queued writes are out. */
void cp_leg_shutdown(cp_leg_t *leg);
void cp_leg_close(cp_leg_t *leg);
/* Releases memory; the handle must be closed (cb->on_closed ran). */
void cp_leg_free(cp_leg_t *leg);
/* Bytes not yet on the wire: the socket's queue and what a hook holds. */
size_t cp_leg_queued(const cp_leg_t *leg);
/* Something is still to be sent (writes in flight or held bytes). */
int cp_leg_busy(const cp_leg_t *leg);
/* A quiet leg gives back what its TLS session holds between records
 * (cp_tls_compact); nothing for a plain leg or one still sending. */
void cp_leg_compact(cp_leg_t *leg);
/* For hooks: len more bytes are held back (they count as queued, so the
 * peer stops reading when too many are); and bytes go out now, held_len
 * of them no longer held. */
void cp_leg_hold(cp_leg_t *leg, size_t len);
int cp_leg_release(cp_leg_t *leg, const char *data, size_t len,
                   size_t held_len);
/* Closes with a TCP reset (RST), as a middlebox that cuts a connection
 * does. */
void cp_leg_reset(cp_leg_t *leg);

#endif
