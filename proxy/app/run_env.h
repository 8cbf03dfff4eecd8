/* chainproxy run: the environment CMD gets. A cp_run_env_t owns its
 * array and the strings it made; the others are environ's. */
#ifndef CP_RUN_ENV_H
#define CP_RUN_ENV_H

#include <stddef.h>

#include <jansson.h>

/* CMD's environment: ours, with some variables replaced. */
typedef struct cp_run_env_s {
  char **v; /* owned array; the strings are environ's or in owned */
  size_t n;
  char *owned[24];
  int nowned;
} cp_run_env_t;

/* A copy of environ; 0, or -1 out of memory. */
int cp_run_env_init(cp_run_env_t *e);
/* NAME=value, replacing NAME; 0, or -1. */
int cp_run_env_set(cp_run_env_t *e, const char *name, const char *value);
void cp_run_env_free(cp_run_env_t *e);
/* Java's trust store (keytool) and proxy properties through
 * JAVA_TOOL_OPTIONS; host NULL: no proxy properties. Names exported go
 * to exported. */
int cp_run_env_java(const char *mode, const char *ca_dir, const char *tmp,
                    const char *host, unsigned port, cp_run_env_t *env,
                    json_t *exported);
/* The trust bundle for --trust mode and the variables that point each
 * stack at it. */
int cp_run_env_trust(const char *mode, const char *ca_dir, const char *tmp,
                     cp_run_env_t *env, json_t *exported);

#endif
