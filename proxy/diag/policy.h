/* Policies only browsers apply, as warnings on a chain that verifies: a CA
 * they distrust (certs/distrust.json: fingerprints or organizations, the
 * clients, the date after which issued leaves are refused), a publicly
 * trusted leaf without embedded SCTs (Certificate Transparency), or one
 * valid for more than 398 days. They explain "works in curl, fails in
 * Chrome". Pure but for reading the data file. */
#ifndef CP_POLICY_H
#define CP_POLICY_H

#include <stddef.h>
#include <time.h>

#include "diag/verify.h"

#ifndef CP_DISTRUST_PATH
#define CP_DISTRUST_PATH "certs/distrust.json"
#endif

typedef struct cp_distrust_s cp_distrust_t;
typedef struct cp_distrust_entry_s cp_distrust_entry_t;

struct cp_distrust_entry_s {
  char name[96];
  char clients[64];
  char source[256];
  time_t after;       /* leaves with notBefore after this; 0: every leaf */
  char (*sha256)[65]; /* owned */
  int nsha256;
  char (*orgs)[96]; /* owned */
  int norgs;
};

struct cp_distrust_s {
  cp_distrust_entry_t *e; /* owned */
  int n;
};

int cp_distrust_parse(cp_distrust_t *d, const char *json, size_t len, char *err,
                      size_t errlen);
int cp_distrust_load(cp_distrust_t *d, const char *path, char *err,
                     size_t errlen);
void cp_distrust_free(cp_distrust_t *d);
/* Fills r->browser for a verified chain (after cp_roots_check: CT and the
 * lifetime rule apply only to publicly trusted roots), and makes the first
 * one r->warning when there is none. d may be NULL. */
void cp_policy_check(const cp_distrust_t *d, cp_verify_result_t *r);

#endif
