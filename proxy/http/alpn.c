#include "http/alpn.h"

#include <string.h>

#include "base/err.h"


/* Each element: a length byte (1..255) and that many bytes; no empty
 * names and nothing left over. */
static int list_ok(const unsigned char *list, size_t len) {
  size_t off = 0;

  while (off < len) {
    if (list[off] == 0 || off + 1 + list[off] > len) {
      return 0;
    }
    off += 1 + list[off];
  }
  return 1;
}


int cp_alpn_parse_ext(const unsigned char *ext, size_t len, unsigned char *out,
                      size_t *outlen) {
  size_t n;

  *outlen = 0;
  if (len < 2) {
    return CP_EINVAL;
  }
  n = ((size_t)ext[0] << 8) | ext[1];
  if (n + 2 != len || n == 0 || n > CP_ALPN_MAX || !list_ok(ext + 2, n)) {
    return CP_EINVAL;
  }
  memcpy(out, ext + 2, n);
  *outlen = n;
  return 0;
}


size_t cp_alpn_relayable(const unsigned char *list, size_t len,
                         unsigned char *out, size_t cap) {
  size_t off = 0, used = 0;

  while (off < len && off + 1 + list[off] <= len) {
    size_t n = list[off];
    const unsigned char *name = list + off + 1;

    if (((n == 2 && memcmp(name, "h2", 2) == 0) ||
         (n == 8 && memcmp(name, "http/1.1", 8) == 0)) &&
        used + 1 + n <= cap && !cp_alpn_has(out, used, (const char *)name, n)) {
      out[used++] = (unsigned char)n;
      memcpy(out + used, name, n);
      used += n;
    }
    off += 1 + n;
  }
  return used;
}


int cp_alpn_has(const unsigned char *list, size_t len, const char *proto,
                size_t plen) {
  size_t off = 0;

  while (off < len && off + 1 + list[off] <= len) {
    if (list[off] == plen && memcmp(list + off + 1, proto, plen) == 0) {
      return 1;
    }
    off += 1 + list[off];
  }
  return 0;
}


char *cp_alpn_str(const unsigned char *list, size_t len, char *out,
                  size_t cap) {
  size_t off = 0, used = 0, i;

  if (cap == 0) {
    return out;
  }
  out[0] = '\0';
  while (off < len && off + 1 + list[off] <= len) {
    size_t n = list[off];

    if (used > 0 && used + 1 < cap) {
      out[used++] = ',';
    }
    for (i = 0; i < n && used + 1 < cap; i++) {
      unsigned char ch = list[off + 1 + i];

      out[used++] = ch > 0x20 && ch < 0x7f && ch != ',' ? (char)ch : '?';
    }
    off += 1 + n;
  }
  out[used] = '\0';
  return out;
}
