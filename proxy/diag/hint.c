/* The one-sentence remedy for each cause, as a table beside the cause
 * X-macro (diag.h): each row is a cause, the condition under which it
 * applies and a template whose {placeholders} name facts of the failing
 * element. Templates are filled by substitution, never used as a format,
 * so a certificate's bytes cannot steer the output. */
#include "diag/hint.h"

#include <stdio.h>
#include <string.h>

#include <openssl/x509_vfy.h>

typedef enum hint_when_e {
  WHEN_ALWAYS,
  WHEN_AIA, /* the element names an AIA caIssuers URL */
  WHEN_NO_AIA,
  WHEN_TWIN, /* a valid root with the same name and key is in the store */
  WHEN_NO_TWIN,
  WHEN_TOO_LONG, /* the chain passed the client's verify depth */
  WHEN_LEAF,     /* depth 0 */
} hint_when_e;

typedef struct hint_row_s {
  int cause; /* cp_cause_t; CP_CAUSE_NONE: any cause without a row */
  hint_when_e when;
  const char *text;
} hint_row_t;

/* First matching row wins. */
static const hint_row_t rows[] = {
    {CP_CAUSE_UNTRUSTED_ROOT, WHEN_ALWAYS,
     "The chain ends at the self-signed root '{subject}', which this trust "
     "store does not hold: this is what a TLS-intercepting (corporate) proxy "
     "or a private CA looks like; trust that root only if you know who runs "
     "it, otherwise connect without the device that re-signs TLS."},
    {CP_CAUSE_SELF_SIGNED_LEAF, WHEN_ALWAYS,
     "The server presents a self-signed certificate ('{subject}'): give it a "
     "certificate issued by a CA the clients trust, or pin this exact "
     "certificate in the client."},
    {CP_CAUSE_INCOMPLETE_CHAIN, WHEN_AIA,
     "The server sent its leaf without the intermediate that issued it "
     "('{issuer}'), and the store does not hold that issuer: configure the "
     "server to send the full chain (leaf then intermediates). Browsers fetch "
     "the missing intermediate from the leaf's AIA caIssuers URL {ca_issuers} "
     "and pass; curl, Python, Node and Java do not: that file is what the "
     "server's admin must add to the chain."},
    {CP_CAUSE_INCOMPLETE_CHAIN, WHEN_NO_AIA,
     "The server sent its leaf without the intermediate that issued it "
     "('{issuer}'), and the store does not hold that issuer: configure the "
     "server to send the full chain (leaf then intermediates); the leaf names "
     "no AIA caIssuers URL, so even browsers can only pass with the "
     "intermediate cached."},
    {CP_CAUSE_UNKNOWN_ISSUER, WHEN_ALWAYS,
     "No certificate in the trust store issued '{subject}' (its issuer is "
     "'{issuer}'): add the root that issued it to the store, or, if the store "
     "is an outdated bundle shipped with the app (Datadog Agent 5 kept only "
     "AddTrust), use the system store instead."},
    {CP_CAUSE_EXPIRED_CROSS_SIGN, WHEN_TWIN,
     "'{subject}' at depth {depth} is a cross-sign that expired on "
     "{not_after}; this store holds the valid root with the same name and "
     "key, yet the path went through the expired copy, as OpenSSL 1.0.x-style "
     "chain builders do (current OpenSSL, GnuTLS 3.6.14+, Java, Node and "
     "browsers prefer the trusted root and pass): remove the expired "
     "cross-sign from the server's chain."},
    {CP_CAUSE_EXPIRED_CROSS_SIGN, WHEN_NO_TWIN,
     "'{subject}' at depth {depth} is a cross-sign issued by the old root "
     "'{issuer}'; both expired on {not_after} and this store has no valid "
     "root with the same name and key, so clients holding only the old root "
     "fail (the AddTrust 2020 and DST Root CA X3 2021 case): trust the "
     "current root '{subject}' (e.g. the system store instead of an app's "
     "own bundle) and remove the cross-sign from the server's chain."},
    {CP_CAUSE_EXPIRED_ROOT, WHEN_ALWAYS,
     "The trusted root '{subject}' expired on {not_after}: replace it in the "
     "client's trust store with its successor; the server can only help by "
     "sending a chain to a root clients still hold."},
    {CP_CAUSE_EXPIRED_INTERMEDIATE, WHEN_ALWAYS,
     "The intermediate '{subject}' expired on {not_after}: the server must "
     "send the current intermediate from its CA (update its chain file)."},
    {CP_CAUSE_EXPIRED_LEAF, WHEN_ALWAYS,
     "The server certificate '{subject}' expired on {not_after}: renew it and "
     "reload the server (if the date looks wrong, check the client's "
     "clock)."},
    {CP_CAUSE_NOT_YET_VALID, WHEN_ALWAYS,
     "'{subject}' at depth {depth} is valid only from {not_before}: check the "
     "client's clock, or the server is using a certificate before its start "
     "date."},
    {CP_CAUSE_WEAK_KEY, WHEN_ALWAYS,
     "'{subject}' has a {key_bits}-bit {key_type} key, under this client's "
     "security level: reissue it with RSA 2048 or more, or ECDSA P-256."},
    {CP_CAUSE_WEAK_SIGNATURE, WHEN_ALWAYS,
     "'{subject}' is signed with {sig_alg}, which current clients refuse: "
     "reissue it with a SHA-256 signature."},
    {CP_CAUSE_BAD_SIGNATURE, WHEN_ALWAYS,
     "The signature on '{subject}' at depth {depth} does not verify with its "
     "issuer's key ({openssl}): the certificate was altered, or the chain "
     "file puts the wrong issuer above it (a renewed intermediate with a new "
     "key); send the issuer that signed it."},
    {CP_CAUSE_MALFORMED, WHEN_ALWAYS,
     "'{subject_or_none}' at depth {depth} is not a well-formed certificate "
     "({openssl}): clients refuse it before any trust decision; reissue it."},
    {CP_CAUSE_REVOKED, WHEN_ALWAYS,
     "'{subject}' at depth {depth} was revoked by its CA{revoked}: the server "
     "must be given a new certificate; clients that do not check revocation "
     "(most command-line clients) still connect to it, browsers that do "
     "refuse it."},
    {CP_CAUSE_INVALID_CA, WHEN_ALWAYS,
     "'{subject}' at depth {depth} issued the certificate below it but may "
     "not issue certificates ({ca_usage}): the server sends a leaf, or the "
     "wrong file, where its intermediate belongs; send the intermediate its "
     "CA issued (basicConstraints CA:TRUE, keyUsage keyCertSign)."},
    {CP_CAUSE_PATH_LENGTH, WHEN_TOO_LONG,
     "The chain is longer than this client's verify depth (depth {depth} at "
     "'{subject}'): the server sends a long or looping chain of cross-signs; "
     "send the shortest chain to a current root."},
    {CP_CAUSE_PATH_LENGTH, WHEN_ALWAYS,
     "'{subject}' at depth {depth} allows {path_len} CA certificate(s) below "
     "it (basicConstraints pathlen:{path_len}), but the chain puts "
     "{path_used} there: the server sends an extra intermediate (a "
     "cross-sign or an old chain file); send the chain its CA issued."},
    {CP_CAUSE_NAME_CONSTRAINTS, WHEN_ALWAYS,
     "'{leaf_subject}' ({leaf_names}) is outside the names its issuer "
     "'{constrained_ca}' may certify (nameConstraints: {name_constraints}): "
     "the certificate was issued from a constrained (often a corporate or "
     "private) CA for a name it may not cover; reissue it from a CA allowed "
     "to cover this name."},
    {CP_CAUSE_CRITICAL_EXTENSION, WHEN_ALWAYS,
     "'{subject}' at depth {depth} carries the critical extension "
     "{critical}, which this client does not understand and so must refuse "
     "(RFC 5280 4.2): reissue it without the extension, or with it marked "
     "non-critical."},
    {CP_CAUSE_POLICY, WHEN_ALWAYS,
     "The chain requires an explicit certificate policy (policyConstraints "
     "in '{subject}') that the leaf does not assert ({openssl}): clients that "
     "check policies fail (Java does by default; OpenSSL-based clients only "
     "when asked); reissue the leaf with the certificatePolicies its CA "
     "requires."},
    {CP_CAUSE_BAD_EKU, WHEN_LEAF,
     "The server certificate '{subject}' is not for TLS servers: its "
     "extendedKeyUsage lacks serverAuth (a client certificate or an S/MIME "
     "one, installed on a server): reissue it with extendedKeyUsage "
     "serverAuth."},
    {CP_CAUSE_BAD_EKU, WHEN_ALWAYS,
     "'{subject}' at depth {depth} limits what it may issue for "
     "(extendedKeyUsage without serverAuth), so the leaf below it cannot "
     "serve TLS: the CA must issue it from an intermediate allowed for "
     "serverAuth."},
    {CP_CAUSE_BAD_USAGE, WHEN_ALWAYS,
     "'{subject}' at depth {depth} may not be used this way ({openssl}): "
     "reissue it with the right extensions (a server needs extendedKeyUsage "
     "serverAuth, an issuer basicConstraints CA:TRUE and keyUsage "
     "keyCertSign)."},
    {CP_CAUSE_HOSTNAME_MISMATCH, WHEN_ALWAYS,
     "The certificate is for {names_or_subject}, not for '{host}': connect "
     "with a name it covers, or reissue it with this name in its "
     "subjectAltName."},
    {CP_CAUSE_NONE, WHEN_ALWAYS,
     "OpenSSL says: {openssl} (error {code} at depth {depth})."},
};

