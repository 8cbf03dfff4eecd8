/* What chainproxy answers in the origin's place, and the request event of
 * each exchange: an error with its stable code and readable body, or a
 * page of its own (a web filter's block page). Every state module answers
 * through here; the connection closes after the answer. */
#ifndef CP_CONN_RESPOND_H
#define CP_CONN_RESPOND_H

#include "conn/conn.h"

/* Answers with status, a stable code and a readable body (msg, then
 * detail), records the error and the request, and closes. */
void cp_conn_respond(cp_conn_t *c, int status, const char *code,
                     const char *msg, const char *detail);
/* The same with a page of its own (a block page): body of type type. */
void cp_conn_respond_page(cp_conn_t *c, int status, const char *code,
                          const char *msg, const char *type, const char *body);
void cp_conn_respond_error(cp_conn_t *c, int status, const char *code,
                           const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The text/plain body of an error appended to b: "chainproxy: msg", a
 * line, then detail (NULL: none), escaped (esc.h) so that no peer byte
 * reaches the client's terminal raw. 0, or -1 when b is full. */
int cp_conn_error_body(cp_buf_t *b, const char *msg, const char *detail);
/* The request event of the current exchange (status 0: no response),
 * once its head was seen; outcome: "ok" or why it ended early. */
void cp_conn_emit_request(cp_conn_t *c, int status, const char *outcome);

#endif
