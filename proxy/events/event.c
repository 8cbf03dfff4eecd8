#include "events/event.h"
#include "events/event_json.h"
#include "events/event_verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/esc.h"
#include "base/log.h"
#include "base/wline.h"
#include "diag/cert.h"


int cp_events_open(cp_events_t *ev, const char *path) {
  memset(ev, 0, sizeof(*ev));
  ev->fd = -1;
  ev->next_id = 1;
  cp_buf_init(&ev->line, SIZE_MAX);
  pthread_mutex_init(&ev->mu, NULL);
  if (path == NULL) {
    return 0;
  }
  if (strcmp(path, "-") == 0) {
    fflush(stdout); /* lines go to the descriptor, after what stdio held */
    ev->fd = STDOUT_FILENO;
  } else {
    ev->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (ev->fd < 0) {
      return -errno;
    }
    ev->fd_owned = 1;
  }
  cp_wline_init(&ev->out, ev->fd);
  return 0;
}


int cp_events_ring_init(cp_events_t *ev, size_t cap) {
  void *ring = calloc(cap, sizeof(*ev->ring));

  if (ring == NULL) {
    return CP_ENOMEM;
  }
  pthread_mutex_lock(&ev->mu);
  ev->ring = ring;
  ev->ring_cap = cap;
  pthread_mutex_unlock(&ev->mu);
  return 0;
}


void cp_events_listen(cp_events_t *ev, cp_event_cb cb, void *arg,
                      uint64_t *now) {
  pthread_mutex_lock(&ev->mu);
  ev->on_event = cb;
  ev->on_event_arg = arg;
  if (now != NULL) {
    *now = ev->next_id - 1;
  }
  pthread_mutex_unlock(&ev->mu);
}


void cp_events_counts(cp_events_t *ev, uint64_t *recorded, uint64_t *dropped) {
  pthread_mutex_lock(&ev->mu);
  *recorded = ev->next_id - 1;
  *dropped = ev->dropped;
  pthread_mutex_unlock(&ev->mu);
}


static uint64_t query_locked(cp_events_t *ev, uint64_t since, size_t limit,
                             cp_event_cb cb, void *arg) {
  uint64_t last = ev->next_id - 1; /* newest id */
  uint64_t oldest, id, dropped = 0;
  size_t n = 0;

  if (ev->ring_cap == 0 || since >= last) {
    return 0;
  }
  oldest = last >= ev->ring_cap ? last - ev->ring_cap + 1 : 1;
  if (since + 1 < oldest) {
    dropped = oldest - since - 1;
    since = oldest - 1;
  }
  for (id = since + 1; id <= last && n < limit; id++, n++) {
    const size_t i = (size_t)(id % ev->ring_cap);

    if (ev->ring[i].id == id && ev->ring[i].json != NULL) {
      cb(arg, id, ev->ring[i].kind, ev->ring[i].json, ev->ring[i].len);
    }
  }
  return dropped;
}


uint64_t cp_events_query(cp_events_t *ev, uint64_t since, size_t limit,
                         cp_event_cb cb, void *arg) {
  uint64_t dropped;

  pthread_mutex_lock(&ev->mu);
  dropped = query_locked(ev, since, limit, cb, arg);
  pthread_mutex_unlock(&ev->mu);
  return dropped;
}


static json_t *dropped_new(cp_events_t *ev);
static size_t record_json(cp_events_t *ev, json_t *o);


int cp_events_close(cp_events_t *ev) {
  int rc = 0;
  size_t i;

  pthread_mutex_lock(&ev->mu);
  ev->closing = 1;
  if (ev->fd >= 0 && ev->lost > 0) {
    /* The last lines were lost and nothing was written since: one more
     * try to say so, in case the disk has room again. */
    json_t *o = dropped_new(ev);

    if (o != NULL) {
      record_json(ev, o);
    }
  }
  pthread_mutex_unlock(&ev->mu);
  for (i = 0; i < ev->ring_cap; i++) {
    free(ev->ring[i].json);
  }
  free(ev->ring);
  ev->ring = NULL;
  ev->ring_cap = 0;

  if (ev->fd_owned && close(ev->fd) != 0) {
    rc = CP_EIO;
  }
  ev->fd = -1;
  ev->fd_owned = 0;
  if (ev->write_failed) {
    rc = CP_EIO;
  }
  cp_buf_free(&ev->line);
  pthread_mutex_destroy(&ev->mu);
  return rc;
}


