/* The options that place chainproxy in a network (parent proxies, their
 * exceptions): handlers of config.c's option table, apart so that file
 * stays about the proxy itself. */
#ifndef CP_CONFIG_NET_H
#define CP_CONFIG_NET_H

#include <stddef.h>

#include "config/config.h"

int cp_config_opt_upstream_proxy(cp_config_t *cfg, const char *v, char *err,
                                 size_t len);
int cp_config_opt_no_proxy(cp_config_t *cfg, const char *v, char *err,
                           size_t len);

int cp_config_opt_pac_direct(cp_config_t *cfg, const char *v, char *err,
                             size_t len);

int cp_config_opt_auth_file(cp_config_t *cfg, const char *v, char *err,
                            size_t len);
int cp_config_opt_mode(cp_config_t *cfg, const char *v, char *err, size_t len);
int cp_config_opt_upstream_pool(cp_config_t *cfg, const char *v, char *err,
                                size_t len);

#endif
