/* Structural clones of a small generated hierarchy: two roots (P-256 and
 * P-384), a cross-sign of root A by root B (AKI in issuer+serial form), an
 * RSA 2048 intermediate, and two leaves sharing one key, the second with no
 * key identifiers at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "pki/clone.h"

enum { ROOT_A, ROOT_B, CROSS, INTER, LEAF, LEAF2, NCERTS };

typedef struct {
  char dir[64];
  EVP_PKEY *ka, *kb, *ki, *kl;
  X509 *c[NCERTS];
  STACK_OF(X509) *pool;
  cp_clone_t *cl;
  X509 *k[NCERTS]; /* clones */
} fixture_t;


static void add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509_EXTENSION *e;

  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  assert_non_null(e);
  X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
}


/* issuer NULL: self-signed. ids: 0 none, 1 keyid, 2 keyid+issuer. */
static X509 *make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
                  long serial, int ca, int ids, long long not_after) {
  X509 *x = X509_new();
  X509_NAME *n = X509_NAME_new();

  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (unsigned char *)"Clone", -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (unsigned char *)cn, -1,
                             -1, 0);
  X509_set_subject_name(x, n);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
  X509_NAME_free(n);
  ASN1_TIME_set(X509_getm_notBefore(x), 1600000000);
  ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after);
  X509_set_pubkey(x, key);
  add_ext(x, NULL, NID_basic_constraints,
          ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (ids > 0) {
    add_ext(x, NULL, NID_subject_key_identifier, "hash");
    add_ext(x, issuer ? issuer : x, NID_authority_key_identifier,
            ids == 2 ? "keyid:always,issuer:always" : "keyid:always");
  }
  add_ext(x, NULL, NID_key_usage,
          ca ? "critical,keyCertSign,cRLSign" : "digitalSignature");
  if (!ca) {
    add_ext(x, NULL, NID_subject_alt_name, "DNS:clone.test");
  }
  assert_true(X509_sign(x, ikey, EVP_sha384()) > 0);
  return x;
}


static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));
  char err[256];
  int i;

  snprintf(f->dir, sizeof(f->dir), "/tmp/cp-clone-XXXXXX");
  if (f == NULL || mkdtemp(f->dir) == NULL) {
    return -1;
  }
  strcat(f->dir, "/keys");
  f->ka = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
  f->kb = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp384r1");
  f->ki = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  f->kl = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
  /* 2060: GeneralizedTime; the others' 2030 stays UTCTime. */
  f->c[ROOT_A] = make("Root A", f->ka, NULL, f->ka, 1, 1, 1, 2900000000LL);
  f->c[ROOT_B] = make("Root B", f->kb, NULL, f->kb, 2, 1, 1, 1900000000LL);
  f->c[CROSS] =
      make("Root A", f->ka, f->c[ROOT_B], f->kb, 3, 1, 2, 1800000000LL);
  f->c[INTER] =
      make("Inter", f->ki, f->c[ROOT_A], f->ka, 4, 1, 1, 1850000000LL);
  f->c[LEAF] = make("leaf", f->kl, f->c[INTER], f->ki, 5, 0, 1, 1700000000LL);
  f->c[LEAF2] =
      make("leaf two", f->kl, f->c[INTER], f->ki, 6, 0, 0, 1700000000LL);
  f->pool = sk_X509_new_null();
  for (i = 0; i < NCERTS; i++) {
    sk_X509_push(f->pool, f->c[i]);
  }
  f->cl = cp_clone_new(f->dir, 0, err, sizeof(err));
  if (f->cl == NULL) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  cp_clone_set0_pool(f->cl, f->pool);
  for (i = 0; i < NCERTS; i++) {
    f->k[i] = cp_clone_cert(f->cl, f->c[i], err, sizeof(err));
    if (f->k[i] == NULL) {
      fprintf(stderr, "clone %d: %s\n", i, err);
      return -1;
    }
  }
  *state = f;
  return 0;
}


static int teardown(void **state) {
  fixture_t *f = *state;
  char cmd[128];
  int i;

  cp_clone_free(f->cl);
  for (i = 0; i < NCERTS; i++) {
    X509_free(f->c[i]);
    X509_free(f->k[i]);
  }
  sk_X509_free(f->pool);
  EVP_PKEY_free(f->ka);
  EVP_PKEY_free(f->kb);
  EVP_PKEY_free(f->ki);
  EVP_PKEY_free(f->kl);
  f->dir[strlen(f->dir) - strlen("/keys")] = '\0';
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}


static void same_der(const void *a, const void *b, const ASN1_ITEM *it) {
  unsigned char *da = NULL, *db = NULL;
  int na = ASN1_item_i2d((ASN1_VALUE *)a, &da, it);
  int nb = ASN1_item_i2d((ASN1_VALUE *)b, &db, it);

  assert_true(na > 0);
  assert_int_equal(na, nb);
  assert_memory_equal(da, db, (size_t)na);
  OPENSSL_free(da);
  OPENSSL_free(db);
}


