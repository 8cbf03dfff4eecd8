/* The HTTP/1.1 side of the HTTP/2 relay (--h2 bridge), in place of one of
 * its nghttp2 sessions. Origin side: an h2 client's streams go to an
 * HTTP/1.1 origin one at a time over the one upstream connection (HTTP/1.1
 * has no multiplexing; pipelining is not used), each request written from
 * its header block and its response parsed back into one. Client side:
 * an HTTP/1.1 client's requests, one at a time, become streams on the
 * origin's h2 session, and their responses are written as HTTP/1.1
 * (chunked when the origin gave no length, trailers kept). Bounded: every
 * body passes through the stream's buffers, and reading stops while they
 * are full. */
#include "conn/conn_h2.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn/conn_h2_int.h"
#include "base/err.h"
#include "http/h2h1.h"
#include "http/http_parse.h"
#include "net/leg.h"
#include "base/list.h"

#define PIECE 16384 /* body bytes per write */

typedef struct bridge_s bridge_t;

struct bridge_s {
  cp_http_msg_t msg;       /* owned: the HTTP/1.1 side's messages */
  cp_buf_t in;             /* owned: HTTP/1.1 bytes read, not parsed yet */
  cp_buf_t out;            /* owned: scratch for heads and chunk framing */
  h2_stream_t *cur;        /* the exchange on the HTTP/1.1 side, or NULL */
  h2_stream_t *queue;      /* origin side: streams waiting for the origin */
  int32_t next_id;         /* client side: the id of its next request */
  unsigned chunked : 1;    /* the current body goes out chunked */
  unsigned req_done : 1;   /* the current request is all sent / parsed */
  unsigned head_taken : 1; /* client side: the request head was submitted */
  unsigned keep : 1;       /* client side: keep the connection after it */
  unsigned closing : 1;    /* client side: close after the current one */
  unsigned broken : 1;     /* client side: a response cut: abort */
  unsigned paused : 1;     /* reading stopped: no room */
};


static bridge_t *side(const cp_conn_t *c) {
  return ((cp_h2_t *)c->h2.proto)->side;
}


static void bridge_free(void *p) {
  bridge_t *b = p;

  if (b == NULL) {
    return;
  }
  cp_http_msg_free(&b->msg);
  cp_buf_free(&b->in);
  cp_buf_free(&b->out);
  free(b);
}


static int write_out(cp_leg_t *leg, bridge_t *b) {
  int rc = cp_leg_write(leg, b->out.data, b->out.len);

  cp_buf_reset(&b->out);
  return rc;
}


/* Sets the read pause of leg from the room left (in bytes). */
static int room_or_pause(bridge_t *b, cp_leg_t *leg, size_t room) {
  if (room < 1024) {
    b->paused = 1;
    cp_leg_want_read(leg, 0);
    return 0;
  }
  if (b->paused) {
    b->paused = 0;
    cp_leg_want_read(leg, 1);
  }
  return 1;
}


/* ---- an HTTP/2 client, an HTTP/1.1 origin ------------------------------ */

/* A stream the origin cannot be asked (no HTTP/1.1 form): answered here. */
static void answer_here(cp_conn_t *c, h2_stream_t *s, int status,
                        const char *why) {
  char st[8];

  snprintf(st, sizeof(st), "%d", status);
  s->resp.n = 0;
  cp_buf_reset(&s->resp.b);
  cp_h2_head_add(&s->resp, (const uint8_t *)":status", 7, (const uint8_t *)st,
                 strlen(st));
  cp_h2_head_add(&s->resp, (const uint8_t *)"content-type", 12,
                 (const uint8_t *)"text/plain; charset=utf-8", 25);
  cp_buf_appendf(&s->down, "chainproxy: %s\n", why);
  s->outcome = "bridge_refused";
  s->u_closed = 1;
  cp_h2_respond(c, s, 0);
  s->down_eof = 1;
  cp_h2_down_ready(c, s);
}


