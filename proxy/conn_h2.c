#include "conn_h2.h"

#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "err.h"
#include "h2_head.h"
#include "host.h"
#include "list.h"

#define MAX_STREAMS 100            /* SETTINGS_MAX_CONCURRENT_STREAMS */
#define STREAM_WINDOW (256 * 1024) /* per stream, each direction */
#define CONN_WINDOW (1024 * 1024)
/* A stream's buffer in each direction: the window, so a peer that keeps
 * to flow control never finds it full. */
#define STREAM_BUF (STREAM_WINDOW + 16384)

typedef struct h2_stream_s h2_stream_t;
typedef struct cp_h2_s cp_h2_t;

struct h2_stream_s {
  cp_conn_t *c;             /* borrowed */
  h2_stream_t *prev, *next; /* links in cp_h2_t.streams */
  int32_t cid;              /* stream id with the client */
  int32_t uid;              /* with the upstream; -1 before submission */
  cp_h2_head_t req;         /* request head as the client sent it */
  cp_h2_head_t resp;        /* response head, then its trailers */
  cp_buf_t up;              /* request body bytes not yet sent up */
  cp_buf_t down;            /* response body bytes not yet sent down */
  int status;
  uint64_t bytes_up, bytes_down; /* body bytes relayed */
  uint64_t t_start, t_first;     /* loop times: request, first response */
  unsigned up_eof : 1;           /* the request body is complete */
  unsigned down_eof : 1;         /* the response body is complete */
  unsigned resp_sent : 1;        /* the response head went to the client */
  unsigned trailers : 1;         /* resp holds trailers to send at the end */
  unsigned c_closed : 1;         /* closed on the client session */
  unsigned u_closed : 1;         /* closed (or never opened) upstream */
  unsigned reset : 1;            /* ended by a reset on either side */
  const char *outcome;           /* static; NULL: ok or reset */
};

struct cp_h2_s {
  nghttp2_session *cs;  /* owned: with the client (server role) */
  nghttp2_session *us;  /* owned: with the upstream (client role) */
  h2_stream_t *streams; /* owned list */
  unsigned nstreams;
  unsigned upstream_gone : 1;
  unsigned busy : 1; /* streams were open when the timer was last armed */
};


static cp_h2_t *relay(const cp_conn_t *c) {
  return c->proto;
}


static void emit_request(h2_stream_t *s) {
  cp_conn_t *c = s->c;
  cp_event_base_t b = cp_conn_base(c);
  cp_event_request_t r;
  char method[32], authority[CP_HOSTPORT_MAX], path[2048], url[2400];
  uint64_t now = cp_conn_now(c);

  cp_h2_head_get(&s->req, ":method", method, sizeof(method));
  cp_h2_head_get(&s->req, ":authority", authority, sizeof(authority));
  cp_h2_head_get(&s->req, ":path", path, sizeof(path));
  snprintf(url, sizeof(url), "https://%s%s", authority, path);
  memset(&r, 0, sizeof(r));
  r.method = method;
  r.url = url;
  r.path = path[0] ? path : "/";
  r.status = s->status;
  r.http_version = "2";
  r.stream_id = s->cid;
  r.bytes_from_client = s->bytes_up;
  r.bytes_to_client = s->bytes_down;
  r.ttfb_ms = s->t_first ? s->t_first - s->t_start : 0;
  r.total_ms = now - s->t_start;
  r.outcome = s->outcome ? s->outcome : s->reset ? "reset" : "ok";
  r.scheme = "https";
  c->env->stats->v[CP_STAT_REQUESTS]++;
  c->requests++;
  cp_conn_log(c, CP_LOG_INFO, "%s %s -> %d (h2 stream %d, %llu bytes)", method,
              url, s->status, s->cid, (unsigned long long)s->bytes_down);
  cp_event_request(c->env->events, &b, &r);
}


