/* The client-facing SSL_CTX. The ClientHello callback pauses the handshake
 * (CP_TLS_HELLO) the first time, after storing the client's SNI in the
 * cp_tls_t, so the upstream can be verified before a chain is chosen; the
 * second time it installs what cp_tls_server_serve() handed over and lets
 * the handshake go on, or refuses as cp_tls_server_refuse() asked; it may
 * ask the client for a certificate (taken unjudged). ALPN answers with what
 * cp_tls_server_answer_alpn() chose. */
#ifndef CP_TLS_SERVER_H
#define CP_TLS_SERVER_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "tls/tls_io.h"

/* min_version: the lowest TLS version clients may use (--client-tls-min). */
SSL_CTX *cp_tls_server_ctx_new(int min_version);
/* Parses the server_name extension body of a ClientHello into out (the
 * first host_name entry, NUL-terminated). Returns 0, or CP_EINVAL when the
 * bytes are malformed or the name is not a valid host name. */
int cp_tls_parse_sni(const unsigned char *ext, size_t len, char *out,
                     size_t outlen);

/* The paused ClientHello is answered with leaf (set0: t takes over the
 * caller's reference), key and chain (borrowed: they outlive t); with
 * want_client_cert the client is asked for a certificate. The handshake
 * goes on at the next cp_tls_handshake(). */
void cp_tls_server_serve(cp_tls_t *t, X509 *leaf, EVP_PKEY *key,
                         STACK_OF(X509) *chain, int want_client_cert);
/* The paused ClientHello is refused with alert (SSL_AD_*). */
void cp_tls_server_refuse(cp_tls_t *t, int alert);
/* ALPN answers with proto ("h2", "http/1.1"; "" or NULL: no ALPN). */
void cp_tls_server_answer_alpn(cp_tls_t *t, const char *proto);

#endif
