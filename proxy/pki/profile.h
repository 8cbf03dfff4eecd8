/* Chain profiles as data. certs/profiles.json describes each profile: who
 * issues the leaf, its validity relative to now, fixed names, and which CA
 * certificates are sent after it. This module parses that JSON (from a
 * file, or from bytes for the tests) into plain structs; chain.c turns
 * them into minters and certificate stacks. Adding a profile is a JSON
 * edit. */
#ifndef CP_PROFILE_H
#define CP_PROFILE_H

#include <stddef.h>

#define CP_PROFILE_MAX 32
#define CP_PROFILE_NAME_MAX 32
#define CP_PROFILE_MAX_NAMES 4
#define CP_PROFILE_MAX_SEND 4
#define CP_PROFILE_MAX_STORES 4
#define CP_PROFILE_PATH_MAX 256

/* CA certificates a profile can send or issue from. */
typedef enum {
  CP_EL_INTERMEDIATE,
  CP_EL_CROSS,
  CP_EL_ROOT,
  CP_EL_LEGACY_ROOT,
  CP_EL_UNTRUSTED_INTERMEDIATE,
  CP_EL_UNTRUSTED_ROOT,
  CP_EL_COUNT
} cp_element_t;

/* Who signs the leaf. */
typedef enum {
  CP_ISSUER_INTERMEDIATE,
  CP_ISSUER_UNTRUSTED_INTERMEDIATE,
  CP_ISSUER_SELF,
  CP_ISSUER_COUNT
} cp_issuer_t;

typedef struct cp_profile_s cp_profile_t;
typedef struct cp_profiles_s cp_profiles_t;
typedef struct cp_profile_store_s cp_profile_store_t;

/* An incident profile's "as of then" trust store: a name ("both", "dst")
 * and the real roots it holds (a PEM file). */
struct cp_profile_store_s {
  char name[24];
  char file[CP_PROFILE_PATH_MAX];
};

struct cp_profile_s {
  char name[CP_PROFILE_NAME_MAX];
  char description[256];
  cp_issuer_t issuer;
  long not_before; /* seconds from now */
  long not_after;
  char names[CP_PROFILE_MAX_NAMES][254]; /* fixed SAN names; none: the
                                            requested name */
  int nnames;
  cp_element_t send[CP_PROFILE_MAX_SEND];
  int nsend;
  int mirror; /* reproduce the upstream's defect */
  int exact;  /* serve a clone of the upstream's chain (pki/exact) */
  /* "incident": a real chain cloned at start (pki/incident). Files are
   * relative to the profiles file's directory unless absolute. */
  int incident;
  char chain_file[CP_PROFILE_PATH_MAX]; /* as served, leaf first */
  cp_profile_store_t stores[CP_PROFILE_MAX_STORES];
  int nstores;
  int shifted;            /* "shift_to_now" given (not null) */
  long long shift_to_now; /* that instant (epoch): it happens at the clone */
};

struct cp_profiles_s {
  cp_profile_t p[CP_PROFILE_MAX];
  int n;
  char dir[1024]; /* the profiles file's directory; "" when parsed from
                     bytes (relative files are then read from the cwd) */
};

/* Parses the profiles document. err names the profile and field. */
int cp_profiles_parse(cp_profiles_t *set, const char *json, size_t len,
                      char *err, size_t errlen);
/* Reads and parses path; err starts with the path. */
int cp_profiles_load(cp_profiles_t *set, const char *path, char *err,
                     size_t errlen);
/* Index of the profile called name, or -1. */
int cp_profiles_find(const cp_profiles_t *set, const char *name);
/* "-1h", "+30d", "90s", "-2m" -> seconds. 0 on success. */
int cp_parse_offset(const char *s, long *out);
const char *cp_element_name(cp_element_t e);
/* An incident profile's file (chain or store) as a path to open: as
 * written when absolute, else under set->dir. */
void cp_profiles_path(const cp_profiles_t *set, const char *file, char *out,
                      size_t len);
/* Comma-separated list of profile names, for messages. */
void cp_profiles_list(const cp_profiles_t *set, char *out, size_t len);

#endif