static void stream_free(cp_h2_t *h, h2_stream_t *s) {
  CP_LIST_UNLINK(h->streams, s);
  h->nstreams--;
  s->c->h2_streams = h->nstreams;
  cp_buf_free(&s->req.b);
  cp_buf_free(&s->resp.b);
  cp_buf_free(&s->up);
  cp_buf_free(&s->down);
  free(s);
}


/* Both sides are done with the stream: record it and let it go. */
static void stream_maybe_free(cp_h2_t *h, h2_stream_t *s) {
  if (!s->c_closed || !s->u_closed) {
    return;
  }
  emit_request(s);
  if (h->cs != NULL) {
    nghttp2_session_set_stream_user_data(h->cs, s->cid, NULL);
  }
  if (h->us != NULL && s->uid > 0) {
    nghttp2_session_set_stream_user_data(h->us, s->uid, NULL);
  }
  stream_free(h, s);
}


/* ---- request bodies, client to upstream -------------------------------- */

static ssize_t up_read(nghttp2_session *us, int32_t id, uint8_t *buf,
                       size_t len, uint32_t *flags, nghttp2_data_source *src,
                       void *ud) {
  h2_stream_t *s = src->ptr;
  cp_h2_t *h = relay(s->c);
  size_t n = s->up.len < len ? s->up.len : len;

  (void)us;
  (void)id;
  (void)ud;
  if (n > 0) {
    memcpy(buf, s->up.data, n);
    cp_buf_consume(&s->up, n);
  }
  if (n > 0 && !s->c_closed) {
    /* Only now may the client send more: end-to-end flow control. */
    nghttp2_session_consume(h->cs, s->cid, n);
  }
  if (s->up.len == 0 && s->up_eof) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  } else if (n == 0) {
    return NGHTTP2_ERR_DEFERRED;
  }
  return (ssize_t)n;
}


/* ---- response bodies, upstream to client ------------------------------- */

static ssize_t down_read(nghttp2_session *cs, int32_t id, uint8_t *buf,
                         size_t len, uint32_t *flags, nghttp2_data_source *src,
                         void *ud) {
  h2_stream_t *s = src->ptr;
  cp_h2_t *h = relay(s->c);
  size_t n = s->down.len < len ? s->down.len : len;
  nghttp2_nv nv[CP_HTTP_MAX_FIELDS + 1];

  (void)ud;
  if (n > 0) {
    memcpy(buf, s->down.data, n);
    cp_buf_consume(&s->down, n);
  }
  s->bytes_down += n;
  if (n > 0 && !s->u_closed && h->us != NULL) {
    nghttp2_session_consume(h->us, s->uid, n);
  }
  if (s->down.len == 0 && s->down_eof) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (s->trailers) {
      /* gRPC's grpc-status travels here. */
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      nghttp2_submit_trailer(cs, id, nv, cp_h2_head_nv(&s->resp, nv, 0));
    }
  } else if (n == 0) {
    return NGHTTP2_ERR_DEFERRED;
  }
  return (ssize_t)n;
}


/* ---- the client session (server role) ---------------------------------- */

static int on_c_begin_headers(nghttp2_session *cs, const nghttp2_frame *fr,
                              void *ud) {
  cp_conn_t *c = ud;
  cp_h2_t *h = relay(c);
  h2_stream_t *s;

  if (fr->hd.type != NGHTTP2_HEADERS ||
      fr->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL || h->upstream_gone) {
    free(s);
    nghttp2_submit_rst_stream(cs, NGHTTP2_FLAG_NONE, fr->hd.stream_id,
                              NGHTTP2_REFUSED_STREAM);
    return 0;
  }
  s->c = c;
  s->cid = fr->hd.stream_id;
  s->uid = -1;
  s->t_start = cp_conn_now(c);
  cp_h2_head_init(&s->req, c->env->cfg->max_header_bytes);
  cp_h2_head_init(&s->resp, c->env->cfg->max_header_bytes);
  cp_buf_init(&s->up, STREAM_BUF);
  cp_buf_init(&s->down, STREAM_BUF);
  CP_LIST_PUSH(h->streams, s);
  h->nstreams++;
  c->h2_streams = h->nstreams;
  nghttp2_session_set_stream_user_data(cs, s->cid, s);
  return 0;
}