static json_t *event_new(cp_events_t *ev, const char *kind,
                         const cp_event_base_t *b) {
  char ts[40];
  json_t *o;

  if (ev->fd < 0 && ev->ring == NULL) {
    return NULL;
  }
  o = json_object();
  if (o == NULL) {
    return NULL;
  }
  cp_log_timestamp(ts, sizeof(ts));
  json_object_set_new(o, "ts", json_string(ts));
  json_object_set_new(o, "id", json_integer(0)); /* set when emitted */
  json_object_set_new(o, "event", json_string(kind));
  json_object_set_new(o, "conn", json_integer((json_int_t)b->conn));
  json_object_set_new(o, "host", cp_event_json_str(b->host));
  json_object_set_new(o, "port", b->port ? json_integer(b->port) : json_null());
  return o;
}


/* One line the log could not take: counted, and said on stderr when it
 * starts a gap. */
static void count_lost(cp_events_t *ev, uint64_t id, int err) {
  if (ev->lost == 0) {
    ev->lost_first = id;
    ev->lost_errno = err;
    if (!ev->closing) {
      fprintf(stderr,
              "chainproxy: cannot write the event log: %s; events are "
              "dropped (counted as events_dropped in /stats and /metrics, "
              "and in a dropped event once the log takes lines again) and "
              "the proxy keeps serving\n",
              strerror(err));
    }
  }
  ev->lost++;
  ev->lost_last = id;
  ev->dropped++;
  ev->write_failed = 1;
}


/* The gap the log just closed: count and ids of the lines it lost. */
static json_t *dropped_new(cp_events_t *ev) {
  const cp_event_base_t b = {0, NULL, 0};
  json_t *o = event_new(ev, "dropped", &b);

  if (o == NULL) {
    return NULL;
  }
  json_object_set_new(o, "count", json_integer((json_int_t)ev->lost));
  json_object_set_new(o, "first_id", json_integer((json_int_t)ev->lost_first));
  json_object_set_new(o, "last_id", json_integer((json_int_t)ev->lost_last));
  json_object_set_new(o, "error", json_string(strerror(ev->lost_errno)));
  ev->lost = 0;
  return o;
}


/* An event encoded with "id":0, off the lock; the id goes in when it is
 * recorded. NULL json: it could not be encoded (out of memory). */
typedef struct cp_event_line_s {
  char *json; /* owned (jansson's allocator) */
  size_t len;
  size_t id_at; /* offset of the 0 that the id replaces */
  char kind[24];
} cp_event_line_t;


static void line_encode(json_t *o, cp_event_line_t *l) {
  const char *at;

  snprintf(l->kind, sizeof(l->kind), "%s",
           json_string_value(json_object_get(o, "event")));
  l->json = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
  json_decref(o);
  /* "ts" comes first and a string cannot hold an unescaped quote: the
   * first "id":0 is the field's. */
  at = l->json != NULL ? strstr(l->json, "\"id\":0") : NULL;
  if (at == NULL) {
    free(l->json);
    l->json = NULL;
    return;
  }
  l->len = strlen(l->json);
  l->id_at = (size_t)(at - l->json) + 5;
}


/* The line with its id and a newline, at the end of b; 0 or CP_ENOMEM. */
static int line_put(cp_buf_t *b, const cp_event_line_t *l, uint64_t id) {
  char num[24];
  int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)id);

  return cp_buf_append(b, l->json, l->id_at) != 0 ||
                 cp_buf_append(b, num, (size_t)n) != 0 ||
                 cp_buf_append(b, l->json + l->id_at + 1,
                               l->len - l->id_at - 1) != 0 ||
                 cp_buf_append(b, "\n", 1) != 0
             ? CP_ENOMEM
             : 0;
}


/* The recorded line (len bytes, no newline) to the ring and the listener,
 * with ev->mu held. */
static void publish(cp_events_t *ev, uint64_t id, const char *kind,
                    const char *json, size_t len) {
  if (ev->ring_cap > 0) {
    const size_t i = (size_t)(id % ev->ring_cap);
    char *copy = malloc(len + 1);

    if (copy != NULL) {
      memcpy(copy, json, len);
      copy[len] = '\0';
      free(ev->ring[i].json);
      ev->ring[i].json = copy;
      ev->ring[i].len = len;
      ev->ring[i].id = id;
      snprintf(ev->ring[i].kind, sizeof(ev->ring[i].kind), "%s", kind);
    }
  }
  if (ev->on_event != NULL) {
    ev->on_event(ev->on_event_arg, id, kind, json, len);
  }
}


