/* What chainproxy reads from a ClientHello before any handshake (the SNI
 * and ALPN extension bodies) and from a CONNECT line (the authority). */
#include <stdint.h>
#include <string.h>

#include "http/alpn.h"
#include "http/http_parse.h"
#include "tls/tls_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char sni[256];
  unsigned char alpn[CP_ALPN_MAX], relay[CP_ALPN_MAX];
  size_t alpn_len = 0;
  char text[CP_ALPN_MAX * 2];
  cp_http_target_t t;

  cp_tls_parse_sni(data, size, sni, sizeof(sni));
  if (cp_alpn_parse_ext(data, size, alpn, &alpn_len) == 0) {
    size_t n = cp_alpn_relayable(alpn, alpn_len, relay, sizeof(relay));

    cp_alpn_str(relay, n, text, sizeof(text));
    cp_alpn_has(alpn, alpn_len, "h2", 2);
  }
  cp_http_parse_authority((const char *)data, size, 443, &t);
  cp_http_parse_authority((const char *)data, size, 0, &t);
  return 0;
}
