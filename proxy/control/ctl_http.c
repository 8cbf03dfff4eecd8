#include "control/ctl_http.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rules/access.h"
#include "base/err.h"
#include "base/host.h"
#include "http/http_parse.h"
#include "net/leg.h"
#include "base/list.h"
#include "net/listener.h"

/* How long an answered connection waits for the client to close before it
 * is closed anyway (as the proxy's CLOSING does). */
#define LINGER_MS 5000
#define MAX_AUTH 512

typedef struct ctl_conn_s ctl_conn_t;

struct ctl_conn_s {
  cp_ctl_http_t *srv;      /* borrowed */
  ctl_conn_t *prev, *next; /* links in srv->conns */
  cp_leg_t leg;            /* embedded */
  uv_timer_t timer;        /* embedded: idle, request and linger deadline */
  cp_http_msg_t req;       /* owned */
  cp_buf_t body;           /* owned: the current request's body */
  int refs;                /* open handles */
  unsigned char peer[16];  /* the client's address (IPv4 mapped) */
  char local[64];          /* the address it reached, as text */
  unsigned local_loopback : 1;
  unsigned in_request : 1; /* a request's first byte came: its deadline runs */
  unsigned stream : 1;     /* an event stream: only written to */
  unsigned closing : 1;    /* answered for the last time */
  unsigned dead : 1;       /* handles are being closed */
};

struct cp_ctl_http_s {
  uv_loop_t *loop;        /* borrowed */
  const cp_config_t *cfg; /* borrowed */
  const cp_log_t *log;    /* borrowed */
  cp_listener_t listener; /* embedded */
  cp_ctl_handler handler;
  void *data;        /* the handler's */
  ctl_conn_t *conns; /* live connections */
  unsigned nconns;
  int handles; /* listener + connections not yet freed */
  unsigned stopping : 1;
};

static void on_data(cp_leg_t *leg, const char *data, size_t len);
static void on_eof(cp_leg_t *leg);
static void on_error(cp_leg_t *leg, int err);
static void on_connect(cp_leg_t *leg, int status);
static void on_drained(cp_leg_t *leg);
static void on_closed(cp_leg_t *leg);
static void on_handshake(cp_leg_t *leg);

static const cp_leg_cbs_t leg_cbs = {
    on_data, on_eof, on_error, on_connect, on_drained, on_closed, on_handshake,
};


static void srv_release(cp_ctl_http_t *srv) {
  if (--srv->handles == 0 && srv->stopping) {
    free(srv);
  }
}


static void conn_unref(ctl_conn_t *c) {
  cp_ctl_http_t *srv = c->srv;

  if (--c->refs > 0) {
    return;
  }
  cp_http_msg_free(&c->req);
  cp_buf_free(&c->body);
  cp_leg_free(&c->leg);
  free(c);
  srv_release(srv);
}


static void on_timer_closed(uv_handle_t *h) {
  conn_unref(h->data);
}


static void conn_close(ctl_conn_t *c) {
  cp_ctl_http_t *srv = c->srv;

  if (c->dead) {
    return;
  }
  c->dead = 1;
  CP_LIST_UNLINK(srv->conns, c);
  srv->nconns--;
  cp_leg_close(&c->leg);
  uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}


static void on_timer(uv_timer_t *t) {
  conn_close(t->data);
}


/* Waiting for a request: the idle timeout. */
static void arm_idle(ctl_conn_t *c) {
  if (!c->dead && !c->stream && !c->closing) {
    uv_timer_start(&c->timer, on_timer, c->srv->cfg->idle_timeout_ms, 0);
  }
}


/* A request's first byte: the whole request must follow within the
 * deadline. Reading more bytes does not extend it, so a client that
 * trickles a byte at a time cannot hold a slot. */
static void arm_request(ctl_conn_t *c) {
  uint64_t ms = c->srv->cfg->head_timeout_ms;

  if (ms == 0 || ms > CP_CTL_HEAD_MS) {
    ms = CP_CTL_HEAD_MS;
  }
  c->in_request = 1;
  uv_timer_start(&c->timer, on_timer, ms, 0);
}


/* Answered for the last time: wait for the client's close, once; bytes
 * it still sends are discarded and do not extend the wait. */
static void arm_linger(ctl_conn_t *c, uint64_t ms) {
  if (!c->dead) {
    uv_timer_start(&c->timer, on_timer, ms, 0);
  }
}


