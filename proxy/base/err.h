/* Error codes: 0 or negative. libuv's negative errnos pass through unchanged;
 * chainproxy's own codes start at -5000 so the two sets never collide. */
#ifndef CP_ERR_H
#define CP_ERR_H

#include <stddef.h>

#define CP_ERR_MAP(X)                                                          \
  X(EINVAL, -5000, "invalid argument")                                         \
  X(ENOMEM, -5001, "out of memory")                                            \
  X(ETLS, -5002, "TLS library error")                                          \
  X(EHTTP, -5003, "malformed HTTP message")                                    \
  X(EHDRSIZE, -5004, "request header fields too large")                        \
  X(ETARGET, -5005, "bad request target")                                      \
  X(EUPCLOSED, -5007, "upstream closed the connection early")                  \
  X(EIO, -5008, "input/output error")                                          \
  X(ECONFIG, -5009, "configuration error")                                     \
  X(EPERM, -5011, "permission error")                                          \
  X(EFIELDWS, -5012, "whitespace in a header field name")

enum cp_err_e {
#define CP_ERR_ENUM(name, val, text) CP_##name = (val),
  CP_ERR_MAP(CP_ERR_ENUM)
#undef CP_ERR_ENUM
};

/* Names and messages for both chainproxy and libuv codes. */
const char *cp_err_name(int err);
const char *cp_strerror(int err);

/* Writes a formatted message into err (len bytes) and returns rc: the
 * one-line error reports of config, CA, profile and rules parsing. */
int cp_errf(char *err, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A JSON parser's error (jansson's line, column and text) as a CP_ECONFIG
 * report; line < 1 means no position (the file could not be read). */
int cp_errf_json(char *err, size_t len, int line, int column, const char *text);

#define CP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
