#include "app/origins_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/err.h"


json_t *cp_origins_listing(const cp_origins_t *o) {
  const cp_cat_case_t *cases;
  json_t *doc = json_object(), *arr = json_array();
  char url[256], root[1200];
  size_t n, i;
  int c;

  cases = cp_catalogue_cases(&n);
  snprintf(root, sizeof(root), "%s/root.pem", o->cat.ca.dir);
  snprintf(url, sizeof(url), "%s/", o->cat.base_url);
  json_object_set_new(doc, "index", json_string(url));
  json_object_set_new(doc, "ca", json_string(root));
  json_object_set_new(doc, "domain", json_string(CP_CATALOGUE_DOMAIN));
  json_object_set_new(doc, "host", json_string(o->host));
  json_object_set_new(doc, "base_port", json_integer(o->base));
  for (i = 0; i < n; i++) {
    json_t *e = json_object(), *cl = json_object();
    uint16_t port = cp_catalogue_port(o->base, (int)i);

    json_object_set_new(e, "name", json_string(cases[i].name));
    json_object_set_new(e, "host", json_string(o->host));
    json_object_set_new(e, "port", json_integer(port));
    snprintf(url, sizeof(url), "https://%s.%s:%u/", cases[i].name,
             CP_CATALOGUE_DOMAIN, port);
    json_object_set_new(e, "url", json_string(url));
    snprintf(url, sizeof(url), "https://%s.%s/", cases[i].name,
             CP_CATALOGUE_DOMAIN);
    json_object_set_new(e, "proxy_url", json_string(url));
    json_object_set_new(e, "ca", json_string(o->cat.trust[i]));
    if (o->cat.nstores[i] > 0) {
      json_t *st = json_object();

      for (c = 0; c < o->cat.nstores[i]; c++) {
        json_object_set_new(st, o->cat.stores[i][c].name,
                            json_string(o->cat.stores[i][c].path));
      }
      json_object_set_new(e, "stores", st);
    }
    json_object_set_new(e, "breaks", json_string(cases[i].breaks));
    json_object_set_new(e, "chainproxy_cause", json_string(cases[i].cause));
    for (c = 0; c < CP_CAT_NCLIENTS; c++) {
      json_object_set_new(cl, cp_catalogue_client_name(c),
                          json_string(cases[i].words[c]));
    }
    json_object_set_new(e, "clients", cl);
    json_array_append_new(arr, e);
  }
  json_object_set_new(doc, "cases", arr);
  return doc;
}


/* Our own strings only, but a page is a page: escape what HTML needs. */
static void html_put(cp_buf_t *b, const char *s) {
  for (; *s != '\0'; s++) {
    switch (*s) {
    case '<':
      cp_buf_append(b, "&lt;", 4);
      break;
    case '>':
      cp_buf_append(b, "&gt;", 4);
      break;
    case '&':
      cp_buf_append(b, "&amp;", 5);
      break;
    case '"':
      cp_buf_append(b, "&quot;", 6);
      break;
    default:
      cp_buf_append(b, s, 1);
    }
  }
}


static char *make_html(const cp_origins_t *o) {
  const cp_cat_case_t *cases;
  cp_buf_t b;
  char line[512];
  size_t n, i;
  int c;
  char *out;

  cp_buf_init(&b, 256 * 1024);
  cases = cp_catalogue_cases(&n);
  cp_buf_append_str(&b, "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
                        "<title>chainproxy catalogue of broken origins</title>"
                        "</head><body>\n<h1>chainproxy catalogue of broken "
                        "origins</h1>\n<p>Trust <code>");
  html_put(&b, o->cat.ca.dir);
  cp_buf_append_str(&b, "/root.pem</code> (the catalogue CA; an incident case "
                        "names the store of its time it needs); "
                        "<a href=\"/cases.json\">cases.json</a>; through "
                        "chainproxy <code>--origins</code>: "
                        "<code>https://CASE.chainproxy.test/</code>.</p>\n"
                        "<table border=\"1\"><tr><th>case</th><th>where</th>"
                        "<th>what it breaks</th><th>chainproxy</th>");
  for (c = 0; c < CP_CAT_NCLIENTS; c++) {
    snprintf(line, sizeof(line), "<th>%s</th>", cp_catalogue_client_name(c));
    cp_buf_append_str(&b, line);
  }
  cp_buf_append_str(&b, "</tr>\n");
  for (i = 0; i < n; i++) {
    snprintf(line, sizeof(line), "<tr><td>%s</td><td>%s:%u</td><td>",
             cases[i].name, o->host, cp_catalogue_port(o->base, (int)i));
    cp_buf_append_str(&b, line);
    html_put(&b, cases[i].breaks);
    if (cases[i].store != NULL) {
      cp_buf_append_str(&b, " (trust <code>");
      html_put(&b, o->cat.trust[i]);
      cp_buf_append_str(&b, "</code>)");
    }
    cp_buf_append_str(&b, "</td><td>");
    html_put(&b, cases[i].cause);
    for (c = 0; c < CP_CAT_NCLIENTS; c++) {
      cp_buf_append_str(&b, "</td><td>");
      html_put(&b, cases[i].words[c]);
    }
    cp_buf_append_str(&b, "</td></tr>\n");
  }
  cp_buf_append_str(&b, "</table></body></html>\n");
  out = strndup((const char *)b.data, b.len);
  cp_buf_free(&b);
  return out;
}


int cp_origins_index_build(cp_origins_t *o, char *err, size_t errlen) {
  json_t *doc = cp_origins_listing(o);

  o->listing_json = json_dumps(doc, JSON_INDENT(2));
  json_decref(doc);
  o->listing_html = make_html(o);
  if (o->listing_json == NULL || o->listing_html == NULL) {
    return cp_errf(err, errlen, CP_ENOMEM, "the listing");
  }
  return 0;
}


