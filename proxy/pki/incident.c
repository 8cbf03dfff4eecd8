#include "pki/incident.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "base/host.h"
#include "pki/clone.h"


int cp_incidents_init(cp_incidents_t *set, const cp_profiles_t *profiles,
                      const char *ca_dir) {
  memset(set, 0, sizeof(*set));
  set->profiles = profiles;
  if (snprintf(set->key_dir, sizeof(set->key_dir), "%s/clones/keys", ca_dir) >=
          (int)sizeof(set->key_dir) ||
      snprintf(set->out_dir, sizeof(set->out_dir), "%s/incidents", ca_dir) >=
          (int)sizeof(set->out_dir)) {
    return -1;
  }
  return pthread_mutex_init(&set->mu, NULL) != 0 ? -1 : 0;
}


static void incident_clear(cp_incident_t *inc) {
  OPENSSL_free(inc->leaf_der);
  EVP_PKEY_free(inc->leaf_key);
  EVP_PKEY_free(inc->issuer_key);
  sk_X509_pop_free(inc->sent, X509_free);
  memset(inc, 0, sizeof(*inc));
}


void cp_incidents_free(cp_incidents_t *set) {
  int i;

  if (set->profiles == NULL) {
    return;
  }
  for (i = 0; i < CP_PROFILE_MAX; i++) {
    incident_clear(&set->inc[i]);
  }
  pthread_mutex_destroy(&set->mu);
  set->profiles = NULL;
}


/* Appends every certificate of the PEM file to sk. */
static int read_pem(const cp_profiles_t *ps, const char *file,
                    STACK_OF(X509) *sk, char *err, size_t len) {
  char path[1400];
  FILE *f;
  X509 *x;
  int n = 0;

  cp_profiles_path(ps, file, path, sizeof(path));
  f = fopen(path, "r");
  if (f == NULL) {
    snprintf(err, len, "%s: %s", path, strerror(errno));
    return -1;
  }
  while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
    if (!sk_X509_push(sk, x)) {
      X509_free(x);
      break;
    }
    n++;
  }
  fclose(f);
  ERR_clear_error();
  if (n == 0) {
    snprintf(err, len, "%s: no certificate", path);
    return -1;
  }
  return 0;
}


/* The PEM of every certificate of sk at dir/name, through a temporary
 * file renamed into place (a client never reads half a store). 0644:
 * certificates only, for clients run as other users. */
static int write_pem(const char *dir, const char *name, STACK_OF(X509) *sk,
                     char *err, size_t len) {
  char path[1300], tmp[1400];
  FILE *f = NULL;
  int fd, i, ok = 1;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (f == NULL) {
    snprintf(err, len, "cannot write %s: %s", tmp, strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    return -1;
  }
  for (i = 0; i < sk_X509_num(sk); i++) {
    ok = ok && PEM_write_X509(f, sk_X509_value(sk, i)) == 1;
  }
  if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
    snprintf(err, len, "cannot write %s", path);
    unlink(tmp);
    return -1;
  }
  return 0;
}


/* The clones of every certificate of in, in order, into a new stack. */
static STACK_OF(X509) *clone_all(cp_clone_t *cl, STACK_OF(X509) *in, int from,
                                 char *err, size_t len) {
  STACK_OF(X509) *out = sk_X509_new_null();
  X509 *x;
  int i;

  for (i = from; out != NULL && i < sk_X509_num(in); i++) {
    x = cp_clone_cert(cl, sk_X509_value(in, i), err, len);
    if (x == NULL || !sk_X509_push(out, x)) {
      X509_free(x);
      sk_X509_pop_free(out, X509_free);
      return NULL;
    }
  }
  return out;
}


