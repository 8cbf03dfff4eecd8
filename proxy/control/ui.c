#include "control/ui.h"

#include <string.h>


const cp_ui_asset_t *cp_ui_find(const char *path) {
  const cp_ui_asset_t *a;

  if (strcmp(path, "/ui/") == 0 || strcmp(path, "/ui/index.html") == 0) {
    path = "/ui";
  }
  for (a = cp_ui_assets; a->path != NULL; a++) {
    if (strcmp(a->path, path) == 0) {
      return a;
    }
  }
  return NULL;
}


const char *cp_ui_type(const cp_ui_asset_t *a) {
  size_t n = strlen(a->path);

  if (n > 3 && strcmp(a->path + n - 3, ".js") == 0) {
    return "text/javascript; charset=utf-8";
  }
  if (n > 4 && strcmp(a->path + n - 4, ".css") == 0) {
    return "text/css; charset=utf-8";
  }
  return "text/html; charset=utf-8";
}
