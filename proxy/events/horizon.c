#include "events/horizon.h"

#include <stdio.h>
#include <string.h>


void cp_horizons_init(cp_horizons_t *hz) {
  memset(hz, 0, sizeof(*hz));
  pthread_mutex_init(&hz->mu, NULL);
}


void cp_horizons_free(cp_horizons_t *hz) {
  pthread_mutex_destroy(&hz->mu);
}


/* The host's slot: its own, a free one, or the one seen longest ago. */
static int slot_for(cp_horizons_t *hz, const char *host) {
  int i, oldest = 0;

  for (i = 0; i < hz->n; i++) {
    if (strcmp(hz->h[i].host, host) == 0) {
      return i;
    }
    if (hz->h[i].seen < hz->h[oldest].seen) {
      oldest = i;
    }
  }
  if (hz->n < CP_HORIZON_MAX_HOSTS) {
    return hz->n++;
  }
  hz->evicted++;
  return oldest;
}


void cp_horizons_note(cp_horizons_t *hz, const char *host,
                      const cp_verify_result_t *r, time_t now) {
  int s, i;

  if (host == NULL || host[0] == '\0' || r->nfam == 0 ||
      strlen(host) >= sizeof(hz->h[0].host)) {
    return;
  }
  pthread_mutex_lock(&hz->mu);
  s = slot_for(hz, host);
  snprintf(hz->h[s].host, sizeof(hz->h[s].host), "%s", host);
  hz->h[s].seen = now;
  hz->h[s].nfam = 0;
  for (i = 0; i < r->nfam && i < CP_VERIFY_MAX_FAMILIES; i++) {
    memcpy(hz->h[s].fam[i].id, r->fam[i].id, sizeof(r->fam[i].id));
    hz->h[s].fam[i].horizon = r->fam[i].pass ? r->fam[i].horizon : 0;
    hz->h[s].nfam++;
  }
  pthread_mutex_unlock(&hz->mu);
}


/* A label value: backslash, double quote and newline escaped. */
static void label(cp_buf_t *b, const char *s) {
  for (; *s != '\0'; s++) {
    if (*s == '\\' || *s == '"') {
      cp_buf_appendf(b, "\\%c", *s);
    } else if (*s == '\n') {
      cp_buf_appendf(b, "\\n");
    } else {
      cp_buf_appendf(b, "%c", *s);
    }
  }
}


int cp_horizons_prometheus(cp_horizons_t *hz, cp_buf_t *b) {
  int i, k, rc;

  pthread_mutex_lock(&hz->mu);
  cp_buf_appendf(b,
                 "# HELP chainproxy_chain_horizon_timestamp_seconds "
                 "when each client family will stop accepting the chain "
                 "the host last presented (path simulation; 0: it fails "
                 "now), for at most %d hosts\n"
                 "# TYPE chainproxy_chain_horizon_timestamp_seconds "
                 "gauge\n",
                 CP_HORIZON_MAX_HOSTS);
  for (i = 0; i < hz->n; i++) {
    for (k = 0; k < hz->h[i].nfam; k++) {
      cp_buf_appendf(b, "chainproxy_chain_horizon_timestamp_seconds{host=\"");
      label(b, hz->h[i].host);
      cp_buf_appendf(b, "\",family=\"");
      label(b, hz->h[i].fam[k].id);
      cp_buf_appendf(b, "\"} %lld\n", (long long)hz->h[i].fam[k].horizon);
    }
  }
  rc = cp_buf_appendf(b,
                      "# HELP chainproxy_chain_horizon_hosts_evicted_total "
                      "hosts dropped from the horizon gauge to keep it "
                      "within %d hosts\n"
                      "# TYPE chainproxy_chain_horizon_hosts_evicted_total "
                      "counter\n"
                      "chainproxy_chain_horizon_hosts_evicted_total %llu\n",
                      CP_HORIZON_MAX_HOSTS, (unsigned long long)hz->evicted);
  pthread_mutex_unlock(&hz->mu);
  return rc;
}
