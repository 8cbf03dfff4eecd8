/* Path simulator against the real verifiers, cell by cell: the public
 * certificates of the 2020 and 2021 incidents (certs/real), each trust
 * store and date, for each OpenSSL-based family against X509_verify_cert
 * with that family's flags, and for GnuTLS against
 * gnutls_x509_trust_list_verify_crt2 with its clock set. Prints the
 * matrix (simulated | real) as it goes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "diag/pathsim.h"

#ifndef CP_REAL_CERTS
#define CP_REAL_CERTS "certs/real"
#endif

#define T_0929 ((time_t)1632873600) /* 2021-09-29 00:00Z */
#define T_1001 ((time_t)1633046400) /* 2021-10-01 00:00Z */
#define T_2024 ((time_t)1727740800) /* 2024-10-01 00:00Z */
#define T_0529 ((time_t)1590710400) /* 2020-05-29 00:00Z */
#define T_0531 ((time_t)1590883200) /* 2020-05-31 00:00Z */
#define T_EQFX ((time_t)1494374400) /* 2017-05-10 00:00Z */

typedef struct {
  const char *name;
  const char *sent[4]; /* leaf first */
  const char *store[3];
  time_t at;
} cell_t;

#define L21 "le-leaf-2021.pem"
#define L20 "leaf-2020.pem"
#define LONG21                                                                 \
  { L21, "r3.pem", "isrg-root-x1-cross-dst.pem", NULL }
#define SHORT21                                                                \
  { L21, "r3-cross-dst.pem", NULL, NULL }
#define CH20                                                                   \
  { L20, "sectigo-rsa-dv.pem", "usertrust-rsa-cross-addtrust.pem", NULL }
#define ISRG "isrg-root-x1.pem"
#define DST "dst-root-ca-x3.pem"
#define UT "usertrust-rsa.pem"
#define AT "addtrust-external-root.pem"
#define CELLS21(kind, chain)                                                   \
  {kind " both 09-29", chain, {DST, ISRG, NULL}, T_0929},                      \
      {kind " both 10-01", chain, {DST, ISRG, NULL}, T_1001},                  \
      {kind " both 2024", chain, {DST, ISRG, NULL}, T_2024},                   \
      {kind " isrg 09-29", chain, {ISRG, NULL, NULL}, T_0929},                 \
      {kind " isrg 10-01", chain, {ISRG, NULL, NULL}, T_1001},                 \
      {kind " isrg 2024", chain, {ISRG, NULL, NULL}, T_2024},                  \
      {kind " dst 09-29", chain, {DST, NULL, NULL}, T_0929},                   \
      {kind " dst 10-01", chain, {DST, NULL, NULL}, T_1001}, {                 \
    kind " dst 2024", chain, {DST, NULL, NULL}, T_2024                         \
  }

static const cell_t cells[] = {
    CELLS21("2021 long ", LONG21),
    CELLS21("2021 short", SHORT21),
    {"2020 both 05-29", CH20, {AT, UT, NULL}, T_0529},
    {"2020 both 05-31", CH20, {AT, UT, NULL}, T_0531},
    {"2020 ut   05-29", CH20, {UT, NULL, NULL}, T_0529},
    {"2020 ut   05-31", CH20, {UT, NULL, NULL}, T_0531},
    {"2020 at   05-29", CH20, {AT, NULL, NULL}, T_0529},
    {"2020 at   05-31", CH20, {AT, NULL, NULL}, T_0531},
    {"gnutls-alt new ",
     {"extra/gnutls-alt-chain-leaf.pem", "extra/gnutls-alt-chain-untrusted.pem",
      NULL, NULL},
     {"extra/gnutls-alt-chain-new-ca.pem", NULL, NULL},
     T_EQFX},
    {"gnutls-alt old ",
     {"extra/gnutls-alt-chain-leaf.pem", "extra/gnutls-alt-chain-untrusted.pem",
      NULL, NULL},
     {"extra/gnutls-alt-chain-old-ca.pem", NULL, NULL},
     T_EQFX},
    {"leaf alone     ", {L21, NULL, NULL, NULL}, {ISRG, NULL, NULL}, T_1001},
};

static cp_pathsim_set_t fams;


