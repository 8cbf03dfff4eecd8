#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "http/http_parse.h"

typedef struct fixture_s fixture_t;

struct fixture_s {
  cp_http_msg_t msg;
  cp_buf_t out;
};


static int setup_req(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));

  cp_http_msg_init(&f->msg, CP_HTTP_REQUEST, 64 * 1024);
  cp_buf_init(&f->out, 1 << 20);
  *state = f;
  return 0;
}


static int setup_resp(void **state) {
  fixture_t *f = calloc(1, sizeof(*f));

  cp_http_msg_init(&f->msg, CP_HTTP_RESPONSE, 64 * 1024);
  cp_buf_init(&f->out, 1 << 20);
  f->msg.peer_http11 = 1;
  f->msg.want_keepalive = 1;
  f->msg.req_method = HTTP_GET;
  *state = f;
  return 0;
}


static int teardown(void **state) {
  fixture_t *f = *state;

  cp_http_msg_free(&f->msg);
  cp_buf_free(&f->out);
  free(f);
  return 0;
}


/* Feeds the whole input; returns the last result. */
static int feed_all(fixture_t *f, const char *in, size_t *consumed) {
  return cp_http_msg_feed(&f->msg, in, strlen(in), consumed, &f->out);
}


static char *out_str(fixture_t *f) {
  char *s = malloc(f->out.len + 1);

  memcpy(s, f->out.data, f->out.len);
  s[f->out.len] = '\0';
  return s;
}


static void test_connect_targets(void **state) {
  static const struct {
    const char *line;
    int ok;
    const char *host;
    unsigned port;
    cp_host_kind_e kind;
  } cases[] = {
      {"CONNECT example.com:443 HTTP/1.1\r\n\r\n", 1, "example.com", 443,
       CP_HOST_NAME},
      {"CONNECT 127.0.0.1:8443 HTTP/1.1\r\n\r\n", 1, "127.0.0.1", 8443,
       CP_HOST_IPV4},
      {"CONNECT [::1]:443 HTTP/1.1\r\n\r\n", 1, "::1", 443, CP_HOST_IPV6},
      {"CONNECT example.com HTTP/1.1\r\n\r\n", 0, NULL, 0, 0},
      {"CONNECT example.com:0 HTTP/1.1\r\n\r\n", 0, NULL, 0, 0},
      {"CONNECT example.com:65536 HTTP/1.1\r\n\r\n", 0, NULL, 0, 0},
      {"CONNECT ::1:443 HTTP/1.1\r\n\r\n", 0, NULL, 0, 0},
      {"CONNECT [example.com]:443 HTTP/1.1\r\n\r\n", 0, NULL, 0, 0},
      {"CONNECT exa\"mple.com:443 HTTP/1.1\r\n\r\n", 0, NULL, 0, 0},
  };
  fixture_t *f = *state;
  size_t i;
  size_t n;
  int rc;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cp_http_msg_reset(&f->msg);
    rc = feed_all(f, cases[i].line, &n);
    if (cases[i].ok) {
      assert_int_equal(rc, CP_HTTP_DONE);
      assert_true(f->msg.is_connect);
      assert_string_equal(f->msg.target.host, cases[i].host);
      assert_int_equal(f->msg.target.port, cases[i].port);
      assert_int_equal(f->msg.target.host_kind, cases[i].kind);
      assert_int_equal(n, strlen(cases[i].line));
    } else {
      assert_true(rc < 0);
    }
  }
}


static void test_connect_leaves_tunnel_bytes(void **state) {
  fixture_t *f = *state;
  const char *in =
      "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test\r\n\r\n\x16\x03";
  size_t n;

  assert_int_equal(cp_http_msg_feed(&f->msg, in, strlen(in), &n, &f->out),
                   CP_HTTP_DONE);
  assert_int_equal(strlen(in) - n, 2);
  assert_int_equal(f->out.len, 0);
}


