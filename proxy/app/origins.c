#include "app/origins.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <openssl/err.h>

#include "app/origins_index.h"
#include "pki/profile.h"
#include "base/err.h"

typedef struct {
  cp_origins_t *o; /* borrowed: outlives every connection (stop waits) */
  int fd;          /* owned */
  int idx;         /* case, or CP_CATALOGUE_INDEX */
} origin_conn_t;


static double now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}


static int body_of(const cp_origins_t *o, int idx, char *out, size_t len) {
  const cp_cat_case_t *c = &cp_catalogue_cases(&(size_t){0})[idx];

  (void)o;
  return snprintf(out, len, "chainproxy catalogue: %s\n%s\n", c->name,
                  c->breaks);
}


/* HTTP/1.1 on the TLS connection: one request, one answer, close. */
static void serve_http1(origin_conn_t *oc, SSL *ssl) {
  char req[16384], body[512], head[256];
  size_t got = 0;
  int n, blen;

  while (got < sizeof(req) - 1) {
    n = SSL_read(ssl, req + got, (int)(sizeof(req) - 1 - got));
    if (n <= 0) {
      return;
    }
    got += (size_t)n;
    req[got] = '\0';
    if (strstr(req, "\r\n\r\n") != NULL) {
      break;
    }
  }
  blen = body_of(oc->o, oc->idx, body, sizeof(body));
  n = snprintf(head, sizeof(head),
               "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Length: %d\r\nConnection: close\r\n\r\n",
               blen);
  if (SSL_write(ssl, head, n) > 0) {
    SSL_write(ssl, body, blen);
  }
}


/* HTTP/2 (h2-only, and any case whose client picked h2): nghttp2 over the
 * blocking SSL, answer each request, stop after the first completes. */
typedef struct {
  SSL *ssl;
  char body[512];
  size_t blen, sent;
  int done;
} h2_ctx_t;


static ssize_t h2_send(nghttp2_session *s, const uint8_t *data, size_t len,
                       int flags, void *ud) {
  h2_ctx_t *h = ud;
  int n = SSL_write(h->ssl, data, (int)len);

  (void)s;
  (void)flags;
  return n > 0 ? n : NGHTTP2_ERR_CALLBACK_FAILURE;
}


static ssize_t h2_read_body(nghttp2_session *s, int32_t id, uint8_t *buf,
                            size_t len, uint32_t *flags,
                            nghttp2_data_source *src, void *ud) {
  h2_ctx_t *h = ud;
  size_t n = h->blen - h->sent;

  (void)s;
  (void)id;
  (void)src;
  if (n > len) {
    n = len;
  }
  memcpy(buf, h->body + h->sent, n);
  h->sent += n;
  if (h->sent == h->blen) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  }
  return (ssize_t)n;
}


static int h2_on_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud) {
  static const char ctype[] = "text/plain; charset=utf-8";
  nghttp2_nv nv[] = {
      {(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE},
      {(uint8_t *)"content-type", (uint8_t *)ctype, 12, sizeof(ctype) - 1,
       NGHTTP2_NV_FLAG_NONE}};
  nghttp2_data_provider dp;

  (void)ud;
  if (f->hd.type == NGHTTP2_HEADERS &&
      (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
    memset(&dp, 0, sizeof(dp));
    dp.read_callback = h2_read_body;
    nghttp2_submit_response(s, f->hd.stream_id, nv, 2, &dp);
  }
  return 0;
}


static int h2_on_close(nghttp2_session *s, int32_t id, uint32_t code,
                       void *ud) {
  h2_ctx_t *h = ud;

  (void)id;
  (void)code;
  h->done = 1;
  nghttp2_submit_goaway(s, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(s),
                        NGHTTP2_NO_ERROR, NULL, 0);
  return 0;
}


static void serve_h2(origin_conn_t *oc, SSL *ssl) {
  nghttp2_session_callbacks *cb = NULL;
  nghttp2_session *s = NULL;
  h2_ctx_t h;
  uint8_t buf[16384];
  int n, rounds;

  memset(&h, 0, sizeof(h));
  h.ssl = ssl;
  h.blen = (size_t)body_of(oc->o, oc->idx, h.body, sizeof(h.body));
  if (nghttp2_session_callbacks_new(&cb) != 0) {
    return;
  }
  nghttp2_session_callbacks_set_send_callback(cb, h2_send);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2_on_frame);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_on_close);
  if (nghttp2_session_server_new(&s, cb, &h) != 0) {
    goto out;
  }
  nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0);
  /* Bounded: a client that keeps the connection gets 64 reads. */
  for (rounds = 0; rounds < 64; rounds++) {
    if (nghttp2_session_send(s) != 0 || h.done) {
      break;
    }
    n = SSL_read(ssl, buf, sizeof(buf));
    if (n <= 0 || nghttp2_session_mem_recv(s, buf, (size_t)n) < 0) {
      break;
    }
  }
  nghttp2_session_send(s);