static int on_c_header(nghttp2_session *cs, const nghttp2_frame *fr,
                       const uint8_t *name, size_t nl, const uint8_t *value,
                       size_t vl, uint8_t flags, void *ud) {
  h2_stream_t *s = nghttp2_session_get_stream_user_data(cs, fr->hd.stream_id);

  (void)flags;
  (void)ud;
  if (s == NULL || fr->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0; /* request trailers are not relayed */
  }
  if (cp_h2_head_add(&s->req, name, nl, value, vl) != 0) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
  }
  return 0;
}


static void submit_upstream(cp_conn_t *c, h2_stream_t *s) {
  cp_h2_t *h = relay(c);
  nghttp2_nv nv[CP_HTTP_MAX_FIELDS + 1];
  nghttp2_data_provider prd;

  prd.source.ptr = s;
  prd.read_callback = up_read;
  /* No upstream session when the whole session is being refused. */
  s->uid = h->us == NULL ? -1
                         : nghttp2_submit_request(h->us, NULL, nv,
                                                  cp_h2_head_nv(&s->req, nv, 1),
                                                  s->up_eof ? NULL : &prd, s);
  if (s->uid < 0) {
    s->u_closed = 1;
    s->reset = 1;
    nghttp2_submit_rst_stream(h->cs, NGHTTP2_FLAG_NONE, s->cid,
                              NGHTTP2_REFUSED_STREAM);
  }
}


/* The upstream failed verification (block mode) or its handshake: each
 * stream gets the same 502 and explanation an HTTP/1.1 client gets. */
static void answer_blocked(cp_conn_t *c, h2_stream_t *s) {
  cp_h2_t *h = relay(c);
  static const char ctype[] = "text/plain; charset=utf-8";
  nghttp2_nv nv[3];
  nghttp2_data_provider prd;

  cp_buf_reset(&s->down);
  s->down.limit = 1 << 20; /* the explanation can be long */
  cp_buf_appendf(&s->down, "chainproxy: %s\n%s", c->block_msg,
                 c->block_detail ? c->block_detail : "");
  s->status = 502;
  s->outcome = c->block_code;
  s->u_closed = 1; /* no upstream stream */
  s->down_eof = 1;
  s->resp_sent = 1;
  s->t_first = cp_conn_now(c);
  nv[0] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)"502", 7, 3, 0};
  nv[1] = (nghttp2_nv){(uint8_t *)"content-type", (uint8_t *)ctype, 12,
                       sizeof(ctype) - 1, 0};
  nv[2] = (nghttp2_nv){(uint8_t *)"x-chainproxy-error",
                       (uint8_t *)c->block_code, 18, strlen(c->block_code), 0};
  prd.source.ptr = s;
  prd.read_callback = down_read;
  nghttp2_submit_response(h->cs, s->cid, nv, 3, &prd);
}


