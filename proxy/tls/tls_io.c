#include "tls/tls_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "base/err.h"


static void on_msg(int write_p, int version, int content_type, const void *buf,
                   size_t len, SSL *ssl, void *arg) {
  cp_tls_t *t = SSL_get_app_data(ssl);
  const unsigned char *p = buf;

  (void)version;
  (void)arg;
  if (t == NULL || len < 1) {
    return;
  }
  if (write_p) {
    /* An alert we sent: this side refused the peer. */
    if (content_type == SSL3_RT_ALERT && len >= 2 && p[1] != 0) {
      t->alert_out = p[1];
    }
    return;
  }
  /* The alert the peer sent is what it says about the chain we served;
   * a CertificateRequest says the server wants a client certificate. */
  if (content_type == SSL3_RT_ALERT && len >= 2) {
    t->alert_in = p[1];
  } else if (content_type == SSL3_RT_HANDSHAKE &&
             p[0] == SSL3_MT_CERTIFICATE_REQUEST) {
    t->cert_requested = 1;
  }
}


int cp_tls_new(cp_tls_t **out, SSL_CTX *ctx, int server) {
  cp_tls_t *t = calloc(1, sizeof(*t));

  if (t == NULL) {
    return CP_ENOMEM;
  }
  t->alert_in = t->alert_out = -1;
  t->ssl = SSL_new(ctx);
  t->rbio = BIO_new(BIO_s_mem());
  t->wbio = BIO_new(BIO_s_mem());
  if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
    BIO_free(t->rbio);
    BIO_free(t->wbio);
    SSL_free(t->ssl);
    free(t);
    ERR_clear_error();
    return CP_ETLS;
  }
  /* An empty read BIO means "try again", not EOF. */
  BIO_set_mem_eof_return(t->rbio, -1);
  SSL_set_bio(t->ssl, t->rbio, t->wbio);
  SSL_set_app_data(t->ssl, t);
  SSL_set_msg_callback(t->ssl, on_msg);
  if (server) {
    SSL_set_accept_state(t->ssl);
  } else {
    SSL_set_connect_state(t->ssl);
  }
  *out = t;
  return 0;
}


void cp_tls_free(cp_tls_t *t) {
  if (t == NULL) {
    return;
  }
  cp_verify_rec_clear(&t->verify);
  X509_free(t->leaf);
  /* Freed without a close_notify, OpenSSL marks the session unresumable,
   * and a resumed session is the cached one (resume.c). Upstreams close
   * that way all the time; a fatal alert has already dropped it. */
  if (t->ssl != NULL && !SSL_is_server(t->ssl) &&
      SSL_is_init_finished(t->ssl)) {
    SSL_set_shutdown(t->ssl, SSL_get_shutdown(t->ssl) | SSL_SENT_SHUTDOWN);
  }
  SSL_free(t->ssl);
  free(t);
}


/* Drains this connection's errors into t->err so they never show up in
 * another connection's log. */
static void drain_errors(cp_tls_t *t) {
  unsigned long e;
  int first = 1;

  while ((e = ERR_get_error()) != 0) {
    if (first) {
      ERR_error_string_n(e, t->err, sizeof(t->err));
      t->err_lib = ERR_GET_LIB(e);
      t->err_reason = ERR_GET_REASON(e);
      first = 0;
    }
  }
}


int cp_tls_feed(cp_tls_t *t, const char *data, size_t len) {
  size_t keep = sizeof(t->first) - t->nfirst;

  /* The peer's first bytes tell TLS from something else (plain HTTP). */
  if (keep > len) {
    keep = len;
  }
  memcpy(t->first + t->nfirst, data, keep);
  t->nfirst += keep;
  return BIO_write(t->rbio, data, (int)len) == (int)len ? 0 : CP_ENOMEM;
}


