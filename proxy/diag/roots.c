#include "diag/roots.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "diag/cert.h"
#include "base/err.h"


static int cmp(const void *a, const void *b) {
  return strcmp(a, b);
}


static int ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), t = strlen(tail);

  return n > t && strcmp(s + n - t, tail) == 0;
}


int cp_roots_load(cp_roots_t *roots, const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t cap = 0;
  int rc = 0;

  memset(roots, 0, sizeof(*roots));
  if (d == NULL) {
    return 0; /* no such set here: unknown, not an error */
  }
  while ((e = readdir(d)) != NULL && rc == 0) {
    char path[4096];
    FILE *fp;
    X509 *x;

    if (!ends_with(e->d_name, ".crt") && !ends_with(e->d_name, ".pem")) {
      continue;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    fp = fopen(path, "r");
    if (fp == NULL) {
      continue;
    }
    while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
      if (roots->n == cap) {
        char(*grown)[65] =
            realloc(roots->sha256, (cap ? cap * 2 : 256) * sizeof(*grown));

        if (grown == NULL) {
          X509_free(x);
          rc = CP_ENOMEM;
          break;
        }
        roots->sha256 = grown;
        cap = cap ? cap * 2 : 256;
      }
      cp_cert_sha256(x, 0, roots->sha256[roots->n++], 65);
      X509_free(x);
    }
    fclose(fp);
    ERR_clear_error();
  }
  closedir(d);
  if (roots->n > 0) {
    qsort(roots->sha256, roots->n, sizeof(*roots->sha256), cmp);
  }
  return rc;
}


void cp_roots_free(cp_roots_t *roots) {
  free(roots->sha256);
  roots->sha256 = NULL;
  roots->n = 0;
}


void cp_roots_check(const cp_roots_t *roots, cp_verify_result_t *r) {
  const cp_cert_info_t *anchor;

  r->private_root = -1;
  r->root_subject[0] = '\0';
  if (roots == NULL || roots->n == 0 || !r->ok || r->nbuilt == 0) {
    return;
  }
  anchor = &r->built[r->nbuilt - 1];
  snprintf(r->root_subject, sizeof(r->root_subject), "%s", anchor->subject);
  r->private_root = bsearch(anchor->sha256, roots->sha256, roots->n,
                            sizeof(*roots->sha256), cmp) == NULL;
}
