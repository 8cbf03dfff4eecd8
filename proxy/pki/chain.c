#include "pki/chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>

#include <openssl/x509v3.h>

#include "diag/diag.h"
#include "base/err.h"
#include "base/host.h"


static X509 *element_cert(const cp_ca_t *ca, cp_element_t e) {
  switch (e) {
  case CP_EL_INTERMEDIATE:
    return ca->intermediate;
  case CP_EL_CROSS:
    return ca->cross;
  case CP_EL_ROOT:
    return ca->root;
  case CP_EL_LEGACY_ROOT:
    return ca->legacy_root;
  case CP_EL_UNTRUSTED_INTERMEDIATE:
    return ca->untrusted_inter;
  case CP_EL_UNTRUSTED_ROOT:
    return ca->untrusted_root;
  default:
    return NULL;
  }
}


/* Makes the key and minters for one key type (1: RSA), once. */
static int keyset_make(cp_chain_t *s, int rsa) {
  cp_chain_keyset_t *k = &s->keys[rsa ? 1 : 0];
  const cp_ca_t *ca = s->ca;

  if (k->key != NULL) {
    return 0;
  }
  k->key = rsa ? cp_mint_key_new_rsa() : cp_mint_key_new();
  if (k->key == NULL ||
      cp_minter_init(&k->minters[CP_ISSUER_INTERMEDIATE], k->key,
                     ca->intermediate, ca->inter_key) != 0 ||
      cp_minter_init(&k->minters[CP_ISSUER_UNTRUSTED_INTERMEDIATE], k->key,
                     ca->untrusted_inter, ca->untrusted_inter_key) != 0 ||
      cp_minter_init(&k->minters[CP_ISSUER_SELF], k->key, NULL, NULL) != 0) {
    return CP_ETLS;
  }
  return 0;
}


int cp_chain_init(cp_chain_t *s, const cp_ca_t *ca, const char *path,
                  const char *default_profile, int rsa_leaf, cp_stats_t *stats,
                  char *err, size_t errlen) {
  char list[512];
  int i, k;

  memset(s, 0, sizeof(*s));
  s->stats = stats;
  if (cp_profiles_load(&s->profiles, path, err, errlen) != 0) {
    return CP_ECONFIG;
  }
  s->default_profile = cp_profiles_find(&s->profiles, default_profile);
  if (s->default_profile < 0) {
    cp_profiles_list(&s->profiles, list, sizeof(list));
    return cp_errf(err, errlen, CP_ECONFIG,
                   "--chain: unknown profile '%s' (profiles: %s)",
                   default_profile, list);
  }
  if (cp_leaf_cache_init(&s->leaves, CP_CHAIN_LEAF_CACHE) != 0) {
    return cp_errf(err, errlen, CP_ENOMEM, "cannot set up the leaf cache");
  }
  s->ca = ca;
  s->default_rsa = rsa_leaf != 0;
  if (keyset_make(s, s->default_rsa) != 0) {
    snprintf(err, errlen, "cannot set up leaf minting");
    return CP_ETLS;
  }
  for (i = 0; i < s->profiles.n; i++) {
    const cp_profile_t *p = &s->profiles.p[i];

    if (p->mirror || p->exact) {
      continue;
    }
    s->chains[i] = sk_X509_new_null();
    if (s->chains[i] == NULL) {
      snprintf(err, errlen, "out of memory");
      return CP_ENOMEM;
    }
    for (k = 0; k < p->nsend; k++) {
      X509 *x = element_cert(ca, p->send[k]);

      if (x == NULL || !sk_X509_push(s->chains[i], x)) {
        snprintf(err, errlen, "profile '%s': cannot send %s", p->name,
                 cp_element_name(p->send[k]));
        return CP_ETLS;
      }
      X509_up_ref(x);
    }
  }
  return 0;
}


