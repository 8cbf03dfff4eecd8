#include "config/config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "rules/access.h"
#include "base/err.h"
#include "base/host.h"
#include "diag/policy.h"
#include "diag/who.h"
#include "diag/roots.h"
#include "http/http_parse.h"
#include "rules/rules.h"
#include "config/config_net.h"
#include "config/config_control.h"

typedef struct option_s option_t;

struct option_s {
  const char *name;
  int takes_value;
  int (*apply)(cp_config_t *cfg, const char *value, char *err, size_t len);
};


/* "HOST:PORT" for listeners: an IP literal (or localhost) and a port. */
static int parse_listen(const char *s, char *host, size_t hostlen,
                        uint16_t *port) {
  cp_http_target_t t;
  int rc;

  rc = cp_http_parse_authority(s, strlen(s), 0, &t);
  if (rc != 0) {
    return rc;
  }
  if (t.host_kind == CP_HOST_NAME) {
    /* Listeners bind to addresses; only "localhost" is accepted as a name
     * because it is unambiguous and stays on loopback. */
    if (strcmp(t.host, "localhost") != 0) {
      return CP_EINVAL;
    }
    snprintf(t.host, sizeof(t.host), "127.0.0.1");
  }
  if (strlen(t.host) >= hostlen) {
    return CP_EINVAL;
  }
  snprintf(host, hostlen, "%s", t.host);
  *port = t.port;
  return 0;
}


/* Seconds, possibly fractional ("0.5"), into milliseconds; "0" only when
 * zero_ok (the option's "none"). */
static int parse_seconds(const char *s, uint64_t *ms, int zero_ok) {
  char *end = NULL;
  double v;

  errno = 0;
  v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 ||
      v > 86400.0 * 365) {
    return CP_EINVAL;
  }
  *ms = (uint64_t)(v * 1000.0 + 0.5);
  return *ms == 0 && !(zero_ok && v == 0) ? CP_EINVAL : 0;
}


/* A number from 1 to max; "0" only where zero means something, through
 * parse_count(). */
static int parse_uint(const char *s, unsigned long long max,
                      unsigned long long *out) {
  char *end = NULL;
  unsigned long long v;

  if (*s < '0' || *s > '9') {
    return CP_EINVAL;
  }
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v == 0 || v > max) {
    return CP_EINVAL;
  }
  *out = v;
  return 0;
}


static int parse_count(const char *s, unsigned long long max,
                       unsigned long long *out) {
  if (strcmp(s, "0") == 0) {
    *out = 0;
    return 0;
  }
  return parse_uint(s, max, out);
}


static int opt_listen(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (parse_listen(v, cfg->listen_host, sizeof(cfg->listen_host),
                   &cfg->listen_port) != 0) {
    return cp_errf(err, len, CP_EINVAL,
                   "--listen: '%s' is not HOST:PORT with an IP address "
                   "(e.g. 127.0.0.1:8080 or [::1]:8080)",
                   v);
  }
  return 0;
}


static int opt_control(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (parse_listen(v, cfg->control_host, sizeof(cfg->control_host),
                   &cfg->control_port) != 0) {
    return cp_errf(err, len, CP_EINVAL,
                   "--control: '%s' is not HOST:PORT with an IP address "
                   "(e.g. 127.0.0.1:8081)",
                   v);
  }
  return 0;
}


/* ADDR[/BITS], IPv4 or IPv6; stored on the IPv4-mapped 128-bit form. */
int cp_config_parse_cidr(const char *v, unsigned char addr[16], int *bits) {
  char host[64];
  const char *slash = strchr(v, '/');
  size_t hl = slash ? (size_t)(slash - v) : strlen(v);
  unsigned long long b = 0;
  unsigned char a4[4];

  if (hl == 0 || hl >= sizeof(host)) {
    return CP_EINVAL;
  }
  memcpy(host, v, hl);
  host[hl] = '\0';
  memset(addr, 0, 16);
  if (inet_pton(AF_INET, host, a4) == 1) {
    addr[10] = addr[11] = 0xff;
    memcpy(addr + 12, a4, 4);
    *bits = 128;
    if (slash && (parse_uint(slash + 1, 32, &b) != 0)) {
      return CP_EINVAL;
    }
    if (slash) {
      *bits = 96 + (int)b;
    }
    return 0;
  }
  if (inet_pton(AF_INET6, host, addr) != 1) {
    return CP_EINVAL;
  }
  *bits = 128;
  if (slash) {
    if (parse_uint(slash + 1, 128, &b) != 0) {
      return CP_EINVAL;
    }
    *bits = (int)b;
  }
  return 0;
}


