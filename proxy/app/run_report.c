#include "app/run_report.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/host.h"


int cp_run_expect_parse(cp_run_expect_t *e, const char *spec, char *err,
                        size_t errlen) {
  const char *eq = strrchr(spec, '=');
  const char *what, *colon;
  size_t gl;

  /* Parsed again in place: the evidence of its last judgement goes. */
  json_decref(e->evidence);
  memset(e, 0, sizeof(*e));
  snprintf(e->spec, sizeof(e->spec), "%s", spec);
  if (eq == NULL || eq == spec ||
      (gl = (size_t)(eq - spec)) >= sizeof(e->glob)) {
    return cp_errf(err, errlen, CP_EINVAL,
                   "--expect '%s': not HOSTGLOB=accepted, "
                   "HOSTGLOB=rejected[:CAUSE] or HOSTGLOB=blocked[:CAUSE]",
                   spec);
  }
  memcpy(e->glob, spec, gl);
  e->glob[gl] = '\0';
  what = eq + 1;
  colon = strchr(what, ':');
  if (colon != NULL) {
    snprintf(e->cause, sizeof(e->cause), "%s", colon + 1);
  }
  if (strncmp(what, "accepted", 8) == 0 && (what[8] == '\0')) {
    e->want = CP_RUN_ACCEPTED;
  } else if (strncmp(what, "rejected", 8) == 0 &&
             (what[8] == '\0' || what[8] == ':')) {
    e->want = CP_RUN_REJECTED;
  } else if (strncmp(what, "blocked", 7) == 0 &&
             (what[7] == '\0' || what[7] == ':')) {
    e->want = CP_RUN_BLOCKED;
  } else {
    return cp_errf(err, errlen, CP_EINVAL,
                   "--expect '%s': the outcome must be accepted, "
                   "rejected[:CAUSE] or blocked[:CAUSE]",
                   spec);
  }
  if (colon != NULL && (e->cause[0] == '\0' || e->want == CP_RUN_ACCEPTED)) {
    return cp_errf(err, errlen, CP_EINVAL,
                   "--expect '%s': a cause goes with rejected or blocked",
                   spec);
  }
  return 0;
}


static const char *str(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));

  return s ? s : "";
}


static cp_run_host_t *host_of(cp_run_report_t *r, json_t *ev) {
  const char *h = str(ev, "host");
  int port = (int)json_integer_value(json_object_get(ev, "port"));
  int i;
  cp_run_host_t *grown;

  if (*h == '\0') {
    return NULL;
  }
  for (i = 0; i < r->nhosts; i++) {
    if (r->hosts[i].port == port && strcmp(r->hosts[i].host, h) == 0) {
      return &r->hosts[i];
    }
  }
  if (r->nhosts == CP_RUN_HOSTS_MAX) {
    return NULL;
  }
  grown = realloc(r->hosts, sizeof(*grown) * (size_t)(r->nhosts + 1));
  if (grown == NULL) {
    return NULL;
  }
  r->hosts = grown;
  memset(&grown[r->nhosts], 0, sizeof(grown[0]));
  snprintf(grown[r->nhosts].host, sizeof(grown[0].host), "%s", h);
  grown[r->nhosts].port = port;
  return &grown[r->nhosts++];
}


static void keep(json_t **slot, json_t *ev) {
  json_decref(*slot);
  *slot = json_incref(ev);
}


/* An error code meaning chainproxy would not talk to the upstream. */
static int blocking(const char *code) {
  return strcmp(code, "upstream_verify_failed") == 0 ||
         strcmp(code, "upstream_tls_failed") == 0 ||
         strncmp(code, "parent_proxy_", 13) == 0 ||
         strcmp(code, "connection_refused") == 0 ||
         strcmp(code, "dns_failure") == 0 ||
         strcmp(code, "connect_failed") == 0 ||
         strcmp(code, "connect_timeout") == 0 || strcmp(code, "blocked") == 0;
}


