#include "events/event_json.h"

#include <stdlib.h>
#include <string.h>

#include "base/esc.h"

/* len bytes as a JSON string, exactly: a NUL is written as \u0000 and
 * every code point as it is. jansson takes only valid UTF-8, so a byte
 * that is not UTF-8 is written as the four characters \xNN (esc.h,
 * CP_ESC_UTF8_ONLY) rather than losing the field or the event
 * (docs/events.md). */
json_t *cp_event_json_bytes(const void *s, size_t len) {
  char small[CP_ESC_SIZE(256)];
  char *tmp = small;
  size_t cap = CP_ESC_SIZE(len), n;
  json_t *j;

  if (cp_esc_utf8_valid(s, len)) {
    return json_stringn(s, len);
  }
  if (cap > sizeof(small) && (tmp = malloc(cap)) == NULL) {
    return json_null();
  }
  n = cp_esc_term(tmp, cap, s, len, CP_ESC_UTF8_ONLY);
  j = json_stringn(tmp, n);
  if (tmp != small) {
    free(tmp);
  }
  return j != NULL ? j : json_null();
}


json_t *cp_event_json_str(const char *s) {
  return s == NULL ? json_null() : cp_event_json_bytes(s, strlen(s));
}