static int on_c_frame(nghttp2_session *cs, const nghttp2_frame *fr, void *ud) {
  cp_conn_t *c = ud;
  cp_h2_t *h = relay(c);
  h2_stream_t *s = nghttp2_session_get_stream_user_data(cs, fr->hd.stream_id);
  int end = (fr->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

  if (s == NULL) {
    return 0;
  }
  if (fr->hd.type == NGHTTP2_HEADERS && s->uid < 0 &&
      fr->headers.cat == NGHTTP2_HCAT_REQUEST && c->blocked) {
    answer_blocked(c, s);
  } else if (fr->hd.type == NGHTTP2_HEADERS && s->uid < 0 &&
             fr->headers.cat == NGHTTP2_HCAT_REQUEST) {
    s->up_eof = end;
    submit_upstream(c, s);
  } else if ((fr->hd.type == NGHTTP2_DATA || fr->hd.type == NGHTTP2_HEADERS) &&
             end) {
    s->up_eof = 1;
    if (s->uid > 0 && !s->u_closed) {
      nghttp2_session_resume_data(h->us, s->uid);
    }
  }
  return 0;
}


static int on_c_data(nghttp2_session *cs, uint8_t flags, int32_t id,
                     const uint8_t *data, size_t len, void *ud) {
  cp_h2_t *h = relay(ud);
  h2_stream_t *s = nghttp2_session_get_stream_user_data(cs, id);

  (void)flags;
  if (s == NULL) {
    nghttp2_session_consume(cs, id, len);
    return 0;
  }
  s->bytes_up += len;
  if (cp_buf_append(&s->up, data, len) != 0) {
    /* More than the window we granted: the client broke flow control. */
    nghttp2_submit_rst_stream(cs, NGHTTP2_FLAG_NONE, id,
                              NGHTTP2_FLOW_CONTROL_ERROR);
    return 0;
  }
  if (s->uid > 0 && !s->u_closed) {
    nghttp2_session_resume_data(h->us, s->uid);
  }
  return 0;
}


static int on_c_close(nghttp2_session *cs, int32_t id, uint32_t error,
                      void *ud) {
  cp_h2_t *h = relay(ud);
  h2_stream_t *s = nghttp2_session_get_stream_user_data(cs, id);

  if (s == NULL) {
    return 0;
  }
  s->c_closed = 1;
  if (error != NGHTTP2_NO_ERROR) {
    s->reset = 1;
    if (s->uid > 0 && !s->u_closed && h->us != NULL) {
      nghttp2_submit_rst_stream(h->us, NGHTTP2_FLAG_NONE, s->uid, error);
    }
  }
  if (s->uid < 0) {
    s->u_closed = 1;
  }
  stream_maybe_free(h, s);
  return 0;
}


/* ---- the upstream session (client role) -------------------------------- */

static int on_u_header(nghttp2_session *us, const nghttp2_frame *fr,
                       const uint8_t *name, size_t nl, const uint8_t *value,
                       size_t vl, uint8_t flags, void *ud) {
  h2_stream_t *s = nghttp2_session_get_stream_user_data(us, fr->hd.stream_id);

  (void)flags;
  (void)ud;
  if (s == NULL || fr->hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  if (cp_h2_head_add(&s->resp, name, nl, value, vl) != 0) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}


static void submit_response(cp_conn_t *c, h2_stream_t *s, int end) {
  cp_h2_t *h = relay(c);
  nghttp2_nv nv[CP_HTTP_MAX_FIELDS + 1];
  nghttp2_data_provider prd;
  char st[8];

  cp_h2_head_get(&s->resp, ":status", st, sizeof(st));
  s->status = atoi(st);
  if (s->status >= 100 && s->status < 200) {
    s->resp.n = 0; /* an interim response: wait for the final one */
    cp_buf_reset(&s->resp.b);
    return;
  }
  s->t_first = cp_conn_now(c);
  s->resp_sent = 1;
  s->down_eof = end;
  prd.source.ptr = s;
  prd.read_callback = down_read;
  if (!s->c_closed) {
    nghttp2_submit_response(h->cs, s->cid, nv, cp_h2_head_nv(&s->resp, nv, 1),
                            end ? NULL : &prd);
  }
  s->resp.n = 0; /* the block now collects trailers */
  cp_buf_reset(&s->resp.b);
}


static int on_u_frame(nghttp2_session *us, const nghttp2_frame *fr, void *ud) {
  cp_conn_t *c = ud;
  cp_h2_t *h = relay(c);
  h2_stream_t *s = nghttp2_session_get_stream_user_data(us, fr->hd.stream_id);
  int end = (fr->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

  if (s == NULL) {
    return 0;
  }
  if (fr->hd.type == NGHTTP2_HEADERS && !s->resp_sent) {
    submit_response(c, s, end);
  } else if (fr->hd.type == NGHTTP2_HEADERS && end) {
    s->trailers = s->resp.n > 0;
    s->down_eof = 1;
  } else if (fr->hd.type == NGHTTP2_DATA && end) {
    s->down_eof = 1;
  }
  if (s->resp_sent && s->down_eof && !s->c_closed) {
    nghttp2_session_resume_data(h->cs, s->cid);
  }
  return 0;
}


static int on_u_data(nghttp2_session *us, uint8_t flags, int32_t id,
                     const uint8_t *data, size_t len, void *ud) {
  cp_h2_t *h = relay(ud);
  h2_stream_t *s = nghttp2_session_get_stream_user_data(us, id);

  (void)flags;
  if (s == NULL || s->c_closed) {
    nghttp2_session_consume(us, id, len);
    return 0;
  }
  if (cp_buf_append(&s->down, data, len) != 0) {
    nghttp2_submit_rst_stream(us, NGHTTP2_FLAG_NONE, id,
                              NGHTTP2_FLOW_CONTROL_ERROR);
    return 0;
  }
  nghttp2_session_resume_data(h->cs, s->cid);
  return 0;
}


static int on_u_close(nghttp2_session *us, int32_t id, uint32_t error,
                      void *ud) {
  cp_conn_t *c = ud;
  cp_h2_t *h = relay(c);
  h2_stream_t *s = nghttp2_session_get_stream_user_data(us, id);

  if (s == NULL) {
    return 0;
  }
  s->u_closed = 1;
  if (error != NGHTTP2_NO_ERROR || !s->down_eof) {
    /* The origin reset the stream (or its session ended): pass it on. */
    s->reset = 1;
    if (!s->c_closed) {
      nghttp2_submit_rst_stream(h->cs, NGHTTP2_FLAG_NONE, s->cid,
                                error ? error : NGHTTP2_INTERNAL_ERROR);
    }
  }
  stream_maybe_free(h, s);
  return 0;
}


/* ---- sessions and I/O -------------------------------------------------- */

/* The conn is closing: streams still open end here, recorded as reset. */
static void h2_free(void *p) {
  cp_h2_t *h = p;

  while (h->streams != NULL) {
    h->streams->reset = 1;
    emit_request(h->streams);
    stream_free(h, h->streams);
  }
  nghttp2_session_del(h->cs);
  nghttp2_session_del(h->us);
  free(h);
}


static int sessions_new(cp_conn_t *c, cp_h2_t *h) {
  nghttp2_session_callbacks *cbs = NULL;
  nghttp2_option *opt = NULL;
  nghttp2_settings_entry cset[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
  };
  nghttp2_settings_entry uset[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
  };
  int rc = -1;

  if (nghttp2_session_callbacks_new(&cbs) != 0 ||
      nghttp2_option_new(&opt) != 0) {
    goto out;
  }
  /* Windows open only as the other side takes the bytes. */
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs,
                                                          on_c_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_c_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_c_frame);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_c_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_c_close);
  if (nghttp2_session_server_new2(&h->cs, cbs, c, opt) != 0) {
    goto out;
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, NULL);
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_u_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_u_frame);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_u_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_u_close);
  if (nghttp2_session_client_new2(&h->us, cbs, c, opt) != 0 ||
      nghttp2_submit_settings(h->cs, NGHTTP2_FLAG_NONE, cset,
                              CP_ARRAY_SIZE(cset)) != 0 ||
      nghttp2_submit_settings(h->us, NGHTTP2_FLAG_NONE, uset,
                              CP_ARRAY_SIZE(uset)) != 0 ||
      nghttp2_session_set_local_window_size(h->cs, NGHTTP2_FLAG_NONE, 0,
                                            CONN_WINDOW) != 0 ||
      nghttp2_session_set_local_window_size(h->us, NGHTTP2_FLAG_NONE, 0,
                                            CONN_WINDOW) != 0) {
    goto out;
  }
  rc = 0;
