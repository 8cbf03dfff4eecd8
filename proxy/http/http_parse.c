#include "http/http_parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

enum { CB_NONE, CB_URL, CB_FIELD, CB_VALUE };

/* Hop-by-hop fields (RFC 9110 7.6.1 plus the proxy-specific ones) are never
 * forwarded; framing fields are rewritten by the proxy itself. */
static const char *const hop_fields[] = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
};


static int set_err(cp_http_msg_t *m, int err, const char *text) {
  if (m->err == 0) {
    m->err = err;
    m->err_text = text;
  }
  return -1;
}


static int head_append(cp_http_msg_t *m, const char *at, size_t len) {
  if (cp_buf_append(&m->head, at, len) != 0) {
    return set_err(m, CP_EHDRSIZE, "header fields exceed the size limit");
  }
  return 0;
}


static int on_message_begin(http_parser *p) {
  cp_http_msg_t *m = p->data;

  /* A 1xx interim response is followed by the final one on the same parser:
   * start its head afresh. */
  cp_buf_reset(&m->head);
  m->nfields = 0;
  m->url_off = 0;
  m->url_len = 0;
  m->last_cb = CB_NONE;
  m->head_complete = 0;
  m->interim = 0;
  m->body_bytes = 0;
  return 0;
}


static int on_url(http_parser *p, const char *at, size_t len) {
  cp_http_msg_t *m = p->data;

  if (m->last_cb != CB_URL) {
    m->url_off = m->head.len;
    m->url_len = 0;
    m->last_cb = CB_URL;
  }
  m->url_len += len;
  return head_append(m, at, len);
}


static int on_header_field(http_parser *p, const char *at, size_t len) {
  cp_http_msg_t *m = p->data;
  cp_http_field_t *f;

  if (m->last_cb != CB_FIELD) {
    if (m->nfields == CP_HTTP_MAX_FIELDS) {
      return set_err(m, CP_EHDRSIZE, "too many header fields");
    }
    if (m->nfields == m->fields_cap) {
      /* An idle connection's two messages hold 16 slots each, not 200. */
      size_t cap = m->fields_cap ? 2 * m->fields_cap : 16;
      cp_http_field_t *grown;

      cap = cap > CP_HTTP_MAX_FIELDS ? CP_HTTP_MAX_FIELDS : cap;
      grown = realloc(m->fields, cap * sizeof(*grown));
      if (grown == NULL) {
        return set_err(m, CP_ENOMEM, "out of memory");
      }
      m->fields = grown;
      m->fields_cap = cap;
    }
    f = &m->fields[m->nfields++];
    f->name_off = (uint32_t)m->head.len;
    f->name_len = 0;
    f->value_off = (uint32_t)m->head.len;
    f->value_len = 0;
    m->last_cb = CB_FIELD;
  }
  m->fields[m->nfields - 1].name_len += (uint32_t)len;
  return head_append(m, at, len);
}


static int on_header_value(http_parser *p, const char *at, size_t len) {
  cp_http_msg_t *m = p->data;
  cp_http_field_t *f = &m->fields[m->nfields - 1];

  if (m->last_cb != CB_VALUE) {
    f->value_off = (uint32_t)m->head.len;
    f->value_len = 0;
    m->last_cb = CB_VALUE;
  }
  f->value_len += (uint32_t)len;
  return head_append(m, at, len);
}


static const char *field_name(const cp_http_msg_t *m,
                              const cp_http_field_t *f) {
  return m->head.data + f->name_off;
}


static const char *field_value(const cp_http_msg_t *m,
                               const cp_http_field_t *f) {
  return m->head.data + f->value_off;
}


/* 1 if token appears in the comma-separated list of any field called
 * field (case-insensitive), e.g. "upgrade" in Connection. */
static int field_has_token(const cp_http_msg_t *m, const char *field,
                           const char *name, size_t name_len) {
  size_t i, j, start;

  for (i = 0; i < m->nfields; i++) {
    const cp_http_field_t *f = &m->fields[i];
    const char *v = field_value(m, f);

    if (!cp_str_ieq(field_name(m, f), f->name_len, field)) {
      continue;
    }
    start = 0;
    for (j = 0; j <= f->value_len; j++) {
      if (j == f->value_len || v[j] == ',') {
        size_t a = start, b = j;

        while (a < b && (v[a] == ' ' || v[a] == '\t')) {
          a++;
        }
        while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t')) {
          b--;
        }
        if (b - a == name_len && strncasecmp(v + a, name, name_len) == 0) {
          return 1;
        }
        start = j + 1;
      }
    }
  }
  return 0;
}


