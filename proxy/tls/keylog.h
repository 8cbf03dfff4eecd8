/* The TLS key log (--keylog, SSLKEYLOGFILE): the NSS key log format
 * (RFC 9850), one line per secret, for both legs (the client-facing and
 * the upstream SSL_CTX), through OpenSSL's keylog callback. Lines go out
 * whole (base/wline.c) under the key log's own mutex, so the workers'
 * lines never interleave. The file is a secret: created 0600, and an
 * existing file that its group or others can read or write is refused.
 * The cp_keylog_t owns its descriptor; cp_keylog_close closes it after
 * every SSL_CTX attached to it is freed. */
#ifndef CP_KEYLOG_H
#define CP_KEYLOG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "base/wline.h"

typedef struct cp_keylog_s {
  pthread_mutex_t mu;
  int fd;              /* owned; -1: no key log */
  cp_wline_t out;      /* whole lines to fd */
  uint64_t written;    /* lines written */
  uint64_t failed;     /* lines the file could not take */
  unsigned inited : 1; /* cp_keylog_open ran: cp_keylog_close undoes it */
} cp_keylog_t;

/* Opens path for appending (created 0600). Returns 0, or a CP_E* code
 * with err saying why (a file others can read is CP_ECONFIG). */
int cp_keylog_open(cp_keylog_t *kl, const char *path, char *err, size_t errlen);
/* Every handshake on ctx logs its secrets to kl (borrowed: it outlives
 * ctx). kl NULL or without a file: nothing. */
int cp_keylog_attach(SSL_CTX *ctx, cp_keylog_t *kl);
/* The handshake's client random as 64 hex digits (out: 65 bytes); "" when
 * there is none yet. */
void cp_keylog_client_random(const SSL *ssl, char *out, size_t cap);
void cp_keylog_close(cp_keylog_t *kl);

#endif
