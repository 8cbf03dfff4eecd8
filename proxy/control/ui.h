/* The web view's files (ui/), built into the binary (ui/embed.cmake) and
 * served by the control API at /ui. */
#ifndef CP_UI_H
#define CP_UI_H

#include <stddef.h>

typedef struct cp_ui_asset_s {
  const char *path; /* "/ui", "/ui/app.js", ... */
  const unsigned char *data;
  size_t len;
} cp_ui_asset_t;

/* Terminated by an entry with a NULL path (generated ui_assets.c). */
extern const cp_ui_asset_t cp_ui_assets[];

/* The asset for path ("/ui/" is "/ui"), or NULL. */
const cp_ui_asset_t *cp_ui_find(const char *path);
/* Its Content-Type, from the path's extension. */
const char *cp_ui_type(const cp_ui_asset_t *a);

#endif
