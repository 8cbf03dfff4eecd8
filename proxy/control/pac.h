/* The proxy auto-config file the control API serves (GET /proxy.pac):
 * JavaScript's FindProxyForURL, as browsers and corporate desktops are
 * configured. Hosts the rules select go to chainproxy, --pac-direct hosts
 * and the rest go DIRECT (or, with all, the rest go to chainproxy too).
 * A pure function over the rules; no I/O. */
#ifndef CP_PAC_H
#define CP_PAC_H

#include "base/buf.h"
#include "rules/rules.h"

/* proxy: "host:port" the clients reach chainproxy at. Returns 0, or
 * CP_ENOMEM when out does not take it. */
int cp_pac_build(cp_buf_t *out, const cp_rules_t *rules,
                 const char *const *direct, int ndirect, const char *proxy,
                 int all);

#endif
