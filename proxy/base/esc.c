#include "base/esc.h"

#include <string.h>

static const char hex[] = "0123456789abcdef";


/* One UTF-8 sequence at p (n bytes left) as a code point; returns its
 * length, or 0 when p does not start a valid sequence (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_decode(const unsigned char *p, size_t n, unsigned long *cp) {
  unsigned long c, min;
  size_t need, i;

  if (p[0] < 0x80) {
    *cp = p[0];
    return 1;
  }
  if (p[0] >= 0xc2 && p[0] <= 0xdf) {
    need = 2;
    c = p[0] & 0x1fu;
    min = 0x80;
  } else if ((p[0] & 0xf0) == 0xe0) {
    need = 3;
    c = p[0] & 0x0fu;
    min = 0x800;
  } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
    need = 4;
    c = p[0] & 0x07u;
    min = 0x10000;
  } else {
    return 0;
  }
  if (n < need) {
    return 0;
  }
  for (i = 1; i < need; i++) {
    if ((p[i] & 0xc0) != 0x80) {
      return 0;
    }
    c = (c << 6) | (p[i] & 0x3fu);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
    return 0;
  }
  *cp = c;
  return need;
}


/* Code points a reader cannot see but that change what is seen: bidi
 * controls (Trojan Source, CVE-2021-42574), zero-width characters, line
 * and paragraph separators, invisible operators, the BOM, interlinear
 * annotation and tag characters. */
static int is_hidden(unsigned long c) {
  return c == 0x061c || c == 0x180e || (c >= 0x200b && c <= 0x200f) ||
         (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2064) ||
         (c >= 0x2066 && c <= 0x206f) || c == 0xfeff ||
         (c >= 0xfff9 && c <= 0xfffb) || c == 0xe0001 ||
         (c >= 0xe0020 && c <= 0xe007f);
}


/* "\xNN", "\uNNNN" or "\UNNNNNNNN" for c into w; returns its length. */
static size_t escape_of(unsigned long c, char tag, char *w) {
  size_t digits = tag == 'x' ? 2 : tag == 'u' ? 4 : 8;
  size_t i;

  w[0] = '\\';
  w[1] = tag;
  for (i = 0; i < digits; i++) {
    w[2 + i] = hex[(c >> (4 * (digits - 1 - i))) & 0xfu];
  }
  return 2 + digits;
}


size_t cp_esc_term(char *out, size_t cap, const void *in, size_t len,
                   unsigned flags) {
  const unsigned char *p = in;
  size_t i = 0, o = 0;

  if (cap == 0) {
    return 0;
  }
  while (i < len) {
    unsigned long c = 0;
    size_t n = utf8_decode(p + i, len - i, &c);
    const char *w = (const char *)p + i;
    size_t wl = n;
    char tmp[12];

    if (n == 0) {
      wl = escape_of(p[i], 'x', tmp);
      w = tmp;
      n = 1;
    } else if ((flags & CP_ESC_UTF8_ONLY) ||
               (c == '\n' && (flags & CP_ESC_KEEP_LF))) {
      /* kept as it is */
    } else if (c < 0x20 || c == 0x7f) {
      wl = escape_of(c, 'x', tmp);
      w = tmp;
    } else if ((c >= 0x80 && c <= 0x9f) || is_hidden(c)) {
      wl = escape_of(c, c > 0xffff ? 'U' : 'u', tmp);
      w = tmp;
    }
    if (o + wl >= cap) {
      break; /* cut between whole characters */
    }
    memcpy(out + o, w, wl);
    o += wl;
    i += n;
  }
  out[o] = '\0';
  return o;
}


const char *cp_esc_str(char *out, size_t cap, const char *s) {
  if (cap > 0) {
    out[0] = '\0';
  }
  if (s != NULL) {
    cp_esc_term(out, cap, s, strlen(s), 0);
  }
  return out;
}


int cp_esc_utf8_valid(const void *in, size_t len) {
  const unsigned char *p = in;
  size_t i = 0;

  while (i < len) {
    unsigned long c;
    size_t n = utf8_decode(p + i, len - i, &c);

    if (n == 0) {
      return 0;
    }
    i += n;
  }
  return 1;
}