int cp_tls_handshake(cp_tls_t *t) {
  int rc;

  ERR_clear_error();
  rc = SSL_do_handshake(t->ssl);
  if (rc == 1) {
    t->done = 1;
    return CP_TLS_DONE;
  }
  switch (SSL_get_error(t->ssl, rc)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return CP_TLS_WANT;
  case SSL_ERROR_WANT_CLIENT_HELLO_CB:
    return CP_TLS_HELLO;
  default:
    drain_errors(t);
    if (t->err[0] == '\0') {
      snprintf(t->err, sizeof(t->err), "the peer closed the connection");
    }
    return CP_ETLS;
  }
}


int cp_tls_read(cp_tls_t *t, char *buf, size_t cap, size_t *n) {
  int rc;

  *n = 0;
  ERR_clear_error();
  rc = SSL_read_ex(t->ssl, buf, cap, n);
  if (rc == 1) {
    return CP_TLS_DONE;
  }
  switch (SSL_get_error(t->ssl, rc)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return CP_TLS_WANT;
  case SSL_ERROR_ZERO_RETURN:
    return CP_TLS_EOF;
  default:
    drain_errors(t);
    return CP_ETLS;
  }
}


int cp_tls_write(cp_tls_t *t, const char *data, size_t len) {
  size_t n = 0;

  ERR_clear_error();
  /* Memory BIOs grow, so a write never blocks; backpressure is applied
   * on the socket side by the leg. */
  if (SSL_write_ex(t->ssl, data, len, &n) != 1 || n != len) {
    drain_errors(t);
    return CP_ETLS;
  }
  return 0;
}


void cp_tls_close_notify(cp_tls_t *t) {
  if (t->done && !t->shut) {
    t->shut = 1;
    ERR_clear_error();
    SSL_shutdown(t->ssl);
    ERR_clear_error();
  }
}


size_t cp_tls_pending(const cp_tls_t *t) {
  return BIO_ctrl_pending(t->wbio);
}


/* A drained memory BIO keeps its largest size; past this it is renewed. */
#define CP_TLS_BIO_KEEP 4096


static BIO *fresh_if_big(BIO *b, size_t keep) {
  BUF_MEM *m = NULL;

  if (BIO_ctrl_pending(b) != 0 || BIO_get_mem_ptr(b, &m) != 1 || m == NULL ||
      m->max <= keep) {
    return NULL;
  }
  return BIO_new(BIO_s_mem());
}


static void drop_buffers(cp_tls_t *t, size_t keep) {
  BIO *b;

  SSL_free_buffers(t->ssl); /* refuses when a record is half read */
  if ((b = fresh_if_big(t->rbio, keep)) != NULL) {
    BIO_set_mem_eof_return(b, -1); /* as cp_tls_new set it */
    SSL_set0_rbio(t->ssl, b);      /* frees the old one */
    t->rbio = b;
  }
  if ((b = fresh_if_big(t->wbio, keep)) != NULL) {
    SSL_set0_wbio(t->ssl, b);
    t->wbio = b;
  }
}


void cp_tls_idle(cp_tls_t *t) {
  drop_buffers(t, CP_TLS_BIO_KEEP);
}


void cp_tls_compact(cp_tls_t *t) {
  drop_buffers(t, 0);
}


size_t cp_tls_take(cp_tls_t *t, char *out, size_t cap) {
  int n = BIO_read(t->wbio, out, (int)cap);

  return n > 0 ? (size_t)n : 0;
}


int cp_tls_set_min_version(SSL_CTX *ctx, int version) {
  SSL_CTX_set_min_proto_version(ctx, version);
  if (version >= TLS1_2_VERSION) {
    return 0;
  }
  SSL_CTX_set_security_level(ctx, 0);
  return 1;
}


int cp_tls_ssl_set_min_version(SSL *ssl, int version) {
  SSL_set_min_proto_version(ssl, version);
  if (version >= TLS1_2_VERSION) {
    return 0;
  }
  SSL_set_security_level(ssl, 0);
  return 1;
}
