#include "pki/catalogue.h"

#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "base/err.h"

/* What each client printed (curl and Python on Debian's OpenSSL 3.0,
 * Node with its bundled OpenSSL, Java 17's JSSE, Go's crypto/tls and
 * Chromium), trusting the case's file (the catalogue CA, or an incident
 * case's "store"), is pinned by tests/integration/it_catalogue_clients.sh:
 * the words here are the ones it greps for (docs/catalogue.md shows the
 * table). "ok": the client accepted the connection; "": not pinned (the
 * reason is beside it and in the docs). */
static const cp_cat_case_t cases[] = {
    {"good",
     "nothing: a valid chain to the catalogue root (the control)",
     "",
     "modern",
     {"ok", "ok", "ok", "ok", "ok", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"expired",
     "the leaf's validity ended 30 days ago",
     "expired_leaf",
     "expired",
     {"certificate has expired", "certificate has expired", "CERT_HAS_EXPIRED",
      "validity check failed", "certificate has expired or is not yet valid",
      "ERR_CERT_DATE_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"not-yet-valid",
     "the leaf is valid only from 30 days from now",
     "not_yet_valid",
     "not-yet-valid",
     {"certificate is not yet valid", "certificate is not yet valid",
      "CERT_NOT_YET_VALID", "validity check failed",
      "certificate has expired or is not yet valid", "ERR_CERT_DATE_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"wrong-host",
     "the leaf names another host (wrong-host.chainproxy.invalid)",
     "hostname_mismatch",
     "wrong-host",
     {"no alternative certificate subject name matches", "Hostname mismatch",
      "ERR_TLS_CERT_ALTNAME_INVALID",
      "No subject alternative DNS name matching",
      "certificate is valid for wrong-host.chainproxy.invalid",
      "ERR_CERT_COMMON_NAME_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"self-signed",
     "the leaf signs itself",
     "self_signed_leaf",
     "self-signed",
     {"self-signed certificate", "self-signed certificate",
      "DEPTH_ZERO_SELF_SIGNED_CERT", "unable to find valid certification path",
      "certificate signed by unknown authority", "ERR_CERT_AUTHORITY_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"untrusted-root",
     "a complete chain to a root nobody was given",
     "untrusted_root",
     "untrusted-root",
     {"self-signed certificate in certificate chain",
      "self-signed certificate in certificate chain",
      "SELF_SIGNED_CERT_IN_CHAIN", "unable to find valid certification path",
      "certificate signed by unknown authority", "ERR_CERT_AUTHORITY_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"incomplete",
     "the leaf alone, without its intermediate (the leaf's AIA caIssuers URL "
     "serves it)",
     "incomplete_chain",
     "incomplete",
     {"unable to get local issuer certificate",
      "unable to get local issuer certificate",
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "unable to find valid certification path",
      "certificate signed by unknown authority", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"expired-intermediate",
     "the intermediate's validity ended 30 days ago",
     "expired_intermediate",
     NULL,
     {"certificate has expired", "certificate has expired", "CERT_HAS_EXPIRED",
      "validity check failed", "certificate has expired or is not yet valid",
      "ERR_CERT_DATE_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"revoked",
     "the leaf is revoked on its intermediate's CRL (at its CRL distribution "
     "point) and by the OCSP responder; only clients that check revocation "
     "notice",
     "",
     NULL,
     {"ok", "ok", "ok", "ok", "ok", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"sha1-intermediate",
     "the intermediate is signed with SHA-1",
     "weak_signature",
     NULL,
     {"CA signature digest algorithm too weak",
      "CA signature digest algorithm too weak",
      "CA signature digest algorithm too weak", "ok",
      "insecure algorithm ECDSA-SHA1", "ERR_CERT_INVALID"},
     0,
     0,
     1,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"rsa1024",
     "the leaf's key is RSA 1024",
     "weak_key",
     NULL,
     {"EE certificate key too weak", "EE certificate key too weak", "ok", "ok",
      "ok", "ok"},
     0,
     0,
     1,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"tls1.0-only",
     "the server speaks TLS 1.0 and nothing newer",
     "",
     "modern",
     {"legacy sigalg disallowed or unsupported", "tlsv1 alert protocol version",
      "tlsv1 alert protocol version", "Received fatal alert: protocol_version",
      "tls: protocol version not supported",
      "ERR_SSL_VERSION_OR_CIPHER_MISMATCH"},
     TLS1_VERSION,
     TLS1_VERSION,
     1,
     "DEFAULT@SECLEVEL=0",
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"tls1.1-only",
     "the server speaks TLS 1.1 and nothing newer",
     "",
     "modern",
     {"legacy sigalg disallowed or unsupported", "tlsv1 alert protocol version",
      "tlsv1 alert protocol version", "Received fatal alert: protocol_version",
      "tls: protocol version not supported",
      "ERR_SSL_VERSION_OR_CIPHER_MISMATCH"},
     TLS1_1_VERSION,
     TLS1_1_VERSION,
     1,
     "DEFAULT@SECLEVEL=0",
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"client-cert-required",
     "the server requires a client certificate",
     "",
     "modern",
     {"tlsv13 alert certificate required", "tlsv13 alert certificate required",
      "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
      "Received fatal alert: certificate_required", "tls: certificate required",
      /* Chromium's word varies from run to run (ERR_BAD_SSL_CLIENT_AUTH_CERT
       * or ERR_SOCKET_NOT_CONNECTED): TLS 1.3 asks for the certificate
       * after the handshake, and the alert races its first read. */
      ""},
     0,
     0,
     0,
     NULL,
     1,
     CP_CAT_ALPN_NONE,
     NULL},
    {"no-shared-cipher",
     "the server offers only a TLS 1.2 NULL cipher, which no client enables",
     "",
     "modern",
     {"sslv3 alert handshake failure", "sslv3 alert handshake failure",
      "sslv3 alert handshake failure",
      "Received fatal alert: handshake_failure", "tls: handshake failure",
      "ERR_SSL_VERSION_OR_CIPHER_MISMATCH"},
     0,
     TLS1_2_VERSION,
     1,
     "ECDHE-ECDSA-NULL-SHA@SECLEVEL=0",
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"h2-only",
     "the server speaks HTTP/2 only (ALPN h2); a client offering only http/1.1 "
     "is refused",
     "",
     "modern",
     {"ok", "tlsv1 alert no application protocol", "ok",
      "Received fatal alert: no_application_protocol", "ok", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_H2,
     NULL},
    {"http1-only",
     "the server speaks HTTP/1.1 only (ALPN http/1.1)",
     "",
     "modern",
     {"ok", "ok", "ok", "ok", "ok", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_HTTP1,
     NULL},
    {"legacy",
     "the 2020 legacy shape: leaf + intermediate + the catalogue root "
     "cross-signed by an expired legacy root; only a client that trusts the "
     "legacy root alone, or does not stop at a trusted root, fails",
     "",
     "legacy",
     {"ok", "ok", "ok", "ok", "ok", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"modern",
     "the 2020 modern shape: leaf + intermediate (as good)",
     "",
     "modern",
     {"ok", "ok", "ok", "ok", "ok", "ok"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     NULL},
    {"dst-2021",
     "the real 2021 Let's Encrypt chain (cloned): R3 + ISRG Root X1 "
     "cross-signed by DST Root CA X3, which expired an hour before the start",
     "",
     "dst-2021",
     {"ok", "ok", "ok", "ok", "ok",
      /* Chromium does not apply an NSS trust given to a clone of a root
       * its built-in store holds (ERR_CERT_AUTHORITY_INVALID). */
      ""},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     "both"},
    {"dst-2021-short",
     "the real 2021 short chain (cloned): R3 cross-signed by DST Root CA X3, "
     "which expired an hour before the start",
     "expired_root",
     "dst-2021-short",
     {"certificate has expired", "certificate has expired", "CERT_HAS_EXPIRED",
      "validity check failed", "certificate has expired or is not yet valid",
      "ERR_CERT_DATE_INVALID"},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     "both"},
    {"addtrust-2020",
     "the real 2020 Sectigo chain (cloned): Sectigo RSA DV + USERTrust RSA "
     "cross-signed by AddTrust External CA Root, which expired an hour before "
     "the start",
     "",
     "addtrust-2020",
     {"ok", "ok", "ok", "ok", "ok", "" /* as dst-2021 */},
     0,
     0,
     0,
     NULL,
     0,
     CP_CAT_ALPN_NONE,
     "both"},
};

static const char *const client_names[CP_CAT_NCLIENTS] = {
    "curl", "python", "node", "java", "go", "chromium"};


const cp_cat_case_t *cp_catalogue_cases(size_t *n) {
  *n = CP_ARRAY_SIZE(cases);
  return cases;
}


const char *cp_catalogue_client_name(cp_cat_client_e c) {
  return (unsigned)c < CP_CAT_NCLIENTS ? client_names[c] : "?";
}


int cp_catalogue_find(const char *name) {
  size_t i;

  for (i = 0; i < CP_ARRAY_SIZE(cases); i++) {
    if (strcmp(cases[i].name, name) == 0) {
      return (int)i;
    }
  }
  return -1;
}


int cp_catalogue_host_case(const char *host) {
  static const char dom[] = CP_CATALOGUE_DOMAIN;
  char label[64];
  size_t len = strlen(host);
  size_t dl = sizeof(dom) - 1;
  size_t i;

  if (len > 0 && host[len - 1] == '.') {
    len--;
  }
  if (len == dl && strncasecmp(host, dom, dl) == 0) {
    return CP_CATALOGUE_INDEX;
  }
  if (len <= dl + 1 || host[len - dl - 1] != '.' ||
      strncasecmp(host + len - dl, dom, dl) != 0 ||
      len - dl - 1 >= sizeof(label)) {
    return -1;
  }
  for (i = 0; i < len - dl - 1; i++) {
    label[i] =
        (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]);
  }
  label[i] = '\0';
  return cp_catalogue_find(label);
}


uint16_t cp_catalogue_port(uint16_t base, int i) {
  return i < 0 ? base : (uint16_t)(base + 1 + i);
}
