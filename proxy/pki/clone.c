#include "pki/clone.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

typedef struct {
  char id[80];   /* sha256 hex of the original SPKI, or "missing-..." */
  EVP_PKEY *key; /* owned */
} clone_key_t;

typedef struct {
  char fp[65]; /* sha256 hex of the original certificate */
  X509 *cert;  /* owned: its clone */
} clone_memo_t;

struct cp_clone_s {
  char dir[1024]; /* "" when keys stay in memory */
  long long shift;
  STACK_OF(X509) *pool; /* borrowed */
  clone_key_t *keys;    /* owned */
  size_t nkeys;
  clone_memo_t *memo; /* owned */
  size_t nmemo;
};


static void hex(const unsigned char *d, size_t n, char *out, size_t len) {
  size_t i;

  if (len == 0) {
    return;
  }
  out[0] = '\0';
  for (i = 0; i < n && 2 * i + 2 < len; i++) {
    snprintf(out + 2 * i, 3, "%02x", d[i]);
  }
}


void cp_clone_spki_sha256(X509 *x, char *out, size_t len) {
  unsigned char *der = NULL;
  unsigned char md[SHA256_DIGEST_LENGTH];
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);

  if (n <= 0) {
    snprintf(out, len, "unreadable");
    return;
  }
  SHA256(der, (size_t)n, md);
  OPENSSL_free(der);
  hex(md, sizeof(md), out, len);
}


static void cert_sha256(X509 *x, char *out, size_t len) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;

  X509_digest(x, EVP_sha256(), md, &n);
  hex(md, n, out, len);
}


/* mkdir -p, every directory it creates 0700 (they hold private keys). */
static int mkdirs(const char *path, char *err, size_t len) {
  char buf[1024];
  char *p;

  if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
    snprintf(err, len, "%s: path too long", path);
    return -1;
  }
  for (p = buf + 1; *p != '\0'; p++) {
    if (*p == '/') {
      *p = '\0';
      if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
        snprintf(err, len, "cannot create %s: %s", buf, strerror(errno));
        return -1;
      }
      *p = '/';
    }
  }
  if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
    snprintf(err, len, "cannot create %s: %s", buf, strerror(errno));
    return -1;
  }
  return 0;
}


cp_clone_t *cp_clone_new(const char *key_dir, long long shift, char *err,
                         size_t len) {
  cp_clone_t *cl = calloc(1, sizeof(*cl));

  if (len > 0) {
    err[0] = '\0';
  }
  if (cl == NULL) {
    snprintf(err, len, "out of memory");
    return NULL;
  }
  cl->shift = shift;
  if (key_dir != NULL) {
    if (snprintf(cl->dir, sizeof(cl->dir), "%s", key_dir) >=
            (int)sizeof(cl->dir) ||
        mkdirs(key_dir, err, len) != 0) {
      if (err[0] == '\0') {
        snprintf(err, len, "key directory path too long");
      }
      free(cl);
      return NULL;
    }
  }
  return cl;
}


void cp_clone_free(cp_clone_t *cl) {
  size_t i;

  if (cl == NULL) {
    return;
  }
  for (i = 0; i < cl->nkeys; i++) {
    EVP_PKEY_free(cl->keys[i].key);
  }
  for (i = 0; i < cl->nmemo; i++) {
    X509_free(cl->memo[i].cert);
  }
  free(cl->keys);
  free(cl->memo);
  free(cl);
}


void cp_clone_set0_pool(cp_clone_t *cl, STACK_OF(X509) *pool) {
  cl->pool = pool;
}


/* A key described by type (EVP_PKEY_RSA or EVP_PKEY_EC), RSA size and
 * exponent, or EC group name. */
typedef struct {
  int type;
  int bits;
  BIGNUM *e; /* owned; NULL means 65537 */
  char group[64];
} key_shape_t;