static void write_response(ctl_conn_t *c, const cp_ctl_response_t *r,
                           int head_only, int keep) {
  cp_buf_t h;
  int status = r->status;

  /* One write for head and body: room for both. */
  cp_buf_init(&h, 4096 + r->body.len);
  cp_buf_appendf(&h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n", status,
                 http_status_str((enum http_status)status),
                 r->content_type ? r->content_type : "application/json");
  if (r->stream) {
    cp_buf_append_str(&h, "Cache-Control: no-cache\r\n");
  } else {
    cp_buf_appendf(&h, "Content-Length: %zu\r\n", r->body.len);
  }
  if (r->allow != NULL) {
    cp_buf_appendf(&h, "Allow: %s\r\n", r->allow);
  }
  if (r->authenticate != NULL) {
    cp_buf_appendf(&h, "WWW-Authenticate: %s\r\n", r->authenticate);
  }
  if (r->headers != NULL) {
    cp_buf_append_str(&h, r->headers);
  }
  if (!r->stream && !keep) {
    cp_buf_append_str(&h, "Connection: close\r\n");
  }
  cp_buf_append_str(&h, "\r\n");
  if (!head_only) {
    cp_buf_append(&h, r->body.data, r->body.len);
  }
  if (cp_leg_write(&c->leg, h.data, h.len) != 0) {
    conn_close(c);
  }
  cp_buf_free(&h);
  c->in_request = 0;
  if (r->stream) {
    /* Event streams live until the reader leaves or falls behind. */
    c->stream = 1;
    uv_timer_stop(&c->timer);
  } else if (!keep && !c->dead) {
    /* FIN once the answer is out; read and discard until the client
     * closes, so unread request bytes do not turn into a reset that
     * destroys the answer. */
    c->closing = 1;
    cp_leg_shutdown(&c->leg);
    arm_linger(c, LINGER_MS);
  } else {
    arm_idle(c);
  }
}


/* A final error answer made here (not by the handler), then close. */
static void answer_error(ctl_conn_t *c, int status, const char *msg) {
  cp_ctl_response_t r;
  json_t *o = json_pack("{s:s}", "error", msg);
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

  memset(&r, 0, sizeof(r));
  r.status = status;
  cp_buf_init(&r.body, 4096);
  cp_buf_append_str(&r.body, s ? s : "{}");
  cp_buf_append(&r.body, "\n", 1);
  write_response(c, &r, 0, 0);
  cp_buf_free(&r.body);
  free(s);
  json_decref(o);
}


/* Live connections (not answered for the last time) and event streams,
 * in all and from one client address; c itself is not counted. */
static void count_conns(const ctl_conn_t *c, unsigned *all, unsigned *mine,
                        unsigned *streams, unsigned *my_streams) {
  const ctl_conn_t *o;

  *all = *mine = *streams = *my_streams = 0;
  for (o = c->srv->conns; o != NULL; o = o->next) {
    int same = memcmp(o->peer, c->peer, 16) == 0;

    if (o == c || o->closing || o->dead) {
      continue;
    }
    (*all)++;
    *mine += same;
    if (o->stream) {
      (*streams)++;
      *my_streams += same;
    }
  }
}


/* A header's value copied out NUL-terminated, or NULL when absent or
 * longer than cap allows. */
static const char *field_copy(ctl_conn_t *c, const char *name, char *out,
                              size_t cap) {
  size_t len = 0;
  const char *v = cp_http_msg_field(&c->req, name, &len);

  if (v == NULL || len >= cap) {
    return NULL;
  }
  memcpy(out, v, len);
  out[len] = '\0';
  return out;
}


/* An event stream over its caps is refused: one client's streams must
 * not take the slots everyone else needs. */
static int stream_refused(ctl_conn_t *c) {
  unsigned all, mine, streams, my_streams;
  char msg[200];

  count_conns(c, &all, &mine, &streams, &my_streams);
  if (streams < CP_CTL_MAX_STREAMS && my_streams < CP_CTL_STREAMS_PER_CLIENT) {
    return 0;
  }
  snprintf(msg, sizeof(msg),
           "too many event streams (at most %d, %d per client address)",
           CP_CTL_MAX_STREAMS, CP_CTL_STREAMS_PER_CLIENT);
  answer_error(c, 503, msg);
  return 1;
}


