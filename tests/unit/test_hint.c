/* The hint table: every cause has its own sentence, the facts named by a
 * template are filled in, and bytes of a certificate are never read as a
 * template or a format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/x509_vfy.h>

#include "diag/hint.h"


static cp_verify_result_t *result(void) {
  static cp_verify_result_t r;
  cp_cert_info_t *c;

  memset(&r, 0, sizeof(r));
  r.nbuilt = 2;
  c = &r.built[0];
  snprintf(c->subject, sizeof(c->subject), "CN=leaf {issuer} %%s%%n");
  snprintf(c->issuer, sizeof(c->issuer), "CN=Inter");
  snprintf(c->not_after, sizeof(c->not_after), "2021-09-30T14:01:15Z");
  snprintf(c->names, sizeof(c->names), "DNS:other.test");
  c->key_bits = 1024;
  snprintf(c->key_type, sizeof(c->key_type), "RSA");
  c = &r.built[1];
  snprintf(c->subject, sizeof(c->subject), "CN=Inter");
  snprintf(c->issuer, sizeof(c->issuer), "CN=Root");
  snprintf(c->not_after, sizeof(c->not_after), "2024-09-30T18:14:03Z");
  snprintf(c->ca_issuers, sizeof(c->ca_issuers), "http://ca.test/r.crt");
  return &r;
}


static void test_every_cause_has_a_sentence(void **state) {
  cp_verify_result_t *r = result();
  char other[512], out[512];
  int cause;

  (void)state;
  snprintf(r->built[0].subject, sizeof(r->built[0].subject), "CN=leaf");
  cp_diag_hint(r, CP_CAUSE_OTHER, &r->built[0], 0, 62, NULL, other,
               sizeof(other));
  assert_non_null(strstr(other, "OpenSSL says: "));
  for (cause = 0; cause < CP_CAUSE_OTHER; cause++) {
    cp_diag_hint(r, (cp_cause_t)cause, &r->built[0], 0, 10, "leaf.test", out,
                 sizeof(out));
    if (strncmp(out, "OpenSSL says: ", 14) == 0 || strstr(out, "{") != NULL) {
      fail_msg("cause %s has no sentence of its own: %s", cp_cause_name(cause),
               out);
    }
  }
}


static void test_facts_filled_bytes_kept(void **state) {
  cp_verify_result_t *r = result();
  char out[512];

  (void)state;
  cp_diag_hint(r, CP_CAUSE_EXPIRED_INTERMEDIATE, &r->built[1], 1, 10, NULL, out,
               sizeof(out));
  assert_string_equal(out, "The intermediate 'CN=Inter' expired on 2024-09-30: "
                           "the server must send the current intermediate "
                           "from its CA (update its chain file).");
  /* A subject holding "{issuer}", "%s" and "%n" is printed as it is. */
  cp_diag_hint(r, CP_CAUSE_WEAK_KEY, &r->built[0], 0, 10, NULL, out,
               sizeof(out));
  assert_non_null(strstr(out, "'CN=leaf {issuer} %s%n' has a 1024-bit RSA"));
  cp_diag_hint(r, CP_CAUSE_HOSTNAME_MISMATCH, &r->built[0], 0, 62, "leaf.test",
               out, sizeof(out));
  assert_non_null(strstr(out, "for DNS:other.test, not for 'leaf.test'"));
  cp_diag_hint(r, CP_CAUSE_INCOMPLETE_CHAIN, &r->built[1], 1, 20, NULL, out,
               sizeof(out));
  assert_non_null(strstr(out, "caIssuers URL http://ca.test/r.crt"));
  cp_diag_hint(r, CP_CAUSE_PATH_LENGTH, &r->built[1], 1,
               X509_V_ERR_CERT_CHAIN_TOO_LONG, NULL, out, sizeof(out));
  assert_non_null(strstr(out, "longer than this client's verify depth"));
}


static void test_truncated_and_no_element(void **state) {
  cp_verify_result_t *r = result();
  char out[16];

  (void)state;
  memset(out, 'x', sizeof(out));
  cp_diag_hint(r, CP_CAUSE_EXPIRED_ROOT, &r->built[1], 1, 10, NULL, out,
               sizeof(out));
  assert_int_equal(strlen(out), sizeof(out) - 1);
  cp_diag_hint(r, CP_CAUSE_EXPIRED_ROOT, NULL, 5, 10, NULL, out, sizeof(out));
  assert_string_equal(out, "The trusted roo");
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_cause_has_a_sentence),
      cmocka_unit_test(test_facts_filled_bytes_kept),
      cmocka_unit_test(test_truncated_and_no_element),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