static int is_hop_field(const cp_http_msg_t *m, const cp_http_field_t *f) {
  size_t i;

  for (i = 0; i < CP_ARRAY_SIZE(hop_fields); i++) {
    if (cp_str_ieq(field_name(m, f), f->name_len, hop_fields[i])) {
      return 1;
    }
  }
  return field_has_token(m, "connection", field_name(m, f), f->name_len);
}


int cp_http_msg_is_hop_field(const cp_http_msg_t *m, size_t i) {
  return i < m->nfields && is_hop_field(m, &m->fields[i]);
}


const char *cp_http_msg_field_at(const cp_http_msg_t *m, size_t i,
                                 size_t *name_len, const char **value,
                                 size_t *value_len) {
  const cp_http_field_t *f = &m->fields[i];

  *name_len = f->name_len;
  *value = field_value(m, f);
  *value_len = f->value_len;
  return field_name(m, f);
}


const char *cp_http_reason(int status) {
  return http_status_str((enum http_status)status);
}


/* A WebSocket handshake (RFC 6455 4.1): Upgrade names websocket and
 * Connection lists upgrade. Other upgrades (h2c) are dropped with the
 * hop-by-hop fields, which refuses them cleanly: the origin answers the
 * request as plain HTTP/1.1. */
static int asks_websocket(const cp_http_msg_t *m) {
  return field_has_token(m, "upgrade", "websocket", 9) &&
         field_has_token(m, "connection", "upgrade", 7);
}


/* Connection and Upgrade for a WebSocket switch, which a proxy must pass
 * on although both are hop-by-hop. */
static int write_upgrade_fields(cp_http_msg_t *m) {
  size_t len = 0;
  const char *v = cp_http_msg_field(m, "upgrade", &len);

  if (cp_buf_appendf(m->out, "Connection: Upgrade\r\nUpgrade: %.*s\r\n",
                     (int)len, v ? v : "websocket") != 0) {
    return set_err(m, CP_ENOMEM, "output buffer limit reached");
  }
  return 0;
}


const char *cp_http_msg_field(const cp_http_msg_t *m, const char *name,
                              size_t *len) {
  size_t i;

  for (i = 0; i < m->nfields; i++) {
    if (cp_str_ieq(field_name(m, &m->fields[i]), m->fields[i].name_len, name)) {
      *len = m->fields[i].value_len;
      return field_value(m, &m->fields[i]);
    }
  }
  *len = 0;
  return NULL;
}


const char *cp_http_msg_method_name(const cp_http_msg_t *m) {
  return http_method_str((enum http_method)m->method);
}


const char *cp_http_msg_url(const cp_http_msg_t *m) {
  return m->head.data == NULL ? "" : m->head.data + m->url_off;
}


static int set_host(cp_http_target_t *t, const char *host, size_t len) {
  unsigned char addr[16];

  if (len == 0 || len > CP_HOST_MAX) {
    return CP_ETARGET;
  }
  memcpy(t->host, host, len);
  t->host[len] = '\0';
  if (inet_pton(AF_INET6, t->host, addr) == 1) {
    t->host_kind = CP_HOST_IPV6;
  } else if (inet_pton(AF_INET, t->host, addr) == 1) {
    t->host_kind = CP_HOST_IPV4;
  } else if (cp_host_is_valid(t->host)) {
    t->host_kind = CP_HOST_NAME;
  } else {
    return CP_ETARGET;
  }
  return 0;
}


static int parse_port(const char *s, size_t len, uint16_t *out) {
  unsigned long v = 0;
  size_t i;

  if (len == 0 || len > 5) {
    return CP_ETARGET;
  }
  for (i = 0; i < len; i++) {
    if (!isdigit((unsigned char)s[i])) {
      return CP_ETARGET;
    }
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v == 0 || v > 65535) {
    return CP_ETARGET;
  }
  *out = (uint16_t)v;
  return 0;
}


