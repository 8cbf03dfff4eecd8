/* Who breaks by simulation (whosim.c) on the real 2021 chain: the path
 * each family ends on, the verdict, the horizon, the fixes (each checked
 * by simulating again with the fix applied), the override of the rule
 * table's pass, and the packed copy the chain cache keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "diag/whosim.h"
#include "tls/resume.h"

#ifndef CP_REAL_CERTS
#define CP_REAL_CERTS "certs/real"
#endif

#define T_1001 ((time_t)1633046400) /* 2021-10-01 00:00Z */

static X509 *load(const char *name) {
  char path[512];
  FILE *f;
  X509 *x;

  snprintf(path, sizeof(path), "%s/%s", CP_REAL_CERTS, name);
  f = fopen(path, "r");
  assert_non_null(f);
  x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  assert_non_null(x);
  return x;
}


static STACK_OF(X509) *stack(const char *a, const char *b, const char *c) {
  STACK_OF(X509) *sk = sk_X509_new_null();
  const char *v[3] = {a, b, c};
  int i;

  for (i = 0; i < 3 && v[i] != NULL; i++) {
    sk_X509_push(sk, load(v[i]));
  }
  return sk;
}


static const cp_verify_family_t *fam(const cp_verify_result_t *r,
                                     const char *id) {
  int i;

  for (i = 0; i < r->nfam; i++) {
    if (strcmp(r->fam[i].id, id) == 0) {
      return &r->fam[i];
    }
  }
  fail_msg("no family %s", id);
  return NULL;
}


typedef struct {
  cp_whosim_t w;
  STACK_OF(X509) *sent, *both, *isrg;
  cp_verify_result_t *r;
} fx_t;


static int setup(void **state) {
  fx_t *fx = calloc(1, sizeof(*fx));
  char err[256];
  char path[512];

  snprintf(path, sizeof(path), "%s/store-2021-dst+isrg.pem", CP_REAL_CERTS);
  assert_int_equal(
      cp_whosim_load(&fx->w, CP_FAMILIES_PATH, path, err, sizeof(err)), 0);
  fx->sent = stack("le-leaf-2021.pem", "r3.pem", "isrg-root-x1-cross-dst.pem");
  fx->both = stack("dst-root-ca-x3.pem", "isrg-root-x1.pem", NULL);
  fx->isrg = stack("isrg-root-x1.pem", NULL, NULL);
  fx->r = calloc(1, sizeof(*fx->r));
  *state = fx;
  return 0;
}


static int teardown(void **state) {
  fx_t *fx = *state;

  cp_whosim_free(&fx->w);
  sk_X509_pop_free(fx->sent, X509_free);
  sk_X509_pop_free(fx->both, X509_free);
  sk_X509_pop_free(fx->isrg, X509_free);
  free(fx->r);
  free(fx);
  return 0;
}


/* The store file holds both roots: the one loaded with the data. */
static void test_store_loaded_once(void **state) {
  fx_t *fx = *state;

  assert_int_equal(sk_X509_num(fx->w.roots), 2);
  assert_true(fx->w.set.n >= 10);
}


static void test_2021_both_roots(void **state) {
  fx_t *fx = *state;
  const cp_verify_family_t *f;

  cp_whosim_judge(&fx->w, NULL, fx->sent, NULL, T_1001, NULL, fx->r);
  assert_int_equal(fx->r->nfam, fx->w.set.n);
  f = fam(fx->r, "openssl3");
  assert_true(f->pass);
  assert_int_equal(f->nelem, 3);
  assert_int_equal(f->path[2].src, CP_PATHSIM_STORE);
  /* The first notAfter on its path: the leaf's, 2021-11-09T09:01:35Z. */
  assert_int_equal(f->horizon, 1636448495);
  assert_string_equal(f->fix_chain, "");
  f = fam(fx->r, "openssl102");
  assert_false(f->pass);
  assert_int_equal(f->error, X509_V_ERR_CERT_HAS_EXPIRED);
  assert_int_equal(f->depth, 3);
  assert_int_equal(f->nelem, 4);
  assert_int_equal(f->path[2].src, CP_PATHSIM_SENT);
  assert_int_equal(f->path[3].src, CP_PATHSIM_STORE);
  assert_true(f->path[3].kinds & (1u << CP_PATHSIM_E_EXPIRED));
  assert_int_equal(f->horizon, 0);
  assert_string_equal(f->fix_chain, "drop ISRG Root X1 from the chain: serve "
                                    "geoip.elastic.dev > R3");
  assert_string_equal(f->fix_store, "remove the expired root DST Root CA X3 "
                                    "from the trust store");
}


/* Each fix, applied, makes the family pass; and only then is it named. */
static void test_fixes_verified(void **state) {
  fx_t *fx = *state;
  const cp_pathsim_family_t *pf = cp_pathsim_find(&fx->w.set, "openssl102");
  cp_pathsim_input_t in = {fx->sent, fx->both, NULL, T_1001, NULL};
  cp_pathsim_result_t res;
  STACK_OF(X509) *shortc = sk_X509_dup(fx->sent);

  assert_non_null(pf);
  cp_pathsim_run(pf, &in, &res);
  assert_false(res.pass);
  sk_X509_pop(shortc);
  in.sent = shortc;
  cp_pathsim_run(pf, &in, &res);
  assert_true(res.pass);
  in.sent = fx->sent;
  in.roots = fx->isrg;
  cp_pathsim_run(pf, &in, &res);
  assert_true(res.pass);
  sk_X509_free(shortc);
}


