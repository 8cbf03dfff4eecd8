/* What a client is served: the profile chosen for a connection (rules,
 * then --chain; mirror resolved from the upstream's diagnosis), and the
 * leaf minted or taken from the cache for it. The profile data, minters
 * and sent chains live in the ctx, built once at start. */
#ifndef CP_SERVE_H
#define CP_SERVE_H

#include <stdint.h>

#include <openssl/x509.h>

#include "mint.h"
#include "profile.h"
#include "verify.h"

typedef struct cp_ctx_s cp_ctx_t;
typedef struct cp_serve_s cp_serve_t;

/* Built from the profiles at start; owned by the ctx. */
struct cp_serve_s {
  cp_profiles_t profiles;
  int default_profile;              /* --chain */
  EVP_PKEY *leaf_key;               /* owned: shared by every leaf */
  cp_minter_t *minters;             /* owned: one per cp_issuer_t */
  STACK_OF(X509) *chains[CP_PROFILE_MAX]; /* owned: sent after the leaf */
};

/* A served chain: the concrete profile, names override for mirror. */
typedef struct {
  int profile;                      /* never a mirror profile */
  int mirrored;                     /* chosen by mirroring the upstream */
  char names[CP_PROFILE_MAX_NAMES][254];
  int nnames;
} cp_serve_choice_t;

/* Loads the profiles, checks --chain, builds minters and chains. err
 * names what is wrong. */
int cp_serve_init(cp_ctx_t *ctx, char *err, size_t errlen);
void cp_serve_free(cp_ctx_t *ctx);
/* The profile for host:port: the first matching rule, else --chain. */
int cp_serve_select(const cp_ctx_t *ctx, const char *host, uint16_t port);
/* Resolves profile (possibly mirror, or forced by mirror mode) against
 * the upstream result r (NULL when there is none) into a concrete
 * choice. Pure: no I/O, no OpenSSL state. */
void cp_serve_resolve(const cp_serve_t *s, int profile, int force_mirror,
                      const cp_verify_result_t *r, cp_serve_choice_t *out);
/* A new reference to the leaf for host under choice (cached or minted),
 * and the chain to send after it (borrowed). */
int cp_serve_leaf(cp_ctx_t *ctx, const cp_serve_choice_t *choice,
                  const char *host, X509 **leaf, STACK_OF(X509) **chain);

#endif
