/* Operator log on stderr. One line per call:
 *   ts level conn=17 host=example.com: message (while <action>)
 * Peer-supplied strings go through %s arguments, never into the format;
 * the host and the message are escaped (esc.h), so a line is always one
 * line of visible text. */
#ifndef CP_LOG_H
#define CP_LOG_H

#include <stdarg.h>
#include <stdint.h>

typedef enum cp_log_level_e {
  CP_LOG_ERROR,
  CP_LOG_WARN,
  CP_LOG_INFO,
  CP_LOG_DEBUG
} cp_log_level_e;

typedef struct cp_log_s cp_log_t;

struct cp_log_s {
  cp_log_level_e level; /* lines above this level are dropped */
};

/* conn 0 and host NULL omit those parts; action NULL omits the suffix. */
void cp_log(const cp_log_t *lg, cp_log_level_e level, uint64_t conn,
            const char *host, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void cp_logv(const cp_log_t *lg, cp_log_level_e level, uint64_t conn,
             const char *host, const char *action, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));
/* RFC 3339 UTC with milliseconds into buf (at least 32 bytes). */
void cp_log_timestamp(char *buf, unsigned long size);

#endif