static void up_write_body(cp_conn_t *c, bridge_t *b) {
  h2_stream_t *s = b->cur;

  while (s != NULL && s->up.len > 0 &&
         cp_leg_queued(&c->upstream) < CP_WQ_HIGH) {
    size_t n = s->up.len < PIECE ? s->up.len : PIECE;

    if (b->chunked) {
      cp_h2h1_chunk(&b->out, s->up.data, n);
      write_out(&c->upstream, b);
    } else {
      cp_leg_write(&c->upstream, s->up.data, n);
    }
    cp_buf_consume(&s->up, n);
    cp_h2_client_took(c, s, n);
  }
  if (s != NULL && s->up_eof && s->up.len == 0 && !b->req_done) {
    b->req_done = 1;
    if (b->chunked) {
      cp_h2h1_last_chunk(&b->out, NULL);
      write_out(&c->upstream, b);
    }
  }
}


/* The next queued stream, if the origin is free, goes out. */
static void up_start(cp_conn_t *c, bridge_t *b) {
  const char *why = NULL;
  h2_stream_t *s;
  int chunked = 0;

  while (b->cur == NULL && b->queue != NULL) {
    s = b->queue;
    b->queue = s->qnext;
    s->qnext = NULL;
    if (cp_h2h1_request_head(&s->req, !s->up_eof, &b->out, &chunked, &why) !=
        0) {
      cp_buf_reset(&b->out);
      answer_here(c, s, why ? 501 : 500, why ? why : "out of memory");
      cp_h2_stream_done(c, s);
      continue;
    }
    write_out(&c->upstream, b);
    b->cur = s;
    b->chunked = chunked != 0;
    b->req_done = 0;
    s->uid = 1; /* on the wire */
    cp_http_msg_reset(&b->msg);
    b->msg.body_only = 1;
    b->msg.req_method = s->head_request ? HTTP_HEAD : HTTP_GET;
    up_write_body(c, b);
  }
}


static void up_submit(cp_conn_t *c, h2_stream_t *s) {
  bridge_t *b = side(c);
  h2_stream_t **p = &b->queue;

  while (*p != NULL) {
    p = &(*p)->qnext;
  }
  *p = s;
  up_start(c, b);
}


static void up_resume(cp_conn_t *c, h2_stream_t *s) {
  bridge_t *b = side(c);

  if (s == b->cur) {
    up_write_body(c, b);
  }
}


/* The exchange with the origin is over; the next stream may go. */
static void up_done(cp_conn_t *c, bridge_t *b, int keep) {
  h2_stream_t *s = b->cur;

  b->cur = NULL;
  s->u_closed = 1;
  s->down_eof = 1;
  cp_h2_down_ready(c, s);
  cp_h2_stream_done(c, s); /* s may be gone now */
  if (!keep) {
    /* Streams still queued are refused; the client retries them. */
    cp_leg_close(&c->upstream);
    cp_h2_upstream_lost(c, "the HTTP/1.1 origin closed the connection");
    return;
  }
  up_start(c, b);
}


static void up_parse(cp_conn_t *c, bridge_t *b, int eof) {
  h2_stream_t *s;
  size_t consumed, room, n;
  int rc;

  while ((s = b->cur) != NULL && (b->in.len > 0 || eof)) {
    room = s->down.limit - s->down.len;
    if (!eof && !room_or_pause(b, &c->upstream, room)) {
      return;
    }
    n = b->in.len < room ? b->in.len : room;
    consumed = 0;
    rc = cp_http_msg_feed(&b->msg, eof && n == 0 ? NULL : b->in.data, n,
                          &consumed, &s->down);
    cp_buf_consume(&b->in, consumed);
    if (rc < 0) {
      cp_conn_log(c, CP_LOG_WARN, "bridged HTTP/1.1 origin: %s",
                  b->msg.err_text ? b->msg.err_text : "malformed response");
      s->outcome = rc == CP_EFIELDWS ? "upstream_header_name_whitespace"
                                     : "upstream_bad_response";
      cp_leg_close(&c->upstream);
      cp_h2_upstream_lost(c, "malformed HTTP/1.1 response");
      return;
    }
    if (b->msg.head_complete && !s->resp_sent && b->msg.status >= 200) {
      if (cp_h2h1_head_from_msg(&b->msg, NULL, &s->resp) != 0) {
        s->outcome = "upstream_bad_response";
        cp_h2_upstream_lost(c, "response head too large for HTTP/2");
        return;
      }
      cp_h2_respond(c, s, rc == CP_HTTP_DONE && s->down.len == 0);
    }
    if (s->c_closed) {
      cp_buf_reset(&s->down); /* the client gave up: drain, do not keep */
    } else if (s->down.len > 0) {
      cp_h2_down_ready(c, s);
    }
    if (rc == CP_HTTP_DONE) {
      up_done(c, b, b->msg.keepalive_in && b->req_done && !eof);
      continue;
    }
    if (consumed == 0) {
      return;
    }
  }
}


