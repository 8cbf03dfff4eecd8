/* An HTTP/2 header block as received (names and values in one bounded
 * buffer, at most CP_HTTP_MAX_FIELDS fields), turned back into nghttp2's
 * name/value list to submit on the other session. Owned by its stream;
 * cp_buf_free(&h->b) releases it. No I/O. */
#ifndef CP_H2_HEAD_H
#define CP_H2_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "base/buf.h"
#include "http/http_parse.h"

typedef struct cp_h2_head_s cp_h2_head_t;

struct cp_h2_head_s {
  cp_buf_t b; /* owned: names and values */
  struct {
    uint32_t no, nl, vo, vl;
  } f[CP_HTTP_MAX_FIELDS];
  int n;
};

void cp_h2_head_init(cp_h2_head_t *h, size_t limit);
/* 0, or CP_EHDRSIZE past the field count or the byte limit. */
int cp_h2_head_add(cp_h2_head_t *h, const uint8_t *name, size_t nl,
                   const uint8_t *value, size_t vl);
/* The block as nghttp2_nv pointing into h (nv: n + 1 entries), plus
 * "via: 2 chainproxy" when via is set. Returns the count. */
size_t cp_h2_head_nv(const cp_h2_head_t *h, nghttp2_nv *nv, int via);
/* The value of the field called name (e.g. ":path"), NUL-terminated into
 * out; "" when absent. Returns out. */
const char *cp_h2_head_get(const cp_h2_head_t *h, const char *name, char *out,
                           size_t cap);

#endif
