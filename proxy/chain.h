/* What a client is served: the chain profiles (certs/profiles.json), one
 * minter per issuer, the CA certificates each profile sends, and the LRU
 * of minted leaves. cp_chain_select() picks the profile for a connection
 * (rules, then --chain), cp_chain_resolve() settles mirror against the
 * upstream's diagnosis, cp_chain_leaf() hands out the leaf. A cp_chain_t
 * owns everything it built; the CA is borrowed and outlives it. No uv, no
 * I/O besides reading the profiles file at init. */
#ifndef CP_CHAIN_H
#define CP_CHAIN_H

#include <stdint.h>

#include <openssl/x509.h>

#include "ca.h"
#include "leaf_cache.h"
#include "mint.h"
#include "profile.h"
#include "rules.h"
#include "stats.h"
#include "verify.h"

#define CP_CHAIN_LEAF_CACHE 1024

typedef struct cp_chain_s cp_chain_t;
typedef struct cp_chain_choice_s cp_chain_choice_t;

struct cp_chain_s {
  cp_profiles_t profiles;
  int default_profile;                    /* --chain */
  EVP_PKEY *leaf_key;                     /* owned: shared by every leaf */
  cp_minter_t *minters;                   /* owned: one per cp_issuer_t */
  STACK_OF(X509) *chains[CP_PROFILE_MAX]; /* owned: sent after the leaf */
  cp_leaf_cache_t leaves;                 /* owned */
  cp_stats_t *stats;                      /* borrowed: minting counters */
};

/* A served chain: the concrete profile, names override for mirror. */
struct cp_chain_choice_s {
  int profile;  /* never a mirror profile */
  int mirrored; /* chosen by mirroring the upstream */
  char names[CP_PROFILE_MAX_NAMES][254];
  int nnames;
};

/* Loads the profiles from path, checks the default profile's name, builds
 * minters and chains from ca (its untrusted hierarchy must exist). err
 * names what is wrong. */
/* rsa_leaf: leaves carry an RSA 2048 key instead of P-256 (--leaf-key). */
int cp_chain_init(cp_chain_t *ch, const cp_ca_t *ca, const char *path,
                  const char *default_profile, int rsa_leaf, cp_stats_t *stats,
                  char *err, size_t errlen);
void cp_chain_free(cp_chain_t *ch);
const char *cp_chain_profile_name(const cp_chain_t *ch, int profile);
/* The profile for host:port: the first matching rule, else --chain. */
int cp_chain_select(const cp_chain_t *ch, const cp_rules_t *rules,
                    const char *host, uint16_t port);
/* Resolves profile (possibly mirror, or forced by mirror mode) against
 * the upstream result r (NULL when there is none) into a concrete
 * choice. Pure: no I/O, no OpenSSL state. */
void cp_chain_resolve(const cp_chain_t *ch, int profile, int force_mirror,
                      const cp_verify_result_t *r, cp_chain_choice_t *out);
/* A new reference to the leaf for host under choice (cached or minted),
 * and the chain to send after it (borrowed). */
int cp_chain_leaf(cp_chain_t *ch, const cp_chain_choice_t *choice,
                  const char *host, X509 **leaf, STACK_OF(X509) **chain);

#endif
