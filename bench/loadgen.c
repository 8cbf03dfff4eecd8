/* chainproxy's load generator: libuv and OpenSSL, one loop, many
 * connections, each a small state machine (TCP connect, CONNECT through
 * the proxy, TLS handshake verifying the chain, HTTP/1.1 requests with a
 * Content-Length answer). It stops at its duration or op count, whichever
 * comes first, and prints one line of key=value results (and, with -s, a
 * line per second).
 *
 * Modes:
 *   new        a fresh tunnel, full TLS handshake (no resumption), one GET
 *   keepalive  one tunnel per connection, GET repeatedly
 *   bulk       keepalive with a large path (MB/s is what counts)
 *   idle       open -c tunnels (one GET each, 64 handshakes at a time),
 *              hold them until -d seconds have passed, and report the
 *              proxy's RSS growth per tunnel at the end (-p PID,PID...:
 *              its processes)
 *   hosts      new, with the SNI and Host cycling over -H names
 *              (h0.SUFFIX, h1.SUFFIX, ...): leaves minted per name
 *
 * Only 127.0.0.1 / ::1 targets are accepted: a benchmark never leaves the
 * machine. */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <uv.h>

enum { M_NEW, M_KEEPALIVE, M_BULK, M_IDLE, M_HOSTS };
enum { S_CONNECTING, S_PROXY, S_TLS, S_HEAD, S_BODY, S_IDLE, S_DONE };

typedef struct opts_s {
  int mode, conc, hosts, per_second;
  double seconds;
  uint64_t max_ops;
  const char *proxy;  /* host:port, NULL: direct */
  const char *target; /* host:port the tunnel goes to */
  const char *name;   /* SNI and Host */
  const char *suffix; /* hosts mode: h<i>.<suffix> */
  const char *path, *ca;
  const char *pids; /* idle: the proxy's processes, whose RSS is summed */
} opts_t;

typedef struct client_s client_t;

typedef struct bench_s {
  opts_t o;
  uv_loop_t *loop;
  SSL_CTX *ctx;
  struct sockaddr_storage addr; /* proxy, or target when direct */
  client_t *clients;
  uint64_t ops, errors, bytes, started_ops, host_seq;
  uint32_t *lat_us; /* one per op, bounded by max_ops */
  uint64_t t0, t_end, last_tick_ops, last_tick_bytes;
  int established, stopping;
  long rss_end;
  uv_timer_t tick;
  char err_first[160];
  char rbuf[65536];
} bench_t;

struct client_s {
  bench_t *b;
  uv_tcp_t tcp;
  uv_connect_t creq;
  SSL *ssl;
  BIO *rbio, *wbio;
  int state, open;
  uint64_t t_op;
  char head[4096];
  size_t head_len;
  uint64_t body_left;
  char name[256];
};

static void client_start(client_t *c);
static long rss_kb(const char *pids);
static void client_next(client_t *c);


static uint64_t now_us(bench_t *b) {
  (void)b;
  return uv_hrtime() / 1000;
}


static void fail_op(client_t *c, const char *why) {
  bench_t *b = c->b;

  if (b->stopping) { /* cut by the end of the run, not a failure */
    client_next(c);
    return;
  }
  b->errors++;
  if (b->err_first[0] == '\0') {
    snprintf(b->err_first, sizeof(b->err_first), "%s", why);
  }
  client_next(c); /* close and start over */
}


static void on_write(uv_write_t *w, int status) {
  free(w->data);
  free(w);
  (void)status; /* a failed write shows up as a read error */
}


static int send_raw(client_t *c, const char *p, size_t n) {
  uv_write_t *w = malloc(sizeof(*w));
  char *copy = malloc(n);
  uv_buf_t buf;

  if (w == NULL || copy == NULL) {
    free(w);
    free(copy);
    return -1;
  }
  memcpy(copy, p, n);
  w->data = copy;
  buf = uv_buf_init(copy, (unsigned)n);
  return uv_write(w, (uv_stream_t *)&c->tcp, &buf, 1, on_write);
}


/* What OpenSSL wants on the wire. */
static int flush_tls(client_t *c) {
  char out[16384];
  int n;

  while ((n = BIO_read(c->wbio, out, sizeof(out))) > 0) {
    if (send_raw(c, out, (size_t)n) != 0) {
      return -1;
    }
  }
  return 0;
}


