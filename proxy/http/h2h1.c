#include "http/h2h1.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

/* Fields with no meaning across the bridge: HTTP/1.1's connection-
 * specific fields (RFC 9113 8.2.2) and Host, written from :authority. */
static const char *const dropped[] = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "host",
    "http2-settings",
};


static int is_dropped(const char *name, size_t len) {
  size_t k;

  for (k = 0; k < CP_ARRAY_SIZE(dropped); k++) {
    if (strlen(dropped[k]) == len && strncasecmp(name, dropped[k], len) == 0) {
      return 1;
    }
  }
  return 0;
}


static const char *fname(const cp_h2_head_t *h, int i) {
  return (const char *)h->b.data + h->f[i].no;
}


static const char *fvalue(const cp_h2_head_t *h, int i) {
  return (const char *)h->b.data + h->f[i].vo;
}


static int has_field(const cp_h2_head_t *h, const char *name) {
  int i;

  for (i = 0; i < h->n; i++) {
    if (h->f[i].nl == strlen(name) &&
        strncasecmp(fname(h, i), name, h->f[i].nl) == 0) {
      return 1;
    }
  }
  return 0;
}


static int is_cookie(const cp_h2_head_t *h, int i) {
  return h->f[i].nl == 6 && strncasecmp(fname(h, i), "cookie", 6) == 0;
}


/* Every regular field as "name: value" lines. HTTP/2 splits Cookie into
 * crumbs; HTTP/1.1 wants one line, joined with "; " (RFC 9113 8.2.3). */
static int write_fields(const cp_h2_head_t *h, cp_buf_t *out) {
  int i, cookies = 0;

  for (i = 0; i < h->n; i++) {
    const char *n = fname(h, i);
    size_t nl = h->f[i].nl;

    if (nl == 0 || n[0] == ':' || is_dropped(n, nl) || is_cookie(h, i)) {
      continue;
    }
    if (cp_buf_appendf(out, "%.*s: %.*s\r\n", (int)nl, n, (int)h->f[i].vl,
                       fvalue(h, i)) != 0) {
      return CP_ENOMEM;
    }
  }
  for (i = 0; i < h->n; i++) {
    if (is_cookie(h, i) &&
        cp_buf_appendf(out, "%s%.*s", cookies++ ? "; " : "Cookie: ",
                       (int)h->f[i].vl, fvalue(h, i)) != 0) {
      return CP_ENOMEM;
    }
  }
  if (cookies > 0 && cp_buf_append(out, "\r\n", 2) != 0) {
    return CP_ENOMEM;
  }
  return 0;
}


int cp_h2h1_request_head(const cp_h2_head_t *req, int has_body, cp_buf_t *out,
                         int *chunked, const char **err) {
  char method[32], path[8192], authority[CP_HOSTPORT_MAX];

  *chunked = 0;
  cp_h2_head_get(req, ":method", method, sizeof(method));
  cp_h2_head_get(req, ":path", path, sizeof(path));
  cp_h2_head_get(req, ":authority", authority, sizeof(authority));
  if (authority[0] == '\0') {
    cp_h2_head_get(req, "host", authority, sizeof(authority));
  }
  if (strcmp(method, "CONNECT") == 0) {
    *err = "CONNECT over HTTP/2 (a tunnel or WebSocket) cannot be bridged "
           "to an HTTP/1.1 origin";
    return CP_EHTTP;
  }
  if (method[0] == '\0' || path[0] == '\0' || authority[0] == '\0') {
    *err = "the request lacks :method, :path or :authority";
    return CP_EHTTP;
  }
  *chunked = has_body && !has_field(req, "content-length");
  if (cp_buf_appendf(out, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path,
                     authority) != 0 ||
      write_fields(req, out) != 0 ||
      cp_buf_appendf(out, "%sVia: 2 chainproxy\r\n\r\n",
                     *chunked ? "Transfer-Encoding: chunked\r\n" : "") != 0) {
    return CP_ENOMEM;
  }
  return 0;
}


