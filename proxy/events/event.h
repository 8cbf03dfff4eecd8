/* The event log: JSON Lines built with jansson, one object per line, each
 * written whole or not at all (no stdio buffer; a line a full disk cut is
 * truncated away). A worker thread's events are encoded off the lock and
 * queued (cp_event_queue_t), then recorded together, ids in order, in one
 * write(2), before its loop waits for I/O; other threads' are recorded at
 * once. Lines the log could not take
 * are counted, and the first line written after them is followed by a
 * "dropped" event that says how many and which ids. This is the only
 * module that builds JSON events. The cp_events_t owns its file
 * descriptor (unless it is stdout) and closes it in cp_events_close().
 * Field names are documented in docs/events.md. */
#ifndef CP_EVENT_H
#define CP_EVENT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/wline.h"
#include "diag/verify.h"

typedef struct cp_events_s cp_events_t;
typedef struct cp_event_base_s cp_event_base_t;
typedef struct cp_event_close_s cp_event_close_t;
typedef struct cp_event_request_s cp_event_request_t;
typedef struct cp_event_handshake_s cp_event_handshake_t;

typedef void (*cp_event_cb)(void *arg, uint64_t id, const char *kind,
                            const char *json, size_t len);

/* Shared by every worker: the lock makes ids, ring slots and lines come
 * out whole and in id order. on_event runs with it held, on the emitting
 * thread. */
struct cp_events_s {
  pthread_mutex_t mu;
  int fd;                /* owned unless fd_owned is 0 (stdout); -1: no
                            event log */
  unsigned fd_owned : 1; /* opened here: closed by cp_events_close */
  cp_wline_t out;        /* whole lines to fd */
  unsigned closing : 1;  /* in cp_events_close: no more stderr notes */
  uint64_t next_id;      /* id of the next event, starting at 1 */
  uint64_t written;      /* events written */
  int write_failed;      /* set once a write failed; reported at close */
  uint64_t dropped;      /* events the log could not take, in all */
  uint64_t lost;         /* ... since the last line written: the next
                            dropped event's count */
  uint64_t lost_first, lost_last; /* their ids (consecutive) */
  int lost_errno;                 /* why the first of them failed */
  /* The last ring_cap events, kept for the control API (no ring: 0). */
  struct {
    uint64_t id;
    char kind[24];
    char *json; /* owned, without newline */
    size_t len;
  } * ring; /* owned */
  size_t ring_cap;
  cp_event_cb on_event; /* called after each event is recorded */
  void *on_event_arg;
  cp_buf_t line; /* owned: one line being recorded (under mu) */
};

/* A worker's events, encoded and waiting to be recorded. Owned by the
 * worker; only its thread touches it. */
typedef struct cp_event_queue_s {
  cp_events_t *ev;               /* borrowed */
  struct cp_event_line_s *lines; /* owned, n of cap in use */
  size_t n, cap;
  cp_buf_t batch; /* owned: the lines with their ids, one write */
} cp_event_queue_t;

/* A batch buffer larger than this is freed after its write. */
#define CP_EVENT_BATCH_KEEP (256 * 1024)

/* Fields every event has besides ts, id and event. */
struct cp_event_base_s {
  uint64_t conn;
  const char *host; /* NULL is written as null */
  int port;         /* 0 is written as null */
};

struct cp_event_close_s {
  const char *reason;
  uint64_t bytes_from_client, bytes_to_client;
  uint64_t bytes_from_upstream, bytes_to_upstream;
  uint64_t duration_ms;
  unsigned requests;
  int upgraded;                 /* the connection switched protocols */
  uint64_t relayed_from_client; /* after the switch */
  uint64_t relayed_to_client;
  const char *faults[16]; /* static: the faults a rule applied */
  int nfaults;
};

struct cp_event_request_s {
  const char *method;
  const char *url;                             /* as the client sent it */
  const char *path;                            /* origin-form */
  int status;                                  /* 0: no response */
  int http_minor;                              /* client's HTTP/1.x */
  uint64_t bytes_from_client, bytes_to_client; /* body bytes */
  uint64_t ttfb_ms, total_ms;
  const char *outcome;               /* "ok", or why the exchange ended early */
  const char *scheme;                /* "http" or "https" (intercepted) */
  const char *http_version;          /* "2"; NULL: HTTP/1.x from http_minor */
  int32_t stream_id;                 /* HTTP/2: the client's stream id */
  const char *upstream_http_version; /* bridged (--h2 bridge): what the
                                        origin spoke, "2" or "1.1" */
  int64_t send_ms;      /* the request went upstream in; < 0: unknown */
  int bodies;           /* --har-bodies: the bodies below are written */
  const char *req_body; /* borrowed: the first bytes of each body */
  size_t req_body_len;
  int req_body_cut; /* the body was longer */
  const char *resp_body;
  size_t resp_body_len;
  int resp_body_cut;
  const char *server_ip; /* the upstream's address; NULL: none */
};

