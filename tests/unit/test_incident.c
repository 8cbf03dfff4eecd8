/* pki/incident: the shipped dst-2021 profile built into a scratch CA
 * directory from certs/real, its leaf re-issued for a host, verified by
 * OpenSSL against the cloned stores as the real chain fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/incident.h"
#include "pki/profile.h"

static cp_profiles_t profiles;
static char dir[] = "/tmp/cp-test-incident.XXXXXX";


static STACK_OF(X509) *read_store(const char *name) {
  char path[1400];
  STACK_OF(X509) *sk = sk_X509_new_null();
  FILE *f;
  X509 *x;

  snprintf(path, sizeof(path), "%s/incidents/%s", dir, name);
  f = fopen(path, "r");
  assert_non_null(f);
  while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
    sk_X509_push(sk, x);
  }
  fclose(f);
  return sk;
}


/* OpenSSL 3's verdict on leaf + sent against the store file, now:
 * 0, or the error; *depth where it failed. */
static int verify(X509 *leaf, STACK_OF(X509) *sent, const char *store_name,
                  int *depth) {
  STACK_OF(X509) *roots = read_store(store_name);
  X509_STORE *st = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  int i, rc;

  for (i = 0; i < sk_X509_num(roots); i++) {
    X509_STORE_add_cert(st, sk_X509_value(roots, i));
  }
  X509_STORE_CTX_init(ctx, st, leaf, sent);
  rc = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
  *depth = X509_STORE_CTX_get_error_depth(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(st);
  sk_X509_pop_free(roots, X509_free);
  return rc;
}


static X509 *real_leaf(void) {
  FILE *f = fopen(CP_REAL_CERTS "/le-leaf-2021.pem", "r");
  X509 *x;

  assert_non_null(f);
  x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  assert_non_null(x);
  return x;
}


static void test_dst_2021(void **state) {
  cp_incidents_t set, again;
  const cp_incident_t *inc, *inc2;
  X509 *leaf = NULL, *leaf2 = NULL, *other = NULL, *ipleaf = NULL;
  X509 *real = real_leaf();
  STACK_OF(X509) *both;
  char err[300], cn[80];
  int i, depth = -1;
  long long delta;
  int pday, psec;

  (void)state;
  i = cp_profiles_find(&profiles, "dst-2021");
  assert_true(i >= 0);
  assert_int_equal(cp_incidents_init(&set, &profiles, dir), 0);
  assert_null(cp_incidents_get0(&set, cp_profiles_find(&profiles, "modern"),
                                err, sizeof(err)));
  inc = cp_incidents_get0(&set, i, err, sizeof(err));
  assert_non_null(inc);
  /* R3 and ISRG Root X1 cross-signed by DST, in the real order. */
  assert_int_equal(sk_X509_num(inc->sent), 2);
  X509_NAME_get_text_by_NID(X509_get_subject_name(sk_X509_value(inc->sent, 1)),
                            NID_commonName, cn, sizeof(cn));
  assert_string_equal(cn, "ISRG Root X1");
  both = read_store("dst-2021-store-both.pem");
  assert_int_equal(sk_X509_num(both), 2);
  sk_X509_pop_free(both, X509_free);

  assert_int_equal(
      cp_incident_mint(inc, "example.test", &leaf, err, sizeof(err)), 0);
  assert_int_equal(X509_check_host(leaf, "example.test", 0, 0, NULL), 1);
  X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
                            sizeof(cn));
  assert_string_equal(cn, "example.test");
  assert_int_equal(
      X509_verify(leaf, X509_get0_pubkey(sk_X509_value(inc->sent, 0))), 1);
  assert_int_equal(X509_get_ext_count(leaf), X509_get_ext_count(real));
  /* The serial: the real one's length, one per host, stable. */
  assert_int_equal(ASN1_STRING_length(X509_get0_serialNumber(leaf)),
                   ASN1_STRING_length(X509_get0_serialNumber(real)));
  assert_int_equal(
      cp_incident_mint(inc, "example.test", &leaf2, err, sizeof(err)), 0);
  assert_int_equal(
      cp_incident_mint(inc, "other.test", &other, err, sizeof(err)), 0);
  assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(leaf),
                                    X509_get0_serialNumber(leaf2)),
                   0);
  assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(leaf),
                                        X509_get0_serialNumber(other)),
                       0);
  /* Shifted by start - 2021-09-30T15:01:15Z, like every certificate. */
  delta = (long long)time(NULL) - 1633014075LL;
  assert_int_equal(ASN1_TIME_diff(&pday, &psec, X509_get0_notAfter(real),
                                  X509_get0_notAfter(leaf)),
                   1);
  assert_true(llabs((long long)pday * 86400 + psec - delta) < 120);
  assert_true(llabs(inc->shift - delta) < 120);
  /* The 2021 verdicts, with OpenSSL 3: both roots pass, DST alone fails
   * at depth 3 (DST Root CA X3 expired an hour ago). */
  assert_int_equal(verify(leaf, inc->sent, "dst-2021-store-both.pem", &depth),
                   0);
  assert_int_equal(verify(leaf, inc->sent, "dst-2021-store-dst.pem", &depth),
                   X509_V_ERR_CERT_HAS_EXPIRED);
  assert_int_equal(depth, 3);
  /* An IP literal becomes an iPAddress entry; a bad name is refused. */
  assert_int_equal(
      cp_incident_mint(inc, "192.0.2.7", &ipleaf, err, sizeof(err)), 0);
  assert_int_equal(X509_check_ip_asc(ipleaf, "192.0.2.7", 0), 1);
  X509_free(ipleaf);
  ipleaf = NULL;
  assert_int_not_equal(cp_incident_mint(inc, "a b", &ipleaf, err, sizeof(err)),
                       0);
  assert_null(ipleaf);
  /* A second build over the same CA directory uses the same keys. */
  assert_int_equal(cp_incidents_init(&again, &profiles, dir), 0);
  inc2 = cp_incidents_get0(&again, i, err, sizeof(err));
  assert_non_null(inc2);
  assert_int_equal(EVP_PKEY_eq(inc->leaf_key, inc2->leaf_key), 1);
  assert_int_equal(EVP_PKEY_eq(inc->issuer_key, inc2->issuer_key), 1);
  cp_incidents_free(&again);
  X509_free(leaf);
  X509_free(leaf2);
  X509_free(other);
  X509_free(real);
  cp_incidents_free(&set);
}