static int opt_allow(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (cfg->nallow == CP_MAX_PASSTHROUGH) {
    return cp_errf(err, len, CP_EINVAL, "--allow: at most %d networks",
                   CP_MAX_PASSTHROUGH);
  }
  if (cp_config_parse_cidr(v, cfg->allow[cfg->nallow].addr,
                           &cfg->allow[cfg->nallow].bits)) {
    return cp_errf(err, len, CP_EINVAL,
                   "--allow: '%s' is not an address or network "
                   "(10.0.0.0/8, fd00::/8)",
                   v);
  }
  cfg->nallow++;
  return 0;
}


static int opt_auth(cp_config_t *cfg, const char *v, char *err, size_t len) {
  const char *colon = strchr(v, ':');

  if (colon == NULL || colon == v || colon[1] == '\0' || strlen(v) > 255) {
    return cp_errf(err, len, CP_EINVAL,
                   "--auth: needs USER:PASSWORD (both non-empty, at most 255 "
                   "bytes)");
  }
  cfg->auth = v;
  return 0;
}


static int opt_control_allow(cp_config_t *cfg, const char *v, char *err,
                             size_t len) {
  if (cfg->ncontrol_allow == CP_MAX_PASSTHROUGH) {
    return cp_errf(err, len, CP_EINVAL, "--control-allow: at most %d networks",
                   CP_MAX_PASSTHROUGH);
  }
  if (cp_config_parse_cidr(v, cfg->control_allow[cfg->ncontrol_allow].addr,
                           &cfg->control_allow[cfg->ncontrol_allow].bits)) {
    return cp_errf(err, len, CP_EINVAL,
                   "--control-allow: '%s' is not an address or "
                   "network such as 10.0.0.0/8 or fd00::/8",
                   v);
  }
  cfg->ncontrol_allow++;
  return 0;
}


static int opt_events(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--events: needs a file name or '-'");
  }
  cfg->events_path = v;
  return 0;
}


static int opt_keylog(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--keylog: needs a file name");
  }
  cfg->keylog_path = v;
  return 0;
}


static int opt_ca_dir(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--ca-dir: needs a directory");
  }
  cfg->ca_dir = v;
  return 0;
}


static int opt_origins(cp_config_t *cfg, const char *v, char *err, size_t len) {
  char *end;
  unsigned long p = strtoul(v, &end, 10);

  if (*v == '\0' || *end != '\0' || p == 0 || p > 65000) {
    return cp_errf(err, len, CP_EINVAL,
                   "--origins %s: the catalogue's base port expected", v);
  }
  cfg->origins_port = (uint16_t)p;
  return 0;
}


static int opt_upstream_ca(cp_config_t *cfg, const char *v, char *err,
                           size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--upstream-ca: needs a PEM file");
  }
  cfg->upstream_ca = v;
  return 0;
}


static int opt_upstream_client_cert(cp_config_t *cfg, const char *v, char *err,
                                    size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL,
                   "--upstream-client-cert: needs a PEM file (certificate "
                   "and key)");
  }
  cfg->upstream_client_cert = v;
  return 0;
}


static int opt_upstream_failure(cp_config_t *cfg, const char *v, char *err,
                                size_t len) {
  if (strcmp(v, "block") == 0) {
    cfg->upstream_failure = CP_FAIL_BLOCK;
  } else if (strcmp(v, "ignore") == 0) {
    cfg->upstream_failure = CP_FAIL_IGNORE;
  } else if (strcmp(v, "mirror") == 0) {
    cfg->upstream_failure = CP_FAIL_MIRROR;
  } else {
    return cp_errf(err, len, CP_EINVAL,
                   "--upstream-failure: '%s' is not one of block, "
                   "mirror, ignore",
                   v);
  }
  return 0;
}


/* The profile name is checked against the profiles file at start. */
static int opt_chain(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--chain: needs a profile name");
  }
  cfg->chain = v;
  return 0;
}


static int opt_rules(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--rules: needs a JSON file");
  }
  cfg->rules_path = v;
  return 0;
}


