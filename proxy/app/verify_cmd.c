/* `chainproxy verify`: the proxy's verifier and classifier, one shot, for
 * people at a terminal. Online it connects (directly or through an HTTP
 * proxy with CONNECT) with blocking sockets and a deadline; offline it
 * verifies a PEM bundle. Either way the result is the same data the proxy
 * puts in its upstream_verify event. */
#include "app/verify_cmd.h"
#include "app/verify_opts.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/pem.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/esc.h"
#include "base/host.h"
#include "base/rfc3339.h"
#include "config/datadir.h"
#include "diag/diag.h"
#include "diag/policy.h"
#include "diag/revoke.h"
#include "diag/roots.h"
#include "diag/tls_names.h"
#include "diag/who.h"
#include "diag/whosim.h"
#include "events/event.h"
#include "events/event_verify.h"
#include "http/http_parse.h"
#include "http/parent.h"
#include "pki/ca.h"
#include "tls/tls_client.h"
#include "tls/tls_io.h"

static double mono_now(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/* Waits for events on fd until the deadline: 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, double deadline) {
  struct pollfd p = {fd, events, 0};
  int rc;

  do {
    double left = deadline - mono_now();

    if (left <= 0) {
      return 0;
    }
    rc = poll(&p, 1, (int)(left * 1000) + 1);
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}


/* Resolves and connects to host:port before the deadline, trying every
 * address; on failure why says which step failed. Hand-written on poll(2)
 * because BIO_do_connect_retry() (OpenSSL 3.0) retries a refused or
 * unresolvable target until the deadline and then reports only "connect
 * timeout", which would hide the very thing this command diagnoses. */
static int tcp_connect(const char *host, uint16_t port, double deadline,
                       char *why, size_t whylen) {
  struct addrinfo hints, *res = NULL, *ai;
  char service[8];
  int fd = -1, rc, err = 0, timed_out = 0;

  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  snprintf(service, sizeof(service), "%u", (unsigned)port);
  rc = getaddrinfo(host, service, &hints, &res);
  if (rc != 0) {
    snprintf(why, whylen, "DNS lookup of %s failed: %s", host,
             gai_strerror(rc));
    return -1;
  }
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    socklen_t len = sizeof(err);

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      err = errno;
      continue;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      break;
    }
    err = errno;
    if (err == EINPROGRESS) {
      if (!wait_fd(fd, POLLOUT, deadline)) {
        timed_out = 1;
      } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
                 err == 0) {
        break;
      }
    }
    close(fd);
    fd = -1;
    if (timed_out) {
      break;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    if (timed_out) {
      snprintf(why, whylen, "connecting to %s:%u timed out", host,
               (unsigned)port);
    } else if (err == ECONNREFUSED) {
      snprintf(why, whylen, "%s:%u refused the connection", host,
               (unsigned)port);
    } else {
      snprintf(why, whylen, "could not connect to %s:%u: %s", host,
               (unsigned)port, strerror(err));
    }
  }
  return fd;
}


/* CONNECT through the proxy on fd with OpenSSL's own client for it; 0 on
 * a 2xx, else why names the proxy's answer. */
static int proxy_connect(int fd, const cp_http_target_t *tg, double deadline,
                         char *why, size_t whylen) {
  BIO *bio = BIO_new_socket(fd, BIO_NOCLOSE);
  char host[CP_HOSTPORT_MAX], port[8];
  const char *data = NULL;
  unsigned long e;
  int flags = 0;
  int timeout = (int)(deadline - mono_now() + 0.999);
  int ok;

  if (bio == NULL) {
    snprintf(why, whylen, "out of memory");
    return -1;
  }
  cp_hostport_format(host, sizeof(host), tg->host, 0);
  snprintf(port, sizeof(port), "%u", (unsigned)tg->port);
  ERR_clear_error();
  ok = OSSL_HTTP_proxy_connect(bio, host, port, NULL, NULL,
                               timeout > 0 ? timeout : 1, NULL, NULL);
  BIO_free(bio);
  if (ok == 1) {
    return 0;
  }
  e = ERR_peek_last_error_data(&data, &flags);
  if (ERR_GET_LIB(e) == ERR_LIB_HTTP && (flags & ERR_TXT_STRING) &&
      strncmp(data, "reason=", 7) == 0) {
    /* "reason= 407 Proxy Authentication Required" */
    snprintf(why, whylen, "the proxy answered CONNECT with%s", data + 7);
  } else if (ERR_GET_REASON(e) == BIO_R_TRANSFER_TIMEOUT ||
             ERR_GET_REASON(e) == BIO_R_CONNECT_TIMEOUT) {
    snprintf(why, whylen, "the proxy did not answer CONNECT in time");
  } else {
    snprintf(why, whylen, "the proxy's answer to CONNECT is not usable: %s",
             e ? ERR_reason_error_string(e) : "connection closed");
  }
  ERR_clear_error();
  return -1;
}


