/* ALPN protocol lists in their wire form (RFC 7301: each name prefixed by
 * its length), as a ClientHello carries them and SSL_set_alpn_protos
 * takes them. Pure functions: bytes in, bytes or text out. */
#ifndef CP_ALPN_H
#define CP_ALPN_H

#include <stddef.h>

#define CP_ALPN_MAX 256 /* bytes of a list kept from a ClientHello */

/* The protocol_name_list of an ALPN extension body (2-byte length, then
 * the list) into out; 0, or CP_EINVAL when malformed or over
 * CP_ALPN_MAX. */
int cp_alpn_parse_ext(const unsigned char *ext, size_t len, unsigned char *out,
                      size_t *outlen);
/* The protocols of list chainproxy can relay (h2, http/1.1), in the
 * list's order: what is offered upstream on the client's behalf. */
size_t cp_alpn_relayable(const unsigned char *list, size_t len,
                         unsigned char *out, size_t cap);
/* 1 when list holds the protocol proto (plen bytes). */
int cp_alpn_has(const unsigned char *list, size_t len, const char *proto,
                size_t plen);
/* "h2,http/1.1" (names with non-printable bytes shown as '?'); "" for an
 * empty list. Returns out. */
char *cp_alpn_str(const unsigned char *list, size_t len, char *out, size_t cap);

#endif