static int opt_profiles(cp_config_t *cfg, const char *v, char *err,
                        size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--profiles: needs a JSON file");
  }
  cfg->profiles_path = v;
  return 0;
}


static int opt_passthrough(cp_config_t *cfg, const char *v, char *err,
                           size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--passthrough: needs a host glob");
  }
  if (cfg->npassthrough == CP_MAX_PASSTHROUGH) {
    return cp_errf(err, len, CP_EINVAL, "--passthrough: at most %d patterns",
                   CP_MAX_PASSTHROUGH);
  }
  cfg->passthrough[cfg->npassthrough++] = v;
  return 0;
}


static int opt_crl(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--crl: needs a PEM file");
  }
  if (cfg->ncrls == (int)CP_ARRAY_SIZE(cfg->crls)) {
    return cp_errf(err, len, CP_EINVAL, "--crl: at most %d files",
                   (int)CP_ARRAY_SIZE(cfg->crls));
  }
  cfg->crls[cfg->ncrls++] = v;
  return 0;
}


static int opt_distrust(cp_config_t *cfg, const char *v, char *err,
                        size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--distrust: needs a JSON file");
  }
  cfg->distrust_path = v;
  return 0;
}


static int opt_clients(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--clients: needs a JSON file");
  }
  cfg->clients_path = v;
  return 0;
}


static int opt_system_roots(cp_config_t *cfg, const char *v, char *err,
                            size_t len) {
  if (*v == '\0') {
    return cp_errf(err, len, CP_EINVAL, "--system-roots: needs a directory");
  }
  cfg->system_roots = v;
  return 0;
}


static int seconds_opt(uint64_t *field, const char *flag, const char *v,
                       char *err, size_t len) {
  if (parse_seconds(v, field, 0) != 0) {
    return cp_errf(err, len, CP_EINVAL,
                   "%s: '%s' is not a positive number of seconds", flag, v);
  }
  return 0;
}


static int opt_connect_timeout(cp_config_t *cfg, const char *v, char *err,
                               size_t len) {
  return seconds_opt(&cfg->connect_timeout_ms, "--connect-timeout", v, err,
                     len);
}


static int opt_idle_timeout(cp_config_t *cfg, const char *v, char *err,
                            size_t len) {
  return seconds_opt(&cfg->idle_timeout_ms, "--idle-timeout", v, err, len);
}


static int tls_version_opt(int *field, const char *flag, const char *v,
                           char *err, size_t len) {
  *field = cp_rules_parse_tls_version(v);
  if (*field == 0) {
    return cp_errf(err, len, CP_EINVAL,
                   "%s: '%s' is not one of 1.0, 1.1, 1.2, 1.3", flag, v);
  }
  return 0;
}


static int opt_client_tls_min(cp_config_t *cfg, const char *v, char *err,
                              size_t len) {
  return tls_version_opt(&cfg->client_tls_min, "--client-tls-min", v, err, len);
}


static int opt_upstream_tls_min(cp_config_t *cfg, const char *v, char *err,
                                size_t len) {
  return tls_version_opt(&cfg->upstream_tls_min, "--upstream-tls-min", v, err,
                         len);
}


static int opt_leaf_key(cp_config_t *cfg, const char *v, char *err,
                        size_t len) {
  if (strcmp(v, "rsa") != 0 && strcmp(v, "ec") != 0) {
    return cp_errf(err, len, CP_EINVAL, "--leaf-key: '%s' is not rsa or ec", v);
  }
  cfg->rsa_leaf = strcmp(v, "rsa") == 0;
  return 0;
}


static int opt_h2(cp_config_t *cfg, const char *v, char *err, size_t len) {
  if (strcmp(v, "mirror") != 0 && strcmp(v, "bridge") != 0) {
    return cp_errf(err, len, CP_EINVAL, "--h2: '%s' is not mirror or bridge",
                   v);
  }
  cfg->h2_bridge = strcmp(v, "bridge") == 0;
  return 0;
}


static int opt_har_bodies(cp_config_t *cfg, const char *v, char *err,
                          size_t len) {
  (void)v;
  (void)err;
  (void)len;
  cfg->har_bodies = 64 * 1024;
  return 0;
}


static int opt_require_sni(cp_config_t *cfg, const char *v, char *err,
                           size_t len) {
  (void)v;
  (void)err;
  (void)len;
  cfg->require_sni = 1;
  return 0;
}