static int shape_of(EVP_PKEY *pub, key_shape_t *s, char *err, size_t len) {
  int id = EVP_PKEY_get_base_id(pub);

  memset(s, 0, sizeof(*s));
  s->type = id;
  if (id == EVP_PKEY_RSA) {
    s->bits = EVP_PKEY_get_bits(pub);
    /* Keep the exponent too: some old roots use 3. */
    EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &s->e);
    if (s->bits < 1024 || s->bits > 8192) {
      snprintf(err, len, "unsupported RSA key size %d", s->bits);
      return -1;
    }
    return 0;
  }
  if (id == EVP_PKEY_EC) {
    if (EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
                                       s->group, sizeof(s->group), NULL) != 1 ||
        (strcmp(s->group, "prime256v1") != 0 &&
         strcmp(s->group, "secp384r1") != 0 &&
         strcmp(s->group, "secp521r1") != 0)) {
      snprintf(err, len, "unsupported EC curve %s",
               s->group[0] ? s->group : "(explicit parameters)");
      return -1;
    }
    return 0;
  }
  snprintf(err, len,
           "unsupported key type %s (only RSA and EC P-256/P-384/P-521 "
           "are cloned)",
           OBJ_nid2sn(id) ? OBJ_nid2sn(id) : "unknown");
  return -1;
}


static EVP_PKEY *generate(const key_shape_t *s, char *err, size_t len) {
  EVP_PKEY_CTX *ctx = NULL;
  EVP_PKEY *key = NULL;

  if (s->type == EVP_PKEY_EC) {
    key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", s->group);
    goto done;
  }
  ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
  if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, s->bits) <= 0 ||
      (s->e != NULL && EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, s->e) <= 0) ||
      EVP_PKEY_generate(ctx, &key) <= 0) {
    EVP_PKEY_free(key);
    key = NULL;
  }
done:
  EVP_PKEY_CTX_free(ctx);
  if (key == NULL) {
    snprintf(err, len, "key generation failed");
  }
  return key;
}


static int shape_matches(EVP_PKEY *key, const key_shape_t *s) {
  key_shape_t k;
  char e[128];
  int ok;

  if (shape_of(key, &k, e, sizeof(e)) != 0) {
    return 0;
  }
  ok = k.type == s->type && k.bits == s->bits && strcmp(k.group, s->group) == 0;
  BN_free(k.e);
  return ok;
}


/* Writes key to path (0600) through a temporary file renamed into place, so
 * a concurrent clone never reads half a key. */
static int write_key(EVP_PKEY *key, const char *path, char *err, size_t len) {
  char tmp[1300];
  FILE *f = NULL;
  int fd;

  snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (f == NULL) {
    snprintf(err, len, "cannot write %s: %s", tmp, strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    return -1;
  }
  if (PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 ||
      fclose(f) != 0 || rename(tmp, path) != 0) {
    snprintf(err, len, "cannot write %s", path);
    unlink(tmp);
    return -1;
  }
  return 0;
}


/* The cached key named id, loaded from the key directory or made with
 * shape s and saved there. Borrowed from cl. */
static EVP_PKEY *key_get0(cp_clone_t *cl, const char *id, const key_shape_t *s,
                          char *err, size_t len) {
  char path[1200];
  clone_key_t *grown;
  EVP_PKEY *key = NULL;
  FILE *f;
  size_t i;

  for (i = 0; i < cl->nkeys; i++) {
    if (strcmp(cl->keys[i].id, id) == 0) {
      return cl->keys[i].key;
    }
  }
  snprintf(path, sizeof(path), "%s/%s.pem", cl->dir, id);
  f = cl->dir[0] ? fopen(path, "r") : NULL;
  if (f != NULL) {
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL || !shape_matches(key, s)) {
      snprintf(err, len, "%s: not a key of the original's type and size", path);
      EVP_PKEY_free(key);
      return NULL;
    }
  } else {
    key = generate(s, err, len);
    if (key == NULL ||
        (cl->dir[0] != '\0' && write_key(key, path, err, len) != 0)) {
      EVP_PKEY_free(key);
      return NULL;
    }
  }
  grown = realloc(cl->keys, (cl->nkeys + 1) * sizeof(*grown));
  if (grown == NULL) {
    EVP_PKEY_free(key);
    snprintf(err, len, "out of memory");
    return NULL;
  }
  cl->keys = grown;
  snprintf(cl->keys[cl->nkeys].id, sizeof(cl->keys[0].id), "%s", id);
  cl->keys[cl->nkeys++].key = key;
  return key;
}