/* The line takes the next id and goes to the ring, the listener and the
 * log, with ev->mu held; ev->line is the scratch. Returns the bytes of
 * its line when the log took it, else 0. */
static size_t record_one(cp_events_t *ev, const cp_event_line_t *l) {
  uint64_t id = ev->next_id++;
  int err;

  cp_buf_reset(&ev->line);
  if (l->json == NULL || line_put(&ev->line, l, id) != 0) {
    if (ev->fd >= 0) {
      count_lost(ev, id, ENOMEM);
    }
    ev->write_failed = 1;
    return 0;
  }
  publish(ev, id, l->kind, ev->line.data, ev->line.len - 1);
  if (ev->fd < 0) {
    return 0;
  }
  err = cp_wline_write(&ev->out, ev->line.data, ev->line.len);
  if (err != 0) {
    /* A full disk must not stop the proxy: keep serving, count what is
     * lost, say so when the log takes lines again. */
    count_lost(ev, id, err);
    return 0;
  }
  ev->written++;
  return ev->line.len;
}


static size_t record_json(cp_events_t *ev, json_t *o) {
  cp_event_line_t l;
  size_t took;

  line_encode(o, &l);
  took = record_one(ev, &l);
  free(l.json);
  return took;
}


/* An event, and when its line is the first the log took after a gap, the
 * dropped event that accounts for the gap right behind it: ids stay in
 * order, and the ring and the listener see both like any other. */
static void record_locked(cp_events_t *ev, const cp_event_line_t *l) {
  uint64_t gap, first;
  size_t took;
  json_t *o;
  int err;

  gap = ev->lost;
  if ((took = record_one(ev, l)) > 0 && gap > 0) {
    fprintf(stderr,
            "chainproxy: the event log takes events again, after losing "
            "%llu (a dropped event in the log names them)\n",
            (unsigned long long)gap);
    first = ev->lost_first;
    err = ev->lost_errno;
    o = dropped_new(ev);
    if (o != NULL && record_json(ev, o) == 0) {
      /* The line fit but its dropped event did not (a shorter line fits
       * where a longer one failed). A regular file gives the line back,
       * so the gap, the line and the dropped event are one gap of
       * consecutive ids that the next dropped event tells of; elsewhere
       * (a pipe) the gap is told with the dropped event's id. */
      if (cp_wline_unwrite(&ev->out, took) == 0) {
        ev->written--;
        ev->dropped++;
        gap++;
      }
      ev->lost += gap;
      ev->lost_first = first;
      ev->lost_errno = err;
    }
  }
}


/* A worker's lines, recorded in one go: ids in order, one write(2) for
 * all. After a gap, or without a log file, line by line (record_locked
 * tells of the gap). With ev->mu held. */
static void record_batch(cp_events_t *ev, cp_event_queue_t *q) {
  uint64_t first = ev->next_id, id;
  size_t i, at;
  int err = 0;

  if (ev->fd < 0 || ev->lost > 0) {
    for (i = 0; i < q->n; i++) {
      record_locked(ev, &q->lines[i]);
    }
    return;
  }
  cp_buf_reset(&q->batch);
  for (i = 0; i < q->n; i++) {
    id = ev->next_id++;
    at = q->batch.len;
    if (q->lines[i].json == NULL ||
        line_put(&q->batch, &q->lines[i], id) != 0) {
      err = ENOMEM;
      break;
    }
    publish(ev, id, q->lines[i].kind, q->batch.data + at,
            q->batch.len - at - 1);
  }
  if (err == 0) {
    err = cp_wline_write(&ev->out, q->batch.data, q->batch.len);
  }
  if (err != 0) {
    /* Lost whole (cp_wline takes a cut batch back): one gap of
     * consecutive ids, told by the next line the log takes. */
    ev->next_id = first + q->n;
    for (id = first; id < ev->next_id; id++) {
      count_lost(ev, id, err);
    }
    return;
  }
  ev->written += q->n;
}


/* The queue of the emitting thread's worker, if any (cp_event_queue_attach). */
static __thread cp_event_queue_t *thread_queue;


static void event_emit(cp_events_t *ev, json_t *o) {
  cp_event_queue_t *q = thread_queue;
  cp_event_line_t l;

  if (o == NULL) {
    return;
  }
  line_encode(o, &l); /* off the lock */
  if (q != NULL && q->ev == ev) {
    if (q->n == q->cap) {
      size_t cap = q->cap ? 2 * q->cap : 64;
      cp_event_line_t *more = realloc(q->lines, cap * sizeof(*more));

      if (more == NULL) {
        goto now;
      }
      q->lines = more;
      q->cap = cap;
    }
    q->lines[q->n++] = l;
    return;
  }
now:
  pthread_mutex_lock(&ev->mu);
  record_locked(ev, &l);
  pthread_mutex_unlock(&ev->mu);
  free(l.json);
}


