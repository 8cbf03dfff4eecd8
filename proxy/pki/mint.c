/* The shared leaf key is built through the EC_KEY API, deprecated in
 * OpenSSL 3 but still supported there: X509_set_pubkey() encodes such a
 * key directly (about 10 us), while a provider-native key goes through
 * OSSL_ENCODER and back through OSSL_DECODER (about 350 us on OpenSSL 3.0),
 * several times the cost of the signature itself. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "pki/mint.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "diag/cert.h"
#include "base/err.h"
#include "base/host.h"


EVP_PKEY *cp_mint_key_new(void) {
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  EVP_PKEY *pkey = EVP_PKEY_new();

  if (ec == NULL || pkey == NULL || EC_KEY_generate_key(ec) != 1 ||
      EVP_PKEY_assign_EC_KEY(pkey, ec) != 1) {
    EC_KEY_free(ec);
    EVP_PKEY_free(pkey);
    return NULL;
  }
  return pkey; /* owns ec now */
}


EVP_PKEY *cp_mint_key_new_rsa(void) {
  RSA *rsa = RSA_new();
  BIGNUM *e = BN_new();
  EVP_PKEY *pkey = EVP_PKEY_new();

  /* RSA_ API for the same reason as EC_KEY above: X509_set_pubkey()
   * encodes such a key without a provider round trip. */
  if (rsa == NULL || e == NULL || pkey == NULL || BN_set_word(e, RSA_F4) != 1 ||
      RSA_generate_key_ex(rsa, 2048, e, NULL) != 1 ||
      EVP_PKEY_assign_RSA(pkey, rsa) != 1) {
    RSA_free(rsa);
    BN_free(e);
    EVP_PKEY_free(pkey);
    return NULL;
  }
  BN_free(e);
  return pkey; /* owns rsa now */
}


int cp_minter_init(cp_minter_t *m, EVP_PKEY *leaf_key, X509 *issuer,
                   EVP_PKEY *issuer_key) {
  X509 *probe = NULL;
  X509 *signer;
  int rc = CP_ETLS;

  memset(m, 0, sizeof(*m));
  m->leaf_key = leaf_key;
  m->issuer = issuer;
  m->issuer_key = issuer ? issuer_key : leaf_key;
  probe = X509_new();
  if (leaf_key == NULL || probe == NULL ||
      X509_set_pubkey(probe, leaf_key) != 1) {
    goto out;
  }
  signer = issuer ? issuer : probe;
  /* Every leaf has the same key and issuer, so these are the same bytes
   * for all of them: build them once. */
  m->exts[m->nexts++] = cp_cert_conf_ext(signer, probe, NID_basic_constraints,
                                         "critical,CA:FALSE");
  /* A self-signed leaf carries no keyUsage: one without keyCertSign
   * would not count as self-signed to OpenSSL, and clients would report
   * an unknown issuer instead of a self-signed certificate. */
  /* An RSA leaf may serve RSA key exchange (keyEncipherment). */
  if (issuer != NULL) {
    m->exts[m->nexts++] =
        cp_cert_conf_ext(signer, probe, NID_key_usage,
                         EVP_PKEY_get_base_id(leaf_key) == EVP_PKEY_RSA
                             ? "critical,digitalSignature,keyEncipherment"
                             : "critical,digitalSignature");
  }
  m->exts[m->nexts++] =
      cp_cert_conf_ext(signer, probe, NID_ext_key_usage, "serverAuth");
  m->exts[m->nexts++] =
      cp_cert_conf_ext(signer, probe, NID_subject_key_identifier, "hash");
  if (issuer != NULL) {
    m->exts[m->nexts++] = cp_cert_conf_ext(
        issuer, probe, NID_authority_key_identifier, "keyid:always");
  }
  for (int i = 0; i < m->nexts; i++) {
    if (m->exts[i] == NULL) {
      goto out;
    }
  }
  rc = 0;
out:
  X509_free(probe);
  if (rc != 0) {
    cp_minter_free(m);
  }
  return rc;
}


void cp_minter_free(cp_minter_t *m) {
  int i;

  for (i = 0; i < m->nexts; i++) {
    X509_EXTENSION_free(m->exts[i]);
    m->exts[i] = NULL;
  }
  m->nexts = 0;
}


