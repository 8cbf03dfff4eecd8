/* Offline path validation as older OpenSSL versions built paths, for the
 * clone fidelity test (oldssl_client does the same over TLS):
 *   current  OpenSSL 3 defaults (trusted certificates first)
 *   1.0.2    untrusted certificates first (X509_V_FLAG_TRUSTED_FIRST off),
 *            alternate chains still tried
 *   1.0.1    also no alternate chains (X509_V_FLAG_NO_ALT_CHAINS)
 * `openssl verify` cannot clear trusted-first from the command line.
 *
 *   oldssl_verify MODE CAFILE UNTRUSTED|- LEAF EPOCH|now
 * prints "ok" (exit 0) or "error N at D: TEXT" (exit 1); exit 2 on usage
 * or unreadable files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>


static STACK_OF(X509) *read_all(const char *path) {
  STACK_OF(X509) *sk = sk_X509_new_null();
  FILE *f = fopen(path, "r");
  X509 *x;

  if (f == NULL || sk == NULL) {
    if (f != NULL) {
      fclose(f);
    }
    sk_X509_free(sk);
    return NULL;
  }
  while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
    sk_X509_push(sk, x);
  }
  fclose(f);
  return sk;
}


int main(int argc, char **argv) {
  STACK_OF(X509) *untrusted = NULL, *leafs = NULL;
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  X509_VERIFY_PARAM *param;
  int ok, rc = 2;

  if (argc != 6 || store == NULL || ctx == NULL) {
    fprintf(stderr, "usage: oldssl_verify current|1.0.2|1.0.1 CAFILE "
                    "UNTRUSTED|- LEAF EPOCH|now\n");
    goto done;
  }
  leafs = read_all(argv[4]);
  untrusted =
      strcmp(argv[3], "-") == 0 ? sk_X509_new_null() : read_all(argv[3]);
  if (X509_STORE_load_file(store, argv[2]) != 1 || leafs == NULL ||
      sk_X509_num(leafs) == 0 || untrusted == NULL ||
      X509_STORE_CTX_init(ctx, store, sk_X509_value(leafs, 0), untrusted) !=
          1) {
    fprintf(stderr, "oldssl_verify: cannot read the certificates\n");
    goto done;
  }
  param = X509_STORE_CTX_get0_param(ctx);
  if (strcmp(argv[1], "current") != 0) {
    X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_TRUSTED_FIRST);
  }
  if (strcmp(argv[1], "1.0.1") == 0) {
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_ALT_CHAINS);
  }
  if (strcmp(argv[5], "now") != 0) {
    X509_VERIFY_PARAM_set_time(param, (time_t)strtoll(argv[5], NULL, 10));
  }
  ok = X509_verify_cert(ctx);
  if (ok == 1) {
    printf("ok\n");
    rc = 0;
  } else {
    printf("error %d at %d: %s\n", X509_STORE_CTX_get_error(ctx),
           X509_STORE_CTX_get_error_depth(ctx),
           X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    rc = 1;
  }
done:
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  sk_X509_pop_free(untrusted, X509_free);
  sk_X509_pop_free(leafs, X509_free);
  return rc;
}
