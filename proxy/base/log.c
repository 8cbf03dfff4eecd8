#include "base/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/esc.h"

static const char *const level_names[] = {"error", "warn", "info", "debug"};


void cp_log_timestamp(char *buf, unsigned long size) {
  struct timespec ts;
  struct tm tm;
  char base[32];

  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
  /* tv_nsec < 1e9, so the milliseconds are 0..999 (3 digits); the cast
   * tells the compiler as much. */
  snprintf(buf, size, "%s.%03uZ", base,
           (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}


/* Appends s escaped (esc.h) to line at *off; cut at a whole character. */
static void put_escaped(char *line, size_t cap, size_t *off, const char *s) {
  if (*off + 1 < cap) {
    *off += cp_esc_term(line + *off, cap - *off, s, strlen(s), 0);
  }
}


void cp_logv(const cp_log_t *lg, cp_log_level_e level, uint64_t conn,
             const char *host, const char *action, const char *fmt,
             va_list ap) {
  char line[1024];
  char msg[1024];
  char ts[40];
  int n;
  size_t off;

  if (lg != NULL && level > lg->level) {
    return;
  }
  cp_log_timestamp(ts, sizeof(ts));
  n = snprintf(line, sizeof(line), "%s %s", ts, level_names[level]);
  off = n > 0 ? (size_t)n : 0;
  if (conn != 0 && off < sizeof(line)) {
    n = snprintf(line + off, sizeof(line) - off, " conn=%llu",
                 (unsigned long long)conn);
    off += n > 0 ? (size_t)n : 0;
  }
  /* Peer bytes (a certificate's names, a host, a parent proxy's answer)
   * reach the message through %s: escaped, they can neither forge a line
   * (CR, LF) nor drive the operator's terminal (ESC, bidi controls). */
  if (host != NULL) {
    put_escaped(line, sizeof(line), &off, " host=");
    put_escaped(line, sizeof(line), &off, host);
  }
  put_escaped(line, sizeof(line), &off, ": ");
  vsnprintf(msg, sizeof(msg), fmt, ap);
  put_escaped(line, sizeof(line), &off, msg);
  if (action != NULL) {
    put_escaped(line, sizeof(line), &off, " (while ");
    put_escaped(line, sizeof(line), &off, action);
    put_escaped(line, sizeof(line), &off, ")");
  }
  fprintf(stderr, "%s\n", line);
}


void cp_log(const cp_log_t *lg, cp_log_level_e level, uint64_t conn,
            const char *host, const char *action, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  cp_logv(lg, level, conn, host, action, fmt, ap);
  va_end(ap);
}
