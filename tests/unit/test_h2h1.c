/* HTTP/2 header blocks to HTTP/1.1 heads and back (h2h1.c), from bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "http/h2h1.h"


static int add(cp_h2_head_t *h, const char *n, const char *v) {
  return cp_h2_head_add(h, (const uint8_t *)n, strlen(n), (const uint8_t *)v,
                        strlen(v));
}


static const char *text(cp_buf_t *b) {
  cp_buf_append(b, "", 1);
  b->len--;
  return b->data;
}


static void test_request_head(void **state) {
  cp_h2_head_t h;
  cp_buf_t out;
  const char *err = NULL;
  int chunked = -1;

  (void)state;
  cp_h2_head_init(&h, 4096);
  cp_buf_init(&out, 4096);
  add(&h, ":method", "POST");
  add(&h, ":scheme", "https");
  add(&h, ":authority", "api.test:8443");
  add(&h, ":path", "/v1?x=1");
  add(&h, "cookie", "a=1");
  add(&h, "accept", "*/*");
  add(&h, "te", "trailers");
  add(&h, "cookie", "b=2");
  assert_int_equal(cp_h2h1_request_head(&h, 1, &out, &chunked, &err), 0);
  assert_int_equal(chunked, 1);
  assert_string_equal(text(&out), "POST /v1?x=1 HTTP/1.1\r\n"
                                  "Host: api.test:8443\r\n"
                                  "accept: */*\r\n"
                                  "Cookie: a=1; b=2\r\n"
                                  "Transfer-Encoding: chunked\r\n"
                                  "Via: 2 chainproxy\r\n\r\n");
  /* A length given: no chunking. No body: none either. */
  cp_buf_reset(&out);
  add(&h, "content-length", "5");
  assert_int_equal(cp_h2h1_request_head(&h, 1, &out, &chunked, &err), 0);
  assert_int_equal(chunked, 0);
  cp_buf_reset(&h.b);
  h.n = 0;
  add(&h, ":method", "CONNECT");
  add(&h, ":authority", "x.test:443");
  assert_int_equal(cp_h2h1_request_head(&h, 0, &out, &chunked, &err), CP_EHTTP);
  assert_non_null(strstr(err, "CONNECT"));
  cp_buf_free(&h.b);
  cp_buf_free(&out);
}


static void test_response_head(void **state) {
  cp_h2_head_t h;
  cp_buf_t out;
  int chunked = -1;

  (void)state;
  cp_h2_head_init(&h, 4096);
  cp_buf_init(&out, 4096);
  add(&h, ":status", "200");
  add(&h, "content-type", "text/plain");
  assert_int_equal(cp_h2h1_response_head(&h, 0, 0, 1, &out, &chunked), 0);
  assert_int_equal(chunked, 1);
  assert_string_equal(text(&out), "HTTP/1.1 200 OK\r\n"
                                  "content-type: text/plain\r\n"
                                  "Transfer-Encoding: chunked\r\n"
                                  "Via: 2 chainproxy\r\n"
                                  "Connection: keep-alive\r\n\r\n");
  /* Ended with the head: an explicit empty body. HEAD: nothing added. */
  cp_buf_reset(&out);
  assert_int_equal(cp_h2h1_response_head(&h, 1, 0, 0, &out, &chunked), 0);
  assert_int_equal(chunked, 0);
  assert_non_null(strstr(text(&out), "Content-Length: 0\r\n"));
  assert_non_null(strstr(text(&out), "Connection: close\r\n"));
  cp_buf_reset(&out);
  assert_int_equal(cp_h2h1_response_head(&h, 1, 1, 1, &out, &chunked), 0);
  assert_null(strstr(text(&out), "Content-Length"));
  cp_buf_reset(&h.b);
  h.n = 0;
  add(&h, ":status", "nope");
  assert_int_equal(cp_h2h1_response_head(&h, 0, 0, 1, &out, &chunked),
                   CP_EHTTP);
  cp_buf_free(&h.b);
  cp_buf_free(&out);
}


static void test_from_msg(void **state) {
  static const char req[] = "GET /p?q HTTP/1.1\r\nHost: site.test\r\n"
                            "Connection: keep-alive, x-hop\r\nX-Hop: 1\r\n"
                            "Accept-Encoding: gzip\r\n\r\n";
  cp_http_msg_t m;
  cp_h2_head_t h;
  cp_buf_t body;
  size_t used = 0;
  char v[64];

  (void)state;
  cp_http_msg_init(&m, CP_HTTP_REQUEST, 8192);
  m.body_only = 1;
  cp_buf_init(&body, 1024);
  assert_int_equal(cp_http_msg_feed(&m, req, sizeof(req) - 1, &used, &body),
                   CP_HTTP_DONE);
  cp_h2_head_init(&h, 4096);
  assert_int_equal(cp_h2h1_head_from_msg(&m, "https", &h), 0);
  assert_string_equal(cp_h2_head_get(&h, ":method", v, sizeof(v)), "GET");
  assert_string_equal(cp_h2_head_get(&h, ":authority", v, sizeof(v)),
                      "site.test");
  assert_string_equal(cp_h2_head_get(&h, ":path", v, sizeof(v)), "/p?q");
  assert_string_equal(cp_h2_head_get(&h, "accept-encoding", v, sizeof(v)),
                      "gzip");
  assert_string_equal(cp_h2_head_get(&h, "x-hop", v, sizeof(v)), "");
  assert_string_equal(cp_h2_head_get(&h, "host", v, sizeof(v)), "");
  assert_int_equal(body.len, 0);
  cp_buf_free(&h.b);
  cp_buf_free(&body);
  cp_http_msg_free(&m);
}


static void test_chunks(void **state) {
  cp_h2_head_t t;
  cp_buf_t out;

  (void)state;
  cp_buf_init(&out, 4096);
  cp_h2_head_init(&t, 1024);
  assert_int_equal(cp_h2h1_chunk(&out, "hello", 5), 0);
  assert_int_equal(cp_h2h1_chunk(&out, "", 0), 0);
  add(&t, "grpc-status", "0");
  assert_int_equal(cp_h2h1_last_chunk(&out, &t), 0);
  assert_string_equal(text(&out), "5\r\nhello\r\n0\r\ngrpc-status: 0\r\n\r\n");
  cp_buf_free(&t.b);
  cp_buf_free(&out);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_head),
      cmocka_unit_test(test_response_head),
      cmocka_unit_test(test_from_msg),
      cmocka_unit_test(test_chunks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
