/* What a client is served: the chain profiles (certs/profiles.json), one
 * minter per issuer, the CA certificates each profile sends, and the LRU
 * of minted leaves. cp_chain_resolve() settles mirror against the
 * upstream's diagnosis, cp_chain_leaf() hands out the leaf. A cp_chain_t
 * owns everything it built; the CA is borrowed and outlives it. No uv, no
 * I/O besides reading the profiles file at init. */
#ifndef CP_CHAIN_H
#define CP_CHAIN_H

#include <stdint.h>

#include <openssl/x509.h>

#include "pki/ca.h"
#include "pki/leaf_cache.h"
#include "pki/exact.h"
#include "pki/incident.h"
#include "pki/mint.h"
#include "pki/profile.h"
#include "events/stats.h"
#include "diag/verify.h"

#define CP_CHAIN_LEAF_CACHE 1024

typedef struct cp_chain_s cp_chain_t;
typedef struct cp_chain_choice_s cp_chain_choice_t;
typedef struct cp_chain_keyset_s cp_chain_keyset_t;

/* Leaves of one key type: the key every such leaf carries and one minter
 * per cp_issuer_t. */
struct cp_chain_keyset_s {
  EVP_PKEY *key;                        /* owned; NULL: not made yet */
  cp_minter_t minters[CP_ISSUER_COUNT]; /* owned */
};

struct cp_chain_s {
  cp_profiles_t profiles;
  int default_profile;                    /* --chain */
  int default_rsa;                        /* --leaf-key rsa */
  const cp_ca_t *ca;                      /* borrowed: issues the leaves */
  cp_chain_keyset_t keys[2];              /* [0] P-256, [1] RSA 2048 */
  STACK_OF(X509) *chains[CP_PROFILE_MAX]; /* owned: sent after the leaf */
  cp_leaf_cache_t leaves;                 /* owned */
  cp_stats_t *stats;                      /* borrowed: minting counters */
  cp_exact_t *exact;                      /* owned: the exact clones */
  cp_incidents_t *incidents; /* borrowed: the server's; NULL: incident
                                profiles serve nothing */
  X509 *exact_root;          /* borrowed: trusted upstream beside the
                                store (--origins), for exact clones */
};

/* A served chain: the concrete profile, names override for mirror. */
struct cp_chain_choice_s {
  int profile;       /* never a mirror profile */
  int mirrored;      /* chosen by mirroring the upstream */
  int keep_mismatch; /* mirrors a hostname mismatch: the leaf must not
                        match the host (checked on the leaf served) */
  int rsa_leaf;      /* the leaf's key: 1 RSA, 0 P-256 (set by the caller) */
  char names[CP_PROFILE_MAX_NAMES][254];
  int nnames;
};

/* Loads the profiles from path, checks the default profile's name, builds
 * minters and chains from ca (its untrusted hierarchy must exist). err
 * names what is wrong. */
/* rsa_leaf: leaves carry an RSA 2048 key instead of P-256 by default
 * (--leaf-key); the other key type is made the first time a rule asks. */
int cp_chain_init(cp_chain_t *ch, const cp_ca_t *ca, const char *path,
                  const char *default_profile, int rsa_leaf, cp_stats_t *stats,
                  char *err, size_t errlen);
void cp_chain_free(cp_chain_t *ch);
const char *cp_chain_profile_name(const cp_chain_t *ch, int profile);
/* Resolves profile (possibly mirror, or forced by mirror mode) against
 * the upstream result r (NULL when there is none) into a concrete
 * choice. host: the name the client asked for (the leaf's); a mirrored
 * hostname mismatch never carries a name that matches it (NULL: no name
 * is mirrored). Pure: no I/O, no OpenSSL state. */
void cp_chain_resolve(const cp_chain_t *ch, int profile, int force_mirror,
                      const cp_verify_result_t *r, const char *host,
                      cp_chain_choice_t *out);
/* A new reference to the leaf for host under choice (cached or minted),
 * its key and the chain to send after it (both borrowed). CP_EINVAL (no
 * leaf) when choice keeps a mismatch and the leaf would match host. */
int cp_chain_leaf(cp_chain_t *ch, const cp_chain_choice_t *choice,
                  const char *host, X509 **leaf, EVP_PKEY **key,
                  STACK_OF(X509) **chain);

/* Lends ch the incident profiles' clones (pki/incident), which outlive
 * it. */
void cp_chain_set_incidents(cp_chain_t *ch, cp_incidents_t *incidents);

/* Whether profile serves the exact clone of the upstream's chain. */
int cp_chain_is_exact(const cp_chain_t *ch, int profile);
/* The exact clone of presented (the upstream's chain, borrowed) as
 * cp_chain_leaf hands out a leaf. upstream_ca: where the roots the
 * upstream did not send are looked up (NULL: the system store); read on
 * first use. *hit: from the cache. Nonzero on error (err). */
/* root (borrowed, may be NULL) is trusted upstream beside upstream_ca:
 * exact clones clone it as a store root. */
void cp_chain_set_exact_root(cp_chain_t *ch, X509 *root);
int cp_chain_exact(cp_chain_t *ch, const char *upstream_ca,
                   STACK_OF(X509) *presented, X509 **leaf, EVP_PKEY **key,
                   STACK_OF(X509) **chain, int *hit, char *err, size_t len);

#endif