out:
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  return rc;
}


/* What a session has to send goes to its leg while the leg's queue is
 * under the high mark; the rest waits for on_drained. */
static int flush(nghttp2_session *s, cp_leg_t *leg) {
  while (s != NULL && cp_leg_queued(leg) < CP_WQ_HIGH) {
    const uint8_t *data = NULL;
    ssize_t n = nghttp2_session_mem_send(s, &data);

    if (n < 0) {
      return CP_EHTTP;
    }
    if (n == 0) {
      break;
    }
    if (cp_leg_write(leg, (const char *)data, (size_t)n) != 0) {
      return CP_EIO;
    }
  }
  return 0;
}


/* Sends what both sessions have, and ends the conn once the client
 * session has nothing left to do. */
static void upstream_lost(cp_conn_t *c, const char *why);


static void pump(cp_conn_t *c) {
  cp_h2_t *h = relay(c);

  if (c->state != CP_CONN_H2) {
    return;
  }
  /* A write error, or a session the origin ended (GOAWAY) with nothing
   * left to do: no new stream can be served. */
  if (h->us != NULL && !h->upstream_gone &&
      (flush(h->us, &c->upstream) != 0 ||
       (!nghttp2_session_want_read(h->us) &&
        !nghttp2_session_want_write(h->us)))) {
    upstream_lost(c, "the upstream ended the session");
  }
  if (flush(h->cs, &c->client) != 0) {
    cp_conn_abort(c, "client_write_failed");
    return;
  }
  if (!nghttp2_session_want_read(h->cs) && !nghttp2_session_want_write(h->cs) &&
      h->nstreams == 0) {
    cp_conn_finish(c, "done");
    return;
  }
  /* The timeout's kind changes between idle (no stream) and body idle
   * (some): re-arm then only; within a kind the timer re-arms itself
   * from the last activity, so reads do not touch the timer heap. */
  if (h->busy != (h->nstreams > 0)) {
    h->busy = h->nstreams > 0;
    cp_conn_arm_timer(c);
  }
}


