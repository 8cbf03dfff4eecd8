/* The catalogue as data: names to cases, ports, --listen's forms, and
 * the certificates each case is built from (in a temporary CA dir). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "app/origins_cmd.h"
#include "pki/catalogue.h"
#include "pki/profile.h"
#include "base/err.h"


static void test_names(void **state) {
  size_t n, i;
  const cp_cat_case_t *c = cp_catalogue_cases(&n);

  (void)state;
  assert_true(n >= 17 && n <= CP_CATALOGUE_MAX);
  for (i = 0; i < n; i++) {
    char host[96];

    assert_int_equal(cp_catalogue_find(c[i].name), (int)i);
    snprintf(host, sizeof(host), "%s.chainproxy.test", c[i].name);
    assert_int_equal(cp_catalogue_host_case(host), (int)i);
  }
  assert_int_equal(cp_catalogue_host_case("EXPIRED.ChainProxy.Test."),
                   cp_catalogue_find("expired"));
  assert_int_equal(cp_catalogue_host_case("chainproxy.test"),
                   CP_CATALOGUE_INDEX);
  assert_int_equal(cp_catalogue_host_case("nope.chainproxy.test"), -1);
  assert_int_equal(cp_catalogue_host_case("a.expired.chainproxy.test"), -1);
  assert_int_equal(cp_catalogue_host_case("expired.chainproxy.testx"), -1);
  assert_int_equal(cp_catalogue_host_case("xchainproxy.test"), -1);
  assert_int_equal(cp_catalogue_host_case("example.com"), -1);
  assert_int_equal(cp_catalogue_port(18600, CP_CATALOGUE_INDEX), 18600);
  assert_int_equal(cp_catalogue_port(18600, 0), 18601);
}


static void test_listen(void **state) {
  char host[64], err[256];
  uint16_t base = 0;

  (void)state;
  assert_int_equal(cp_origins_parse_listen("19000", 17, host, sizeof(host),
                                           &base, err, sizeof(err)),
                   0);
  assert_string_equal(host, "127.0.0.1");
  assert_int_equal(base, 19000);
  assert_int_equal(cp_origins_parse_listen("[::1]:19000-19017", 17, host,
                                           sizeof(host), &base, err,
                                           sizeof(err)),
                   0);
  assert_string_equal(host, "::1");
  assert_int_not_equal(cp_origins_parse_listen("127.0.0.1:19000-19010", 17,
                                               host, sizeof(host), &base, err,
                                               sizeof(err)),
                       0);
  assert_non_null(strstr(err, "18 ports"));
  assert_int_not_equal(cp_origins_parse_listen("localhost:19000", 17, host,
                                               sizeof(host), &base, err,
                                               sizeof(err)),
                       0);
  assert_int_not_equal(cp_origins_parse_listen("65530", 17, host, sizeof(host),
                                               &base, err, sizeof(err)),
                       0);
  assert_int_not_equal(cp_origins_parse_listen("12x", 17, host, sizeof(host),
                                               &base, err, sizeof(err)),
                       0);
}


/* The error OpenSSL's verification reports for case name, trusting the
 * case's own trust file or store (0: verifies). */
static int verify_in(cp_catalogue_t *cat, const char *name, int crl,
                     const char *store) {
  int i = cp_catalogue_find(name), j;
  X509_STORE *st = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
  const char *file = NULL;
  int rc;

  assert_true(i >= 0);
  for (j = 0; store != NULL && j < cat->nstores[i]; j++) {
    if (strcmp(cat->stores[i][j].name, store) == 0) {
      file = cat->stores[i][j].path;
    }
  }
  assert_int_equal(X509_STORE_load_file(st, store ? file : cat->trust[i]), 1);
  assert_int_equal(X509_STORE_CTX_init(ctx, st, cat->leaf[i], cat->chain[i]),
                   1);
  if (crl) {
    /* set0 takes no reference: crls (borrowing the CRL) outlives ctx. */
    sk_X509_CRL_push(crls, cat->crl);
    X509_STORE_CTX_set0_crls(ctx, crls);
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK);
  }
  X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(ctx), 1);
  rc = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(st);
  sk_X509_CRL_free(crls);
  return rc;
}


static int verify_case(cp_catalogue_t *cat, const char *name, int crl) {
  return verify_in(cat, name, crl, NULL);
}


