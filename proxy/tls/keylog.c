#include "tls/keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static int keylog_index = -1; /* set once: the SSL_CTX ex_data slot */


static void index_new(void) {
  keylog_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}


int cp_keylog_open(cp_keylog_t *kl, const char *path, char *err,
                   size_t errlen) {
  struct stat st;
  int fd;

  memset(kl, 0, sizeof(*kl));
  kl->fd = -1;
  pthread_mutex_init(&kl->mu, NULL);
  kl->inited = 1;
  if (path == NULL) {
    return 0;
  }
  fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return cp_errf(err, errlen, CP_EIO, "--keylog %s: %s", path,
                   strerror(errno));
  }
  if (fstat(fd, &st) != 0) {
    close(fd);
    return cp_errf(err, errlen, CP_EIO, "--keylog %s: %s", path,
                   strerror(errno));
  }
  if (S_ISREG(st.st_mode) &&
      ((st.st_mode & 077) != 0 || st.st_uid != geteuid())) {
    /* The secrets of every session: only their owner may read them. */
    close(fd);
    return cp_errf(err, errlen, CP_ECONFIG,
                   "--keylog %s: the file is mode %03o%s; a key log holds "
                   "the secrets of every TLS session: chmod 600 it, or "
                   "name a new file (created 0600)",
                   path, (unsigned)(st.st_mode & 0777),
                   st.st_uid != geteuid() ? " and another user's" : "");
  }
  kl->fd = fd;
  cp_wline_init(&kl->out, fd);
  return 0;
}


static void on_keylog_line(const SSL *ssl, const char *line) {
  cp_keylog_t *kl = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keylog_index);
  char buf[512];
  size_t len = strlen(line);

  if (kl == NULL || kl->fd < 0 || len + 1 > sizeof(buf)) {
    return;
  }
  memcpy(buf, line, len);
  buf[len++] = '\n';
  pthread_mutex_lock(&kl->mu);
  if (cp_wline_write(&kl->out, buf, len) == 0) {
    kl->written++;
  } else {
    kl->failed++;
  }
  pthread_mutex_unlock(&kl->mu);
  OPENSSL_cleanse(buf, sizeof(buf));
}


int cp_keylog_attach(SSL_CTX *ctx, cp_keylog_t *kl) {
  if (kl == NULL || kl->fd < 0) {
    return 0;
  }
  pthread_once(&index_once, index_new);
  if (keylog_index < 0 || SSL_CTX_set_ex_data(ctx, keylog_index, kl) != 1) {
    return CP_ETLS;
  }
  SSL_CTX_set_keylog_callback(ctx, on_keylog_line);
  return 0;
}


void cp_keylog_client_random(const SSL *ssl, char *out, size_t cap) {
  static const char digits[] = "0123456789abcdef";
  unsigned char r[SSL3_RANDOM_SIZE];
  size_t n, i;

  out[0] = '\0';
  if (ssl == NULL || cap < 2 * sizeof(r) + 1) {
    return;
  }
  n = SSL_get_client_random(ssl, r, sizeof(r));
  for (i = 0; i < n; i++) {
    out[2 * i] = digits[r[i] >> 4];
    out[2 * i + 1] = digits[r[i] & 0xfu];
  }
  out[2 * n] = '\0';
}


void cp_keylog_close(cp_keylog_t *kl) {
  if (!kl->inited) {
    return;
  }
  kl->inited = 0;
  if (kl->fd >= 0) {
    close(kl->fd);
  }
  kl->fd = -1;
  pthread_mutex_destroy(&kl->mu);
}
