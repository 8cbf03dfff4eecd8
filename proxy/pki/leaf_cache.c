#include "pki/leaf_cache.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"


static uint32_t key_hash(const char *profile, const char *host) {
  uint32_t h = 2166136261u; /* FNV-1a */
  const char *p;

  for (p = profile; *p; p++) {
    h = (h ^ (unsigned char)*p) * 16777619u;
  }
  h = (h ^ 0xff) * 16777619u;
  for (p = host; *p; p++) {
    h = (h ^ (unsigned char)*p) * 16777619u;
  }
  return h;
}


static int key_eq(const cp_leaf_entry_t *e, const char *profile,
                  const char *host) {
  size_t plen = strlen(profile);

  return strcmp(e->key, profile) == 0 && strcmp(e->key + plen + 1, host) == 0;
}


int cp_leaf_cache_init(cp_leaf_cache_t *c, size_t cap) {
  memset(c, 0, sizeof(*c));
  c->cap = cap ? cap : 1;
  c->nbuckets = 64;
  while (c->nbuckets < c->cap * 2) {
    c->nbuckets *= 2;
  }
  c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
  return c->buckets ? 0 : CP_ENOMEM;
}


static void lru_unlink(cp_leaf_cache_t *c, cp_leaf_entry_t *e) {
  if (e->prev) {
    e->prev->next = e->next;
  } else {
    c->head = e->next;
  }
  if (e->next) {
    e->next->prev = e->prev;
  } else {
    c->tail = e->prev;
  }
  e->prev = e->next = NULL;
}


static void lru_push_front(cp_leaf_cache_t *c, cp_leaf_entry_t *e) {
  e->prev = NULL;
  e->next = c->head;
  if (c->head) {
    c->head->prev = e;
  }
  c->head = e;
  if (c->tail == NULL) {
    c->tail = e;
  }
}


static void entry_remove(cp_leaf_cache_t *c, cp_leaf_entry_t *e) {
  cp_leaf_entry_t **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

  while (*pp != e) {
    pp = &(*pp)->hnext;
  }
  *pp = e->hnext;
  lru_unlink(c, e);
  X509_free(e->leaf);
  free(e);
  c->count--;
}


static cp_leaf_entry_t *find(cp_leaf_cache_t *c, const char *profile,
                             const char *host, uint32_t h) {
  cp_leaf_entry_t *e;

  for (e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext) {
    if (e->hash == h && key_eq(e, profile, host)) {
      return e;
    }
  }
  return NULL;
}


X509 *cp_leaf_cache_get1(cp_leaf_cache_t *c, const char *profile,
                         const char *host, time_t now) {
  uint32_t h = key_hash(profile, host);
  cp_leaf_entry_t *e = find(c, profile, host, h);

  if (e == NULL) {
    c->misses++;
    return NULL;
  }
  if (now >= e->refresh_at) {
    entry_remove(c, e);
    c->misses++;
    return NULL;
  }
  lru_unlink(c, e);
  lru_push_front(c, e);
  c->hits++;
  X509_up_ref(e->leaf);
  return e->leaf;
}


int cp_leaf_cache_put(cp_leaf_cache_t *c, const char *profile, const char *host,
                      X509 *leaf, time_t refresh_at) {
  uint32_t h = key_hash(profile, host);
  size_t plen = strlen(profile);
  size_t hlen = strlen(host);
  cp_leaf_entry_t *e = find(c, profile, host, h);

  if (e != NULL) {
    entry_remove(c, e);
  }
  if (c->count >= c->cap && c->tail != NULL) {
    entry_remove(c, c->tail);
    c->evictions++;
  }
  e = calloc(1, sizeof(*e) + plen + hlen + 2);
  if (e == NULL) {
    return CP_ENOMEM;
  }
  memcpy(e->key, profile, plen + 1);
  memcpy(e->key + plen + 1, host, hlen + 1);
  e->hash = h;
  e->refresh_at = refresh_at;
  X509_up_ref(leaf);
  e->leaf = leaf;
  e->hnext = c->buckets[h & (c->nbuckets - 1)];
  c->buckets[h & (c->nbuckets - 1)] = e;
  lru_push_front(c, e);
  c->count++;
  return 0;
}


void cp_leaf_cache_free(cp_leaf_cache_t *c) {
  while (c->head != NULL) {
    entry_remove(c, c->head);
  }
  free(c->buckets);
  c->buckets = NULL;
}
