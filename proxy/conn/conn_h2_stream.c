/* The HTTP/2 relay's streams: made, recorded (the request event) and
 * freed here, and told to the right side: the other nghttp2 session, or
 * the bridge's HTTP/1.1 side through cp_h2_t.ops. */
#include <stdlib.h>
#include <string.h>

#include "conn/conn_h2_int.h"
#include "base/host.h"
#include "base/list.h"

static cp_h2_t *relay(const cp_conn_t *c) {
  return c->h2.proto;
}


/* ---- one side or the other: a session, or the bridge's HTTP/1.1 ------- */

void cp_h2_client_took(cp_conn_t *c, h2_stream_t *s, size_t n) {
  cp_h2_t *h = relay(c);

  if (s->c_closed) {
    return;
  }
  if (h->cs != NULL) {
    /* Only now may the client send more: end-to-end flow control. */
    nghttp2_session_consume(h->cs, s->cid, n);
  } else if (h->ops != NULL) {
    h->ops->client_consumed(c, s);
  }
}


void cp_h2_up_took(cp_conn_t *c, h2_stream_t *s, size_t n) {
  cp_h2_t *h = relay(c);

  if (s->u_closed) {
    return;
  }
  if (h->us != NULL) {
    nghttp2_session_consume(h->us, s->uid, n);
  } else if (h->ops != NULL) {
    h->ops->up_consumed(c, s);
  }
}


void cp_h2_down_ready(cp_conn_t *c, h2_stream_t *s) {
  cp_h2_t *h = relay(c);

  if (s->c_closed) {
    return;
  }
  if (h->cs != NULL) {
    nghttp2_session_resume_data(h->cs, s->cid);
  } else if (h->ops != NULL) {
    h->ops->client_resume(c, s);
  }
}


void cp_h2_up_ready(cp_conn_t *c, h2_stream_t *s) {
  cp_h2_t *h = relay(c);

  if (s->uid < 0 || s->u_closed) {
    return;
  }
  if (h->us != NULL) {
    nghttp2_session_resume_data(h->us, s->uid);
  } else if (h->ops != NULL) {
    h->ops->up_resume(c, s);
  }
}


/* The origin reset s (or is gone): the client is told. */
void cp_h2_reset_from_up(cp_conn_t *c, h2_stream_t *s, uint32_t err) {
  cp_h2_t *h = relay(c);

  s->reset = 1;
  if (s->c_closed) {
    return;
  }
  if (h->cs != NULL) {
    nghttp2_submit_rst_stream(h->cs, NGHTTP2_FLAG_NONE, s->cid,
                              err ? err : NGHTTP2_INTERNAL_ERROR);
  } else if (h->ops != NULL) {
    h->ops->client_reset(c, s);
  }
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
  r.http_version = relay(c)->cs != NULL ? "2" : NULL;
  r.http_minor = 1;
  r.upstream_http_version =
      (relay(c)->cs != NULL) == (relay(c)->us != NULL || c->tls.blocked) ? NULL
      : relay(c)->us != NULL                                             ? "2"
                             : "1.1";
  r.stream_id = relay(c)->cs != NULL ? s->cid : 0;
  r.bytes_from_client = s->bytes_up;
  r.bytes_to_client = s->bytes_down;
  r.ttfb_ms = s->t_first ? s->t_first - s->t_start : 0;
  r.total_ms = now - s->t_start;
  r.outcome = s->outcome ? s->outcome : s->reset ? "reset" : "ok";
  r.scheme = "https";
  r.send_ms = -1;
  r.server_ip = c->parent == NULL ? c->dial.server_ip : NULL;
  c->env->stats->v[CP_STAT_REQUESTS]++;
  cp_conn_count_request(c);
  cp_conn_log(c, CP_LOG_INFO, "%s %s -> %d (%s stream %d, %llu bytes)", method,
              url, s->status,
              r.upstream_http_version == NULL ? "h2"
              : r.http_version == NULL        ? "HTTP/1.1 to h2"
                                              : "h2 to HTTP/1.1",
              s->cid, (unsigned long long)s->bytes_down);
  cp_event_request(c->env->events, &b, &r);
}


static void stream_free(cp_h2_t *h, h2_stream_t *s) {
  CP_LIST_UNLINK(h->streams, s);
  h->nstreams--;
  s->c->h2.streams = h->nstreams;
  cp_buf_free(&s->req.b);
  cp_buf_free(&s->resp.b);
  cp_buf_free(&s->up);
  cp_buf_free(&s->down);
  free(s);
}


void cp_h2_stream_end(cp_h2_t *h, h2_stream_t *s) {
  emit_request(s);
  stream_free(h, s);
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


void cp_h2_stream_done(cp_conn_t *c, h2_stream_t *s) {
  stream_maybe_free(relay(c), s);
}


h2_stream_t *cp_h2_stream_new(cp_conn_t *c, int32_t cid) {
  cp_h2_t *h = relay(c);
  h2_stream_t *s = calloc(1, sizeof(*s));

  if (s == NULL) {
    return NULL;
  }
  s->c = c;
  s->cid = cid;
  s->uid = -1;
  s->t_start = cp_conn_now(c);
  cp_h2_head_init(&s->req, c->env->cfg->max_header_bytes);
  cp_h2_head_init(&s->resp, c->env->cfg->max_header_bytes);
  cp_buf_init(&s->up, STREAM_BUF);
  cp_buf_init(&s->down, STREAM_BUF);
  CP_LIST_PUSH(h->streams, s);
  h->nstreams++;
  c->h2.streams = h->nstreams;
  return s;
}
