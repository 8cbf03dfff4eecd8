#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "pki/leaf_cache.h"


static X509 *leaf_new(void) {
  X509 *x = X509_new();

  assert_non_null(x);
  return x;
}


static void test_hit_miss_and_refresh(void **state) {
  cp_leaf_cache_t c;
  X509 *x = leaf_new(), *got;

  (void)state;
  assert_int_equal(cp_leaf_cache_init(&c, 4), 0);
  assert_null(cp_leaf_cache_get1(&c, "modern", "a.test", 100));
  assert_int_equal(cp_leaf_cache_put(&c, "modern", "a.test", x, 200), 0);
  got = cp_leaf_cache_get1(&c, "modern", "a.test", 100);
  assert_ptr_equal(got, x);
  X509_free(got);
  /* The profile is part of the key. */
  assert_null(cp_leaf_cache_get1(&c, "legacy", "a.test", 100));
  /* Past refresh_at the entry is a miss. */
  assert_null(cp_leaf_cache_get1(&c, "modern", "a.test", 200));
  assert_int_equal(c.hits, 1);
  assert_int_equal(c.misses, 3);
  X509_free(x);
  cp_leaf_cache_free(&c);
}


static void test_lru_eviction(void **state) {
  cp_leaf_cache_t c;
  X509 *x[3], *got;
  int i;

  (void)state;
  assert_int_equal(cp_leaf_cache_init(&c, 2), 0);
  for (i = 0; i < 3; i++)
    x[i] = leaf_new();
  assert_int_equal(cp_leaf_cache_put(&c, "p", "h0", x[0], 1000), 0);
  assert_int_equal(cp_leaf_cache_put(&c, "p", "h1", x[1], 1000), 0);
  /* Touch h0 so h1 becomes least recently used. */
  got = cp_leaf_cache_get1(&c, "p", "h0", 1);
  assert_ptr_equal(got, x[0]);
  X509_free(got);
  assert_int_equal(cp_leaf_cache_put(&c, "p", "h2", x[2], 1000), 0);
  assert_int_equal(c.count, 2);
  assert_int_equal(c.evictions, 1);
  assert_null(cp_leaf_cache_get1(&c, "p", "h1", 1));
  got = cp_leaf_cache_get1(&c, "p", "h0", 1);
  assert_ptr_equal(got, x[0]);
  X509_free(got);
  got = cp_leaf_cache_get1(&c, "p", "h2", 1);
  assert_ptr_equal(got, x[2]);
  X509_free(got);
  for (i = 0; i < 3; i++)
    X509_free(x[i]);
  cp_leaf_cache_free(&c);
}


static void test_replace_same_key(void **state) {
  cp_leaf_cache_t c;
  X509 *a = leaf_new(), *b = leaf_new(), *got;

  (void)state;
  assert_int_equal(cp_leaf_cache_init(&c, 8), 0);
  assert_int_equal(cp_leaf_cache_put(&c, "p", "h", a, 10), 0);
  assert_int_equal(cp_leaf_cache_put(&c, "p", "h", b, 1000), 0);
  assert_int_equal(c.count, 1);
  got = cp_leaf_cache_get1(&c, "p", "h", 20);
  assert_ptr_equal(got, b);
  X509_free(got);
  X509_free(a);
  X509_free(b);
  cp_leaf_cache_free(&c);
}


static void test_many_entries_stay_bounded(void **state) {
  cp_leaf_cache_t c;
  X509 *x = leaf_new();
  char host[32];
  int i;

  (void)state;
  assert_int_equal(cp_leaf_cache_init(&c, 64), 0);
  for (i = 0; i < 5000; i++) {
    snprintf(host, sizeof(host), "h%d.test", i);
    assert_int_equal(cp_leaf_cache_put(&c, "modern", host, x, 100), 0);
    assert_true(c.count <= 64);
  }
  assert_int_equal(c.evictions, 5000 - 64);
  X509_free(x);
  cp_leaf_cache_free(&c);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hit_miss_and_refresh),
      cmocka_unit_test(test_lru_eviction),
      cmocka_unit_test(test_replace_same_key),
      cmocka_unit_test(test_many_entries_stay_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