int cp_h2h1_response_head(const cp_h2_head_t *resp, int no_body,
                          int head_request, int keepalive, cp_buf_t *out,
                          int *chunked) {
  char st[8];
  int status, bodiless, has_cl;

  cp_h2_head_get(resp, ":status", st, sizeof(st));
  status = atoi(st);
  if (status < 100 || status > 999) {
    return CP_EHTTP;
  }
  bodiless =
      head_request || status / 100 == 1 || status == 204 || status == 304;
  has_cl = has_field(resp, "content-length");
  *chunked = !bodiless && !no_body && !has_cl;
  if (cp_buf_appendf(out, "HTTP/1.1 %d %s\r\n", status,
                     cp_http_reason(status)) != 0 ||
      write_fields(resp, out) != 0 ||
      cp_buf_appendf(out, "%s%sVia: 2 chainproxy\r\nConnection: %s\r\n\r\n",
                     *chunked ? "Transfer-Encoding: chunked\r\n" : "",
                     no_body && !bodiless && !has_cl ? "Content-Length: 0\r\n"
                                                     : "",
                     keepalive ? "keep-alive" : "close") != 0) {
    return CP_ENOMEM;
  }
  return 0;
}


/* Adds name (lower-cased, as HTTP/2 requires) and value. */
static int add_lower(cp_h2_head_t *h, const char *name, size_t nl,
                     const char *value, size_t vl) {
  char low[256];
  size_t i;

  if (nl >= sizeof(low)) {
    return CP_EHDRSIZE;
  }
  for (i = 0; i < nl; i++) {
    low[i] = (char)tolower((unsigned char)name[i]);
  }
  return cp_h2_head_add(h, (const uint8_t *)low, nl, (const uint8_t *)value,
                        vl);
}


static int add_str(cp_h2_head_t *h, const char *name, const char *value) {
  return cp_h2_head_add(h, (const uint8_t *)name, strlen(name),
                        (const uint8_t *)value, strlen(value));
}


int cp_h2h1_head_from_msg(const cp_http_msg_t *m, const char *scheme,
                          cp_h2_head_t *out) {
  const char *v;
  size_t i, nl, vl;
  int rc;

  if (m->kind == CP_HTTP_RESPONSE) {
    char st[8];

    snprintf(st, sizeof(st), "%d", m->status);
    rc = add_str(out, ":status", st);
  } else {
    const char *host = cp_http_msg_field(m, "host", &vl);
    char authority[CP_HOSTPORT_MAX], path[8192];

    if (m->target.form == CP_TARGET_ABSOLUTE) {
      cp_hostport_format(authority, sizeof(authority), m->target.host,
                         m->target.port == 443 ? 0 : m->target.port);
    } else if (host != NULL && vl > 0 && vl < sizeof(authority)) {
      memcpy(authority, host, vl);
      authority[vl] = '\0';
    } else {
      return CP_EHTTP;
    }
    snprintf(path, sizeof(path), "%.*s", m->origin_len ? (int)m->origin_len : 1,
             m->origin_len ? m->head.data + m->origin_off : "/");
    rc = add_str(out, ":method", cp_http_msg_method_name(m));
    rc = rc ? rc : add_str(out, ":scheme", scheme);
    rc = rc ? rc : add_str(out, ":authority", authority);
    rc = rc ? rc : add_str(out, ":path", path);
  }
  for (i = 0; rc == 0 && i < m->nfields; i++) {
    const char *n = cp_http_msg_field_at(m, i, &nl, &v, &vl);

    if (cp_http_msg_is_hop_field(m, i) || is_dropped(n, nl)) {
      continue;
    }
    rc = add_lower(out, n, nl, v, vl);
  }
  return rc;
}


int cp_h2h1_chunk(cp_buf_t *out, const char *data, size_t len) {
  if (len == 0) {
    return 0;
  }
  if (cp_buf_appendf(out, "%zx\r\n", len) != 0 ||
      cp_buf_append(out, data, len) != 0 || cp_buf_append(out, "\r\n", 2)) {
    return CP_ENOMEM;
  }
  return 0;
}


int cp_h2h1_last_chunk(cp_buf_t *out, const cp_h2_head_t *trailers) {
  if (cp_buf_append(out, "0\r\n", 3) != 0 ||
      (trailers != NULL && write_fields(trailers, out) != 0) ||
      cp_buf_append(out, "\r\n", 2) != 0) {
    return CP_ENOMEM;
  }
  return 0;
}
