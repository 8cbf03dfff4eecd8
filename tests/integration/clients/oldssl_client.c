/* A TLS client on OpenSSL 3 that builds certificate chains the way older
 * OpenSSL versions did, to reproduce what old stacks did in 2020:
 *   current  OpenSSL 3 defaults (trusted certificates first)
 *   1.0.2    untrusted certificates first (X509_V_FLAG_TRUSTED_FIRST off),
 *            alternate chains still tried
 *   1.0.1    also no alternate chains (X509_V_FLAG_NO_ALT_CHAINS)
 * The flags must be changed on the X509_STORE_CTX itself, inside a
 * certificate verify callback: set on the SSL_CTX they are overridden by
 * the library defaults when verification starts.
 *
 *   oldssl_client MODE PROXY_HOST:PORT TARGET_HOST:PORT CAFILE
 * prints "ok" (exit 0) or "error N: TEXT (depth D)" (exit 1); exit 2 on
 * usage or connection errors. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

typedef struct {
  int mode; /* 0 current, 2 = 1.0.2, 1 = 1.0.1 */
  int error;
  int depth;
} client_t;


static int verify_like_old(X509_STORE_CTX *sctx, void *arg) {
  client_t *cl = arg;
  int ok;

  if (cl->mode != 0) {
    X509_VERIFY_PARAM_clear_flags(X509_STORE_CTX_get0_param(sctx),
                                  X509_V_FLAG_TRUSTED_FIRST);
  }
  if (cl->mode == 1) {
    X509_STORE_CTX_set_flags(sctx, X509_V_FLAG_NO_ALT_CHAINS);
  }
  ok = X509_verify_cert(sctx);
  if (ok <= 0) {
    cl->error = X509_STORE_CTX_get_error(sctx);
    cl->depth = X509_STORE_CTX_get_error_depth(sctx);
  }
  return ok;
}


static int split(char *hp, char **host, char **port) {
  char *c = strrchr(hp, ':');

  if (c == NULL) {
    return -1;
  }
  *c = '\0';
  *host = hp;
  *port = c + 1;
  return 0;
}


static int tcp(const char *host, const char *port) {
  struct addrinfo hints, *res, *ai;
  struct timeval tv = {20, 0};
  int fd = -1;

  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, port, &hints, &res) != 0) {
    return -1;
  }
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      break;
    }
    if (fd >= 0) {
      close(fd);
    }
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  return fd;
}


int main(int argc, char **argv) {
  client_t cl = {0, 0, 0};
  char *ph, *pp, *th, *tp, req[600], head[8192];
  size_t used = 0;
  SSL_CTX *ctx;
  SSL *ssl;
  int fd, rc;

  if (argc != 5 || split(argv[2], &ph, &pp) || split(argv[3], &th, &tp)) {
    fprintf(stderr, "usage: oldssl_client current|1.0.2|1.0.1 "
                    "PROXY_HOST:PORT TARGET_HOST:PORT CAFILE\n");
    return 2;
  }
  cl.mode = strcmp(argv[1], "1.0.2") == 0     ? 2
            : strcmp(argv[1], "1.0.1") == 0   ? 1
            : strcmp(argv[1], "current") == 0 ? 0
                                              : -1;
  if (cl.mode < 0) {
    fprintf(stderr, "oldssl_client: unknown mode %s\n", argv[1]);
    return 2;
  }
  fd = tcp(ph, pp);
  if (fd < 0) {
    fprintf(stderr, "oldssl_client: cannot connect to the proxy\n");
    return 2;
  }
  snprintf(req, sizeof(req), "CONNECT %s:%s HTTP/1.1\r\nHost: %s:%s\r\n\r\n",
           th, tp, th, tp);
  if (send(fd, req, strlen(req), 0) < 0) {
    return 2;
  }
  while (used < 4 || memcmp(head + used - 4, "\r\n\r\n", 4) != 0) {
    if (used == sizeof(head) || recv(fd, head + used, 1, 0) != 1) {
      fprintf(stderr, "oldssl_client: no answer to CONNECT\n");
      return 2;
    }
    used++;
  }
  if (strncmp(head, "HTTP/1.1 200", 12) != 0) {
    fprintf(stderr, "oldssl_client: CONNECT refused: %.40s\n", head);
    return 2;
  }
  ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, argv[4], NULL) != 1) {
    fprintf(stderr, "oldssl_client: cannot load %s\n", argv[4]);
    return 2;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  SSL_CTX_set_cert_verify_callback(ctx, verify_like_old, &cl);
  ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, th);
  SSL_set1_host(ssl, th);
  rc = SSL_connect(ssl);
  if (rc == 1) {
    printf("ok\n");
  } else if (cl.error != 0) {
    printf("error %d: %s (depth %d)\n", cl.error,
           X509_verify_cert_error_string(cl.error), cl.depth);
  } else {
    unsigned long e = ERR_peek_error();

    printf("error: %s\n", e ? ERR_reason_error_string(e)
                            : "handshake "
                              "failed");
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  return rc == 1 ? 0 : 1;
}
