#include "tls/resume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "tls/tls_io.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

struct cp_resume_entry_s {
  cp_resume_entry_t *hnext;       /* bucket chain */
  cp_resume_entry_t *prev, *next; /* LRU */
  uint64_t hash;
  SSL_SESSION *sess;      /* owned */
  cp_resume_blob_t *blob; /* owned ref */
  time_t expires;         /* the earlier of the session's and the chain's */
  unsigned gen;           /* of the data the result was judged with */
  char key[];
};

/* The packed layout: the result up to chain[], the presented elements,
 * the part between chain[] and built[], the built elements, the rest. */
#define HEAD_END offsetof(cp_verify_result_t, chain)
#define MID_START                                                              \
  (offsetof(cp_verify_result_t, chain) +                                       \
   CP_VERIFY_MAX_CHAIN * sizeof(cp_cert_info_t))
#define MID_END offsetof(cp_verify_result_t, built)
#define TAIL_START                                                             \
  (offsetof(cp_verify_result_t, built) +                                       \
   CP_VERIFY_MAX_CHAIN * sizeof(cp_cert_info_t))
#define INFO sizeof(cp_cert_info_t)
/* The tail ends with the families used (fam[] is the last field). */
#define FAM_START offsetof(cp_verify_result_t, fam)
#define FAM sizeof(cp_verify_family_t)


static size_t clamp_fam(int n) {
  return n < 0                        ? 0
         : n > CP_VERIFY_MAX_FAMILIES ? CP_VERIFY_MAX_FAMILIES
                                      : (size_t)n;
}


static size_t clamp_n(int n) {
  return n < 0 ? 0 : n > CP_VERIFY_MAX_CHAIN ? CP_VERIFY_MAX_CHAIN : (size_t)n;
}


static time_t first_expiry(const cp_cert_info_t *v, size_t n, time_t t) {
  size_t i;

  for (i = 0; i < n; i++) {
    if (v[i].na > 0 && (t == 0 || v[i].na < t)) {
      t = v[i].na;
    }
  }
  return t;
}


/* The first validity bound of v after at, or t if earlier. */
static time_t next_change(const cp_cert_info_t *v, size_t n, time_t at,
                          time_t t) {
  size_t i;

  for (i = 0; i < n; i++) {
    if (v[i].na > at && (t == 0 || v[i].na < t)) {
      t = v[i].na;
    }
    if (v[i].nb > at && (t == 0 || v[i].nb < t)) {
      t = v[i].nb;
    }
  }
  return t;
}


cp_resume_blob_t *cp_resume_pack(const cp_verify_result_t *r) {
  size_t nc = clamp_n(r->nchain), nb = clamp_n(r->nbuilt);
  size_t tail = FAM_START - TAIL_START + clamp_fam(r->nfam) * FAM;
  size_t len = HEAD_END + nc * INFO + (MID_END - MID_START) + nb * INFO + tail;
  cp_resume_blob_t *b = malloc(sizeof(*b) + len);
  const unsigned char *src = (const unsigned char *)r;
  unsigned char *p;
  size_t i;

  if (b == NULL) {
    return NULL;
  }
  b->refs = 1;
  b->nchain = nc;
  b->nbuilt = nb;
  b->expires = first_expiry(r->built, nb, first_expiry(r->chain, nc, 0));
  b->chain_expires =
      next_change(r->built, nb, r->at, next_change(r->chain, nc, r->at, 0));
  /* A family's verdict changes when its own path expires first. */
  for (i = 0; i < clamp_fam(r->nfam); i++) {
    if (r->fam[i].horizon > 0 &&
        (b->expires == 0 || r->fam[i].horizon < b->expires)) {
      b->expires = r->fam[i].horizon;
    }
    if (r->fam[i].horizon > r->at &&
        (b->chain_expires == 0 || r->fam[i].horizon < b->chain_expires)) {
      b->chain_expires = r->fam[i].horizon;
    }
  }
  p = b->data;
  memcpy(p, src, HEAD_END);
  p += HEAD_END;
  memcpy(p, r->chain, nc * INFO);
  p += nc * INFO;
  memcpy(p, src + MID_START, MID_END - MID_START);
  p += MID_END - MID_START;
  memcpy(p, r->built, nb * INFO);
  p += nb * INFO;
  memcpy(p, src + TAIL_START, tail);
  return b;
}