void cp_event_queue_init(cp_event_queue_t *q, cp_events_t *ev) {
  memset(q, 0, sizeof(*q));
  q->ev = ev;
  cp_buf_init(&q->batch, SIZE_MAX);
}


void cp_event_queue_attach(cp_event_queue_t *q) {
  thread_queue = q;
}


void cp_event_queue_flush(cp_event_queue_t *q) {
  size_t i;

  if (q->n == 0) {
    return;
  }
  pthread_mutex_lock(&q->ev->mu);
  record_batch(q->ev, q);
  pthread_mutex_unlock(&q->ev->mu);
  for (i = 0; i < q->n; i++) {
    free(q->lines[i].json);
  }
  q->n = 0;
  if (q->batch.cap > CP_EVENT_BATCH_KEEP) {
    cp_buf_free(&q->batch); /* a burst's buffer is not kept */
    cp_buf_init(&q->batch, SIZE_MAX);
  }
}


void cp_event_queue_free(cp_event_queue_t *q) {
  if (q->ev == NULL) {
    return;
  }
  cp_event_queue_flush(q);
  free(q->lines);
  cp_buf_free(&q->batch);
  memset(q, 0, sizeof(*q));
}


void cp_event_connect(cp_events_t *ev, const cp_event_base_t *b,
                      const char *client, const char *method, const char *mode,
                      const char *via, const char *user, const char *dst) {
  json_t *o = event_new(ev, "connect", b);

  if (o == NULL) {
    return;
  }
  json_object_set_new(o, "client", cp_event_json_str(client));
  json_object_set_new(o, "method", cp_event_json_str(method));
  json_object_set_new(o, "mode", cp_event_json_str(mode));
  if (via != NULL) {
    json_object_set_new(o, "upstream_proxy", json_string(via));
  }
  if (user != NULL) {
    json_object_set_new(o, "user", json_string(user));
  }
  if (dst != NULL) {
    json_object_set_new(o, "original_dst", json_string(dst));
  }
  event_emit(ev, o);
}


void cp_event_udp_refused(cp_events_t *ev, const char *addr, int port) {
  cp_event_base_t b = {0, addr, port};
  json_t *o = event_new(ev, "udp_refused", &b);

  if (o == NULL) {
    return;
  }
  json_object_set_new(o, "mode", json_string("isolate"));
  event_emit(ev, o);
}


void cp_event_fault(cp_events_t *ev, const cp_event_base_t *b,
                    const char *fault, long long value, const char *detail) {
  json_t *o = event_new(ev, "fault", b);

  if (o == NULL) {
    return;
  }
  json_object_set_new(o, "fault", json_string(fault));
  if (value >= 0) {
    json_object_set_new(o, "value", json_integer((json_int_t)value));
  }
  json_object_set_new(o, "detail", cp_event_json_str(detail));
  event_emit(ev, o);
}


void cp_event_close(cp_events_t *ev, const cp_event_base_t *b,
                    const cp_event_close_t *c) {
  json_t *o = event_new(ev, "close", b);

  if (o == NULL) {
    return;
  }
  json_object_set_new(o, "reason", cp_event_json_str(c->reason));
  json_object_set_new(o, "bytes_from_client",
                      json_integer((json_int_t)c->bytes_from_client));
  json_object_set_new(o, "bytes_to_client",
                      json_integer((json_int_t)c->bytes_to_client));
  json_object_set_new(o, "bytes_from_upstream",
                      json_integer((json_int_t)c->bytes_from_upstream));
  json_object_set_new(o, "bytes_to_upstream",
                      json_integer((json_int_t)c->bytes_to_upstream));
  json_object_set_new(o, "duration_ms",
                      json_integer((json_int_t)c->duration_ms));
  json_object_set_new(o, "requests", json_integer(c->requests));
  if (c->nfaults > 0) {
    json_t *arr = json_array();
    int i;

    for (i = 0; i < c->nfaults; i++) {
      json_array_append_new(arr, json_string(c->faults[i]));
    }
    json_object_set_new(o, "faults", arr);
  }
  if (c->upgraded) {
    /* The WebSocket stream's own bytes (decrypted, without the HTTP
     * handshake); the counts above are wire bytes of the whole
     * connection. */
    json_object_set_new(o, "upgraded", json_true());
    json_object_set_new(o, "upgraded_bytes_from_client",
                        json_integer((json_int_t)c->relayed_from_client));
    json_object_set_new(o, "upgraded_bytes_to_client",
                        json_integer((json_int_t)c->relayed_to_client));
  }
  event_emit(ev, o);
}