static void load_pem(STACK_OF(X509) *sk, const char *file) {
  char path[512];
  FILE *fp;
  X509 *x;

  snprintf(path, sizeof(path), "%s/%s", CP_REAL_CERTS, file);
  fp = fopen(path, "r");
  assert_non_null(fp);
  while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
    sk_X509_push(sk, x);
  }
  ERR_clear_error();
  fclose(fp);
}


static STACK_OF(X509) *load_list(const char *const *files, int n) {
  STACK_OF(X509) *sk = sk_X509_new_null();
  int i;

  for (i = 0; i < n && files[i] != NULL; i++) {
    load_pem(sk, files[i]);
  }
  return sk;
}


/* X509_verify_cert with the family's flags: 0 on pass, else the error;
 * *depth its depth. */
static int real_openssl(const char *fam, STACK_OF(X509) *sent,
                        STACK_OF(X509) *roots, time_t at, int *depth) {
  X509_STORE *st = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  X509_VERIFY_PARAM *p;
  int i, rc;

  for (i = 0; i < sk_X509_num(roots); i++) {
    X509_STORE_add_cert(st, sk_X509_value(roots, i));
  }
  assert_int_equal(X509_STORE_CTX_init(ctx, st, sk_X509_value(sent, 0), sent),
                   1);
  p = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_time(p, at);
  if (strcmp(fam, "openssl3") == 0 || strcmp(fam, "python313") == 0) {
    X509_VERIFY_PARAM_set_auth_level(p, 2);
  }
  if (strcmp(fam, "python313") == 0) {
    X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_X509_STRICT |
                                       X509_V_FLAG_PARTIAL_CHAIN);
  }
  if (strncmp(fam, "openssl10", 9) == 0) {
    X509_VERIFY_PARAM_clear_flags(p, X509_V_FLAG_TRUSTED_FIRST);
  }
  if (strcmp(fam, "openssl101") == 0) {
    X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_NO_ALT_CHAINS);
  }
  rc = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
  *depth = rc ? X509_STORE_CTX_get_error_depth(ctx) : 0;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(st);
  return rc;
}


static time_t gnutls_now;


static time_t fake_time(time_t *t) {
  if (t != NULL) {
    *t = gnutls_now;
  }
  return gnutls_now;
}


static void to_gnutls(STACK_OF(X509) *sk, gnutls_x509_crt_t *out) {
  int i;
  unsigned char *der;
  int len;
  gnutls_datum_t d;

  for (i = 0; i < sk_X509_num(sk); i++) {
    der = NULL;
    len = i2d_X509(sk_X509_value(sk, i), &der);
    d.data = der;
    d.size = (unsigned)len;
    assert_int_equal(gnutls_x509_crt_init(&out[i]), 0);
    assert_int_equal(gnutls_x509_crt_import(out[i], &d, GNUTLS_X509_FMT_DER),
                     0);
    OPENSSL_free(der);
  }
}


/* gnutls_x509_trust_list_verify_crt2 at 'at': 0 on pass, else the
 * status bits. */
static unsigned real_gnutls(STACK_OF(X509) *sent, STACK_OF(X509) *roots,
                            time_t at) {
  gnutls_x509_trust_list_t tl;
  gnutls_x509_crt_t chain[8], cas[8];
  unsigned status = 0;
  int i, n = sk_X509_num(sent);

  gnutls_now = at;
  gnutls_global_set_time_function(fake_time);
  to_gnutls(sent, chain);
  to_gnutls(roots, cas);
  assert_int_equal(gnutls_x509_trust_list_init(&tl, 0), 0);
  assert_int_equal(
      gnutls_x509_trust_list_add_cas(tl, cas, sk_X509_num(roots), 0),
      sk_X509_num(roots));
  assert_int_equal(gnutls_x509_trust_list_verify_crt2(tl, chain, n, NULL, 0, 0,
                                                      &status, NULL),
                   0);
  gnutls_x509_trust_list_deinit(tl, 1);
  for (i = 0; i < n; i++) {
    gnutls_x509_crt_deinit(chain[i]);
  }
  return status;
}


