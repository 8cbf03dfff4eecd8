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
#include <jansson.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "pki/ca.h"
#include "diag/diag.h"
#include "events/event.h"
#include "events/event_verify.h"
#include "pki/mint.h"
#include "diag/verify.h"

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
  cp_mint_opts_t o = {not_before, not_after, NULL, 0, NULL, 0};
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


/* A self-signed certificate with the subject CN cn and one SAN entry per
 * name (DNS, len bytes each; "IP:" + 4 bytes for an address). */
static X509 *hostile_cert(EVP_PKEY *key, const char *cn, const char *const *v,
                          const size_t *len, int n) {
  X509 *x = X509_new();
  GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
  X509_NAME *name = X509_get_subject_name(x);
  int i;

  assert_non_null(x);
  assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                              (const unsigned char *)cn, -1, -1,
                                              0),
                   1);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  for (i = 0; i < n; i++) {
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_STRING *str = ASN1_STRING_type_new(
        strncmp(v[i], "IP:", 3) == 0 ? V_ASN1_OCTET_STRING : V_ASN1_IA5STRING);
    int ip = strncmp(v[i], "IP:", 3) == 0;

    assert_int_equal(
        ASN1_STRING_set(str, v[i] + (ip ? 3 : 0), (int)len[i] - (ip ? 3 : 0)),
        1);
    GENERAL_NAME_set0_value(g, ip ? GEN_IPADD : GEN_DNS, str);
    sk_GENERAL_NAME_push(gens, g);
  }
  assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0), 1);
  GENERAL_NAMES_free(gens);
  assert_true(X509_sign(x, key, EVP_sha256()) > 0);
  return x;
}


/* SAN entries are read from the DER with their lengths: a NUL or a comma
 * inside a name stays inside it; the text form escapes every field. */
static void test_san_bytes(void **state) {
  static const char nul[] = "localhost\0.evil.example";
  static const char comma[] = "evil.test,DNS:localhost";
  static const char ctl[] = "x\x1b[2J\r\nFORGED \xe2\x80\xaegnp.test";
  const char *v[] = {nul, comma, ctl, "IP:\x7f\0\0\x01"};
  const size_t len[] = {sizeof(nul) - 1, sizeof(comma) - 1, sizeof(ctl) - 1, 7};
  fixture_t *f = *state;
  STACK_OF(X509) *chain = sk_X509_new_null();
  const unsigned char *b;
  char text[64];
  size_t n, i;
  cp_buf_t out;
  json_t *o = json_object(), *names;

  sk_X509_push(chain, hostile_cert(f->key, ctl, v, len, 4));
  cp_verify_result_build(&f->rec, chain, &f->r);
  sk_X509_pop_free(chain, X509_free);
  assert_int_equal(f->r.chain[0].nsan, 4);
  b = cp_verify_san_get0(&f->r.chain[0], 0, &n);
  assert_int_equal(f->r.chain[0].san[0].type, GEN_DNS);
  assert_int_equal(n, sizeof(nul) - 1);
  assert_memory_equal(b, nul, n);
  b = cp_verify_san_get0(&f->r.chain[0], 1, &n);
  assert_int_equal(n, sizeof(comma) - 1);
  assert_memory_equal(b, comma, n);
  assert_int_equal(f->r.chain[0].san[3].type, GEN_IPADD);
  assert_int_equal(cp_verify_san_text(&f->r.chain[0], 3, text, sizeof(text)),
                   9);
  assert_string_equal(text, "127.0.0.1");
  /* For reading: every value escaped, nothing cut at the NUL. */
  assert_string_equal(f->r.chain[0].names,
                      "DNS:localhost\\x00.evil.example, "
                      "DNS:evil.test,DNS:localhost, "
                      "DNS:x\\x1b[2J\\x0d\\x0aFORGED \\u202egnp.test, "
                      "IP:127.0.0.1");

  /* The text form: no raw control or bidi byte, no forged line. */
  cp_buf_init(&out, 1 << 20);
  cp_verify_format(&f->r, "localhost:443", "localhost", &out);
  for (i = 0; i < out.len; i++) {
    unsigned char ch = (unsigned char)out.data[i];

    assert_true(ch >= 0x20 || ch == '\n');
    assert_true(ch != 0x7f);
    assert_false(ch == 0xe2 && i + 2 < out.len &&
                 (unsigned char)out.data[i + 1] == 0x80 &&
                 (unsigned char)out.data[i + 2] == 0xae);
    assert_false(ch == '\n' && i + 1 < out.len &&
                 strncmp(out.data + i + 1, "FORGED", 6) == 0);
  }
  cp_buf_append(&out, "", 1);
  assert_non_null(strstr(out.data, "\\x1b[2J\\x0d\\x0aFORGED \\u202egnp"));
  cp_buf_free(&out);

  /* The event: the real bytes, and each entry on its own. */
  cp_verify_result_to_json(&f->r, "localhost", NULL, o);
  names =
      json_object_get(json_array_get(json_object_get(o, "chain"), 0), "san");
  assert_int_equal(json_array_size(names), 4);
  assert_int_equal(
      json_string_length(json_object_get(json_array_get(names, 0), "value")),
      sizeof(nul) - 1);
  assert_memory_equal(
      json_string_value(json_object_get(json_array_get(names, 0), "value")),
      nul, sizeof(nul) - 1);
  assert_string_equal(
      json_string_value(json_object_get(json_array_get(names, 1), "value")),
      comma);
  assert_string_equal(
      json_string_value(json_object_get(json_array_get(names, 2), "value")),
      ctl);
  assert_string_equal(
      json_string_value(json_object_get(json_array_get(names, 3), "type")),
      "IP");
  json_decref(o);
}


/* A name that is not UTF-8 keeps the event whole: such bytes are \xNN. */
static void test_san_not_utf8(void **state) {
  static const char bad[] = "caf\xe9.test";
  const char *v[] = {bad};
  const size_t len[] = {sizeof(bad) - 1};
  fixture_t *f = *state;
  STACK_OF(X509) *chain = sk_X509_new_null();
  json_t *o = json_object(), *c;
  char *line;

  sk_X509_push(chain, hostile_cert(f->key, "plain", v, len, 1));
  cp_verify_result_build(&f->rec, chain, &f->r);
  sk_X509_pop_free(chain, X509_free);
  cp_verify_result_to_json(&f->r, "localhost", NULL, o);
  c = json_array_get(json_object_get(o, "chain"), 0);
  assert_string_equal(json_string_value(json_object_get(c, "names")),
                      "DNS:caf\\xe9.test");
  line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
  assert_non_null(line);
  assert_non_null(strstr(line, "\"value\":\"caf\\\\xe9.test\""));
  assert_non_null(strstr(line, "\"hex\":\"636166e92e74657374\""));
  free(line);
  json_decref(o);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_good_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_every_error_recorded, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_missing_intermediate, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_no_certificate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_san_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_san_not_utf8, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
