/* The catalogue's servers: the index (plain HTTP on the base port: the
 * listing in HTML and JSON, the intermediate its AIA URL names, the CRL,
 * the OCSP responder) and one TLS server per case on base + 1 + i, each
 * configured as the case says (pki/catalogue). A dedicated thread polls
 * the listening sockets and hands each connection to a short-lived thread
 * of its own (blocking I/O, 5 s timeouts, at most CP_ORIGINS_MAX_CONNS at
 * once): the catalogue is a fixture, it needs to be simple, not fast, and
 * it must not share the proxy's loops when the proxy runs it in-process
 * (--origins). A cp_origins_t owns its catalogue, sockets, SSL_CTXs and
 * threads; cp_origins_stop() joins them and frees everything. */
#ifndef CP_ORIGINS_H
#define CP_ORIGINS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "pki/catalogue.h"

#define CP_ORIGINS_MAX_CONNS 64

typedef struct cp_origins_s {
  cp_catalogue_t cat;      /* owned */
  cp_profiles_t *profiles; /* owned: outlives cat */
  char host[64];           /* IP literal the servers listen on */
  uint16_t base;           /* the index's port; case i on base + 1 + i */
  size_t ncases;
  int fds[CP_CATALOGUE_MAX + 1];  /* [0] index, [1 + i] case i */
  SSL_CTX *ctx[CP_CATALOGUE_MAX]; /* owned */
  int stop_pipe[2];
  pthread_t thread;
  int running;
  int active;         /* connection threads alive (atomic builtins) */
  char *listing_json; /* owned: /cases.json */
  char *listing_html; /* owned: / */
  double build_ms;    /* building the certificates */
} cp_origins_t;

/* Builds the catalogue (CA in ca_dir/catalogue), binds every port on host
 * from base, starts the accept thread. err names what failed (a port in
 * use names the port). */
int cp_origins_start(cp_origins_t *o, const char *ca_dir, const char *host,
                     uint16_t base, const char *profiles_path, char *err,
                     size_t errlen);
/* Stops accepting, waits (at most about 6 s) for the connections, frees. */
void cp_origins_stop(cp_origins_t *o);
/* The listing (/cases.json) as a new JSON object. */
json_t *cp_origins_listing(const cp_origins_t *o);

#endif