/* What a template may name, for one hint. */
typedef struct hint_facts_s {
  const cp_verify_result_t *r;
  const cp_cert_info_t *c; /* the failing element (never NULL) */
  int depth, code;
  const char *host;
} hint_facts_t;


static int row_applies(const hint_row_t *row, const hint_facts_t *f) {
  switch (row->when) {
  case WHEN_AIA:
    return f->c->ca_issuers[0] != '\0';
  case WHEN_NO_AIA:
    return f->c->ca_issuers[0] == '\0';
  case WHEN_TWIN:
    return f->c->twin_root;
  case WHEN_NO_TWIN:
    return !f->c->twin_root;
  case WHEN_TOO_LONG:
    return f->code == X509_V_ERR_CERT_CHAIN_TOO_LONG;
  case WHEN_LEAF:
    return f->depth == 0;
  default:
    return 1;
  }
}


/* The first CA above the leaf that carries nameConstraints. */
static const cp_cert_info_t *constrained_ca(const cp_verify_result_t *r) {
  int i;

  for (i = 1; i < r->nbuilt; i++) {
    if (r->built[i].name_constraints[0] != '\0') {
      return &r->built[i];
    }
  }
  return NULL;
}


static const cp_cert_info_t *leaf_of(const cp_verify_result_t *r) {
  return r->nbuilt > 0 ? &r->built[0] : r->nchain > 0 ? &r->chain[0] : NULL;
}


