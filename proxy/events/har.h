/* HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) built from
 * the event log's lines: one entry per request event (an HTTP/2 stream
 * is one), and one per connection that failed before any request (a
 * chain the client refused, an upstream that could not be reached or
 * verified), with "_error"; each entry's "_chainproxy" object carries
 * what the events say of its connection: the chain served, the chain the
 * origin presented, the verdicts. Timings come from what the events
 * measured (docs/export.md). Pure: no I/O; the caller feeds lines (the
 * control API's ring, a run's event log). cp_har_new's result is owned
 * by the caller until cp_har_finish frees it. */
#ifndef CP_HAR_H
#define CP_HAR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct cp_har_s cp_har_t;

typedef struct cp_har_filter_s {
  const char *host; /* glob (host.h) on the connection's host; NULL: any */
  uint64_t since;   /* only events with a larger id; 0: all */
  uint64_t conn;    /* only this connection; 0: any */
} cp_har_filter_t;

/* f is copied (host is borrowed until cp_har_finish). NULL on ENOMEM. */
cp_har_t *cp_har_new(const cp_har_filter_t *f);
/* One event, its JSON line as the log has it; lines that are not events
 * are ignored. */
void cp_har_add(cp_har_t *h, const char *json, size_t len);
/* The HAR ({"log": ...}, a new reference) of what was added; frees h.
 * NULL on ENOMEM. */
json_t *cp_har_finish(cp_har_t *h);

#endif