static void send_request(client_t *c) {
  const char *colon = strrchr(c->b->o.target, ':');
  char req[512];
  /* Host names the target's port, as curl does (squid checks it against
   * the CONNECT). */
  int n = snprintf(req, sizeof(req),
                   "GET %s HTTP/1.1\r\nHost: %s%s\r\nUser-Agent: "
                   "cp-loadgen\r\n\r\n",
                   c->b->o.path, c->name, colon ? colon : "");

  c->t_op = c->t_op ? c->t_op : now_us(c->b);
  c->state = S_HEAD;
  c->head_len = 0;
  if (SSL_write(c->ssl, req, n) != n || flush_tls(c) != 0) {
    fail_op(c, "write failed");
  }
}


static void op_done(client_t *c) {
  bench_t *b = c->b;
  uint64_t t = now_us(b);

  if (b->ops < b->o.max_ops) {
    uint64_t us = t - c->t_op;

    b->lat_us[b->ops] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
  }
  b->ops++;
  c->t_op = 0;
  if (b->o.mode == M_IDLE) {
    c->state = S_IDLE;
    b->established++;
    return;
  }
  if (b->o.mode == M_NEW || b->o.mode == M_HOSTS) {
    client_next(c);
    return;
  }
  if (b->stopping || b->ops >= b->o.max_ops) {
    c->state = S_DONE;
    return;
  }
  send_request(c);
}


/* The response head is whole: Content-Length says how much body follows. */
static int parse_head(client_t *c, size_t *consumed) {
  char *end, *cl;
  size_t len;

  c->head[c->head_len] = '\0';
  end = strstr(c->head, "\r\n\r\n");
  if (end == NULL) {
    return c->head_len + 1 >= sizeof(c->head) ? -1 : 0;
  }
  len = (size_t)(end - c->head) + 4;
  if (strncmp(c->head, "HTTP/1.1 200", 12) != 0) {
    return -1;
  }
  cl = strcasestr(c->head, "\r\ncontent-length:");
  if (cl == NULL || cl > end) {
    return -1;
  }
  c->body_left = strtoull(cl + 17, NULL, 10);
  *consumed = len;
  return 1;
}


static void on_plain(client_t *c, const char *p, size_t n) {
  bench_t *b = c->b;

  while (n > 0 && c->state != S_DONE) {
    if (c->state == S_HEAD) {
      size_t room = sizeof(c->head) - 1 - c->head_len,
             take = n < room ? n : room;
      size_t used = 0;
      int rc;

      memcpy(c->head + c->head_len, p, take);
      c->head_len += take;
      rc = parse_head(c, &used);
      if (rc < 0) {
        fail_op(c, "bad response head");
        return;
      }
      if (rc == 0) {
        return;
      }
      /* Bytes past the head in this slice are body. */
      used = take - (c->head_len - used);
      p += used;
      n -= used;
      c->state = S_BODY;
      if (c->body_left == 0) {
        op_done(c);
      }
    } else if (c->state == S_BODY) {
      size_t take = n < c->body_left ? n : (size_t)c->body_left;

      c->body_left -= take;
      b->bytes += take;
      p += take;
      n -= take;
      if (c->body_left == 0) {
        op_done(c);
      }
    } else {
      return; /* idle: bytes after the answer are ignored */
    }
  }
}


static void tls_progress(client_t *c) {
  char buf[65536];
  int n;

  if (c->state == S_TLS) {
    n = SSL_do_handshake(c->ssl);
    if (flush_tls(c) != 0) {
      fail_op(c, "write failed");
      return;
    }
    if (n != 1) {
      if (SSL_get_error(c->ssl, n) != SSL_ERROR_WANT_READ) {
        char e[120];

        snprintf(e, sizeof(e), "TLS: %s",
                 ERR_reason_error_string(ERR_peek_last_error()));
        ERR_clear_error();
        fail_op(c, e);
      }
      return;
    }
    send_request(c);
  }
  /* op_done() or a failure may close the client (ssl NULL) mid-loop. */
  while (c->ssl != NULL && c->state != S_DONE && c->state != S_TLS &&
         (n = SSL_read(c->ssl, buf, sizeof(buf))) > 0) {
    on_plain(c, buf, (size_t)n);
  }
  if (c->ssl != NULL) {
    flush_tls(c);
  }
}


static void start_tls(client_t *c) {
  c->ssl = SSL_new(c->b->ctx);
  c->rbio = BIO_new(BIO_s_mem());
  c->wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(c->ssl, c->rbio, c->wbio);
  SSL_set_connect_state(c->ssl);
  SSL_set_tlsext_host_name(c->ssl, c->name);
  SSL_set1_host(c->ssl, c->name);
  c->state = S_TLS;
  tls_progress(c);
}


