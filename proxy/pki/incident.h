/* The real incidents as chain profiles (issue 26). A profile with an
 * "incident" (certs/profiles.json) names a real chain as a server sent it
 * (certs/real) and the trust stores of that time. It is cloned with
 * pki/clone, keys from CA_DIR/clones/keys (so repeated starts and
 * `chainproxy clone` agree), every validity moved so that the profile's
 * "shift_to_now" instant is the moment of the build; the cloned stores are
 * written as CA_DIR/incidents/PROFILE-store-NAME.pem and the cloned
 * certificates sent after the leaf as CA_DIR/incidents/PROFILE-chain.pem.
 * The leaf served is the real leaf re-issued for the requested host: its
 * extensions, validity and key type kept, its subject CN and
 * subjectAltName set to the host, its serial derived from the host.
 *
 * A cp_incidents_t is the server's, shared by the workers: each profile is
 * built once (at start for --chain and the start rules, else on first use,
 * under the mutex), and never changes afterwards. It owns everything it
 * built; the profiles are borrowed and outlive it. File I/O at build only;
 * no uv. */
#ifndef CP_INCIDENT_H
#define CP_INCIDENT_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki/profile.h"

typedef struct cp_incident_s cp_incident_t;
typedef struct cp_incidents_s cp_incidents_t;

struct cp_incident_s {
  int built;
  long long shift;         /* seconds added to every real validity date */
  unsigned char *leaf_der; /* owned: the real leaf, the template */
  int leaf_len;
  EVP_PKEY *leaf_key;   /* owned reference: the real leaf key's clone */
  EVP_PKEY *issuer_key; /* owned reference: its issuer's clone key */
  STACK_OF(X509) *sent; /* owned: the clones sent after the leaf */
  char error[256];      /* why the last build failed */
};

struct cp_incidents_s {
  pthread_mutex_t mu;
  const cp_profiles_t *profiles; /* borrowed */
  char key_dir[1100];            /* CA_DIR/clones/keys */
  char out_dir[1100];            /* CA_DIR/incidents */
  cp_incident_t inc[CP_PROFILE_MAX];
};

int cp_incidents_init(cp_incidents_t *set, const cp_profiles_t *profiles,
                      const char *ca_dir);
void cp_incidents_free(cp_incidents_t *set);
/* Profile i's incident, built now if it is not yet (key generation the
 * first time in a CA directory: seconds); borrowed, read-only, alive
 * until cp_incidents_free. NULL on error (err), or when profile i is not
 * an incident profile. Any thread. */
const cp_incident_t *cp_incidents_get0(cp_incidents_t *set, int i, char *err,
                                       size_t len);
/* The real leaf re-issued for host (validated here); the caller owns it.
 * Nonzero on error (err). Reentrant. */
int cp_incident_mint(const cp_incident_t *inc, const char *host, X509 **out,
                     char *err, size_t len);

/* The same with names[1..n-1] in subjectAltName too (names[0] is the CN
 * and the first entry; an IP literal is an iPAddress entry). */
int cp_incident_mint_names(const cp_incident_t *inc, const char *const *names,
                           int n, X509 **out, char *err, size_t len);

#endif
