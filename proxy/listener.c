#include "listener.h"

#include <string.h>

#include "conn.h"


static void on_connection(uv_stream_t *server, int status) {
  cp_ctx_t *ctx = server->data;

  if (status < 0) {
    /* EMFILE and friends: the kernel keeps the connection queued. */
    cp_log(&ctx->log, CP_LOG_WARN, 0, NULL, "accepting", "accept: %s",
           uv_strerror(status));
    return;
  }
  cp_conn_accept(ctx);
}


int cp_listener_start(cp_ctx_t *ctx, const char *host, uint16_t port) {
  struct sockaddr_storage ss;
  int rc;

  if (strchr(host, ':') != NULL) {
    rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
  } else {
    rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
  }
  if (rc != 0) {
    return rc;
  }
  rc = uv_tcp_init(ctx->loop, &ctx->listener);
  if (rc != 0) {
    return rc;
  }
  ctx->listener.data = ctx;
  ctx->open_handles++;
  ctx->listening = 1;
  rc = uv_tcp_bind(&ctx->listener, (const struct sockaddr *)&ss, 0);
  if (rc == 0) {
    rc = uv_listen((uv_stream_t *)&ctx->listener, 511, on_connection);
  }
  return rc;
}


void cp_listener_stop(cp_ctx_t *ctx, uv_close_cb cb) {
  if (ctx->listening) {
    ctx->listening = 0;
    uv_close((uv_handle_t *)&ctx->listener, cb);
  }
}