void cp_chain_free(cp_chain_t *s) {
  int i, k;

  cp_leaf_cache_free(&s->leaves);
  cp_exact_free(s->exact);
  s->exact = NULL;
  for (i = 0; i < CP_PROFILE_MAX; i++) {
    sk_X509_pop_free(s->chains[i], X509_free);
    s->chains[i] = NULL;
  }
  for (k = 0; k < 2; k++) {
    for (i = 0; i < CP_ISSUER_COUNT; i++) {
      cp_minter_free(&s->keys[k].minters[i]);
    }
    EVP_PKEY_free(s->keys[k].key);
    s->keys[k].key = NULL;
  }
}


const char *cp_chain_profile_name(const cp_chain_t *ch, int profile) {
  return profile >= 0 && profile < ch->profiles.n ? ch->profiles.p[profile].name
                                                  : "?";
}


/* a and b name the same host for some client: equal ignoring case and
 * one trailing dot each (curl, for one, strips it), or IP literals for
 * the same address whatever their spelling. Wider than X509_check_host()
 * on purpose: the names mirrored are never wildcards (cp_host_is_valid
 * refuses '*'), and a false "same" only costs the wrong-host profile. */
static int same_host(const char *a, const char *b) {
  unsigned char ia[16], ib[16];
  size_t la = strlen(a), lb = strlen(b);

  if ((inet_pton(AF_INET, a, ia) == 1 && inet_pton(AF_INET, b, ib) == 1 &&
       memcmp(ia, ib, 4) == 0) ||
      (inet_pton(AF_INET6, a, ia) == 1 && inet_pton(AF_INET6, b, ib) == 1 &&
       memcmp(ia, ib, 16) == 0)) {
    return 1;
  }
  la -= la > 0 && a[la - 1] == '.';
  lb -= lb > 0 && b[lb - 1] == '.';
  return la == lb && strncasecmp(a, b, la) == 0;
}


/* The names of the upstream's leaf that a minted leaf can carry exactly
 * as the upstream has them, into out. Read from the DER bytes (san[]),
 * never from a joined string: a DNS name with a NUL, a comma or any byte
 * a host name cannot hold is left out (OpenSSL compared all of its bytes
 * and found no match; a C string would keep "localhost" of
 * "localhost\0.evil.example"), and so is a DNS name that is an IP
 * literal (mint.c would make it an iPAddress entry, which an IP client
 * checks). Returns how many, or -1 when one of them names host: a
 * mismatch must stay a mismatch. */
static int mirror_names(const cp_cert_info_t *leaf, const char *host,
                        char out[][254], int max) {
  int i, n = 0;

  for (i = 0; i < leaf->nsan && n < max; i++) {
    size_t len;
    const unsigned char *v = cp_verify_san_get0(leaf, i, &len);

    if (leaf->san[i].type == GEN_DNS &&
        (len == 0 || len > 253 || memchr(v, '\0', len) != NULL)) {
      continue;
    }
    if (cp_verify_san_text(leaf, i, out[n], sizeof(out[n])) == 0 ||
        !cp_host_is_valid(out[n]) ||
        (leaf->san[i].type == GEN_DNS && cp_host_is_ip(out[n]))) {
      continue;
    }
    if (host == NULL || same_host(out[n], host)) {
      return -1;
    }
    n++;
  }
  return n;
}


static int find_or(const cp_profiles_t *ps, const char *name, int fallback) {
  int i = cp_profiles_find(ps, name);

  return i >= 0 ? i : fallback;
}


