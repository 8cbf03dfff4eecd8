#include "control/pac.h"

#include <ctype.h>
#include <string.h>

#include "base/err.h"


/* Host globs are letters, digits and ".-_:*" (cp_rules_host_ok), so they
 * go into the JavaScript strings as they are; anything else is left out
 * rather than escaped. shExpMatch's '*' and '?' are fnmatch's, which the
 * rules use. */
static int safe(const char *glob) {
  size_t n = strlen(glob);

  return n > 0 && n < 256 &&
         strspn(glob, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:*?[]") == n;
}


static int match_list(cp_buf_t *out, const char *const *globs, int n,
                      const char *action) {
  int i;

  char low[256];
  size_t k;

  for (i = 0; i < n; i++) {
    if (!safe(globs[i])) {
      continue;
    }
    for (k = 0; globs[i][k] != '\0'; k++) {
      low[k] = (char)tolower((unsigned char)globs[i][k]);
    }
    low[k] = '\0';
    if (cp_buf_appendf(out, "  if (shExpMatch(h, \"%s\")) return \"%s\";\n",
                       low, action) != 0) {
      return CP_ENOMEM;
    }
  }
  return 0;
}


int cp_pac_build(cp_buf_t *out, const cp_rules_t *rules,
                 const char *const *direct, int ndirect, const char *proxy,
                 int all) {
  char via[300];
  int i;

  /* "PROXY a; DIRECT" would hide chainproxy being down: a test must see
   * the failure, so there is no fallback. */
  if (!safe(proxy) || strlen(proxy) > 270) {
    return CP_EINVAL;
  }
  memcpy(via, "PROXY ", 6);
  memcpy(via + 6, proxy, strlen(proxy) + 1);
  if (cp_buf_append_str(out, "// chainproxy: hosts its rules select go "
                             "through it; see docs/control-api.md\n"
                             "function FindProxyForURL(url, host) {\n"
                             "  var h = host.toLowerCase();\n") != 0 ||
      match_list(out, direct, ndirect, "DIRECT") != 0) {
    return CP_ENOMEM;
  }
  if (all) {
    if (cp_buf_appendf(out, "  return \"%s\";\n}\n", via) != 0) {
      return CP_ENOMEM;
    }
    return 0;
  }
  for (i = 0; rules != NULL && i < rules->n; i++) {
    const char *g = rules->r[i].host;

    /* A rule for one port still sends the host (a PAC decides by host). */
    if (match_list(out, &g, 1, via) != 0) {
      return CP_ENOMEM;
    }
  }
  return cp_buf_append_str(out, "  return \"DIRECT\";\n}\n") != 0 ? CP_ENOMEM
                                                                  : 0;
}