EVP_PKEY *cp_clone_get0_key(cp_clone_t *cl, X509 *orig, char *err, size_t len) {
  key_shape_t s;
  char id[80];
  EVP_PKEY *pub = X509_get0_pubkey(orig);
  EVP_PKEY *key;

  if (pub == NULL) {
    snprintf(err, len, "unreadable public key");
    return NULL;
  }
  if (shape_of(pub, &s, err, len) != 0) {
    BN_free(s.e);
    return NULL;
  }
  cp_clone_spki_sha256(orig, id, sizeof(id));
  key = key_get0(cl, id, &s, err, len);
  BN_free(s.e);
  return key;
}


static int signed_by(X509 *x, X509 *by) {
  EVP_PKEY *pub = X509_get0_pubkey(by);
  int ok = pub != NULL && X509_verify(x, pub) == 1;

  ERR_clear_error();
  return ok;
}


static int self_signed(X509 *x) {
  return X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) ==
             0 &&
         signed_by(x, x);
}


/* The pool certificate whose key signed orig: one OpenSSL would accept as
 * issuer if there is one, else any whose name matches and whose key
 * verifies the signature (the key is all a clone needs). Failing both, the
 * one a verifier would pick by name and key identifier although its key
 * does not verify orig: *bad_sig is set then (a signature altered after
 * signing, which the clone must keep). NULL if none. */
static X509 *find_issuer(cp_clone_t *cl, X509 *orig, int *bad_sig) {
  X509 *fallback = NULL, *named = NULL;
  X509 *c;
  int i;

  *bad_sig = 0;
  if (signed_by(orig, orig)) {
    return orig;
  }
  for (i = 0; cl->pool != NULL && i < sk_X509_num(cl->pool); i++) {
    c = sk_X509_value(cl->pool, i);
    if (X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(orig)) !=
        0) {
      continue;
    }
    if (!signed_by(orig, c)) {
      if (named == NULL && c != orig &&
          X509_check_issued(c, orig) == X509_V_OK) {
        named = c;
      }
      continue;
    }
    if (X509_check_issued(c, orig) == X509_V_OK) {
      return c;
    }
    fallback = c;
  }
  if (fallback == NULL && named != NULL) {
    *bad_sig = 1;
    return named;
  }
  return fallback;
}


/* The clone with the last byte of its signature flipped, as the original's
 * was altered: the signature is the last field of the DER. Takes over x. */
static X509 *spoil_signature(X509 *x, char *err, size_t len) {
  unsigned char *der = NULL;
  const unsigned char *p;
  X509 *out = NULL;
  int n = i2d_X509(x, &der);

  if (n > 0) {
    der[n - 1] ^= 0x01;
    p = der;
    out = d2i_X509(NULL, &p, n);
  }
  if (out == NULL) {
    snprintf(err, len, "cannot encode the clone");
  }
  OPENSSL_free(der);
  X509_free(x);
  return out;
}


/* The synthetic key for an issuer that is nowhere to be found: named after
 * the issuer name and AKI, typed after the signature algorithm, so every
 * certificate of that missing issuer gets the same one, run after run. */
