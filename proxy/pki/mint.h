/* Leaf minting. A cp_minter_t uses the one P-256 key every minted leaf
 * shares (as mitmproxy does: minting then costs one signature, no key
 * generation) and the extensions every leaf of one issuer carries, built
 * once. One minter per issuer; the key is the caller's. The issuer
 * certificate and key are borrowed from the cp_ca_t, which outlives it. */
#ifndef CP_MINT_H
#define CP_MINT_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef struct cp_minter_s cp_minter_t;
typedef struct cp_mint_opts_s cp_mint_opts_t;

struct cp_minter_s {
  EVP_PKEY *leaf_key;      /* borrowed: shared by every leaf */
  X509 *issuer;            /* borrowed; NULL: self-signed leaves */
  EVP_PKEY *issuer_key;    /* borrowed (the leaf key when self) */
  X509_EXTENSION *exts[5]; /* owned: bc, ku, eku, ski, aki */
  int nexts;
};

struct cp_mint_opts_s {
  long not_before; /* seconds relative to now (negative: in the past) */
  long not_after;  /* seconds relative to now */
  const char *const *names; /* nnames > 0: the SAN names (the first is
                               also the CN) instead of host */
  int nnames;
  X509_EXTENSION *const *exts; /* borrowed: more extensions (CRL
                                  distribution point, AIA) */
  int nexts;
};

/* Leaves are backdated an hour (clock skew) and valid for 30 days. */
#define CP_MINT_BACKDATE (-3600L)
#define CP_MINT_LIFETIME (30L * 86400L)

/* The shared leaf key: P-256, EC_KEY-backed (see mint.c). */
EVP_PKEY *cp_mint_key_new(void);
/* An RSA 2048 leaf key, for clients that cannot use ECDSA (--leaf-key
 * rsa): RSA key exchange suites need one. */
EVP_PKEY *cp_mint_key_new_rsa(void);
/* issuer NULL: leaves are self-signed with leaf_key. */
int cp_minter_init(cp_minter_t *m, EVP_PKEY *leaf_key, X509 *issuer,
                   EVP_PKEY *issuer_key);
void cp_minter_free(cp_minter_t *m);
/* Mints a leaf for host (a DNS name or an IP literal, validated here).
 * opts NULL: the defaults above. */
int cp_mint_leaf(const cp_minter_t *m, const char *host,
                 const cp_mint_opts_t *opts, X509 **out);

#endif
