/* The options of the control API's guard: where its token comes from
 * (--control-token, --control-token-file, $CHAINPROXY_CONTROL_TOKEN) and
 * which Host names it answers to (--control-host). Handlers of config.c's
 * option table, apart so that file stays about the proxy itself. */
#ifndef CP_CONFIG_CONTROL_H
#define CP_CONFIG_CONTROL_H

#include <stddef.h>

#include "config/config.h"

int cp_config_opt_control_token(cp_config_t *cfg, const char *v, char *err,
                                size_t len);
/* Reads the token into cfg->control_token_buf: a regular file that group
 * and others cannot read or write; one trailing newline is dropped. */
int cp_config_opt_control_token_file(cp_config_t *cfg, const char *v, char *err,
                                     size_t len);
int cp_config_opt_control_host(cp_config_t *cfg, const char *v, char *err,
                               size_t len);
/* After the options: $CHAINPROXY_CONTROL_TOKEN when no option gave one. */
int cp_config_control_env(cp_config_t *cfg, char *err, size_t len);
/* A control API off loopback needs a token: err says why not. */
int cp_config_check_control_exposure(const cp_config_t *cfg, char *err,
                                     size_t errlen);

#endif
