#include "cert.h"

#include <ctype.h>
#include <stdio.h>

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
