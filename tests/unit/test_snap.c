/* Rule snapshots: connections share one reference-counted snapshot, a
 * publish of rules a live snapshot already holds reuses it, and a
 * snapshot is freed when its last reference goes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pki/profile.h"
#include "rules/rules.h"
#include "rules/snap.h"

static cp_profiles_t set;

static const char *rules_a =
    "[{\"host\": \"a.test\", \"block\": {\"status\": 451, "
    "\"page\": \"<p>page A</p>\"}}]";
static const char *rules_b =
    "[{\"host\": \"a.test\", \"block\": {\"status\": 451, "
    "\"page\": \"<p>page B</p>\"}}]";


static void parse(cp_rules_t *rules, const char *json) {
  char err[512];

  assert_int_equal(cp_rules_parse(rules, json, strlen(json), &set, err, 512),
                   0);
}


static cp_snap_data_t *no_data(void) {
  cp_snap_data_t *d = calloc(1, sizeof(*d));

  assert_non_null(d);
  d->refs = 1;
  return d;
}


static void test_equal(void **state) {
  cp_rules_t a, a2, b, copy;

  (void)state;
  parse(&a, rules_a);
  parse(&a2, rules_a);
  parse(&b, rules_b);
  assert_int_equal(cp_rules_copy(&copy, &a), 0);
  assert_true(cp_rules_equal(&a, &a2));
  assert_true(cp_rules_equal(&a, &copy));
  assert_false(cp_rules_equal(&a, &b));
  cp_rules_free(&a);
  cp_rules_free(&a2);
  cp_rules_free(&b);
  cp_rules_free(&copy);
}


/* Rules switched A, B, A, B... while connections hold each snapshot:
 * two snapshots in all, each shared by every connection that took it. */
static void test_dedup(void **state) {
  cp_snaps_t s;
  cp_rules_t a, b;
  cp_snap_t *held[20];
  int i;

  (void)state;
  parse(&a, rules_a);
  parse(&b, rules_b);
  assert_int_equal(cp_snaps_init(&s, &a, no_data()), 0);
  for (i = 0; i < 20; i++) {
    held[i] = cp_snaps_acquire(&s);
    assert_int_equal(cp_snaps_publish(&s, i % 2 ? &a : &b, NULL), 0);
  }
  assert_int_equal(cp_snaps_count(&s), 2);
  for (i = 2; i < 20; i++) {
    assert_ptr_equal(held[i], held[i % 2]); /* one shared snapshot */
  }
  assert_ptr_not_equal(held[0], held[1]);
  assert_int_equal(held[0]->refs, 10 + 1); /* and current: A */
  assert_int_equal(held[1]->refs, 10);
  /* Equal rules: the same snapshot, one more reference. */
  assert_int_equal(cp_snaps_publish(&s, &a, NULL), 0);
  assert_int_equal(cp_snaps_count(&s), 2);
  assert_int_equal(held[0]->refs, 11);
  for (i = 0; i < 20; i++) {
    cp_snaps_release(&s, held[i]);
  }
  /* B had no other holder: freed with its last connection. */
  assert_int_equal(cp_snaps_count(&s), 1);
  cp_snaps_free(&s);
  cp_rules_free(&a);
  cp_rules_free(&b);
}


/* New data (a reload) always makes a new snapshot, even with equal rules:
 * results judged with the old data stay apart. */
static void test_new_data(void **state) {
  cp_snaps_t s;
  cp_rules_t a;
  cp_snap_t *old;
  cp_snap_t *cur;

  (void)state;
  parse(&a, rules_a);
  assert_int_equal(cp_snaps_init(&s, &a, no_data()), 0);
  old = cp_snaps_acquire(&s);
  assert_int_equal(cp_snaps_publish(&s, &a, no_data()), 0);
  cur = cp_snaps_acquire(&s);
  assert_ptr_not_equal(old, cur);
  assert_int_not_equal(old->data->gen, cur->data->gen);
  assert_int_equal(cp_snaps_count(&s), 2);
  cp_snaps_release(&s, old);
  assert_int_equal(cp_snaps_count(&s), 1);
  cp_snaps_release(&s, cur);
  cp_snaps_free(&s);
  cp_rules_free(&a);
}


static int setup(void **state) {
  char err[512];

  (void)state;
  return cp_profiles_load(&set, CP_PROFILES_PATH, err, sizeof(err));
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_equal),
      cmocka_unit_test(test_dedup),
      cmocka_unit_test(test_new_data),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
