/* Parent proxies from bytes: URLs, NO_PROXY lists, the choice between a
 * rule, the process's parent and an exception, and the parent's answer to
 * CONNECT as it arrives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/parent.h"


static void test_urls(void **state) {
  cp_parent_t p;
  char err[256];

  (void)state;
  assert_int_equal(
      cp_parent_parse(&p, "http://proxy.corp:3128", err, sizeof(err)), 0);
  assert_string_equal(p.host, "proxy.corp");
  assert_int_equal(p.port, 3128);
  assert_string_equal(p.auth, "");
  assert_string_equal(p.url, "http://proxy.corp:3128");
  /* curl's defaults: no scheme is http, no port is 1080. */
  assert_int_equal(cp_parent_parse(&p, "10.0.0.1", err, sizeof(err)), 0);
  assert_int_equal(p.port, 1080);
  assert_int_equal(cp_parent_parse(&p, "http://[::1]:8080/", err, sizeof(err)),
                   0);
  assert_string_equal(p.host, "::1");
  assert_string_equal(p.url, "http://[::1]:8080");
  /* Credentials: Basic of the unescaped pair; the URL shown has no
   * password. "alice:s@cret" is YWxpY2U6c0BjcmV0. */
  assert_int_equal(cp_parent_parse(&p, "http://alice:s%40cret@127.0.0.1:3128",
                                   err, sizeof(err)),
                   0);
  assert_string_equal(p.user, "alice");
  assert_string_equal(p.auth, "Basic YWxpY2U6c0BjcmV0");
  assert_string_equal(p.url, "http://alice@127.0.0.1:3128");
  assert_null(strstr(p.url, "cret"));
  /* Refused, each with a reason. */
  assert_int_not_equal(
      cp_parent_parse(&p, "https://proxy:443", err, sizeof(err)), 0);
  assert_non_null(strstr(err, "only http://"));
  assert_int_not_equal(
      cp_parent_parse(&p, "socks5://proxy:1080", err, sizeof(err)), 0);
  assert_int_not_equal(
      cp_parent_parse(&p, "http://a:b@c@proxy:1", err, sizeof(err)), 0);
  assert_non_null(strstr(err, "%40"));
  assert_int_not_equal(
      cp_parent_parse(&p, "http://proxy:3128/path", err, sizeof(err)), 0);
  assert_int_not_equal(
      cp_parent_parse(&p, "http://proxy:99999", err, sizeof(err)), 0);
  assert_int_not_equal(cp_parent_parse(&p, "http://", err, sizeof(err)), 0);
  assert_int_not_equal(
      cp_parent_parse(&p, "http://a:%zz@proxy:1", err, sizeof(err)), 0);
  assert_int_not_equal(
      cp_parent_parse(&p, "http://a%0d%0aX:b@proxy:1", err, sizeof(err)), 0);
}


static void test_no_proxy(void **state) {
  (void)state;
  assert_true(cp_parent_no_proxy("*", "anything.test", 443));
  assert_true(cp_parent_no_proxy("example.com", "example.com", 443));
  assert_true(cp_parent_no_proxy("example.com", "a.b.example.com", 443));
  assert_true(cp_parent_no_proxy(".example.com", "a.example.com", 443));
  assert_true(cp_parent_no_proxy("*.example.com", "a.EXAMPLE.com", 443));
  assert_false(cp_parent_no_proxy("example.com", "badexample.com", 443));
  assert_false(cp_parent_no_proxy("example.com", "example.com.evil", 443));
  assert_true(cp_parent_no_proxy("a.test, localhost ,b.test", "localhost", 1));
  assert_true(cp_parent_no_proxy("localhost:8443", "localhost", 8443));
  assert_false(cp_parent_no_proxy("localhost:8443", "localhost", 443));
  assert_true(cp_parent_no_proxy("10.0.0.0/8", "10.200.1.1", 443));
  assert_false(cp_parent_no_proxy("10.0.0.0/8", "11.0.0.1", 443));
  assert_true(cp_parent_no_proxy("127.0.0.1", "127.0.0.1", 443));
  assert_false(cp_parent_no_proxy("127.0.0.1", "127.0.0.2", 443));
  assert_true(cp_parent_no_proxy("::1", "::1", 443));
  assert_true(cp_parent_no_proxy("[::1]:8443", "::1", 8443));
  assert_true(cp_parent_no_proxy("fd00::/8", "fd12::5", 443));
  assert_false(cp_parent_no_proxy("fd00::/8", "fe80::1", 443));
  assert_false(cp_parent_no_proxy("", "localhost", 443));
  assert_false(cp_parent_no_proxy(", ,", "localhost", 443));
  assert_false(cp_parent_no_proxy("10.0.0.0/99", "10.0.0.1", 443));
}


