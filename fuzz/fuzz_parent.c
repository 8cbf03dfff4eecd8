/* The parent proxy's side of the wire and of the command line: the input's
 * first byte picks the parser, the rest is its input — a parent's answer
 * to CONNECT, a parent URL, or a NO_PROXY list matched against hosts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/parent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const hosts[] = {"localhost", "a.example.com", "10.1.2.3",
                                      "::1", "fe80::1"};
  cp_parent_reply_t r;
  cp_parent_t p;
  char err[512];
  char *s;
  size_t i, k;

  if (size == 0) {
    return 0;
  }
  s = malloc(size);
  if (s == NULL) {
    return 0;
  }
  memcpy(s, data + 1, size - 1);
  s[size - 1] = '\0';
  switch (data[0] % 3) {
  case 0:
    /* Every prefix, as the bytes would arrive. */
    for (i = 0; i <= size - 1; i++) {
      if (cp_parent_reply_parse(&r, (const char *)data + 1, i, 4096) != 0) {
        break;
      }
    }
    break;
  case 1:
    cp_parent_parse(&p, s, err, sizeof(err));
    break;
  default:
    for (k = 0; k < sizeof(hosts) / sizeof(hosts[0]); k++) {
      cp_parent_no_proxy(s, hosts[k], (uint16_t)(443 + k));
    }
  }
  free(s);
  return 0;
}
