/* The upstream SSL_CTX: TLS 1.2+, trust from --upstream-ca or the system
 * store, ALPN http/1.1, and a certificate verify callback that runs
 * X509_verify_cert with the recorder of verify.c (cp_verify_run), so every
 * error is recorded and the handshake completes; conn.c decides (block/ignore)
 * afterwards from the record. */
#ifndef CP_TLS_CLIENT_H
#define CP_TLS_CLIENT_H

#include <openssl/ssl.h>

#include "diag/hs_diag.h"
#include "tls/resume.h"
#include "tls/tls_io.h"

/* ca_file NULL: the system default store. err gets a one-line reason. */
/* min_version: the lowest TLS version offered upstream; below TLS 1.2 the
 * handshake's security level drops to 0 but chains are still judged at
 * the default level, so the diagnosis does not change. */
SSL_CTX *cp_tls_client_ctx_new(const char *ca_file, int min_version, char *err,
                               size_t errlen);
/* The certificate and key (one PEM file) presented when an upstream asks
 * for a client certificate (mutual TLS). err names the file. */
int cp_tls_client_set_cert(SSL_CTX *ctx, const char *pem, char *err,
                           size_t errlen);
/* The same for one connection (a rule's certificate), replacing ctx's. */
int cp_tls_client_use_cert(SSL *ssl, const char *pem, char *err, size_t errlen);
/* Loads pem once to check it holds a certificate and its key; label
 * ("\"upstream_client_cert\"") starts err. */
int cp_tls_client_cert_check(const char *pem, const char *label, char *err,
                             size_t errlen);
/* Sets SNI (names only) and the name or IP the certificate must match. */
int cp_tls_client_prepare(cp_tls_t *t, const char *name);
/* Sessions the upstream hands out are kept in slot (borrowed; it outlives
 * the handshake) by the session callback. */
void cp_tls_client_keep_sessions(cp_tls_t *t, cp_resume_slot_t *slot);
/* The handshake runs below level (a rule's old TLS floor): the chain is
 * still judged at level. */
void cp_tls_client_judge_at(cp_tls_t *t, int level);
/* What a failed (or post-handshake refused) upstream handshake left in t,
 * for the handshake classifier: alert, first error, first bytes, and the
 * CAs of a CertificateRequest as "CN=a; CN=b" in ca_names. */
void cp_tls_client_facts(const cp_tls_t *t, cp_hs_facts_t *f, char *ca_names,
                         size_t cap);

#endif