void cp_event_error(cp_events_t *ev, const cp_event_base_t *b,
                    const char *error, const char *message, const char *action,
                    int status) {
  json_t *o = event_new(ev, "error", b);

  if (o == NULL) {
    return;
  }
  json_object_set_new(o, "error", cp_event_json_str(error));
  json_object_set_new(o, "message", cp_event_json_str(message));
  json_object_set_new(o, "action", cp_event_json_str(action));
  json_object_set_new(o, "status", status ? json_integer(status) : json_null());
  event_emit(ev, o);
}


/* A body kept by --har-bodies: base64 of its first bytes, and whether it
 * was longer. */
static void body_json(json_t *o, const char *name, const char *data, size_t len,
                      int cut) {
  char key[40];
  char *b64 = malloc(4 * ((len + 2) / 3) + 1);

  if (b64 == NULL) {
    return;
  }
  EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)data, (int)len);
  json_object_set_new(o, name, json_string(len > 0 ? b64 : ""));
  free(b64);
  snprintf(key, sizeof(key), "%s_truncated", name);
  if (cut) {
    json_object_set_new(o, key, json_true());
  }
}


void cp_event_request(cp_events_t *ev, const cp_event_base_t *b,
                      const cp_event_request_t *r) {
  json_t *o = event_new(ev, "request", b);

  if (o == NULL) {
    return;
  }
  json_object_set_new(o, "method", cp_event_json_str(r->method));
  json_object_set_new(o, "url", cp_event_json_str(r->url));
  json_object_set_new(o, "path", cp_event_json_str(r->path));
  json_object_set_new(o, "status",
                      r->status ? json_integer(r->status) : json_null());
  json_object_set_new(o, "http_version",
                      json_string(r->http_version ? r->http_version
                                  : r->http_minor ? "1.1"
                                                  : "1.0"));
  if (r->stream_id > 0) {
    json_object_set_new(o, "stream_id", json_integer(r->stream_id));
  }
  if (r->upstream_http_version != NULL) {
    json_object_set_new(o, "upstream_http_version",
                        json_string(r->upstream_http_version));
  }
  json_object_set_new(o, "bytes_from_client",
                      json_integer((json_int_t)r->bytes_from_client));
  json_object_set_new(o, "bytes_to_client",
                      json_integer((json_int_t)r->bytes_to_client));
  json_object_set_new(o, "ttfb_ms", json_integer((json_int_t)r->ttfb_ms));
  json_object_set_new(o, "total_ms", json_integer((json_int_t)r->total_ms));
  if (r->bodies) {
    body_json(o, "request_body", r->req_body, r->req_body_len, r->req_body_cut);
    body_json(o, "response_body", r->resp_body, r->resp_body_len,
              r->resp_body_cut);
  }
  if (r->send_ms >= 0) {
    json_object_set_new(o, "send_ms", json_integer(r->send_ms));
  }
  if (r->server_ip != NULL && r->server_ip[0] != '\0') {
    json_object_set_new(o, "server_ip", json_string(r->server_ip));
  }
  json_object_set_new(o, "outcome", cp_event_json_str(r->outcome));
  json_object_set_new(o, "scheme",
                      cp_event_json_str(r->scheme ? r->scheme : "http"));
  event_emit(ev, o);
}


static void leg_json(const cp_event_leg_t *leg, json_t *o) {
  if (leg->client_random != NULL && leg->client_random[0] != '\0') {
    json_object_set_new(o, "client_random", json_string(leg->client_random));
  }
  if (leg->server_ip != NULL && leg->server_ip[0] != '\0') {
    json_object_set_new(o, "server_ip", json_string(leg->server_ip));
  }
  if (leg->dns_ms >= 0) {
    json_object_set_new(o, "dns_ms", json_integer(leg->dns_ms));
  }
  if (leg->connect_ms >= 0) {
    json_object_set_new(o, "connect_ms", json_integer(leg->connect_ms));
  }
  if (leg->ssl_ms >= 0) {
    json_object_set_new(o, "ssl_ms", json_integer(leg->ssl_ms));
  }
}