/* CONNECT through a parent proxy (--upstream-proxy) on fd, with its
 * credentials; 0 on a 2xx, else stage and why say what the parent did,
 * named as the proxy names it. */
static int parent_connect(int fd, const cp_parent_t *p,
                          const cp_http_target_t *tg, double deadline,
                          const char **stage, char *why, size_t whylen) {
  char hp[CP_HOSTPORT_MAX], req[CP_HOSTPORT_MAX * 2 + 512], buf[16384];
  char what[400];
  cp_parent_reply_t r;
  size_t have = 0, n;
  int rc = 0;

  cp_hostport_format(hp, sizeof(hp), tg->host, tg->port);
  n = cp_parent_connect_request(p, hp, req, sizeof(req));
  *stage = "parent_proxy_closed";
  if (n == 0 || send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n) {
    snprintf(why, whylen, "parent proxy %s: could not send CONNECT", p->url);
    return -1;
  }
  /* Byte by byte, so nothing of the tunnel is read past the head; the
   * head can only end at a line's end. */
  while (rc == 0 && have < sizeof(buf)) {
    ssize_t got;

    if (!wait_fd(fd, POLLIN, deadline)) {
      *stage = "parent_proxy_timeout";
      snprintf(why, whylen, "parent proxy %s did not answer CONNECT in time",
               p->url);
      return -1;
    }
    got = recv(fd, buf + have, 1, 0);
    if (got <= 0) {
      snprintf(why, whylen,
               "parent proxy %s closed the connection without answering "
               "CONNECT",
               p->url);
      return -1;
    }
    if (buf[have++] == '\n' || have == sizeof(buf)) {
      rc = cp_parent_reply_parse(&r, buf, have, sizeof(buf));
    }
  }
  if (rc != 1) {
    *stage = "parent_proxy_bad_response";
    snprintf(why, whylen,
             "parent proxy %s answered CONNECT with something "
             "that is not HTTP",
             p->url);
    return -1;
  }
  *stage = cp_parent_reply_verdict(&r, what, sizeof(what));
  if (*stage == NULL) {
    return 0;
  }
  snprintf(why, whylen, "parent proxy %s %s (asked for %s)", p->url, what, hp);
  return -1;
}


/* The parent for tg from --upstream-proxy (a URL, or env with NO_PROXY);
 * NULL: direct. -1 with err on a bad value. */
static int pick_parent(const cp_verify_opts_t *o, const cp_http_target_t *tg,
                       cp_parents_t *ps, const cp_parent_t **out, char *err,
                       size_t errlen) {
  *out = NULL;
  memset(ps, 0, sizeof(*ps));
  if (o->upstream_proxy == NULL) {
    return 0;
  }
  if (strcmp(o->upstream_proxy, "env") == 0) {
    if (cp_parents_from_env(ps, "", 0, err, errlen) != 0) {
      return -1;
    }
  } else if (cp_parent_parse(&ps->https, o->upstream_proxy, err, errlen) != 0) {
    return -1;
  } else {
    ps->has_https = 1;
  }
  *out = cp_parents_pick(ps, NULL, 0, tg->host, tg->port, 1);
  return 0;
}