static void up_feed(cp_conn_t *c, cp_leg_t *leg, const char *data, size_t len) {
  bridge_t *b = side(c);

  if (leg != &c->upstream) {
    return;
  }
  if (data != NULL && cp_buf_append(&b->in, data, len) != 0) {
    cp_h2_upstream_lost(c, "the HTTP/1.1 origin sent more than asked for");
    return;
  }
  up_parse(c, b, data == NULL);
}


static void up_consumed(cp_conn_t *c, h2_stream_t *s) {
  bridge_t *b = side(c);

  if (s == b->cur) {
    up_parse(c, b, 0);
  }
}


/* The client reset s: a queued stream leaves the queue; the one on the
 * wire cannot be taken back from an HTTP/1.1 origin, so its response is
 * read and dropped (or the connection dropped, if its request was cut). */
static void up_reset(cp_conn_t *c, h2_stream_t *s) {
  bridge_t *b = side(c);
  h2_stream_t **p = &b->queue;

  while (*p != NULL && *p != s) {
    p = &(*p)->qnext;
  }
  if (*p == s) {
    *p = s->qnext;
    s->u_closed = 1;
    return;
  }
  if (s == b->cur && !b->req_done) {
    b->cur = NULL;
    s->u_closed = 1;
    cp_leg_close(&c->upstream);
    cp_h2_upstream_lost(c, "a request cut by the client");
  }
}


/* ---- an HTTP/1.1 client, an HTTP/2 origin ------------------------------ */

/* A request the origin is not asked (malformed, or no Host): answered
 * here, and the connection closes after it, as conn_http does. */
static void cl_refuse(cp_conn_t *c, bridge_t *b, h2_stream_t *s, int status,
                      const char *why) {
  cp_buf_appendf(&b->out,
                 "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
                 "charset=utf-8\r\nContent-Length: %zu\r\nConnection: "
                 "close\r\n\r\nchainproxy: %s\n",
                 status, cp_http_reason(status), strlen(why) + 13, why);
  write_out(&c->client, b);
  s->status = status;
  s->outcome = "bad_request";
  s->c_closed = s->u_closed = 1;
  b->cur = NULL;
  b->closing = 1;
  cp_h2_stream_done(c, s);
}


/* This response is written; the next request may be read. */
static void cl_done(cp_conn_t *c, bridge_t *b, h2_stream_t *s) {
  b->cur = NULL;
  s->c_closed = 1;
  if (!b->keep || !b->req_done) {
    b->closing = 1; /* the request was cut short, or no keep-alive */
  }
  b->req_done = b->head_taken = 0;
  if (b->paused && !b->closing) {
    b->paused = 0;
    cp_leg_want_read(&c->client, 1);
  }
  cp_h2_stream_done(c, s);
}