static int opt_handshake_timeout(cp_config_t *cfg, const char *v, char *err,
                                 size_t len) {
  return seconds_opt(&cfg->handshake_timeout_ms, "--handshake-timeout", v, err,
                     len);
}


static int opt_head_timeout(cp_config_t *cfg, const char *v, char *err,
                            size_t len) {
  return seconds_opt(&cfg->head_timeout_ms, "--head-timeout", v, err, len);
}


static int opt_response_timeout(cp_config_t *cfg, const char *v, char *err,
                                size_t len) {
  return seconds_opt(&cfg->response_timeout_ms, "--response-timeout", v, err,
                     len);
}


static int opt_body_idle(cp_config_t *cfg, const char *v, char *err,
                         size_t len) {
  if (parse_seconds(v, &cfg->body_idle_timeout_ms, 1) != 0) {
    return cp_errf(err, len, CP_EINVAL,
                   "--body-idle-timeout: '%s' is not a number of seconds "
                   "(0: none)",
                   v);
  }
  return 0;
}


static int opt_tunnel_idle(cp_config_t *cfg, const char *v, char *err,
                           size_t len) {
  return seconds_opt(&cfg->tunnel_idle_timeout_ms, "--tunnel-idle-timeout", v,
                     err, len);
}


static int opt_grace(cp_config_t *cfg, const char *v, char *err, size_t len) {
  return seconds_opt(&cfg->grace_ms, "--grace", v, err, len);
}


static int opt_max_header(cp_config_t *cfg, const char *v, char *err,
                          size_t len) {
  unsigned long long n;

  if (parse_uint(v, 1024 * 1024, &n) != 0 || n < 1024) {
    return cp_errf(err, len, CP_EINVAL,
                   "--max-header-bytes: '%s' is not a number from 1024 to "
                   "1048576",
                   v);
  }
  cfg->max_header_bytes = (size_t)n;
  return 0;
}


static int opt_max_conns_per_client(cp_config_t *cfg, const char *v, char *err,
                                    size_t len) {
  unsigned long long n;

  if (parse_count(v, 1000000, &n) != 0) {
    return cp_errf(err, len, CP_EINVAL,
                   "--max-conns-per-client: '%s' is not a number (0: no cap)",
                   v);
  }
  cfg->max_conns_per_client = (unsigned)n;
  return 0;
}


static int opt_workers(cp_config_t *cfg, const char *v, char *err, size_t len) {
  unsigned long long n;

  if (parse_uint(v, 256, &n) != 0) {
    return cp_errf(err, len, CP_EINVAL,
                   "--workers: '%s' is not a number from 1 to 256", v);
  }
  cfg->workers = (unsigned)n;
  return 0;
}


static int opt_upstream_sessions(cp_config_t *cfg, const char *v, char *err,
                                 size_t len) {
  unsigned long long n;

  if (parse_count(v, 1000000, &n) != 0) {
    return cp_errf(err, len, CP_EINVAL,
                   "--upstream-sessions: '%s' is not a number from 0 (never "
                   "resume) to 1000000",
                   v);
  }
  cfg->upstream_sessions = (unsigned)n;
  return 0;
}


static int opt_max_conns(cp_config_t *cfg, const char *v, char *err,
                         size_t len) {
  unsigned long long n;

  if (parse_uint(v, 1000000, &n) != 0) {
    return cp_errf(err, len, CP_EINVAL,
                   "--max-conns: '%s' is not a number from 1 to 1000000", v);
  }
  cfg->max_conns = (unsigned)n;
  return 0;
}


static int opt_verbose(cp_config_t *cfg, const char *v, char *err, size_t len) {
  (void)v;
  (void)err;
  (void)len;
  cfg->verbose++;
  return 0;
}


static int opt_help(cp_config_t *cfg, const char *v, char *err, size_t len) {
  (void)v;
  (void)err;
  (void)len;
  cfg->show_help = 1;
  return 0;
}


static int opt_version(cp_config_t *cfg, const char *v, char *err, size_t len) {
  (void)v;
  (void)err;
  (void)len;
  cfg->show_version = 1;
  return 0;
}


/* The table getopt_long(3) parses with: long names map to a handler by
 * their index; -v and -h are the short forms. */