/* The SAN is built from the validated host with the GENERAL_NAME API,
 * never through a config string, so no name can smuggle in another entry
 * (haproxy's ssl_gencert checks names for the same reason). */
static int push_name(GENERAL_NAMES *gens, const char *host) {
  GENERAL_NAME *gen = NULL;
  unsigned char ip[16];
  int iplen = 0;
  int ok = 0;

  if (inet_pton(AF_INET, host, ip) == 1) {
    iplen = 4;
  } else if (inet_pton(AF_INET6, host, ip) == 1) {
    iplen = 16;
  }
  gen = GENERAL_NAME_new();
  if (gen == NULL) {
    goto out;
  }
  if (iplen > 0) {
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

    if (os == NULL || ASN1_OCTET_STRING_set(os, ip, iplen) != 1) {
      ASN1_OCTET_STRING_free(os);
      goto out;
    }
    GENERAL_NAME_set0_value(gen, GEN_IPADD, os);
  } else {
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

    if (ia5 == NULL || ASN1_STRING_set(ia5, host, -1) != 1) {
      ASN1_IA5STRING_free(ia5);
      goto out;
    }
    GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
  }
  if (sk_GENERAL_NAME_push(gens, gen) == 0) {
    goto out;
  }
  gen = NULL;
  ok = 1;
out:
  GENERAL_NAME_free(gen);
  return ok;
}


static int add_san(X509 *x, const char *const *names, int n) {
  GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
  int i, ok = gens != NULL;

  for (i = 0; ok && i < n; i++) {
    ok = push_name(gens, names[i]);
  }
  ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0) == 1;
  GENERAL_NAMES_free(gens);
  return ok;
}


int cp_mint_leaf(const cp_minter_t *m, const char *host,
                 const cp_mint_opts_t *opts, X509 **out) {
  static const cp_mint_opts_t defaults = {
      CP_MINT_BACKDATE, CP_MINT_LIFETIME, NULL, 0, NULL, 0};
  const char *const *names = &host;
  X509 *leaf = NULL;
  X509_NAME *name;
  time_t now = time(NULL);
  int rc = CP_ETLS;
  int i, nnames = 1;

  if (opts == NULL) {
    opts = &defaults;
  }
  if (opts->nnames > 0) {
    names = opts->names;
    nnames = opts->nnames;
  }
  for (i = 0; i < nnames; i++) {
    if (!cp_host_is_valid(names[i])) {
      return CP_EINVAL;
    }
  }
  host = names[0];
  leaf = X509_new();
  if (leaf == NULL) {
    goto out;
  }
  name = X509_get_subject_name(leaf);
  if (X509_set_version(leaf, X509_VERSION_3) != 1 ||
      !cp_cert_set_random_serial(leaf) ||
      X509_time_adj_ex(X509_getm_notBefore(leaf), 0, opts->not_before, &now) ==
          NULL ||
      X509_time_adj_ex(X509_getm_notAfter(leaf), 0, opts->not_after, &now) ==
          NULL ||
      X509_set_pubkey(leaf, m->leaf_key) != 1) {
    goto out;
  }
  /* CN is limited to 64 characters (RFC 5280 ub-common-name); the SAN is
   * what clients check anyway. */
  if (strlen(host) <= 64 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 (const unsigned char *)host, -1, -1, 0) != 1) {
    goto out;
  }
  /* Self-signed leaves name themselves as issuer. */
  if (X509_set_issuer_name(leaf, m->issuer ? X509_get_subject_name(m->issuer)
                                           : name) != 1) {
    goto out;
  }
  for (i = 0; i < m->nexts; i++) {
    if (X509_add_ext(leaf, m->exts[i], -1) != 1) {
      goto out;
    }
  }
  for (i = 0; i < opts->nexts; i++) {
    if (X509_add_ext(leaf, opts->exts[i], -1) != 1) {
      goto out;
    }
  }
  if (!add_san(leaf, names, nnames) ||
      X509_sign(leaf, m->issuer_key, EVP_sha256()) <= 0) {
    goto out;
  }
  *out = leaf;
  leaf = NULL;
  rc = 0;
out:
  X509_free(leaf);
  return rc;
}
