#include "diag/cert.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>


int cp_cert_set_random_serial(X509 *x) {
  unsigned char raw[16];
  BIGNUM *bn = NULL;
  int ok;

  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    return 0;
  }
  raw[0] = (unsigned char)((raw[0] & 0x7f) | 0x01); /* positive, non-zero */
  bn = BN_bin2bn(raw, sizeof(raw), NULL);
  ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
  BN_free(bn);
  return ok;
}


X509_EXTENSION *cp_cert_conf_ext(X509 *issuer, X509 *subject, int nid,
                                 const char *value) {
  X509V3_CTX v3;

  X509V3_set_ctx(&v3, issuer, subject, NULL, NULL, 0);
  return X509V3_EXT_conf_nid(NULL, &v3, nid, value);
}


void cp_cert_sha256(X509 *x, int colons, char *out, size_t len) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  unsigned int i;
  size_t off = 0;

  out[0] = '\0';
  if (X509_digest(x, EVP_sha256(), md, &n) != 1) {
    return;
  }
  /* Upper case with colons, as openssl x509 -fingerprint prints it. */
  for (i = 0; i < n && off + (colons ? 3 : 2) < len; i++) {
    off += (size_t)snprintf(out + off, len - off,
                            colons ? (i ? ":%02X" : "%02X") : "%02x", md[i]);
  }
}


void cp_cert_name_str(const X509_NAME *n, char *out, size_t len) {
  BIO *b = BIO_new(BIO_s_mem());
  int got;

  out[0] = '\0';
  if (b == NULL || len == 0) {
    BIO_free(b);
    return;
  }
  if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >=
      0) {
    got = BIO_read(b, out, (int)len - 1);
    out[got > 0 ? got : 0] = '\0';
  }
  BIO_free(b);
}


/* One GENERAL_NAME as "DNS:x" / "IP:10.0.0.0/255.0.0.0", appended. */
static void general_name_str(BIO *b, GENERAL_NAME *g) {
  GENERAL_NAME_print(b, g);
}


static void subtrees_str(BIO *b, const char *what,
                         STACK_OF(GENERAL_SUBTREE) *st, int *first) {
  int i;

  for (i = 0; st != NULL && i < sk_GENERAL_SUBTREE_num(st); i++) {
    BIO_printf(b, "%s%s ", *first ? "" : "; ", what);
    general_name_str(b, sk_GENERAL_SUBTREE_value(st, i)->base);
    *first = 0;
  }
}


static void bio_to(BIO *b, char *out, size_t len) {
  int got = BIO_read(b, out, (int)len - 1);

  out[got > 0 ? got : 0] = '\0';
}


void cp_cert_name_constraints(X509 *x, char *out, size_t len) {
  NAME_CONSTRAINTS *nc = X509_get_ext_d2i(x, NID_name_constraints, NULL, NULL);
  BIO *b;
  int first = 1;

  out[0] = '\0';
  if (nc == NULL || (b = BIO_new(BIO_s_mem())) == NULL) {
    NAME_CONSTRAINTS_free(nc);
    return;
  }
  subtrees_str(b, "permitted", nc->permittedSubtrees, &first);
  subtrees_str(b, "excluded", nc->excludedSubtrees, &first);
  bio_to(b, out, len);
  BIO_free(b);
  NAME_CONSTRAINTS_free(nc);
}


void cp_cert_unknown_critical(X509 *x, char *out, size_t len) {
  int i;

  out[0] = '\0';
  for (i = 0; i < X509_get_ext_count(x); i++) {
    X509_EXTENSION *e = X509_get_ext(x, i);
    ASN1_OBJECT *o = X509_EXTENSION_get_object(e);
    char oid[80], name[80];

    if (!X509_EXTENSION_get_critical(e) || X509_supported_extension(e)) {
      continue;
    }
    OBJ_obj2txt(oid, sizeof(oid), o, 1);
    OBJ_obj2txt(name, sizeof(name), o, 0);
    if (strcmp(oid, name) == 0) {
      snprintf(out, len, "%s", oid);
    } else {
      snprintf(out, len, "%s (%s)", name, oid);
    }
    return;
  }
}


void cp_cert_ca_issuers(X509 *x, char *out, size_t len) {
  AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
  int i;

  out[0] = '\0';
  for (i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
    ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

    if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers &&
        ad->location->type == GEN_URI) {
      snprintf(out, len, "%.*s",
               ASN1_STRING_length(ad->location->d.uniformResourceIdentifier),
               (const char *)ASN1_STRING_get0_data(
                   ad->location->d.uniformResourceIdentifier));
      break;
    }
  }
  AUTHORITY_INFO_ACCESS_free(aia);
}


void cp_cert_time_str(const ASN1_TIME *t, char *out, size_t len) {
  struct tm tm;

  out[0] = '\0';
  if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1) {
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
}
