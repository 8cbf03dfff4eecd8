/* GET /har on the control API: the events the API keeps, as HAR 1.2,
 * filtered by host (a glob), since (an event id) and conn. */
#ifndef CP_CTL_HAR_H
#define CP_CTL_HAR_H

#include "control/control.h"
#include "control/ctl_http.h"

void cp_ctl_har_get(const cp_control_env_t *env, const char *query,
                    cp_ctl_response_t *r);

#endif