static EVP_PKEY *missing_key(cp_clone_t *cl, X509 *orig, int pknid, int mdnid,
                             char *err, size_t len) {
  const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(orig);
  unsigned char *der = NULL;
  unsigned char md[SHA256_DIGEST_LENGTH];
  char id[80], h[65];
  key_shape_t s;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int n = i2d_X509_NAME(X509_get_issuer_name(orig), &der);

  memset(&s, 0, sizeof(s));
  if (ctx == NULL || n <= 0 || EVP_DigestInit(ctx, EVP_sha256()) != 1 ||
      EVP_DigestUpdate(ctx, der, (size_t)n) != 1 ||
      (akid != NULL &&
       EVP_DigestUpdate(ctx, ASN1_STRING_get0_data(akid),
                        (size_t)ASN1_STRING_length(akid)) != 1) ||
      EVP_DigestFinal(ctx, md, NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    snprintf(err, len, "cannot hash the missing issuer's name");
    return NULL;
  }
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  hex(md, sizeof(md), h, sizeof(h));
  snprintf(id, sizeof(id), "missing-%s", h);
  if (pknid == NID_rsaEncryption) {
    s.type = EVP_PKEY_RSA;
    s.bits = 2048;
  } else if (pknid == NID_X9_62_id_ecPublicKey) {
    s.type = EVP_PKEY_EC;
    snprintf(s.group, sizeof(s.group), "%s",
             mdnid == NID_sha256 ? "prime256v1" : "secp384r1");
  } else {
    snprintf(err, len, "unsupported signature algorithm %s", OBJ_nid2sn(pknid));
    return NULL;
  }
  return key_get0(cl, id, &s, err, len);
}


/* The key identifier of key as RFC 5280 method 1 (SHA-1 of the public key
 * bits), cut to n bytes when the original used a shorter one. */
static ASN1_OCTET_STRING *key_id(EVP_PKEY *key, int n) {
  X509_PUBKEY *xpk = NULL;
  const unsigned char *bits;
  unsigned char md[SHA_DIGEST_LENGTH];
  ASN1_OCTET_STRING *id = NULL;
  int blen;

  if (X509_PUBKEY_set(&xpk, key) != 1 ||
      X509_PUBKEY_get0_param(NULL, &bits, &blen, NULL, xpk) != 1) {
    goto done;
  }
  SHA1(bits, (size_t)blen, md);
  if (n <= 0 || n > SHA_DIGEST_LENGTH) {
    n = SHA_DIGEST_LENGTH;
  }
  id = ASN1_OCTET_STRING_new();
  if (id != NULL && ASN1_OCTET_STRING_set(id, md, n) != 1) {
    ASN1_OCTET_STRING_free(id);
    id = NULL;
  }
done:
  X509_PUBKEY_free(xpk);
  return id;
}


/* Replaces ext's value with the DER of v (an i2d of type it), in place:
 * position and criticality stay. */
static int set_ext_value(X509_EXTENSION *ext, void *v, const ASN1_ITEM *it) {
  ASN1_OCTET_STRING *data = ASN1_OCTET_STRING_new();
  unsigned char *der = NULL;
  int n = ASN1_item_i2d(v, &der, it);
  int ok = data != NULL && n > 0 && ASN1_OCTET_STRING_set(data, der, n) == 1 &&
           X509_EXTENSION_set_data(ext, data) == 1;

  OPENSSL_free(der);
  ASN1_OCTET_STRING_free(data);
  return ok ? 0 : -1;
}


/* SKI from the clone's own key, AKI keyid from its issuer's clone key; an
 * AKI's issuer+serial form is kept as it was (clone names and serials are
 * the originals'), so the identifiers stay consistent. */
static int redo_key_ids(X509 *x, EVP_PKEY *key, EVP_PKEY *ikey) {
  int i, rc = -1;
  X509_EXTENSION *ext;
  ASN1_OCTET_STRING *old = NULL, *id = NULL;
  AUTHORITY_KEYID *akid = NULL;

  i = X509_get_ext_by_NID(x, NID_subject_key_identifier, -1);
  if (i >= 0) {
    ext = X509_get_ext(x, i);
    old = X509V3_EXT_d2i(ext);
    id = key_id(key, old ? ASN1_STRING_length(old) : 0);
    if (id == NULL ||
        set_ext_value(ext, id, ASN1_ITEM_rptr(ASN1_OCTET_STRING)) != 0) {
      goto done;
    }
    ASN1_OCTET_STRING_free(old);
    ASN1_OCTET_STRING_free(id);
    old = id = NULL;
  }
  i = X509_get_ext_by_NID(x, NID_authority_key_identifier, -1);
  if (i >= 0) {
    ext = X509_get_ext(x, i);
    akid = X509V3_EXT_d2i(ext);
    if (akid == NULL) {
      goto done;
    }
    if (akid->keyid != NULL) {
      id = key_id(ikey, ASN1_STRING_length(akid->keyid));
      if (id == NULL) {
        goto done;
      }
      ASN1_OCTET_STRING_free(akid->keyid);
      akid->keyid = id;
      id = NULL;
    }
    if (set_ext_value(ext, akid, ASN1_ITEM_rptr(AUTHORITY_KEYID)) != 0) {
      goto done;
    }
  }
  rc = 0;
done:
  ASN1_OCTET_STRING_free(old);
  ASN1_OCTET_STRING_free(id);
  AUTHORITY_KEYID_free(akid);
  return rc;
}


/* t + shift, in the same ASN.1 type (UTCTime stays UTCTime). The
 * GeneralizedTime 99991231235959Z of "no expiry" is kept. */
static ASN1_TIME *shifted(const ASN1_TIME *t, long long shift) {
  struct tm tm;
  time_t secs;

  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    return NULL;
  }
  if (shift == 0 || tm.tm_year + 1900 >= 9999) {
    return ASN1_STRING_dup(t);
  }
  secs = timegm(&tm) + (time_t)shift;
  if (ASN1_STRING_type(t) == V_ASN1_UTCTIME) {
    return ASN1_UTCTIME_adj(NULL, secs, 0, 0);
  }
  return ASN1_GENERALIZEDTIME_adj(NULL, secs, 0, 0);
}