out:
  nghttp2_session_del(s);
  nghttp2_session_callbacks_del(cb);
}


static void serve_tls(origin_conn_t *oc) {
  SSL *ssl = SSL_new(oc->o->ctx[oc->idx]);
  const unsigned char *alpn = NULL;
  unsigned alpn_len = 0;

  if (ssl == NULL || SSL_set_fd(ssl, oc->fd) != 1) {
    SSL_free(ssl);
    return;
  }
  ERR_clear_error();
  if (SSL_accept(ssl) == 1) {
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    if (alpn_len == 2 && memcmp(alpn, "h2", 2) == 0) {
      serve_h2(oc, ssl);
    } else {
      serve_http1(oc, ssl);
    }
    SSL_shutdown(ssl);
  }
  ERR_clear_error();
  SSL_free(ssl);
}


/* A close with unread bytes is a reset, and a reset can destroy the
 * alert just sent before the client reads it (TLS 1.3 clients send their
 * request before the server's certificate_required arrives): send FIN,
 * then read what is left for at most a second. */
static void linger_close(int fd) {
  struct timeval tv = {1, 0};
  char buf[4096];
  int i;

  shutdown(fd, SHUT_WR);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  for (i = 0; i < 64 && recv(fd, buf, sizeof(buf), 0) > 0; i++) {
  }
  close(fd);
}


static void *conn_main(void *arg) {
  origin_conn_t *oc = arg;
  struct timeval tv = {5, 0};

  setsockopt(oc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(oc->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (oc->idx == CP_CATALOGUE_INDEX) {
    cp_origins_index_serve(oc->o, oc->fd);
  } else {
    serve_tls(oc);
  }
  linger_close(oc->fd);
  __atomic_sub_fetch(&oc->o->active, 1, __ATOMIC_SEQ_CST);
  free(oc);
  return NULL;
}


static void accept_one(cp_origins_t *o, int slot) {
  origin_conn_t *oc;
  pthread_attr_t attr;
  pthread_t t;
  int fd = accept(o->fds[slot], NULL, NULL);

  if (fd < 0) {
    return;
  }
  if (__atomic_add_fetch(&o->active, 1, __ATOMIC_SEQ_CST) >
          CP_ORIGINS_MAX_CONNS ||
      (oc = calloc(1, sizeof(*oc))) == NULL) {
    __atomic_sub_fetch(&o->active, 1, __ATOMIC_SEQ_CST);
    close(fd);
    return;
  }
  oc->o = o;
  oc->fd = fd;
  oc->idx = slot == 0 ? CP_CATALOGUE_INDEX : slot - 1;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&t, &attr, conn_main, oc) != 0) {
    __atomic_sub_fetch(&o->active, 1, __ATOMIC_SEQ_CST);
    close(fd);
    free(oc);
  }
  pthread_attr_destroy(&attr);
}