/* Drives the client handshake over fd: CP_TLS_DONE, or -1 with why. */
static int tls_over_fd(cp_tls_t *t, int fd, double deadline, char *why,
                       size_t whylen) {
  char buf[16384];

  for (;;) {
    int rc = cp_tls_handshake(t);
    size_t n;

    while ((n = cp_tls_take(t, buf, sizeof(buf))) > 0) {
      size_t off = 0;

      while (off < n) {
        ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);

        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
          if (!wait_fd(fd, POLLOUT, deadline)) {
            snprintf(why, whylen, "TLS handshake timed out");
            return -1;
          }
          continue;
        }
        if (w <= 0) {
          snprintf(why, whylen,
                   "connection lost during the TLS handshake: "
                   "%s",
                   strerror(errno));
          return -1;
        }
        off += (size_t)w;
      }
    }
    if (rc == CP_TLS_DONE) {
      return rc;
    }
    if (rc != CP_TLS_WANT) {
      if (t->alert_in >= 0) {
        snprintf(why, whylen, "the server sent TLS alert %s (%s)",
                 cp_tls_alert_name(t->alert_in), t->err);
      } else {
        snprintf(why, whylen, "TLS handshake failed: %s", t->err);
      }
      return -1;
    }
    for (;;) {
      ssize_t r = recv(fd, buf, sizeof(buf), 0);

      if (r > 0) {
        cp_tls_feed(t, buf, (size_t)r);
        break;
      }
      if (r == 0) {
        snprintf(why, whylen,
                 "the server closed the connection during the "
                 "TLS handshake");
        return -1;
      }
      if (errno != EAGAIN && errno != EINTR) {
        snprintf(why, whylen, "connection lost during the TLS handshake: %s",
                 strerror(errno));
        return -1;
      }
      if (!wait_fd(fd, POLLIN, deadline)) {
        snprintf(why, whylen, "TLS handshake timed out");
        return -1;
      }
    }
  }
}


/* Prints o indented on stdout and drops it. ASCII only: a name's bidi or
 * C1 control is printed as \u202e, never raw to the terminal. */
static void print_json(json_t *o) {
  char *s =
      json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);

  if (s != NULL) {
    puts(s);
  }
  free(s);
  json_decref(o);
}


/* Who breaks by simulation: every family of certs/families.json on the
 * presented chain and the trust store verify used (a file, or the
 * system bundle), at --at or now. */