static int shift_validity(X509 *x, long long shift) {
  ASN1_TIME *nb = shifted(X509_get0_notBefore(x), shift);
  ASN1_TIME *na = shifted(X509_get0_notAfter(x), shift);
  int ok = nb != NULL && na != NULL && X509_set1_notBefore(x, nb) == 1 &&
           X509_set1_notAfter(x, na) == 1;

  ASN1_TIME_free(nb);
  ASN1_TIME_free(na);
  return ok ? 0 : -1;
}


static X509 *memo_get1(cp_clone_t *cl, const char *fp) {
  size_t i;

  for (i = 0; i < cl->nmemo; i++) {
    if (strcmp(cl->memo[i].fp, fp) == 0) {
      X509_up_ref(cl->memo[i].cert);
      return cl->memo[i].cert;
    }
  }
  return NULL;
}


/* Keeps one reference to clone; the same original, met again (in the
 * chain and in the store), gets the same clone: an ECDSA signature would
 * otherwise differ each time. */
static void memo_add(cp_clone_t *cl, const char *fp, X509 *clone) {
  clone_memo_t *grown = realloc(cl->memo, (cl->nmemo + 1) * sizeof(*grown));

  if (grown == NULL) {
    return;
  }
  cl->memo = grown;
  snprintf(cl->memo[cl->nmemo].fp, sizeof(cl->memo[0].fp), "%s", fp);
  X509_up_ref(clone);
  cl->memo[cl->nmemo++].cert = clone;
}


/* The subject, the subjectAltName (in place: position and criticality
 * stay) and the serial of edit, where given. */
static int apply_edit(X509 *x, const cp_clone_edit_t *edit) {
  int i;

  if (edit->subject != NULL && X509_set_subject_name(x, edit->subject) != 1) {
    return -1;
  }
  if (edit->serial != NULL && X509_set_serialNumber(x, edit->serial) != 1) {
    return -1;
  }
  if (edit->san != NULL) {
    i = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
    if (i < 0) {
      return X509_add1_ext_i2d(x, NID_subject_alt_name, edit->san, 0,
                               X509V3_ADD_DEFAULT) == 1
                 ? 0
                 : -1;
    }
    return set_ext_value(X509_get_ext(x, i), edit->san,
                         ASN1_ITEM_rptr(GENERAL_NAMES));
  }
  return 0;
}


