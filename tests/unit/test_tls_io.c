/* cp_tls_t pumped against another cp_tls_t through their memory BIOs:
 * full TLS 1.3 and TLS 1.2 handshakes with a throwaway self-signed
 * certificate, application data both ways (more than one record),
 * close_notify read as EOF, the alert a refusing client sends recorded
 * on both sides, and the OpenSSL error queue empty after every call, as
 * the module promises. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/err.h"
#include "tls/tls_io.h"

#define ERR_CLEAN() assert_int_equal(ERR_peek_error(), 0)


static SSL_CTX *server_ctx(void) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  EVP_PKEY *k = EVP_EC_gen("P-256");
  X509 *x = X509_new();

  assert_non_null(ctx);
  assert_non_null(k);
  assert_non_null(x);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, k);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             (const unsigned char *)"origin.test", -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  assert_true(X509_sign(x, k, EVP_sha256()) > 0);
  assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
  assert_int_equal(SSL_CTX_use_PrivateKey(ctx, k), 1);
  X509_free(x);
  EVP_PKEY_free(k);
  return ctx;
}


static SSL_CTX *client_ctx(int version, int verify) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

  assert_non_null(ctx);
  SSL_CTX_set_min_proto_version(ctx, version);
  SSL_CTX_set_max_proto_version(ctx, version);
  /* verify on with an empty trust store: the self-signed leaf fails. */
  SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
  return ctx;
}


/* Moves what from wrote to to, as a leg does; returns the byte count. */
static size_t carry(cp_tls_t *from, cp_tls_t *to) {
  char buf[4096];
  size_t n, total = 0;

  while (cp_tls_pending(from) > 0) {
    n = cp_tls_take(from, buf, sizeof(buf));
    ERR_CLEAN();
    assert_true(n > 0);
    assert_int_equal(cp_tls_feed(to, buf, n), 0);
    ERR_CLEAN();
    total += n;
  }
  return total;
}


/* Drives both handshakes until both are done or one fails; returns the
 * client's last result (the server's in *srv_rc). */
static int pump_handshake(cp_tls_t *cli, cp_tls_t *srv, int *srv_rc) {
  int crc = CP_TLS_WANT, src = CP_TLS_WANT, i;

  for (i = 0; i < 10; i++) {
    if (crc == CP_TLS_WANT) {
      crc = cp_tls_handshake(cli);
      ERR_CLEAN();
    }
    carry(cli, srv);
    if (src == CP_TLS_WANT) {
      src = cp_tls_handshake(srv);
      ERR_CLEAN();
    }
    carry(srv, cli);
    if (crc != CP_TLS_WANT && src != CP_TLS_WANT) {
      break;
    }
  }
  *srv_rc = src;
  return crc;
}


/* Reads everything readable from t into out; returns the byte count. */
static size_t read_all(cp_tls_t *t, char *out, size_t cap, int *last) {
  size_t n, total = 0;
  int rc;

  for (;;) {
    rc = cp_tls_read(t, out + total, cap - total, &n);
    ERR_CLEAN();
    if (rc != CP_TLS_DONE) {
      break;
    }
    assert_true(n > 0);
    total += n;
  }
  *last = rc;
  return total;
}


/* The size a memory BIO's buffer has grown to (0: none allocated). */
static size_t mem_max(BIO *b) {
  BUF_MEM *m = NULL;

  assert_int_equal(BIO_get_mem_ptr(b, &m), 1);
  return m != NULL ? m->max : 0;
}


static void exchange(int version) {
  const size_t big = 100000; /* several records */
  SSL_CTX *sctx = server_ctx(), *cctx = client_ctx(version, 0);
  cp_tls_t *cli = NULL, *srv = NULL;
  char *msg = malloc(big), *got = malloc(big + 1);
  size_t i, n;
  int src, last;

  assert_non_null(msg);
  assert_non_null(got);
  for (i = 0; i < big; i++) {
    msg[i] = (char)(i * 13 + i / 256);
  }
  assert_int_equal(cp_tls_new(&cli, cctx, 0), 0);
  assert_int_equal(cp_tls_new(&srv, sctx, 1), 0);
  ERR_CLEAN();
  assert_int_equal(pump_handshake(cli, srv, &src), CP_TLS_DONE);
  assert_int_equal(src, CP_TLS_DONE);
  assert_true(cli->done);
  assert_true(srv->done);
  assert_int_equal(SSL_version(cli->ssl), version);
  assert_int_equal(SSL_version(srv->ssl), version);
  /* The server saw a TLS record first: a handshake record header. */
  assert_true(srv->nfirst > 0);
  assert_int_equal(srv->first[0], 0x16);
  assert_int_equal(cli->alert_in, -1);
  assert_int_equal(cli->alert_out, -1);
  assert_int_equal(srv->alert_in, -1);
  assert_int_equal(srv->alert_out, -1);
  /* Client to server, then server to client. */
  assert_int_equal(cp_tls_write(cli, msg, big), 0);
  ERR_CLEAN();
  carry(cli, srv);
  n = read_all(srv, got, big + 1, &last);
  assert_int_equal(last, CP_TLS_WANT);
  assert_int_equal(n, big);
  assert_memory_equal(got, msg, big);
  cp_tls_idle(srv);
  ERR_CLEAN();
  assert_int_equal(cp_tls_write(srv, "pong", 4), 0);
  ERR_CLEAN();
  carry(srv, cli);
  n = read_all(cli, got, big + 1, &last);
  assert_int_equal(last, CP_TLS_WANT);
  assert_int_equal(n, 4);
  assert_memory_equal(got, "pong", 4);
  cp_tls_idle(cli);
  ERR_CLEAN();
  /* Idle keeps a memory BIO buffer of a handshake's size; compact (a
   * quiet connection) gives it back too. */
  assert_true(mem_max(cli->rbio) > 0);
  cp_tls_compact(cli);
  cp_tls_compact(srv);
  ERR_CLEAN();
  assert_int_equal(mem_max(cli->rbio), 0);
  assert_int_equal(mem_max(cli->wbio), 0);
  assert_int_equal(mem_max(srv->rbio), 0);
  assert_int_equal(mem_max(srv->wbio), 0);
  /* After idle (buffers dropped) the connection still works. */
  assert_int_equal(cp_tls_write(srv, msg, big), 0);
  carry(srv, cli);
  n = read_all(cli, got, big + 1, &last);
  assert_int_equal(n, big);
  assert_memory_equal(got, msg, big);
  /* close_notify is EOF on the other side, not an error. */
  cp_tls_close_notify(cli);
  ERR_CLEAN();
  assert_true(cli->shut);
  carry(cli, srv);
  n = read_all(srv, got, big + 1, &last);
  assert_int_equal(n, 0);
  assert_int_equal(last, CP_TLS_EOF);
  /* alert_in records close_notify too (0): callers tell it apart. */
  assert_int_equal(srv->alert_in, SSL_AD_CLOSE_NOTIFY);
  assert_int_equal(cli->alert_out, -1); /* alert_out does not */
  cp_tls_free(cli);
  cp_tls_free(srv);
  ERR_CLEAN();
  SSL_CTX_free(cctx);
  SSL_CTX_free(sctx);
  free(msg);
  free(got);
}