static int simulate(const cp_verify_opts_t *o, const cp_who_t *who,
                    STACK_OF(X509) *certs, const char *name,
                    cp_verify_result_t *r) {
  cp_whosim_t sim;
  cp_datadir_t data;
  char err[600], path[1100];

  cp_datadir_find(&data, NULL);
  cp_datadir_path(&data, "families.json", path, sizeof(path));
  if (cp_whosim_load(&sim, path, o->ca_file, err, sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy verify: %s\n", err);
    return -1;
  }
  cp_whosim_judge(&sim, who, certs, NULL, o->at != 0 ? o->at : r->at,
                  name != NULL && !cp_host_is_ip(name) ? name : NULL, r);
  cp_whosim_free(&sim);
  return 0;
}


static int print_result(const cp_verify_opts_t *o, cp_verify_result_t *r,
                        STACK_OF(X509) *certs, const char *target,
                        const char *name) {
  cp_roots_t roots;
  cp_distrust_t distrust;
  cp_who_t who;
  cp_datadir_t data;
  char err[600], def_distrust[1100], def_clients[1100];

  cp_datadir_find(&data, NULL);
  cp_datadir_path(&data, "distrust.json", def_distrust, sizeof(def_distrust));
  cp_datadir_path(&data, "clients.json", def_clients, sizeof(def_clients));
  cp_diag_classify(r, name, o->warn_days);
  cp_roots_load(&roots, o->system_roots ? o->system_roots : CP_ROOTS_DIR);
  cp_roots_check(&roots, r);
  cp_roots_free(&roots);
  if (cp_distrust_load(&distrust, o->distrust ? o->distrust : def_distrust, err,
                       sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy verify: %s\n", err);
    return EXIT_USAGE;
  }
  cp_policy_check(&distrust, r);
  cp_distrust_free(&distrust);
  if (cp_who_load(&who, o->clients ? o->clients : def_clients, err,
                  sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy verify: --clients %s\n", err);
    return EXIT_USAGE;
  }
  cp_who_predict(&who, r);
  if (simulate(o, &who, certs, name, r) != 0) {
    cp_who_free(&who);
    return EXIT_USAGE;
  }
  if (o->json) {
    json_t *obj = json_object();

    json_object_set_new(obj, "target", json_string(target));
    json_object_set_new(obj, "trust_store",
                        o->ca_file ? json_string(o->ca_file)
                                   : json_string("system"));
    cp_verify_result_to_json(r, name && !cp_host_is_ip(name) ? name : NULL,
                             NULL, obj);
    print_json(obj);
  } else {
    cp_buf_t b;

    cp_buf_init(&b, 256 * 1024);
    cp_verify_format(r, target, o->chain_file ? NULL : name, &b);
    cp_whosim_format(r, &b);
    cp_buf_appendf(&b, "\ntrust store: %s\n",
                   o->ca_file ? cp_esc_str(err, sizeof(err), o->ca_file)
                              : "the system store");
    fwrite(b.data, 1, b.len, stdout);
    cp_buf_free(&b);
  }
  cp_who_free(&who); /* r->who points into it */
  r->nwho = 0;
  if (!r->ok) {
    return EXIT_FAILED;
  }
  /* unusual_validity is a browser policy: shown, not an exit status. */
  return r->warning ? EXIT_WARNING : EXIT_VERIFIED;
}


/* why may quote a proxy's answer: escaped (esc.h) for the terminal. */
static void connect_failed(const cp_verify_opts_t *o, const char *target,
                           const char *stage, const char *why) {
  char e[CP_ESC_SIZE(1400)];

  if (o->json) {
    print_json(json_pack("{s:s,s:b,s:s,s:s}", "target", target, "ok", 0,
                         "connect_error", stage, "message", why));
  }
  fprintf(stderr, "chainproxy verify: %s\n", cp_esc_str(e, sizeof(e), why));
}


/* Over TLS 1.3 a server that wants a client certificate refuses after
 * the client's side of the handshake is done: wait briefly for that
 * alert. 1 when it came (why says so). */
static int late_refusal(cp_tls_t *t, int fd, double deadline, char *why,
                        size_t whylen) {
  double until = mono_now() + 1.5;
  char buf[4096];
  size_t n;

  if (!t->cert_requested) {
    return 0;
  }
  if (until > deadline) {
    until = deadline;
  }
  while (wait_fd(fd, POLLIN, until)) {
    ssize_t r = recv(fd, buf, sizeof(buf), 0);

    if (r <= 0) {
      break;
    }
    cp_tls_feed(t, buf, (size_t)r);
    if (cp_tls_read(t, buf, sizeof(buf), &n) == CP_ETLS) {
      snprintf(why, whylen,
               "the server sent TLS alert %s after the "
               "handshake (%s)",
               cp_tls_alert_name(t->alert_in), t->err);
      return 1;
    }
  }
  return 0;
}


/* A failed handshake, classified (hs_diag.c): printed with its cause and
 * hint; exit 1, as for a chain that does not verify. */
static int handshake_failed(const cp_verify_opts_t *o, const cp_tls_t *t,
                            const char *target, const char *why) {
  cp_hs_facts_t f;
  cp_hs_result_t hs;
  char cas[512];
  char ewhy[CP_ESC_SIZE(1400)], ehint[CP_ESC_SIZE(sizeof(hs.hint))];

  cp_tls_client_facts(t, &f, cas, sizeof(cas));
  f.timed_out = strstr(why, "timed out") != NULL;
  f.closed = strstr(why, "closed") != NULL;
  f.offered = "h2,http/1.1";
  f.min_version = cp_tls_version_name(o->tls_min);
  cp_hs_classify(&f, &hs);
  if (o->json) {
    print_json(json_pack("{s:s,s:b,s:s,s:s,s:s,s:s}", "target", target, "ok", 0,
                         "connect_error", "tls", "message", why, "cause",
                         hs.name, "hint", hs.hint));
  }
  /* The hint may name the CAs the server asked for: peer text. */
  cp_esc_str(ewhy, sizeof(ewhy), why);
  cp_esc_str(ehint, sizeof(ehint), hs.hint);
  if (!o->json) {
    printf("%s: TLS handshake FAILED\n\nerror:  %s\ncause:  %s\nhint:   "
           "%s\n",
           target, ewhy, hs.name, ehint);
  }
  fprintf(stderr, "chainproxy verify: %s [%s]\n", ewhy, hs.name);
  return EXIT_FAILED;
}


static int verify_online(const cp_verify_opts_t *o) {
  cp_http_target_t tg, px;
  cp_parents_t ps;
  const cp_parent_t *parent = NULL;
  SSL_CTX *ctx = NULL;
  cp_tls_t *t = NULL;
  cp_verify_result_t *r = NULL;
  char err[512], why[1400], target[300];
  const char *name, *stage = "connect";
  double deadline = mono_now() + o->timeout;
  int fd = -1, rc = EXIT_CONNECT;

  if (cp_http_parse_authority(o->target, strlen(o->target), 443, &tg) != 0) {
    fprintf(stderr, "chainproxy verify: '%s' is not HOST[:PORT]\n", o->target);
    return EXIT_USAGE;
  }
  name = o->servername ? o->servername : tg.host;
  if (!cp_host_is_valid(name)) {
    fprintf(stderr,
            "chainproxy verify: --servername: '%s' is not a host "
            "name\n",
            name);
    return EXIT_USAGE;
  }
  cp_hostport_format(target, sizeof(target), tg.host, tg.port);
  if (o->proxy != NULL) {
    const char *a = o->proxy;

    if (strncmp(a, "http://", 7) == 0) {
      a += 7;
    }
    if (cp_http_parse_authority(a, strcspn(a, "/"), 8080, &px) != 0) {
      fprintf(stderr,
              "chainproxy verify: --proxy: '%s' is not "
              "http://HOST:PORT\n",
              o->proxy);
      return EXIT_USAGE;
    }
  }
  if (pick_parent(o, &tg, &ps, &parent, err, sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy verify: --upstream-proxy: %s\n", err);
    return EXIT_USAGE;
  }
  ctx = cp_tls_client_ctx_new(o->ca_file, o->tls_min, err, sizeof(err));
  if (ctx == NULL || cp_revoke_load_crls(SSL_CTX_get_cert_store(ctx), o->crls,
                                         o->ncrls, err, sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy verify: %s\n", err);
    SSL_CTX_free(ctx);
    return EXIT_USAGE;
  }
  if (parent != NULL) {
    fd = tcp_connect(parent->host, parent->port, deadline, err, sizeof(err));
    if (fd < 0) {
      snprintf(why, sizeof(why), "parent proxy %s could not be reached: %s",
               parent->url, err);
      stage = "parent_proxy_unreachable";
      goto fail;
    }
  } else {
    fd = o->proxy ? tcp_connect(px.host, px.port, deadline, why, sizeof(why))
                  : tcp_connect(tg.host, tg.port, deadline, why, sizeof(why));
  }
  if (fd < 0) {
    stage = strstr(why, "DNS")         ? "dns"
            : strstr(why, "refused")   ? "refused"
            : strstr(why, "timed out") ? "timeout"
                                       : "connect";
    goto fail;
  }
  if (o->proxy && proxy_connect(fd, &tg, deadline, why, sizeof(why))) {
    stage = "proxy";
    goto fail;
  }
  if (parent != NULL &&
      parent_connect(fd, parent, &tg, deadline, &stage, why, sizeof(why))) {
    goto fail;
  }
  stage = "tls";
  /* Offered as browsers do, so an HTTP/2-only server does not refuse
   * the handshake for ALPN alone. */
  if (cp_tls_new(&t, ctx, 0) != 0 || cp_tls_client_prepare(t, name) != 0 ||
      SSL_set_alpn_protos(t->ssl, (const unsigned char *)"\x02h2\x08http/1.1",
                          12) != 0) {
    snprintf(why, sizeof(why), "cannot set up TLS");
    goto fail;
  }
  if (o->at != 0) {
    X509_VERIFY_PARAM_set_time(SSL_get0_param(t->ssl), o->at);
  }
  if (tls_over_fd(t, fd, deadline, why, sizeof(why)) != CP_TLS_DONE ||
      late_refusal(t, fd, deadline, why, sizeof(why))) {
    /* The handshake failed for a reason that is not the chain: named
     * like the proxy names it, and a verification failure (exit 1). */
    rc = handshake_failed(o, t, target, why);
    goto out;
  }
  r = malloc(sizeof(*r));
  if (r == NULL) {
    snprintf(why, sizeof(why), "out of memory");
    goto fail;
  }
  cp_verify_result_build(&t->verify, SSL_get_peer_cert_chain(t->ssl), r);
  cp_revoke_staple(t->ssl, o->at, r);
  rc = print_result(o, r, SSL_get_peer_cert_chain(t->ssl), target, name);
  goto out;
fail:
  connect_failed(o, target, stage, why);
out:
  free(r);
  cp_tls_free(t);
  SSL_CTX_free(ctx);
  if (fd >= 0) {
    close(fd);
  }
  return rc;
}


/* The security level a TLS client here would verify with (Debian sets 2
 * in openssl.cnf), so that offline results match online ones. */
static int default_auth_level(void) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  int level = ctx ? SSL_CTX_get_security_level(ctx) : 1;

  SSL_CTX_free(ctx);
  return level;
}


static int verify_file(const cp_verify_opts_t *o) {
  STACK_OF(X509) *certs = sk_X509_new_null();
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *sctx = X509_STORE_CTX_new();
  cp_verify_rec_t rec;
  cp_verify_result_t *r = NULL;
  X509_VERIFY_PARAM *vp;
  BIO *in = NULL;
  X509 *x;
  char target[1200], err[600];
  int rc = EXIT_USAGE;

  memset(&rec, 0, sizeof(rec));
  if (certs == NULL || store == NULL || sctx == NULL) {
    fprintf(stderr, "chainproxy verify: out of memory\n");
    goto out;
  }
  in = BIO_new_file(o->chain_file, "r");
  if (in == NULL) {
    fprintf(stderr, "chainproxy verify: --chain-file %s: %s\n", o->chain_file,
            strerror(errno));
    goto out;
  }
  while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
    sk_X509_push(certs, x);
  }
  ERR_clear_error();
  if (sk_X509_num(certs) == 0) {
    fprintf(stderr,
            "chainproxy verify: --chain-file %s: no PEM "
            "certificate in it\n",
            o->chain_file);
    goto out;
  }
  if (o->ca_file ? X509_STORE_load_file(store, o->ca_file) != 1
                 : X509_STORE_set_default_paths(store) != 1) {
    fprintf(stderr,
            "chainproxy verify: --upstream-ca %s: cannot load "
            "certificates from it\n",
            o->ca_file ? o->ca_file : "(system)");
    goto out;
  }
  if (cp_revoke_load_crls(store, o->crls, o->ncrls, err, sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy verify: %s\n", err);
    goto out;
  }
  if (o->host != NULL && !cp_host_is_valid(o->host)) {
    fprintf(stderr, "chainproxy verify: --host: '%s' is not a host name\n",
            o->host);
    goto out;
  }
  if (X509_STORE_CTX_init(sctx, store, sk_X509_value(certs, 0), certs) != 1 ||
      X509_STORE_CTX_set_default(sctx, "ssl_server") != 1) {
    fprintf(stderr, "chainproxy verify: cannot set up verification\n");
    goto out;
  }
  vp = X509_STORE_CTX_get0_param(sctx);
  X509_VERIFY_PARAM_set_auth_level(vp, default_auth_level());
  if (o->host != NULL) {
    if (cp_host_is_ip(o->host)) {
      X509_VERIFY_PARAM_set1_ip_asc(vp, o->host);
    } else {
      X509_VERIFY_PARAM_set1_host(vp, o->host, 0);
    }
  }
  if (o->at != 0) {
    X509_VERIFY_PARAM_set_time(vp, o->at);
  }
  cp_verify_run(sctx, &rec);
  r = malloc(sizeof(*r));
  if (r == NULL) {
    fprintf(stderr, "chainproxy verify: out of memory\n");
    goto out;
  }
  cp_verify_result_build(&rec, certs, r);
  snprintf(target, sizeof(target), "%s%s%s", o->chain_file,
           o->host ? " for " : "", o->host ? o->host : "");
  rc = print_result(o, r, certs, target, o->host);
out:
  free(r);
  cp_verify_rec_clear(&rec);
  BIO_free(in);
  X509_STORE_CTX_free(sctx);
  X509_STORE_free(store);
  sk_X509_pop_free(certs, X509_free);
  return rc;
}


int cp_verify_cmd(int argc, char **argv) {
  cp_verify_opts_t o;
  int rc = cp_verify_opts_parse(&o, argc, argv);

  if (rc != 0) {
    return rc > 0 ? EXIT_VERIFIED : EXIT_USAGE;
  }
  return o.chain_file ? verify_file(&o) : verify_online(&o);
}