static void test_absolute_rewritten_to_origin_form(void **state) {
  fixture_t *f = *state;
  size_t n;
  char *out;

  assert_int_equal(
      feed_all(f,
               "GET http://Example.test:8080/a/b?x=1#frag HTTP/1.1\r\n"
               "Host: wrong.test\r\n"
               "Proxy-Connection: keep-alive\r\n"
               "Connection: keep-alive, X-Drop\r\n"
               "X-Drop: 1\r\n"
               "X-Keep: 2\r\n"
               "Proxy-Authorization: Basic Zm9v\r\n"
               "\r\n",
               &n),
      CP_HTTP_DONE);
  assert_int_equal(f->msg.target.form, CP_TARGET_ABSOLUTE);
  assert_string_equal(f->msg.target.host, "Example.test");
  assert_int_equal(f->msg.target.port, 8080);
  out = out_str(f);
  assert_string_equal(out, "GET /a/b?x=1 HTTP/1.1\r\n"
                           "Host: Example.test:8080\r\n"
                           "X-Keep: 2\r\n"
                           "Via: 1.1 chainproxy\r\n"
                           "\r\n");
  free(out);
}


static void test_absolute_ipv6_and_default_port(void **state) {
  fixture_t *f = *state;
  size_t n;
  char *out;

  assert_int_equal(feed_all(f, "HEAD http://[::1] HTTP/1.0\r\n\r\n", &n),
                   CP_HTTP_DONE);
  assert_string_equal(f->msg.target.host, "::1");
  assert_int_equal(f->msg.target.port, 80);
  assert_false(f->msg.keepalive_in);
  out = out_str(f);
  assert_string_equal(out, "HEAD / HTTP/1.1\r\nHost: [::1]\r\n"
                           "Via: 1.0 chainproxy\r\n\r\n");
  free(out);
}


static void test_bad_targets(void **state) {
  static const char *const bad[] = {
      "GET https://a.test/ HTTP/1.1\r\n\r\n",
      "GET ftp://a.test/ HTTP/1.1\r\n\r\n",
      "GET http://a.test:0/ HTTP/1.1\r\n\r\n",
      "GET http://a%20b/ HTTP/1.1\r\n\r\n",
  };
  fixture_t *f = *state;
  size_t i;
  size_t n;

  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cp_http_msg_reset(&f->msg);
    assert_int_equal(feed_all(f, bad[i], &n), CP_ETARGET);
  }
}


