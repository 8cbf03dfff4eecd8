/* cp_buf_t: a growable byte buffer with a hard size limit. The buffer owns its
 * bytes; cp_buf_free() releases them. Appends past the limit fail instead of
 * growing, so a peer can never make a connection buffer without bound. */
#ifndef CP_BUF_H
#define CP_BUF_H

#include <stddef.h>

typedef struct cp_buf_s cp_buf_t;

struct cp_buf_s {
  char *data;   /* owned */
  size_t len;   /* bytes in use */
  size_t cap;   /* bytes allocated */
  size_t limit; /* appends beyond this fail with CP_ENOMEM */
};

void cp_buf_init(cp_buf_t *b, size_t limit);
void cp_buf_free(cp_buf_t *b);
int cp_buf_append(cp_buf_t *b, const void *data, size_t len);
int cp_buf_append_str(cp_buf_t *b, const char *s);
int cp_buf_appendf(cp_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void cp_buf_consume(cp_buf_t *b, size_t n);
void cp_buf_reset(cp_buf_t *b);

/* Case-insensitive comparison of a length-delimited string with a C string. */
int cp_str_ieq(const char *s, size_t len, const char *lit);

#endif