static void test_missing_file(void **state) {
  static cp_profiles_t ps;
  cp_incidents_t set;
  char err[300];
  static const char json[] =
      "{\"profiles\": {\"modern\": {\"issuer\": \"intermediate\", \"send\": "
      "[]}, \"gone\": {\"incident\": {\"chain\": \"/nonexistent/c.pem\", "
      "\"stores\": {\"a\": \"/nonexistent/s.pem\"}}}}}";

  (void)state;
  assert_int_equal(cp_profiles_parse(&ps, json, strlen(json), err, sizeof(err)),
                   0);
  assert_int_equal(cp_incidents_init(&set, &ps, dir), 0);
  assert_null(cp_incidents_get0(&set, 1, err, sizeof(err)));
  assert_non_null(strstr(err, "profile 'gone': /nonexistent/c.pem"));
  cp_incidents_free(&set);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dst_2021),
      cmocka_unit_test(test_missing_file),
  };
  char err[512], cmd[200];
  int rc;

  if (mkdtemp(dir) == NULL ||
      cp_profiles_load(&profiles, CP_PROFILES_PATH, err, sizeof(err)) != 0) {
    fprintf(stderr, "setup: %s\n", err);
    return 1;
  }
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "could not remove %s\n", dir);
  }
  return rc;
}