X509 *cp_clone_reissue(X509 *orig, EVP_PKEY *key, EVP_PKEY *ikey,
                       long long shift, const cp_clone_edit_t *edit, char *err,
                       size_t len) {
  X509 *x = NULL, *out = NULL;
  const EVP_MD *md;
  int mdnid = NID_undef, pknid = NID_undef;
  unsigned char *der = NULL;
  const unsigned char *p;
  int n;

  if (OBJ_find_sigid_algs(X509_get_signature_nid(orig), &mdnid, &pknid) != 1 ||
      mdnid == NID_undef) {
    snprintf(err, len, "unsupported signature algorithm %s",
             OBJ_nid2sn(X509_get_signature_nid(orig)));
    return NULL;
  }
  md = EVP_get_digestbynid(mdnid);
  if (md == NULL) {
    snprintf(err, len, "unsupported digest %s", OBJ_nid2sn(mdnid));
    return NULL;
  }
  /* X509_dup goes through DER and keeps each name's cached encoding, so
   * names are written back byte for byte, not re-encoded. */
  x = X509_dup(orig);
  if (x == NULL || (edit != NULL && apply_edit(x, edit) != 0) ||
      X509_set_pubkey(x, key) != 1 || redo_key_ids(x, key, ikey) != 0 ||
      shift_validity(x, shift) != 0 || X509_sign(x, ikey, md) <= 0) {
    snprintf(err, len, "cannot re-sign the certificate%s",
             shift != 0 ? " (is the shifted date representable?)" : "");
    goto done;
  }
  /* Through DER again: the in-memory X509 still caches the original's key
   * identifiers and flags. */
  n = i2d_X509(x, &der);
  p = der;
  out = n > 0 ? d2i_X509(NULL, &p, n) : NULL;
  if (out == NULL) {
    snprintf(err, len, "cannot encode the clone");
  }
done:
  OPENSSL_free(der);
  X509_free(x);
  ERR_clear_error();
  return out;
}


X509 *cp_clone_cert(cp_clone_t *cl, X509 *orig, char *err, size_t len) {
  char fp[65];
  X509 *issuer, *out = NULL;
  EVP_PKEY *key, *ikey;
  int mdnid = NID_undef, pknid = NID_undef, bad_sig;

  err[0] = '\0';
  cert_sha256(orig, fp, sizeof(fp));
  out = memo_get1(cl, fp);
  if (out != NULL) {
    return out;
  }
  /* The key first: an Ed25519 certificate is refused for its key type. */
  key = cp_clone_get0_key(cl, orig, err, len);
  if (key == NULL) {
    return NULL;
  }
  if (OBJ_find_sigid_algs(X509_get_signature_nid(orig), &mdnid, &pknid) != 1 ||
      mdnid == NID_undef) {
    snprintf(err, len, "unsupported signature algorithm %s",
             OBJ_nid2sn(X509_get_signature_nid(orig)));
    return NULL;
  }
  issuer = find_issuer(cl, orig, &bad_sig);
  ikey = issuer != NULL ? cp_clone_get0_key(cl, issuer, err, len)
                        : missing_key(cl, orig, pknid, mdnid, err, len);
  if (ikey == NULL) {
    return NULL;
  }
  out = cp_clone_reissue(orig, key, ikey, cl->shift, NULL, err, len);
  if (out != NULL && bad_sig) {
    out = spoil_signature(out, err, len);
  }
  if (out != NULL) {
    memo_add(cl, fp, out);
  }
  return out;
}


EVP_PKEY *cp_clone_get0_issuer_key(cp_clone_t *cl, X509 *orig, char *err,
                                   size_t len) {
  int bad_sig;
  X509 *issuer = find_issuer(cl, orig, &bad_sig);

  if (issuer == NULL) {
    snprintf(err, len, "the issuer is not among the certificates given");
    return NULL;
  }
  return cp_clone_get0_key(cl, issuer, err, len);
}


const char *cp_clone_role(cp_clone_t *cl, X509 *orig, int is_first) {
  char a[65], b[65];
  X509 *c;
  int i;

  if (self_signed(orig)) {
    return "root";
  }
  if (is_first && X509_check_ca(orig) == 0) {
    return "leaf";
  }
  cp_clone_spki_sha256(orig, a, sizeof(a));
  for (i = 0; cl->pool != NULL && i < sk_X509_num(cl->pool); i++) {
    c = sk_X509_value(cl->pool, i);
    cp_clone_spki_sha256(c, b, sizeof(b));
    if (c != orig && strcmp(a, b) == 0 && self_signed(c)) {
      return "cross-sign";
    }
  }
  return "intermediate";
}
