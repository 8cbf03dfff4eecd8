/* HTTP/1.x parsing for the proxy, on http-parser. No sockets: bytes go in,
 * the rewritten message (what is forwarded to the other side) comes out in a
 * caller-owned cp_buf_t. A cp_http_msg_t owns its head storage and is freed
 * with cp_http_msg_free(). This header, http_parse.c and http_parse_status.c
 * are the only files that include http_parser.h (lint.layers checks it), so
 * a parser change touches only them. */
#ifndef CP_HTTP_PARSE_H
#define CP_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

#include "base/buf.h"
#include "base/host.h"

#define CP_HTTP_MAX_FIELDS 200

typedef enum cp_http_kind_e {
  CP_HTTP_REQUEST,
  CP_HTTP_RESPONSE
} cp_http_kind_e;

typedef enum cp_target_form_e {
  CP_TARGET_NONE,      /* not parsed yet */
  CP_TARGET_ORIGIN,    /* "/path?query" */
  CP_TARGET_ABSOLUTE,  /* "http://host:port/path" */
  CP_TARGET_AUTHORITY, /* "host:port" (CONNECT) */
  CP_TARGET_ASTERISK   /* "*" (OPTIONS) */
} cp_target_form_e;

typedef struct cp_http_target_s cp_http_target_t;
typedef struct cp_http_field_s cp_http_field_t;
typedef struct cp_http_msg_s cp_http_msg_t;

struct cp_http_target_s {
  cp_target_form_e form;
  cp_host_kind_e host_kind;
  char host[CP_HOST_MAX + 1]; /* without IPv6 brackets, NUL-terminated */
  uint16_t port;
};

struct cp_http_field_s {
  uint32_t name_off;
  uint32_t name_len;
  uint32_t value_off;
  uint32_t value_len;
};

struct cp_http_msg_s {
  http_parser parser;
  http_parser_settings settings;
  cp_http_kind_e kind;

  /* Set by the owner before feeding. */
  size_t head_limit;           /* bytes of request/status line + fields */
  int req_method;              /* responses: the request's method (HEAD) */
  unsigned peer_http11 : 1;    /* responses: client may receive chunked */
  unsigned want_keepalive : 1; /* responses: proxy would keep the client */
  unsigned body_only : 1;      /* out receives only the decoded body, no
                                  head: requests answered here (the
                                  control API), messages bridged to
                                  HTTP/2 */
  /* Requests: told the target once it is parsed, before the head is
   * written, so the owner can choose how it goes out (a parent proxy). */
  void (*on_target)(cp_http_msg_t *m, void *arg);
  void *on_target_arg;
  unsigned absolute_out : 1; /* set by on_target: write the absolute form
                                (to a parent proxy); reset per message */
  const char *proxy_auth;    /* set by on_target: a Proxy-Authorization
                                value to add; reset per message */

  /* Parsed head, valid once head_complete is set. */
  cp_buf_t head;           /* owned: URL or reason, field names/values */
  cp_http_field_t *fields; /* owned: grown on demand up to
                              CP_HTTP_MAX_FIELDS (most heads need 16) */
  size_t nfields, fields_cap;
  size_t url_off, url_len; /* request target, or response reason */
  int last_cb;             /* which head callback ran last */
  int method;
  int status;
  unsigned http_major, http_minor;
  cp_http_target_t target;       /* requests */
  size_t origin_off, origin_len; /* requests: origin-form target in head */

  unsigned head_complete : 1;
  unsigned msg_complete : 1;
  unsigned keepalive_in : 1;  /* sender allows reuse (http_should_keep_alive) */
  unsigned keepalive_out : 1; /* responses: what we told the client */
  unsigned chunk_out : 1;     /* body is re-encoded as chunked */
  unsigned interim : 1;       /* responses: last message was 1xx */
  unsigned is_connect : 1;
  unsigned ws_upgrade : 1; /* requests: a WebSocket handshake, passed
                             on; responses: set by the owner when the
                             request was one, so a 101 is relayed */

