/* Control API answers: JSON bodies, errors, method checks and query
 * numbers, shared by the endpoints. */
#include "control/ctl_resp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cp_ctl_resp_json(cp_ctl_response_t *r, int status, json_t *o) {
  char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);

  r->status = status;
  r->content_type = "application/json";
  cp_buf_reset(&r->body);
  if (s == NULL || cp_buf_append_str(&r->body, s) != 0 ||
      cp_buf_append(&r->body, "\n", 1) != 0) {
    r->status = 500;
    cp_buf_reset(&r->body);
    cp_buf_append_str(&r->body, "{\"error\":\"out of memory\"}\n");
  }
  free(s);
  json_decref(o);
}


void cp_ctl_resp_error(cp_ctl_response_t *r, int status, const char *fmt, ...) {
  char msg[600];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  cp_ctl_resp_json(r, status, json_pack("{s:s}", "error", msg));
}


int cp_ctl_method_is(const char *m, const char *want, cp_ctl_response_t *r,
                     const char *allow) {
  if (strcmp(m, want) == 0 ||
      (strcmp(want, "GET") == 0 && strcmp(m, "HEAD") == 0)) {
    return 1;
  }
  r->allow = allow;
  cp_ctl_resp_error(r, 405, "method %s not allowed here (allowed: %s)", m,
                    allow);
  return 0;
}


/* since/limit from a query string; -1 when malformed. */
int cp_ctl_query_u64(const char *q, const char *name, unsigned long long def,
                     unsigned long long max, unsigned long long *out) {
  size_t nl = strlen(name);
  const char *p = q;

  *out = def;
  while (p != NULL && *p != '\0') {
    if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
      char *end;
      const char *v = p + nl + 1;

      if (*v < '0' || *v > '9') {
        return -1;
      }
      *out = strtoull(v, &end, 10);
      if ((*end != '\0' && *end != '&') || *out > max) {
        return -1;
      }
      return 0;
    }
    p = strchr(p, '&');
    p = p ? p + 1 : NULL;
  }
  return 0;
}
