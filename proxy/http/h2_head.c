#include "http/h2_head.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"


void cp_h2_head_init(cp_h2_head_t *h, size_t limit) {
  cp_buf_init(&h->b, limit);
  h->n = 0;
}


int cp_h2_head_add(cp_h2_head_t *h, const uint8_t *name, size_t nl,
                   const uint8_t *value, size_t vl) {
  if (h->n == CP_HTTP_MAX_FIELDS) {
    return CP_EHDRSIZE;
  }
  h->f[h->n].no = (uint32_t)h->b.len;
  h->f[h->n].nl = (uint32_t)nl;
  h->f[h->n].vo = (uint32_t)(h->b.len + nl);
  h->f[h->n].vl = (uint32_t)vl;
  if (cp_buf_append(&h->b, name, nl) != 0 ||
      cp_buf_append(&h->b, value, vl) != 0) {
    return CP_EHDRSIZE;
  }
  h->n++;
  return 0;
}


/* The block as nghttp2_nv (pointing into h), plus "via" when asked. */
size_t cp_h2_head_nv(const cp_h2_head_t *h, nghttp2_nv *nv, int via) {
  static const char via_name[] = "via", via_value[] = "2 chainproxy";
  int i;

  for (i = 0; i < h->n; i++) {
    nv[i].name = (uint8_t *)h->b.data + h->f[i].no;
    nv[i].namelen = h->f[i].nl;
    nv[i].value = (uint8_t *)h->b.data + h->f[i].vo;
    nv[i].valuelen = h->f[i].vl;
    nv[i].flags = NGHTTP2_NV_FLAG_NONE;
  }
  if (via) {
    nv[i].name = (uint8_t *)via_name;
    nv[i].namelen = sizeof(via_name) - 1;
    nv[i].value = (uint8_t *)via_value;
    nv[i].valuelen = sizeof(via_value) - 1;
    nv[i].flags = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE;
    i++;
  }
  return (size_t)i;
}


/* The value of a field of h (e.g. ":path"), NUL-terminated into out. */
const char *cp_h2_head_get(const cp_h2_head_t *h, const char *name, char *out,
                           size_t cap) {
  int i;

  out[0] = '\0';
  for (i = 0; i < h->n; i++) {
    if (h->f[i].nl == strlen(name) &&
        memcmp(h->b.data + h->f[i].no, name, h->f[i].nl) == 0) {
      snprintf(out, cap, "%.*s", (int)h->f[i].vl, h->b.data + h->f[i].vo);
      break;
    }
  }
  return out;
}