static void test_fields_kept(void **state) {
  fixture_t *f = *state;
  X509_EXTENSION *eo, *ec;
  int i, j, nid;

  for (i = 0; i < NCERTS; i++) {
    same_der(X509_get_subject_name(f->c[i]), X509_get_subject_name(f->k[i]),
             ASN1_ITEM_rptr(X509_NAME));
    same_der(X509_get_issuer_name(f->c[i]), X509_get_issuer_name(f->k[i]),
             ASN1_ITEM_rptr(X509_NAME));
    assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(f->c[i]),
                                      X509_get0_serialNumber(f->k[i])),
                     0);
    assert_int_equal(X509_get_version(f->c[i]), X509_get_version(f->k[i]));
    same_der(X509_get0_notBefore(f->c[i]), X509_get0_notBefore(f->k[i]),
             ASN1_ITEM_rptr(ASN1_TIME));
    same_der(X509_get0_notAfter(f->c[i]), X509_get0_notAfter(f->k[i]),
             ASN1_ITEM_rptr(ASN1_TIME));
    assert_int_equal(X509_get_signature_nid(f->c[i]),
                     X509_get_signature_nid(f->k[i]));
    assert_int_equal(X509_get_ext_count(f->c[i]), X509_get_ext_count(f->k[i]));
    for (j = 0; j < X509_get_ext_count(f->c[i]); j++) {
      eo = X509_get_ext(f->c[i], j);
      ec = X509_get_ext(f->k[i], j);
      nid = OBJ_obj2nid(X509_EXTENSION_get_object(eo));
      assert_int_equal(nid, OBJ_obj2nid(X509_EXTENSION_get_object(ec)));
      assert_int_equal(X509_EXTENSION_get_critical(eo),
                       X509_EXTENSION_get_critical(ec));
      if (nid != NID_subject_key_identifier &&
          nid != NID_authority_key_identifier) {
        same_der(eo, ec, ASN1_ITEM_rptr(X509_EXTENSION));
      }
    }
  }
  assert_int_equal(ASN1_STRING_type(X509_get0_notAfter(f->k[ROOT_A])),
                   V_ASN1_GENERALIZEDTIME);
  assert_int_equal(ASN1_STRING_type(X509_get0_notAfter(f->k[INTER])),
                   V_ASN1_UTCTIME);
}


static void test_key_ids_consistent(void **state) {
  fixture_t *f = *state;
  static const int issuer_of[NCERTS] = {ROOT_A, ROOT_B, ROOT_B,
                                        ROOT_A, INTER,  INTER};
  AUTHORITY_KEYID *akid;
  int i;

  for (i = 0; i < NCERTS; i++) {
    assert_int_equal(X509_check_issued(f->k[issuer_of[i]], f->k[i]), X509_V_OK);
    assert_int_equal(X509_verify(f->k[i], X509_get0_pubkey(f->k[issuer_of[i]])),
                     1);
    /* The original identifiers no longer match: they were recomputed. */
    if (i != LEAF2) {
      assert_int_not_equal(
          ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(f->c[i]),
                                X509_get0_subject_key_id(f->k[i])),
          0);
    }
  }
  /* The cross-sign's AKI kept its issuer+serial form. */
  akid =
      X509_get_ext_d2i(f->k[CROSS], NID_authority_key_identifier, NULL, NULL);
  assert_non_null(akid);
  assert_non_null(akid->issuer);
  assert_non_null(akid->serial);
  assert_int_equal(ASN1_INTEGER_get(akid->serial), 2);
  AUTHORITY_KEYID_free(akid);
  /* No SKI/AKI in the original: none in the clone. */
  assert_null(X509_get0_subject_key_id(f->k[LEAF2]));
  assert_null(X509_get0_authority_key_id(f->k[LEAF2]));
}


static void test_key_shape_kept(void **state) {
  fixture_t *f = *state;
  EVP_PKEY *o, *c;
  int i;

  for (i = 0; i < NCERTS; i++) {
    o = X509_get0_pubkey(f->c[i]);
    c = X509_get0_pubkey(f->k[i]);
    assert_int_equal(EVP_PKEY_get_base_id(o), EVP_PKEY_get_base_id(c));
    assert_int_equal(EVP_PKEY_get_bits(o), EVP_PKEY_get_bits(c));
    assert_int_not_equal(EVP_PKEY_eq(o, c), 1);
  }
  assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(f->k[INTER])), 2048);
  assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(f->k[ROOT_B])), 384);
}