struct cp_event_handshake_s {
  int accepted;
  const char *profile;
  int mirrored;          /* the profile mirrors upstream's defect */
  const char *sni;       /* NULL: none sent */
  const char *served[8]; /* sha256 of each certificate sent */
  int nserved;
  X509 *served_x509[8];     /* borrowed: the certificates sent, for
                               served_chain; NULL: not given */
  const char *alert;        /* what the client sent when it refused */
  const char *error;        /* library text when it failed */
  const char *version;      /* "TLSv1.3" */
  const char *alpn;         /* negotiated; NULL: none */
  const char *alpn_offered; /* the client's list, "h2,http/1.1"; NULL:
                               the client sent no ALPN */
  const char *refused_by;   /* "client" or "chainproxy" when refused */
  const char *cause;        /* chainproxy's refusal: hs_diag cause */
  const char *hint;
  const char *client_versions; /* what the client offered */
  const char *client_ciphers;
  const char *client_cert;   /* subject of the certificate the client sent
                                when asked (the upstream asked); NULL: none */
  const char *client_random; /* 64 hex digits: the client leg's lines in
                                the key log; NULL: none */
};

/* path: file to append to, "-" for stdout, NULL for none. */
int cp_events_open(cp_events_t *ev, const char *path);
/* CP_EIO when some event could not be written (the log has a gap). */
int cp_events_close(cp_events_t *ev);
/* The queue records into ev, which outlives it. */
void cp_event_queue_init(cp_event_queue_t *q, cp_events_t *ev);
/* The calling thread's events go to q from now on (NULL: recorded at
 * once again). */
void cp_event_queue_attach(cp_event_queue_t *q);
/* Records what q holds: ids, ring, listener, one write. */
void cp_event_queue_flush(cp_event_queue_t *q);
/* Flushes and frees; q is empty afterwards. */
void cp_event_queue_free(cp_event_queue_t *q);
/* Keeps the last cap events in memory (the control API's /events). */
int cp_events_ring_init(cp_events_t *ev, size_t cap);
/* Sets (or with NULL clears) the one listener told of each event, and
 * stores the newest id at that moment in *now. */
void cp_events_listen(cp_events_t *ev, cp_event_cb cb, void *arg,
                      uint64_t *now);
/* Events recorded and dropped so far (for /stats). */
void cp_events_counts(cp_events_t *ev, uint64_t *recorded, uint64_t *dropped);
/* Calls cb for each kept event with id > since, oldest first, at most
 * limit; returns how many events after since are no longer kept. */
uint64_t cp_events_query(cp_events_t *ev, uint64_t since, size_t limit,
                         cp_event_cb cb, void *arg);

/* via: the parent proxy's URL (no password) when the upstream goes
 * through one, else NULL; user: who authenticated to chainproxy, or NULL;
 * dst: a redirected connection's original destination (ADDR:PORT), or
 * NULL. */
void cp_event_connect(cp_events_t *ev, const cp_event_base_t *b,
                      const char *client, const char *method, const char *mode,
                      const char *via, const char *user, const char *dst);
/* `run --isolate`: CMD sent UDP (not DNS) to addr:port, and the
 * namespace refused it. */
void cp_event_udp_refused(cp_events_t *ev, const char *addr, int port);
/* A corporate-network behaviour a rule applied (conn_fault.c): its name,
 * a value (ms, bytes, KB/s, status; < 0: none) and a detail in words. */
void cp_event_fault(cp_events_t *ev, const cp_event_base_t *b,
                    const char *fault, long long value, const char *detail);
void cp_event_close(cp_events_t *ev, const cp_event_base_t *b,
                    const cp_event_close_t *c);
void cp_event_error(cp_events_t *ev, const cp_event_base_t *b,
                    const char *error, const char *message, const char *action,
                    int status);
void cp_event_request(cp_events_t *ev, const cp_event_base_t *b,
                      const cp_event_request_t *r);
/* The upstream leg beside its verdict: which key log lines are its own
 * and what it took (HAR's serverIPAddress, dns, connect and ssl). */
typedef struct cp_event_leg_s {
  const char *client_random; /* 64 hex digits; NULL or "": none */
  const char *server_ip;     /* NULL or "": unknown */
  int64_t dns_ms;            /* < 0: not measured (each of the three) */
  int64_t connect_ms;
  int64_t ssl_ms;
} cp_event_leg_t;

/* The `clients` array (event_who.c): a new reference. */
json_t *cp_event_clients_json(const cp_verify_result_t *r);
/* alpn: the protocol the upstream chose ("" for none); via: the parent
 * proxy's URL, NULL when direct; leg: NULL when unknown. */
void cp_event_upstream_verify(cp_events_t *ev, const cp_event_base_t *b,
                              const cp_verify_result_t *r, const char *sni,
                              const char *tls_error, const char *alpn,
                              const char *via, const cp_event_leg_t *leg);
void cp_event_client_handshake(cp_events_t *ev, const cp_event_base_t *b,
                               const cp_event_handshake_t *h);

#endif
