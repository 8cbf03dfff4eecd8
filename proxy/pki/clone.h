/* Structural clones of real certificate chains (issue 26). Pure: X509s in,
 * X509s and keys out; no loop, no sockets. Each certificate is re-issued
 * with a fresh key of the same type and size; everything else keeps its DER
 * (names, serial, validity types, version, extensions in order) except the
 * subject and authority key identifiers, recomputed from the new keys.
 *
 * One clone key per original public key (SPKI): a root and its cross-sign
 * get the same clone key. Keys are kept in key_dir as
 * <sha256 of the original SPKI DER>.pem (0600, dir 0700) so repeated
 * clones, across runs, agree. A cp_clone_t owns those keys and frees them
 * in cp_clone_free(); every X509 it returns is the caller's. */
#ifndef CP_CLONE_H
#define CP_CLONE_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

typedef struct cp_clone_s cp_clone_t;

/* key_dir is created (0700, with its parents) when missing; NULL keeps the
 * keys in memory only. shift: seconds added to every notBefore/notAfter.
 * NULL on error, with the reason in err. */
cp_clone_t *cp_clone_new(const char *key_dir, long long shift, char *err,
                         size_t len);
void cp_clone_free(cp_clone_t *cl);

/* Candidate issuers (besides the certificate itself): typically the chain
 * and the store together. The stack is borrowed for the clone's lifetime. */
void cp_clone_set0_pool(cp_clone_t *cl, STACK_OF(X509) *pool);

/* The clone of orig, signed by the clone key of its real issuer (found in
 * the pool by name and signature), by its own clone key when self-signed,
 * or by a synthetic "missing issuer" key (cached like the others, keyed by
 * the issuer name and AKI) when the issuer is not in the pool, so an
 * incomplete chain still fails the same way. A certificate whose signature
 * no pool key verifies, although an issuer matches its name and key
 * identifier (a signature altered after signing), is cloned with its own
 * signature spoilt the same way. NULL on error (err says why: unsupported
 * key type, unknown digest, ...). */
X509 *cp_clone_cert(cp_clone_t *cl, X509 *orig, char *err, size_t len);

/* What cp_clone_reissue changes besides the key, key identifiers,
 * validity and signature; each NULL keeps the original's. All borrowed. */
typedef struct cp_clone_edit_s {
  const X509_NAME *subject;
  GENERAL_NAMES *san; /* replaces the subjectAltName's value */
  ASN1_INTEGER *serial;
} cp_clone_edit_t;

/* orig re-issued: key's public half, key identifiers recomputed (SKI from
 * key, AKI from ikey), validity moved by shift, edit applied, signed by
 * ikey with orig's digest. Pure and reentrant: no cache, no file; the
 * caller owns the result. NULL on error (err). */
X509 *cp_clone_reissue(X509 *orig, EVP_PKEY *key, EVP_PKEY *ikey,
                       long long shift, const cp_clone_edit_t *edit, char *err,
                       size_t len);

/* The clone key of orig's issuer (found in the pool by name and
 * signature); borrowed. NULL when the issuer is not in the pool. */
EVP_PKEY *cp_clone_get0_issuer_key(cp_clone_t *cl, X509 *orig, char *err,
                                   size_t len);

/* The clone key for orig's public key, made (or loaded) on first use;
 * borrowed. NULL on error. */
EVP_PKEY *cp_clone_get0_key(cp_clone_t *cl, X509 *orig, char *err, size_t len);

/* "leaf", "root" (self-signed), "cross-sign" (its key also appears in a
 * self-signed pool certificate) or "intermediate". */
const char *cp_clone_role(cp_clone_t *cl, X509 *orig, int is_first);

/* sha256 of x's SPKI DER as lower-case hex (65 bytes). */
void cp_clone_spki_sha256(X509 *x, char *out, size_t len);

#endif
