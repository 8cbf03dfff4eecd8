#include "conn/conn_h2.h"
#include "conn/conn_h2_int.h"

#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "conn/conn_respond.h"
#include "base/err.h"
#include "http/h2_head.h"
#include "base/host.h"
#include "base/list.h"

static cp_h2_t *relay(const cp_conn_t *c) {
  return c->h2.proto;
}


/* ---- request bodies, client to upstream -------------------------------- */

static ssize_t up_read(nghttp2_session *us, int32_t id, uint8_t *buf,
                       size_t len, uint32_t *flags, nghttp2_data_source *src,
                       void *ud) {
  h2_stream_t *s = src->ptr;
  size_t n = s->up.len < len ? s->up.len : len;

  (void)us;
  (void)id;
  (void)ud;
  if (n > 0) {
    memcpy(buf, s->up.data, n);
    cp_buf_consume(&s->up, n);
    cp_h2_client_took(s->c, s, n);
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
  size_t n = s->down.len < len ? s->down.len : len;
  nghttp2_nv nv[CP_HTTP_MAX_FIELDS + 1];

  (void)ud;
  if (n > 0) {
    memcpy(buf, s->down.data, n);
    cp_buf_consume(&s->down, n);
    s->bytes_down += n;
    cp_h2_up_took(s->c, s, n);
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
  h2_stream_t *s;

  if (fr->hd.type != NGHTTP2_HEADERS ||
      fr->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;
  }
  s = relay(c)->upstream_gone ? NULL : cp_h2_stream_new(c, fr->hd.stream_id);
  if (s == NULL) {
    nghttp2_submit_rst_stream(cs, NGHTTP2_FLAG_NONE, fr->hd.stream_id,
                              NGHTTP2_REFUSED_STREAM);
    return 0;
  }
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


/* The request head is complete: to the origin's session, or to the
 * bridge's HTTP/1.1 origin. */
void cp_h2_submit(cp_conn_t *c, h2_stream_t *s) {
  cp_h2_t *h = relay(c);
  nghttp2_nv nv[CP_HTTP_MAX_FIELDS + 1];
  nghttp2_data_provider prd;
  char m[8];

  s->head_request =
      strcmp(cp_h2_head_get(&s->req, ":method", m, sizeof(m)), "HEAD") == 0;
  if (h->us == NULL && h->ops != NULL && !h->upstream_gone) {
    s->uid = 0; /* queued on the HTTP/1.1 origin */
    h->ops->up_submit(c, s);
    return;
  }
  prd.source.ptr = s;
  prd.read_callback = up_read;
  /* No upstream session when the whole session is being refused. */
  s->uid = h->us == NULL ? -1
                         : nghttp2_submit_request(h->us, NULL, nv,
                                                  cp_h2_head_nv(&s->req, nv, 1),
                                                  s->up_eof ? NULL : &prd, s);
  if (s->uid < 0) {
    s->u_closed = 1;
    cp_h2_reset_from_up(c, s, NGHTTP2_REFUSED_STREAM);
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
  cp_conn_error_body(&s->down, cp_conn_block_msg(c), c->tls.block_detail);
  s->status = 502;
  s->outcome = c->tls.block_code;
  s->u_closed = 1; /* no upstream stream */
  s->down_eof = 1;
  s->resp_sent = 1;
  s->t_first = cp_conn_now(c);
  nv[0] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)"502", 7, 3, 0};
  nv[1] = (nghttp2_nv){(uint8_t *)"content-type", (uint8_t *)ctype, 12,
                       sizeof(ctype) - 1, 0};
  nv[2] = (nghttp2_nv){(uint8_t *)"x-chainproxy-error",
                       (uint8_t *)c->tls.block_code, 18,
                       strlen(c->tls.block_code), 0};
  prd.source.ptr = s;
  prd.read_callback = down_read;
  nghttp2_submit_response(h->cs, s->cid, nv, 3, &prd);
}


static int on_c_frame(nghttp2_session *cs, const nghttp2_frame *fr, void *ud) {
  cp_conn_t *c = ud;
  h2_stream_t *s = nghttp2_session_get_stream_user_data(cs, fr->hd.stream_id);
  int end = (fr->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

  if (s == NULL) {
    return 0;
  }
  if (fr->hd.type == NGHTTP2_HEADERS && s->uid < 0 &&
      fr->headers.cat == NGHTTP2_HCAT_REQUEST && c->tls.blocked) {
    answer_blocked(c, s);
  } else if (fr->hd.type == NGHTTP2_HEADERS && s->uid < 0 &&
             fr->headers.cat == NGHTTP2_HCAT_REQUEST) {
    s->up_eof = end;
    cp_h2_submit(c, s);
  } else if ((fr->hd.type == NGHTTP2_DATA || fr->hd.type == NGHTTP2_HEADERS) &&
             end) {
    s->up_eof = 1;
    cp_h2_up_ready(c, s);
  }
  return 0;
}


static int on_c_data(nghttp2_session *cs, uint8_t flags, int32_t id,
                     const uint8_t *data, size_t len, void *ud) {
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
  cp_h2_up_ready(ud, s);
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
    } else if (s->uid >= 0 && !s->u_closed && h->ops != NULL) {
      h->ops->up_reset(ud, s);
    }
  }
  if (s->uid < 0) {
    s->u_closed = 1;
  }
  cp_h2_stream_done(s->c, s);
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


void cp_h2_respond(cp_conn_t *c, h2_stream_t *s, int end) {
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
  if (!s->c_closed && h->cs != NULL) {
    nghttp2_submit_response(h->cs, s->cid, nv, cp_h2_head_nv(&s->resp, nv, 1),
                            end ? NULL : &prd);
  } else if (!s->c_closed && h->ops != NULL) {
    h->ops->client_respond(c, s, end);
  }
  s->resp.n = 0; /* the block now collects trailers */
  cp_buf_reset(&s->resp.b);
}


static int on_u_frame(nghttp2_session *us, const nghttp2_frame *fr, void *ud) {
  cp_conn_t *c = ud;
  h2_stream_t *s = nghttp2_session_get_stream_user_data(us, fr->hd.stream_id);
  int end = (fr->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

  if (s == NULL) {
    return 0;
  }
  if (fr->hd.type == NGHTTP2_HEADERS && !s->resp_sent) {
    cp_h2_respond(c, s, end);
  } else if (fr->hd.type == NGHTTP2_HEADERS && end) {
    s->trailers = s->resp.n > 0;
    s->down_eof = 1;
  } else if (fr->hd.type == NGHTTP2_DATA && end) {
    s->down_eof = 1;
  }
  if (s->resp_sent && s->down_eof) {
    cp_h2_down_ready(c, s);
  }
  return 0;
}


static int on_u_data(nghttp2_session *us, uint8_t flags, int32_t id,
                     const uint8_t *data, size_t len, void *ud) {
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
  cp_h2_down_ready(ud, s);
  return 0;
}


static int on_u_close(nghttp2_session *us, int32_t id, uint32_t error,
                      void *ud) {
  cp_conn_t *c = ud;
  h2_stream_t *s = nghttp2_session_get_stream_user_data(us, id);

  if (s == NULL) {
    return 0;
  }
  s->u_closed = 1;
  if (error != NGHTTP2_NO_ERROR || !s->down_eof) {
    /* The origin reset the stream (or its session ended): pass it on. */
    cp_h2_reset_from_up(c, s, error);
  }
  cp_h2_stream_done(s->c, s);
  return 0;
}


/* ---- sessions and I/O -------------------------------------------------- */

/* The conn is closing: streams still open end here, recorded as reset. */
static void h2_free(void *p) {
  cp_h2_t *h = p;

  while (h->streams != NULL) {
    h->streams->reset = 1;
    cp_h2_stream_end(h, h->streams);
  }
  nghttp2_session_del(h->cs);
  nghttp2_session_del(h->us);
  if (h->ops != NULL) {
    h->ops->free(h->side);
  }
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


void cp_h2_pump(cp_conn_t *c) {
  cp_h2_t *h = relay(c);
  int done;

  if (c->state != CP_CONN_H2) {
    return;
  }
  /* The bridge's HTTP/1.1 side first: it may submit a new stream. */
  done = h->ops != NULL && h->ops->pump(c) != 0;
  if (c->state != CP_CONN_H2) {
    return;
  }
  /* A write error, or a session the origin ended (GOAWAY) with nothing
   * left to do: no new stream can be served. */
  if (h->us != NULL && !h->upstream_gone &&
      (flush(h->us, &c->upstream) != 0 ||
       (!nghttp2_session_want_read(h->us) &&
        !nghttp2_session_want_write(h->us)))) {
    cp_h2_upstream_lost(c, "the upstream ended the session");
  }
  if (flush(h->cs, &c->client) != 0) {
    cp_conn_abort(c, "client_write_failed");
    return;
  }
  if (done) {
    cp_conn_finish(c, "done"); /* the HTTP/1.1 client is done */
    return;
  }
  if (h->cs != NULL && !nghttp2_session_want_read(h->cs) &&
      !nghttp2_session_want_write(h->cs) && h->nstreams == 0) {
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
void cp_h2_upstream_lost(cp_conn_t *c, const char *why) {
  cp_h2_t *h = relay(c);
  h2_stream_t *s;

  if (h->upstream_gone) {
    return;
  }
  h->upstream_gone = 1;
  cp_conn_log(c, CP_LOG_INFO, "h2 upstream ended: %s", why);
  for (s = h->streams; s != NULL; s = s->next) {
    if (!s->down_eof || !s->resp_sent) {
      s->u_closed = 1;
      /* One the origin never saw may be retried by the client. */
      cp_h2_reset_from_up(
          c, s, s->uid == 0 ? NGHTTP2_REFUSED_STREAM : NGHTTP2_INTERNAL_ERROR);
    }
  }
  if (h->cs != NULL) {
    nghttp2_submit_goaway(h->cs, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(h->cs),
                          NGHTTP2_NO_ERROR, NULL, 0);
  }
}


static void feed(cp_conn_t *c, cp_leg_t *leg, const char *data, size_t len) {
  cp_h2_t *h = relay(c);
  nghttp2_session *s = leg == &c->client ? h->cs : h->us;
  ssize_t n;

  if (s == NULL && h->ops != NULL) {
    h->ops->feed(c, leg, data, len); /* the bridge's HTTP/1.1 side */
    cp_h2_pump(c);
    return;
  }
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
    cp_h2_upstream_lost(c, nghttp2_strerror((int)n));
  }
  cp_h2_pump(c);
}


static void feed_client(cp_conn_t *c, const char *data, size_t len) {
  feed(c, &c->client, data, len);
}


/* A client that started HTTP/2 without ALPN, to an origin that does not
 * speak it: the answer is HTTP/2's own refusal (GOAWAY
 * HTTP_1_1_REQUIRED, with the reason as debug data), which HTTP/2
 * clients report (--h2 bridge translates instead: conn_h2_bridge). */
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


void cp_h2_start(cp_conn_t *c, const cp_h2_ops_t *ops, void *side,
                 int client_h1) {
  cp_h2_t *h = calloc(1, sizeof(*h));

  if (h == NULL || sessions_new(c, h) != 0) {
    if (h != NULL) {
      h2_free(h);
    } else if (ops != NULL) {
      ops->free(side);
    }
    cp_conn_fail(c, CP_ENOMEM, "h2_setup_failed");
    return;
  }
  h->ops = ops;
  h->side = side;
  c->h2.proto = h;
  c->h2.proto_free = h2_free;
  cp_leg_want_read(&c->client, 1);
  cp_leg_want_read(&c->upstream, 1);
  if (c->tls.blocked || c->h2.refuse || (ops != NULL && !client_h1)) {
    /* No HTTP/2 origin: every stream is answered here (502), refused, or
     * bridged to an HTTP/1.1 origin. */
    nghttp2_session_del(h->us);
    h->us = NULL;
    cp_buf_reset(&c->early); /* an HTTP/1.1 origin does not speak first */
  }
  if (ops != NULL && client_h1) {
    nghttp2_session_del(h->cs); /* the client speaks HTTP/1.1 */
    h->cs = NULL;
  }
  if (c->h2.refuse) {
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
  cp_h2_pump(c);
}


void cp_conn_h2_on_shutdown(cp_conn_t *c) {
  cp_h2_t *h = relay(c);

  /* Graceful: no new stream, the open ones finish (within --grace);
   * the session ends once they have. */
  if (h->cs != NULL) {
    nghttp2_submit_goaway(h->cs, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(h->cs),
                          NGHTTP2_NO_ERROR, NULL, 0);
  } else if (h->ops != NULL) {
    h->ops->shutdown(c);
  }
  cp_h2_pump(c);
}


void cp_conn_h2_on_cut(cp_conn_t *c, const char *reason) {
  h2_stream_t *s;

  /* h2_free records every stream still open when the conn is freed. */
  for (s = relay(c)->streams; s != NULL; s = s->next) {
    if (s->outcome == NULL) {
      s->outcome = reason;
    }
  }
}


void cp_conn_h2_on_data(cp_conn_t *c, cp_leg_t *leg, const char *data,
                        size_t len) {
  feed(c, leg, data, len);
}


void cp_conn_h2_on_eof(cp_conn_t *c, cp_leg_t *leg) {
  cp_h2_t *h = relay(c);

  if (leg == &c->client && h->cs == NULL && h->nstreams == 0) {
    cp_conn_finish(c, "client_closed"); /* HTTP/1.1, between requests */
    return;
  }
  if (leg == &c->client) {
    cp_conn_abort(c, "client_closed");
    return;
  }
  if (h->us == NULL && h->ops != NULL) {
    h->ops->feed(c, leg, NULL, 0); /* ends a body delimited by the close */
  }
  cp_h2_upstream_lost(c, "the upstream closed the connection");
  cp_h2_pump(c);
}


void cp_conn_h2_on_error(cp_conn_t *c, cp_leg_t *leg, int err) {
  if (leg == &c->client) {
    cp_conn_fail(c, err, "client_error");
    return;
  }
  cp_h2_upstream_lost(c, uv_strerror(err));
  cp_h2_pump(c);
}


void cp_conn_h2_on_drained(cp_conn_t *c, cp_leg_t *leg) {
  (void)leg;
  cp_h2_pump(c);
}


void cp_conn_h2_on_timeout(cp_conn_t *c, double secs) {
  cp_h2_t *h = relay(c);

  if (c->h2.head_pending) {
    cp_conn_log(c, CP_LOG_WARN,
                "no complete request head within %.1f s (--head-timeout)",
                secs);
    cp_conn_abort(c, "head_timeout");
    return;
  }
  if (h->nstreams > 0) {
    cp_conn_log(c, CP_LOG_WARN,
                "h2: no stream moved for %.1f s "
                "(--body-idle-timeout): %u stream(s) cut",
                secs, h->nstreams);
    cp_conn_abort(c, "body_idle_timeout");
    return;
  }
  /* An idle connection: say goodbye properly, then close. */
  if (h->cs != NULL) {
    nghttp2_session_terminate_session(h->cs, NGHTTP2_NO_ERROR);
    flush(h->cs, &c->client);
  }
  cp_conn_finish(c, "idle_timeout");
}
