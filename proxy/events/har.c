#include "events/har.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/host.h"

/* The connections seen, each with its events by kind, in order of their
 * first event. */
struct cp_har_s {
  cp_har_filter_t f;
  json_t *conns; /* owned: conn id (text) -> {connect, client_handshake,
                    upstream_verify, errors[], requests[]} */
  json_t *order; /* owned: conn ids (text), first seen first */
};


cp_har_t *cp_har_new(const cp_har_filter_t *f) {
  cp_har_t *h = calloc(1, sizeof(*h));

  if (h == NULL) {
    return NULL;
  }
  h->f = *f;
  h->conns = json_object();
  h->order = json_array();
  if (h->conns == NULL || h->order == NULL) {
    json_decref(h->conns);
    json_decref(h->order);
    free(h);
    return NULL;
  }
  return h;
}


static json_t *conn_get(cp_har_t *h, const char *key) {
  json_t *c = json_object_get(h->conns, key);

  if (c == NULL) {
    c = json_pack("{s:[],s:[]}", "errors", "requests");
    if (c == NULL || json_object_set_new(h->conns, key, c) != 0) {
      return NULL;
    }
    json_array_append_new(h->order, json_string(key));
  }
  return c;
}


void cp_har_add(cp_har_t *h, const char *json, size_t len) {
  json_t *e = json_loadb(json, len, 0, NULL);
  const char *kind = json_string_value(json_object_get(e, "event"));
  json_int_t id = json_integer_value(json_object_get(e, "id"));
  json_int_t conn = json_integer_value(json_object_get(e, "conn"));
  const char *host = json_string_value(json_object_get(e, "host"));
  json_t *c;
  char key[32];

  if (kind == NULL || conn <= 0 || (uint64_t)id <= h->f.since ||
      (h->f.conn != 0 && (uint64_t)conn != h->f.conn)) {
    goto out;
  }
  snprintf(key, sizeof(key), "%lld", (long long)conn);
  if (h->f.host != NULL && json_object_get(h->conns, key) == NULL &&
      (host == NULL || !cp_host_glob_match(h->f.host, host))) {
    goto out;
  }
  if ((c = conn_get(h, key)) == NULL) {
    goto out;
  }
  if (strcmp(kind, "request") == 0) {
    json_array_append(json_object_get(c, "requests"), e);
  } else if (strcmp(kind, "error") == 0) {
    json_array_append(json_object_get(c, "errors"), e);
  } else if (strcmp(kind, "connect") == 0 ||
             strcmp(kind, "client_handshake") == 0 ||
             strcmp(kind, "upstream_verify") == 0 ||
             strcmp(kind, "close") == 0) {
    /* The last of each: a keep-alive to another origin verifies again. */
    json_object_set(c, kind, e);
  }
out:
  json_decref(e);
}


/* An event's ts (RFC 3339, UTC, milliseconds) minus ms, as HAR's
 * startedDateTime. */
static json_t *started(const json_t *ev, int64_t ms) {
  const char *ts = json_is_string(ev)
                       ? json_string_value(ev)
                       : json_string_value(json_object_get(ev, "ts"));
  struct tm tm;
  int msec = 0;
  int64_t t;
  time_t secs;
  char base[32], out[48];

  memset(&tm, 0, sizeof(tm));
  if (ts == NULL ||
      sscanf(ts, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec) != 7) {
    return json_string("1970-01-01T00:00:00.000Z");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  t = (int64_t)timegm(&tm) * 1000 + msec - (ms > 0 ? ms : 0);
  secs = (time_t)(t / 1000);
  gmtime_r(&secs, &tm);
  strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, sizeof(out), "%s.%03dZ", base, (int)(t % 1000));
  return json_string(out);
}


static int64_t num(const json_t *o, const char *k, int64_t dflt) {
  const json_t *v = json_object_get(o, k);

  return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}


/* The query string of url as HAR's name/value pairs (not decoded). */
static json_t *query_pairs(const char *url) {
  json_t *arr = json_array();
  const char *q = url ? strchr(url, '?') : NULL;

  while (q != NULL && *q != '\0') {
    const char *p = q + 1, *end = strchr(p, '&'), *eq;
    size_t n = end ? (size_t)(end - p) : strlen(p);

    eq = memchr(p, '=', n);
    if (n > 0) {
      json_array_append_new(arr, json_pack("{s:s%,s:s%}", "name", p,
                                           eq ? (size_t)(eq - p) : n, "value",
                                           eq ? eq + 1 : "",
                                           eq ? n - (size_t)(eq - p) - 1 : 0));
    }
    q = end;
  }
  return arr;
}