static void reply(int fd, int status, const char *type, const void *body,
                  size_t len) {
  char head[256];
  int n = snprintf(head, sizeof(head),
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: "
                   "%zu\r\nConnection: close\r\n\r\n",
                   status, status == 200 ? "OK" : "Not Found", type, len);

  if (send(fd, head, (size_t)n, MSG_NOSIGNAL) == n && len > 0) {
    send(fd, body, len, MSG_NOSIGNAL);
  }
}


static void reply_der(int fd, const char *type, unsigned char *der, int len) {
  if (len <= 0) {
    reply(fd, 404, "text/plain", "not found\n", 10);
  } else {
    reply(fd, 200, type, der, (size_t)len);
  }
  OPENSSL_free(der);
}


/* RFC 6960: good for the catalogue's other leaves, revoked for the
 * revoked case's, signed by the intermediate (it issued them all). */
static void answer_ocsp(cp_origins_t *o, int fd, const unsigned char *body,
                        size_t len) {
  const unsigned char *p = body;
  OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
  OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
  OCSP_RESPONSE *resp = NULL;
  ASN1_TIME *now = X509_gmtime_adj(NULL, 0);
  ASN1_TIME *next = X509_gmtime_adj(NULL, 86400);
  int revoked = cp_catalogue_find("revoked");
  unsigned char *der = NULL;
  int i, n, dlen = 0;

  if (req == NULL || bs == NULL || now == NULL || next == NULL) {
    goto out;
  }
  n = OCSP_request_onereq_count(req);
  for (i = 0; i < n && i < 8; i++) {
    OCSP_CERTID *id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));
    ASN1_INTEGER *serial = NULL;
    int st = V_OCSP_CERTSTATUS_GOOD;

    OCSP_id_get0_info(NULL, NULL, NULL, &serial, id);
    if (serial != NULL && revoked >= 0 &&
        ASN1_INTEGER_cmp(serial, X509_get_serialNumber(o->cat.leaf[revoked])) ==
            0) {
      st = V_OCSP_CERTSTATUS_REVOKED;
    }
    if (OCSP_basic_add1_status(bs, id, st, OCSP_REVOKED_STATUS_KEYCOMPROMISE,
                               st == V_OCSP_CERTSTATUS_REVOKED ? now : NULL,
                               now, next) == NULL) {
      goto out;
    }
  }
  OCSP_copy_nonce(bs, req);
  if (OCSP_basic_sign(bs, o->cat.ca.intermediate, o->cat.ca.inter_key,
                      EVP_sha256(), NULL, 0) != 1) {
    goto out;
  }
  resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
out:
  if (resp == NULL) {
    resp = OCSP_response_create(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, NULL);
  }
  if (resp != NULL) {
    dlen = i2d_OCSP_RESPONSE(resp, &der);
  }
  reply_der(fd, "application/ocsp-response", der, dlen);
  OCSP_RESPONSE_free(resp);
  OCSP_BASICRESP_free(bs);
  OCSP_REQUEST_free(req);
  ASN1_TIME_free(now);
  ASN1_TIME_free(next);
}


/* The Content-Length in the head [req, end), or 0. */
static size_t content_length(const char *req, const char *end) {
  static const char name[] = "\r\ncontent-length:";
  const char *p;

  for (p = req; p + sizeof(name) - 1 < end; p++) {
    if (strncasecmp(p, name, sizeof(name) - 1) == 0) {
      return strtoul(p + sizeof(name) - 1, NULL, 10);
    }
  }
  return 0;
}


void cp_origins_index_serve(cp_origins_t *o, int fd) {
  char req[20480], path[256];
  unsigned char *der = NULL;
  char *end = NULL;
  size_t got = 0, need = 0;
  ssize_t n;

  while (got < sizeof(req) - 1) {
    n = recv(fd, req + got, sizeof(req) - 1 - got, 0);
    if (n <= 0) {
      return;
    }
    got += (size_t)n;
    req[got] = '\0';
    if (end == NULL && (end = strstr(req, "\r\n\r\n")) != NULL) {
      need = content_length(req, end);
    }
    if (end != NULL && got >= (size_t)(end + 4 - req) + need) {
      break;
    }
  }
  if (end == NULL || sscanf(req, "%*s %255s", path) != 1) {
    return;
  }
  if (strncmp(req, "POST ", 5) == 0 && strcmp(path, "/ocsp") == 0) {
    answer_ocsp(o, fd, (unsigned char *)end + 4, got - (size_t)(end + 4 - req));
  } else if (strcmp(path, "/") == 0) {
    reply(fd, 200, "text/html; charset=utf-8", o->listing_html,
          strlen(o->listing_html));
  } else if (strcmp(path, "/cases.json") == 0) {
    reply(fd, 200, "application/json", o->listing_json,
          strlen(o->listing_json));
  } else if (strcmp(path, "/ca/intermediate.der") == 0) {
    reply_der(fd, "application/pkix-cert", der,
              i2d_X509(o->cat.ca.intermediate, &der));
  } else if (strcmp(path, "/ca/root.der") == 0) {
    reply_der(fd, "application/pkix-cert", der, i2d_X509(o->cat.ca.root, &der));
  } else if (strcmp(path, "/crl/intermediate.crl") == 0) {
    reply_der(fd, "application/pkix-crl", der, i2d_X509_CRL(o->cat.crl, &der));
  } else {
    reply(fd, 404, "text/plain", "not found\n", 10);
  }
}