static void test_build(void **state) {
  cp_catalogue_t cat;
  cp_profiles_t *p = malloc(sizeof(*p));
  char dir[] = "/tmp/cp-test-catalogue.XXXXXX", path[256], err[512];
  struct stat st;
  int i;

  (void)state;
  assert_non_null(mkdtemp(dir));
  assert_int_equal(cp_profiles_load(p, CP_PROFILES_PATH, err, sizeof(err)), 0);
  assert_int_equal(cp_catalogue_build(&cat, dir, p, "http://127.0.0.1:18600",
                                      err, sizeof(err)),
                   0);
  snprintf(path, sizeof(path), "%s/catalogue/root.key", dir);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_string_equal(cat.ca.label, "chainproxy Catalogue");
  assert_int_equal(verify_case(&cat, "good", 0), 0);
  assert_int_equal(verify_case(&cat, "expired", 0),
                   X509_V_ERR_CERT_HAS_EXPIRED);
  assert_int_equal(verify_case(&cat, "not-yet-valid", 0),
                   X509_V_ERR_CERT_NOT_YET_VALID);
  assert_int_equal(verify_case(&cat, "incomplete", 0),
                   X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  assert_int_equal(verify_case(&cat, "expired-intermediate", 0),
                   X509_V_ERR_CERT_HAS_EXPIRED);
  assert_int_equal(verify_case(&cat, "revoked", 0), 0);
  assert_int_equal(verify_case(&cat, "revoked", 1), X509_V_ERR_CERT_REVOKED);
  assert_int_equal(verify_case(&cat, "good", 1), 0);
  assert_int_equal(verify_case(&cat, "self-signed", 0),
                   X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  /* The incomplete leaf names where its intermediate is. */
  i = cp_catalogue_find("incomplete");
  assert_true(X509_get_ext_by_NID(cat.leaf[i], NID_info_access, -1) >= 0);
  assert_int_equal(sk_X509_num(cat.chain[i]), 0);
  /* wrong-host keeps the profile's names only. */
  i = cp_catalogue_find("wrong-host");
  assert_int_equal(
      X509_check_host(cat.leaf[i], "wrong-host.chainproxy.test", 0, 0, NULL),
      0);
  i = cp_catalogue_find("good");
  assert_int_equal(
      X509_check_host(cat.leaf[i], "good.chainproxy.test", 0, 0, NULL), 1);
  i = cp_catalogue_find("rsa1024");
  assert_int_equal(EVP_PKEY_get_bits(cat.key[i]), 1024);
  /* The 2020 shapes: the legacy chain passes on the modern root (trusted
   * first) and fails on the legacy root alone. */
  assert_int_equal(verify_case(&cat, "legacy", 0), 0);
  assert_int_equal(verify_case(&cat, "modern", 0), 0);
  assert_int_equal(verify_in(&cat, "legacy", 0, "legacy"),
                   X509_V_ERR_CERT_HAS_EXPIRED);
  /* The incident cases: real chains cloned, trusted through the store of
   * their time, the leaf re-issued for the case's names. */
  assert_int_equal(verify_case(&cat, "dst-2021", 0), 0);
  assert_int_equal(verify_case(&cat, "addtrust-2020", 0), 0);
  assert_int_equal(verify_case(&cat, "dst-2021-short", 0),
                   X509_V_ERR_CERT_HAS_EXPIRED);
  assert_int_equal(verify_in(&cat, "dst-2021", 0, "isrg"), 0);
  assert_int_equal(verify_in(&cat, "dst-2021", 0, "dst"),
                   X509_V_ERR_CERT_HAS_EXPIRED);
  assert_int_equal(verify_in(&cat, "addtrust-2020", 0, "addtrust"),
                   X509_V_ERR_CERT_HAS_EXPIRED);
  i = cp_catalogue_find("dst-2021");
  assert_non_null(
      strstr(cat.trust[i], "/catalogue/incidents/dst-2021-store-both.pem"));
  assert_int_equal(cat.nstores[i], 3);
  assert_int_equal(
      X509_check_host(cat.leaf[i], "dst-2021.chainproxy.test", 0, 0, NULL), 1);
  assert_int_equal(X509_check_host(cat.leaf[i], "localhost", 0, 0, NULL), 1);
  assert_int_equal(X509_check_ip_asc(cat.leaf[i], "127.0.0.1", 0), 1);
  /* No placeholder is left in the table the listing is made from. */
  {
    size_t n, k;
    const cp_cat_case_t *cs = cp_catalogue_cases(&n);
    int w;

    for (k = 0; k < n; k++) {
      assert_string_not_equal(cs[k].cause, "?");
      for (w = 0; w < CP_CAT_NCLIENTS; w++) {
        assert_string_not_equal(cs[k].words[w], "?");
      }
    }
  }
  /* Trusted upstream with --origins: the catalogue root and the three
   * "both" stores (two roots each). */
  assert_int_equal(sk_X509_num(cat.roots), 7);
  assert_ptr_equal(sk_X509_value(cat.roots, 0), cat.ca.root);
  cp_catalogue_free(&cat);
  /* A second start loads the same CA. */
  assert_int_equal(cp_catalogue_build(&cat, dir, p, "http://127.0.0.1:18600",
                                      err, sizeof(err)),
                   0);
  assert_int_equal(cat.ca.created, 0);
  cp_catalogue_free(&cat);
  free(p);
  snprintf(path, sizeof(path), "rm -rf '%s'", dir);
  assert_int_equal(system(path), 0);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_listen),
      cmocka_unit_test(test_build),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
