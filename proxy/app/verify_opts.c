#include "app/verify_opts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/ca.h"
#include "rules/rules.h"
#include "diag/diag.h"
#include "base/host.h"
#include "base/rfc3339.h"


static const char usage[] =
    "usage: chainproxy verify HOST[:PORT] [--servername NAME] "
    "[--upstream-ca FILE]\n"
    "                         [--proxy http://HOST:PORT] [--json] "
    "[--at TIME] [--warn-days N]\n"
    "       chainproxy verify --chain-file FILE.pem [--host NAME] "
    "[--upstream-ca FILE] [--json]\n"
    "                         [--at TIME] [--warn-days N]\n"
    "\n"
    "Verifies a server's certificate chain as chainproxy does upstream and "
    "names the\nfailing element, the cause and the remedy.\n"
    "  --servername NAME    SNI and name to check (default: HOST)\n"
    "  --upstream-ca FILE   trust store (default: the system store)\n"
    "  --crl FILE           check revocation against this CRL (PEM; "
    "repeatable)\n"
    "  --distrust FILE      CAs browsers distrust (default: the installed "
    "list)\n"
    "  --clients FILE       client families for 'who breaks' (default: the "
    "installed list)\n"
    "  --trust-as STORE     the store the clients hold: system, modern or "
    "legacy\n"
    "                       (chainproxy's roots), or a PEM file "
    "(--upstream-ca)\n"
    "  --system-roots DIR   the distribution's roots (default "
    "/usr/share/ca-certificates/mozilla)\n"
    "  --proxy URL          connect through this HTTP proxy (CONNECT)\n"
    "  --upstream-tls-min VER  lowest TLS version offered (1.0 to 1.3, "
    "default 1.2):\n"
    "                       reach a legacy server to diagnose its chain\n"
    "  --upstream-proxy URL connect through a parent proxy, as chainproxy's "
    "own\n"
    "                       --upstream-proxy: http://[user:password@]host:port "
    "or env\n"
    "  --chain-file FILE    verify a PEM bundle (leaf first) offline\n"
    "  --host NAME          with --chain-file: the name to check\n"
    "  --at TIME            verify as of TIME (RFC 3339, e.g. "
    "2020-05-31T00:00:00Z)\n"
    "  --warn-days N        warn (exit 4) when the chain stops verifying for "
    "some\n                       client within N days (default 30)\n"
    "  --connect-timeout S  connect and handshake deadline (default 10)\n"
    "  --json               print the upstream_verify object\n"
    "exit: 0 verified, 1 verification failed, 2 usage, 3 could not connect,\n"
    "      4 verified with a warning\n";


enum {
  OPT_SERVERNAME = 1000,
  OPT_UPSTREAM_CA,
  OPT_PROXY,
  OPT_CHAIN_FILE,
  OPT_HOST,
  OPT_AT,
  OPT_WARN_DAYS,
  OPT_TIMEOUT,
  OPT_JSON,
  OPT_CRL,
  OPT_DISTRUST,
  OPT_CLIENTS,
  OPT_TRUST_AS,
  OPT_SYSTEM_ROOTS,
  OPT_UPSTREAM_PROXY,
  OPT_UPSTREAM_TLS_MIN,
};