static int build(cp_incidents_t *set, const cp_profile_t *p, cp_incident_t *inc,
                 time_t now, char *err, size_t len) {
  STACK_OF(X509) *chain = sk_X509_new_null();
  STACK_OF(X509) *pool = sk_X509_new_null();
  STACK_OF(X509) *stores[CP_PROFILE_MAX_STORES] = {NULL};
  STACK_OF(X509) *cloned = NULL;
  cp_clone_t *cl = NULL;
  char name[128], why[256];
  X509 *leaf;
  int i, k, rc = -1;

  snprintf(err, len, "out of memory");
  if (chain == NULL || pool == NULL ||
      read_pem(set->profiles, p->chain_file, chain, err, len) != 0) {
    goto out;
  }
  for (i = 0; i < p->nstores; i++) {
    stores[i] = sk_X509_new_null();
    if (stores[i] == NULL ||
        read_pem(set->profiles, p->stores[i].file, stores[i], err, len) != 0) {
      goto out;
    }
  }
  /* Every certificate is a candidate issuer: the chain's and the roots. */
  for (i = 0; i < sk_X509_num(chain); i++) {
    sk_X509_push(pool, sk_X509_value(chain, i));
  }
  for (k = 0; k < p->nstores; k++) {
    for (i = 0; i < sk_X509_num(stores[k]); i++) {
      sk_X509_push(pool, sk_X509_value(stores[k], i));
    }
  }
  inc->shift = p->shifted ? (long long)now - p->shift_to_now : 0;
  cl = cp_clone_new(set->key_dir, inc->shift, err, len);
  if (cl == NULL) {
    goto out;
  }
  cp_clone_set0_pool(cl, pool);
  leaf = sk_X509_value(chain, 0);
  inc->sent = clone_all(cl, chain, 1, err, len);
  inc->leaf_key = cp_clone_get0_key(cl, leaf, err, len);
  inc->issuer_key =
      inc->leaf_key ? cp_clone_get0_issuer_key(cl, leaf, err, len) : NULL;
  if (inc->sent == NULL || inc->leaf_key == NULL || inc->issuer_key == NULL) {
    inc->leaf_key = inc->issuer_key = NULL;
    goto out;
  }
  EVP_PKEY_up_ref(inc->leaf_key);
  EVP_PKEY_up_ref(inc->issuer_key);
  inc->leaf_len = i2d_X509(leaf, &inc->leaf_der);
  if (inc->leaf_len <= 0) {
    goto out;
  }
  if (mkdir(set->out_dir, 0755) != 0 && errno != EEXIST) {
    snprintf(err, len, "cannot create %s: %s", set->out_dir, strerror(errno));
    goto out;
  }
  snprintf(name, sizeof(name), "%s-chain.pem", p->name);
  if (write_pem(set->out_dir, name, inc->sent, err, len) != 0) {
    goto out;
  }
  for (k = 0; k < p->nstores; k++) {
    cloned = clone_all(cl, stores[k], 0, err, len);
    snprintf(name, sizeof(name), "%s-store-%s.pem", p->name, p->stores[k].name);
    if (cloned == NULL || write_pem(set->out_dir, name, cloned, err, len)) {
      goto out;
    }
    sk_X509_pop_free(cloned, X509_free);
    cloned = NULL;
  }
  inc->built = 1;
  rc = 0;
out:
  if (rc != 0) {
    snprintf(why, sizeof(why), "%s", err);
    incident_clear(inc);
    snprintf(err, len, "profile '%s': %s", p->name, why);
    snprintf(inc->error, sizeof(inc->error), "%s", err);
  }
  sk_X509_pop_free(cloned, X509_free);
  cp_clone_free(cl);
  sk_X509_free(pool);
  sk_X509_pop_free(chain, X509_free);
  for (k = 0; k < CP_PROFILE_MAX_STORES; k++) {
    sk_X509_pop_free(stores[k], X509_free);
  }
  return rc;
}


const cp_incident_t *cp_incidents_get0(cp_incidents_t *set, int i, char *err,
                                       size_t len) {
  const cp_profile_t *p;
  cp_incident_t *inc;

  if (i < 0 || i >= set->profiles->n || !set->profiles->p[i].incident) {
    snprintf(err, len, "not an incident profile");
    return NULL;
  }
  p = &set->profiles->p[i];
  inc = &set->inc[i];
  pthread_mutex_lock(&set->mu);
  if (!inc->built && build(set, p, inc, time(NULL), err, len) != 0) {
    inc = NULL;
  }
  pthread_mutex_unlock(&set->mu);
  return inc;
}


/* The leaf's subject with its (last) CN set to host, in the CN's string
 * type when host fits it; without a CN when host is longer than a CN may
 * be (64, RFC 5280's ub-common-name). */