void cp_chain_resolve(const cp_chain_t *s, int profile, int force_mirror,
                      const cp_verify_result_t *r, const char *host,
                      cp_chain_choice_t *out) {
  const cp_profiles_t *ps = &s->profiles;
  int modern = find_or(ps, "modern", 0);
  int untrusted = find_or(ps, "untrusted-root", modern);

  memset(out, 0, sizeof(*out));
  out->profile = profile;
  if (!ps->p[profile].mirror && !(force_mirror && r != NULL && !r->ok)) {
    return;
  }
  /* squid's ssl-bump "mimic": give the client the defect the upstream
   * has, so it fails (or not) as it would without the proxy. */
  out->mirrored = 1;
  out->profile = modern;
  if (r == NULL || r->ok) {
    return;
  }
  switch (r->cause_id) {
  case CP_CAUSE_EXPIRED_LEAF:
  case CP_CAUSE_EXPIRED_INTERMEDIATE:
  case CP_CAUSE_EXPIRED_ROOT:
    out->profile = find_or(ps, "expired", untrusted);
    break;
  case CP_CAUSE_EXPIRED_CROSS_SIGN:
    out->profile = find_or(ps, "legacy", untrusted);
    break;
  case CP_CAUSE_NOT_YET_VALID:
    out->profile = find_or(ps, "not-yet-valid", untrusted);
    break;
  case CP_CAUSE_SELF_SIGNED_LEAF:
    out->profile = find_or(ps, "self-signed", untrusted);
    break;
  case CP_CAUSE_HOSTNAME_MISMATCH: {
    /* A modern leaf for the names the upstream's leaf really has, none
     * of which may name the host; else the wrong-host profile's. */
    const cp_cert_info_t *leaf = r->nchain > 0 ? &r->chain[0] : NULL;
    int n =
        leaf ? mirror_names(leaf, host, out->names, CP_PROFILE_MAX_NAMES) : 0;

    out->nnames = n > 0 ? n : 0;
    out->keep_mismatch = 1;
    out->profile =
        out->nnames > 0 ? modern : find_or(ps, "wrong-host", untrusted);
    break;
  }
  default:
    /* Unknown issuer, incomplete chain, untrusted root, weak algorithms,
     * bad usage: a chain the client cannot verify either. */
    out->profile = untrusted;
    break;
  }
}


static uint64_t mono_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}


/* The last word on a mirrored mismatch, from OpenSSL on the leaf itself:
 * if it matches host after all, nothing is served (the connection fails
 * rather than trust a name the upstream's certificate did not hold). */
static int keep_mismatch(const cp_chain_choice_t *choice, const char *host,
                         X509 **leaf) {
  int match;

  if (!choice->keep_mismatch) {
    return 0;
  }
  match = cp_host_is_ip(host) ? X509_check_ip_asc(*leaf, host, 0)
                              : X509_check_host(*leaf, host, 0, 0, NULL);
  if (match == 0) {
    return 0;
  }
  X509_free(*leaf);
  *leaf = NULL;
  return CP_EINVAL;
}


void cp_chain_set_incidents(cp_chain_t *ch, cp_incidents_t *incidents) {
  ch->incidents = incidents;
}


void cp_chain_set_exact_root(cp_chain_t *ch, X509 *root) {
  ch->exact_root = root;
}


/* An incident profile's leaf for host: the real leaf re-issued, cached
 * an hour like any leaf; its key and chain are the incident's. */
static int incident_leaf(cp_chain_t *s, int profile, const char *host,
                         X509 **leaf, EVP_PKEY **leaf_key,
                         STACK_OF(X509) **chain) {
  const cp_incident_t *inc;
  const char *name = s->profiles.p[profile].name;
  time_t now = time(NULL);
  char err[300];
  uint64_t t0;

  inc = s->incidents != NULL
            ? cp_incidents_get0(s->incidents, profile, err, sizeof(err))
            : NULL;
  if (inc == NULL) {
    return CP_ETLS;
  }
  *leaf_key = inc->leaf_key;
  *chain = inc->sent;
  *leaf = cp_leaf_cache_get1(&s->leaves, name, host, now);
  if (*leaf != NULL) {
    s->stats->v[CP_STAT_LEAF_HITS]++;
    return 0;
  }
  s->stats->v[CP_STAT_LEAF_MISSES]++;
  t0 = mono_ns();
  if (cp_incident_mint(inc, host, leaf, err, sizeof(err)) != 0) {
    return CP_ETLS;
  }
  s->stats->v[CP_STAT_MINT_NS] += mono_ns() - t0;
  s->stats->v[CP_STAT_LEAVES_MINTED]++;
  cp_leaf_cache_put(&s->leaves, name, host, *leaf, now + 3600);
  s->stats->v[CP_STAT_LEAVES_CACHED] = s->leaves.count;
  return 0;
}


