#include "net/peers.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"


int cp_peers_init(cp_peers_t *p, size_t max_addrs) {
  memset(p, 0, sizeof(*p));
  for (p->cap = 64; p->cap < 2 * max_addrs; p->cap *= 2) {
  }
  p->slots = calloc(p->cap, sizeof(*p->slots));
  if (p->slots == NULL || pthread_mutex_init(&p->mu, NULL) != 0) {
    free(p->slots);
    p->slots = NULL;
    return CP_ENOMEM;
  }
  return 0;
}


void cp_peers_free(cp_peers_t *p) {
  if (p->slots != NULL) {
    free(p->slots);
    p->slots = NULL;
    pthread_mutex_destroy(&p->mu);
  }
}


static size_t home(const cp_peers_t *p, const unsigned char a[16]) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  int i;

  for (i = 0; i < 16; i++) {
    h = (h ^ a[i]) * 1099511628211ULL;
  }
  return (size_t)h & (p->cap - 1);
}


/* The slot holding a, or the free slot where it would go. */
static size_t find(const cp_peers_t *p, const unsigned char a[16]) {
  size_t i = home(p, a);

  while (p->slots[i].n != 0 && memcmp(p->slots[i].addr, a, 16) != 0) {
    i = (i + 1) & (p->cap - 1);
  }
  return i;
}


unsigned cp_peers_add(cp_peers_t *p, const unsigned char addr[16]) {
  unsigned n = 0;
  size_t i;

  pthread_mutex_lock(&p->mu);
  i = find(p, addr);
  if (p->slots[i].n != 0) {
    n = ++p->slots[i].n;
  } else if (p->used + 1 < p->cap / 2) { /* keep probes short */
    memcpy(p->slots[i].addr, addr, 16);
    n = p->slots[i].n = 1;
    p->used++;
  }
  pthread_mutex_unlock(&p->mu);
  return n;
}


/* Linear probing without tombstones: the run after a freed slot moves
 * back into it where its home allows. */
static void delete_at(cp_peers_t *p, size_t i) {
  size_t j = i, k;

  for (;;) {
    p->slots[i].n = 0;
    for (;;) {
      j = (j + 1) & (p->cap - 1);
      if (p->slots[j].n == 0) {
        return;
      }
      k = home(p, p->slots[j].addr);
      /* Move j back to i unless its home lies cyclically in (i, j]. */
      if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) {
        continue;
      }
      break;
    }
    p->slots[i] = p->slots[j];
    i = j;
  }
}


void cp_peers_remove(cp_peers_t *p, const unsigned char addr[16]) {
  size_t i;

  pthread_mutex_lock(&p->mu);
  i = find(p, addr);
  if (p->slots[i].n > 1) {
    p->slots[i].n--;
  } else if (p->slots[i].n == 1) {
    delete_at(p, i);
    p->used--;
  }
  pthread_mutex_unlock(&p->mu);
}
