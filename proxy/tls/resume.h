/* Upstream TLS sessions kept for resumption, each with the diagnosis of
 * the full handshake that made it. A resumed handshake sends no
 * certificates, so nothing is verified again: the connection reuses the
 * verification result stored with the session, which keeps the diagnosis
 * exact (the session authenticates the same chain). An entry lives until
 * the session's lifetime ends or the first certificate of its chain
 * expires, whichever comes first, and is not used once the data the
 * diagnosis was judged with (roots, distrust, client families: snap.h)
 * has been reloaded: its generation no longer matches.
 *
 * One cache for every worker (a worker's session is good for the
 * others), under one mutex held for a lookup or a store; blobs count
 * their references atomically. Entries are keyed by
 * everything that changes the handshake or its judgement: the address
 * dialled, the name sent and checked, the ALPN offered, a rule's TLS floor
 * and client certificate. Bounded: the least recently used entry goes
 * first. */
#ifndef CP_RESUME_H
#define CP_RESUME_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "diag/verify.h"

#define CP_RESUME_KEY_MAX 1024

typedef struct cp_resume_s cp_resume_t;
typedef struct cp_resume_entry_s cp_resume_entry_t;
typedef struct cp_resume_blob_s cp_resume_blob_t;
typedef struct cp_resume_slot_s cp_resume_slot_t;

/* A verification result packed to the chain elements it holds, shared by
 * the entry and the connections that resumed with it. */
struct cp_resume_blob_s {
  int refs;
  time_t expires;       /* the first not_after of the chain, 0: none */
  time_t chain_expires; /* the chain cache's end: the first change still to
                           come at the verification time (a not_after or
                           not_before after it, a family's horizon); an
                           element expired already changes no verdict,
                           so a broken chain is cached too. 0: none */
  size_t nchain, nbuilt;
  unsigned char data[]; /* the packed result */
};

struct cp_resume_s {
  pthread_mutex_t mu;
  cp_resume_entry_t **buckets; /* owned: hash chains */
  size_t nbuckets;
  cp_resume_entry_t *lru_head; /* most recently used */
  cp_resume_entry_t *lru_tail;
  size_t n, cap; /* cap 0: resumption is off */
  uint64_t hits, misses, stored, expired;
};

/* What one upstream connection carries between its handshake and the
 * session tickets that may arrive after it (TLS 1.3) or during it (1.2).
 * Embedded in the connection; the SSL's cp_tls_t points at it. */
struct cp_resume_slot_s {
  cp_resume_t *cache; /* borrowed; NULL: this connection does not resume */
  char key[CP_RESUME_KEY_MAX];
  unsigned gen;           /* of the data the diagnosis was judged with */
  SSL_SESSION *sess;      /* owned: a session that came before the blob */
  cp_resume_blob_t *blob; /* owned ref: offered, or this handshake's */
  cp_resume_t *chains;    /* borrowed: diagnoses by exact chain, or NULL */
  char chain_key[160];    /* this handshake's chain, "" when not cached */
  cp_resume_blob_t *chain_blob; /* owned ref: the chain cache's answer */
  unsigned offered : 1;         /* a cached session was offered */
  unsigned current : 1;         /* blob is this handshake's result */
  unsigned settled : 1;         /* a session was stored with it */
  unsigned done : 1;            /* the client's handshake is over */
};

int cp_resume_init(cp_resume_t *rc, size_t cap);
void cp_resume_free(cp_resume_t *rc);
void cp_resume_flush(cp_resume_t *rc);
/* Installs the session callback on the upstream context. */
void cp_resume_install(SSL_CTX *ctx);
/* The key of a connection, written into slot->key; tls_min 0 and
 * client_cert NULL for the defaults. */
void cp_resume_key(cp_resume_slot_t *slot, const char *addr, unsigned port,
                   const char *name, const unsigned char *alpn, size_t alpn_len,
                   int tls_min, const char *client_cert);
/* Offers the cached session for slot->key to ssl, if any is fresh at now.
 * Returns 1 when one was offered. */
int cp_resume_offer(cp_resume_slot_t *slot, SSL *ssl, time_t now);
/* After a handshake: 1 when ssl resumed the offered session; out then
 * holds the stored result. */
int cp_resume_reused(cp_resume_slot_t *slot, SSL *ssl, cp_verify_result_t *out);
/* After a full handshake and its diagnosis: packs r once and keeps it
 * with the session, now or when the server's ticket comes. */
int cp_resume_keep(cp_resume_slot_t *slot, const cp_verify_result_t *r);
/* The chain cache: a full handshake that presents exactly the chain of an
 * earlier one (same certificates, name, security level, data generation)
 * is judged the same, so its diagnosis is reused instead of verified and
 * built again. Used only where nothing else changes the verdict: no OCSP
 * staple, no CRL checking (tls_client.c and conn_tls.c decide). Entries last
 * until the chain's first expiry, and 10 minutes at most. */
void cp_resume_chain_key(cp_resume_slot_t *slot, STACK_OF(X509) *chain,
                         const char *name, int auth_level);
/* 1 when slot->chain_key is cached: slot->chain_blob holds it. */
int cp_resume_chain_get(cp_resume_slot_t *slot, time_t now);
/* After a full diagnosis of a chain the callback keyed: the result
 * cp_resume_keep() packed is kept for the chain too. */
void cp_resume_chain_put(cp_resume_slot_t *slot);
/* The client's handshake is over: once a session is stored, an open
 * connection need not hold the result (about 15 KB). A TLS 1.3 ticket
 * that comes later (a round trip after the upstream's handshake, which
 * may be after the client's on a busy machine) is still kept, and the
 * result released then. */
void cp_resume_slot_done(cp_resume_slot_t *slot);
/* Drops what the slot holds (the connection is done with this upstream). */
void cp_resume_slot_clear(cp_resume_slot_t *slot);

/* Exposed for tests: the packed form and back. */
cp_resume_blob_t *cp_resume_pack(const cp_verify_result_t *r);
void cp_resume_unpack(const cp_resume_blob_t *b, cp_verify_result_t *out);
void cp_resume_blob_unref(cp_resume_blob_t *b);
/* One more reference to b (NULL: none); returns b. */
cp_resume_blob_t *cp_resume_blob_ref(cp_resume_blob_t *b);

#endif
