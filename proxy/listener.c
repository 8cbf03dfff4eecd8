#include "listener.h"

#include <string.h>

#include "host.h"


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