static X509_NAME *host_subject(X509 *orig, const char *host) {
  X509_NAME *n = X509_NAME_dup(X509_get_subject_name(orig));
  X509_NAME_ENTRY *e, *ne = NULL;
  ASN1_STRING *v;
  int i, type, ok;

  if (n == NULL) {
    return NULL;
  }
  i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
  while (i >= 0 && X509_NAME_get_index_by_NID(n, NID_commonName, i) >= 0) {
    i = X509_NAME_get_index_by_NID(n, NID_commonName, i);
  }
  if (i < 0) {
    return n;
  }
  e = X509_NAME_get_entry(n, i);
  v = X509_NAME_ENTRY_get_data(e);
  type = ASN1_STRING_type(v);
  if (type == V_ASN1_PRINTABLESTRING &&
      strspn(host, "abcdefghijklmnopqrstuvwxyz"
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.:") != strlen(host)) {
    type = V_ASN1_UTF8STRING;
  }
  if (strlen(host) > 64) {
    X509_NAME_ENTRY_free(X509_NAME_delete_entry(n, i));
    return n;
  }
  ne = X509_NAME_ENTRY_create_by_NID(NULL, NID_commonName, type,
                                     (const unsigned char *)host,
                                     (int)strlen(host));
  ok = ne != NULL;
  if (ok) {
    /* Same position, an RDN of its own, as the real leaf's CN. */
    X509_NAME_ENTRY_free(X509_NAME_delete_entry(n, i));
    ok = X509_NAME_add_entry(n, ne, i, 0) == 1;
  }
  X509_NAME_ENTRY_free(ne);
  if (!ok) {
    X509_NAME_free(n);
    return NULL;
  }
  return n;
}


static GENERAL_NAMES *host_san(const char *const *names, int n) {
  GENERAL_NAMES *gens = GENERAL_NAMES_new();
  GENERAL_NAME *g = NULL;
  ASN1_IA5STRING *s = NULL;
  ASN1_OCTET_STRING *ip = NULL;
  int i;

  for (i = 0; gens != NULL && i < n; i++) {
    g = GENERAL_NAME_new();
    if (g == NULL) {
      goto fail;
    }
    if (cp_host_is_ip(names[i])) {
      ip = a2i_IPADDRESS(names[i]);
      if (ip == NULL) {
        goto fail;
      }
      GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
    } else {
      s = ASN1_IA5STRING_new();
      if (s == NULL ||
          ASN1_STRING_set(s, names[i], (int)strlen(names[i])) != 1) {
        ASN1_IA5STRING_free(s);
        goto fail;
      }
      GENERAL_NAME_set0_value(g, GEN_DNS, s);
    }
    if (!sk_GENERAL_NAME_push(gens, g)) {
      goto fail;
    }
    g = NULL;
  }
  if (gens != NULL) {
    return gens;
  }
fail:
  GENERAL_NAME_free(g);
  GENERAL_NAMES_free(gens);
  return NULL;
}


/* A serial of the real one's length, SHA-256(real serial, host): one per
 * host, the same across starts, positive and of constant DER length. */
static ASN1_INTEGER *host_serial(X509 *orig, const char *host) {
  const ASN1_INTEGER *real = X509_get0_serialNumber(orig);
  unsigned char md[SHA256_DIGEST_LENGTH];
  ASN1_INTEGER *s = ASN1_INTEGER_new();
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  int n = ASN1_STRING_length(real);

  if (s == NULL || c == NULL) {
    goto fail;
  }
  n = n < 1 ? 1 : n > (int)sizeof(md) ? (int)sizeof(md) : n;
  if (EVP_DigestInit(c, EVP_sha256()) != 1 ||
      EVP_DigestUpdate(c, ASN1_STRING_get0_data(real),
                       (size_t)ASN1_STRING_length(real)) != 1 ||
      EVP_DigestUpdate(c, host, strlen(host)) != 1 ||
      EVP_DigestFinal(c, md, NULL) != 1) {
    goto fail;
  }
  md[0] = (unsigned char)((md[0] & 0x3f) | 0x01);
  if (ASN1_STRING_set(s, md, n) != 1) {
    goto fail;
  }
  EVP_MD_CTX_free(c);
  return s;
fail:
  EVP_MD_CTX_free(c);
  ASN1_INTEGER_free(s);
  return NULL;
}


int cp_incident_mint(const cp_incident_t *inc, const char *host, X509 **out,
                     char *err, size_t len) {
  return cp_incident_mint_names(inc, &host, 1, out, err, len);
}


int cp_incident_mint_names(const cp_incident_t *inc, const char *const *names,
                           int n, X509 **out, char *err, size_t len) {
  const char *host = names[0];
  const unsigned char *p = inc->leaf_der;
  X509 *orig = NULL;
  cp_clone_edit_t edit;
  int rc = -1, i;

  memset(&edit, 0, sizeof(edit));
  *out = NULL;
  if (!inc->built) {
    snprintf(err, len, "%s", inc->error);
    return -1;
  }
  for (i = 0; i < n; i++) {
    if (!cp_host_is_valid(names[i])) {
      snprintf(err, len, "not a host name");
      return -1;
    }
  }
  orig = d2i_X509(NULL, &p, inc->leaf_len);
  if (orig == NULL) {
    snprintf(err, len, "cannot read the real leaf");
    goto out;
  }
  edit.subject = host_subject(orig, host);
  edit.san = host_san(names, n);
  edit.serial = host_serial(orig, host);
  if (edit.subject == NULL || edit.san == NULL || edit.serial == NULL) {
    snprintf(err, len, "cannot set the leaf's names");
    goto out;
  }
  *out = cp_clone_reissue(orig, inc->leaf_key, inc->issuer_key, inc->shift,
                          &edit, err, len);
  rc = *out != NULL ? 0 : -1;
out:
  X509_NAME_free((X509_NAME *)edit.subject);
  GENERAL_NAMES_free(edit.san);
  ASN1_INTEGER_free(edit.serial);
  X509_free(orig);
  ERR_clear_error();
  return rc;
}
