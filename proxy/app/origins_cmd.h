/* `chainproxy origins ...` (argv[0] is "origins"): the catalogue of
 * broken origins (app/origins) in the foreground until SIGINT or SIGTERM;
 * prints the listing (text, or --json) once every port listens. Also
 * parses the address form both it and the proxy's --origins take. Returns
 * the exit code: 0, 1 (could not start), 2 (usage). */
#ifndef CP_ORIGINS_CMD_H
#define CP_ORIGINS_CMD_H

#include <stddef.h>
#include <stdint.h>

int cp_origins_cmd(int argc, char **argv);
/* "PORT", "HOST:PORT", "[V6]:PORT", optionally "-LAST" after the port:
 * host (default 127.0.0.1) and base port; a range must hold ncases + 1
 * ports. 0, or CP_EINVAL with err set. */
int cp_origins_parse_listen(const char *v, size_t ncases, char *host,
                            size_t hostlen, uint16_t *base, char *err,
                            size_t errlen);

#endif