/* The defect each built-in profile serves, named as diag.h names causes:
 * what a client that refused that chain refused, whatever alert it sent
 * (OpenSSL names the defect, Go says bad_certificate, Chromium
 * certificate_unknown, Node and Java close without one). */
static const char *served_defect(const char *profile) {
  static const char *const defects[][2] = {
      {"legacy", "expired_cross_sign"},    {"expired", "expired_leaf"},
      {"not-yet-valid", "not_yet_valid"},  {"wrong-host", "hostname_mismatch"},
      {"self-signed", "self_signed_leaf"}, {"untrusted-root", "untrusted_root"},
      {"incomplete", "incomplete_chain"},
  };
  size_t i;

  for (i = 0; i < sizeof(defects) / sizeof(defects[0]); i++) {
    if (strcmp(profile, defects[i][0]) == 0) {
      return defects[i][1];
    }
  }
  return "";
}


void cp_run_report_add(cp_run_report_t *r, const char *line, size_t len) {
  json_t *ev = json_loadb(line, len, 0, NULL);
  const char *kind = str(ev, "event");
  cp_run_host_t *h;

  /* A refused UDP destination (run --isolate) is in the summary apart. */
  if (ev == NULL || strcmp(kind, "udp_refused") == 0 ||
      (h = host_of(r, ev)) == NULL) {
    json_decref(ev);
    return;
  }
  if (strcmp(kind, "connect") == 0 && *str(ev, "mode") != '\0') {
    h->connections++;
  } else if (strcmp(kind, "client_handshake") == 0) {
    snprintf(h->profile, sizeof(h->profile), "%s", str(ev, "profile"));
    if (json_is_true(json_object_get(ev, "accepted"))) {
      h->accepted++;
      keep(&h->last_accept, ev);
    } else {
      h->rejected++;
      snprintf(h->alert, sizeof(h->alert), "%s",
               *str(ev, "alert") ? str(ev, "alert") : "none");
      if (*str(ev, "cause")) {
        snprintf(h->cause, sizeof(h->cause), "%s", str(ev, "cause"));
      }
      /* A client's refusal is of the chain served; chainproxy's refusal
       * of a client (its version, its suites) is not. */
      snprintf(h->served, sizeof(h->served), "%s",
               strcmp(str(ev, "refused_by"), "chainproxy") == 0
                   ? ""
                   : served_defect(str(ev, "profile")));
      keep(&h->last_reject, ev);
    }
  } else if (strcmp(kind, "upstream_verify") == 0) {
    if (json_is_true(json_object_get(ev, "ok"))) {
      h->verified++;
    } else {
      h->failed++;
      snprintf(h->cause, sizeof(h->cause), "%s", str(ev, "cause"));
    }
  } else if (strcmp(kind, "error") == 0 && blocking(str(ev, "error"))) {
    h->blocked++;
    if (h->cause[0] == '\0' ||
        strcmp(str(ev, "error"), "upstream_verify_failed") != 0) {
      snprintf(h->cause, sizeof(h->cause), "%s", str(ev, "error"));
    }
    keep(&h->last_block, ev);
  } else if (strcmp(kind, "request") == 0) {
    h->requests++;
    h->bytes_to_client += (unsigned long long)json_integer_value(
        json_object_get(ev, "bytes_to_client"));
  }
  json_decref(ev);
}


int cp_run_report_read(cp_run_report_t *r, const char *path) {
  FILE *fp = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;

  if (fp == NULL) {
    return -1;
  }
  while ((n = getline(&line, &cap, fp)) > 0) {
    cp_run_report_add(r, line, (size_t)n);
  }
  free(line);
  fclose(fp);
  return 0;
}


/* A cause given with an expectation matches the alert, the cause, or the
 * error code, exactly or as a part ("expired" matches
 * "certificate_expired"). */
static int cause_matches(const char *want, const char *a, const char *b) {
  return want[0] == '\0' || (a[0] && strstr(a, want) != NULL) ||
         (b[0] && strstr(b, want) != NULL);
}


/* rejected:CAUSE: the client's alert, the cause, or the defect of the
 * chain chainproxy served ("expired" and "expired_leaf" match a refused
 * expired chain with any alert or none). */
