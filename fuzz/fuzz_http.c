/* The HTTP/1 parser as the proxy drives it: the first byte picks a
 * request or a response (and the body-only mode the bridge and the
 * control API use), the rest arrives in pieces whose sizes come from the
 * data, messages follow one another as on a keep-alive connection. */
#include <stdint.h>
#include <string.h>

#include "http/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cp_http_msg_t m;
  cp_buf_t out;
  size_t off = 1, step;
  int rc = 0, msgs = 0;

  if (size < 2) {
    return 0;
  }
  cp_http_msg_init(&m, data[0] & 1 ? CP_HTTP_RESPONSE : CP_HTTP_REQUEST, 4096);
  m.body_only = (data[0] & 2) != 0;
  m.peer_http11 = (data[0] & 4) != 0;
  m.want_keepalive = (data[0] & 8) != 0;
  step = 1 + (data[0] >> 4) * 7;
  cp_buf_init(&out, 1 << 20);
  while (off < size && msgs < 16) {
    size_t n = size - off < step ? size - off : step, used = 0;

    rc = cp_http_msg_feed(&m, (const char *)data + off, n, &used, &out);
    if (rc < 0) {
      break;
    }
    off += used;
    if (rc == CP_HTTP_DONE) {
      cp_http_msg_field(&m, "host", &n);
      cp_http_msg_reset(&m);
      cp_buf_reset(&out);
      msgs++;
    } else if (used == 0) {
      break;
    }
  }
  if (rc >= 0 && off >= size) {
    size_t used = 0;

    cp_http_msg_feed(&m, NULL, 0, &used, &out); /* EOF */
  }
  cp_buf_free(&out);
  cp_http_msg_free(&m);
  return 0;
}