static const char *http_version(const json_t *r) {
  const char *v = json_string_value(json_object_get(r, "http_version"));

  return v == NULL               ? "unknown"
         : strcmp(v, "2") == 0   ? "HTTP/2.0"
         : strcmp(v, "1.0") == 0 ? "HTTP/1.0"
                                 : "HTTP/1.1";
}


static json_t *copy_fields(const json_t *from, const char *const *keys) {
  json_t *o = json_object();
  int i;

  for (i = 0; keys[i] != NULL; i++) {
    json_t *v = json_object_get(from, keys[i]);

    if (v != NULL) {
      json_object_set(o, keys[i], v);
    }
  }
  return o;
}


/* The facts no other HAR carries: the connection's handshakes and
 * verdicts as its events tell them. */
static json_t *chainproxy_obj(const json_t *c, const json_t *req) {
  static const char *const served_keys[] = {
      "accepted",     "profile", "mirrored", "sni",          "served",
      "served_chain", "version", "alpn",     "alpn_offered", "refused_by",
      "alert",        "error",   "cause",    "hint",         "client_random",
      "id",           NULL};
  static const char *const up_keys[] = {"ok",
                                        "sni",
                                        "cause",
                                        "hint",
                                        "tls_error",
                                        "error",
                                        "error_code",
                                        "error_depth",
                                        "errors",
                                        "subject",
                                        "issuer",
                                        "warning",
                                        "clients",
                                        "built_chain",
                                        "alpn",
                                        "resumed",
                                        "private_root",
                                        "root",
                                        "client_random",
                                        "server_ip",
                                        "upstream_proxy",
                                        "revocation",
                                        "id",
                                        NULL};
  static const char *const req_keys[] = {
      "id",      "outcome",  "scheme", "stream_id", "upstream_http_version",
      "ttfb_ms", "total_ms", NULL};
  const json_t *hs = json_object_get(c, "client_handshake");
  const json_t *up = json_object_get(c, "upstream_verify");
  json_t *o = json_object();
  json_t *chain, *cert;
  size_t i;

  /* The request's own (its connect event may be older than the ring). */
  json_object_set_new(
      o, "conn",
      json_integer(
          num(req, "conn", num(json_object_get(c, "connect"), "conn", 0))));
  if (req != NULL) {
    json_object_set_new(o, "request", copy_fields(req, req_keys));
  }
  if (hs != NULL) {
    json_object_set_new(o, "client_handshake", copy_fields(hs, served_keys));
  }
  if (up != NULL) {
    json_t *u = copy_fields(up, up_keys);

    /* The chain the origin presented, each certificate as HAR readers
     * know certificates: subject, issuer, validity, fingerprint. */
    chain = json_array();
    json_array_foreach(json_object_get(up, "chain"), i, cert) {
      static const char *const cert_keys[] = {
          "depth",  "subject",  "issuer",   "not_before", "not_after",
          "sha256", "key_type", "key_bits", "names",      NULL};

      json_array_append_new(chain, copy_fields(cert, cert_keys));
    }
    json_object_set_new(u, "chain", chain);
    json_object_set_new(o, "upstream", u);
  }
  return o;
}


/* HAR's timings from the events: dns, connect (TCP, plus ssl, as the
 * specification asks) and ssl (the upstream handshake) for the first
 * entry of a connection (later ones reuse it: -1); send, wait and receive
 * from the request's own measures. *time is their sum. */
static json_t *timings(const json_t *c, const json_t *req, int first,
                       int64_t *time) {
  const json_t *up = json_object_get(c, "upstream_verify");
  int64_t dns = -1, conn = -1, ssl = -1, send = 0, wait = 0, recv = 0;
  int64_t ttfb, total;

  if (first && up != NULL) {
    dns = num(up, "dns_ms", -1);
    conn = num(up, "connect_ms", -1);
    ssl = num(up, "ssl_ms", -1);
    if (conn >= 0 && ssl >= 0) {
      conn += ssl;
    }
  }
  if (req != NULL) {
    ttfb = num(req, "ttfb_ms", 0);
    total = num(req, "total_ms", 0);
    send = num(req, "send_ms", 0);
    if (send > total) {
      send = total;
    }
    if (ttfb > 0 && ttfb >= send) {
      wait = ttfb - send;
      recv = total - ttfb;
    } else {
      wait = total - send;
    }
  }
  *time = (dns > 0 ? dns : 0) + (conn > 0 ? conn : 0) + send + wait + recv;
  return json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:I}", "blocked", -1, "dns",
                   (json_int_t)dns, "connect", (json_int_t)conn, "ssl",
                   (json_int_t)ssl, "send", (json_int_t)send, "wait",
                   (json_int_t)wait, "receive", (json_int_t)recv);
}