static const struct option longopts[] = {
    {"servername", required_argument, NULL, OPT_SERVERNAME},
    {"upstream-ca", required_argument, NULL, OPT_UPSTREAM_CA},
    {"proxy", required_argument, NULL, OPT_PROXY},
    {"upstream-proxy", required_argument, NULL, OPT_UPSTREAM_PROXY},
    {"upstream-tls-min", required_argument, NULL, OPT_UPSTREAM_TLS_MIN},
    {"chain-file", required_argument, NULL, OPT_CHAIN_FILE},
    {"host", required_argument, NULL, OPT_HOST},
    {"at", required_argument, NULL, OPT_AT},
    {"warn-days", required_argument, NULL, OPT_WARN_DAYS},
    {"connect-timeout", required_argument, NULL, OPT_TIMEOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"crl", required_argument, NULL, OPT_CRL},
    {"distrust", required_argument, NULL, OPT_DISTRUST},
    {"clients", required_argument, NULL, OPT_CLIENTS},
    {"trust-as", required_argument, NULL, OPT_TRUST_AS},
    {"system-roots", required_argument, NULL, OPT_SYSTEM_ROOTS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};


/* --trust-as: the store every client family is assumed to hold, by name:
 * the system store, chainproxy's current root (modern), its expired
 * legacy root (legacy), or a file. */
static int trust_as(cp_verify_opts_t *o, const char *v) {
  char dir[4096];
  const char *root = strcmp(v, "modern") == 0   ? "root.pem"
                     : strcmp(v, "legacy") == 0 ? "legacy-root.pem"
                                                : NULL;

  if (strcmp(v, "system") == 0) {
    o->ca_file = NULL;
    return 0;
  }
  if (root == NULL) {
    o->ca_file = v;
    return 0;
  }
  if (cp_ca_default_dir(NULL, dir, sizeof(dir)) != 0 ||
      (size_t)snprintf(o->trust_path, sizeof(o->trust_path), "%s/%s", dir,
                       root) >= sizeof(o->trust_path)) {
    fprintf(stderr,
            "chainproxy verify: --trust-as %s: set CHAINPROXY_HOME "
            "or HOME to find chainproxy's CA\n",
            v);
    return -1;
  }
  o->ca_file = o->trust_path;
  return 0;
}


/* One option's value into o; -1 after printing why it is wrong. */
static int apply_opt(cp_verify_opts_t *o, int c, const char *v) {
  char *end;

  switch (c) {
  case OPT_SERVERNAME:
    o->servername = v;
    break;
  case OPT_UPSTREAM_CA:
    o->ca_file = v;
    break;
  case OPT_PROXY:
    o->proxy = v;
    break;
  case OPT_UPSTREAM_PROXY:
    o->upstream_proxy = v;
    break;
  case OPT_UPSTREAM_TLS_MIN:
    o->tls_min = cp_rules_parse_tls_version(v);
    if (o->tls_min == 0) {
      fprintf(stderr,
              "chainproxy verify: --upstream-tls-min: '%s' is not 1.0, "
              "1.1, 1.2 or 1.3\n",
              v);
      return -1;
    }
    break;
  case OPT_CHAIN_FILE:
    o->chain_file = v;
    break;
  case OPT_HOST:
    o->host = v;
    break;
  case OPT_DISTRUST:
    o->distrust = v;
    break;
  case OPT_CLIENTS:
    o->clients = v;
    break;
  case OPT_TRUST_AS:
    return trust_as(o, v);
  case OPT_SYSTEM_ROOTS:
    o->system_roots = v;
    break;
  case OPT_CRL:
    if (o->ncrls == (int)(sizeof(o->crls) / sizeof(o->crls[0]))) {
      fprintf(stderr, "chainproxy verify: --crl: at most 16 files\n");
      return -1;
    }
    o->crls[o->ncrls++] = v;
    break;
  case OPT_JSON:
    o->json = 1;
    break;
  case OPT_AT:
    if (cp_rfc3339_parse(v, &o->at) != 0) {
      fprintf(stderr,
              "chainproxy verify: --at: '%s' is not an RFC 3339 "
              "time (e.g. 2020-05-31T00:00:00Z)\n",
              v);
      return -1;
    }
    break;
  case OPT_WARN_DAYS: {
    long n = strtol(v, &end, 10);

    if (*v == '\0' || *end != '\0' || n < 0 || n > 36500) {
      fprintf(stderr,
              "chainproxy verify: --warn-days: '%s' is not a "
              "number of days between 0 and 36500\n",
              v);
      return -1;
    }
    o->warn_days = (int)n;
    break;
  }
  case OPT_TIMEOUT:
    o->timeout = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || !(o->timeout > 0) || o->timeout > 3600) {
      fprintf(stderr,
              "chainproxy verify: --connect-timeout: '%s' is not "
              "a number of seconds\n",
              v);
      return -1;
    }
    break;
  default:
    return -1;
  }
  return 0;
}


/* Returns 0, 1 after --help, or -1 after printing a usage error. */
int cp_verify_opts_parse(cp_verify_opts_t *o, int argc, char **argv) {
  int c;

  memset(o, 0, sizeof(*o));
  o->warn_days = CP_DIAG_WARN_DAYS;
  o->timeout = 10;
  o->tls_min = 0x0303; /* TLS 1.2, as the proxy */
  optind = 0;          /* glibc: start afresh */
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    const char *arg = argv[optind - 1];

    if (c == 'h') {
      fputs(usage, stdout);
      return 1;
    }
    if (c == ':') {
      fprintf(stderr, "chainproxy verify: %s needs a value\n", arg);
      return -1;
    }
    if (c == '?') {
      fprintf(stderr,
              "chainproxy verify: %s option %s (see chainproxy "
              "verify --help)\n",
              optopt ? "bad use of" : "unknown", arg);
      return -1;
    }
    if (apply_opt(o, c, optarg) != 0) {
      return -1;
    }
  }
  if (optind < argc) {
    o->target = argv[optind++];
  }
  if (optind < argc) {
    fprintf(stderr,
            "chainproxy verify: more than one target ('%s' and "
            "'%s')\n",
            o->target, argv[optind]);
    return -1;
  }
  if ((o->target == NULL) == (o->chain_file == NULL)) {
    fprintf(stderr, "chainproxy verify: give either HOST[:PORT] or "
                    "--chain-file FILE (see chainproxy verify --help)\n");
    return -1;
  }
  if (o->chain_file != NULL &&
      (o->proxy || o->upstream_proxy || o->servername)) {
    fprintf(stderr, "chainproxy verify: --proxy, --upstream-proxy and "
                    "--servername need HOST[:PORT]; use --host with "
                    "--chain-file\n");
    return -1;
  }
  if (o->proxy != NULL && o->upstream_proxy != NULL) {
    fprintf(stderr, "chainproxy verify: give --proxy (chainproxy) or "
                    "--upstream-proxy (its parent), not both: to check "
                    "what chainproxy sees through its parent, start it "
                    "with --upstream-proxy and use --proxy here\n");
    return -1;
  }
  if (o->host != NULL && o->chain_file == NULL) {
    fprintf(stderr, "chainproxy verify: --host goes with --chain-file; use "
                    "--servername to check another name online\n");
    return -1;
  }
  return 0;
}