static void *accept_main(void *arg) {
  cp_origins_t *o = arg;
  struct pollfd pfd[CP_CATALOGUE_MAX + 2];
  size_t i, n = o->ncases + 1;

  for (i = 0; i < n; i++) {
    pfd[i].fd = o->fds[i];
    pfd[i].events = POLLIN;
  }
  pfd[n].fd = o->stop_pipe[0];
  pfd[n].events = POLLIN;
  for (;;) {
    if (poll(pfd, n + 1, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (pfd[n].revents != 0) {
      break;
    }
    for (i = 0; i < n; i++) {
      if (pfd[i].revents & POLLIN) {
        accept_one(o, (int)i);
      }
    }
  }
  return NULL;
}


static int listen_on(const char *host, uint16_t port, int *out, char *err,
                     size_t errlen) {
  struct sockaddr_storage ss;
  socklen_t sl;
  int fd, one = 1;

  memset(&ss, 0, sizeof(ss));
  if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
    ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
    ((struct sockaddr_in *)&ss)->sin_port = htons(port);
    sl = sizeof(struct sockaddr_in);
  } else if (inet_pton(AF_INET6, host,
                       &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
    ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
    ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
    sl = sizeof(struct sockaddr_in6);
  } else {
    return cp_errf(err, errlen, CP_EINVAL, "%s: not an IP address", host);
  }
  fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return cp_errf(err, errlen, -errno, "socket: %s", strerror(errno));
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 128) != 0) {
    int e = errno;

    close(fd);
    return cp_errf(err, errlen, -e, "cannot listen on %s port %u: %s", host,
                   port, strerror(e));
  }
  *out = fd;
  return 0;
}