static void serve(ctl_conn_t *c) {
  cp_ctl_http_t *srv = c->srv;
  cp_ctl_request_t rq;
  cp_ctl_response_t rs;
  char *target = NULL;
  char auth[MAX_AUTH + 1];
  const char *a;
  size_t alen = 0;
  char host[CP_HOSTPORT_MAX], origin[CP_HOSTPORT_MAX + 16], site[32];
  int keep = c->req.keepalive_in && !srv->stopping;

  target = malloc(c->req.url_len + 1);
  if (target == NULL) {
    answer_error(c, 500, "out of memory");
    return;
  }
  memcpy(target, cp_http_msg_url(&c->req), c->req.url_len);
  target[c->req.url_len] = '\0';
  a = cp_http_msg_field(&c->req, "authorization", &alen);
  memset(&rq, 0, sizeof(rq));
  rq.method = cp_http_msg_method_name(&c->req);
  rq.target = target;
  if (a != NULL) {
    /* Longer than any token: pass a value that cannot match. */
    alen = alen > MAX_AUTH ? 0 : alen;
    memcpy(auth, a, alen);
    auth[alen] = '\0';
    rq.authorization = auth;
  }
  rq.host = field_copy(c, "host", host, sizeof(host));
  if (rq.host == NULL && cp_http_msg_field(&c->req, "host", &alen) != NULL) {
    rq.host = ""; /* too long to name anything: refused as foreign */
  }
  rq.origin = field_copy(c, "origin", origin, sizeof(origin));
  if (rq.origin == NULL &&
      cp_http_msg_field(&c->req, "origin", &alen) != NULL) {
    rq.origin = "";
  }
  rq.fetch_site = field_copy(c, "sec-fetch-site", site, sizeof(site));
  if (rq.fetch_site == NULL &&
      cp_http_msg_field(&c->req, "sec-fetch-site", &alen) != NULL) {
    rq.fetch_site = "";
  }
  rq.local = c->local;
  rq.local_loopback = c->local_loopback;
  rq.body = c->body.data ? c->body.data : "";
  rq.body_len = c->body.len;
  memset(&rs, 0, sizeof(rs));
  cp_buf_init(&rs.body, 8 * 1024 * 1024);
  srv->handler(srv->data, &rq, &rs);
  if (!rs.stream || !stream_refused(c)) {
    write_response(c, &rs, strcmp(rq.method, "HEAD") == 0, keep);
  }
  cp_buf_free(&rs.body);
  free(target);
}


static void request_error(ctl_conn_t *c, int rc) {
  if (rc == CP_EHDRSIZE) {
    answer_error(c, 431, "request head too large");
  } else if (rc == CP_ENOMEM) {
    answer_error(c, 413, "request body over 65536 bytes");
  } else {
    char msg[300];

    snprintf(msg, sizeof(msg), "malformed HTTP request: %s",
             c->req.err_text ? c->req.err_text : cp_strerror(rc));
    answer_error(c, 400, msg);
  }
}


static void on_data(cp_leg_t *leg, const char *data, size_t len) {
  ctl_conn_t *c = leg->owner;
  size_t off = 0;

  while (off < len && !c->stream && !c->closing && !c->dead) {
    size_t n = 0;
    int rc;

    if (!c->in_request) {
      arm_request(c);
    }
    rc = cp_http_msg_feed(&c->req, data + off, len - off, &n, &c->body);
    off += n;
    if (rc < 0) {
      request_error(c, rc);
      return;
    }
    /* Refuse an announced body over the limit before it is sent. */
    if (c->req.head_complete && c->req.content_length != UINT64_MAX &&
        c->req.content_length > CP_CTL_MAX_BODY) {
      request_error(c, CP_ENOMEM);
      return;
    }
    if (rc != CP_HTTP_DONE) {
      return;
    }
    serve(c);
    cp_http_msg_reset(&c->req);
    cp_buf_reset(&c->body);
  }
}


static void on_eof(cp_leg_t *leg) {
  conn_close(leg->owner);
}


static void on_error(cp_leg_t *leg, int err) {
  (void)err;
  conn_close(leg->owner);
}


static void on_connect(cp_leg_t *leg, int status) {
  (void)leg;
  (void)status;
}


static void on_drained(cp_leg_t *leg) {
  (void)leg;
}


static void on_handshake(cp_leg_t *leg) {
  (void)leg;
}


static void on_closed(cp_leg_t *leg) {
  conn_unref(leg->owner);
}


int cp_ctl_http_allowed(const cp_config_t *cfg, const unsigned char a[16]) {
  return cp_access_allowed(cfg->control_allow, cfg->ncontrol_allow, a);
}


static int peer_allowed(const cp_config_t *cfg, uv_tcp_t *tcp) {
  unsigned char a[16];

  return cp_access_peer(tcp, a) == 0 && cp_ctl_http_allowed(cfg, a);
}


/* The address the client reached, as the Host rule names it: IPv4
 * mapped addresses as IPv4. */
static void local_name(ctl_conn_t *c) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  unsigned char a[16];

  memset(a, 0, sizeof(a));
  if (uv_tcp_getsockname(&c->leg.tcp, (struct sockaddr *)&ss, &len) != 0) {
    return;
  }
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;

    uv_ip4_name(in, c->local, sizeof(c->local));
    a[10] = a[11] = 0xff;
    memcpy(a + 12, &in->sin_addr, 4);
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

    memcpy(a, &in6->sin6_addr, 16);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      struct sockaddr_in in;

      memset(&in, 0, sizeof(in));
      in.sin_family = AF_INET;
      memcpy(&in.sin_addr, a + 12, 4);
      uv_ip4_name(&in, c->local, sizeof(c->local));
    } else {
      uv_ip6_name(in6, c->local, sizeof(c->local));
    }
  }
  c->local_loopback = cp_host_addr_is_loopback(a) != 0;
}


