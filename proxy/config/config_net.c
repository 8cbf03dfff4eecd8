#include "config/config_net.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "http/parent.h"
#include "rules/rules.h"


int cp_config_opt_upstream_proxy(cp_config_t *cfg, const char *v, char *err,
                                 size_t len) {
  cp_parent_t p;
  char inner[256];

  if (strcmp(v, "env") == 0) {
    cfg->upstream_proxy = v; /* read at startup (cp_parents_from_env) */
    return 0;
  }
  if (strcmp(v, "none") == 0 || strcmp(v, "direct") == 0) {
    cfg->upstream_proxy = NULL;
    return 0;
  }
  if (cp_parent_parse(&p, v, inner, sizeof(inner)) != 0) {
    return cp_errf(err, len, CP_EINVAL,
                   "--upstream-proxy: %s (expected "
                   "http://[user:password@]host:port, env or none)",
                   inner);
  }
  cfg->upstream_proxy = v;
  return 0;
}


int cp_config_opt_no_proxy(cp_config_t *cfg, const char *v, char *err,
                           size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL,
                   "--upstream-no-proxy: needs hosts, e.g. "
                   "localhost,.corp.example,10.0.0.0/8");
  }
  if (cfg->nno_proxy == (int)CP_ARRAY_SIZE(cfg->no_proxy)) {
    return cp_errf(err, len, CP_EINVAL,
                   "--upstream-no-proxy: at most %zu lists",
                   CP_ARRAY_SIZE(cfg->no_proxy));
  }
  cfg->no_proxy[cfg->nno_proxy++] = v;
  return 0;
}


int cp_config_opt_pac_direct(cp_config_t *cfg, const char *v, char *err,
                             size_t len) {
  if (!cp_rules_host_ok(v)) {
    return cp_errf(err, len, CP_EINVAL,
                   "--pac-direct: '%s' is not a host glob such as "
                   "\"*.corp.example\"",
                   v);
  }
  if (cfg->npac_direct == (int)CP_ARRAY_SIZE(cfg->pac_direct)) {
    return cp_errf(err, len, CP_EINVAL, "--pac-direct: at most %zu globs",
                   CP_ARRAY_SIZE(cfg->pac_direct));
  }
  cfg->pac_direct[cfg->npac_direct++] = v;
  return 0;
}


int cp_config_opt_upstream_pool(cp_config_t *cfg, const char *v, char *err,
                                size_t len) {
  (void)v;
  (void)err;
  (void)len;
  cfg->upstream_pool = 1;
  return 0;
}


int cp_config_opt_mode(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (strcmp(v, "forward") == 0 || strcmp(v, "transparent") == 0) {
    cfg->transparent = v[0] == 't';
    return 0;
  }
  return cp_errf(err, len, CP_EINVAL,
                 "--mode: '%s' is not forward (clients set HTTPS_PROXY) or "
                 "transparent (the kernel redirects them: docs/transparent.md)",
                 v);
}


int cp_config_opt_auth_file(cp_config_t *cfg, const char *v, char *err,
                            size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL,
                   "--auth-file: needs a file of USER:PASSWORD lines");
  }
  cfg->auth_file = v;
  return 0;
}