/* One loop: every read is consumed before the next, so all clients
 * share the bench's buffer. */
static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  client_t *c = h->data;

  (void)hint;
  *buf = uv_buf_init(c->b->rbuf, sizeof(c->b->rbuf));
}


static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  client_t *c = s->data;

  if (n < 0) {
    fail_op(c, n == UV_EOF ? "closed by peer" : uv_strerror((int)n));
    return;
  }
  if (n == 0) {
    return;
  }
  if (c->state == S_PROXY) {
    /* The CONNECT answer: a head, nothing after it until TLS starts. */
    size_t room = sizeof(c->head) - 1 - c->head_len;

    if ((size_t)n > room) {
      fail_op(c, "CONNECT answer too long");
      return;
    }
    memcpy(c->head + c->head_len, buf->base, (size_t)n);
    c->head_len += (size_t)n;
    c->head[c->head_len] = '\0';
    if (strstr(c->head, "\r\n\r\n") == NULL) {
      return;
    }
    if (strncmp(c->head, "HTTP/1.1 200", 12) != 0 &&
        strncmp(c->head, "HTTP/1.0 200", 12) != 0) {
      fail_op(c, "CONNECT refused");
      return;
    }
    start_tls(c);
    return;
  }
  if (c->ssl == NULL) {
    return; /* closed: bytes still in flight */
  }
  BIO_write(c->rbio, buf->base, (int)n);
  tls_progress(c);
}


static void on_connect(uv_connect_t *req, int status) {
  client_t *c = req->handle->data;
  char line[600];

  if (status != 0) {
    fail_op(c, uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
  if (c->b->o.proxy == NULL) {
    start_tls(c);
    return;
  }
  c->state = S_PROXY;
  c->head_len = 0;
  snprintf(line, sizeof(line), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n",
           c->b->o.target, c->b->o.target);
  if (send_raw(c, line, strlen(line)) != 0) {
    fail_op(c, "write failed");
  }
}


static void on_closed(uv_handle_t *h) {
  client_t *c = h->data;

  c->open = 0;
  /* idle: a tunnel that failed is counted, not replaced. */
  if (!c->b->stopping && c->b->ops < c->b->o.max_ops &&
      c->b->o.mode != M_IDLE) {
    client_start(c);
  }
}


static void client_close(client_t *c) {
  if (c->ssl != NULL) {
    SSL_free(c->ssl); /* frees the BIOs */
    c->ssl = NULL;
  }
  if (c->open && !uv_is_closing((uv_handle_t *)&c->tcp)) {
    uv_close((uv_handle_t *)&c->tcp, on_closed);
  }
}


static void client_next(client_t *c) {
  c->state = S_DONE;
  c->t_op = 0;
  client_close(c);
}


static void client_start(client_t *c) {
  bench_t *b = c->b;

  if (b->o.mode == M_HOSTS) {
    snprintf(c->name, sizeof(c->name), "h%llu.%s",
             (unsigned long long)(b->host_seq++ % (uint64_t)b->o.hosts),
             b->o.suffix);
  } else {
    snprintf(c->name, sizeof(c->name), "%s", b->o.name);
  }
  c->t_op = now_us(b);
  c->state = S_CONNECTING;
  c->head_len = 0;
  uv_tcp_init(b->loop, &c->tcp);
  c->tcp.data = c;
  c->open = 1;
  b->started_ops++;
  if (uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&b->addr,
                     on_connect) != 0) {
    fail_op(c, "connect failed");
  }
}


static long rss_one(const char *pid) {
  char path[64], line[256];
  long kb = -1;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%s/status", pid);
  f = fopen(path, "r");
  while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "VmRSS:", 6) == 0) {
      kb = strtol(line + 6, NULL, 10);
    }
  }
  if (f != NULL) {
    fclose(f);
  }
  return kb;
}


/* "12,34": the RSS of each, summed. */
static long rss_kb(const char *pids) {
  char one[16];
  long sum = 0, kb;
  size_t n;

  while (*pids) {
    n = strcspn(pids, ",");
    if (n == 0 || n >= sizeof(one)) {
      return -1;
    }
    memcpy(one, pids, n);
    one[n] = '\0';
    kb = rss_one(one);
    if (kb < 0) {
      return -1;
    }
    sum += kb;
    pids += n + (pids[n] == ',');
  }
  return sum;
}


