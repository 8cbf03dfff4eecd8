/* Bytes an upstream controls besides HTTP: an OCSP response stapled to
 * its handshake, judged as chainproxy judges it. */
#include <stdint.h>
#include <stdlib.h>

#include "diag/revoke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cp_verify_result_t *r = calloc(1, sizeof(*r));

  if (r != NULL) {
    r->ok = 1;
    r->revocation = "not_checked";
    cp_revoke_staple_der(data, (long)size, NULL, NULL, 0, r);
    free(r);
  }
  return 0;
}