static int rejection_matches(const char *want, const cp_run_host_t *h) {
  return cause_matches(want, h->alert, h->cause) ||
         (h->served[0] && strstr(h->served, want) != NULL);
}


/* "the expired chain (served expired_leaf; alert none)" */
static void rejection_text(char *out, size_t len, const cp_run_host_t *h) {
  snprintf(out, len, "the %s chain (%s%s%salert %s)", h->profile,
           h->served[0] ? "served " : "", h->served, h->served[0] ? "; " : "",
           h->alert);
}


static void judge_one(cp_run_report_t *r, cp_run_expect_t *e) {
  unsigned conns = 0, acc = 0, rej = 0, blk = 0, reqs = 0;
  const cp_run_host_t *last = NULL, *rej_h = NULL, *blk_h = NULL;
  int i;

  for (i = 0; i < r->nhosts; i++) {
    const cp_run_host_t *h = &r->hosts[i];

    if (!cp_host_glob_match(e->glob, h->host) || h->connections == 0) {
      continue;
    }
    last = h;
    conns += h->connections;
    acc += h->accepted;
    reqs += h->requests;
    if (h->rejected > 0 && rejection_matches(e->cause, h)) {
      rej += h->rejected;
      rej_h = h;
    } else if (h->rejected > 0) {
      rej_h = rej_h ? rej_h : h;
    }
    if (h->blocked > 0 && cause_matches(e->cause, h->cause, "")) {
      blk += h->blocked;
      blk_h = h;
    } else if (h->blocked > 0) {
      blk_h = blk_h ? blk_h : h;
    }
  }
  e->ok = 0;
  /* Judged again (a second call): the evidence of the last judgement
   * gives way. */
  json_decref(e->evidence);
  e->evidence = NULL;
  if (conns == 0) {
    snprintf(e->reason, sizeof(e->reason), "no connection to %s was seen",
             e->glob);
    return;
  }
  switch (e->want) {
  case CP_RUN_ACCEPTED:
    e->ok = rej_h == NULL && blk_h == NULL && (acc > 0 || reqs > 0);
    if (rej_h != NULL) {
      snprintf(e->reason, sizeof(e->reason),
               "the client rejected the %s chain of %s:%d (alert %s)",
               rej_h->profile, rej_h->host, rej_h->port, rej_h->alert);
      e->evidence = json_incref(rej_h->last_reject);
    } else if (blk_h != NULL) {
      snprintf(e->reason, sizeof(e->reason),
               "chainproxy refused the upstream %s:%d (%s)", blk_h->host,
               blk_h->port, blk_h->cause);
      e->evidence = json_incref(blk_h->last_block);
    } else if (!e->ok) {
      snprintf(e->reason, sizeof(e->reason),
               "%u connection(s) to %s but no handshake or request "
               "completed",
               conns, e->glob);
    } else {
      snprintf(e->reason, sizeof(e->reason),
               "%u handshake(s) accepted, %u request(s)", acc, reqs);
      e->evidence = json_incref(last->last_accept);
    }
    return;
  case CP_RUN_REJECTED:
    e->ok = rej > 0;
    if (rej_h != NULL) {
      char what[200];

      rejection_text(what, sizeof(what), rej_h);
      if (e->ok) {
        snprintf(e->reason, sizeof(e->reason), "the client rejected %s", what);
      } else {
        snprintf(e->reason, sizeof(e->reason), "the client rejected %s, not %s",
                 what, e->cause);
      }
      e->evidence = json_incref(rej_h->last_reject);
    } else {
      snprintf(e->reason, sizeof(e->reason),
               "the client accepted every chain of %s (%u handshake(s))",
               e->glob, acc);
      e->evidence = last->last_accept ? json_incref(last->last_accept) : NULL;
    }
    return;
  case CP_RUN_BLOCKED:
    e->ok = blk > 0;
    if (e->ok || blk_h != NULL) {
      snprintf(e->reason, sizeof(e->reason),
               e->ok ? "chainproxy refused the upstream %s:%d (%s)"
                     : "chainproxy refused the upstream %s:%d for %s",
               blk_h->host, blk_h->port, blk_h->cause);
      if (!e->ok) {
        size_t l = strlen(e->reason);

        snprintf(e->reason + l, sizeof(e->reason) - l, ", not %s", e->cause);
      }
      e->evidence = json_incref(blk_h->last_block);
    } else {
      snprintf(e->reason, sizeof(e->reason),
               "chainproxy did not refuse %s (%u upstream verification(s) "
               "passed)",
               e->glob, last->verified);
    }
    return;
  }
}


