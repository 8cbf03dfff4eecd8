/* A bounded LRU of minted leaves keyed by (profile, host). The cache owns
 * one reference per entry and drops it on eviction; cp_leaf_cache_get1()
 * hands the caller a reference of its own. */
#ifndef CP_LEAF_CACHE_H
#define CP_LEAF_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

typedef struct cp_leaf_cache_s cp_leaf_cache_t;
typedef struct cp_leaf_entry_s cp_leaf_entry_t;

struct cp_leaf_entry_s {
  cp_leaf_entry_t *hnext;       /* bucket chain */
  cp_leaf_entry_t *prev, *next; /* LRU list, most recent first */
  X509 *leaf;                   /* owned reference */
  time_t refresh_at;            /* re-mint after this */
  uint32_t hash;
  char key[]; /* "profile\0host" */
};

struct cp_leaf_cache_s {
  cp_leaf_entry_t **buckets; /* owned */
  size_t nbuckets;
  size_t count, cap;
  cp_leaf_entry_t *head, *tail; /* borrowed links */
  uint64_t hits, misses, evictions;
};

int cp_leaf_cache_init(cp_leaf_cache_t *c, size_t cap);
void cp_leaf_cache_free(cp_leaf_cache_t *c);
/* A new reference to the cached leaf, or NULL (missing or due a refresh). */
X509 *cp_leaf_cache_get1(cp_leaf_cache_t *c, const char *profile,
                         const char *host, time_t now);
/* Stores leaf (the cache takes its own reference), evicting the least
 * recently used entry when full. */
int cp_leaf_cache_put(cp_leaf_cache_t *c, const char *profile, const char *host,
                      X509 *leaf, time_t refresh_at);

#endif
