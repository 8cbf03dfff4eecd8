/* The distribution's own root certificates (on Debian, the Mozilla set in
 * /usr/share/ca-certificates/mozilla/), as a set of SHA-256 fingerprints,
 * to tell a chain that ends at one of them from one that ends at a root
 * added locally: the mark of a network that re-signs TLS (a corporate
 * proxy) or of a private PKI. Loaded once; owns its array. */
#ifndef CP_ROOTS_H
#define CP_ROOTS_H

#include <stddef.h>

#include "diag/verify.h"

#define CP_ROOTS_DIR "/usr/share/ca-certificates/mozilla"

typedef struct cp_roots_s cp_roots_t;

struct cp_roots_s {
  char (*sha256)[65]; /* owned, sorted */
  size_t n;
};

/* Reads every PEM certificate in dir (*.crt and *.pem); a missing
 * directory gives an empty set (private_root then stays unknown). */
int cp_roots_load(cp_roots_t *roots, const char *dir);
void cp_roots_free(cp_roots_t *roots);
/* Sets r->private_root (and r->root_subject) for a verified chain from
 * the trust anchor of its built chain; -1 when the set is empty or the
 * chain did not verify. */
void cp_roots_check(const cp_roots_t *roots, cp_verify_result_t *r);

#endif
