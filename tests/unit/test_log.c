/* The operator log: one line per message whatever the peer bytes in it,
 * with controls, bidi characters and bytes that are not UTF-8 escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"

/* What one cp_log call wrote to stderr, into out. */
static void capture(char *out, size_t cap, const char *host, const char *msg) {
  FILE *tmp = tmpfile();
  int saved = dup(STDERR_FILENO);
  size_t n;

  assert_non_null(tmp);
  assert_true(saved >= 0);
  fflush(stderr);
  assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
  cp_log(NULL, CP_LOG_WARN, 7, host, "TLS handshake with upstream",
         "subject %s", msg);
  fflush(stderr);
  assert_true(dup2(saved, STDERR_FILENO) >= 0);
  close(saved);
  rewind(tmp);
  n = fread(out, 1, cap - 1, tmp);
  out[n] = '\0';
  fclose(tmp);
}


static void test_one_line_escaped(void **state) {
  char out[2048];
  const char *body;

  (void)state;
  capture(out, sizeof(out), "a\rb.test",
          "CN=x\x1b[31m\r\n2026-01-01T00:00:00Z error forged "
          "\xe2\x80\xae\xc2\x9b\xff Z\xc3\xbcrich");
  /* One line, and the only LF is its end. */
  assert_non_null(strchr(out, '\n'));
  assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
  body = strstr(out, " warn conn=7 host=a\\x0db.test: subject CN=x");
  assert_non_null(body);
  assert_non_null(strstr(out, "CN=x\\x1b[31m\\x0d\\x0a2026-01-01T00:00:00Z "
                              "error forged \\u202e\\u009b\\xff "
                              "Z\xc3\xbcrich (while TLS handshake with "
                              "upstream)\n"));
}


static void test_long_message_stays_one_line(void **state) {
  char big[3000], out[4096];

  (void)state;
  memset(big, '\n', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  capture(out, sizeof(out), NULL, big);
  assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
  assert_true(strlen(out) <= 1024); /* 1023 and the LF */
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_line_escaped),
      cmocka_unit_test(test_long_message_stays_one_line),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