int cp_run_report_judge(cp_run_report_t *r) {
  int i, k, failed = 0;
  size_t l = 0;

  for (i = 0; i < r->nexpect; i++) {
    judge_one(r, &r->expect[i]);
    failed += !r->expect[i].ok;
  }
  r->others[0] = '\0';
  if (!r->no_other_hosts) {
    return failed;
  }
  for (i = 0; i < r->nhosts; i++) {
    const cp_run_host_t *h = &r->hosts[i];
    int named = 0;

    for (k = 0; k < r->nexpect && !named; k++) {
      named = cp_host_glob_match(r->expect[k].glob, h->host);
    }
    if (!named && h->connections > 0 &&
        l + strlen(h->host) + 10 < sizeof(r->others)) {
      l += (size_t)snprintf(r->others + l, sizeof(r->others) - l, "%s%s:%d",
                            l ? ", " : "", h->host, h->port);
    }
  }
  return failed + (r->others[0] != '\0');
}


void cp_run_report_print(const cp_run_report_t *r, FILE *out) {
  int i;

  fprintf(out, "chainproxy run: %d host(s)\n", r->nhosts);
  for (i = 0; i < r->nhosts; i++) {
    const cp_run_host_t *h = &r->hosts[i];

    if (h->connections == 0) {
      continue;
    }
    fprintf(out,
            "  %s:%d  chain %s  client %s  upstream %s  requests %u  "
            "bytes %llu\n",
            h->host, h->port, h->profile[0] ? h->profile : "-",
            h->rejected   ? (h->accepted ? "accepted+rejected" : "rejected")
            : h->accepted ? "accepted"
                          : "-",
            h->blocked    ? "blocked"
            : h->failed   ? "failed"
            : h->verified ? "verified"
                          : "-",
            h->requests, h->bytes_to_client);
    if (h->rejected) {
      fprintf(out, "      rejected: alert %s%s%s%s%s\n", h->alert,
              h->cause[0] ? ", cause " : "", h->cause,
              h->served[0] ? ", served " : "", h->served);
    } else if (h->blocked || h->failed) {
      fprintf(out, "      upstream: %s\n", h->cause);
    }
  }
  for (i = 0; i < r->nexpect; i++) {
    fprintf(out, "  %s %s: %s\n", r->expect[i].ok ? "PASS" : "FAIL",
            r->expect[i].spec, r->expect[i].reason);
  }
  if (r->no_other_hosts) {
    fprintf(out, "  %s --expect-no-other-hosts%s%s\n",
            r->others[0] ? "FAIL" : "PASS", r->others[0] ? ": also seen: " : "",
            r->others);
  }
}