static void test_origin_form_is_kept(void **state) {
  fixture_t *f = *state;
  size_t n;

  assert_int_equal(feed_all(f, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", &n),
                   CP_HTTP_DONE);
  assert_int_equal(f->msg.target.form, CP_TARGET_ORIGIN);
}


static const char chunked_req[] = "POST http://a.test/up HTTP/1.1\r\n"
                                  "Transfer-Encoding: chunked\r\n"
                                  "X-A: 1\r\n"
                                  "\r\n"
                                  "5\r\nhello\r\n"
                                  "6;ext=1\r\n world\r\n"
                                  "0\r\n\r\n"
                                  "GET http://a.test/next HTTP/1.1\r\n\r\n";


/* Decodes a chunked body (no extensions, no trailers) into body. */
static void dechunk(const char *s, char *body) {
  size_t n;
  char *end;

  body[0] = '\0';
  for (;;) {
    n = strtoul(s, &end, 16);
    assert_memory_equal(end, "\r\n", 2);
    s = end + 2;
    if (n == 0) {
      assert_string_equal(s, "\r\n");
      return;
    }
    strncat(body, s, n);
    s += n;
    assert_memory_equal(s, "\r\n", 2);
    s += 2;
  }
}


/* Splitting the input at every byte boundary must give the same head and
 * the same body, because reads end wherever TCP likes (chunk sizes follow
 * the reads, so the framing itself may differ). */
static void test_split_at_every_boundary(void **state) {
  fixture_t *f = *state;
  size_t total = strlen(chunked_req);
  size_t split;
  char body[64];
  char *sep;

  /* Starts at 1: a zero-length feed means end of input. */
  for (split = 1; split <= total; split++) {
    size_t n1 = 0;
    size_t n2 = 0;
    int rc;
    char *out;

    cp_http_msg_reset(&f->msg);
    cp_buf_reset(&f->out);
    rc = cp_http_msg_feed(&f->msg, chunked_req, split, &n1, &f->out);
    if (rc != CP_HTTP_DONE) {
      assert_int_equal(rc, CP_HTTP_MORE);
      assert_int_equal(n1, split);
      rc = cp_http_msg_feed(&f->msg, chunked_req + split, total - split, &n2,
                            &f->out);
    }
    assert_int_equal(rc, CP_HTTP_DONE);
    /* The parser stops at the end of the first message. */
    assert_int_equal(n1 + n2, total - strlen("GET http://a.test/next "
                                             "HTTP/1.1\r\n\r\n"));
    assert_int_equal(f->msg.body_bytes, 11);
    out = out_str(f);
    sep = strstr(out, "\r\n\r\n");
    assert_non_null(sep);
    sep[2] = '\0';
    assert_string_equal(out, "POST /up HTTP/1.1\r\n"
                             "Host: a.test\r\n"
                             "X-A: 1\r\n"
                             "Via: 1.1 chainproxy\r\n"
                             "Transfer-Encoding: chunked\r\n");
    dechunk(sep + 4, body);
    assert_string_equal(body, "hello world");
    free(out);
  }
}


static void test_content_length_body(void **state) {
  fixture_t *f = *state;
  size_t n;
  char *out;

  assert_int_equal(feed_all(f,
                            "PUT http://a.test/x HTTP/1.1\r\n"
                            "Content-Length: 3\r\n\r\nabcEXTRA",
                            &n),
                   CP_HTTP_DONE);
  out = out_str(f);
  assert_string_equal(out, "PUT /x HTTP/1.1\r\nHost: a.test\r\n"
                           "Content-Length: 3\r\n"
                           "Via: 1.1 chainproxy\r\n\r\nabc");
  free(out);
}


static void test_header_limit(void **state) {
  fixture_t *f = *state;
  cp_buf_t in;
  size_t n;
  int i;

  cp_buf_init(&in, 1 << 20);
  cp_buf_append_str(&in, "GET http://a.test/ HTTP/1.1\r\n");
  for (i = 0; i < 2000; i++) {
    cp_buf_appendf(&in, "X-Filler-%d: %040d\r\n", i, i);
  }
  cp_buf_append_str(&in, "\r\n");
  assert_int_equal(cp_http_msg_feed(&f->msg, in.data, in.len, &n, &f->out),
                   CP_EHDRSIZE);
  cp_buf_free(&in);
}


static void test_malformed(void **state) {
  static const char *const bad[] = {
      "GET http://a.test/ HTTP/1.1\r\nContent-Length: x\r\n\r\n",
      "GARBAGE\r\n\r\n",
      "GET http://a.test/ HTTP/1.1\r\nBad Header\r\n\r\n",
      "POST http://a.test/ HTTP/1.1\r\nContent-Length: 1\r\n"
      "Transfer-Encoding: chunked\r\n\r\n",
  };
  fixture_t *f = *state;
  size_t i;
  size_t n;

  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cp_http_msg_reset(&f->msg);
    assert_true(feed_all(f, bad[i], &n) < 0);
    assert_non_null(f->msg.err_text);
  }
}


/* RFC 9112 5.1: whitespace between a field name and its colon is a 400
 * for a request. http-parser (non-strict, as Debian builds it) takes
 * "Content-Length " as Content-Length, so an origin that ignores the
 * field would frame the body differently: refused before anything is
 * written, at every split of the input. */
