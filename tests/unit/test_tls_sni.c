#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "tls/tls_server.h"

/* Builds a server_name extension body with one entry of the given type. */
static size_t sni_ext(unsigned char *out, unsigned type, const char *name,
                      size_t name_len) {
  size_t list = 3 + name_len;

  out[0] = (unsigned char)(list >> 8);
  out[1] = (unsigned char)list;
  out[2] = (unsigned char)type;
  out[3] = (unsigned char)(name_len >> 8);
  out[4] = (unsigned char)name_len;
  memcpy(out + 5, name, name_len);
  return 5 + name_len;
}


static void test_valid_name(void **state) {
  unsigned char ext[300];
  char out[256];
  size_t n = sni_ext(ext, 0, "www.example.test", 16);

  (void)state;
  assert_int_equal(cp_tls_parse_sni(ext, n, out, sizeof(out)), 0);
  assert_string_equal(out, "www.example.test");
}


static void test_malformed(void **state) {
  unsigned char ext[300];
  char out[256];
  size_t n = sni_ext(ext, 0, "a.test", 6);

  (void)state;
  /* Truncated at every length. */
  for (size_t cut = 0; cut < n; cut++)
    assert_int_equal(cp_tls_parse_sni(ext, cut, out, sizeof(out)), CP_EINVAL);
  /* List length larger than the extension. */
  ext[1] = (unsigned char)(ext[1] + 1);
  assert_int_equal(cp_tls_parse_sni(ext, n, out, sizeof(out)), CP_EINVAL);
  /* Embedded NUL, empty name, IPv6 literal, name larger than out. */
  n = sni_ext(ext, 0, "a\0b.test", 8);
  assert_int_equal(cp_tls_parse_sni(ext, n, out, sizeof(out)), CP_EINVAL);
  n = sni_ext(ext, 0, "", 0);
  assert_int_equal(cp_tls_parse_sni(ext, n, out, sizeof(out)), CP_EINVAL);
  n = sni_ext(ext, 0, "::1", 3);
  assert_int_equal(cp_tls_parse_sni(ext, n, out, sizeof(out)), CP_EINVAL);
  n = sni_ext(ext, 0, "abcdefgh.test", 13);
  assert_int_equal(cp_tls_parse_sni(ext, n, out, 8), CP_EINVAL);
  n = sni_ext(ext, 0, "bad host", 8);
  assert_int_equal(cp_tls_parse_sni(ext, n, out, sizeof(out)), CP_EINVAL);
}


static void test_other_types_skipped(void **state) {
  unsigned char ext[300];
  char out[256];
  size_t n = sni_ext(ext, 7, "opaque", 6);

  (void)state;
  /* No host_name entry: no name, but not an error. */
  assert_int_equal(cp_tls_parse_sni(ext, n, out, sizeof(out)), 0);
  assert_string_equal(out, "");
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_name),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_other_types_skipped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