int cp_http_parse_authority(const char *s, size_t len, uint16_t default_port,
                            cp_http_target_t *out) {
  const char *host = s;
  size_t host_len;
  const char *colon = NULL;
  const char *end = s + len;
  int rc;

  memset(out, 0, sizeof(*out));
  if (len == 0) {
    return CP_ETARGET;
  }
  if (s[0] == '[') {
    const char *close = memchr(s, ']', len);

    if (close == NULL) {
      return CP_ETARGET;
    }
    host = s + 1;
    host_len = (size_t)(close - host);
    if (close + 1 < end) {
      if (close[1] != ':') {
        return CP_ETARGET;
      }
      colon = close + 1;
    }
    rc = set_host(out, host, host_len);
    if (rc == 0 && out->host_kind != CP_HOST_IPV6) {
      rc = CP_ETARGET;
    }
  } else {
    colon = memchr(s, ':', len);
    host_len = colon ? (size_t)(colon - s) : len;
    if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
      return CP_ETARGET; /* a bare IPv6 address needs brackets */
    }
    rc = set_host(out, host, host_len);
  }
  if (rc != 0) {
    return rc;
  }
  if (colon == NULL) {
    if (default_port == 0) {
      return CP_ETARGET;
    }
    out->port = default_port;
    return 0;
  }
  return parse_port(colon + 1, (size_t)(end - colon - 1), &out->port);
}


/* Fills m->target and the origin-form slice from the request target. */
static int parse_request_target(cp_http_msg_t *m) {
  const char *url;
  struct http_parser_url u;
  int rc;

  if (m->url_len == 0) {
    return CP_ETARGET;
  }
  url = m->head.data + m->url_off;
  if (m->method == HTTP_CONNECT) {
    rc = cp_http_parse_authority(url, m->url_len, 0, &m->target);
    m->target.form = CP_TARGET_AUTHORITY;
    return rc;
  }
  if (url[0] == '/') {
    m->target.form = CP_TARGET_ORIGIN;
    m->origin_off = m->url_off;
    m->origin_len = m->url_len;
    return 0;
  }
  if (m->url_len == 1 && url[0] == '*') {
    m->target.form = CP_TARGET_ASTERISK;
    m->origin_off = m->url_off;
    m->origin_len = 1;
    return 0;
  }
  http_parser_url_init(&u);
  if (http_parser_parse_url(url, m->url_len, 0, &u) != 0 ||
      !(u.field_set & (1 << UF_SCHEMA)) || !(u.field_set & (1 << UF_HOST))) {
    return CP_ETARGET;
  }
  if (!cp_str_ieq(url + u.field_data[UF_SCHEMA].off,
                  u.field_data[UF_SCHEMA].len, "http")) {
    return CP_ETARGET;
  }
  rc = set_host(&m->target, url + u.field_data[UF_HOST].off,
                u.field_data[UF_HOST].len);
  if (rc != 0) {
    return rc;
  }
  m->target.port = 80;
  if (u.field_set & (1 << UF_PORT)) {
    if (u.port == 0) {
      return CP_ETARGET;
    }
    m->target.port = u.port;
  }
  m->target.form = CP_TARGET_ABSOLUTE;
  if (u.field_set & (1 << UF_PATH)) {
    m->origin_off = m->url_off + u.field_data[UF_PATH].off;
    m->origin_len = m->url_len - u.field_data[UF_PATH].off;
    if (u.field_set & (1 << UF_FRAGMENT)) {
      /* A fragment is never sent on the wire; drop it with its '#'. */
      m->origin_len =
          u.field_data[UF_FRAGMENT].off - 1 - u.field_data[UF_PATH].off;
    }
  } else {
    m->origin_off = 0;
    m->origin_len = 0; /* written as "/" */
  }
  return 0;
}


static int out_append(cp_http_msg_t *m, const void *p, size_t len) {
  if (cp_buf_append(m->out, p, len) != 0) {
    return set_err(m, CP_ENOMEM, "output buffer limit reached");
  }
  return 0;
}


/* Copies every end-to-end field; hop-by-hop and framing fields are skipped,
 * and so is Host when the proxy writes its own. */
static int write_fields(cp_http_msg_t *m, int skip_host, int keep_cl) {
  size_t i;

  for (i = 0; i < m->nfields; i++) {
    const cp_http_field_t *f = &m->fields[i];
    const char *name = field_name(m, f);

    if (is_hop_field(m, f) ||
        (skip_host && cp_str_ieq(name, f->name_len, "host")) ||
        (!keep_cl && cp_str_ieq(name, f->name_len, "content-length"))) {
      continue;
    }
    if (out_append(m, name, f->name_len) || out_append(m, ": ", 2) ||
        out_append(m, field_value(m, f), f->value_len) ||
        out_append(m, "\r\n", 2)) {
      return -1;
    }
  }
  return 0;
}