/* The origin's side is gone: every stream without its whole response is
 * reset, and the client is told with GOAWAY that no new stream will be
 * served; streams whose response is complete finish sending it. */
static void upstream_lost(cp_conn_t *c, const char *why) {
  cp_h2_t *h = relay(c);
  h2_stream_t *s;

  if (h->upstream_gone) {
    return;
  }
  h->upstream_gone = 1;
  cp_conn_log(c, CP_LOG_INFO, "h2 upstream ended: %s", why);
  for (s = h->streams; s != NULL; s = s->next) {
    if (!s->down_eof || !s->resp_sent) {
      s->reset = 1;
      s->u_closed = 1;
      if (!s->c_closed) {
        nghttp2_submit_rst_stream(h->cs, NGHTTP2_FLAG_NONE, s->cid,
                                  NGHTTP2_INTERNAL_ERROR);
      }
    }
  }
  nghttp2_submit_goaway(h->cs, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(h->cs),
                        NGHTTP2_NO_ERROR, NULL, 0);
}


static void feed(cp_conn_t *c, cp_leg_t *leg, const char *data, size_t len) {
  cp_h2_t *h = relay(c);
  nghttp2_session *s = leg == &c->client ? h->cs : h->us;
  ssize_t n;

  if (s == NULL) {
    return; /* no upstream session (blocked, or refused): nothing to say */
  }
  n = nghttp2_session_mem_recv(s, (const uint8_t *)data, len);

  if (n < 0 && leg == &c->client) {
    cp_conn_log(c, CP_LOG_INFO, "h2 client: %s", nghttp2_strerror((int)n));
    cp_conn_abort(c, "client_protocol_error");
    return;
  }
  if (n < 0) {
    upstream_lost(c, nghttp2_strerror((int)n));
  }
  pump(c);
}


static void feed_client(cp_conn_t *c, const char *data, size_t len) {
  feed(c, &c->client, data, len);
}


/* A client that started HTTP/2 without ALPN, to an origin that does not
 * speak it: the answer is HTTP/2's own refusal (GOAWAY
 * HTTP_1_1_REQUIRED, with the reason as debug data), which HTTP/2
 * clients report; chainproxy does not translate to HTTP/1.1. */
