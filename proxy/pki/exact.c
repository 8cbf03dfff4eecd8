#include "pki/exact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "pki/clone.h"

typedef struct {
  unsigned char id[32]; /* sha256 over the presented certificates' DER */
  X509 *leaf;           /* owned */
  EVP_PKEY *key;        /* owned reference */
  STACK_OF(X509) *rest; /* owned */
} exact_entry_t;

struct cp_exact_s {
  char key_dir[1100];
  char store_path[1024];
  cp_clone_t *clone;     /* owned; made on first use */
  STACK_OF(X509) *store; /* owned: the upstream's roots */
  X509 *extra;           /* owned reference: trusted beside the store */
  exact_entry_t cache[CP_EXACT_CACHE];
  int next; /* slot replaced next (oldest first) */
};


cp_exact_t *cp_exact_new(const char *key_dir, const char *store) {
  cp_exact_t *ex = calloc(1, sizeof(*ex));

  if (ex == NULL) {
    return NULL;
  }
  snprintf(ex->key_dir, sizeof(ex->key_dir), "%s", key_dir);
  snprintf(ex->store_path, sizeof(ex->store_path), "%s",
           store != NULL ? store : "/etc/ssl/certs/ca-certificates.crt");
  return ex;
}


static void entry_clear(exact_entry_t *e) {
  X509_free(e->leaf);
  EVP_PKEY_free(e->key);
  sk_X509_pop_free(e->rest, X509_free);
  memset(e, 0, sizeof(*e));
}


void cp_exact_free(cp_exact_t *ex) {
  int i;

  if (ex == NULL) {
    return;
  }
  for (i = 0; i < CP_EXACT_CACHE; i++) {
    entry_clear(&ex->cache[i]);
  }
  cp_clone_free(ex->clone);
  sk_X509_pop_free(ex->store, X509_free);
  X509_free(ex->extra);
  free(ex);
}


void cp_exact_add_root(cp_exact_t *ex, X509 *root) {
  X509_free(ex->extra);
  ex->extra = root;
  X509_up_ref(root);
}


static STACK_OF(X509) *read_store(const char *path) {
  STACK_OF(X509) *sk = sk_X509_new_null();
  FILE *f = fopen(path, "r");
  X509 *x;

  if (sk == NULL) {
    if (f != NULL) {
      fclose(f);
    }
    return NULL;
  }
  if (f == NULL) {
    return sk; /* no store: unsent roots get clone's synthetic issuer */
  }
  while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
    if (!sk_X509_push(sk, x)) {
      X509_free(x);
      break;
    }
  }
  fclose(f);
  return sk;
}


static void chain_id(STACK_OF(X509) *sk, unsigned char out[32]) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char fp[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  int i;

  memset(out, 0, 32);
  if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
    EVP_MD_CTX_free(md);
    return;
  }
  for (i = 0; i < sk_X509_num(sk); i++) {
    if (X509_digest(sk_X509_value(sk, i), EVP_sha256(), fp, &n)) {
      EVP_DigestUpdate(md, fp, n);
    }
  }
  EVP_DigestFinal_ex(md, out, &n);
  EVP_MD_CTX_free(md);
}


static int make_clone(cp_exact_t *ex, STACK_OF(X509) *presented,
                      exact_entry_t *e, char *err, size_t len) {
  STACK_OF(X509) *pool = sk_X509_new_null();
  int i, rc = -1;

  e->rest = sk_X509_new_null();
  if (pool == NULL || e->rest == NULL) {
    snprintf(err, len, "out of memory");
    goto done;
  }
  for (i = 0; i < sk_X509_num(presented); i++) {
    sk_X509_push(pool, sk_X509_value(presented, i));
  }
  for (i = 0; i < sk_X509_num(ex->store); i++) {
    sk_X509_push(pool, sk_X509_value(ex->store, i));
  }
  cp_clone_set0_pool(ex->clone, pool);
  for (i = 0; i < sk_X509_num(presented); i++) {
    X509 *orig = sk_X509_value(presented, i);
    X509 *c = cp_clone_cert(ex->clone, orig, err, len);

    if (c == NULL) {
      goto done;
    }
    if (i == 0) {
      EVP_PKEY *k = cp_clone_get0_key(ex->clone, orig, err, len);

      if (k == NULL) {
        X509_free(c);
        goto done;
      }
      EVP_PKEY_up_ref(k);
      e->key = k;
      e->leaf = c;
    } else if (!sk_X509_push(e->rest, c)) {
      X509_free(c);
      snprintf(err, len, "out of memory");
      goto done;
    }
  }
  rc = 0;
done:
  cp_clone_set0_pool(ex->clone, NULL);
  sk_X509_free(pool);
  if (rc != 0) {
    entry_clear(e);
  }
  return rc;
}


int cp_exact_get(cp_exact_t *ex, STACK_OF(X509) *presented, X509 **leaf,
                 EVP_PKEY **key, STACK_OF(X509) **chain, int *hit, char *err,
                 size_t len) {
  unsigned char id[32];
  exact_entry_t *e;
  int i;

  *hit = 0;
  if (presented == NULL || sk_X509_num(presented) < 1) {
    snprintf(err, len, "the upstream presented no certificate");
    return -1;
  }
  chain_id(presented, id);
  for (i = 0; i < CP_EXACT_CACHE; i++) {
    e = &ex->cache[i];
    if (e->leaf != NULL && memcmp(e->id, id, sizeof(id)) == 0) {
      *hit = 1;
      goto found;
    }
  }
  if (ex->clone == NULL) {
    ex->clone = cp_clone_new(ex->key_dir, 0, err, len);
    if (ex->clone == NULL) {
      return -1;
    }
  }
  if (ex->store == NULL) {
    ex->store = read_store(ex->store_path);
    if (ex->store == NULL) {
      snprintf(err, len, "out of memory");
      return -1;
    }
    if (ex->extra != NULL && sk_X509_push(ex->store, ex->extra)) {
      X509_up_ref(ex->extra);
    }
  }
  e = &ex->cache[ex->next];
  ex->next = (ex->next + 1) % CP_EXACT_CACHE;
  entry_clear(e);
  if (make_clone(ex, presented, e, err, len) != 0) {
    return -1;
  }
  memcpy(e->id, id, sizeof(id));
found:
  X509_up_ref(e->leaf);
  *leaf = e->leaf;
  *key = e->key;
  *chain = e->rest;
  return 0;
}
