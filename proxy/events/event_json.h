/* The event log's JSON values from bytes, shared by its builders
 * (event.c, event_verify.c); not for other modules. */
#ifndef CP_EVENT_JSON_H
#define CP_EVENT_JSON_H

#include <stddef.h>

#include <jansson.h>

/* len bytes as a JSON string, exactly (docs/events.md): a byte that is not
 * UTF-8 is written as \xNN. Never NULL (json null when out of memory). */
json_t *cp_event_json_bytes(const void *s, size_t len);
/* The same for a C string; NULL is json null. */
json_t *cp_event_json_str(const char *s);

#endif
