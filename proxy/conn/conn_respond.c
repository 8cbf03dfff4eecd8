#include "conn/conn_respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/esc.h"
#include "base/host.h"


void cp_conn_emit_request(cp_conn_t *c, int status, const char *outcome) {
  cp_event_base_t b = cp_conn_base(c);
  cp_event_request_t r;
  char url[2048];
  char path[2048];
  char authority[CP_HOSTPORT_MAX];
  uint64_t now = cp_conn_now(c);

  if (!c->http.head_seen || (c->tunnel && !c->intercept)) {
    return;
  }
  memset(&r, 0, sizeof(r));
  if (c->intercept && !c->http.req.is_connect) {
    /* The client sent origin-form inside the tunnel: the event names the
     * full URL it asked for. */
    cp_hostport_format(authority, sizeof(authority), c->target.host,
                       c->target.port == 443 ? 0 : c->target.port);
    snprintf(url, sizeof(url), "https://%s%.*s", authority,
             (int)c->http.req.url_len, cp_http_msg_url(&c->http.req));
  } else if (c->transparent && !c->http.req.is_connect) {
    /* Redirected plain HTTP came in origin form: named by its Host. */
    cp_hostport_format(authority, sizeof(authority), c->target.host,
                       c->target.port == 80 ? 0 : c->target.port);
    snprintf(url, sizeof(url), "http://%s%.*s", authority,
             (int)c->http.req.url_len, cp_http_msg_url(&c->http.req));
  } else {
    snprintf(url, sizeof(url), "%.*s", (int)c->http.req.url_len,
             cp_http_msg_url(&c->http.req));
  }
  if (c->http.req.origin_len == 0) {
    snprintf(path, sizeof(path), "/");
  } else {
    snprintf(path, sizeof(path), "%.*s", (int)c->http.req.origin_len,
             c->http.req.head.data + c->http.req.origin_off);
  }
  r.method = cp_http_msg_method_name(&c->http.req);
  r.url = url;
  r.path = path;
  r.status = status;
  r.http_minor = (int)c->http.req.http_minor;
  r.bytes_from_client = c->http.req.body_bytes;
  r.bytes_to_client = c->http.resp.body_bytes;
  r.ttfb_ms = c->http.resp_started ? c->http.t_first_byte - c->http.t_req : 0;
  r.total_ms = now - c->http.t_req;
  r.outcome = outcome;
  r.scheme = c->intercept ? "https" : "http";
  r.send_ms = c->http.req_done && c->http.t_req_done >= c->http.t_req
                  ? (int64_t)(c->http.t_req_done - c->http.t_req)
                  : -1;
  r.server_ip = c->upstream_ok && c->parent == NULL ? c->dial.server_ip : NULL;
  if (c->http.req.capture != NULL) {
    r.bodies = 1;
    r.req_body = c->http.req_body.data;
    r.req_body_len = c->http.req_body.len;
    r.req_body_cut = c->http.req.capture_cut;
    r.resp_body = c->http.resp_body.data;
    r.resp_body_len = c->http.resp_body.len;
    r.resp_body_cut = c->http.resp.capture_cut;
  }
  c->env->stats->v[CP_STAT_REQUESTS]++;
  cp_conn_log(c, CP_LOG_INFO, "%s %s -> %d (%llu bytes, %llu ms)", r.method,
              url, status, (unsigned long long)r.bytes_to_client,
              (unsigned long long)r.total_ms);
  cp_event_request(c->env->events, &b, &r);
}


static void respond(cp_conn_t *c, int status, const char *code, const char *msg,
                    const char *type, const char *body, const char *detail);


void cp_conn_respond(cp_conn_t *c, int status, const char *code,
                     const char *msg, const char *detail) {
  respond(c, status, code, msg, "text/plain; charset=utf-8", NULL, detail);
}


void cp_conn_respond_page(cp_conn_t *c, int status, const char *code,
                          const char *msg, const char *type, const char *body) {
  respond(c, status, code, msg, type, body, NULL);
}


int cp_conn_error_body(cp_buf_t *b, const char *msg, const char *detail) {
  size_t mlen = strlen(msg), dlen = detail ? strlen(detail) : 0;
  char *tmp = malloc(CP_ESC_SIZE(mlen > dlen ? mlen : dlen));
  int rc = -1;

  if (tmp == NULL) {
    return rc;
  }
  /* The message is one line; the detail is lines chainproxy built, each
   * field escaped where it was built (cp_verify_format), and escaped here
   * once more for what is left (a control, a bidi character). */
  cp_esc_term(tmp, CP_ESC_SIZE(mlen), msg, mlen, 0);
  if (cp_buf_appendf(b, "chainproxy: %s\n", tmp) == 0) {
    cp_esc_term(tmp, CP_ESC_SIZE(dlen), detail ? detail : "", dlen,
                CP_ESC_KEEP_LF);
    rc = cp_buf_append_str(b, tmp);
  }
  free(tmp);
  return rc;
}


/* body: the whole body; NULL: "chainproxy: msg" and detail. */
static void respond(cp_conn_t *c, int status, const char *code, const char *msg,
                    const char *type, const char *body, const char *detail) {
  cp_event_base_t b = cp_conn_base(c);
  cp_buf_t resp, text;
  size_t body_len = 0;

  if (c->state == CP_CONN_CLOSING) {
    return;
  }
  cp_conn_log(c, CP_LOG_WARN, "%d %s", status, msg);
  cp_event_error(c->env->events, &b, code, msg, c->action, status);
  cp_conn_emit_request(c, status, code);
  cp_conn_set_reason(c, code);
  if (c->resp_sent) {
    /* Part of a response is out already: all we can do is cut it off. */
    cp_conn_go_state(c, CP_CONN_CLOSING);
    return;
  }
  cp_buf_init(&text, 1 << 20);
  if (body != NULL) {
    body_len = strlen(body);
  } else if (cp_conn_error_body(&text, msg, detail) == 0) {
    body = text.data; /* not NUL-terminated: body_len counts */
    body_len = text.len;
  }
  cp_buf_init(&resp, body_len + 1024);
  if (body != NULL &&
      cp_buf_appendf(&resp,
                     "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: close\r\n"
                     "X-Chainproxy-Error: %s\r\n"
                     "%s"
                     "Via: 1.1 chainproxy\r\n"
                     "\r\n",
                     status, http_status_str((enum http_status)status), type,
                     body_len, code,
                     c->http.extra_header ? c->http.extra_header : "") == 0 &&
      cp_buf_append(&resp, body, body_len) == 0) {
    cp_conn_set_resp_sent(c, 1);
    cp_leg_write(&c->client, resp.data, resp.len);
  }
  cp_buf_free(&resp);
  cp_buf_free(&text);
  cp_conn_go_state(c, CP_CONN_CLOSING);
}


void cp_conn_respond_error(cp_conn_t *c, int status, const char *code,
                           const char *fmt, ...) {
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  cp_conn_respond(c, status, code, msg, NULL);
}
