/* The breakage horizon per host and client family, for /metrics: the
 * date each family will stop accepting the chain the host last
 * presented (the path simulator's first notAfter on that family's path;
 * whosim.h). Bounded: at most CP_HORIZON_MAX_HOSTS hosts are kept, the
 * host seen longest ago making room for a new one, so the gauge's
 * cardinality is at most that times the number of families.
 *
 * Ownership: the server owns one cp_horizons_t, shared by the workers
 * (which note) and the control API (which renders); one mutex guards
 * it. Hosts are copied in. */
#ifndef CP_HORIZON_H
#define CP_HORIZON_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "diag/verify.h"

#define CP_HORIZON_MAX_HOSTS 64

typedef struct cp_horizons_s cp_horizons_t;

struct cp_horizons_s {
  pthread_mutex_t mu;
  int n;
  uint64_t evicted; /* hosts dropped to stay within the cap */
  struct {
    char host[256];
    time_t seen;
    int nfam;
    struct {
      char id[24];
      time_t horizon; /* 0: the family fails on it now */
    } fam[CP_VERIFY_MAX_FAMILIES];
  } h[CP_HORIZON_MAX_HOSTS];
};

void cp_horizons_init(cp_horizons_t *hz);
void cp_horizons_free(cp_horizons_t *hz);
/* Records r's families for host (replacing what it had). */
void cp_horizons_note(cp_horizons_t *hz, const char *host,
                      const cp_verify_result_t *r, time_t now);
/* chainproxy_chain_horizon_timestamp_seconds{host,family} and the
 * eviction counter, in Prometheus text format. */
int cp_horizons_prometheus(cp_horizons_t *hz, cp_buf_t *out);

#endif
