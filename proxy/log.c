#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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


void cp_logv(const cp_log_t *lg, cp_log_level_e level, uint64_t conn,
             const char *host, const char *action, const char *fmt,
             va_list ap) {
  char line[1024];
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
  if (host != NULL && off < sizeof(line)) {
    n = snprintf(line + off, sizeof(line) - off, " host=%s", host);
    off += n > 0 ? (size_t)n : 0;
  }
  if (off < sizeof(line)) {
    n = snprintf(line + off, sizeof(line) - off, ": ");
    off += n > 0 ? (size_t)n : 0;
  }
  if (off < sizeof(line)) {
    n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
    off += n > 0 ? (size_t)n : 0;
  }
  if (action != NULL && off < sizeof(line)) {
    snprintf(line + off, sizeof(line) - off, " (while %s)", action);
  }
  /* Control characters from peers must not forge log lines. */
  for (off = 0; line[off] != '\0'; off++) {
    if ((unsigned char)line[off] < 0x20) {
      line[off] = '?';
    }
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