static void test_tls13(void **state) {
  (void)state;
  exchange(TLS1_3_VERSION);
}


static void test_tls12(void **state) {
  (void)state;
  exchange(TLS1_2_VERSION);
}


/* A client that verifies, with nothing trusted, refuses the self-signed
 * leaf: it sends unknown_ca (48), records it as alert_out and fails
 * with the reason in t->err; the server records alert_in and fails too.
 * Neither leaves anything on the thread's error queue. */
static void refuse(int version) {
  SSL_CTX *sctx = server_ctx(), *cctx = client_ctx(version, 1);
  cp_tls_t *cli = NULL, *srv = NULL;
  int crc, src;

  assert_int_equal(cp_tls_new(&cli, cctx, 0), 0);
  assert_int_equal(cp_tls_new(&srv, sctx, 1), 0);
  crc = pump_handshake(cli, srv, &src);
  assert_int_equal(crc, CP_ETLS);
  assert_int_equal(src, CP_ETLS);
  assert_false(cli->done);
  assert_false(srv->done);
  assert_int_equal(cli->alert_out, SSL_AD_UNKNOWN_CA);
  assert_int_equal(srv->alert_in, SSL_AD_UNKNOWN_CA);
  assert_int_equal(cli->err_lib, ERR_LIB_SSL);
  assert_int_equal(cli->err_reason, SSL_R_CERTIFICATE_VERIFY_FAILED);
  assert_true(strlen(cli->err) > 0);
  assert_true(strlen(srv->err) > 0);
  assert_int_equal(srv->err_lib, ERR_LIB_SSL);
  cp_tls_free(cli);
  cp_tls_free(srv);
  ERR_CLEAN();
  SSL_CTX_free(cctx);
  SSL_CTX_free(sctx);
}


static void test_refused13(void **state) {
  (void)state;
  refuse(TLS1_3_VERSION);
}


static void test_refused12(void **state) {
  (void)state;
  refuse(TLS1_2_VERSION);
}


/* Bytes that are not TLS: the server fails, keeps the first bytes (how
 * the proxy tells plain HTTP from TLS) and the queue stays clean. */
static void test_not_tls(void **state) {
  SSL_CTX *sctx = server_ctx();
  cp_tls_t *srv = NULL;
  static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

  (void)state;
  assert_int_equal(cp_tls_new(&srv, sctx, 1), 0);
  assert_int_equal(cp_tls_feed(srv, req, sizeof(req) - 1), 0);
  assert_int_equal(srv->nfirst, sizeof(srv->first));
  assert_memory_equal(srv->first, req, sizeof(srv->first));
  assert_int_equal(cp_tls_handshake(srv), CP_ETLS);
  ERR_CLEAN();
  assert_int_equal(srv->err_lib, ERR_LIB_SSL);
  assert_true(strlen(srv->err) > 0);
  cp_tls_free(srv);
  SSL_CTX_free(sctx);
}


/* Below TLS 1.2 the security level goes to 0, and the caller is told. */
static void test_min_version(void **state) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL *ssl;

  (void)state;
  assert_int_equal(cp_tls_set_min_version(ctx, TLS1_2_VERSION), 0);
  assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
  assert_true(SSL_CTX_get_security_level(ctx) > 0);
  assert_int_equal(cp_tls_set_min_version(ctx, TLS1_VERSION), 1);
  assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_VERSION);
  assert_int_equal(SSL_CTX_get_security_level(ctx), 0);
  SSL_CTX_set_security_level(ctx, 1);
  ssl = SSL_new(ctx);
  assert_int_equal(cp_tls_ssl_set_min_version(ssl, TLS1_1_VERSION), 1);
  assert_int_equal(SSL_get_security_level(ssl), 0);
  assert_int_equal(SSL_get_min_proto_version(ssl), TLS1_1_VERSION);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tls13),     cmocka_unit_test(test_tls12),
      cmocka_unit_test(test_refused13), cmocka_unit_test(test_refused12),
      cmocka_unit_test(test_not_tls),   cmocka_unit_test(test_min_version),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
