#include "net/listener.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/host.h"


static void on_connection(uv_stream_t *server, int status) {
  cp_listener_t *l = server->data;

  /* EMFILE and friends: the kernel keeps the connection queued. */
  l->on_accept(l, status);
}


int cp_listener_start(cp_listener_t *l, uv_loop_t *loop, const char *host,
                      uint16_t port, int backlog,
                      void (*on_accept)(cp_listener_t *l, int status),
                      void *data) {
  struct sockaddr_storage ss;
  int rc;

  memset(l, 0, sizeof(*l));
  l->on_accept = on_accept;
  l->data = data;
  if (cp_host_is_ipv6(host)) {
    rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
  } else {
    rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
  }
  if (rc != 0) {
    return rc;
  }
  rc = uv_tcp_init(loop, &l->tcp);
  if (rc != 0) {
    return rc;
  }
  l->tcp.data = l;
  l->open = 1;
  rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, 0);
  if (rc == 0) {
    rc = uv_listen((uv_stream_t *)&l->tcp, backlog, on_connection);
  }
  return rc;
}


int cp_listener_adopt(cp_listener_t *l, uv_loop_t *loop, int fd, int backlog,
                      void (*on_accept)(cp_listener_t *l, int status),
                      void *data) {
  int rc;

  memset(l, 0, sizeof(*l));
  l->on_accept = on_accept;
  l->data = data;
  rc = uv_tcp_init(loop, &l->tcp);
  if (rc != 0) {
    close(fd);
    return rc;
  }
  l->tcp.data = l;
  l->open = 1;
  rc = uv_tcp_open(&l->tcp, fd);
  if (rc != 0) {
    close(fd);
    return rc;
  }
  return uv_listen((uv_stream_t *)&l->tcp, backlog, on_connection);
}


static int addr_of(const char *host, uint16_t port, struct sockaddr_storage *ss,
                   socklen_t *len) {
  memset(ss, 0, sizeof(*ss));
  if (cp_host_is_ipv6(host)) {
    *len = sizeof(struct sockaddr_in6);
    return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss);
  }
  *len = sizeof(struct sockaddr_in);
  return uv_ip4_addr(host, port, (struct sockaddr_in *)ss);
}


/* A socket bound to ss, with SO_REUSEPORT when reuse is set. */
static int bound_socket(const struct sockaddr_storage *ss, socklen_t len,
                        int reuse, int *out) {
  int one = 1;
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0) {
    return -errno;
  }
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      (reuse &&
       setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
      bind(fd, (const struct sockaddr *)ss, len) != 0) {
    int e = -errno;

    close(fd);
    return e;
  }
  *out = fd;
  return 0;
}


int cp_listener_reuseport(const char *host, uint16_t port, int n, int *fds) {
  struct sockaddr_storage ss;
  socklen_t len;
  int probe = -1, rc, i;

  rc = addr_of(host, port, &ss, &len);
  if (rc != 0) {
    return rc;
  }
  /* Without SO_REUSEPORT, so a port in use (by any process) is an error
   * and not silently shared. */
  rc = bound_socket(&ss, len, 0, &probe);
  if (rc != 0) {
    return rc;
  }
  if (port == 0) {
    socklen_t l2 = len;

    getsockname(probe, (struct sockaddr *)&ss, &l2);
  }
  close(probe);
  for (i = 0; i < n; i++) {
    rc = bound_socket(&ss, len, 1, &fds[i]);
    if (rc != 0) {
      while (i-- > 0) {
        close(fds[i]);
      }
      return rc;
    }
  }
  return 0;
}


static void on_tcp_closed(uv_handle_t *h) {
  cp_listener_t *l = h->data;

  if (l->on_closed != NULL) {
    l->on_closed(l);
  }
}


void cp_listener_stop(cp_listener_t *l, void (*on_closed)(cp_listener_t *l)) {
  if (!l->open) {
    return;
  }
  l->open = 0;
  l->on_closed = on_closed;
  uv_close((uv_handle_t *)&l->tcp, on_tcp_closed);
}