static int write_request_head(cp_http_msg_t *m) {
  http_parser *p = &m->parser;
  int absolute = m->target.form == CP_TARGET_ABSOLUTE;
  int chunked = (p->flags & F_CHUNKED) != 0;

  m->chunk_out = chunked;
  if (cp_buf_appendf(m->out, "%s ", http_method_str(p->method)) != 0) {
    return set_err(m, CP_ENOMEM, "output buffer limit reached");
  }
  if (m->absolute_out && absolute) {
    /* To a parent proxy: the absolute form, the scheme and authority as
     * parsed (RFC 9112 3.2.2). */
    char authority[CP_HOSTPORT_MAX];

    cp_hostport_format(authority, sizeof(authority), m->target.host,
                       m->target.port == 80 ? 0 : m->target.port);
    if (cp_buf_appendf(m->out, "http://%s", authority) != 0) {
      return set_err(m, CP_ENOMEM, "output buffer limit reached");
    }
  }
  if (m->origin_len == 0) {
    if (out_append(m, "/", 1)) {
      return -1;
    }
  } else if (out_append(m, m->head.data + m->origin_off, m->origin_len)) {
    return -1;
  }
  if (out_append(m, " HTTP/1.1\r\n", 11)) {
    return -1;
  }
  /* RFC 9112 3.2.2: a proxy replaces Host with the absolute target's
   * authority. */
  if (absolute) {
    char authority[CP_HOSTPORT_MAX];

    cp_hostport_format(authority, sizeof(authority), m->target.host,
                       m->target.port == 80 ? 0 : m->target.port);
    if (cp_buf_appendf(m->out, "Host: %s\r\n", authority) != 0) {
      return set_err(m, CP_ENOMEM, "output buffer limit reached");
    }
  }
  if (write_fields(m, absolute, !chunked)) {
    return -1;
  }
  if (m->proxy_auth != NULL &&
      cp_buf_appendf(m->out, "Proxy-Authorization: %s\r\n", m->proxy_auth) !=
          0) {
    return set_err(m, CP_ENOMEM, "output buffer limit reached");
  }
  m->ws_upgrade = asks_websocket(m);
  if (m->ws_upgrade && write_upgrade_fields(m) != 0) {
    return -1;
  }
  if (cp_buf_appendf(m->out, "Via: %u.%u chainproxy\r\n%s\r\n", p->http_major,
                     p->http_minor,
                     chunked ? "Transfer-Encoding: chunked\r\n" : "") != 0) {
    return set_err(m, CP_ENOMEM, "output buffer limit reached");
  }
  return 0;
}


/* Returns 1 when the response has no body (http-parser's skip-body signal). */
static int write_response_head(cp_http_msg_t *m) {
  http_parser *p = &m->parser;
  int status = p->status_code;
  int no_body = m->req_method == HTTP_HEAD || status / 100 == 1 ||
                status == 204 || status == 304;
  int has_cl = (p->flags & F_CONTENTLENGTH) != 0 && !(p->flags & F_CHUNKED);
  int framed;

  m->interim = status / 100 == 1 && status != 101;
  if (status == 101 && !m->ws_upgrade) {
    /* Only a WebSocket handshake is passed on; any other switch would
     * leave the client speaking a protocol it never asked for. */
    return set_err(m, CP_EHTTP,
                   "101 Switching Protocols to a request that "
                   "asked for no WebSocket upgrade");
  }
  if (m->body_only) {
    /* The head is read from the fields, the body comes out decoded. */
    return no_body && m->req_method == HTTP_HEAD ? 1 : 0;
  }
  m->chunk_out = !no_body && !has_cl && m->peer_http11;
  framed = no_body || has_cl || m->chunk_out;
  m->keepalive_out = m->want_keepalive && framed && status != 101;
  if (cp_buf_appendf(m->out, "HTTP/1.1 %d ", status) != 0 ||
      (m->url_len > 0 &&
       out_append(m, m->head.data + m->url_off, m->url_len)) ||
      out_append(m, "\r\n", 2)) {
    return set_err(m, CP_ENOMEM, "output buffer limit reached");
  }
  if (write_fields(m, 0, has_cl || no_body)) {
    return -1;
  }
  if (cp_buf_appendf(m->out, "Via: %u.%u chainproxy\r\n", p->http_major,
                     p->http_minor) != 0) {
    return set_err(m, CP_ENOMEM, "output buffer limit reached");
  }
  if (status == 101) {
    if (write_upgrade_fields(m) != 0) {
      return -1;
    }
  } else if (!m->interim &&
             cp_buf_appendf(m->out, "%sConnection: %s\r\n",
                            m->chunk_out ? "Transfer-Encoding: chunked\r\n"
                                         : "",
                            m->keepalive_out ? "keep-alive" : "close") != 0) {
    return set_err(m, CP_ENOMEM, "output buffer limit reached");
  }
  if (out_append(m, "\r\n", 2)) {
    return -1;
  }
  return no_body && m->req_method == HTTP_HEAD ? 1 : 0;
}