int cp_chain_leaf(cp_chain_t *s, const cp_chain_choice_t *choice,
                  const char *host, X509 **leaf, EVP_PKEY **leaf_key,
                  STACK_OF(X509) **chain) {
  const cp_profile_t *p = &s->profiles.p[choice->profile];
  const char *names[CP_PROFILE_MAX_NAMES];
  char key[CP_PROFILE_MAX_NAMES * 256 + 64];
  cp_mint_opts_t o;
  time_t now = time(NULL);
  cp_chain_keyset_t *ks;
  uint64_t t0;
  int i, rc;

  if (p->incident) {
    return incident_leaf(s, choice->profile, host, leaf, leaf_key, chain);
  }
  memset(&o, 0, sizeof(o));
  o.not_before = p->not_before;
  o.not_after = p->not_after;
  for (i = 0; i < p->nnames; i++) {
    names[i] = p->names[i];
  }
  o.nnames = p->nnames;
  snprintf(key, sizeof(key), "%s", p->name);
  if (choice->nnames > 0) {
    size_t used = strlen(key);

    for (i = 0; i < choice->nnames; i++) {
      names[i] = choice->names[i];
      used += (size_t)snprintf(key + used, sizeof(key) - used, "%s%s",
                               i ? "," : "|names=", choice->names[i]);
    }
    o.nnames = choice->nnames;
  }
  o.names = names;
  if (choice->rsa_leaf) {
    /* Cached apart from the P-256 leaf of the same name. */
    size_t used = strlen(key);

    snprintf(key + used, sizeof(key) - used, "|rsa");
  }
  rc = keyset_make(s, choice->rsa_leaf);
  if (rc != 0) {
    return rc;
  }
  ks = &s->keys[choice->rsa_leaf ? 1 : 0];
  *leaf_key = ks->key;
  *chain = s->chains[choice->profile];
  *leaf = cp_leaf_cache_get1(&s->leaves, key, host, now);
  if (*leaf != NULL) {
    s->stats->v[CP_STAT_LEAF_HITS]++;
    return keep_mismatch(choice, host, leaf);
  }
  s->stats->v[CP_STAT_LEAF_MISSES]++;
  t0 = mono_ns();
  rc = cp_mint_leaf(&ks->minters[p->issuer], host, &o, leaf);
  if (rc != 0) {
    return rc;
  }
  s->stats->v[CP_STAT_MINT_NS] += mono_ns() - t0;
  s->stats->v[CP_STAT_LEAVES_MINTED]++;
  /* Re-mint a day before a current leaf expires; leaves that are meant to
   * be out of their validity are just refreshed hourly. */
  cp_leaf_cache_put(
      &s->leaves, key, host, *leaf,
      now + (p->not_after > 2 * 86400 ? p->not_after - 86400 : 3600));
  s->stats->v[CP_STAT_LEAVES_CACHED] = s->leaves.count;
  return keep_mismatch(choice, host, leaf);
}


int cp_chain_is_exact(const cp_chain_t *ch, int profile) {
  return profile >= 0 && profile < ch->profiles.n &&
         ch->profiles.p[profile].exact;
}


int cp_chain_exact(cp_chain_t *ch, const char *upstream_ca,
                   STACK_OF(X509) *presented, X509 **leaf, EVP_PKEY **key,
                   STACK_OF(X509) **chain, int *hit, char *err, size_t len) {
  if (ch->exact == NULL) {
    char dir[1100];

    snprintf(dir, sizeof(dir), "%s/clones/keys", ch->ca->dir);
    ch->exact = cp_exact_new(dir, upstream_ca);
    if (ch->exact == NULL) {
      snprintf(err, len, "out of memory");
      return -1;
    }
    if (ch->exact_root != NULL) {
      cp_exact_add_root(ch->exact, ch->exact_root);
    }
  }
  return cp_exact_get(ch->exact, presented, leaf, key, chain, hit, err, len);
}
