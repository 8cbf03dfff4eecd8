/* The upstream pool (--upstream-pool, a rule's "upstream_pool"; off by
 * default, because a diagnostic proxy shows each client its own upstream
 * connection). When an intercepted tunnel ends with its HTTP/1.1
 * upstream idle and reusable, the upstream's socket and TLS session go to
 * its worker's pool with the verdict they were judged with; a later
 * tunnel to the same host, port and SNI, under the same rules and data
 * (snapshot), takes it instead of connecting and handshaking again.
 *
 * A cp_pool_t belongs to one worker and is used on its thread only. It
 * owns every idle entry (socket, TLS session, verdict, snapshot
 * reference); an entry taken belongs to the conn (c->dial.pooled) until
 * cp_pool_entry_free. Entries idle longer than CP_POOL_IDLE_MS are closed
 * by the worker's sweep (or when the pool is next used); one whose origin
 * closed or spoke meanwhile is dropped when it is found. This module calls no
 * conn.c function: conn.c frees entries, the state modules put and take. */
#ifndef CP_CONN_POOL_H
#define CP_CONN_POOL_H

#include <stdint.h>

#include <uv.h>

#include "conn/conn.h"
#include "rules/snap.h"
#include "tls/resume.h"
#include "tls/tls_io.h"

/* Idle connections per worker; how long one is kept at most (and no
 * longer than --idle-timeout); how often the worker closes expired ones. */
#define CP_POOL_MAX 64
#define CP_POOL_IDLE_MS 30000
#define CP_POOL_SWEEP_MS 5000

typedef struct cp_pool_s cp_pool_t;
typedef struct cp_pool_entry_s cp_pool_entry_t;

struct cp_pool_entry_s {
  cp_pool_entry_t *next;
  char host[CP_HOST_MAX + 1]; /* the target */
  uint16_t port;
  char name[CP_HOST_MAX + 1]; /* the SNI name the session was made for */
  cp_snap_t *snap;            /* one reference: the rules and data */
  uv_os_sock_t fd;            /* owned; -1 once adopted */
  cp_tls_t *tls;              /* owned; NULL once adopted */
  cp_resume_blob_t *blob;     /* one reference: the packed verdict */
  char server_ip[48];
  uint64_t since; /* loop time it became idle, ms */
  unsigned uses;  /* tunnels it served before */
};

struct cp_pool_s {
  cp_snaps_t *snaps; /* borrowed */
  cp_pool_entry_t *head;
  unsigned n;
  uint64_t idle_ms;
};

void cp_pool_init(cp_pool_t *p, cp_snaps_t *snaps, uint64_t idle_ms);
/* Closes every idle connection. */
void cp_pool_free(cp_pool_t *p);
void cp_pool_entry_free(cp_pool_t *p, cp_pool_entry_t *e);
/* Closes what stayed idle too long (now: the loop's time, ms). The worker
 * calls it every CP_POOL_SWEEP_MS, so an idle proxy lets go too. */
void cp_pool_expire(cp_pool_t *p, uint64_t now);

/* The pool applies to c's target: --upstream-pool or the rule for name
 * (NULL: none) says so, and c is an intercepted CONNECT, direct. */
int cp_conn_pool_wanted(const cp_conn_t *c, const cp_rule_t *ru);
/* An idle connection to c's target (any name) is there now. */
int cp_conn_pool_has(cp_conn_t *c);
/* The idle connection for c's target and SNI name (c->tls.name) under
 * c's snapshot, alive, removed from the pool; NULL: none. */
cp_pool_entry_t *cp_conn_pool_take(cp_conn_t *c);
/* The conn is finishing (not aborted): its upstream goes to the pool when
 * it is an idle, healthy HTTP/1.1 connection judged acceptable and the
 * pool applies (a state's on_finish). */
void cp_conn_pool_put(cp_conn_t *c);

#endif