void cp_resume_unpack(const cp_resume_blob_t *b, cp_verify_result_t *out) {
  unsigned char *dst = (unsigned char *)out;
  const unsigned char *p = b->data;

  memcpy(dst, p, HEAD_END);
  p += HEAD_END;
  memcpy(out->chain, p, b->nchain * INFO);
  p += b->nchain * INFO;
  memcpy(dst + MID_START, p, MID_END - MID_START);
  p += MID_END - MID_START;
  memcpy(out->built, p, b->nbuilt * INFO);
  p += b->nbuilt * INFO;
  memcpy(dst + TAIL_START, p, FAM_START - TAIL_START);
  p += FAM_START - TAIL_START;
  memcpy(out->fam, p, clamp_fam(out->nfam) * FAM);
}


void cp_resume_blob_unref(cp_resume_blob_t *b) {
  if (b != NULL && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    free(b);
  }
}


cp_resume_blob_t *cp_resume_blob_ref(cp_resume_blob_t *b) {
  if (b != NULL) {
    __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
  }
  return b;
}


static uint64_t key_hash(const char *k) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */

  for (; *k; k++) {
    h = (h ^ (unsigned char)*k) * 1099511628211ULL;
  }
  return h;
}


int cp_resume_init(cp_resume_t *rc, size_t cap) {
  memset(rc, 0, sizeof(*rc));
  rc->cap = cap;
  if (cap == 0) {
    return 0;
  }
  if (pthread_mutex_init(&rc->mu, NULL) != 0) {
    return CP_ENOMEM;
  }
  for (rc->nbuckets = 16; rc->nbuckets < cap; rc->nbuckets *= 2) {
  }
  rc->buckets = calloc(rc->nbuckets, sizeof(*rc->buckets));
  return rc->buckets != NULL ? 0 : CP_ENOMEM;
}


static cp_resume_entry_t **bucket_of(cp_resume_t *rc, uint64_t h) {
  return &rc->buckets[h & (rc->nbuckets - 1)];
}


static void entry_remove(cp_resume_t *rc, cp_resume_entry_t *e) {
  cp_resume_entry_t **pp = bucket_of(rc, e->hash);

  while (*pp != e) {
    pp = &(*pp)->hnext;
  }
  *pp = e->hnext;
  if (e->prev != NULL) {
    e->prev->next = e->next;
  } else {
    rc->lru_head = e->next;
  }
  if (e->next != NULL) {
    e->next->prev = e->prev;
  } else {
    rc->lru_tail = e->prev;
  }
  rc->n--;
  SSL_SESSION_free(e->sess);
  cp_resume_blob_unref(e->blob);
  free(e);
}


static void lru_front(cp_resume_t *rc, cp_resume_entry_t *e) {
  if (rc->lru_head == e) {
    return;
  }
  e->prev->next = e->next;
  if (e->next != NULL) {
    e->next->prev = e->prev;
  } else {
    rc->lru_tail = e->prev;
  }
  e->prev = NULL;
  e->next = rc->lru_head;
  rc->lru_head->prev = e;
  rc->lru_head = e;
}


void cp_resume_flush(cp_resume_t *rc) {
  if (rc->cap == 0) {
    return;
  }
  pthread_mutex_lock(&rc->mu);
  while (rc->lru_head != NULL) {
    entry_remove(rc, rc->lru_head);
  }
  pthread_mutex_unlock(&rc->mu);
}


void cp_resume_free(cp_resume_t *rc) {
  if (rc->buckets != NULL) {
    cp_resume_flush(rc);
    pthread_mutex_destroy(&rc->mu);
  }
  free(rc->buckets);
  memset(rc, 0, sizeof(*rc));
}


static cp_resume_entry_t *lookup(cp_resume_t *rc, const char *key, uint64_t h) {
  cp_resume_entry_t *e;

  for (e = *bucket_of(rc, h); e != NULL; e = e->hnext) {
    if (e->hash == h && strcmp(e->key, key) == 0) {
      return e;
    }
  }
  return NULL;
}


/* A diagnosis kept without a session (the chain cache) is judged again
 * after this long at most. */
#define CP_CHAIN_TTL 600


static time_t session_end(SSL_SESSION *s) {
  if (s == NULL) {
    return time(NULL) + CP_CHAIN_TTL;
  }
  return (time_t)SSL_SESSION_get_time(s) + (time_t)SSL_SESSION_get_timeout(s);
}


/* Stores (key, sess, blob), replacing an older entry for key; takes the
 * caller's session reference (sess may be NULL: the chain cache) and
 * adds its own blob reference. */
