/* Minting against a real CA hierarchy created in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "pki/ca.h"
#include "base/err.h"
#include "pki/mint.h"

typedef struct {
  char dir[64];
  cp_ca_t ca;
  EVP_PKEY *key;
  cp_minter_t m;
  cp_minter_t self;
} fixture_t;


static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));
  char err[512];

  if (f == NULL)
    return -1;
  snprintf(f->dir, sizeof(f->dir), "/tmp/cp-mint-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  strcat(f->dir, "/ca");
  if (cp_ca_load_or_create(&f->ca, f->dir, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  f->key = cp_mint_key_new();
  if (f->key == NULL ||
      cp_minter_init(&f->m, f->key, f->ca.intermediate, f->ca.inter_key) != 0 ||
      cp_minter_init(&f->self, f->key, NULL, NULL) != 0)
    return -1;
  *state = f;
  return 0;
}


static int teardown(void **state) {
  fixture_t *f = *state;
  char cmd[128];

  cp_minter_free(&f->m);
  cp_minter_free(&f->self);
  EVP_PKEY_free(f->key);
  cp_ca_free(&f->ca);
  f->dir[strlen(f->dir) - 3] = '\0';
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
  if (system(cmd) != 0)
    return -1;
  free(f);
  return 0;
}


/* Verifies leaf against the modern root with the intermediate as the
 * untrusted chain, for the given host (DNS or IP). */
static int verify_leaf(fixture_t *f, X509 *leaf, const char *host) {
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  STACK_OF(X509) *chain = sk_X509_new_null();
  X509_VERIFY_PARAM *vp;
  int ok;

  X509_STORE_add_cert(store, f->ca.root);
  sk_X509_push(chain, f->ca.intermediate);
  X509_STORE_CTX_init(ctx, store, leaf, chain);
  vp = X509_STORE_CTX_get0_param(ctx);
  if (strchr(host, ':') != NULL || strspn(host, "0123456789.") == strlen(host))
    X509_VERIFY_PARAM_set1_ip_asc(vp, host);
  else
    X509_VERIFY_PARAM_set1_host(vp, host, 0);
  ok = X509_verify_cert(ctx);
  X509_STORE_CTX_free(ctx);
  sk_X509_free(chain);
  X509_STORE_free(store);
  return ok;
}


static void test_dns_leaf_verifies(void **state) {
  fixture_t *f = *state;
  X509 *leaf = NULL;

  assert_int_equal(cp_mint_leaf(&f->m, "www.example.test", NULL, &leaf), 0);
  assert_int_equal(verify_leaf(f, leaf, "www.example.test"), 1);
  assert_int_equal(verify_leaf(f, leaf, "other.example.test"), 0);
  assert_int_equal(X509_check_issued(f->ca.intermediate, leaf), X509_V_OK);
  /* Backdated an hour, valid 30 days. */
  assert_true(X509_cmp_time(X509_get0_notBefore(leaf), NULL) < 0);
  X509_free(leaf);
}


static void test_ip_leaves(void **state) {
  fixture_t *f = *state;
  X509 *leaf = NULL;

  assert_int_equal(cp_mint_leaf(&f->m, "127.0.0.1", NULL, &leaf), 0);
  assert_int_equal(verify_leaf(f, leaf, "127.0.0.1"), 1);
  X509_free(leaf);
  leaf = NULL;
  assert_int_equal(cp_mint_leaf(&f->m, "::1", NULL, &leaf), 0);
  assert_int_equal(verify_leaf(f, leaf, "::1"), 1);
  X509_free(leaf);
}


static void test_serials_differ_and_key_shared(void **state) {
  fixture_t *f = *state;
  X509 *a = NULL, *b = NULL;

  assert_int_equal(cp_mint_leaf(&f->m, "a.test", NULL, &a), 0);
  assert_int_equal(cp_mint_leaf(&f->m, "a.test", NULL, &b), 0);
  assert_int_not_equal(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(a), X509_get0_serialNumber(b)),
      0);
  assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)), 1);
  X509_free(a);
  X509_free(b);
}


static void test_long_name_has_no_cn(void **state) {
  fixture_t *f = *state;
  char host[200];
  X509 *leaf = NULL;

  /* Two 40-character labels: a valid name longer than 64. */
  memset(host, 'a', 81);
  host[40] = '.';
  strcpy(host + 81, ".example.test");
  assert_int_equal(cp_mint_leaf(&f->m, host, NULL, &leaf), 0);
  assert_int_equal(X509_NAME_get_index_by_NID(X509_get_subject_name(leaf),
                                              NID_commonName, -1),
                   -1);
  assert_int_equal(verify_leaf(f, leaf, host), 1);
  X509_free(leaf);
}


static void test_bad_host_refused(void **state) {
  fixture_t *f = *state;
  X509 *leaf = NULL;

  assert_int_not_equal(cp_mint_leaf(&f->m, "bad host", NULL, &leaf), 0);
  assert_null(leaf);
  assert_int_not_equal(cp_mint_leaf(&f->m, "", NULL, &leaf), 0);
  assert_null(leaf);
}


static void test_names_and_validity_opts(void **state) {
  fixture_t *f = *state;
  static const char *const names[] = {"other.test", "127.0.0.2"};
  cp_mint_opts_t o = {-60L * 86400, -30L * 86400, names, 2, NULL, 0};
  X509 *leaf = NULL;

  assert_int_equal(cp_mint_leaf(&f->m, "asked.test", &o, &leaf), 0);
  /* Names from the options, not the asked host; validity in the past. */
  assert_int_equal(X509_check_host(leaf, "other.test", 0, 0, NULL), 1);
  assert_int_equal(X509_check_host(leaf, "asked.test", 0, 0, NULL), 0);
  assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.2", 0), 1);
  assert_true(X509_cmp_time(X509_get0_notAfter(leaf), NULL) < 0);
  X509_free(leaf);
}


static void test_self_signed(void **state) {
  fixture_t *f = *state;
  X509 *leaf = NULL;

  assert_int_equal(cp_mint_leaf(&f->self, "self.test", NULL, &leaf), 0);
  assert_int_equal(X509_check_issued(leaf, leaf), X509_V_OK);
  assert_int_equal(X509_verify(leaf, f->key), 1);
  X509_free(leaf);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dns_leaf_verifies),
      cmocka_unit_test(test_ip_leaves),
      cmocka_unit_test(test_serials_differ_and_key_shared),
      cmocka_unit_test(test_long_name_has_no_cn),
      cmocka_unit_test(test_bad_host_refused),
      cmocka_unit_test(test_names_and_validity_opts),
      cmocka_unit_test(test_self_signed),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
