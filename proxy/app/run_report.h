/* `chainproxy run`'s verdict: the run's events (JSON Lines, read back
 * from its event log after the proxy stopped) folded into one record per
 * host, the expectations judged against them, and the reports: a line
 * per host for people, a JSON summary, JUnit XML for CI systems. Pure
 * over bytes and files; no proxy state. */
#ifndef CP_RUN_REPORT_H
#define CP_RUN_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define CP_RUN_EXPECT_MAX 64
#define CP_RUN_HOSTS_MAX 512

typedef enum cp_run_want_e {
  CP_RUN_ACCEPTED, /* every handshake of the host accepted, none blocked */
  CP_RUN_REJECTED, /* the client refused the chain it was served */
  CP_RUN_BLOCKED   /* chainproxy refused the upstream */
} cp_run_want_e;

typedef struct cp_run_expect_s {
  char spec[300]; /* as given: "*.example.test=rejected:unknown_ca" */
  char glob[256]; /* host glob */
  cp_run_want_e want;
  char cause[64]; /* optional: an alert, a cause, the served defect;
                     "" any */
  int ok;         /* judged */
  char reason[512];
  json_t *evidence; /* owned: the event that decided, or NULL */
} cp_run_expect_t;

typedef struct cp_run_host_s {
  char host[256];
  int port;
  unsigned connections;
  unsigned accepted, rejected; /* client handshakes */
  unsigned blocked;            /* upstream refused by chainproxy */
  unsigned verified, failed;   /* upstream verifications */
  unsigned requests;
  unsigned long long bytes_to_client;
  char profile[32];    /* the last chain served */
  char alert[48];      /* the last client alert (rejected) */
  char served[48];     /* the defect of the chain the client refused
                          ("expired_leaf"), "" for none or unknown */
  char cause[64];      /* the last upstream cause, or client-side cause */
  json_t *last_reject; /* owned: the last rejecting handshake event */
  json_t *last_block;  /* owned: the last blocking error event */
  json_t *last_accept; /* owned */
} cp_run_host_t;

typedef struct cp_run_report_s {
  cp_run_host_t *hosts; /* owned */
  int nhosts;
  cp_run_expect_t expect[CP_RUN_EXPECT_MAX];
  int nexpect;
  int no_other_hosts; /* --expect-no-other-hosts */
  char others[512];   /* hosts no expectation named, when that fails */
} cp_run_report_t;

/* "GLOB=accepted", "GLOB=rejected[:CAUSE]", "GLOB=blocked[:CAUSE]".
 * E is zeroed or holds an earlier expectation (whose evidence it frees). */
int cp_run_expect_parse(cp_run_expect_t *e, const char *spec, char *err,
                        size_t errlen);
/* Folds one event line in. */
void cp_run_report_add(cp_run_report_t *r, const char *line, size_t len);
/* Reads the event log; 0, or -1 when it cannot be read. */
int cp_run_report_read(cp_run_report_t *r, const char *path);
/* Judges every expectation; returns how many failed. */
int cp_run_report_judge(cp_run_report_t *r);
void cp_run_report_print(const cp_run_report_t *r, FILE *out);
/* The summary object (the caller adds the command and trust). */
json_t *cp_run_report_json(const cp_run_report_t *r);
/* JUnit XML: one test case per expectation. */
int cp_run_report_junit(const cp_run_report_t *r, const char *path,
                        const char *suite, double seconds);
void cp_run_report_free(cp_run_report_t *r);

#endif