static void store(cp_resume_t *rc, const char *key, unsigned gen,
                  SSL_SESSION *sess, cp_resume_blob_t *blob) {
  uint64_t h = key_hash(key);
  cp_resume_entry_t *e;
  size_t klen = strlen(key);
  time_t end = session_end(sess);
  time_t limit = sess != NULL ? blob->expires : blob->chain_expires;

  if (limit != 0 && limit < end) {
    end = limit;
  }
  if (end <= time(NULL) || (e = malloc(sizeof(*e) + klen + 1)) == NULL) {
    SSL_SESSION_free(sess);
    return;
  }
  pthread_mutex_lock(&rc->mu);
  {
    cp_resume_entry_t *old = lookup(rc, key, h);

    if (old != NULL) {
      entry_remove(rc, old);
    }
  }
  cp_resume_blob_ref(blob);
  memcpy(e->key, key, klen + 1);
  e->hash = h;
  e->gen = gen;
  e->sess = sess;
  e->blob = blob;
  e->expires = end;
  e->prev = NULL;
  e->next = rc->lru_head;
  if (rc->lru_head != NULL) {
    rc->lru_head->prev = e;
  } else {
    rc->lru_tail = e;
  }
  rc->lru_head = e;
  e->hnext = *bucket_of(rc, h);
  *bucket_of(rc, h) = e;
  rc->n++;
  rc->stored++;
  while (rc->n > rc->cap) {
    entry_remove(rc, rc->lru_tail);
  }
  pthread_mutex_unlock(&rc->mu);
}


/* Both halves present: into the cache. */
static void slot_settle(cp_resume_slot_t *slot) {
  if (slot->cache != NULL && slot->sess != NULL && slot->blob != NULL &&
      slot->current) {
    store(slot->cache, slot->key, slot->gen, slot->sess, slot->blob);
    slot->sess = NULL;
    slot->settled = 1;
    if (slot->done) {
      /* The client's handshake is over and only this ticket was awaited:
       * the cache holds the result now. */
      cp_resume_blob_unref(slot->blob);
      slot->blob = NULL;
      slot->current = 0;
    }
  }
}


/* OpenSSL's new-session callback: 1 keeps the reference it passes. The
 * session stays the connection's too; cp_tls_free() keeps OpenSSL from
 * marking it unresumable when the upstream closed without a
 * close_notify. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess) {
  cp_tls_t *t = SSL_get_app_data(ssl);
  cp_resume_slot_t *slot = t != NULL ? t->session_slot : NULL;

  if (slot == NULL || slot->cache == NULL || !SSL_SESSION_is_resumable(sess) ||
      (slot->settled && slot->done)) {
    return 0; /* a second ticket after the first was stored: not needed */
  }
  SSL_SESSION_free(slot->sess);
  slot->sess = sess;
  slot_settle(slot);
  return 1;
}


void cp_resume_install(SSL_CTX *ctx) {
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
                                          SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session);
}


void cp_resume_key(cp_resume_slot_t *slot, const char *addr, unsigned port,
                   const char *name, const unsigned char *alpn, size_t alpn_len,
                   int tls_min, const char *client_cert) {
  int n = snprintf(slot->key, sizeof(slot->key), "%s|%u|%s|%d|%s|", addr, port,
                   name, tls_min, client_cert ? client_cert : "");
  size_t i;

  /* ALPN as hex: the list is binary. */
  for (i = 0; n > 0 && (size_t)n + 3 < sizeof(slot->key) && i < alpn_len; i++) {
    n +=
        snprintf(slot->key + n, sizeof(slot->key) - (size_t)n, "%02x", alpn[i]);
  }
}


int cp_resume_offer(cp_resume_slot_t *slot, SSL *ssl, time_t now) {
  cp_resume_t *rc = slot->cache;
  cp_resume_entry_t *e;
  uint64_t h;

  slot->offered = 0;
  slot->current = 0;
  slot->settled = 0;
  slot->done = 0;
  if (rc == NULL || rc->cap == 0) {
    slot->cache = NULL; /* nothing will be kept either */
    return 0;
  }
  h = key_hash(slot->key);
  cp_resume_blob_unref(slot->blob);
  slot->blob = NULL;
  pthread_mutex_lock(&rc->mu);
  e = lookup(rc, slot->key, h);
  if (e != NULL && (e->expires <= now || e->gen != slot->gen)) {
    entry_remove(rc, e);
    rc->expired++;
    e = NULL;
  }
  if (e == NULL || SSL_set_session(ssl, e->sess) != 1) {
    rc->misses++;
    pthread_mutex_unlock(&rc->mu);
    return 0;
  }
  lru_front(rc, e);
  slot->blob = e->blob;
  cp_resume_blob_ref(slot->blob);
  pthread_mutex_unlock(&rc->mu);
  slot->offered = 1;
  return 1;
}


