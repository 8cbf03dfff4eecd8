/* Who the control API answers: the Host and Origin rules that keep a web
 * page from steering it (DNS rebinding, cross-origin requests). Pure
 * string functions over the configuration; no I/O. */
#ifndef CP_CTL_GUARD_H
#define CP_CTL_GUARD_H

#include "config/config.h"

/* 1 when the Host value (NULL: none was sent) names this control
 * listener: localhost, 127.0.0.1, [::1], the listener's address, local
 * (the address the connection reached, text, or NULL) or a --control-host
 * name, with the control port or none. No Host is accepted only when
 * local_loopback is set. */
int cp_ctl_guard_host(const cp_config_t *cfg, const char *local,
                      int local_loopback, const char *host);
/* 1 when origin is http://<an accepted host>:<the control port> (":80"
 * may be left out when that is the control port). */
int cp_ctl_guard_origin(const cp_config_t *cfg, const char *local,
                        const char *origin);
/* 1 when a browser's Sec-Fetch-Site (NULL: not sent) says the request
 * comes from the API's own pages or from the user (same-origin, none). */
int cp_ctl_guard_fetch_site(const char *site);

#endif