static void test_field_name_whitespace(void **state) {
  static const struct {
    const char *in;
    const char *name; /* the field named in the error */
  } bad[] = {
      {"POST http://a.test/ HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n"
       "\r\nhello",
       "Content-Length "},
      {"GET http://a.test/ HTTP/1.1\r\nHost : a\r\n\r\n", "Host "},
      {"POST http://a.test/ HTTP/1.1\r\nTransfer-Encoding  : chunked\r\n"
       "\r\n0\r\n\r\n",
       "Transfer-Encoding  "},
      {"GET http://a.test/ HTTP/1.1\r\nX-A b: c\r\n\r\n", "X-A b"},
      {"CONNECT a.test:443 HTTP/1.1\r\nHost : a.test:443\r\n\r\n", "Host "},
  };
  fixture_t *f = *state;
  size_t i, split, n, len, name_len, value_len;
  const char *name, *value;
  int rc;

  for (i = 0; i < CP_ARRAY_SIZE(bad); i++) {
    len = strlen(bad[i].in);
    for (split = 1; split <= len; split++) {
      cp_http_msg_reset(&f->msg);
      cp_buf_reset(&f->out);
      rc = cp_http_msg_feed(&f->msg, bad[i].in, split, &n, &f->out);
      if (rc == CP_HTTP_MORE && split < len) {
        rc = cp_http_msg_feed(&f->msg, bad[i].in + n, len - n, &n, &f->out);
      }
      assert_int_equal(rc, CP_EFIELDWS);
      assert_int_equal(f->out.len, 0);
      assert_non_null(f->msg.err_text);
      name = cp_http_msg_field_at(&f->msg, f->msg.err_field, &name_len, &value,
                                  &value_len);
      assert_int_equal(name_len, strlen(bad[i].name));
      assert_memory_equal(name, bad[i].name, name_len);
    }
  }
  cp_http_msg_reset(&f->msg);
  cp_buf_reset(&f->out);
  assert_int_equal(
      feed_all(f, "GET http://a.test/ HTTP/1.1\r\nHost:a\r\nX-A:  b \r\n\r\n",
               &n),
      CP_HTTP_DONE);
}


/* The response side: a proxy must not pass such a field on (RFC 9112
 * 5.1); chainproxy refuses the response (502) rather than guess. */
static void test_response_field_name_whitespace(void **state) {
  fixture_t *f = *state;
  size_t n, name_len, value_len;
  const char *name, *value;

  assert_int_equal(
      feed_all(f, "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok", &n),
      CP_EFIELDWS);
  assert_int_equal(f->out.len, 0);
  name = cp_http_msg_field_at(&f->msg, f->msg.err_field, &name_len, &value,
                              &value_len);
  assert_int_equal(name_len, 15);
  assert_memory_equal(name, "Content-Length ", 15);
}


static void test_response_chunked_kept_for_http11(void **state) {
  fixture_t *f = *state;
  size_t n;
  char *out;

  assert_int_equal(feed_all(f,
                            "HTTP/1.1 200 OK\r\n"
                            "Transfer-Encoding: chunked\r\n"
                            "Keep-Alive: timeout=5\r\n"
                            "\r\n3\r\nabc\r\n0\r\n\r\n",
                            &n),
                   CP_HTTP_DONE);
  assert_true(f->msg.keepalive_out);
  assert_true(f->msg.keepalive_in);
  out = out_str(f);
  assert_string_equal(out, "HTTP/1.1 200 OK\r\n"
                           "Via: 1.1 chainproxy\r\n"
                           "Transfer-Encoding: chunked\r\n"
                           "Connection: keep-alive\r\n\r\n"
                           "3\r\nabc\r\n0\r\n\r\n");
  free(out);
}


static void test_response_eof_body_for_http10_client(void **state) {
  fixture_t *f = *state;
  size_t n;
  char *out;

  f->msg.peer_http11 = 0;
  assert_int_equal(feed_all(f, "HTTP/1.0 200 OK\r\n\r\nbody", &n),
                   CP_HTTP_MORE);
  assert_int_equal(cp_http_msg_feed(&f->msg, NULL, 0, &n, &f->out),
                   CP_HTTP_DONE);
  assert_false(f->msg.keepalive_out);
  assert_false(f->msg.keepalive_in);
  out = out_str(f);
  assert_string_equal(out, "HTTP/1.1 200 OK\r\nVia: 1.0 chainproxy\r\n"
                           "Connection: close\r\n\r\nbody");
  free(out);
}


static void test_response_eof_body_rechunked(void **state) {
  fixture_t *f = *state;
  size_t n;

  assert_int_equal(feed_all(f, "HTTP/1.0 200 OK\r\n\r\nbody", &n),
                   CP_HTTP_MORE);
  assert_int_equal(cp_http_msg_feed(&f->msg, NULL, 0, &n, &f->out),
                   CP_HTTP_DONE);
  assert_true(f->msg.keepalive_out);
  assert_true(f->out.len > 4);
  assert_memory_equal(f->out.data + f->out.len - 14, "4\r\nbody\r\n0\r\n\r\n",
                      14);
}