static int select_alpn(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned inlen, void *arg) {
  static const unsigned char h2[] = "\x02h2";
  static const unsigned char h1[] = "\x08http/1.1";
  const cp_cat_case_t *c = arg;
  const unsigned char *want = c->alpn == CP_CAT_ALPN_H2 ? h2 : h1;
  unsigned wlen = c->alpn == CP_CAT_ALPN_H2 ? 3 : 9;

  (void)ssl;
  if (SSL_select_next_proto((unsigned char **)out, outlen, want, wlen, in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    /* RFC 7301 3.2: no protocol in common is a fatal
     * no_application_protocol alert. */
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}


static SSL_CTX *case_ctx(cp_origins_t *o, int i, char *err, size_t errlen) {
  const cp_cat_case_t *c = &cp_catalogue_cases(&(size_t){0})[i];
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  int ok;

  if (ctx == NULL) {
    cp_errf(err, errlen, CP_ETLS, "SSL_CTX_new");
    return NULL;
  }
  if (c->seclevel0) {
    /* RSA 1024, SHA-1 and TLS 1.0/1.1 are below OpenSSL 3's default
     * security level 1, for the certificates loaded as for the
     * handshake. */
    SSL_CTX_set_security_level(ctx, 0);
  }
  ok = SSL_CTX_use_certificate(ctx, o->cat.leaf[i]) == 1 &&
       SSL_CTX_use_PrivateKey(ctx, o->cat.key[i]) == 1 &&
       SSL_CTX_set1_chain(ctx, o->cat.chain[i]) == 1 &&
       (c->tls_min == 0 || SSL_CTX_set_min_proto_version(ctx, c->tls_min)) &&
       (c->tls_max == 0 || SSL_CTX_set_max_proto_version(ctx, c->tls_max)) &&
       (c->ciphers == NULL || SSL_CTX_set_cipher_list(ctx, c->ciphers) == 1);
  if (ok && c->client_cert) {
    X509_STORE *st = SSL_CTX_get_cert_store(ctx);

    ok = X509_STORE_add_cert(st, o->cat.ca.root) == 1;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       NULL);
  }
  if (c->alpn != CP_CAT_ALPN_NONE) {
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, (void *)c);
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (!ok) {
    cp_errf(err, errlen, CP_ETLS, "case %s: TLS setup failed: %s", c->name,
            ERR_reason_error_string(ERR_peek_last_error()));
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}


int cp_origins_start(cp_origins_t *o, const char *ca_dir, const char *host,
                     uint16_t base, const char *profiles_path, char *err,
                     size_t errlen) {
  cp_profiles_t *profiles = NULL;
  char url[128];
  double t0 = now_ms();
  size_t i;
  int rc;

  memset(o, 0, sizeof(*o));
  o->stop_pipe[0] = o->stop_pipe[1] = -1;
  for (i = 0; i < CP_ARRAY_SIZE(o->fds); i++) {
    o->fds[i] = -1;
  }
  cp_catalogue_cases(&o->ncases);
  snprintf(o->host, sizeof(o->host), "%s", host);
  o->base = base;
  if ((unsigned)base + o->ncases > 65535) {
    return cp_errf(err, errlen, CP_EINVAL,
                   "base port %u leaves no room for %zu cases", base,
                   o->ncases);
  }
  profiles = malloc(sizeof(*profiles));
  if (profiles == NULL) {
    return CP_ENOMEM;
  }
  o->profiles = profiles; /* the incident cases' clones borrow it */
  rc = cp_profiles_load(profiles, profiles_path, err, errlen);
  snprintf(url, sizeof(url),
           strchr(host, ':') ? "http://[%s]:%u" : "http://%s:%u", host, base);
  if (rc == 0) {
    rc = cp_catalogue_build(&o->cat, ca_dir, profiles, url, err, errlen);
  }
  if (rc != 0) {
    goto fail;
  }
  o->build_ms = now_ms() - t0;
  for (i = 0; i < o->ncases; i++) {
    o->ctx[i] = case_ctx(o, (int)i, err, errlen);
    if (o->ctx[i] == NULL) {
      rc = CP_ETLS;
      goto fail;
    }
  }
  for (i = 0; i <= o->ncases; i++) {
    rc = listen_on(host, cp_catalogue_port(base, (int)i - 1), &o->fds[i], err,
                   errlen);
    if (rc != 0) {
      goto fail;
    }
  }
  rc = cp_origins_index_build(o, err, errlen);
  if (rc != 0) {
    goto fail;
  }
  if (pipe(o->stop_pipe) != 0) {
    rc = cp_errf(err, errlen, -errno, "pipe: %s", strerror(errno));
    goto fail;
  }
  if (pthread_create(&o->thread, NULL, accept_main, o) != 0) {
    rc = cp_errf(err, errlen, CP_ENOMEM, "cannot start the accept thread");
    goto fail;
  }
  o->running = 1;
  return 0;
fail:
  cp_origins_stop(o);
  return rc;
}


void cp_origins_stop(cp_origins_t *o) {
  size_t i;
  int waited;

  if (o->running) {
    if (write(o->stop_pipe[1], "x", 1) != 1) {
      /* the thread still stops at the pipe's close below */
    }
    pthread_join(o->thread, NULL);
    o->running = 0;
  }
  for (i = 0; i < CP_ARRAY_SIZE(o->fds); i++) {
    if (o->fds[i] >= 0) {
      close(o->fds[i]);
      o->fds[i] = -1;
    }
  }
  /* Connection threads time out after 5 s of silence at most. */
  for (waited = 0;
       waited < 600 && __atomic_load_n(&o->active, __ATOMIC_SEQ_CST) > 0;
       waited++) {
    usleep(10000);
  }
  for (i = 0; i < 2; i++) {
    if (o->stop_pipe[i] >= 0) {
      close(o->stop_pipe[i]);
      o->stop_pipe[i] = -1;
    }
  }
  if (__atomic_load_n(&o->active, __ATOMIC_SEQ_CST) > 0) {
    return; /* a thread still holds o: leak rather than free under it */
  }
  for (i = 0; i < CP_CATALOGUE_MAX; i++) {
    SSL_CTX_free(o->ctx[i]);
    o->ctx[i] = NULL;
  }
  free(o->listing_json);
  o->listing_json = NULL;
  free(o->listing_html);
  o->listing_html = NULL;
  cp_catalogue_free(&o->cat);
  free(o->profiles);
  o->profiles = NULL;
}