static void show_path(const cp_pathsim_result_t *r, char *out, size_t len) {
  const cp_pathsim_path_t *p;
  size_t o = 0;
  int i;

  out[0] = '\0';
  if (r->accepted < 0) {
    return;
  }
  p = &r->path[r->accepted];
  for (i = 0; i < p->n && o < len; i++) {
    char cn[40] = "?";

    X509_NAME_get_text_by_NID(X509_get_subject_name(p->cert[i]), NID_commonName,
                              cn, sizeof(cn));
    o += (size_t)snprintf(out + o, len - o, "%s%s[%s]", i ? " > " : "", cn,
                          cp_pathsim_src_name(p->src[i]));
  }
}


static void run_cell(const cell_t *c, const char *fam) {
  const cp_pathsim_family_t *f = cp_pathsim_find(&fams, fam);
  STACK_OF(X509) *sent = load_list(c->sent, 4);
  STACK_OF(X509) *roots = load_list(c->store, 3);
  cp_pathsim_input_t in = {sent, roots, NULL, c->at, NULL};
  cp_pathsim_result_t r;
  char path[400];
  int rerr, rdepth = 0;

  assert_non_null(f);
  cp_pathsim_run(f, &in, &r);
  show_path(&r, path, sizeof(path));
  if (strcmp(fam, "gnutls") == 0) {
    unsigned st = real_gnutls(sent, roots, c->at);
    unsigned bit =
        r.kind == CP_PATHSIM_E_EXPIRED          ? GNUTLS_CERT_EXPIRED
        : r.kind == CP_PATHSIM_E_NO_ISSUER      ? GNUTLS_CERT_SIGNER_NOT_FOUND
        : r.kind == CP_PATHSIM_E_WEAK_SIGNATURE ? GNUTLS_CERT_INSECURE_ALGORITHM
                                                : GNUTLS_CERT_INVALID;

    printf("%-18s %-10s sim %-4s %-13s | real %-4s 0x%04x  %s\n", c->name, fam,
           r.pass ? "pass" : "FAIL", r.pass ? "" : cp_pathsim_kind_name(r.kind),
           st ? "FAIL" : "pass", st, path);
    assert_int_equal(r.pass, st == 0);
    /* GnuTLS reports a set of reasons: the simulated one is among them */
    if (!r.pass) {
      assert_true((st & bit) != 0);
    }
  } else {
    rerr = real_openssl(fam, sent, roots, c->at, &rdepth);
    printf("%-18s %-10s sim %-4s %2d@%d | real %-4s %2d@%d  %s\n", c->name, fam,
           r.pass ? "pass" : "FAIL", r.error, r.depth, rerr ? "FAIL" : "pass",
           rerr, rdepth, path);
    assert_int_equal(r.pass, rerr == 0);
    assert_int_equal(r.error, rerr);
    assert_int_equal(r.depth, rdepth);
  }
  sk_X509_pop_free(sent, X509_free);
  sk_X509_pop_free(roots, X509_free);
}


static void run_family(const char *fam) {
  size_t i;

  for (i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
    run_cell(&cells[i], fam);
  }
}


static void test_openssl3(void **state) {
  (void)state;
  run_family("openssl3");
}


static void test_python313(void **state) {
  (void)state;
  run_family("python313");
}


static void test_openssl102(void **state) {
  (void)state;
  run_family("openssl102");
}


static void test_openssl101(void **state) {
  (void)state;
  run_family("openssl101");
}


static void test_gnutls(void **state) {
  (void)state;
  run_family("gnutls");
}


