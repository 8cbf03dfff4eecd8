/* The verifier's recorder and result builder on chains made in memory:
 * every error is recorded with its depth, the built chain and the store's
 * part are kept, and the text form marks what failed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509_vfy.h>

#include "ca.h"
#include "diag.h"
#include "mint.h"
#include "verify.h"

typedef struct {
  cp_ca_t ca;
  EVP_PKEY *key;
  cp_minter_t m;
  X509_STORE *store;
  cp_verify_rec_t rec;
  cp_verify_result_t r;
} fixture_t;


static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));

  if (f == NULL || cp_ca_make_untrusted(&f->ca) != 0) {
    return -1;
  }
  f->key = cp_mint_key_new();
  f->store = X509_STORE_new();
  if (f->key == NULL || f->store == NULL ||
      cp_minter_init(&f->m, f->key, f->ca.untrusted_inter,
                     f->ca.untrusted_inter_key) != 0 ||
      X509_STORE_add_cert(f->store, f->ca.untrusted_root) != 1) {
    return -1;
  }
  *state = f;
  return 0;
}


static int teardown(void **state) {
  fixture_t *f = *state;

  cp_verify_rec_clear(&f->rec);
  X509_STORE_free(f->store);
  cp_minter_free(&f->m);
  EVP_PKEY_free(f->key);
  cp_ca_free(&f->ca);
  free(f);
  return 0;
}


/* Verifies leaf (+ the intermediate when with_inter) for host. */
static void run(fixture_t *f, long not_before, long not_after, int with_inter,
                const char *host) {
  cp_mint_opts_t o = {not_before, not_after, NULL, 0};
  STACK_OF(X509) *chain = sk_X509_new_null();
  X509_STORE_CTX *sctx = X509_STORE_CTX_new();
  X509 *leaf = NULL;

  assert_int_equal(cp_mint_leaf(&f->m, "a.test", &o, &leaf), 0);
  sk_X509_push(chain, leaf);
  if (with_inter) {
    X509_up_ref(f->ca.untrusted_inter);
    sk_X509_push(chain, f->ca.untrusted_inter);
  }
  assert_int_equal(X509_STORE_CTX_init(sctx, f->store, leaf, chain), 1);
  assert_int_equal(X509_STORE_CTX_set_default(sctx, "ssl_server"), 1);
  X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(sctx), host, 0);
  cp_verify_run(sctx, &f->rec);
  cp_verify_result_build(&f->rec, chain, &f->r);
  X509_STORE_CTX_free(sctx);
  sk_X509_pop_free(chain, X509_free);
}


static void test_good_chain(void **state) {
  fixture_t *f = *state;

  run(f, -3600, 86400, 1, "a.test");
  assert_true(f->r.ok);
  assert_int_equal(f->r.nerrors, 0);
  assert_int_equal(f->r.nchain, 2);
  assert_int_equal(f->r.nbuilt, 3);
  assert_false(f->r.built[1].in_store);
  assert_true(f->r.built[2].in_store);
  assert_true(f->r.built[2].self_issued);
  assert_non_null(strstr(f->r.chain[0].subject, "CN=a.test"));
  assert_string_equal(f->r.chain[0].names, "DNS:a.test");
  assert_string_equal(f->r.chain[0].key_type, "EC");
  assert_int_equal(strlen(f->r.chain[0].sha256), 64);
}


static void test_every_error_recorded(void **state) {
  fixture_t *f = *state;
  int i, expired = 0, mismatch = 0;

  /* Expired and for another name: both errors, not just the first. */
  run(f, -2 * 86400, -86400, 1, "b.test");
  assert_false(f->r.ok);
  for (i = 0; i < f->r.nerrors; i++) {
    assert_int_equal(f->r.errors[i].depth, 0);
    expired |= f->r.errors[i].code == X509_V_ERR_CERT_HAS_EXPIRED;
    mismatch |= f->r.errors[i].code == X509_V_ERR_HOSTNAME_MISMATCH;
  }
  assert_true(expired && mismatch);
  assert_non_null(strstr(f->r.failing.subject, "CN=a.test"));
}


static void test_missing_intermediate(void **state) {
  fixture_t *f = *state;
  cp_buf_t b;

  run(f, -3600, 86400, 0, "a.test");
  assert_false(f->r.ok);
  assert_int_equal(f->r.error_depth, 0);
  assert_int_equal(f->r.error_code,
                   X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  cp_diag_classify(&f->r, "a.test", CP_DIAG_WARN_DAYS);
  assert_string_equal(f->r.cause, "incomplete_chain");
  cp_buf_init(&b, 1 << 16);
  cp_verify_format(&f->r, "a.test:443", "a.test", &b);
  cp_buf_append(&b, "", 1);
  assert_non_null(strstr(b.data, "verification FAILED"));
  assert_non_null(strstr(b.data, "[FAIL] CN=a.test"));
  assert_non_null(strstr(b.data, "=>  error 20"));
  assert_non_null(strstr(b.data, "cause:  incomplete_chain"));
  cp_buf_free(&b);
}


static void test_no_certificate(void **state) {
  fixture_t *f = *state;

  cp_verify_rec_clear(&f->rec);
  cp_verify_result_build(&f->rec, NULL, &f->r);
  assert_false(f->r.ok); /* never "ok" for nothing verified */
  assert_int_equal(f->r.error_code, X509_V_ERR_UNSPECIFIED);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_good_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_every_error_recorded, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_missing_intermediate, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_no_certificate, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