static const option_t options[] = {
    {"listen", 1, opt_listen},
    {"events", 1, opt_events},
    {"keylog", 1, opt_keylog},
    {"ca-dir", 1, opt_ca_dir},
    {"upstream-ca", 1, opt_upstream_ca},
    {"origins", 1, opt_origins},
    {"upstream-client-cert", 1, opt_upstream_client_cert},
    {"upstream-failure", 1, opt_upstream_failure},
    {"passthrough", 1, opt_passthrough},
    {"crl", 1, opt_crl},
    {"distrust", 1, opt_distrust},
    {"clients", 1, opt_clients},
    {"system-roots", 1, opt_system_roots},
    {"chain", 1, opt_chain},
    {"control", 1, opt_control},
    {"control-allow", 1, opt_control_allow},
    {"allow", 1, opt_allow},
    {"auth", 1, opt_auth},
    {"auth-file", 1, cp_config_opt_auth_file},
    {"control-token", 1, cp_config_opt_control_token},
    {"control-token-file", 1, cp_config_opt_control_token_file},
    {"control-host", 1, cp_config_opt_control_host},
    {"rules", 1, opt_rules},
    {"profiles", 1, opt_profiles},
    {"connect-timeout", 1, opt_connect_timeout},
    {"idle-timeout", 1, opt_idle_timeout},
    {"tunnel-idle-timeout", 1, opt_tunnel_idle},
    {"head-timeout", 1, opt_head_timeout},
    {"handshake-timeout", 1, opt_handshake_timeout},
    {"client-tls-min", 1, opt_client_tls_min},
    {"leaf-key", 1, opt_leaf_key},
    {"require-sni", 0, opt_require_sni},
    {"har-bodies", 0, opt_har_bodies},
    {"h2", 1, opt_h2},
    {"upstream-tls-min", 1, opt_upstream_tls_min},
    {"response-timeout", 1, opt_response_timeout},
    {"body-idle-timeout", 1, opt_body_idle},
    {"grace", 1, opt_grace},
    {"max-header-bytes", 1, opt_max_header},
    {"max-conns", 1, opt_max_conns},
    {"max-conns-per-client", 1, opt_max_conns_per_client},
    {"upstream-sessions", 1, opt_upstream_sessions},
    {"upstream-pool", 0, cp_config_opt_upstream_pool},
    {"upstream-proxy", 1, cp_config_opt_upstream_proxy},
    {"upstream-no-proxy", 1, cp_config_opt_no_proxy},
    {"pac-direct", 1, cp_config_opt_pac_direct},
    {"mode", 1, cp_config_opt_mode},
    {"workers", 1, opt_workers},
    {"verbose", 0, opt_verbose},
    {"help", 0, opt_help},
    {"version", 0, opt_version},
};


static size_t opt_index(const char *name) {
  size_t k;

  for (k = 0; k < CP_ARRAY_SIZE(options); k++) {
    if (strcmp(options[k].name, name) == 0) {
      break;
    }
  }
  return k;
}


void cp_config_defaults(cp_config_t *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
  cfg->listen_port = 8080;
  cfg->listen_fd = -1;
  cfg->upstream_failure = CP_FAIL_BLOCK;
  cfg->chain = "modern";
  /* The shipped data: beside an installed binary, else compiled in. */
  cp_datadir_find(&cfg->data, NULL);
  cp_datadir_path(&cfg->data, "profiles.json", cfg->data_profiles,
                  sizeof(cfg->data_profiles));
  cp_datadir_path(&cfg->data, "distrust.json", cfg->data_distrust,
                  sizeof(cfg->data_distrust));
  cp_datadir_path(&cfg->data, "clients.json", cfg->data_clients,
                  sizeof(cfg->data_clients));
  cp_datadir_path(&cfg->data, "families.json", cfg->data_families,
                  sizeof(cfg->data_families));
  cfg->profiles_path = cfg->data_profiles;
  cfg->distrust_path = cfg->data_distrust;
  cfg->clients_path = cfg->data_clients;
  cfg->system_roots = CP_ROOTS_DIR;
  /* Credentials can stay out of the process list. */
  cfg->auth = getenv("CHAINPROXY_AUTH");
  /* As curl and browsers do; --keylog overrides it (docs/export.md). */
  cfg->keylog_path = getenv("SSLKEYLOGFILE");
  if (cfg->keylog_path != NULL && *cfg->keylog_path == '\0') {
    cfg->keylog_path = NULL;
  }
  cfg->connect_timeout_ms = 10000;
  cfg->idle_timeout_ms = 60000;
  cfg->handshake_timeout_ms = 10000;
  cfg->tunnel_idle_timeout_ms = 300000;
  cfg->body_idle_timeout_ms = 300000;
  cfg->client_tls_min = 0x0303; /* TLS 1.2 */
  cfg->upstream_tls_min = 0x0303;
  cfg->grace_ms = 10000;
  cfg->max_header_bytes = 64 * 1024;
  cfg->max_conns = 4096;
  cfg->max_conns_per_client = 256;
  cfg->upstream_sessions = 1024;
  /* One loop per core; the main thread only serves the control API. */
  cfg->workers = uv_available_parallelism();
  if (cfg->workers < 1 || cfg->workers > 256) {
    cfg->workers = cfg->workers < 1 ? 1 : 256;
  }
}


