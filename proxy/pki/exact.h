/* The exact mirror (issue 26): the client is served a structural clone
 * (pki/clone) of the chain the upstream presented, same order, same
 * certificates present or missing, the leaf cloned too. One clone per
 * distinct presented chain, cached by the chain's fingerprints; keys come
 * from clone's per-SPKI key cache under <ca dir>/clones/keys, so the roots
 * of a shadow store (chainproxy ca --shadow-store) sign the same way. The
 * issuers the upstream did not send (its roots) are looked up in the
 * upstream trust store, read on first use. No uv, no sockets. */
#ifndef CP_EXACT_H
#define CP_EXACT_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CP_EXACT_CACHE 64

typedef struct cp_exact_s cp_exact_t;

/* key_dir: clone's key cache; store: the upstream's trust store (PEM);
 * both copied. Nothing is made before the first cp_exact_get. */
cp_exact_t *cp_exact_new(const char *key_dir, const char *store);
void cp_exact_free(cp_exact_t *ex);
/* root is trusted upstream beside the store (--origins' catalogue CA):
 * cloned like a store root. ex takes a reference. */
void cp_exact_add_root(cp_exact_t *ex, X509 *root);

/* The clone of presented (borrowed, leaf first): a new reference to the
 * cloned leaf, its key and the cloned rest (both borrowed from the cache).
 * *hit: 1 when it came from the cache. Nonzero on error, err says why. */
int cp_exact_get(cp_exact_t *ex, STACK_OF(X509) *presented, X509 **leaf,
                 EVP_PKEY **key, STACK_OF(X509) **chain, int *hit, char *err,
                 size_t len);

#endif
