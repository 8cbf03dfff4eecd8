/* cp_tls_t: one SSL object behind two memory BIOs, pumped by a leg. Wire
 * bytes go in with cp_tls_feed(); what OpenSSL wants to send comes out with
 * cp_tls_take(). The cp_tls_t owns its SSL (which owns the BIOs), its
 * verification record and one reference to the leaf it serves. The SSL's
 * app data points back at the cp_tls_t, so OpenSSL callbacks find it
 * without a global index. */
#ifndef CP_TLS_IO_H
#define CP_TLS_IO_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "http/alpn.h"
#include "diag/verify.h"

#define CP_TLS_WANT 0  /* needs more bytes from the peer */
#define CP_TLS_DONE 1  /* handshake complete / data returned */
#define CP_TLS_HELLO 2 /* server paused after the ClientHello */
#define CP_TLS_EOF 3   /* peer sent close_notify */

typedef struct cp_tls_s cp_tls_t;

struct cp_tls_s {
  SSL *ssl;                 /* owned */
  BIO *rbio;                /* owned by ssl */
  BIO *wbio;                /* owned by ssl */
  unsigned done : 1;        /* handshake complete */
  unsigned hello_ready : 1; /* certificate chosen; resume */
  unsigned shut : 1;        /* close_notify sent */
  char sni[256];            /* server: the client's SNI, "" if none */
  unsigned char alpn_offered[CP_ALPN_MAX]; /* server: the client's ALPN */
  size_t alpn_offered_len;                 /* 0: the client sent no ALPN */
  unsigned char alpn_choice[16];           /* server: the answer (one name, no
                                              length byte); empty: no ALPN */
  unsigned alpn_choice_len;
  int alert_in;             /* last alert received, -1 if none */
  int alert_out;            /* last alert sent (not close_notify), -1 */
  int auth_level;           /* client: chains judged at this level when the
                               handshake runs lower (a rule\'s old floor) */
  char client_versions[48]; /* server: versions the client offered */
  char client_ciphers[96];  /* server: its cipher suites, summarised */
  unsigned char first[16];  /* the peer\'s first wire bytes */
  size_t nfirst;
  int err_lib, err_reason;       /* of the first library error (ERR_GET_*) */
  unsigned cert_requested : 1;   /* client: the server sent a
                                    CertificateRequest */
  unsigned want_client_cert : 1; /* server: ask the client for one */
  int refuse_alert;              /* server: >0: refuse the ClientHello with
                                    this alert (a rule needs SNI) */
  char peer_subject[256];        /* server: the client's certificate */
  X509 *leaf;                    /* owned ref: served certificate */
  EVP_PKEY *key;                 /* borrowed: the minter's key */
  STACK_OF(X509) *chain;         /* borrowed: the profile's chain */
  cp_verify_rec_t verify;        /* client: what the verifier recorded */
  void *session_slot;            /* client: borrowed cp_resume_slot_t, for
                                    the session callback; NULL: none */
  char err[256];                 /* last library error, drained from ERR */
};

int cp_tls_new(cp_tls_t **out, SSL_CTX *ctx, int server);
void cp_tls_free(cp_tls_t *t);
int cp_tls_feed(cp_tls_t *t, const char *data, size_t len);
/* CP_TLS_WANT, CP_TLS_DONE, CP_TLS_HELLO, or CP_ETLS (t->err says why). */
int cp_tls_handshake(cp_tls_t *t);
/* CP_TLS_DONE with *n > 0, CP_TLS_WANT, CP_TLS_EOF, or CP_ETLS. */
int cp_tls_read(cp_tls_t *t, char *buf, size_t cap, size_t *n);
int cp_tls_write(cp_tls_t *t, const char *data, size_t len);
void cp_tls_close_notify(cp_tls_t *t);
size_t cp_tls_pending(const cp_tls_t *t);
/* Everything read was handed on and everything written taken: the record
 * buffers go (an idle connection holds none), and so do memory BIO
 * buffers grown past a handshake's size. */
void cp_tls_idle(cp_tls_t *t);
/* As cp_tls_idle, and the memory BIOs' buffers go whatever their size: for
 * a connection that has been quiet a while (conn's quiet timer), not after
 * every read, which would allocate them again for each record. */
void cp_tls_compact(cp_tls_t *t);
size_t cp_tls_take(cp_tls_t *t, char *out, size_t cap);
/* Sets ctx's lowest protocol version (TLS1_VERSION .. TLS1_3_VERSION).
 * Below TLS 1.2 OpenSSL 3 needs security level 0 for the handshake
 * itself (SHA-1 and MD5 in its signatures); the level is lowered then,
 * and 1 returned so the caller can say so. */
int cp_tls_set_min_version(SSL_CTX *ctx, int version);
/* The same for one SSL (a rule's floor for one host). */
int cp_tls_ssl_set_min_version(SSL *ssl, int version);

#endif