  uint64_t content_length;  /* announced length, UINT64_MAX if none */
  uint64_t body_bytes;      /* decoded body bytes of this message */
  cp_buf_t *capture;        /* borrowed: decoded body bytes are copied here
                               up to its limit (--har-bodies); NULL: none;
                               emptied by cp_http_msg_reset */
  unsigned capture_cut : 1; /* the body was longer than capture's limit */
  int err;                  /* first error, a CP_E* code */
  size_t err_field;         /* CP_EFIELDWS: index of the field at fault */
  char scan_prev;           /* requests: the head scan (bare LF, obs-fold) */
  unsigned scan_eol, scan_lines;
  unsigned scan_done : 1;
  unsigned scan_text : 1;
  const char *err_text; /* static text for err */
  cp_buf_t *out;        /* borrowed during cp_http_msg_feed */
};

/* Result codes of cp_http_msg_feed besides negative errors. */
#define CP_HTTP_MORE 0 /* all input consumed, message not complete */
#define CP_HTTP_DONE 1 /* message complete; *consumed tells where it ended */

void cp_http_msg_init(cp_http_msg_t *m, cp_http_kind_e kind, size_t head_limit);
/* Decoded body bytes go to capture (borrowed: it outlives m) too, up to
 * its limit; NULL: none. */
void cp_http_msg_set_capture(cp_http_msg_t *m, cp_buf_t *capture);
/* Prepares for the next message on the same connection. */
void cp_http_msg_reset(cp_http_msg_t *m);
void cp_http_msg_free(cp_http_msg_t *m);
/* Parses up to len bytes, appending the forwarded form of what was parsed to
 * out. len == 0 signals end of input (EOF). Returns CP_HTTP_MORE,
 * CP_HTTP_DONE or a negative CP_E* (CP_EHDRSIZE for oversized heads,
 * CP_ETARGET for a bad request target, CP_EFIELDWS for whitespace in a
 * field name (m->err_field says which), CP_EHTTP otherwise). */
int cp_http_msg_feed(cp_http_msg_t *m, const char *data, size_t len,
                     size_t *consumed, cp_buf_t *out);
/* Value of the first field with that name, or NULL; *len receives its length.
 */
const char *cp_http_msg_field(const cp_http_msg_t *m, const char *name,
                              size_t *len);
const char *cp_http_msg_method_name(const cp_http_msg_t *m);
/* Field i of the head: its name (name_len bytes) and value. */
const char *cp_http_msg_field_at(const cp_http_msg_t *m, size_t i,
                                 size_t *name_len, const char **value,
                                 size_t *value_len);
/* 1 when field i is hop-by-hop (RFC 9110 7.6.1, or listed in
 * Connection): not passed on. */
int cp_http_msg_is_hop_field(const cp_http_msg_t *m, size_t i);
/* The reason phrase for a status ("Not Found"). */
const char *cp_http_reason(int status);
/* The request target as received (NUL is not guaranteed: use url_len). */
const char *cp_http_msg_url(const cp_http_msg_t *m);

/* "host:port", "[v6]:port"; port required when default_port is 0. */
int cp_http_parse_authority(const char *s, size_t len, uint16_t default_port,
                            cp_http_target_t *out);

/* A response head on its own (status line and fields, up to and including
 * the empty line), parsed whole: no body is read. */
typedef struct cp_http_status_s {
  int code;
  int major, minor;
  char reason[120];
} cp_http_status_t;
/* Parses head (len bytes, the whole head) into st; the values of the field
 * named want (case-insensitive; NULL: none) are kept in value (cap bytes,
 * truncated). 0, or CP_EHTTP when it is not one well-formed head. */
int cp_http_status_parse(cp_http_status_t *st, const char *head, size_t len,
                         const char *want, char *value, size_t cap);

#endif