/* The value of {name} into buf (len bytes); NULL for an unknown name. */
static const char *fact(const hint_facts_t *f, const char *name, size_t n,
                        char *buf, size_t len) {
  const cp_cert_info_t *c = f->c, *leaf = leaf_of(f->r), *ca;
  int pl = c->path_len < 0 ? 0 : c->path_len;

#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
  if (IS("subject")) {
    return c->subject;
  } else if (IS("subject_or_none")) {
    return c->subject[0] ? c->subject : "(no subject)";
  } else if (IS("issuer")) {
    return c->issuer;
  } else if (IS("depth") || IS("code") || IS("key_bits") || IS("path_len") ||
             IS("path_used")) {
    snprintf(buf, len, "%d",
             IS("depth")      ? f->depth
             : IS("code")     ? f->code
             : IS("key_bits") ? c->key_bits
             : IS("path_len") ? pl
                              : (f->depth > 0 ? f->depth - 1 : 0));
    return buf;
  } else if (IS("not_after") || IS("not_before")) {
    snprintf(buf, len, "%.10s", IS("not_after") ? c->not_after : c->not_before);
    return buf;
  } else if (IS("ca_issuers")) {
    return c->ca_issuers;
  } else if (IS("key_type")) {
    return c->key_type;
  } else if (IS("sig_alg")) {
    return c->sig_alg;
  } else if (IS("openssl")) {
    return X509_verify_cert_error_string(f->code);
  } else if (IS("revoked")) {
    snprintf(buf, len, "%s%s%s%s%s", f->r->revoked_at[0] ? " on " : "",
             f->r->revoked_at, f->r->revoked_reason[0] ? " (reason: " : "",
             f->r->revoked_reason, f->r->revoked_reason[0] ? ")" : "");
    return buf;
  } else if (IS("ca_usage")) {
    return f->code == X509_V_ERR_KEYUSAGE_NO_CERTSIGN
               ? "its keyUsage lacks keyCertSign"
               : "basicConstraints CA:FALSE or absent, or keyUsage without "
                 "keyCertSign";
  } else if (IS("leaf_subject")) {
    return leaf ? leaf->subject : c->subject;
  } else if (IS("leaf_names")) {
    return leaf && leaf->names[0] ? leaf->names : "no subjectAltName";
  } else if (IS("constrained_ca")) {
    ca = constrained_ca(f->r);
    return ca ? ca->subject : c->issuer;
  } else if (IS("name_constraints")) {
    ca = constrained_ca(f->r);
    return ca ? ca->name_constraints : "unknown";
  } else if (IS("critical")) {
    return c->unknown_critical[0] ? c->unknown_critical : "(unknown)";
  } else if (IS("names_or_subject")) {
    return c->names[0] ? c->names : c->subject;
  } else if (IS("host")) {
    return f->host ? f->host : "the requested name";
  }
#undef IS
  return NULL;
}


