#include "base/buf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"


void cp_buf_init(cp_buf_t *b, size_t limit) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->limit = limit;
}


void cp_buf_free(cp_buf_t *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}


static int buf_reserve(cp_buf_t *b, size_t extra) {
  size_t need;
  size_t cap;
  char *p;

  if (extra > b->limit || b->len > b->limit - extra) {
    return CP_ENOMEM;
  }
  need = b->len + extra;
  if (need <= b->cap) {
    return 0;
  }
  cap = b->cap ? b->cap : 256;
  while (cap < need) {
    cap *= 2;
  }
  if (cap > b->limit) {
    cap = b->limit;
  }
  p = realloc(b->data, cap);
  if (p == NULL) {
    return CP_ENOMEM;
  }
  b->data = p;
  b->cap = cap;
  return 0;
}


int cp_buf_append(cp_buf_t *b, const void *data, size_t len) {
  int rc;

  if (len == 0) {
    return 0;
  }
  rc = buf_reserve(b, len);
  if (rc != 0) {
    return rc;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  return 0;
}


int cp_buf_append_str(cp_buf_t *b, const char *s) {
  return cp_buf_append(b, s, strlen(s));
}


int cp_buf_appendf(cp_buf_t *b, const char *fmt, ...) {
  char small[512];
  char *big;
  va_list ap;
  int n;
  int rc;

  va_start(ap, fmt);
  n = vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if (n < 0) {
    return CP_EINVAL;
  }
  if ((size_t)n < sizeof(small)) {
    return cp_buf_append(b, small, (size_t)n);
  }
  big = malloc((size_t)n + 1);
  if (big == NULL) {
    return CP_ENOMEM;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  rc = cp_buf_append(b, big, (size_t)n);
  free(big);
  return rc;
}


void cp_buf_consume(cp_buf_t *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}


void cp_buf_reset(cp_buf_t *b) {
  b->len = 0;
}


int cp_str_ieq(const char *s, size_t len, const char *lit) {
  size_t i;

  for (i = 0; i < len; i++) {
    if (lit[i] == '\0' ||
        tolower((unsigned char)s[i]) != tolower((unsigned char)lit[i])) {
      return 0;
    }
  }
  return lit[len] == '\0';
}