static void refuse(cp_conn_t *c, cp_h2_t *h) {
  static const char why[] = "chainproxy: the origin does not speak HTTP/2 "
                            "(it did not choose h2 in ALPN); use HTTP/1.1";

  cp_conn_log(c, CP_LOG_WARN, "%s", why + strlen("chainproxy: "));
  cp_conn_replay_pending(c, feed_client);
  nghttp2_submit_goaway(h->cs, NGHTTP2_FLAG_NONE, 0, NGHTTP2_HTTP_1_1_REQUIRED,
                        (const uint8_t *)why, sizeof(why) - 1);
  flush(h->cs, &c->client);
  cp_conn_finish(c, "h2_not_supported_upstream");
}


void cp_conn_h2_entry(cp_conn_t *c) {
  cp_h2_t *h = calloc(1, sizeof(*h));

  if (h == NULL || sessions_new(c, h) != 0) {
    if (h != NULL) {
      h2_free(h);
    }
    cp_conn_fail(c, CP_ENOMEM, "h2_setup_failed");
    return;
  }
  c->proto = h;
  c->proto_free = h2_free;
  cp_leg_want_read(&c->client, 1);
  cp_leg_want_read(&c->upstream, 1);
  if (c->blocked || c->h2_refuse) {
    /* No origin to talk to: every stream is answered here (502), or the
     * session is refused. */
    nghttp2_session_del(h->us);
    h->us = NULL;
  }
  if (c->h2_refuse) {
    cp_leg_close(&c->upstream);
    refuse(c, h);
    return;
  }
  /* The origin's SETTINGS may have come with its handshake. */
  if (c->early.len > 0) {
    cp_buf_t tmp = c->early;

    cp_buf_init(&c->early, tmp.limit);
    feed(c, &c->upstream, tmp.data, tmp.len);
    cp_buf_free(&tmp);
  }
  cp_conn_arm_timer(c); /* H2's own timeout, not the handshake's */
  /* A prior-knowledge client's preface, read before the origin said h2. */
  cp_conn_replay_pending(c, feed_client);
  pump(c);
}


void cp_conn_h2_on_shutdown(cp_conn_t *c) {
  cp_h2_t *h = relay(c);

  /* Graceful: no new stream, the open ones finish (within --grace);
   * the session ends once they have. */
  nghttp2_submit_goaway(h->cs, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(h->cs),
                        NGHTTP2_NO_ERROR, NULL, 0);
  pump(c);
}


void cp_conn_h2_on_data(cp_conn_t *c, cp_leg_t *leg, const char *data,
                        size_t len) {
  feed(c, leg, data, len);
}


void cp_conn_h2_on_eof(cp_conn_t *c, cp_leg_t *leg) {
  if (leg == &c->client) {
    cp_conn_abort(c, "client_closed");
    return;
  }
  upstream_lost(c, "the upstream closed the connection");
  pump(c);
}


void cp_conn_h2_on_error(cp_conn_t *c, cp_leg_t *leg, int err) {
  if (leg == &c->client) {
    cp_conn_fail(c, err, "client_error");
    return;
  }
  upstream_lost(c, uv_strerror(err));
  pump(c);
}


void cp_conn_h2_on_drained(cp_conn_t *c, cp_leg_t *leg) {
  (void)leg;
  pump(c);
}


void cp_conn_h2_on_timeout(cp_conn_t *c, double secs) {
  cp_h2_t *h = relay(c);

  if (h->nstreams > 0) {
    cp_conn_log(c, CP_LOG_WARN,
                "h2: no stream moved for %.1f s "
                "(--body-idle-timeout): %u stream(s) cut",
                secs, h->nstreams);
    cp_conn_abort(c, "body_idle_timeout");
    return;
  }
  /* An idle connection: say goodbye properly, then close. */
  nghttp2_session_terminate_session(h->cs, NGHTTP2_NO_ERROR);
  flush(h->cs, &c->client);
  cp_conn_finish(c, "idle_timeout");
}
