/* The HTTP/2 request path of the relay: the bytes a client sends after the
 * preface, through nghttp2's server session, each request's header block
 * kept as the relay keeps it (cp_h2_head_t) and turned into the HTTP/1.1
 * request the bridge would write (h2h1). */
#include <stdint.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "http/h2_head.h"
#include "http/h2h1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  cp_h2_head_t head;
  cp_buf_t out;
} ctx_t;


static int on_header(nghttp2_session *s, const nghttp2_frame *fr,
                     const uint8_t *name, size_t nl, const uint8_t *value,
                     size_t vl, uint8_t flags, void *ud) {
  ctx_t *c = ud;

  (void)s;
  (void)fr;
  (void)flags;
  if (cp_h2_head_add(&c->head, name, nl, value, vl) != 0) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}


static int on_frame(nghttp2_session *s, const nghttp2_frame *fr, void *ud) {
  ctx_t *c = ud;
  nghttp2_nv nv[CP_HTTP_MAX_FIELDS + 1];
  const char *err = NULL;
  int chunked = 0;

  (void)s;
  if (fr->hd.type == NGHTTP2_HEADERS) {
    cp_h2_head_nv(&c->head, nv, 1);
    cp_h2h1_request_head(&c->head, !(fr->hd.flags & NGHTTP2_FLAG_END_STREAM),
                         &c->out, &chunked, &err);
    cp_buf_reset(&c->out);
    cp_buf_reset(&c->head.b);
    c->head.n = 0;
  }
  return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char preface[] = NGHTTP2_CLIENT_MAGIC;
  nghttp2_session_callbacks *cbs = NULL;
  nghttp2_session *s = NULL;
  ctx_t c;

  cp_h2_head_init(&c.head, 8192);
  cp_buf_init(&c.out, 65536);
  if (nghttp2_session_callbacks_new(&cbs) == 0) {
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
    if (nghttp2_session_server_new(&s, cbs, &c) == 0 &&
        nghttp2_session_mem_recv(s, (const uint8_t *)preface,
                                 sizeof(preface) - 1) >= 0) {
      nghttp2_session_mem_recv(s, data, size);
    }
  }
  nghttp2_session_del(s);
  nghttp2_session_callbacks_del(cbs);
  cp_buf_free(&c.head.b);
  cp_buf_free(&c.out);
  return 0;
}