static void cl_parse(cp_conn_t *c, bridge_t *b) {
  cp_h2_t *h = c->h2.proto;
  h2_stream_t *s;
  size_t consumed, room, n;
  int rc;

  while (!b->closing && b->in.len > 0) {
    if (b->cur == NULL) {
      if (h->upstream_gone) {
        b->closing = 1; /* the origin's session ended */
        return;
      }
      b->cur = cp_h2_stream_new(c, b->next_id);
      if (b->cur == NULL) {
        b->broken = 1;
        return;
      }
      b->next_id += 2;
      cp_http_msg_reset(&b->msg);
      b->msg.body_only = 1;
      /* The head has --head-timeout from its first byte, as in READ. */
      cp_conn_head_started(c);
      c->h2.head_pending = 1;
      cp_conn_arm_timer(c);
    }
    s = b->cur;
    if (b->req_done) {
      /* One exchange at a time: a pipelined request waits, unread. */
      room_or_pause(b, &c->client, 0);
      return;
    }
    room = s->up.limit - s->up.len;
    if (!room_or_pause(b, &c->client, room)) {
      return;
    }
    n = b->in.len < room ? b->in.len : room;
    consumed = 0;
    rc = cp_http_msg_feed(&b->msg, b->in.data, n, &consumed, &s->up);
    cp_buf_consume(&b->in, consumed);
    if (rc < 0) {
      cl_refuse(c, b, s, rc == CP_EHDRSIZE ? 431 : 400,
                b->msg.err_text ? b->msg.err_text : "malformed request");
      return;
    }
    if (b->msg.head_complete && !b->head_taken) {
      size_t el = 0;
      const char *expect = cp_http_msg_field(&b->msg, "expect", &el);

      b->head_taken = 1;
      c->h2.head_pending = 0;
      cp_conn_arm_timer(c);
      if (cp_h2h1_head_from_msg(&b->msg, "https", &s->req) != 0) {
        cl_refuse(c, b, s, 400, "the request has no Host, or too many fields");
        return;
      }
      if (expect != NULL && el == 12 &&
          strncasecmp(expect, "100-continue", 12) == 0) {
        cp_leg_write(&c->client, "HTTP/1.1 100 Continue\r\n\r\n", 25);
      }
      s->up_eof = rc == CP_HTTP_DONE && s->up.len == 0;
      cp_h2_submit(c, s);
    }
    s->bytes_up = b->msg.body_bytes;
    if (rc == CP_HTTP_DONE) {
      b->req_done = 1;
      b->keep = b->msg.keepalive_in;
      s->up_eof = 1;
    }
    cp_h2_up_ready(c, s);
    if (consumed == 0) {
      return;
    }
  }
}


static void cl_feed(cp_conn_t *c, cp_leg_t *leg, const char *data, size_t len) {
  bridge_t *b = side(c);

  if (leg != &c->client || data == NULL) {
    return;
  }
  if (cp_buf_append(&b->in, data, len) != 0) {
    /* Pipelined past the buffer: reading is paused before this. */
    b->broken = 1;
    return;
  }
  cl_parse(c, b);
}


static void cl_respond(cp_conn_t *c, h2_stream_t *s, int end) {
  bridge_t *b = side(c);
  int chunked = 0;

  if (cp_h2h1_response_head(&s->resp, end, s->head_request,
                            b->keep && !b->closing, &b->out, &chunked) != 0) {
    cp_buf_reset(&b->out);
    b->broken = 1;
    return;
  }
  b->chunked = chunked != 0;
  write_out(&c->client, b);
}


static void cl_resume(cp_conn_t *c, h2_stream_t *s) {
  bridge_t *b = side(c);

  if (s != b->cur || !s->resp_sent) {
    return;
  }
  while (s->down.len > 0 && cp_leg_queued(&c->client) < CP_WQ_HIGH) {
    size_t n = s->down.len < PIECE ? s->down.len : PIECE;

    if (b->chunked) {
      cp_h2h1_chunk(&b->out, s->down.data, n);
      write_out(&c->client, b);
    } else {
      cp_leg_write(&c->client, s->down.data, n);
    }
    cp_buf_consume(&s->down, n);
    s->bytes_down += n;
    cp_h2_up_took(c, s, n);
  }
  if (s->down_eof && s->down.len == 0) {
    if (b->chunked) {
      cp_h2h1_last_chunk(&b->out, s->trailers ? &s->resp : NULL);
      write_out(&c->client, b);
    }
    cl_done(c, b, s);
  }
}


static void cl_consumed(cp_conn_t *c, h2_stream_t *s) {
  bridge_t *b = side(c);

  if (s == b->cur) {
    cl_parse(c, b);
  }
}


/* The origin reset s, or is gone. Before the head: a 502 that says so;
 * after it, the response is cut and the connection aborted (pump). The
 * relay frees s. */
static void cl_reset(cp_conn_t *c, h2_stream_t *s) {
  bridge_t *b = side(c);

  if (s != b->cur) {
    s->c_closed = 1;
    return;
  }
  if (!s->resp_sent) {
    static const char why[] = "chainproxy: the origin reset the HTTP/2 "
                              "stream of this request\n";

    cp_buf_appendf(&b->out,
                   "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; "
                   "charset=utf-8\r\nContent-Length: %zu\r\nConnection: "
                   "close\r\n\r\n%s",
                   sizeof(why) - 1, why);
    write_out(&c->client, b);
    s->status = 502;
    s->outcome = "upstream_reset";
    b->closing = 1;
  } else {
    b->broken = 1;
  }
  s->c_closed = 1;
  b->cur = NULL;
}


