#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "app/isolate_dns.h"

/* A query for good.chainproxy.test, type A, as glibc sends it. */
static const uint8_t query[] = {
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 4,
    'g',  'o',  'o',  'd',  10,   'c',  'h',  'a',  'i',  'n',  'p',  'r',  'o',
    'x',  'y',  4,    't',  'e',  's',  't',  0,    0x00, 0x01, 0x00, 0x01};


static void test_question(void **state) {
  char name[256];
  uint16_t qtype = 0;
  size_t end = 0;

  (void)state;
  assert_int_equal(cp_isolate_dns_question(query, sizeof(query), name,
                                           sizeof(name), &qtype, &end),
                   0);
  assert_string_equal(name, "good.chainproxy.test");
  assert_int_equal(qtype, 1);
  assert_int_equal(end, sizeof(query));
}


static void test_not_a_query(void **state) {
  uint8_t p[sizeof(query)];
  char name[256];
  uint16_t qtype;
  size_t end, cut;

  (void)state;
  memcpy(p, query, sizeof(p));
  p[2] |= 0x80; /* an answer */
  assert_int_equal(
      cp_isolate_dns_question(p, sizeof(p), name, sizeof(name), &qtype, &end),
      -1);
  memcpy(p, query, sizeof(p));
  p[5] = 0; /* no question */
  assert_int_equal(
      cp_isolate_dns_question(p, sizeof(p), name, sizeof(name), &qtype, &end),
      -1);
  memcpy(p, query, sizeof(p));
  p[12] = 0xc0; /* a compression pointer in the question */
  assert_int_equal(
      cp_isolate_dns_question(p, sizeof(p), name, sizeof(name), &qtype, &end),
      -1);
  /* Every truncation is refused, none read past the end. */
  for (cut = 0; cut < sizeof(query); cut++) {
    assert_int_equal(
        cp_isolate_dns_question(query, cut, name, sizeof(name), &qtype, &end),
        -1);
  }
  /* A name longer than the buffer. */
  assert_int_equal(
      cp_isolate_dns_question(query, sizeof(query), name, 8, &qtype, &end), -1);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_question),
      cmocka_unit_test(test_not_a_query),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