/* RFC 9112 5.1: no whitespace between a field name and its colon; a
 * server must refuse such a request (400) and a proxy must not pass such
 * a response on. http-parser built non-strict (Debian's) takes SP as a
 * name character and even frames "Content-Length : 5" as Content-Length,
 * while an origin that ignores the field frames the body another way:
 * a smuggling shape. SP inside a name ("X-A b") is no token either
 * (RFC 9110 5.1); HTAB never gets this far (http-parser refuses it). */
static int check_field_names(cp_http_msg_t *m) {
  size_t i;

  for (i = 0; i < m->nfields; i++) {
    const cp_http_field_t *f = &m->fields[i];

    if (f->name_len > 0 && field_name(m, f)[f->name_len - 1] == ' ') {
      set_err(m, CP_EFIELDWS,
              "whitespace between a header field name and its colon "
              "(RFC 9112 5.1)");
    } else if (memchr(field_name(m, f), ' ', f->name_len) != NULL) {
      set_err(m, CP_EFIELDWS,
              "whitespace inside a header field name (RFC 9110 5.1)");
    } else {
      continue;
    }
    m->err_field = i;
    return -1;
  }
  return 0;
}


static int on_headers_complete(http_parser *p) {
  cp_http_msg_t *m = p->data;
  int rc;

  if (check_field_names(m) != 0) {
    return -1;
  }
  m->head_complete = 1;
  m->method = p->method;
  m->status = p->status_code;
  m->http_major = p->http_major;
  m->http_minor = p->http_minor;
  m->keepalive_in = http_should_keep_alive(p) != 0;
  m->content_length = (p->flags & F_CONTENTLENGTH) && !(p->flags & F_CHUNKED)
                          ? p->content_length
                          : UINT64_MAX;
  if (m->kind == CP_HTTP_RESPONSE) {
    return write_response_head(m);
  }
  m->is_connect = p->method == HTTP_CONNECT;
  rc = parse_request_target(m);
  if (rc != 0) {
    return set_err(m, rc, "bad request target");
  }
  if (m->is_connect || m->body_only) {
    return 0; /* nothing is forwarded: a tunnel, or answered here */
  }
  if (m->on_target != NULL) {
    m->on_target(m, m->on_target_arg);
  }
  return write_request_head(m) == 0 ? 0 : -1;
}


static int on_body(http_parser *p, const char *at, size_t len) {
  cp_http_msg_t *m = p->data;

  m->body_bytes += len;
  if (m->capture != NULL) {
    size_t room = m->capture->limit - m->capture->len;

    if (cp_buf_append(m->capture, at, len < room ? len : room) != 0 ||
        len > room) {
      m->capture_cut = 1;
    }
  }
  if (m->chunk_out) {
    if (cp_buf_appendf(m->out, "%zx\r\n", len) != 0) {
      return set_err(m, CP_ENOMEM, "output buffer limit reached");
    }
    if (out_append(m, at, len) || out_append(m, "\r\n", 2)) {
      return -1;
    }
    return 0;
  }
  return out_append(m, at, len);
}


static int on_message_complete(http_parser *p) {
  cp_http_msg_t *m = p->data;

  if (m->chunk_out && out_append(m, "0\r\n\r\n", 5)) {
    return -1;
  }
  if (m->kind == CP_HTTP_RESPONSE && m->interim) {
    return 0; /* keep parsing: the final response follows */
  }
  m->keepalive_in = http_should_keep_alive(p) != 0;
  m->msg_complete = 1;
  /* One exchange at a time: stop here so the next message waits until this
   * one has been answered. */
  http_parser_pause(p, 1);
  return 0;
}