static void cl_shutdown(cp_conn_t *c) {
  bridge_t *b = side(c);

  b->keep = 0; /* the current response says Connection: close */
  if (b->cur == NULL) {
    b->closing = 1;
  }
}


/* 1 once the client is done with: closing with nothing left to write, or
 * a response cut (the connection is aborted here). */
static int cl_pump(cp_conn_t *c) {
  bridge_t *b = side(c);

  if (b->broken) {
    cp_conn_abort(c, "upstream_reset");
    return 1;
  }
  if (b->cur != NULL) {
    cl_resume(c, b->cur);
  }
  if (b->cur == NULL && !b->closing && b->in.len > 0) {
    cl_parse(c, b);
  }
  return b->closing && b->cur == NULL;
}


static int up_pump(cp_conn_t *c) {
  bridge_t *b = side(c);

  up_write_body(c, b);
  return 0;
}


static void up_shutdown(cp_conn_t *c) {
  (void)c; /* the client's session gets the GOAWAY */
}


static void no_op(cp_conn_t *c, h2_stream_t *s) {
  (void)c;
  (void)s;
}


static void no_respond(cp_conn_t *c, h2_stream_t *s, int end) {
  (void)c;
  (void)s;
  (void)end;
}


static const cp_h2_ops_t origin_h1 = {
    .up_submit = up_submit,
    .up_resume = up_resume,
    .up_consumed = up_consumed,
    .up_reset = up_reset,
    .client_respond = no_respond,
    .client_resume = no_op,
    .client_consumed = no_op,
    .client_reset = no_op,
    .feed = up_feed,
    .pump = up_pump,
    .shutdown = up_shutdown,
    .free = bridge_free,
};

static const cp_h2_ops_t client_h1 = {
    .up_submit = no_op,
    .up_resume = no_op,
    .up_consumed = no_op,
    .up_reset = no_op,
    .client_respond = cl_respond,
    .client_resume = cl_resume,
    .client_consumed = cl_consumed,
    .client_reset = cl_reset,
    .feed = cl_feed,
    .pump = cl_pump,
    .shutdown = cl_shutdown,
    .free = bridge_free,
};


static int alpn_is_h2(const unsigned char *p, unsigned n) {
  return n == 2 && memcmp(p, "h2", 2) == 0;
}


void cp_conn_h2_entry(cp_conn_t *c) {
  const unsigned char *p = NULL;
  unsigned n = 0;
  int client_h2, up_h2;
  bridge_t *b;

  client_h2 = c->h2.want || (c->client.tls != NULL &&
                             alpn_is_h2(c->client.tls->alpn_choice,
                                        c->client.tls->alpn_choice_len));
  if (c->upstream.tls != NULL) {
    SSL_get0_alpn_selected(c->upstream.tls->ssl, &p, &n);
  }
  up_h2 = alpn_is_h2(p, n);
  if (c->tls.blocked || c->h2.refuse || (client_h2 && up_h2)) {
    cp_h2_start(c, NULL, NULL, 0);
    return;
  }
  b = calloc(1, sizeof(*b));
  if (b == NULL) {
    cp_conn_fail(c, CP_ENOMEM, "h2_setup_failed");
    return;
  }
  cp_http_msg_init(&b->msg, client_h2 ? CP_HTTP_RESPONSE : CP_HTTP_REQUEST,
                   c->env->cfg->max_header_bytes);
  cp_buf_init(&b->in, c->env->cfg->max_header_bytes + STREAM_BUF);
  cp_buf_init(&b->out, c->env->cfg->max_header_bytes + PIECE + 64);
  b->next_id = 1;
  b->keep = 1;
  cp_conn_log(c, CP_LOG_INFO, "bridging %s",
              client_h2 ? "the h2 client to an HTTP/1.1 origin"
                        : "the HTTP/1.1 client to an h2 origin");
  cp_h2_start(c, client_h2 ? &origin_h1 : &client_h1, b, !client_h2);
}
