/* RFC 3339 times as people type them for `verify --at`. Pure. */
#ifndef CP_RFC3339_H
#define CP_RFC3339_H

#include <time.h>

/* "2020-05-31T00:00:00Z", with an optional fraction and a numeric offset
 * ("+02:00"); a plain date means its midnight UTC. 0, or -1 when s is not
 * such a time. */
int cp_rfc3339_parse(const char *s, time_t *out);

#endif
