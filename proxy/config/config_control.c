#include "config/config_control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/access.h"
#include "base/err.h"
#include "base/host.h"

#define TOKEN_CHARS                                                            \
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="


static int token_valid(const char *v) {
  size_t n = strlen(v);

  return n >= 8 && n <= CP_CONTROL_TOKEN_MAX && strspn(v, TOKEN_CHARS) == n;
}


int cp_config_opt_control_token(cp_config_t *cfg, const char *v, char *err,
                                size_t len) {
  if (!token_valid(v)) {
    return cp_errf(err, len, CP_EINVAL,
                   "--control-token: use 8 to %d characters of "
                   "A-Z a-z 0-9 - . _ ~ + / =",
                   CP_CONTROL_TOKEN_MAX);
  }
  cfg->control_token = v;
  cfg->control_token_argv = 1;
  return 0;
}


int cp_config_opt_control_token_file(cp_config_t *cfg, const char *v, char *err,
                                     size_t len) {
  char buf[CP_CONTROL_TOKEN_MAX + 3];
  struct stat st;
  ssize_t n;
  int fd = -1, rc = 0;

  /* O_NONBLOCK: a FIFO named here must not block the start. */
  fd = open(v, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return cp_errf(err, len, CP_EINVAL, "--control-token-file: %s: %s", v,
                   strerror(errno));
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = cp_errf(err, len, CP_EINVAL,
                 "--control-token-file: %s is not a regular file", v);
    goto cleanup;
  }
  /* As ssh does with private keys: a secret others can read is not one. */
  if ((st.st_mode & 0066) != 0) {
    rc = cp_errf(err, len, CP_EINVAL,
                 "--control-token-file: %s is readable or writable by group "
                 "or others (mode %03o); chmod 600 it",
                 v, (unsigned)(st.st_mode & 0777));
    goto cleanup;
  }
  n = read(fd, buf, sizeof(buf) - 1);
  if (n < 0) {
    rc = cp_errf(err, len, CP_EINVAL, "--control-token-file: %s: %s", v,
                 strerror(errno));
    goto cleanup;
  }
  buf[n] = '\0';
  if (n > 0 && buf[n - 1] == '\n') {
    buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '\r') {
      buf[--n] = '\0';
    }
  }
  if (!token_valid(buf)) {
    rc = cp_errf(err, len, CP_EINVAL,
                 "--control-token-file: %s must hold one token of 8 to %d "
                 "characters of A-Z a-z 0-9 - . _ ~ + / = (and at most a "
                 "newline)",
                 v, CP_CONTROL_TOKEN_MAX);
    goto cleanup;
  }
  memcpy(cfg->control_token_buf, buf, (size_t)n + 1);
  cfg->control_token = cfg->control_token_buf;
  cfg->control_token_argv = 0;

cleanup:
  close(fd);
  return rc;
}


int cp_config_opt_control_host(cp_config_t *cfg, const char *v, char *err,
                               size_t len) {
  if (cfg->ncontrol_names == CP_CONTROL_NAMES) {
    return cp_errf(err, len, CP_EINVAL, "--control-host: at most %d names",
                   CP_CONTROL_NAMES);
  }
  if (!cp_host_is_valid(v)) {
    return cp_errf(err, len, CP_EINVAL,
                   "--control-host: '%s' is not a host name or IP address "
                   "(no port: the control port is implied)",
                   v);
  }
  cfg->control_names[cfg->ncontrol_names++] = v;
  return 0;
}


int cp_config_control_env(cp_config_t *cfg, char *err, size_t len) {
  /* Secrets can stay out of the process list. */
  const char *v = getenv("CHAINPROXY_CONTROL_TOKEN");

  if (cfg->control_token != NULL || v == NULL || *v == '\0') {
    return 0;
  }
  if (!token_valid(v)) {
    return cp_errf(err, len, CP_EINVAL,
                   "CHAINPROXY_CONTROL_TOKEN: use 8 to %d characters of "
                   "A-Z a-z 0-9 - . _ ~ + / =",
                   CP_CONTROL_TOKEN_MAX);
  }
  cfg->control_token = v;
  return 0;
}


int cp_config_check_control_exposure(const cp_config_t *cfg, char *err,
                                     size_t errlen) {
  if (cfg->control_host[0] == '\0' || cfg->control_token != NULL ||
      cp_host_is_loopback(cfg->control_host)) {
    return 0;
  }
  return cp_errf(err, errlen, CP_ECONFIG,
                 "refusing to serve the control API on %s:%u without a "
                 "token: whoever reaches it could steer this TLS-intercepting "
                 "proxy. Give one with --control-token-file FILE, "
                 "CHAINPROXY_CONTROL_TOKEN or --control-token, or use "
                 "--control 127.0.0.1:PORT",
                 cfg->control_host, (unsigned)cfg->control_port);
}