/* The option getopt_long reports a problem with, by its table index, or
 * from the argument itself for one it does not know. */
static int getopt_error(int c, int argc, char **argv, char *err,
                        size_t errlen) {
  const char *arg = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "?";

  if (c == ':') {
    return cp_errf(err, errlen, CP_EINVAL, "%s needs a value (see --help)",
                   arg);
  }
  if (optopt >= 1000 && strchr(arg, '=') != NULL) {
    return cp_errf(err, errlen, CP_EINVAL, "--%s takes no value",
                   options[optopt - 1000].name);
  }
  if (optopt != 0 && strncmp(arg, "--", 2) != 0) {
    return cp_errf(err, errlen, CP_EINVAL, "unknown option '-%c' (see --help)",
                   optopt);
  }
  return cp_errf(err, errlen, CP_EINVAL, "unknown option '%s' (see --help)",
                 arg);
}


int cp_config_parse(cp_config_t *cfg, int argc, char **argv, char *err,
                    size_t errlen) {
  struct option longopts[CP_ARRAY_SIZE(options) + 1];
  size_t k;
  int c, rc;

  memset(longopts, 0, sizeof(longopts));
  for (k = 0; k < CP_ARRAY_SIZE(options); k++) {
    longopts[k].name = options[k].name;
    longopts[k].has_arg =
        options[k].takes_value ? required_argument : no_argument;
    longopts[k].val = 1000 + (int)k;
  }
  /* getopt keeps its position in globals: start afresh (glibc resets
   * fully when optind is 0) and report errors here, not on stderr. */
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
    const option_t *opt;

    if (c == 'v') {
      c = 1000 + (int)(opt_index("verbose"));
    } else if (c == 'h') {
      c = 1000 + (int)(opt_index("help"));
    } else if (c < 1000) {
      return getopt_error(c, argc, argv, err, errlen);
    }
    opt = &options[c - 1000];
    rc = opt->apply(cfg, optarg, err, errlen);
    if (rc != 0) {
      return rc;
    }
  }
  if (optind < argc) {
    return cp_errf(err, errlen, CP_EINVAL,
                   "unexpected argument '%s' (see --help)", argv[optind]);
  }
  rc = cp_config_control_env(cfg, err, errlen);
  if (rc != 0) {
    return rc;
  }
  /* Unless given, the head and first-byte deadlines follow
   * --idle-timeout, as they did when it was the only timeout. */
  if (cfg->head_timeout_ms == 0) {
    cfg->head_timeout_ms = cfg->idle_timeout_ms;
  }
  if (cfg->response_timeout_ms == 0) {
    cfg->response_timeout_ms = cfg->idle_timeout_ms;
  }
  return 0;
}


int cp_config_check_exposure(const cp_config_t *cfg, char *err, size_t errlen) {
  if (cp_host_is_loopback(cfg->listen_host) || cfg->nallow > 0 ||
      cfg->auth != NULL || cfg->auth_file != NULL) {
    return 0;
  }
  return cp_errf(err, errlen, CP_ECONFIG,
                 "refusing to listen on %s:%u with no access control: anyone "
                 "who reaches the port could use this TLS-intercepting proxy. "
                 "Name the networks that may use it with --allow CIDR "
                 "(repeatable), require credentials with --auth USER:PASSWORD "
                 "(or CHAINPROXY_AUTH), or listen on 127.0.0.1",
                 cfg->listen_host, (unsigned)cfg->listen_port);
}
