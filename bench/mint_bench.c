/* Cost of a leaf: minted cold (one ECDSA signature by the intermediate)
 * versus served from the LRU cache. Usage: mint_bench [N] (default 2000).
 * Creates a throwaway CA in a temporary directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pki/ca.h"
#include "pki/leaf_cache.h"
#include "pki/mint.h"

static double now_s(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  char dir[64] = "/tmp/cp-mintbench-XXXXXX", cadir[80], err[512], host[64];
  char cmd[128];
  cp_ca_t ca;
  cp_minter_t m;
  EVP_PKEY *key = NULL;
  cp_leaf_cache_t cache;
  double t0, cold, hit;
  int i, rc = 1;

  memset(&m, 0, sizeof(m));
  memset(&cache, 0, sizeof(cache));
  if (n <= 0 || n > 1000000 || mkdtemp(dir) == NULL) {
    fprintf(stderr, "usage: mint_bench [N between 1 and 1000000]\n");
    return 2;
  }
  snprintf(cadir, sizeof(cadir), "%s/ca", dir);
  t0 = now_s();
  if (cp_ca_load_or_create(&ca, cadir, err, sizeof(err)) != 0) {
    fprintf(stderr, "mint_bench: %s\n", err);
    return 1;
  }
  printf("create CA hierarchy: %.1f ms\n", (now_s() - t0) * 1e3);
  key = cp_mint_key_new();
  if (key == NULL ||
      cp_minter_init(&m, key, ca.intermediate, ca.inter_key) != 0 ||
      cp_leaf_cache_init(&cache, (size_t)n) != 0) {
    fprintf(stderr, "mint_bench: init failed\n");
    goto out;
  }
  t0 = now_s();
  for (i = 0; i < n; i++) {
    X509 *leaf = NULL;

    snprintf(host, sizeof(host), "host%d.example.test", i);
    if (cp_mint_leaf(&m, host, NULL, &leaf) != 0 ||
        cp_leaf_cache_put(&cache, "modern", host, leaf, time(NULL) + 3600) !=
            0) {
      fprintf(stderr, "mint_bench: mint failed for %s\n", host);
      X509_free(leaf);
      goto out;
    }
    X509_free(leaf);
  }
  cold = (now_s() - t0) / n;
  t0 = now_s();
  for (i = 0; i < n; i++) {
    X509 *leaf;

    snprintf(host, sizeof(host), "host%d.example.test", i);
    leaf = cp_leaf_cache_get1(&cache, "modern", host, time(NULL));
    if (leaf == NULL) {
      fprintf(stderr, "mint_bench: cache miss for %s\n", host);
      goto out;
    }
    X509_free(leaf);
  }
  hit = (now_s() - t0) / n;
  printf("leaves: %d\n", n);
  printf("mint cold: %.1f us/leaf (%.0f leaves/s)\n", cold * 1e6, 1 / cold);
  printf("cache hit: %.3f us/leaf (%.0f lookups/s)\n", hit * 1e6, 1 / hit);
  rc = 0;
out:
  cp_leaf_cache_free(&cache);
  cp_minter_free(&m);
  EVP_PKEY_free(key);
  cp_ca_free(&ca);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    rc = 1;
  return rc;
}
