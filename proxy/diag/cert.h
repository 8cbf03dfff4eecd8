/* Small X.509 helpers shared by the CA, minting and verification: a random
 * serial number, an extension from its configuration string, the SHA-256
 * fingerprint and a name as text. No state; the caller owns every object. */
#ifndef CP_CERT_H
#define CP_CERT_H

#include <stddef.h>

#include <openssl/x509.h>

/* Sets a random positive, non-zero 128-bit serial (RFC 5280). 1 on
 * success. */
int cp_cert_set_random_serial(X509 *x);
/* The extension nid=value for subject as issued by issuer (for key
 * identifiers); NULL on error. Only for fixed values written in this
 * program, never for peer data. */
X509_EXTENSION *cp_cert_conf_ext(X509 *issuer, X509 *subject, int nid,
                                 const char *value);
/* SHA-256 of a certificate's DER as "AB:CD:..." (96 bytes) or plain
 * lower-case hex (65 bytes). */
void cp_cert_sha256(X509 *x, int colons, char *out, size_t len);
/* A distinguished name as RFC 2253 text ("CN=a,O=b"), UTF-8 kept; cut to
 * len. */
void cp_cert_name_str(const X509_NAME *n, char *out, size_t len);
/* An ASN.1 time as RFC 3339 ("2026-01-02T03:04:05Z"); "" when
 * unreadable. */
void cp_cert_time_str(const ASN1_TIME *t, char *out, size_t len);
/* What path validation needs told in words, each "" when absent: the
 * nameConstraints ("permitted DNS:.corp.test; excluded IP:10.0.0.0/8"),
 * the first critical extension OpenSSL does not handle ("1.3.6.1.4.1.5",
 * with its name when known), and the AIA caIssuers URL. */
void cp_cert_name_constraints(X509 *x, char *out, size_t len);
void cp_cert_unknown_critical(X509 *x, char *out, size_t len);
void cp_cert_ca_issuers(X509 *x, char *out, size_t len);

#endif
