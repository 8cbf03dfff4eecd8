/* `run --isolate`'s resolver: a UDP socket on 127.0.0.1:53 inside CMD's
 * namespace (made there by the helper, adopted here), which the
 * namespace's /etc/resolv.conf names. Names of the origin catalogue
 * (CASE.chainproxy.test, with --origins) are answered here (A 127.0.0.1:
 * the connection is redirected to chainproxy anyway, which dials the
 * case); every other query is relayed unchanged to the first nameserver
 * of the caller's /etc/resolv.conf from the caller's namespace, and its
 * answer relayed back. At most CP_ISOLATE_DNS_PENDING queries are in
 * flight; a new one takes the oldest's place (the client retries). Owns
 * its two UDP handles; cp_isolate_dns_close() closes them (async). */
#ifndef CP_ISOLATE_DNS_H
#define CP_ISOLATE_DNS_H

#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#define CP_ISOLATE_DNS_PENDING 64

typedef struct cp_isolate_dns_pending_s {
  uint16_t id_out; /* the id sent upstream */
  uint16_t id_in;  /* the client's id */
  struct sockaddr_storage client;
  unsigned used : 1;
} cp_isolate_dns_pending_t;

typedef struct cp_isolate_dns_s {
  uv_udp_t inner;                   /* embedded: in CMD's namespace */
  uv_udp_t outer;                   /* embedded: to the upstream resolver */
  struct sockaddr_storage upstream; /* the caller's resolver */
  int have_upstream;
  int catalogue; /* answer CASE.chainproxy.test (--origins) */
  uint16_t next_id;
  unsigned next_slot;
  uint64_t answered, relayed, refused; /* counters, for the summary */
  int open_handles;
  cp_isolate_dns_pending_t pending[CP_ISOLATE_DNS_PENDING];
} cp_isolate_dns_t;

/* Adopts fd (a bound UDP socket; ours from now on, even on error). 0, or
 * a libuv error. */
int cp_isolate_dns_init(cp_isolate_dns_t *d, uv_loop_t *loop, int fd,
                        int catalogue);
void cp_isolate_dns_close(cp_isolate_dns_t *d);

/* The pure part, for tests: the query's first question as a dotted name
 * and its type; 0, or -1 for a packet that is not a plain query. */
int cp_isolate_dns_question(const uint8_t *p, size_t len, char *name,
                            size_t namelen, uint16_t *qtype, size_t *end);

#endif
