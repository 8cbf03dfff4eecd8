#define _GNU_SOURCE /* timegm */
#include "base/rfc3339.h"

#include <stdio.h>
#include <string.h>


/* RFC 3339: 2020-05-31T00:00:00Z, with optional fraction and a numeric
 * offset; a plain date means its midnight UTC. */
int cp_rfc3339_parse(const char *s, time_t *out) {
  struct tm tm;
  int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, oh = 0, om = 0;
  long off = 0;
  const char *p;

  memset(&tm, 0, sizeof(tm));
  if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) {
    return -1;
  }
  p = s + n;
  if (*p == 'T' || *p == 't' || *p == ' ') {
    if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8) {
      return -1;
    }
    p += 1 + n;
    if (*p == '.') {
      p++;
      while (*p >= '0' && *p <= '9') {
        p++;
      }
    }
    if (*p == 'Z' || *p == 'z') {
      p++;
    } else if (*p == '+' || *p == '-') {
      if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5) {
        return -1;
      }
      off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
      p += 1 + n;
    } else {
      return -1;
    }
  }
  if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      sec > 60) {
    return -1;
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  *out = timegm(&tm) - off;
  return 0;
}