static const char *server_ip(const json_t *c, const json_t *req) {
  const char *ip = json_string_value(json_object_get(req, "server_ip"));

  if (ip == NULL) {
    ip = json_string_value(
        json_object_get(json_object_get(c, "upstream_verify"), "server_ip"));
  }
  return ip;
}


/* --har-bodies: the request's body as postData, the response's as the
 * content's text, base64 as the events keep them; "_truncated" when the
 * body was longer than what was kept. */
static void bodies(const json_t *req, json_t *e) {
  const json_t *up = json_object_get(req, "request_body");
  const json_t *down = json_object_get(req, "response_body");
  json_t *content = json_object_get(json_object_get(e, "response"), "content");

  if (json_is_string(up) && json_string_length(up) > 0) {
    json_t *pd =
        json_pack("{s:s,s:O,s:s}", "mimeType", "application/octet-stream",
                  "text", up, "_encoding", "base64");

    if (json_is_true(json_object_get(req, "request_body_truncated"))) {
      json_object_set_new(pd, "_truncated", json_true());
    }
    json_object_set_new(json_object_get(e, "request"), "postData", pd);
  }
  if (json_is_string(down) && content != NULL) {
    json_object_set(content, "text", (json_t *)down);
    json_object_set_new(content, "encoding", json_string("base64"));
    if (json_is_true(json_object_get(req, "response_body_truncated"))) {
      json_object_set_new(content, "_truncated", json_true());
    }
  }
}


static json_t *entry_new(const json_t *c, const json_t *req, int first,
                         const char *key) {
  int64_t time;
  json_t *t = timings(c, req, first, &time);
  const char *url = json_string_value(json_object_get(req, "url"));
  const json_t *err = json_array_get(json_object_get(c, "errors"), 0);
  char abs[600];
  const char *ver = http_version(req);
  int64_t status = num(req, "status", 0);
  int64_t up = num(req, "bytes_from_client", 0);
  int64_t down = num(req, "bytes_to_client", 0);
  const char *outcome = json_string_value(json_object_get(req, "outcome"));
  json_t *e;

  if (url != NULL && strstr(url, "://") == NULL) {
    const char *host = json_string_value(
        json_object_get(json_object_get(c, "connect"), "host"));

    if (url[0] == '/' || strcmp(url, "*") == 0) {
      /* Origin-form (or OPTIONS *) sent to the proxy itself: HAR wants an
       * absolute URL; the host it named, else a name that is none. */
      snprintf(abs, sizeof(abs), "http://%s%s%s",
               host && *host ? host : "chainproxy.invalid",
               url[0] == '/' ? "" : "/", url);
    } else {
      /* CONNECT's authority-form: HAR wants a URL, the tunnel's. */
      snprintf(abs, sizeof(abs), "https://%s/", url);
    }
    url = abs;
  }
  e = json_pack(
      "{s:o,s:I,s:{s:s,s:s,s:s,s:[],s:[],s:o,s:i,s:I},"
      "s:{s:I,s:s,s:s,s:[],s:[],s:{s:I,s:s},s:s,s:i,s:I},s:{},s:o,s:s}",
      "startedDateTime",
      json_object_get(req, "start_ts") != NULL
          ? started(json_object_get(req, "start_ts"), 0)
          : started(req, num(req, "total_ms", 0)),
      "time", (json_int_t)time, "request", "method",
      json_string_value(json_object_get(req, "method"))
          ? json_string_value(json_object_get(req, "method"))
          : "GET",
      "url", url ? url : "", "httpVersion", ver, "cookies", "headers",
      "queryString", query_pairs(url), "headersSize", -1, "bodySize",
      (json_int_t)up, "response", "status", (json_int_t)status, "statusText",
      "", "httpVersion", status ? ver : "", "cookies", "headers", "content",
      "size", (json_int_t)down, "mimeType", "x-unknown", "redirectURL", "",
      "headersSize", -1, "bodySize", (json_int_t)(status ? down : -1), "cache",
      "timings", t, "connection", key);
  if (e == NULL) {
    return NULL;
  }
  bodies(req, e);
  if (server_ip(c, req) != NULL) {
    json_object_set_new(e, "serverIPAddress", json_string(server_ip(c, req)));
  }
  if (outcome != NULL && strcmp(outcome, "ok") != 0) {
    /* chainproxy's answer in the origin's place says why. */
    json_object_set_new(
        e, "_error",
        err != NULL && json_object_get(err, "message") != NULL
            ? json_pack("s++", json_string_value(json_object_get(err, "error")),
                        ": ",
                        json_string_value(json_object_get(err, "message")))
            : json_string(outcome));
  }
  json_object_set_new(e, "_chainproxy", chainproxy_obj(c, req));
  return e;
}


