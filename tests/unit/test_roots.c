/* The distribution root set: a chain ending at one of its roots is not
 * private; one ending elsewhere is; an empty set knows nothing. Plus the
 * classifier's validity check and its recognition of chainproxy's CA. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "pki/ca.h"
#include "diag/cert.h"
#include "diag/diag.h"
#include "diag/roots.h"


static void test_private_root(void **state) {
  char dir[] = "/tmp/cp-roots-XXXXXX";
  char path[64];
  cp_ca_t ca;
  cp_roots_t roots;
  cp_verify_result_t *r = calloc(1, sizeof(*r));
  FILE *fp;

  (void)state;
  memset(&ca, 0, sizeof(ca));
  assert_non_null(mkdtemp(dir));
  assert_int_equal(cp_ca_make_untrusted(&ca), 0);
  snprintf(path, sizeof(path), "%s/shipped.crt", dir);
  fp = fopen(path, "w");
  assert_non_null(fp);
  PEM_write_X509(fp, ca.untrusted_root);
  fclose(fp);
  assert_int_equal(cp_roots_load(&roots, dir), 0);
  assert_int_equal(roots.n, 1);

  r->ok = 1;
  r->nbuilt = 2;
  snprintf(r->built[1].subject, sizeof(r->built[1].subject), "CN=Shipped");
  cp_cert_sha256(ca.untrusted_root, 0, r->built[1].sha256, 65);
  cp_roots_check(&roots, r);
  assert_int_equal(r->private_root, 0);
  cp_cert_sha256(ca.untrusted_inter, 0, r->built[1].sha256, 65);
  cp_roots_check(&roots, r);
  assert_int_equal(r->private_root, 1);
  assert_string_equal(r->root_subject, "CN=Shipped");
  r->ok = 0;
  cp_roots_check(&roots, r);
  assert_int_equal(r->private_root, -1); /* judged for verified chains */
  cp_roots_free(&roots);
  assert_int_equal(cp_roots_load(&roots, "/nonexistent"), 0);
  r->ok = 1;
  cp_roots_check(&roots, r);
  assert_int_equal(r->private_root, -1);

  unlink(path);
  rmdir(dir);
  cp_ca_free(&ca);
  free(r);
}


static void test_validity_and_own_ca(void **state) {
  cp_verify_result_t *r = calloc(1, sizeof(*r));

  (void)state;
  r->ok = 1;
  r->nchain = 1;
  r->expires_first = -1;
  r->at = 1800000000;
  r->chain[0].nb = 1700000000;
  r->chain[0].na = 1700000000 + 30 * 86400;
  snprintf(r->chain[0].issuer, sizeof(r->chain[0].issuer),
           "CN=chainproxy Intermediate CA,O=chainproxy");
  cp_diag_classify(r, "a.test", CP_DIAG_WARN_DAYS);
  assert_false(r->unusual_validity);
  assert_true(r->minted_by_chainproxy);
  r->chain[0].na = 1700000000 + 399L * 86400;
  cp_diag_classify(r, "a.test", CP_DIAG_WARN_DAYS);
  assert_true(r->unusual_validity);
  assert_int_equal(r->validity_days, 399);
  r->chain[0].nb = 900000000; /* 1998 */
  r->chain[0].na = 1700000000;
  cp_diag_classify(r, "a.test", CP_DIAG_WARN_DAYS);
  assert_true(r->unusual_validity);
  snprintf(r->chain[0].issuer, sizeof(r->chain[0].issuer),
           "CN=chainproxy Untrusted Intermediate CA,O=chainproxy");
  cp_diag_classify(r, "a.test", CP_DIAG_WARN_DAYS);
  assert_false(r->minted_by_chainproxy); /* nobody trusts that one */
  free(r);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_private_root),
      cmocka_unit_test(test_validity_and_own_ca),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