/* Who may take a slot: allowed addresses, at most CP_CTL_MAX_PER_CLIENT
 * live connections each and CP_CTL_MAX_CONNS in all. A refused one is
 * answered and closed soon; 1 when refused. */
static int accept_refused(ctl_conn_t *c) {
  cp_ctl_http_t *srv = c->srv;
  unsigned all, mine, streams, my_streams;
  char msg[200];

  count_conns(c, &all, &mine, &streams, &my_streams);
  if (!peer_allowed(srv->cfg, &c->leg.tcp)) {
    answer_error(c, 403,
                 "this address may not use the control API (see "
                 "--control-allow)");
  } else if (mine >= CP_CTL_MAX_PER_CLIENT) {
    snprintf(msg, sizeof(msg),
             "too many control connections from this address (at most "
             "%d of %d)",
             CP_CTL_MAX_PER_CLIENT, CP_CTL_MAX_CONNS);
    answer_error(c, 503, msg);
  } else if (all >= CP_CTL_MAX_CONNS) {
    snprintf(msg, sizeof(msg), "too many control connections (at most %d)",
             CP_CTL_MAX_CONNS);
    answer_error(c, 503, msg);
  } else {
    return 0;
  }
  arm_linger(c, CP_CTL_REFUSED_LINGER_MS);
  return 1;
}


static void on_accept(cp_listener_t *l, int status) {
  cp_ctl_http_t *srv = l->data;
  ctl_conn_t *c;

  if (status < 0) {
    cp_log(srv->log, CP_LOG_WARN, 0, NULL, "accepting",
           "control: accept: "
           "%s",
           uv_strerror(status));
    return;
  }
  c = calloc(1, sizeof(*c));
  if (c == NULL || cp_leg_init(&c->leg, srv->loop, &leg_cbs, c, NULL) != 0) {
    free(c);
    return;
  }
  uv_timer_init(srv->loop, &c->timer);
  c->timer.data = c;
  c->refs = 2;
  c->srv = srv;
  srv->handles++;
  cp_http_msg_init(&c->req, CP_HTTP_REQUEST, CP_CTL_MAX_HEAD);
  c->req.body_only = 1;
  cp_buf_init(&c->body, CP_CTL_MAX_BODY);
  CP_LIST_PUSH(srv->conns, c);
  srv->nconns++;
  if (cp_leg_accept(&c->leg, (uv_stream_t *)&l->tcp) != 0) {
    conn_close(c);
    return;
  }
  /* Refused ones linger a moment: past this many, close at once. */
  if (srv->nconns > 4 * CP_CTL_MAX_CONNS) {
    conn_close(c);
    return;
  }
  cp_access_peer(&c->leg.tcp, c->peer);
  local_name(c);
  cp_leg_want_read(&c->leg, 1);
  if (accept_refused(c) != 0) {
    return;
  }
  arm_idle(c);
}


static void on_listener_closed(cp_listener_t *l) {
  srv_release(l->data);
}


int cp_ctl_http_start(cp_ctl_http_t **out, uv_loop_t *loop,
                      const cp_config_t *cfg, const cp_log_t *log,
                      cp_ctl_handler handler, void *data) {
  cp_ctl_http_t *srv = calloc(1, sizeof(*srv));
  int rc;

  *out = NULL;
  if (srv == NULL) {
    return UV_ENOMEM;
  }
  srv->loop = loop;
  srv->cfg = cfg;
  srv->log = log;
  srv->handler = handler;
  srv->data = data;
  srv->handles = 1;
  rc = cp_listener_start(&srv->listener, loop, cfg->control_host,
                         cfg->control_port, 64, on_accept, srv);
  if (rc != 0) {
    cp_ctl_http_stop(srv);
    return rc;
  }
  *out = srv;
  return 0;
}


void cp_ctl_http_stop(cp_ctl_http_t *srv) {
  if (srv == NULL || srv->stopping) {
    return;
  }
  srv->stopping = 1;
  while (srv->conns != NULL) {
    conn_close(srv->conns);
  }
  if (srv->listener.open) {
    cp_listener_stop(&srv->listener, on_listener_closed);
  } else {
    srv_release(srv);
  }
}


void cp_ctl_http_broadcast(cp_ctl_http_t *srv, const char *data, size_t len) {
  ctl_conn_t *c, *next;

  for (c = srv->conns; c != NULL; c = next) {
    next = c->next;
    if (!c->stream) {
      continue;
    }
    /* Bounded: a reader that does not keep up is cut. */
    if (cp_leg_queued(&c->leg) > CP_CTL_STREAM_MAX ||
        cp_leg_write(&c->leg, data, len) != 0) {
      conn_close(c);
    }
  }
}
