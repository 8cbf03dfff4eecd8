#include "control/ctl_guard.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/host.h"


/* "name", "name:port", "[v6]" or "[v6]:port" into name (no brackets) and
 * port (0: none). Returns 0, or -1 when it is none of these. */
static int split_authority(const char *s, char *name, size_t cap,
                           unsigned *port) {
  const char *end, *colon;
  size_t n;
  char *stop;
  unsigned long p;

  *port = 0;
  if (s[0] == '[') {
    end = strchr(s, ']');
    if (end == NULL) {
      return -1;
    }
    s++;
    colon = end[1] == ':' ? end + 1 : NULL;
    if (end[1] != '\0' && colon == NULL) {
      return -1;
    }
  } else {
    colon = strchr(s, ':');
    if (colon != NULL && strchr(colon + 1, ':') != NULL) {
      return -1; /* an IPv6 literal without brackets */
    }
    end = colon != NULL ? colon : s + strlen(s);
  }
  n = (size_t)(end - s);
  if (n == 0 || n >= cap) {
    return -1;
  }
  memcpy(name, s, n);
  name[n] = '\0';
  if (colon != NULL) {
    p = strtoul(colon + 1, &stop, 10);
    if (colon[1] < '0' || colon[1] > '9' || *stop != '\0' || p == 0 ||
        p > 65535) {
      return -1;
    }
    *port = (unsigned)p;
  }
  return 0;
}


static int name_ok(const cp_config_t *cfg, const char *local,
                   const char *name) {
  static const char *const fixed[] = {"localhost", "127.0.0.1", "::1"};
  const char *listen = cfg->control_host;
  size_t k;

  for (k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) {
    if (strcasecmp(name, fixed[k]) == 0) {
      return 1;
    }
  }
  /* A wildcard listener has no address of its own to be named by: the
   * address the connection reached stands for it. */
  if (strcmp(listen, "0.0.0.0") != 0 && strcmp(listen, "::") != 0 &&
      strcasecmp(name, listen) == 0) {
    return 1;
  }
  if (local != NULL && local[0] != '\0' && strcasecmp(name, local) == 0) {
    return 1;
  }
  for (k = 0; k < cfg->ncontrol_names; k++) {
    if (strcasecmp(name, cfg->control_names[k]) == 0) {
      return 1;
    }
  }
  return 0;
}


int cp_ctl_guard_host(const cp_config_t *cfg, const char *local,
                      int local_loopback, const char *host) {
  char name[CP_HOST_MAX + 1];
  unsigned port;

  /* HTTP/1.0 clients may send no Host; a browser always does, so this
   * is no way around the rule, but only loopback is trusted with it. */
  if (host == NULL) {
    return local_loopback;
  }
  if (split_authority(host, name, sizeof(name), &port) != 0) {
    return 0;
  }
  return (port == 0 || port == cfg->control_port) && name_ok(cfg, local, name);
}


int cp_ctl_guard_origin(const cp_config_t *cfg, const char *local,
                        const char *origin) {
  char name[CP_HOST_MAX + 1];
  unsigned port;

  if (strncasecmp(origin, "http://", 7) != 0 ||
      split_authority(origin + 7, name, sizeof(name), &port) != 0) {
    return 0; /* "null", https://..., a path */
  }
  if (port == 0) {
    port = 80;
  }
  return port == cfg->control_port && name_ok(cfg, local, name);
}


int cp_ctl_guard_fetch_site(const char *site) {
  return site == NULL || strcasecmp(site, "same-origin") == 0 ||
         strcasecmp(site, "none") == 0;
}