json_t *cp_run_report_json(const cp_run_report_t *r) {
  json_t *o = json_object(), *hosts = json_array(), *ex = json_array();
  int i;

  for (i = 0; i < r->nhosts; i++) {
    const cp_run_host_t *h = &r->hosts[i];

    if (h->connections == 0) {
      continue;
    }
    json_array_append_new(
        hosts,
        json_pack("{s:s,s:i,s:i,s:s?,s:{s:i,s:i,s:s?,s:s?},"
                  "s:{s:i,s:i,s:i,s:s?},s:i,s:I}",
                  "host", h->host, "port", h->port, "connections",
                  (int)h->connections, "profile",
                  h->profile[0] ? h->profile : NULL, "client", "accepted",
                  (int)h->accepted, "rejected", (int)h->rejected, "alert",
                  h->rejected ? h->alert : NULL, "served_defect",
                  h->rejected && h->served[0] ? h->served : NULL, "upstream",
                  "verified", (int)h->verified, "failed", (int)h->failed,
                  "blocked", (int)h->blocked, "cause",
                  h->cause[0] ? h->cause : NULL, "requests", (int)h->requests,
                  "bytes_to_client", (json_int_t)h->bytes_to_client));
  }
  for (i = 0; i < r->nexpect; i++) {
    const cp_run_expect_t *e = &r->expect[i];

    json_array_append_new(ex, json_pack("{s:s,s:b,s:s,s:O?}", "expect", e->spec,
                                        "ok", e->ok, "reason", e->reason,
                                        "event", e->evidence));
  }
  if (r->no_other_hosts) {
    json_array_append_new(
        ex, json_pack("{s:s,s:b,s:s}", "expect", "no other hosts", "ok",
                      r->others[0] == '\0', "reason",
                      r->others[0] ? r->others : "no other host was seen"));
  }
  json_object_set_new(o, "hosts", hosts);
  json_object_set_new(o, "expectations", ex);
  return o;
}


static void xml_text(FILE *fp, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '<':
      fputs("&lt;", fp);
      break;
    case '>':
      fputs("&gt;", fp);
      break;
    case '&':
      fputs("&amp;", fp);
      break;
    case '"':
      fputs("&quot;", fp);
      break;
    default:
      /* XML 1.0 has no other control characters than these. */
      if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t') {
        fputc(*s, fp);
      }
    }
  }
}


static void junit_case(FILE *fp, const char *name, int ok, const char *reason,
                       json_t *evidence) {
  fputs("  <testcase classname=\"chainproxy.expect\" name=\"", fp);
  xml_text(fp, name);
  fputs("\">\n", fp);
  if (!ok) {
    char *ev = evidence ? json_dumps(evidence, JSON_COMPACT) : NULL;

    fputs("    <failure message=\"", fp);
    xml_text(fp, reason);
    fputs("\" type=\"expectation\">", fp);
    xml_text(fp, reason);
    if (ev != NULL) {
      fputs("\nevent: ", fp);
      xml_text(fp, ev);
    }
    fputs("</failure>\n", fp);
    free(ev);
  } else {
    fputs("    <system-out>", fp);
    xml_text(fp, reason);
    fputs("</system-out>\n", fp);
  }
  fputs("  </testcase>\n", fp);
}


int cp_run_report_junit(const cp_run_report_t *r, const char *path,
                        const char *suite, double seconds) {
  FILE *fp = fopen(path, "w");
  int i, failures = 0, n = r->nexpect + (r->no_other_hosts ? 1 : 0);

  if (fp == NULL) {
    return -1;
  }
  for (i = 0; i < r->nexpect; i++) {
    failures += !r->expect[i].ok;
  }
  failures += r->no_other_hosts && r->others[0] != '\0';
  fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"");
  xml_text(fp, suite);
  fprintf(fp, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" time=\"%.3f\">\n",
          n, failures, seconds);
  for (i = 0; i < r->nexpect; i++) {
    junit_case(fp, r->expect[i].spec, r->expect[i].ok, r->expect[i].reason,
               r->expect[i].evidence);
  }
  if (r->no_other_hosts) {
    junit_case(fp, "no other hosts", r->others[0] == '\0',
               r->others[0] ? r->others : "no other host was seen", NULL);
  }
  fputs("</testsuite>\n", fp);
  return fclose(fp) == 0 ? 0 : -1;
}


void cp_run_report_free(cp_run_report_t *r) {
  int i;

  for (i = 0; i < r->nhosts; i++) {
    json_decref(r->hosts[i].last_reject);
    json_decref(r->hosts[i].last_block);
    json_decref(r->hosts[i].last_accept);
  }
  free(r->hosts);
  r->hosts = NULL;
  r->nhosts = 0;
  for (i = 0; i < r->nexpect; i++) {
    json_decref(r->expect[i].evidence);
    r->expect[i].evidence = NULL;
  }
}
