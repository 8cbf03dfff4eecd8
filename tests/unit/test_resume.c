/* The upstream session cache: the packed diagnosis comes back whole, the
 * least recently used entry goes first, an entry ends with its session
 * or with the first expiry in its chain, and a flag keeps a result out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tls/resume.h"
#include "tls/tls_io.h"


static cp_verify_result_t *sample(int nchain, int nbuilt, time_t na) {
  cp_verify_result_t *r = calloc(1, sizeof(*r));
  int i;

  r->ok = 0;
  r->error_depth = 1;
  r->error_code = 10;
  r->nchain = nchain;
  r->nbuilt = nbuilt;
  for (i = 0; i < nchain; i++) {
    snprintf(r->chain[i].subject, sizeof(r->chain[i].subject), "CN=c%d", i);
    r->chain[i].na = na + i;
  }
  for (i = 0; i < nbuilt; i++) {
    snprintf(r->built[i].subject, sizeof(r->built[i].subject), "CN=b%d", i);
    r->built[i].na = na + 100 + i;
  }
  snprintf(r->hint, sizeof(r->hint), "the intermediate expired");
  snprintf(r->root_subject, sizeof(r->root_subject), "CN=root");
  r->cause = "expired";
  r->nwho = 2;
  return r;
}


static void test_pack_roundtrip(void **state) {
  cp_verify_result_t *r = sample(3, 4, time(NULL) + 1000);
  cp_verify_result_t *back = calloc(1, sizeof(*back));
  cp_resume_blob_t *b = cp_resume_pack(r);

  (void)state;
  assert_non_null(b);
  assert_int_equal(b->nchain, 3);
  assert_int_equal(b->nbuilt, 4);
  assert_int_equal(b->expires, r->chain[0].na);
  memset(back, 0xa5, sizeof(*back));
  cp_resume_unpack(b, back);
  /* Unused elements are not stored: compare what is used. */
  assert_memory_equal(back, r, offsetof(cp_verify_result_t, chain));
  assert_memory_equal(back->chain, r->chain, 3 * sizeof(r->chain[0]));
  assert_memory_equal(back->built, r->built, 4 * sizeof(r->built[0]));
  assert_string_equal(back->hint, r->hint);
  assert_string_equal(back->root_subject, "CN=root");
  assert_ptr_equal(back->cause, r->cause);
  assert_int_equal(back->nwho, 2);
  cp_resume_blob_unref(b);
  free(back);
  free(r);
}


static SSL_SESSION *session(long timeout) {
  SSL_SESSION *s = SSL_SESSION_new();
  static const unsigned char id[] = "0123456789abcdef";

  assert_non_null(s);
  assert_int_equal(SSL_SESSION_set1_id(s, id, 16), 1);
  SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION);
  SSL_SESSION_set_time(s, (long)time(NULL));
  SSL_SESSION_set_timeout(s, timeout);
  return s;
}


/* One full handshake's worth: the session and its result into the
 * cache, as the connection code does. */
static void keep(cp_resume_t *rc, const char *host, long timeout, time_t na) {
  cp_resume_slot_t slot;
  cp_verify_result_t *r = sample(2, 3, na);

  memset(&slot, 0, sizeof(slot));
  slot.cache = rc;
  cp_resume_key(&slot, host, 443, host, (const unsigned char *)"\x02h2", 3, 0,
                NULL);
  slot.sess = session(timeout);
  assert_int_equal(cp_resume_keep(&slot, r), 0);
  assert_null(slot.sess); /* taken by the cache */
  cp_resume_slot_clear(&slot);
  free(r);
}


static int offered(cp_resume_t *rc, SSL_CTX *ctx, const char *host,
                   const unsigned char *alpn, size_t alpn_len) {
  cp_resume_slot_t slot;
  SSL *ssl = SSL_new(ctx);
  int ok;

  memset(&slot, 0, sizeof(slot));
  slot.cache = rc;
  cp_resume_key(&slot, host, 443, host, alpn, alpn_len, 0, NULL);
  ok = cp_resume_offer(&slot, ssl, time(NULL));
  assert_int_equal(ok, slot.offered);
  cp_resume_slot_clear(&slot);
  SSL_free(ssl);
  return ok;
}


