#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "http/h2_head.h"


static int add(cp_h2_head_t *h, const char *n, const char *v) {
  return cp_h2_head_add(h, (const uint8_t *)n, strlen(n), (const uint8_t *)v,
                        strlen(v));
}


static void test_block_round_trip(void **state) {
  cp_h2_head_t h;
  nghttp2_nv nv[CP_HTTP_MAX_FIELDS + 1];
  char out[64];
  size_t n;

  (void)state;
  cp_h2_head_init(&h, 4096);
  assert_int_equal(add(&h, ":method", "GET"), 0);
  assert_int_equal(add(&h, ":path", "/a?b=c"), 0);
  assert_int_equal(add(&h, "te", "trailers"), 0);
  assert_string_equal(cp_h2_head_get(&h, ":path", out, sizeof(out)), "/a?b=c");
  assert_string_equal(cp_h2_head_get(&h, ":authority", out, sizeof(out)), "");
  n = cp_h2_head_nv(&h, nv, 1);
  assert_int_equal(n, 4);
  assert_int_equal(nv[1].namelen, 5);
  assert_memory_equal(nv[1].value, "/a?b=c", 6);
  assert_memory_equal(nv[3].name, "via", 3);
  assert_memory_equal(nv[3].value, "2 chainproxy", 12);
  assert_int_equal(cp_h2_head_nv(&h, nv, 0), 3);
  cp_buf_free(&h.b);
}


static void test_limits(void **state) {
  cp_h2_head_t h;
  char name[16];
  int i;

  (void)state;
  cp_h2_head_init(&h, 64);
  assert_int_equal(add(&h, "x-big",
                       "0123456789012345678901234567890123456789"
                       "0123456789012345678901234567890123456789"),
                   CP_EHDRSIZE);
  cp_buf_free(&h.b);
  cp_h2_head_init(&h, 1 << 20);
  for (i = 0; i < CP_HTTP_MAX_FIELDS; i++) {
    snprintf(name, sizeof(name), "x-%d", i);
    assert_int_equal(add(&h, name, "v"), 0);
  }
  assert_int_equal(add(&h, "x-one-more", "v"), CP_EHDRSIZE);
  cp_buf_free(&h.b);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_block_round_trip),
      cmocka_unit_test(test_limits),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