static void test_response_truncated(void **state) {
  fixture_t *f = *state;
  size_t n;

  assert_int_equal(
      feed_all(f, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", &n),
      CP_HTTP_MORE);
  assert_int_equal(cp_http_msg_feed(&f->msg, NULL, 0, &n, &f->out),
                   CP_EUPCLOSED);
}


static void test_response_interim_then_final(void **state) {
  fixture_t *f = *state;
  size_t n;
  char *out;

  assert_int_equal(feed_all(f,
                            "HTTP/1.1 100 Continue\r\n\r\n"
                            "HTTP/1.1 204 No Content\r\n\r\n",
                            &n),
                   CP_HTTP_DONE);
  assert_int_equal(f->msg.status, 204);
  out = out_str(f);
  assert_string_equal(out, "HTTP/1.1 100 Continue\r\nVia: 1.1 chainproxy\r\n"
                           "\r\n"
                           "HTTP/1.1 204 No Content\r\nVia: 1.1 chainproxy\r\n"
                           "Connection: keep-alive\r\n\r\n");
  free(out);
}


static void test_response_to_head_has_no_body(void **state) {
  fixture_t *f = *state;
  size_t n;

  f->msg.req_method = HTTP_HEAD;
  assert_int_equal(
      feed_all(f, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", &n),
      CP_HTTP_DONE);
  assert_true(f->msg.keepalive_out);
  assert_non_null(strstr(f->out.data, "Content-Length: 1000\r\n"));
}


static void test_authority_and_hosts(void **state) {
  cp_http_target_t t;

  (void)state;
  assert_int_equal(cp_http_parse_authority("a.test", 6, 80, &t), 0);
  assert_int_equal(t.port, 80);
  assert_int_equal(cp_http_parse_authority("a.test", 6, 0, &t), CP_ETARGET);
  assert_int_equal(cp_http_parse_authority("[::1]:9", 7, 0, &t), 0);
  assert_int_equal(cp_http_parse_authority("[::1]x", 6, 0, &t), CP_ETARGET);
  assert_int_equal(cp_http_parse_authority("a..b:1", 6, 0, &t), CP_ETARGET);
  assert_int_equal(cp_http_parse_authority(":443", 4, 0, &t), CP_ETARGET);
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_connect_targets, setup_req,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_connect_leaves_tunnel_bytes,
                                      setup_req, teardown),
      cmocka_unit_test_setup_teardown(test_absolute_rewritten_to_origin_form,
                                      setup_req, teardown),
      cmocka_unit_test_setup_teardown(test_absolute_ipv6_and_default_port,
                                      setup_req, teardown),
      cmocka_unit_test_setup_teardown(test_bad_targets, setup_req, teardown),
      cmocka_unit_test_setup_teardown(test_origin_form_is_kept, setup_req,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_split_at_every_boundary, setup_req,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_content_length_body, setup_req,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_header_limit, setup_req, teardown),
      cmocka_unit_test_setup_teardown(test_malformed, setup_req, teardown),
      cmocka_unit_test_setup_teardown(test_field_name_whitespace, setup_req,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_response_field_name_whitespace,
                                      setup_resp, teardown),
      cmocka_unit_test_setup_teardown(test_response_chunked_kept_for_http11,
                                      setup_resp, teardown),
      cmocka_unit_test_setup_teardown(test_response_eof_body_for_http10_client,
                                      setup_resp, teardown),
      cmocka_unit_test_setup_teardown(test_response_eof_body_rechunked,
                                      setup_resp, teardown),
      cmocka_unit_test_setup_teardown(test_response_truncated, setup_resp,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_response_interim_then_final,
                                      setup_resp, teardown),
      cmocka_unit_test_setup_teardown(test_response_to_head_has_no_body,
                                      setup_resp, teardown),
      cmocka_unit_test(test_authority_and_hosts),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
