/* Connections open, in total and per remote address, across every
 * worker: what --max-conns and --max-conns-per-client count. The total is
 * one atomic counter; the addresses are a bounded open-addressing table
 * under a mutex, taken once when a connection opens and once when it is
 * freed. */
#ifndef CP_PEERS_H
#define CP_PEERS_H

#include <pthread.h>
#include <stddef.h>

typedef struct cp_peers_s cp_peers_t;

struct cp_peers_s {
  pthread_mutex_t mu;
  struct {
    unsigned char addr[16]; /* IPv4-mapped form */
    unsigned n;             /* 0: free */
  } * slots;                /* owned */
  size_t cap;               /* a power of two */
  size_t used;
  unsigned open; /* connections open, all addresses (atomic) */
};

/* Room for at least max_addrs addresses. */
int cp_peers_init(cp_peers_t *p, size_t max_addrs);
void cp_peers_free(cp_peers_t *p);
/* One more connection from addr: its count now (0 when the table is
 * full: the address is not capped rather than refused). */
unsigned cp_peers_add(cp_peers_t *p, const unsigned char addr[16]);
void cp_peers_remove(cp_peers_t *p, const unsigned char addr[16]);

#endif