static void stop_all(bench_t *b) {
  int i;

  b->stopping = 1;
  b->t_end = now_us(b);
  uv_timer_stop(&b->tick);
  uv_close((uv_handle_t *)&b->tick, NULL);
  for (i = 0; i < b->o.conc; i++) {
    client_close(&b->clients[i]);
  }
}


static void on_tick(uv_timer_t *t) {
  bench_t *b = t->data;
  double el = (double)(now_us(b) - b->t0) / 1e6;

  if (b->o.per_second) {
    fprintf(stderr, "t=%.0f ops_per_s=%llu MBps=%.1f errors=%llu\n", el,
            (unsigned long long)(b->ops - b->last_tick_ops),
            (double)(b->bytes - b->last_tick_bytes) / 1e6,
            (unsigned long long)b->errors);
  }
  b->last_tick_ops = b->ops;
  b->last_tick_bytes = b->bytes;
  if (el + 0.05 >= b->o.seconds ||
      (b->o.mode != M_IDLE && b->ops >= b->o.max_ops)) {
    if (b->o.mode == M_IDLE && b->o.pids != NULL) {
      b->rss_end = rss_kb(b->o.pids); /* held for the whole duration */
    }
    stop_all(b);
  }
}


static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

  return x < y ? -1 : x > y;
}


static double pct(const uint32_t *v, uint64_t n, double p) {
  return n == 0 ? 0 : v[(uint64_t)((double)(n - 1) * p)] / 1000.0;
}


static int parse_addr(const char *hp, struct sockaddr_storage *ss) {
  char host[64];
  const char *colon = strrchr(hp, ':');
  int port;

  if (colon == NULL || (size_t)(colon - hp) >= sizeof(host)) {
    return -1;
  }
  memcpy(host, hp, (size_t)(colon - hp));
  host[colon - hp] = '\0';
  port = atoi(colon + 1);
  if (strcmp(host, "127.0.0.1") == 0) {
    return uv_ip4_addr(host, port, (struct sockaddr_in *)ss);
  }
  if (strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0) {
    return uv_ip6_addr("::1", port, (struct sockaddr_in6 *)ss);
  }
  return -1; /* loopback only */
}


static void usage(void) {
  fprintf(stderr,
          "usage: loadgen -m new|keepalive|bulk|idle|hosts -c CONC -d SECONDS "
          "-n MAXOPS\n"
          "  -x PROXY_HOSTPORT (omit: direct) -t TARGET_HOSTPORT -N NAME "
          "-C CA_FILE\n"
          "  [-P PATH] [-H HOSTS -S SUFFIX] [-p PID[,PID...]] [-s]\n");
  exit(2);
}


static void parse_opts(opts_t *o, int argc, char **argv) {
  static const char *modes[] = {"new", "keepalive", "bulk", "idle", "hosts"};
  int i, m;

  memset(o, 0, sizeof(*o));
  o->mode = -1;
  o->conc = 16;
  o->seconds = 10;
  o->max_ops = 1000000;
  o->hosts = 1;
  o->path = NULL;
  for (i = 1; i + 1 < argc || (i < argc && strcmp(argv[i], "-s") == 0); i++) {
    const char *f = argv[i], *v = argv[i + 1];

    if (strcmp(f, "-s") == 0) {
      o->per_second = 1;
      continue;
    }
    i++;
    if (strcmp(f, "-m") == 0) {
      for (m = 0; m < 5; m++) {
        o->mode = strcmp(v, modes[m]) == 0 ? m : o->mode;
      }
    } else if (strcmp(f, "-c") == 0) {
      o->conc = atoi(v);
    } else if (strcmp(f, "-d") == 0) {
      o->seconds = atof(v);
    } else if (strcmp(f, "-n") == 0) {
      o->max_ops = strtoull(v, NULL, 10);
    } else if (strcmp(f, "-x") == 0) {
      o->proxy = v;
    } else if (strcmp(f, "-t") == 0) {
      o->target = v;
    } else if (strcmp(f, "-N") == 0) {
      o->name = v;
    } else if (strcmp(f, "-C") == 0) {
      o->ca = v;
    } else if (strcmp(f, "-P") == 0) {
      o->path = v;
    } else if (strcmp(f, "-H") == 0) {
      o->hosts = atoi(v);
    } else if (strcmp(f, "-S") == 0) {
      o->suffix = v;
    } else if (strcmp(f, "-p") == 0) {
      o->pids = v;
    } else {
      usage();
    }
  }
  if (o->mode < 0 || o->conc < 1 || o->conc > 60000 || o->seconds <= 0 ||
      o->seconds > 3600 || o->max_ops < 1 || o->max_ops > 50000000 ||
      o->target == NULL || o->ca == NULL || o->hosts < 1 ||
      (o->mode == M_HOSTS && o->suffix == NULL) ||
      (o->mode != M_HOSTS && o->name == NULL)) {
    usage();
  }
  if (o->path == NULL) {
    o->path = o->mode == M_BULK ? "/1m" : "/1k";
  }
}


