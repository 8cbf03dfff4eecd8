#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

#include <uv.h>


const char *cp_err_name(int err) {
  switch (err) {
  case 0:
    return "OK";
#define CP_ERR_NAME(name, val, text)                                           \
  case CP_##name:                                                              \
    return #name;
    CP_ERR_MAP(CP_ERR_NAME)
#undef CP_ERR_NAME
  default:
    return uv_err_name(err);
  }
}


const char *cp_strerror(int err) {
  switch (err) {
  case 0:
    return "success";
#define CP_ERR_TEXT(name, val, text)                                           \
  case CP_##name:                                                              \
    return text;
    CP_ERR_MAP(CP_ERR_TEXT)
#undef CP_ERR_TEXT
  default:
    return uv_strerror(err);
  }
}


int cp_errf(char *err, size_t len, int rc, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(err, len, fmt, ap);
  va_end(ap);
  return rc;
}


int cp_errf_json(char *err, size_t len, int line, int column,
                 const char *text) {
  if (line < 1) {
    return cp_errf(err, len, CP_ECONFIG, "%s", text);
  }
  return cp_errf(err, len, CP_ECONFIG, "line %d, column %d: %s", line, column,
                 text);
}
