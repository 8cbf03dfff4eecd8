#include "diag/tls_names.h"

#include <stddef.h>
#include <string.h>

#include <openssl/ssl.h>

#include "base/err.h"


const char *cp_tls_version_name(int version) {
  switch (version) {
  case TLS1_3_VERSION:
    return "TLSv1.3";
  case TLS1_2_VERSION:
    return "TLSv1.2";
  case TLS1_1_VERSION:
    return "TLSv1.1";
  case TLS1_VERSION:
    return "TLSv1";
  case SSL3_VERSION:
    return "SSLv3";
  default:
    return "?";
  }
}


const char *cp_tls_alert_name(int code) {
  static const struct {
    int code;
    const char *name;
  } names[] = {
      {0, "close_notify"},
      {10, "unexpected_message"},
      {20, "bad_record_mac"},
      {22, "record_overflow"},
      {40, "handshake_failure"},
      {42, "bad_certificate"},
      {43, "unsupported_certificate"},
      {44, "certificate_revoked"},
      {45, "certificate_expired"},
      {46, "certificate_unknown"},
      {47, "illegal_parameter"},
      {48, "unknown_ca"},
      {49, "access_denied"},
      {50, "decode_error"},
      {51, "decrypt_error"},
      {70, "protocol_version"},
      {71, "insufficient_security"},
      {80, "internal_error"},
      {86, "inappropriate_fallback"},
      {90, "user_canceled"},
      {109, "missing_extension"},
      {110, "unsupported_extension"},
      {112, "unrecognized_name"},
      {113, "bad_certificate_status_response"},
      {115, "unknown_psk_identity"},
      {116, "certificate_required"},
      {120, "no_application_protocol"},
  };
  size_t i;

  if (code < 0) {
    return NULL;
  }
  for (i = 0; i < CP_ARRAY_SIZE(names); i++) {
    if (names[i].code == code) {
      return names[i].name;
    }
  }
  return "unknown_alert";
}


const char *cp_tls_wire_version_name(unsigned version) {
  const char *n = cp_tls_version_name((int)version);

  return strcmp(n, "?") == 0 ? NULL : n;
}
