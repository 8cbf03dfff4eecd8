/* Command line -> cp_config_t. The config is filled once at startup and is
 * read-only afterwards; string fields point into argv (borrowed) or at
 * static defaults. cp_config_parse() never exits and never prints: it
 * returns an error and a one-line message, so unit tests drive it with
 * plain argument vectors. */
#ifndef CP_CONFIG_H
#define CP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "rules/access.h"
#include "config/datadir.h"

#ifndef CP_VERSION
#define CP_VERSION "0.1.0" /* CMake passes the project's */
#endif
/* Set by CMake (CP_PROFILES_PATH): the source tree's certs/profiles.json,
 * or where a package installs it. */
#ifndef CP_PROFILES_PATH
#define CP_PROFILES_PATH "certs/profiles.json"
#endif
#define CP_MAX_PASSTHROUGH 64
#define CP_CONTROL_NAMES 16      /* --control-host names */
#define CP_CONTROL_TOKEN_MAX 256 /* bytes of a control token */

typedef struct cp_config_s cp_config_t;

typedef enum cp_failure_mode_e {
  CP_FAIL_BLOCK,
  CP_FAIL_MIRROR,
  CP_FAIL_IGNORE
} cp_failure_mode_e;

struct cp_config_s {
  char listen_host[64]; /* IP literal */
  uint16_t listen_port;
  const char *events_path; /* borrowed; NULL: no event log */
  const char *keylog_path; /* borrowed (argv or environ): --keylog, else
                              $SSLKEYLOGFILE; NULL: no key log */
  const char *ca_dir;      /* borrowed; NULL: $CHAINPROXY_HOME or ~ */
  const char *upstream_ca; /* borrowed; NULL: system store */
  const char *upstream_client_cert; /* borrowed; NULL: none (mTLS) */
  cp_failure_mode_e upstream_failure;
  int client_tls_min;        /* TLS1_2_VERSION ...: --client-tls-min */
  int upstream_tls_min;      /* --upstream-tls-min */
  int rsa_leaf;              /* --leaf-key rsa */
  int require_sni;           /* --require-sni */
  int h2_bridge;             /* --h2 bridge */
  int upstream_pool;         /* --upstream-pool: reuse idle upstream
                                connections across client tunnels */
  const char *chain;         /* borrowed: profile for all hosts */
  const char *rules_path;    /* borrowed; NULL: no rules */
  const char *profiles_path; /* borrowed: certs/profiles.json */
  char control_host[64];     /* "" : no control API */
  uint16_t control_port;
  cp_cidr_t control_allow[CP_MAX_PASSTHROUGH];
  size_t ncontrol_allow;     /* besides loopback, always allowed */
  const char *control_token; /* borrowed; NULL: no token needed */
  char control_token_buf[CP_CONTROL_TOKEN_MAX + 1]; /* --control-token-file */
  int control_token_argv; /* the token came as --control-token: warned of */
  const char *control_names[CP_CONTROL_NAMES]; /* borrowed: --control-host */
  size_t ncontrol_names;
  cp_cidr_t allow[CP_MAX_PASSTHROUGH]; /* --allow: who may use the proxy */
  size_t nallow;                       /* besides loopback, always allowed */
  const char *auth;          /* --auth USER:PASSWORD (or $CHAINPROXY_AUTH) */
  const char *auth_file;     /* --auth-file: USER:PASSWORD lines */
  const char *crls[16];      /* borrowed: --crl files */
  const char *distrust_path; /* --distrust: CAs browsers distrust */
  const char *system_roots;  /* --system-roots: the distribution's roots */
  const char *clients_path;  /* --clients: client families (who breaks) */
  int ncrls;
  const char *upstream_proxy; /* --upstream-proxy URL, or "env"; NULL:
                                 connect directly */
  const char *no_proxy[16];   /* --upstream-no-proxy comma lists */
  int nno_proxy;
  int transparent;            /* --mode transparent */
  int isolate;                /* set by `run --isolate` (no option): the
                                 listener is in CMD's namespace, events
                                 say mode "isolate", and a connection that
                                 was not redirected is served as a forward
                                 proxy's (CMD's proxy variables) */
  int listen_fd;              /* a listening socket to adopt instead of
                                 binding listen_host:listen_port (with one
                                 worker); the server owns it; -1: none */
  uint16_t origins_port;      /* --origins: the catalogue's base port on
                                 127.0.0.1 (in-process); 0: none */
  const char *pac_direct[16]; /* --pac-direct host globs */
  int npac_direct;
  const char *passthrough[CP_MAX_PASSTHROUGH]; /* borrowed host globs */
  size_t npassthrough;
  uint64_t connect_timeout_ms;
  uint64_t idle_timeout_ms;      /* an idle keep-alive client or control conn */
  uint64_t head_timeout_ms;      /* a request head, from its first byte */
  uint64_t handshake_timeout_ms; /* the client's TLS handshake, whole */
  uint64_t response_timeout_ms;  /* the response's first byte, from the
                                    request's last */
  uint64_t body_idle_timeout_ms; /* a gap inside a body; 0: none */
  uint64_t tunnel_idle_timeout_ms;
  uint64_t grace_ms; /* shutdown: in-flight connections' grace */
  size_t max_header_bytes;
  size_t har_bodies; /* --har-bodies: body bytes kept per message; 0: none */
  unsigned max_conns;
  unsigned max_conns_per_client; /* a remote address; 0: no cap */
  unsigned workers;              /* event loops, one thread each */
  unsigned upstream_sessions;    /* upstream sessions kept per worker for
                                    resumption; 0: never resume */
  cp_datadir_t data;             /* where the shipped data is read from */
  char data_profiles[1100];      /* data.dir's files: the defaults of */
  char data_distrust[1100];      /* --profiles, --distrust, --clients */
  char data_clients[1100];
  char data_families[1100]; /* the path simulator's families */
  int verbose; /* -1 errors only (chainproxy run), 0 warn, 1 info, 2 debug */
  int show_help;
  int show_version;
};

void cp_config_defaults(cp_config_t *cfg);
/* ADDR[/BITS] into the 128-bit (IPv4-mapped) form. */
int cp_config_parse_cidr(const char *v, unsigned char addr[16], int *bits);
/* A listener off loopback needs --allow or --auth: err says why not. */
int cp_config_check_exposure(const cp_config_t *cfg, char *err, size_t errlen);
/* argv[0] is skipped. Returns 0, or CP_EINVAL with a message in err. */
int cp_config_parse(cp_config_t *cfg, int argc, char **argv, char *err,
                    size_t errlen);
const char *cp_config_usage(void);

#endif
