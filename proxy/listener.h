/* The proxy listener: binds ctx->listener and hands each accepted socket
 * to cp_conn_accept(). The handle is embedded in the ctx; closing it is
 * part of cp_server shutdown. */
#ifndef CP_LISTENER_H
#define CP_LISTENER_H

#include "ctx.h"

/* Returns 0 or a libuv error (the caller reports it and exits 1). */
int cp_listener_start(cp_ctx_t *ctx, const char *host, uint16_t port);
/* Stops accepting; cb runs when the handle is closed. */
void cp_listener_stop(cp_ctx_t *ctx, uv_close_cb cb);

#endif
