/* Where chainproxy reads the data it ships (profiles.json, distrust.json,
 * clients.json): next to the binary when it is installed (PREFIX/bin ->
 * PREFIX/share/chainproxy, so a moved prefix keeps working), else the
 * directory compiled in (CP_DATA_DIR: the source tree's certs/ for a
 * build tree, or the packager's path). Never the current directory. */
#ifndef CP_DATADIR_H
#define CP_DATADIR_H

#include <stddef.h>

#ifndef CP_DATA_DIR
#define CP_DATA_DIR "certs"
#endif

typedef struct cp_datadir_s {
  char dir[1024];
  const char *how; /* static: "next to the binary" or "compiled in" */
} cp_datadir_t;

/* exe: the running binary's path (NULL: /proc/self/exe). */
void cp_datadir_find(cp_datadir_t *d, const char *exe);
/* dir/file into out; CP_EINVAL when it does not fit. */
int cp_datadir_path(const cp_datadir_t *d, const char *file, char *out,
                    size_t len);

#endif
