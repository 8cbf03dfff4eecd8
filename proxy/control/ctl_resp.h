/* Control API answers shared by its endpoints. Each writes into a
 * cp_ctl_response_t the caller owns; cp_ctl_resp_json takes the json_t
 * reference it is given. */
#ifndef CP_CTL_RESP_H
#define CP_CTL_RESP_H

#include <jansson.h>

#include "control/ctl_http.h"

/* status with o as the body (o's reference is taken; 500 on failure). */
void cp_ctl_resp_json(cp_ctl_response_t *r, int status, json_t *o);
/* status with {"error": message}. */
void cp_ctl_resp_error(cp_ctl_response_t *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 1 when m is want (HEAD counts as GET); else 405 naming allow, 0. */
int cp_ctl_method_is(const char *m, const char *want, cp_ctl_response_t *r,
                     const char *allow);
/* name=N from a query string, def when absent; -1 when malformed or
 * above max. */
int cp_ctl_query_u64(const char *q, const char *name, unsigned long long def,
                     unsigned long long max, unsigned long long *out);

#endif