void cp_http_msg_init(cp_http_msg_t *m, cp_http_kind_e kind,
                      size_t head_limit) {
  memset(m, 0, sizeof(*m));
  m->kind = kind;
  m->head_limit = head_limit;
  cp_buf_init(&m->head, head_limit);
  http_parser_settings_init(&m->settings);
  m->settings.on_message_begin = on_message_begin;
  m->settings.on_url = on_url;
  m->settings.on_status = on_url;
  m->settings.on_header_field = on_header_field;
  m->settings.on_header_value = on_header_value;
  m->settings.on_headers_complete = on_headers_complete;
  m->settings.on_body = on_body;
  m->settings.on_message_complete = on_message_complete;
  cp_http_msg_reset(m);
}


void cp_http_msg_set_capture(cp_http_msg_t *m, cp_buf_t *capture) {
  m->capture = capture;
  m->capture_cut = 0;
}


void cp_http_msg_reset(cp_http_msg_t *m) {
  http_parser_init(&m->parser,
                   m->kind == CP_HTTP_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE);
  m->parser.data = m;
  cp_buf_reset(&m->head);
  m->nfields = 0;
  m->url_off = m->url_len = 0;
  m->origin_off = m->origin_len = 0;
  m->last_cb = CB_NONE;
  memset(&m->target, 0, sizeof(m->target));
  m->head_complete = m->msg_complete = 0;
  m->keepalive_in = m->keepalive_out = 0;
  m->chunk_out = m->interim = m->is_connect = m->ws_upgrade = 0;
  m->method = m->status = 0;
  m->body_bytes = 0;
  if (m->capture != NULL) {
    cp_buf_reset(m->capture);
  }
  m->capture_cut = 0;
  m->scan_prev = 0;
  m->scan_eol = 0;
  m->scan_lines = 0;
  m->scan_done = 0;
  m->scan_text = 0;
  m->content_length = UINT64_MAX;
  m->absolute_out = 0;
  m->proxy_auth = NULL;
  m->err = 0;
  m->err_field = 0;
  m->err_text = NULL;
}


void cp_http_msg_free(cp_http_msg_t *m) {
  cp_buf_free(&m->head);
  free(m->fields);
  m->fields = NULL;
  m->nfields = m->fields_cap = 0;
}


/* A request head with a bare LF or an obs-fold line (one that starts
 * with SP or HTAB) is refused (RFC 9112 2.2, 5.2): http-parser would
 * accept and normalise both, and proxies that disagree about them are
 * how requests are smuggled. Scans only up to the end of the head. */
static int scan_head(cp_http_msg_t *m, const char *data, size_t len) {
  size_t i;

  for (i = 0; i < len && !m->scan_done; i++) {
    char c = data[i];

    if (c == '\n') {
      if (m->scan_prev != '\r') {
        return set_err(m, CP_EHTTP, "bare LF in the request head");
      }
      m->scan_eol++;
      m->scan_lines++;
      m->scan_done = m->scan_eol == 2 && m->scan_text;
    } else if (c != '\r') {
      m->scan_text = 1;
      if (m->scan_eol == 1 && m->scan_lines > 0 && (c == ' ' || c == '\t')) {
        return set_err(m, CP_EHTTP,
                       "obs-fold (a header line continued on the next "
                       "line) in the request head");
      }
      m->scan_eol = 0;
    }
    m->scan_prev = c;
  }
  return 0;
}


int cp_http_msg_feed(cp_http_msg_t *m, const char *data, size_t len,
                     size_t *consumed, cp_buf_t *out) {
  size_t n;
  enum http_errno e;

  *consumed = 0;
  if (m->msg_complete) {
    return CP_HTTP_DONE;
  }
  if (m->err != 0) {
    return m->err;
  }
  if (m->kind == CP_HTTP_REQUEST && data != NULL &&
      scan_head(m, data, len) != 0) {
    return m->err;
  }
  m->out = out;
  n = http_parser_execute(&m->parser, &m->settings, data, len);
  m->out = NULL;
  *consumed = n;
  e = HTTP_PARSER_ERRNO(&m->parser);
  if (m->msg_complete) {
    return CP_HTTP_DONE;
  }
  if (m->err != 0) {
    return m->err;
  }
  if (len == 0) {
    /* EOF before the message ended (a close-delimited body ends in
     * on_message_complete above). */
    set_err(m, CP_EUPCLOSED, "connection closed before the message ended");
  } else if (e == HPE_HEADER_OVERFLOW) {
    set_err(m, CP_EHDRSIZE, "header fields exceed the size limit");
  } else if (e != HPE_OK) {
    set_err(m, CP_EHTTP, http_errno_description(e));
  }
  return m->err != 0 ? m->err : CP_HTTP_MORE;
}
