#include "config/datadir.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"


/* PREFIX/share/chainproxy when exe is PREFIX/bin/chainproxy and the
 * profiles are there. */
static int beside(const char *exe, char *out, size_t len) {
  char path[PATH_MAX], probe[PATH_MAX + 32];
  char *slash;
  size_t n;

  n = strlen(exe);
  if (n == 0 || n >= sizeof(path)) {
    return 0;
  }
  memcpy(path, exe, n + 1);
  slash = strrchr(path, '/');
  if (slash == NULL) {
    return 0;
  }
  *slash = '\0'; /* PREFIX/bin */
  slash = strrchr(path, '/');
  if (slash == NULL || strcmp(slash + 1, "bin") != 0) {
    return 0;
  }
  *slash = '\0'; /* PREFIX ("" for /bin) */
  if (snprintf(probe, sizeof(probe), "%s/share/chainproxy/profiles.json",
               path) >= (int)sizeof(probe) ||
      access(probe, R_OK) != 0) {
    return 0;
  }
  return snprintf(out, len, "%s/share/chainproxy", path) < (int)len;
}


void cp_datadir_find(cp_datadir_t *d, const char *exe) {
  char self[PATH_MAX];
  ssize_t n;

  if (exe == NULL) {
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    exe = self;
  }
  if (beside(exe, d->dir, sizeof(d->dir))) {
    d->how = "next to the binary";
    return;
  }
  snprintf(d->dir, sizeof(d->dir), "%s", CP_DATA_DIR);
  d->how = "compiled in";
}


int cp_datadir_path(const cp_datadir_t *d, const char *file, char *out,
                    size_t len) {
  int n = snprintf(out, len, "%s/%s", d->dir, file);

  return n > 0 && (size_t)n < len ? 0 : CP_EINVAL;
}