int main(int argc, char **argv) {
  bench_t b;
  long rss0 = -1, rss1 = -1;
  double el;
  int i;

  memset(&b, 0, sizeof(b));
  parse_opts(&b.o, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (parse_addr(b.o.proxy ? b.o.proxy : b.o.target, &b.addr) != 0) {
    fprintf(stderr, "loadgen: only 127.0.0.1 or ::1 targets\n");
    return 2;
  }
  b.loop = uv_default_loop();
  b.ctx = SSL_CTX_new(TLS_client_method());
  if (b.ctx == NULL ||
      SSL_CTX_load_verify_locations(b.ctx, b.o.ca, NULL) != 1) {
    fprintf(stderr, "loadgen: cannot load %s\n", b.o.ca);
    return 2;
  }
  SSL_CTX_set_verify(b.ctx, SSL_VERIFY_PEER, NULL);
  /* A full handshake every time, as a fresh client makes. */
  SSL_CTX_set_session_cache_mode(b.ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(b.ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_mode(b.ctx, SSL_MODE_RELEASE_BUFFERS);
  b.lat_us = calloc(b.o.max_ops, sizeof(*b.lat_us));
  b.clients = calloc((size_t)b.o.conc, sizeof(*b.clients));
  if (b.lat_us == NULL || b.clients == NULL) {
    fprintf(stderr, "loadgen: out of memory\n");
    return 2;
  }
  if (b.o.mode == M_IDLE && b.o.pids != NULL) {
    rss0 = rss_kb(b.o.pids);
  }
  b.t0 = now_us(&b);
  uv_timer_init(b.loop, &b.tick);
  b.tick.data = &b;
  uv_timer_start(&b.tick, on_tick, 1000, 1000);
  for (i = 0; i < b.o.conc; i++) {
    b.clients[i].b = &b;
    if (b.o.mode == M_IDLE) {
      /* Tunnels accumulate as they do in life: at most 64 handshakes at
       * a time. */
      while (!b.stopping && i - b.established - (int)b.errors >= 64) {
        uv_run(b.loop, UV_RUN_ONCE);
      }
    }
    client_start(&b.clients[i]);
  }
  if (b.o.mode == M_IDLE) {
    /* Until every tunnel is up (or the time is over), then hold. */
    while (!b.stopping && b.established + (int)b.errors < b.o.conc) {
      uv_run(b.loop, UV_RUN_ONCE);
    }
  }
  uv_run(b.loop, UV_RUN_DEFAULT);
  rss1 = b.rss_end;
  el = (double)(b.t_end - b.t0) / 1e6;
  {
    uint64_t n = b.ops < b.o.max_ops ? b.ops : b.o.max_ops;

    qsort(b.lat_us, n, sizeof(*b.lat_us), cmp_u32);
    printf("mode=%s conc=%d hosts=%d elapsed_s=%.2f ops=%llu errors=%llu "
           "rate_per_s=%.1f MBps=%.2f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f",
           argv[2], b.o.conc, b.o.hosts, el, (unsigned long long)b.ops,
           (unsigned long long)b.errors, el > 0 ? (double)b.ops / el : 0,
           el > 0 ? (double)b.bytes / 1e6 / el : 0, pct(b.lat_us, n, 0.50),
           pct(b.lat_us, n, 0.99), pct(b.lat_us, n, 0.999));
  }
  if (b.o.mode == M_IDLE) {
    printf(" tunnels=%d rss_before_kb=%ld rss_after_kb=%ld per_tunnel_kb=%.1f",
           b.established, rss0, rss1,
           b.established > 0 && rss0 >= 0
               ? (double)(rss1 - rss0) / b.established
               : -1.0);
  }
  if (b.err_first[0]) {
    printf(" first_error=\"%s\"", b.err_first);
  }
  printf("\n");
  uv_loop_close(b.loop);
  SSL_CTX_free(b.ctx);
  free(b.lat_us);
  free(b.clients);
  return 0;
}
