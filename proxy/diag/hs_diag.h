/* Handshake diagnosis: why a TLS handshake with the upstream failed when
 * it is not about the chain (verify.c and diag.c handle chains). Pure:
 * the facts the TLS layer recorded go in (the alert the peer sent, the
 * library's first error, the peer's first bytes, whether it asked for a
 * client certificate and from which CAs), a stable cause and a hint that
 * says what to change come out. Unit-tested with hand-made facts. */
#ifndef CP_HS_DIAG_H
#define CP_HS_DIAG_H

#include <stddef.h>

#define CP_HS_CAUSES(X)                                                        \
  X(NOT_TLS, "not_tls")                                                        \
  X(TLS_VERSION, "tls_version")                                                \
  X(NO_SHARED_CIPHER, "no_shared_cipher")                                      \
  X(ALPN_MISMATCH, "alpn_mismatch")                                            \
  X(CLIENT_CERT_REQUIRED, "client_cert_required")                              \
  X(HANDSHAKE_TIMEOUT, "handshake_timeout")                                    \
  X(HANDSHAKE_ALERT, "handshake_alert")                                        \
  X(HANDSHAKE_CLOSED, "handshake_closed")                                      \
  X(NO_SNI, "no_sni")                                                          \
  X(HANDSHAKE_OTHER, "handshake_failed")

typedef enum {
#define CP_HS_ENUM(e, s) CP_HS_##e,
  CP_HS_CAUSES(CP_HS_ENUM)
#undef CP_HS_ENUM
      CP_HS_NONE
} cp_hs_cause_t;

typedef struct cp_hs_facts_s cp_hs_facts_t;
typedef struct cp_hs_result_s cp_hs_result_t;

struct cp_hs_facts_s {
  int alert_in;               /* TLS alert the peer sent, -1: none */
  int err_lib, err_reason;    /* OpenSSL's first error (ERR_GET_*) */
  const unsigned char *first; /* the peer's first bytes */
  size_t nfirst;
  int cert_requested;      /* a CertificateRequest arrived */
  const char *ca_names;    /* the CAs it named, "CN=a; CN=b", or NULL */
  int timed_out;           /* no progress within the deadline */
  int closed;              /* the peer closed the connection */
  const char *offered;     /* ALPN offered, "h2,http/1.1" or "" */
  const char *min_version; /* our lowest version, "TLSv1.2" */
  /* The client side (chainproxy as the server): */
  int alert_out;               /* the alert chainproxy sent, -1: none */
  const char *client_versions; /* "TLSv1" */
  const char *client_ciphers;  /* "5 suites: RSA-key-exchange" */
  int no_sni; /* refused: no SNI, and --require-sni or a rule wants it */
};

struct cp_hs_result_s {
  cp_hs_cause_t cause;
  const char *name; /* cause as text */
  char hint[512];
};

const char *cp_hs_cause_name(cp_hs_cause_t c);
/* The "cause:" and "hint:" lines of a 502 body (NUL-terminated, the
 * caller frees), or NULL when out of memory. */
char *cp_hs_detail(const cp_hs_result_t *hs);
void cp_hs_classify(const cp_hs_facts_t *f, cp_hs_result_t *out);
/* A client's handshake that failed: 1 when chainproxy refused the client
 * (out names why: tls_version, no_shared_cipher, no_sni,
 * handshake_alert), 0 when
 * the client refused what it was served (its alert, or a plain close). */
int cp_hs_classify_client(const cp_hs_facts_t *f, cp_hs_result_t *out);

#endif
