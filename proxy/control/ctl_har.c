/* GET /har: the kept events as HAR 1.2 (docs/export.md). */
#include "control/ctl_har.h"

#include <stdint.h>
#include <string.h>

#include "control/ctl_resp.h"
#include "events/har.h"

/* With the event log locked: the line is only copied, and parsed after
 * the lock is released, so the workers' events do not wait on /har. */
static void har_event(void *arg, uint64_t id, const char *kind,
                      const char *json, size_t len) {
  (void)id;
  (void)kind;
  if (cp_buf_append(arg, json, len) == 0) {
    cp_buf_append(arg, "\n", 1); /* a JSON line holds no raw newline */
  }
}


/* host= from a query string into out (a host name or a glob: letters,
 * digits, '.', '-', '*', ':'); 1 when absent, -1 when malformed. */
static int query_host(const char *q, char *out, size_t cap) {
  const char *p = strstr(q, "host=");
  size_t n;

  if (p == NULL || (p != q && p[-1] != '&')) {
    return 1;
  }
  p += 5;
  n = strcspn(p, "&");
  if (n == 0 || n >= cap ||
      strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
                "KLMNOPQRSTUVWXYZ0123456789.-*:[]") < n) {
    return -1;
  }
  memcpy(out, p, n);
  out[n] = '\0';
  return 0;
}


/* HAR 1.2 of the kept events (docs/export.md), filtered by host (a
 * glob), since (an event id) and conn (a connection id). */
void cp_ctl_har_get(const cp_control_env_t *env, const char *query,
                    cp_ctl_response_t *r) {
  unsigned long long since, conn;
  cp_har_filter_t f;
  char host[256];
  int hrc = query_host(query, host, sizeof(host));
  cp_har_t *h;
  json_t *har;
  cp_buf_t lines;
  size_t off, n;

  if (cp_ctl_query_u64(query, "since", 0, UINT64_MAX / 2, &since) != 0 ||
      cp_ctl_query_u64(query, "conn", 0, UINT64_MAX / 2, &conn) != 0 ||
      hrc < 0) {
    cp_ctl_resp_error(
        r, 400,
        "since must be an event id, conn a connection id and host "
        "a host name or glob");
    return;
  }
  memset(&f, 0, sizeof(f));
  f.host = hrc == 0 ? host : NULL;
  f.since = since;
  f.conn = conn;
  h = cp_har_new(&f);
  if (h == NULL) {
    cp_ctl_resp_error(r, 500, "out of memory");
    return;
  }
  cp_buf_init(&lines, 64u << 20); /* 4096 lines of 16 KiB */
  cp_events_query(env->events, since, CP_CONTROL_RING, har_event, &lines);
  for (off = 0; off < lines.len; off += n + 1) {
    const char *nl = memchr(lines.data + off, '\n', lines.len - off);

    n = nl ? (size_t)(nl - (lines.data + off)) : lines.len - off;
    cp_har_add(h, lines.data + off, n);
  }
  cp_buf_free(&lines);
  har = cp_har_finish(h);
  if (har == NULL) {
    cp_ctl_resp_error(r, 500, "out of memory");
    return;
  }
  cp_ctl_resp_json(r, 200, har);
  r->headers =
      "Content-Disposition: attachment; filename=\"chainproxy.har\"\r\n";
}