/* ISRG only: 1.0.1 follows the presented chain to the cross-sign, finds
 * no DST root and has no alternative chain (error 20 at depth 2); 1.0.2
 * finds the alternative. No store change helps 1.0.1 but serving the
 * short chain does. */
static void test_2021_isrg_only(void **state) {
  fx_t *fx = *state;
  const cp_verify_family_t *f;

  cp_whosim_judge(&fx->w, NULL, fx->sent, fx->isrg, T_1001, NULL, fx->r);
  f = fam(fx->r, "openssl101");
  assert_false(f->pass);
  assert_int_equal(f->error, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  assert_int_equal(f->depth, 2);
  assert_string_equal(f->fix_chain, "drop ISRG Root X1 from the chain: serve "
                                    "geoip.elastic.dev > R3");
  assert_string_equal(f->fix_store, "");
  assert_true(fam(fx->r, "openssl102")->pass);
}


/* The rule table said pass; the simulation's failure overrides it. */
static void test_override_table(void **state) {
  fx_t *fx = *state;
  cp_verify_result_t *r = fx->r;

  memset(r, 0, sizeof(*r));
  r->nwho = 2;
  r->who[0].family = "openssl102";
  r->who[0].verdict = "pass";
  r->who[1].family = "openssl3";
  r->who[1].verdict = "pass";
  cp_whosim_judge(&fx->w, NULL, fx->sent, NULL, T_1001, NULL, r);
  assert_string_equal(r->who[0].verdict, "fail");
  assert_string_equal(r->who[0].error, "certificate has expired");
  assert_string_equal(r->who[1].verdict, "pass");
}


/* A table failure that guessed at the path gives way to the simulated
 * pass; any other table failure (a policy, say) stands. */
static void test_path_rule_replaced(void **state) {
  fx_t *fx = *state;
  cp_verify_result_t *r = fx->r;

  memset(r, 0, sizeof(*r));
  r->nwho = 2;
  r->who[0].family = "gnutls";
  r->who[0].verdict = "fail";
  r->who[0].path_rule = 1;
  r->who[1].family = "java";
  r->who[1].verdict = "fail";
  cp_whosim_judge(&fx->w, NULL, fx->sent, NULL, T_1001, NULL, r);
  assert_string_equal(r->who[0].verdict, "pass");
  assert_string_equal(r->who[1].verdict, "fail");
}


/* Chrome speaks for the table's browsers row: an issuer nothing names
 * (the real USERTrust cross-sign, which carries no AIA URL, sent alone
 * to a store without AddTrust) fails as Chromium fails, in its words; an
 * issuer the certificate's AIA URL names (the real R3 without ISRG Root
 * X1 in the store) is fetched by a browser, so the table's verdict
 * stands. */
static void test_browsers_no_aia(void **state) {
  fx_t *fx = *state;
  cp_verify_result_t *r = fx->r;
  STACK_OF(X509) *sent = stack("usertrust-rsa-cross-addtrust.pem", NULL, NULL);
  STACK_OF(X509) *sent_aia = stack("r3.pem", NULL, NULL);
  STACK_OF(X509) *dst = stack("dst-root-ca-x3.pem", NULL, NULL);
  cp_who_t who;
  char err[256];

  assert_int_equal(cp_who_load(&who, CP_CLIENTS_PATH, err, sizeof(err)), 0);
  memset(r, 0, sizeof(*r));
  r->nwho = 1;
  r->who[0].family = "browsers";
  r->who[0].verdict = "unknown";
  cp_whosim_judge(&fx->w, &who, sent, fx->isrg, (time_t)1577836800, NULL, r);
  assert_false(fam(r, "chrome")->pass);
  assert_string_equal(r->who[0].verdict, "fail");
  assert_string_equal(r->who[0].error, "NET::ERR_CERT_AUTHORITY_INVALID");
  memset(r, 0, sizeof(*r));
  r->nwho = 1;
  r->who[0].family = "browsers";
  r->who[0].verdict = "unknown";
  cp_whosim_judge(&fx->w, &who, sent_aia, dst, T_1001, NULL, r);
  assert_false(fam(r, "chrome")->pass);
  assert_string_equal(r->who[0].verdict, "unknown");
  cp_who_free(&who);
  sk_X509_pop_free(sent, X509_free);
  sk_X509_pop_free(sent_aia, X509_free);
  sk_X509_pop_free(dst, X509_free);
}


/* The chain cache keeps the families: a repeated chain is not
 * simulated again. */
static void test_packed(void **state) {
  fx_t *fx = *state;
  cp_verify_result_t *out = calloc(1, sizeof(*out));
  cp_resume_blob_t *b;

  cp_whosim_judge(&fx->w, NULL, fx->sent, NULL, T_1001, NULL, fx->r);
  b = cp_resume_pack(fx->r);
  assert_non_null(b);
  cp_resume_unpack(b, out);
  assert_int_equal(out->nfam, fx->r->nfam);
  assert_memory_equal(out->fam, fx->r->fam,
                      (size_t)out->nfam * sizeof(out->fam[0]));
  /* The entry ends no later than the first family's horizon (the
   * leaf's notAfter here: every passing family's path holds it). */
  assert_true(b->expires > 0 && b->expires <= 1636448495);
  cp_resume_blob_unref(b);
  free(out);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_store_loaded_once),
      cmocka_unit_test(test_2021_both_roots),
      cmocka_unit_test(test_fixes_verified),
      cmocka_unit_test(test_2021_isrg_only),
      cmocka_unit_test(test_override_table),
      cmocka_unit_test(test_path_rule_replaced),
      cmocka_unit_test(test_browsers_no_aia),
      cmocka_unit_test(test_packed),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
