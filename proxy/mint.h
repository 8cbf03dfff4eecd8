/* Leaf minting. A cp_minter_t owns the one P-256 key every minted leaf
 * shares (as mitmproxy does: minting then costs one signature, no key
 * generation) and the extensions every leaf carries, built once. The issuer
 * certificate and key are borrowed from the cp_ca_t, which outlives it. */
#ifndef CP_MINT_H
#define CP_MINT_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef struct cp_minter_s cp_minter_t;
typedef struct cp_mint_opts_s cp_mint_opts_t;

struct cp_minter_s {
  EVP_PKEY *leaf_key;          /* owned: shared by every leaf */
  X509 *issuer;                /* borrowed */
  EVP_PKEY *issuer_key;        /* borrowed */
  X509_EXTENSION *exts[5];     /* owned: bc, ku, eku, ski, aki */
  int nexts;
};

struct cp_mint_opts_s {
  long not_before;   /* seconds relative to now (negative: in the past) */
  long not_after;    /* seconds relative to now */
};

/* Leaves are backdated an hour (clock skew) and valid for 30 days. */
#define CP_MINT_BACKDATE (-3600L)
#define CP_MINT_LIFETIME (30L * 86400L)

int cp_minter_init(cp_minter_t *m, X509 *issuer, EVP_PKEY *issuer_key);
void cp_minter_free(cp_minter_t *m);
/* Mints a leaf for host (a DNS name or an IP literal, validated here).
 * opts NULL: the defaults above. */
int cp_mint_leaf(const cp_minter_t *m, const char *host,
                 const cp_mint_opts_t *opts, X509 **out);

#endif
