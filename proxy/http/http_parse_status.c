/* A response head parsed on its own, for replies read before a tunnel
 * (a parent proxy's answer to CONNECT). Part of the http_parse family: with
 * http_parse.c, the only files that include http_parser.h. */
#include "http/http_parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"


typedef struct status_ctx_s {
  cp_http_status_t *st;
  const char *want; /* the field whose values are kept */
  char *value;
  size_t cap;
  int in_want; /* the last field name was want */
  int done;
} status_ctx_t;


static int on_status_reason(http_parser *p, const char *at, size_t len) {
  status_ctx_t *x = p->data;
  size_t l = strlen(x->st->reason);

  snprintf(x->st->reason + l, sizeof(x->st->reason) - l, "%.*s", (int)len, at);
  return 0;
}


static int on_status_field(http_parser *p, const char *at, size_t len) {
  status_ctx_t *x = p->data;

  x->in_want = x->want != NULL && strlen(x->want) == len &&
               strncasecmp(at, x->want, len) == 0;
  return 0;
}


static int on_status_value(http_parser *p, const char *at, size_t len) {
  status_ctx_t *x = p->data;
  size_t l;

  if (x->in_want && x->cap > 0) {
    l = strlen(x->value);
    snprintf(x->value + l, x->cap - l, "%.*s", (int)len, at);
  }
  return 0;
}


static int on_status_head_done(http_parser *p) {
  status_ctx_t *x = p->data;

  x->done = 1;
  return 1; /* no body is read: what follows is not this head's */
}


int cp_http_status_parse(cp_http_status_t *st, const char *head, size_t len,
                         const char *want, char *value, size_t cap) {
  http_parser_settings s;
  http_parser p;
  status_ctx_t x;

  memset(st, 0, sizeof(*st));
  if (cap > 0) {
    value[0] = '\0';
  }
  memset(&s, 0, sizeof(s));
  s.on_status = on_status_reason;
  s.on_header_field = on_status_field;
  s.on_header_value = on_status_value;
  s.on_headers_complete = on_status_head_done;
  memset(&x, 0, sizeof(x));
  x.st = st;
  x.want = want;
  x.value = value;
  x.cap = cap;
  http_parser_init(&p, HTTP_RESPONSE);
  p.data = &x;
  http_parser_execute(&p, &s, head, len);
  if (!x.done || HTTP_PARSER_ERRNO(&p) != HPE_OK) {
    return CP_EHTTP;
  }
  st->code = (int)p.status_code;
  st->major = p.http_major;
  st->minor = p.http_minor;
  return 0;
}
