/* Server lifecycle on one loop: opens the event log, starts the listener,
 * handles SIGINT/SIGTERM (stop accepting, let in-flight connections finish
 * within --grace, then close them) and tears everything down so that
 * uv_loop_close() succeeds. */
#ifndef CP_SERVER_H
#define CP_SERVER_H

#include "ctx.h"

/* Returns 0, or an error after printing one line to stderr. Whatever was
 * opened is released by cp_server_close(), which is always called. */
int cp_server_init(cp_ctx_t *ctx, uv_loop_t *loop, const cp_config_t *cfg);
int cp_server_run(cp_ctx_t *ctx);
/* Begins a graceful shutdown (also what the signals do). */
void cp_server_shutdown(cp_ctx_t *ctx);
/* Closes what is left and runs the loop until every handle is closed.
 * Returns 0, or CP_EIO when the event log could not be written. */
int cp_server_close(cp_ctx_t *ctx);

#endif