int cp_resume_reused(cp_resume_slot_t *slot, SSL *ssl,
                     cp_verify_result_t *out) {
  if (!slot->offered || slot->blob == NULL || !SSL_session_reused(ssl)) {
    /* A full handshake: the offered result is not this one. */
    cp_resume_blob_unref(slot->blob);
    slot->blob = NULL;
    return 0;
  }
  __atomic_add_fetch(&slot->cache->hits, 1, __ATOMIC_RELAXED);
  slot->current = 1;
  cp_resume_unpack(slot->blob, out);
  slot_settle(slot); /* a 1.2 ticket renewed during the handshake */
  return 1;
}


int cp_resume_keep(cp_resume_slot_t *slot, const cp_verify_result_t *r) {
  if (slot->cache == NULL && slot->chain_key[0] == '\0') {
    return 0; /* neither a session nor the chain will keep it */
  }
  cp_resume_blob_unref(slot->blob);
  slot->blob = cp_resume_pack(r);
  if (slot->blob == NULL) {
    return CP_ENOMEM;
  }
  slot->current = 1;
  slot_settle(slot);
  return 0;
}


void cp_resume_chain_key(cp_resume_slot_t *slot, STACK_OF(X509) *chain,
                         const char *name, int auth_level) {
  unsigned char all[32], one[32];
  unsigned len = 0;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int i, n = 0, ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL);

  slot->chain_key[0] = '\0';
  /* The exact certificates presented, in order. */
  for (i = 0; ok && i < sk_X509_num(chain); i++) {
    ok = X509_digest(sk_X509_value(chain, i), EVP_sha256(), one, &len) &&
         EVP_DigestUpdate(md, one, len);
  }
  ok = ok && EVP_DigestFinal_ex(md, all, &len) && len == sizeof(all);
  EVP_MD_CTX_free(md);
  if (!ok || sk_X509_num(chain) == 0) {
    return;
  }
  n = snprintf(slot->chain_key, sizeof(slot->chain_key), "%d|%s|", auth_level,
               name);
  for (i = 0;
       i < (int)sizeof(all) && n > 0 && (size_t)n + 3 < sizeof(slot->chain_key);
       i++) {
    n += snprintf(slot->chain_key + n, sizeof(slot->chain_key) - (size_t)n,
                  "%02x", all[i]);
  }
}


int cp_resume_chain_get(cp_resume_slot_t *slot, time_t now) {
  cp_resume_t *rc = slot->chains;
  cp_resume_entry_t *e;

  if (rc == NULL || rc->cap == 0 || slot->chain_key[0] == '\0') {
    return 0;
  }
  pthread_mutex_lock(&rc->mu);
  e = lookup(rc, slot->chain_key, key_hash(slot->chain_key));
  if (e != NULL && (e->expires <= now || e->gen != slot->gen)) {
    entry_remove(rc, e);
    e = NULL;
  }
  if (e != NULL) {
    lru_front(rc, e);
    cp_resume_blob_unref(slot->chain_blob);
    slot->chain_blob = e->blob;
    cp_resume_blob_ref(e->blob);
    rc->hits++;
  } else {
    rc->misses++;
  }
  pthread_mutex_unlock(&rc->mu);
  return e != NULL;
}


void cp_resume_chain_put(cp_resume_slot_t *slot) {
  if (slot->chains != NULL && slot->chains->cap > 0 &&
      slot->chain_key[0] != '\0' && slot->blob != NULL) {
    store(slot->chains, slot->chain_key, slot->gen, NULL, slot->blob);
  }
}


void cp_resume_slot_done(cp_resume_slot_t *slot) {
  slot->done = 1;
  /* A TLS 1.3 ticket comes a round trip after the upstream's handshake,
   * and may come after the client's: until it is stored, the result
   * stays (the chain cache usually shares it, so it costs nothing). */
  if (slot->settled || slot->cache == NULL || !slot->current) {
    cp_resume_blob_unref(slot->blob);
    slot->blob = NULL;
    slot->current = 0;
  }
}


void cp_resume_slot_clear(cp_resume_slot_t *slot) {
  SSL_SESSION_free(slot->sess);
  slot->sess = NULL;
  cp_resume_blob_unref(slot->chain_blob);
  slot->chain_blob = NULL;
  slot->chain_key[0] = '\0';
  cp_resume_blob_unref(slot->blob);
  slot->blob = NULL;
  slot->offered = 0;
  slot->current = 0;
  slot->settled = 0;
  slot->done = 0;
}