/* Why a connection that made no request failed, in words; NULL: it did
 * not (a tunnel, a client that went away quietly). */
static char *failure(const json_t *c) {
  const json_t *hs = json_object_get(c, "client_handshake");
  const json_t *up = json_object_get(c, "upstream_verify");
  const json_t *err = json_array_get(json_object_get(c, "errors"), 0);
  char buf[1024];

  if (err != NULL) {
    snprintf(buf, sizeof(buf), "%s: %s",
             json_string_value(json_object_get(err, "error")),
             json_string_value(json_object_get(err, "message")));
  } else if (hs != NULL && json_is_false(json_object_get(hs, "accepted"))) {
    snprintf(buf, sizeof(buf), "the %s refused the handshake (%s)%s%s",
             json_string_value(json_object_get(hs, "refused_by")),
             json_string_value(json_object_get(hs, "alert"))
                 ? json_string_value(json_object_get(hs, "alert"))
                 : "no alert",
             json_object_get(hs, "error") ? ": " : "",
             json_string_value(json_object_get(hs, "error"))
                 ? json_string_value(json_object_get(hs, "error"))
                 : "");
  } else if (up != NULL && json_is_false(json_object_get(up, "ok"))) {
    snprintf(buf, sizeof(buf), "the upstream failed verification: %s",
             json_string_value(json_object_get(up, "cause")));
  } else {
    return NULL;
  }
  return strdup(buf);
}


/* A connection that failed before any request: its CONNECT (or request)
 * as the entry, the status chainproxy answered (0: none), "_error". */
static json_t *failed_entry(const json_t *c, const char *key) {
  const json_t *conn = json_object_get(c, "connect");
  const json_t *err = json_array_get(json_object_get(c, "errors"), 0);
  const json_t *hs = json_object_get(c, "client_handshake");
  const char *host = json_string_value(json_object_get(conn, "host"));
  const char *method = json_string_value(json_object_get(conn, "method"));
  const json_t *up = json_object_get(c, "upstream_verify");
  char *why = failure(c);
  char url[600];
  json_t *req, *e;
  int64_t took;

  if (why == NULL || conn == NULL) {
    free(why);
    return NULL;
  }
  /* The connection's life, less what dns and connect account for. */
  took = num(json_object_get(c, "close"), "duration_ms", 0) -
         (num(up, "dns_ms", 0) > 0 ? num(up, "dns_ms", 0) : 0) -
         (num(up, "connect_ms", 0) > 0 ? num(up, "connect_ms", 0) : 0) -
         (num(up, "ssl_ms", 0) > 0 ? num(up, "ssl_ms", 0) : 0);
  snprintf(url, sizeof(url), "%s://%s:%lld/", hs != NULL ? "https" : "http",
           host ? host : "unknown", (long long)num(conn, "port", 0));
  req = json_pack("{s:s,s:s,s:s,s:i,s:I,s:I,s:I,s:s,s:O}", "method",
                  method ? method : "CONNECT", "url", url, "http_version",
                  "1.1", "status", (int)num(err, "status", 0), "total_ms",
                  (json_int_t)(took > 0 ? took : 0), "ttfb_ms", (json_int_t)0,
                  "id", (json_int_t)num(conn, "id", 0), "outcome", "failed",
                  "start_ts", json_object_get(conn, "ts"));
  e = req ? entry_new(c, req, 1, key) : NULL;
  if (e != NULL) {
    json_object_set_new(e, "_error", json_string(why));
  }
  json_decref(req);
  free(why);
  return e;
}


json_t *cp_har_finish(cp_har_t *h) {
  json_t *entries = json_array(), *har, *key;
  size_t i, j;

  json_array_foreach(h->order, i, key) {
    const json_t *c = json_object_get(h->conns, json_string_value(key));
    json_t *reqs = json_object_get(c, "requests"), *r, *e;

    if (json_array_size(reqs) == 0) {
      e = failed_entry(c, json_string_value(key));
      if (e != NULL) {
        json_array_append_new(entries, e);
      }
      continue;
    }
    json_array_foreach(reqs, j, r) {
      e = entry_new(c, r, j == 0, json_string_value(key));
      if (e != NULL) {
        json_array_append_new(entries, e);
      }
    }
  }
  har = json_pack("{s:{s:s,s:{s:s,s:s},s:[],s:o}}", "log", "version", "1.2",
                  "creator", "name", "chainproxy", "version", CP_VERSION,
                  "pages", "entries", entries);
  json_decref(h->conns);
  json_decref(h->order);
  free(h);
  return har;
}