void cp_event_upstream_verify(cp_events_t *ev, const cp_event_base_t *b,
                              const cp_verify_result_t *r, const char *sni,
                              const char *tls_error, const char *alpn,
                              const char *via, const cp_event_leg_t *leg) {
  json_t *o = event_new(ev, "upstream_verify", b);

  if (o == NULL) {
    return;
  }
  cp_verify_result_to_json(r, sni, tls_error, o);
  if (via != NULL) {
    /* The chain came through a parent proxy: one that re-signs TLS
     * presents its own CA here. */
    json_object_set_new(o, "upstream_proxy", json_string(via));
  }
  json_object_set_new(o, "alpn",
                      cp_event_json_str(alpn && *alpn ? alpn : NULL));
  json_object_set_new(o, "resumed", json_boolean(r->resumed));
  if (r->upstream_reused) {
    json_object_set_new(o, "upstream_reused", json_true());
  }
  if (r->chain_cached) {
    json_object_set_new(o, "chain_cached", json_true());
  }
  if (leg != NULL) {
    leg_json(leg, o);
  }
  event_emit(ev, o);
}


/* The chain served, as the origin's is written: subject, issuer,
 * validity, fingerprint. */
static json_t *served_chain_json(const cp_event_handshake_t *h) {
  json_t *arr = json_array();
  char sub[512], iss[512], nb[64], na[64];
  int i;

  for (i = 0; i < h->nserved && h->served_x509[i] != NULL; i++) {
    X509 *x = h->served_x509[i];

    cp_cert_name_str(X509_get_subject_name(x), sub, sizeof(sub));
    cp_cert_name_str(X509_get_issuer_name(x), iss, sizeof(iss));
    cp_cert_time_str(X509_get0_notBefore(x), nb, sizeof(nb));
    cp_cert_time_str(X509_get0_notAfter(x), na, sizeof(na));
    json_array_append_new(
        arr,
        json_pack("{s:i,s:o,s:o,s:s,s:s,s:o}", "depth", i, "subject",
                  cp_event_json_bytes(sub, strlen(sub)), "issuer",
                  cp_event_json_bytes(iss, strlen(iss)), "not_before", nb,
                  "not_after", na, "sha256", cp_event_json_str(h->served[i])));
  }
  return arr;
}


void cp_event_client_handshake(cp_events_t *ev, const cp_event_base_t *b,
                               const cp_event_handshake_t *h) {
  json_t *o = event_new(ev, "client_handshake", b);
  json_t *arr;
  int i;

  if (o == NULL) {
    return;
  }
  json_object_set_new(o, "accepted", json_boolean(h->accepted));
  json_object_set_new(o, "profile", cp_event_json_str(h->profile));
  json_object_set_new(o, "mirrored", json_boolean(h->mirrored));
  json_object_set_new(o, "sni", cp_event_json_str(h->sni));
  json_object_set_new(o, "alpn_offered", cp_event_json_str(h->alpn_offered));
  if (h->client_versions != NULL) {
    json_object_set_new(o, "client_versions",
                        cp_event_json_str(h->client_versions));
    json_object_set_new(o, "client_ciphers",
                        cp_event_json_str(h->client_ciphers));
  }
  if (h->client_cert != NULL) {
    json_object_set_new(o, "client_cert", cp_event_json_str(h->client_cert));
  }
  if (h->client_random != NULL && h->client_random[0] != '\0') {
    json_object_set_new(o, "client_random", json_string(h->client_random));
  }
  arr = json_array();
  for (i = 0; i < h->nserved; i++) {
    json_array_append_new(arr, cp_event_json_str(h->served[i]));
  }
  json_object_set_new(o, "served", arr);
  if (h->nserved > 0 && h->served_x509[0] != NULL) {
    json_object_set_new(o, "served_chain", served_chain_json(h));
  }
  if (!h->accepted) {
    json_object_set_new(o, "refused_by", cp_event_json_str(h->refused_by));
    json_object_set_new(o, "alert", cp_event_json_str(h->alert));
    json_object_set_new(o, "error", cp_event_json_str(h->error));
    if (h->cause != NULL) {
      json_object_set_new(o, "cause", cp_event_json_str(h->cause));
      json_object_set_new(o, "hint", cp_event_json_str(h->hint));
    }
  } else {
    json_object_set_new(o, "version", cp_event_json_str(h->version));
    json_object_set_new(o, "alpn", cp_event_json_str(h->alpn));
  }
  event_emit(ev, o);
}