static void test_one_key_per_spki(void **state) {
  fixture_t *f = *state;

  /* Two leaves with one key: one clone key. */
  assert_int_equal(
      EVP_PKEY_eq(X509_get0_pubkey(f->k[LEAF]), X509_get0_pubkey(f->k[LEAF2])),
      1);
  /* The cross-sign shares its root's clone key, and is signed by the
   * clone of its real issuer. */
  assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(f->k[CROSS]),
                               X509_get0_pubkey(f->k[ROOT_A])),
                   1);
  assert_int_equal(X509_verify(f->k[CROSS], X509_get0_pubkey(f->k[ROOT_B])), 1);
  /* The intermediate verifies under either form of root A. */
  assert_int_equal(X509_verify(f->k[INTER], X509_get0_pubkey(f->k[CROSS])), 1);
  assert_string_equal(cp_clone_role(f->cl, f->c[CROSS], 0), "cross-sign");
  assert_string_equal(cp_clone_role(f->cl, f->c[ROOT_A], 0), "root");
  assert_string_equal(cp_clone_role(f->cl, f->c[LEAF], 1), "leaf");
  assert_string_equal(cp_clone_role(f->cl, f->c[INTER], 0), "intermediate");
}


static void test_keys_cached(void **state) {
  fixture_t *f = *state;
  char err[256], spki[65], path[256];
  cp_clone_t *again = cp_clone_new(f->dir, 0, err, sizeof(err));
  X509 *c, *l;
  struct stat st;

  assert_non_null(again);
  cp_clone_set0_pool(again, f->pool);
  c = cp_clone_cert(again, f->c[INTER], err, sizeof(err));
  assert_non_null(c);
  assert_int_equal(
      EVP_PKEY_eq(X509_get0_pubkey(c), X509_get0_pubkey(f->k[INTER])), 1);
  /* RSA PKCS#1 v1.5 signatures are deterministic: a leaf signed by the
   * RSA intermediate is cloned to the very same DER. */
  l = cp_clone_cert(again, f->c[LEAF], err, sizeof(err));
  assert_non_null(l);
  assert_int_equal(X509_cmp(l, f->k[LEAF]), 0);
  X509_free(l);
  cp_clone_spki_sha256(f->c[INTER], spki, sizeof(spki));
  snprintf(path, sizeof(path), "%s/%s.pem", f->dir, spki);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(stat(f->dir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  X509_free(c);
  cp_clone_free(again);
}


static void test_shift(void **state) {
  fixture_t *f = *state;
  char err[256];
  cp_clone_t *sh = cp_clone_new(f->dir, -3600, err, sizeof(err));
  X509 *c;
  int days, secs;

  assert_non_null(sh);
  cp_clone_set0_pool(sh, f->pool);
  c = cp_clone_cert(sh, f->c[ROOT_A], err, sizeof(err));
  assert_non_null(c);
  assert_int_equal(ASN1_TIME_diff(&days, &secs,
                                  X509_get0_notAfter(f->c[ROOT_A]),
                                  X509_get0_notAfter(c)),
                   1);
  assert_int_equal(days * 86400 + secs, -3600);
  assert_int_equal(ASN1_TIME_diff(&days, &secs,
                                  X509_get0_notBefore(f->c[ROOT_A]),
                                  X509_get0_notBefore(c)),
                   1);
  assert_int_equal(days * 86400 + secs, -3600);
  assert_int_equal(ASN1_STRING_type(X509_get0_notAfter(c)),
                   V_ASN1_GENERALIZEDTIME);
  assert_int_equal(ASN1_STRING_type(X509_get0_notBefore(c)), V_ASN1_UTCTIME);
  X509_free(c);
  cp_clone_free(sh);
}


static void test_missing_issuer(void **state) {
  fixture_t *f = *state;
  char err[256];
  cp_clone_t *alone = cp_clone_new(NULL, 0, err, sizeof(err));
  X509 *c;

  /* No pool: the intermediate's issuer is nowhere, so a synthetic key
   * signs it, and it does not verify under root A's clone. */
  assert_non_null(alone);
  c = cp_clone_cert(alone, f->c[INTER], err, sizeof(err));
  assert_non_null(c);
  assert_int_not_equal(X509_verify(c, X509_get0_pubkey(f->k[ROOT_A])), 1);
  X509_free(c);
  cp_clone_free(alone);
}


static void test_unsupported_key(void **state) {
  fixture_t *f = *state;
  char err[256];
  EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  X509 *x = X509_dup(f->c[LEAF2]), *c;

  (void)state;
  assert_non_null(ed);
  X509_set_pubkey(x, ed);
  assert_true(X509_sign(x, f->ki, EVP_sha256()) > 0);
  c = cp_clone_cert(f->cl, x, err, sizeof(err));
  assert_null(c);
  assert_non_null(strstr(err, "unsupported key type ED25519"));
  X509_free(x);
  EVP_PKEY_free(ed);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fields_kept),
      cmocka_unit_test(test_key_ids_consistent),
      cmocka_unit_test(test_key_shape_kept),
      cmocka_unit_test(test_one_key_per_spki),
      cmocka_unit_test(test_keys_cached),
      cmocka_unit_test(test_shift),
      cmocka_unit_test(test_missing_issuer),
      cmocka_unit_test(test_unsupported_key),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
