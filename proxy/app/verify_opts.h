/* `chainproxy verify`'s command line: the options, their checks and the
 * usage text (getopt_long). */
#ifndef CP_VERIFY_OPTS_H
#define CP_VERIFY_OPTS_H

#include <time.h>

/* Exit codes (docs/verify.md). */
#define EXIT_VERIFIED 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_CONNECT 3
#define EXIT_WARNING 4

typedef struct cp_verify_opts_s {
  const char *target; /* HOST[:PORT] */
  const char *servername;
  const char *ca_file;
  const char *proxy;          /* http://HOST:PORT */
  const char *upstream_proxy; /* a parent: http://[user:pass@]HOST:PORT or
                                 "env" */
  const char *chain_file;
  const char *host; /* --host for --chain-file */
  time_t at;        /* 0: now */
  int warn_days;
  double timeout;
  int tls_min; /* --upstream-tls-min: 0x0301 (1.0) .. 0x0304 */
  int json;
  const char *crls[16];     /* --crl, repeatable */
  const char *distrust;     /* --distrust FILE */
  const char *clients;      /* --clients FILE */
  char trust_path[4096];    /* --trust-as modern|legacy: the CA's root */
  const char *system_roots; /* --system-roots DIR */
  int ncrls;
} cp_verify_opts_t;

/* 0: parsed; 1: --help was printed; -1: a usage error was printed. */
int cp_verify_opts_parse(cp_verify_opts_t *o, int argc, char **argv);

#endif
