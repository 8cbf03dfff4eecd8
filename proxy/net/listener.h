/* A TCP listener: binds an IP literal and port and calls the owner for
 * each connection waiting to be accepted (or an accept error). The handle
 * is embedded; closing is asynchronous and on_closed says when the memory
 * may go. Used by the proxy and by the control API. */
#ifndef CP_LISTENER_H
#define CP_LISTENER_H

#include <stdint.h>

#include <uv.h>

typedef struct cp_listener_s cp_listener_t;

struct cp_listener_s {
  uv_tcp_t tcp; /* embedded; tcp.data = this listener */
  void (*on_accept)(cp_listener_t *l, int status);
  void (*on_closed)(cp_listener_t *l);
  void *data; /* the owner's */
  unsigned open : 1;
};

/* Returns 0 or a libuv error; on error the handle may be open and must be
 * closed with cp_listener_stop. */
int cp_listener_start(cp_listener_t *l, uv_loop_t *loop, const char *host,
                      uint16_t port, int backlog,
                      void (*on_accept)(cp_listener_t *l, int status),
                      void *data);
/* Listens on fd, a socket already bound (one of a SO_REUSEPORT group);
 * the listener owns it from here, even on error. */
int cp_listener_adopt(cp_listener_t *l, uv_loop_t *loop, int fd, int backlog,
                      void (*on_accept)(cp_listener_t *l, int status),
                      void *data);
/* n sockets bound to host:port with SO_REUSEPORT, for n listeners that
 * share the port (the kernel spreads connections over them). A port that
 * another socket holds is refused as EADDRINUSE, as a plain bind would,
 * and port 0 is chosen once for all. Returns 0 or a libuv error (no fd
 * left open). */
int cp_listener_reuseport(const char *host, uint16_t port, int n, int *fds);
/* Stops accepting; on_closed (may be NULL) runs when the handle is
 * closed, and not at all if it never opened (l->open says). Idempotent. */
void cp_listener_stop(cp_listener_t *l, void (*on_closed)(cp_listener_t *l));

#endif
