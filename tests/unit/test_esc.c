/* Escaping peer bytes for terminals, text bodies and the log: a table of
 * inputs (controls, bidi, C1, valid and invalid UTF-8) and what each
 * becomes, the flags, and that cutting never splits a character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/esc.h"

typedef struct {
  const char *in;
  size_t len; /* 0: strlen(in) */
  const char *want;
} esc_case_t;


static void test_table(void **state) {
  static const esc_case_t cases[] = {
      {"plain.example.test", 0, "plain.example.test"},
      {"", 0, ""},
      {"a\x1b[31mred", 0, "a\\x1b[31mred"},          /* ESC */
      {"line\r\nforged", 0, "line\\x0d\\x0aforged"}, /* CR LF */
      {"tab\there", 0, "tab\\x09here"},              /* other C0 */
      {"del\x7f", 0, "del\\x7f"},                    /* DEL */
      {"nul\0.evil", 9, "nul\\x00.evil"},            /* NUL kept visible */
      {"Z\xc3\xbcrich", 0, "Z\xc3\xbcrich"},         /* valid UTF-8 kept */
      {"\xe6\x9d\xb1\xe4\xba\xac", 0, "\xe6\x9d\xb1\xe4\xba\xac"}, /* CJK */
      {"\xf0\x9f\x94\x92", 0, "\xf0\x9f\x94\x92"},         /* 4 bytes kept */
      {"abc\xe2\x80\xaetxt.exe", 0, "abc\\u202etxt.exe"},  /* RLO */
      {"\xe2\x81\xa6x\xe2\x81\xa9", 0, "\\u2066x\\u2069"}, /* isolates */
      {"\xd8\x9c", 0, "\\u061c"},                          /* ALM */
      {"\xe2\x80\x8e\xe2\x80\x8f", 0, "\\u200e\\u200f"},   /* LRM RLM */
      {"zero\xe2\x80\x8bwidth", 0, "zero\\u200bwidth"},    /* ZWSP */
      {"\xe2\x80\xa8", 0, "\\u2028"},                      /* line separator */
      {"\xef\xbb\xbf", 0, "\\ufeff"},                      /* BOM */
      {"\xf3\xa0\x81\x81", 0, "\\U000e0041"},              /* tag 'A' */
      {"\xc2\x9b"
       "31m",
       0, "\\u009b31m"},           /* C1 CSI */
      {"\xc2\xa0", 0, "\xc2\xa0"}, /* NBSP: visible enough, kept */
      {"bad\xff", 0, "bad\\xff"},  /* never UTF-8 */
      {"\x9b"
       "31m",
       0, "\\x9b31m"},                        /* lone C1 byte: not UTF-8 */
      {"\xc3", 0, "\\xc3"},                   /* truncated sequence */
      {"\xc3(", 0, "\\xc3("},                 /* bad continuation */
      {"\xc0\xaf", 0, "\\xc0\\xaf"},          /* overlong '/' */
      {"\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf"}, /* overlong, 3 bytes */
      {"\xed\xa0\x80", 0, "\\xed\\xa0\\x80"}, /* surrogate U+D800 */
      {"\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80"}, /* past U+10FFFF */
      {"back\\x1b", 0, "back\\x1b"}, /* backslashes are not doubled */
  };
  char out[128], again[128];
  size_t i, n;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const esc_case_t *c = &cases[i];
    size_t len = c->len ? c->len : strlen(c->in);

    n = cp_esc_term(out, sizeof(out), c->in, len, 0);
    if (strcmp(out, c->want) != 0) {
      fail_msg("case %zu: got '%s', want '%s'", i, out, c->want);
    }
    assert_int_equal(n, strlen(c->want));
    /* Escaped text escapes to itself. */
    assert_string_equal(cp_esc_str(again, sizeof(again), out), c->want);
  }
}


static void test_no_raw_controls_survive(void **state) {
  unsigned char all[256];
  char out[CP_ESC_SIZE(256)];
  size_t i;

  (void)state;
  for (i = 0; i < 256; i++) {
    all[i] = (unsigned char)i;
  }
  cp_esc_term(out, sizeof(out), all, sizeof(all), 0);
  for (i = 0; out[i] != '\0'; i++) {
    unsigned char ch = (unsigned char)out[i];

    assert_true(ch >= 0x20 && ch < 0x7f); /* every high byte is alone */
  }
}


static void test_keep_lf(void **state) {
  char out[64];

  (void)state;
  cp_esc_term(out, sizeof(out), "a\nb\r\n\x1b", 6, CP_ESC_KEEP_LF);
  assert_string_equal(out, "a\nb\\x0d\n\\x1b");
}


static void test_utf8_only(void **state) {
  static const char in[] = "a\0b\x1b\xe2\x80\xae\xff";
  char out[64];
  size_t n;

  (void)state;
  /* Only the byte that is not UTF-8 changes; NUL and controls stay. */
  n = cp_esc_term(out, sizeof(out), in, sizeof(in) - 1, CP_ESC_UTF8_ONLY);
  assert_int_equal(n, 11);
  assert_memory_equal(out, "a\0b\x1b\xe2\x80\xae\\xff", 11);
  assert_true(cp_esc_utf8_valid(out, n));
  assert_true(cp_esc_utf8_valid("a\0b", 3));
  assert_true(cp_esc_utf8_valid("Z\xc3\xbcrich", 7));
  assert_false(cp_esc_utf8_valid("\xc3", 1));
  assert_false(cp_esc_utf8_valid("\xed\xa0\x80", 3));
}


static void test_cut_between_characters(void **state) {
  char out[8];
  size_t n;

  (void)state;
  /* "ab" fits, "\x1b" (4) does not fit in the 5 bytes left with the NUL:
   * the escape is left out whole, never cut to "\x1". */
  n = cp_esc_term(out, 6,
                  "ab\x1b"
                  "cd",
                  5, 0);
  assert_string_equal(out, "ab");
  assert_int_equal(n, 2);
  /* A 2-byte character is not split either. */
  n = cp_esc_term(out, 3, "a\xc3\xbc", 3, 0);
  assert_string_equal(out, "a");
  n = cp_esc_term(out, 1, "abc", 3, 0);
  assert_int_equal(n, 0);
  assert_string_equal(out, "");
  assert_string_equal(cp_esc_str(out, sizeof(out), NULL), "");
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_no_raw_controls_survive),
      cmocka_unit_test(test_keep_lf),
      cmocka_unit_test(test_utf8_only),
      cmocka_unit_test(test_cut_between_characters),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