static void test_cache(void **state) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  const unsigned char *h2 = (const unsigned char *)"\x02h2";
  time_t later = time(NULL) + 86400;
  cp_resume_t rc;

  (void)state;
  assert_int_equal(cp_resume_init(&rc, 2), 0);
  keep(&rc, "a.test", 300, later);
  keep(&rc, "b.test", 300, later);
  assert_int_equal(rc.n, 2);
  assert_true(offered(&rc, ctx, "a.test", h2, 3));
  /* Another ALPN offer is another key. */
  assert_false(
      offered(&rc, ctx, "a.test", (const unsigned char *)"\x08http/1.1", 9));
  /* a was used last: c pushes b out. */
  keep(&rc, "c.test", 300, later);
  assert_int_equal(rc.n, 2);
  assert_false(offered(&rc, ctx, "b.test", h2, 3));
  assert_true(offered(&rc, ctx, "a.test", h2, 3));
  assert_true(offered(&rc, ctx, "c.test", h2, 3));
  /* A chain element that has expired ends the entry: not kept. */
  keep(&rc, "d.test", 300, time(NULL) - 5);
  assert_false(offered(&rc, ctx, "d.test", h2, 3));
  /* A session that has run out is not offered. */
  keep(&rc, "e.test", 0, later);
  assert_false(offered(&rc, ctx, "e.test", h2, 3));
  cp_resume_flush(&rc);
  assert_int_equal(rc.n, 0);
  assert_false(offered(&rc, ctx, "a.test", h2, 3));
  cp_resume_free(&rc);
  SSL_CTX_free(ctx);
}


static void test_off(void **state) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  cp_resume_slot_t slot;
  SSL *ssl = SSL_new(ctx);
  cp_verify_result_t *r = sample(1, 1, time(NULL) + 1000);
  cp_resume_t rc;

  (void)state;
  assert_int_equal(cp_resume_init(&rc, 0), 0);
  memset(&slot, 0, sizeof(slot));
  slot.cache = &rc;
  cp_resume_key(&slot, "a.test", 443, "a.test", NULL, 0, 0, NULL);
  assert_false(cp_resume_offer(&slot, ssl, time(NULL)));
  assert_null(slot.cache); /* nothing is kept when resumption is off */
  assert_int_equal(cp_resume_keep(&slot, r), 0);
  assert_int_equal(rc.n, 0);
  cp_resume_slot_clear(&slot);
  cp_resume_free(&rc);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  free(r);
}


/* A server context with a throwaway self-signed P-256 certificate. */
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


/* Moves what one side wrote to the other. */
static void carry(SSL *from, SSL *to) {
  char buf[16384];
  int n;

  while ((n = BIO_read(SSL_get_wbio(from), buf, sizeof(buf))) > 0) {
    assert_int_equal(BIO_write(SSL_get_rbio(to), buf, n), n);
  }
}


static SSL *mem_ssl(SSL_CTX *ctx) {
  SSL *ssl = SSL_new(ctx);

  assert_non_null(ssl);
  SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  return ssl;
}


/* TLS 1.3 sends its tickets a round trip after the handshake: on a busy
 * machine they reach chainproxy after the client's own handshake is over
 * (cp_resume_slot_done). Such a ticket is still kept with the result. */
static void test_late_ticket(void **state) {
  SSL_CTX *sctx = server_ctx();
  SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
  cp_verify_result_t *r = sample(1, 1, time(NULL) + 1000);
  cp_resume_slot_t slot;
  cp_resume_t rc;
  cp_tls_t t;
  SSL *cli, *srv;
  char byte;
  int i;

  (void)state;
  assert_int_equal(cp_resume_init(&rc, 4), 0);
  SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
  cp_resume_install(cctx);
  cli = mem_ssl(cctx);
  srv = mem_ssl(sctx);
  memset(&t, 0, sizeof(t));
  memset(&slot, 0, sizeof(slot));
  t.session_slot = &slot;
  SSL_set_app_data(cli, &t);
  SSL_set_connect_state(cli);
  SSL_set_accept_state(srv);
  slot.cache = &rc;
  cp_resume_key(&slot, "127.0.0.1", 443, "origin.test", NULL, 0, 0, NULL);
  assert_false(cp_resume_offer(&slot, cli, time(NULL)));
  for (i = 0; i < 10 && !SSL_is_init_finished(cli); i++) {
    SSL_do_handshake(cli);
    carry(cli, srv);
    SSL_do_handshake(srv);
    carry(srv, cli);
  }
  assert_true(SSL_is_init_finished(cli));
  /* The server has finished too and written its tickets; not read yet. */
  SSL_do_handshake(srv);
  assert_int_equal(cp_resume_keep(&slot, r), 0);
  assert_int_equal(rc.n, 0);
  cp_resume_slot_done(&slot);
  carry(srv, cli);
  assert_true(SSL_read(cli, &byte, 1) <= 0); /* processes the tickets */
  assert_int_equal(rc.n, 1);
  assert_null(slot.blob); /* released once stored */
  cp_resume_slot_clear(&slot);
  SSL_free(cli);
  SSL_free(srv);
  SSL_CTX_free(cctx);
  SSL_CTX_free(sctx);
  cp_resume_free(&rc);
  free(r);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pack_roundtrip),
      cmocka_unit_test(test_cache),
      cmocka_unit_test(test_off),
      cmocka_unit_test(test_late_ticket),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