/* The families the brief names as facts, stated directly. */
static void test_known_2021(void **state) {
  const char *const longc[] = LONG21;
  const char *const both[] = {DST, ISRG, NULL};
  const char *const isrg[] = {ISRG, NULL};
  STACK_OF(X509) *sent = load_list(longc, 4);
  STACK_OF(X509) *b = load_list(both, 2), *i = load_list(isrg, 1);
  cp_pathsim_input_t in = {sent, b, NULL, T_1001, NULL};
  cp_pathsim_result_t r;
  const char *ok[] = {"openssl3", "java", "android", "webpki",
                      "chrome",   "go",   "gnutls"};
  size_t k;

  (void)state;
  cp_pathsim_run(cp_pathsim_find(&fams, "openssl102"), &in, &r);
  assert_false(r.pass);
  assert_int_equal(r.error, X509_V_ERR_CERT_HAS_EXPIRED);
  assert_int_equal(r.depth, 3);
  cp_pathsim_run(cp_pathsim_find(&fams, "gnutls_old"), &in, &r);
  assert_false(r.pass);
  assert_int_equal(r.kind, CP_PATHSIM_E_EXPIRED);
  for (k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
    cp_pathsim_run(cp_pathsim_find(&fams, ok[k]), &in, &r);
    assert_true(r.pass);
    /* ISRG X1 ends the path: the leaf's notAfter is the horizon */
    assert_int_equal(r.horizon, (time_t)1636448495);
  }
  in.roots = i;
  in.sent = sent;
  cp_pathsim_run(cp_pathsim_find(&fams, "openssl101"), &in, &r);
  assert_false(r.pass);
  assert_int_equal(r.error, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  assert_int_equal(r.depth, 2);
  sk_X509_pop_free(sent, X509_free);
  sk_X509_pop_free(b, X509_free);
  sk_X509_pop_free(i, X509_free);
}


/* Java and Android accept DST as an anchor after it expired. */
static void test_anchor_expiry_ignored(void **state) {
  const char *const longc[] = LONG21;
  const char *const dst[] = {DST, NULL};
  STACK_OF(X509) *sent = load_list(longc, 4), *d = load_list(dst, 1);
  cp_pathsim_input_t in = {sent, d, NULL, T_1001, NULL};
  cp_pathsim_result_t r;

  (void)state;
  cp_pathsim_run(cp_pathsim_find(&fams, "android"), &in, &r);
  assert_true(r.pass);
  assert_int_equal(r.path[r.accepted].n, 4);
  assert_int_equal(r.path[r.accepted].src[3], CP_PATHSIM_STORE);
  cp_pathsim_run(cp_pathsim_find(&fams, "go"), &in, &r);
  assert_false(r.pass);
  assert_int_equal(r.kind, CP_PATHSIM_E_EXPIRED);
  sk_X509_pop_free(sent, X509_free);
  sk_X509_pop_free(d, X509_free);
}


/* Chrome completes a leaf-only chain from the AIA-fetched issuer. */
static void test_aia(void **state) {
  const char *const leaf[] = {L21, NULL};
  const char *const r3[] = {"r3.pem", NULL};
  const char *const isrg[] = {ISRG, NULL};
  STACK_OF(X509) *sent = load_list(leaf, 1), *x = load_list(r3, 1);
  STACK_OF(X509) *i = load_list(isrg, 1);
  cp_pathsim_input_t in = {sent, i, x, T_1001, NULL};
  cp_pathsim_result_t r;

  (void)state;
  cp_pathsim_run(cp_pathsim_find(&fams, "chrome"), &in, &r);
  assert_true(r.pass);
  assert_int_equal(r.path[r.accepted].src[1], CP_PATHSIM_AIA);
  cp_pathsim_run(cp_pathsim_find(&fams, "go"), &in, &r);
  assert_false(r.pass);
  assert_int_equal(r.kind, CP_PATHSIM_E_NO_ISSUER);
  sk_X509_pop_free(sent, X509_free);
  sk_X509_pop_free(x, X509_free);
  sk_X509_pop_free(i, X509_free);
}


static void test_parse_errors(void **state) {
  cp_pathsim_set_t s;
  char err[300];
  const char *bad = "{\"families\":[{\"id\":\"x\",\"name\":\"x\","
                    "\"strategy\":\"guess\",\"sources\":{}}]}";

  (void)state;
  assert_int_not_equal(cp_pathsim_parse(&s, bad, strlen(bad), err, sizeof(err)),
                       0);
  assert_non_null(strstr(err, "guess"));
  assert_int_not_equal(cp_pathsim_parse(&s, "{}", 2, err, sizeof(err)), 0);
}


static int setup(void **state) {
  char err[300];

  (void)state;
  if (cp_pathsim_load(&fams, CP_FAMILIES_PATH, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  return 0;
}


static int teardown(void **state) {
  (void)state;
  cp_pathsim_set_free(&fams);
  return 0;
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_openssl3),
      cmocka_unit_test(test_python313),
      cmocka_unit_test(test_openssl102),
      cmocka_unit_test(test_openssl101),
      cmocka_unit_test(test_gnutls),
      cmocka_unit_test(test_known_2021),
      cmocka_unit_test(test_anchor_expiry_ignored),
      cmocka_unit_test(test_aia),
      cmocka_unit_test(test_parse_errors),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
