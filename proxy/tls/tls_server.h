/* The client-facing SSL_CTX. The ClientHello callback pauses the handshake
 * (CP_TLS_HELLO) the first time, after storing the client's SNI in the
 * cp_tls_t, so the upstream can be verified before a chain is chosen; the
 * second time it installs t->leaf, t->key and t->chain and lets the
 * handshake go on, or refuses with t->refuse_alert; with
 * t->want_client_cert it asks the client for a certificate (taken
 * unjudged). ALPN answers with t->alpn_choice. */
#ifndef CP_TLS_SERVER_H
#define CP_TLS_SERVER_H

#include <stddef.h>

#include <openssl/ssl.h>

/* min_version: the lowest TLS version clients may use (--client-tls-min). */
SSL_CTX *cp_tls_server_ctx_new(int min_version);
/* Parses the server_name extension body of a ClientHello into out (the
 * first host_name entry, NUL-terminated). Returns 0, or CP_EINVAL when the
 * bytes are malformed or the name is not a valid host name. */
int cp_tls_parse_sni(const unsigned char *ext, size_t len, char *out,
                     size_t outlen);

#endif