/* Appends s to out at *at, truncating at len - 1 bytes. */
static void put(char *out, size_t len, size_t *at, const char *s, size_t n) {
  size_t room = len - 1 - *at;

  if (n > room) {
    n = room;
  }
  memcpy(out + *at, s, n);
  *at += n;
  out[*at] = '\0';
}


static void render(const char *t, const hint_facts_t *f, char *out,
                   size_t len) {
  size_t at = 0;
  char buf[160];

  out[0] = '\0';
  while (*t != '\0') {
    const char *open = strchr(t, '{');
    const char *close = open ? strchr(open, '}') : NULL;
    const char *v;

    if (open == NULL || close == NULL) {
      put(out, len, &at, t, strlen(t));
      return;
    }
    put(out, len, &at, t, (size_t)(open - t));
    v = fact(f, open + 1, (size_t)(close - open - 1), buf, sizeof(buf));
    if (v != NULL) {
      put(out, len, &at, v, strlen(v));
    } else { /* not a placeholder: the text as it is */
      put(out, len, &at, open, (size_t)(close - open + 1));
    }
    t = close + 1;
  }
}


void cp_diag_hint(const cp_verify_result_t *r, cp_cause_t cause,
                  const cp_cert_info_t *c, int depth, int code,
                  const char *host, char *out, size_t len) {
  static const cp_cert_info_t none;
  hint_facts_t f;
  size_t i;

  if (len == 0) {
    return;
  }
  f.r = r;
  f.c = c != NULL ? c : &none;
  f.depth = depth;
  f.code = code;
  f.host = host;
  for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    if ((rows[i].cause == (int)cause || rows[i].cause == CP_CAUSE_NONE) &&
        row_applies(&rows[i], &f)) {
      render(rows[i].text, &f, out, len);
      return;
    }
  }
}