static void test_pick(void **state) {
  cp_parents_t ps;
  cp_parent_t rule;
  char err[256];

  (void)state;
  memset(&ps, 0, sizeof(ps));
  assert_null(cp_parents_pick(&ps, NULL, 0, "a.test", 443, 1));
  assert_int_equal(cp_parent_parse(&ps.https, "http://p:1", err, sizeof(err)),
                   0);
  ps.has_https = 1;
  ps.no_proxy[ps.nno_proxy++] = "internal.test";
  assert_ptr_equal(cp_parents_pick(&ps, NULL, 0, "a.test", 443, 1), &ps.https);
  assert_null(cp_parents_pick(&ps, NULL, 0, "a.test", 80, 0)); /* no http */
  assert_null(cp_parents_pick(&ps, NULL, 0, "x.internal.test", 443, 1));
  assert_int_equal(cp_parent_parse(&rule, "http://r:2", err, sizeof(err)), 0);
  /* A rule is explicit: it wins over exceptions, and "direct" over all. */
  assert_ptr_equal(cp_parents_pick(&ps, &rule, 0, "x.internal.test", 443, 1),
                   &rule);
  assert_null(cp_parents_pick(&ps, NULL, 1, "a.test", 443, 1));
  assert_null(cp_parents_pick(NULL, NULL, 0, "a.test", 443, 1));
}


static void test_env(void **state) {
  cp_parents_t ps;
  char err[512];

  (void)state;
  memset(&ps, 0, sizeof(ps));
  setenv("HTTPS_PROXY", "http://u:p@127.0.0.1:3128", 1);
  setenv("http_proxy", "http://127.0.0.1:3129", 1);
  setenv("NO_PROXY", "localhost", 1);
  assert_int_equal(
      cp_parents_from_env(&ps, "127.0.0.1", 8080, err, sizeof(err)), 0);
  assert_true(ps.has_https && ps.has_http);
  assert_int_equal(ps.https.port, 3128);
  assert_int_equal(ps.http.port, 3129);
  assert_null(cp_parents_pick(&ps, NULL, 0, "localhost", 443, 1));
  /* chainproxy itself as its parent would loop. */
  memset(&ps, 0, sizeof(ps));
  setenv("HTTPS_PROXY", "http://localhost:8080", 1);
  assert_int_not_equal(
      cp_parents_from_env(&ps, "127.0.0.1", 8080, err, sizeof(err)), 0);
  assert_non_null(strstr(err, "loop"));
  unsetenv("HTTPS_PROXY");
  unsetenv("http_proxy");
  unsetenv("NO_PROXY");
}


static void test_reply(void **state) {
  static const char ok[] = "HTTP/1.1 200 Connection established\r\n"
                           "Via: 1.1 squid\r\n\r\n\x16\x03\x03";
  static const char auth[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                             "Proxy-Authenticate: Basic realm=\"corp\"\r\n"
                             "Content-Length: 5\r\n\r\nabcde";
  cp_parent_reply_t r;
  size_t i, head = strlen(ok) - 3;

  (void)state;
  /* Byte by byte: nothing until the blank line, then the head's length
   * (what follows is the tunnel's). */
  for (i = 0; i < head; i++) {
    assert_int_equal(cp_parent_reply_parse(&r, ok, i, 4096), 0);
  }
  assert_int_equal(cp_parent_reply_parse(&r, ok, sizeof(ok) - 1, 4096), 1);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.head_len, head);
  assert_string_equal(r.line, "HTTP/1.1 200 Connection established");
  assert_int_equal(cp_parent_reply_parse(&r, auth, sizeof(auth) - 1, 4096), 1);
  assert_int_equal(r.status, 407);
  assert_string_equal(r.authenticate, "Basic realm=\"corp\"");
  assert_int_equal(
      cp_parent_reply_parse(&r, "HTTP/1.0 403 Forbidden\n\n", 24, 4096), 1);
  assert_int_equal(r.status, 403);
  assert_string_equal(r.line, "HTTP/1.0 403 Forbidden");
  /* Not HTTP, or a head that never ends within the limit. */
  assert_true(cp_parent_reply_parse(&r, "SSH-2.0-x\r\n\r\n", 13, 4096) < 0);
  assert_true(cp_parent_reply_parse(&r, "HTTP/1.1 200 OK\r\nX: y", 21, 16) < 0);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_urls),  cmocka_unit_test(test_no_proxy),
      cmocka_unit_test(test_pick),  cmocka_unit_test(test_env),
      cmocka_unit_test(test_reply),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
