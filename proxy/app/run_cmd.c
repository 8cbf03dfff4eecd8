/* nftw(3) */
#define _XOPEN_SOURCE 700
#include "app/run_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "pki/ca.h"
#include "config/config.h"
#include "app/isolate.h"
#include "app/isolate_dns.h"
#include "app/run_env.h"
#include "app/run_report.h"
#include "app/server.h"
#include "events/har.h"

static const char usage[] =
    "usage: chainproxy run [proxy options] [run options] -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD with HTTPS_PROXY/HTTP_PROXY (and the lowercase ones) pointing\n"
    "at a chainproxy on a free loopback port, then reports what happened.\n"
    "\n"
    "  --trust MODE               what CMD's stack trusts: modern (default: "
    "the\n"
    "                             system roots plus chainproxy's root), "
    "legacy\n"
    "                             (the legacy root instead), both, or none\n"
    "  --expect GLOB=OUTCOME      accepted, rejected[:CAUSE] or "
    "blocked[:CAUSE]\n"
    "                             (repeatable); then the exit status says\n"
    "                             whether they held (0) or not (1)\n"
    "  --expect-no-other-hosts    fail when a host no --expect names was "
    "seen\n"
    "  --isolate                  run CMD in a network namespace whose only "
    "way\n"
    "                             out is the proxy: every TCP connection is\n"
    "                             intercepted, proxy variables or not (root, "
    "or\n"
    "                             unprivileged user namespaces)\n"
    "  --no-java                  no Java trust store and proxy properties "
    "(JAVA_TOOL_OPTIONS;\n"
    "                             making them takes keytool about a second)\n"
    "  --summary-json FILE        the summary as JSON\n"
    "  --junit FILE               JUnit XML, one test case per expectation\n"
    "  --har FILE                 the run as HAR 1.2 (docs/export.md)\n"
    "Without expectations the exit status is CMD's. Proxy options are\n"
    "chainproxy's (--chain legacy, --rules FILE, ...); see docs/qa.md.\n";

typedef struct run_s {
  cp_server_t *srv;
  uv_process_t child;
  char **cmd;
  char **env;
  int spawned, exited;
  int64_t status;
  int term_signal;
  uint64_t t0;
  int running;           /* the proxy listens (srv may be shut down) */
  cp_isolate_t *iso;     /* borrowed: --isolate's helper, else NULL */
  cp_isolate_dns_t *dns; /* borrowed: --isolate's resolver, else NULL */
  char udp[8][80];       /* --isolate: UDP destinations refused (first 8) */
  int nudp;
} run_t;


static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *f) {
  (void)st;
  (void)flag;
  (void)f;
  remove(path);
  return 0;
}


static int free_port(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) {
    close(fd);
  }
  return port;
}


static void on_udp_refused(void *arg, const char *addr, int port) {
  run_t *run = arg;

  cp_event_udp_refused(&run->srv->events, addr, port);
  if (run->nudp < (int)(sizeof(run->udp) / sizeof(run->udp[0]))) {
    snprintf(run->udp[run->nudp], sizeof(run->udp[0]),
             strchr(addr, ':') ? "[%s]:%d" : "%s:%d", addr, port);
  }
  run->nudp++;
}


static void on_exit_cb(uv_process_t *p, int64_t status, int term_signal) {
  run_t *run = p->data;

  run->exited = 1;
  run->status = status;
  run->term_signal = term_signal;
  uv_close((uv_handle_t *)p, NULL);
  if (run->iso != NULL && run->running) {
    cp_isolate_refused(run->iso, on_udp_refused, run);
  }
  if (run->dns != NULL) {
    cp_isolate_dns_close(run->dns);
  }
  if (run->running) {
    cp_server_shutdown(run->srv); /* drain, then the loop ends */
  }
}


static void on_running(void *arg, cp_server_t *srv) {
  run_t *run = arg;
  uv_process_options_t o;
  uv_stdio_container_t io[3];
  int rc, i;

  run->running = 1;
  if (run->iso != NULL) {
    /* The helper spawned before the server is waiting to exec CMD. */
    run->t0 = uv_hrtime();
    cp_isolate_go(run->iso);
    if (run->exited) {
      cp_server_shutdown(srv);
    }
    return;
  }
  memset(&o, 0, sizeof(o));
  for (i = 0; i < 3; i++) {
    io[i].flags = UV_INHERIT_FD;
    io[i].data.fd = i;
  }
  o.file = run->cmd[0];
  o.args = run->cmd;
  o.env = run->env;
  o.stdio = io;
  o.stdio_count = 3;
  o.exit_cb = on_exit_cb;
  run->child.data = run;
  run->t0 = uv_hrtime();
  rc = uv_spawn(srv->loop, &run->child, &o);
  if (rc != 0) {
    fprintf(stderr, "chainproxy run: cannot run %s: %s\n", run->cmd[0],
            uv_strerror(rc));
    run->exited = 1;
    run->status = rc == UV_ENOENT ? 127 : 126;
    uv_close((uv_handle_t *)&run->child, NULL);
    cp_server_shutdown(srv);
    return;
  }
  run->spawned = 1;
}


/* SIGINT and SIGTERM reach CMD too; the proxy then drains as CMD ends. */
static void on_signal(void *arg, int signum) {
  run_t *run = arg;

  if (run->spawned && !run->exited) {
    uv_process_kill(&run->child, signum);
  }
}


typedef struct opts_s {
  const char *trust;
  const char *summary_json;
  const char *junit;
  const char *har;
  char **proxy; /* "chainproxy" + proxy options + what run adds */
  int nproxy;
  int has_listen, has_ca_dir, has_events;
  int no_java; /* --no-java: no Java trust store (saves keytool's second) */
  int isolate; /* --isolate: CMD in a network namespace of its own */
  const char *events;
  char **cmd;
} opts_t;


/* Run options out of argv (before "--"), the rest kept for the proxy.
 * -1 after printing why; 1 after --help. */
static int parse(opts_t *o, cp_run_report_t *rep, int argc, char **argv) {
  char err[600];
  int i, sep = -1;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      sep = i;
      break;
    }
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return 1;
    }
  }
  if (sep < 0 || sep + 1 >= argc) {
    fprintf(stderr, "chainproxy run: give the command after '--' (see "
                    "chainproxy run --help)\n");
    return -1;
  }
  o->cmd = argv + sep + 1;
  o->proxy = calloc((size_t)argc + 8, sizeof(char *));
  if (o->proxy == NULL) {
    return -1;
  }
  o->proxy[o->nproxy++] = "chainproxy";
  o->trust = "modern";
  for (i = 1; i < sep; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < sep ? argv[i + 1] : NULL;

    if (strcmp(a, "--expect-no-other-hosts") == 0) {
      rep->no_other_hosts = 1;
      continue;
    }
    if (strcmp(a, "--no-java") == 0) {
      o->no_java = 1;
      continue;
    }
    if (strcmp(a, "--isolate") == 0) {
      o->isolate = 1;
      continue;
    }
    if (strcmp(a, "--trust") == 0 || strcmp(a, "--expect") == 0 ||
        strcmp(a, "--summary-json") == 0 || strcmp(a, "--junit") == 0 ||
        strcmp(a, "--har") == 0) {
      if (v == NULL) {
        fprintf(stderr, "chainproxy run: %s needs a value\n", a);
        return -1;
      }
      i++;
      if (strcmp(a, "--trust") == 0) {
        o->trust = v;
      } else if (strcmp(a, "--summary-json") == 0) {
        o->summary_json = v;
      } else if (strcmp(a, "--junit") == 0) {
        o->junit = v;
      } else if (strcmp(a, "--har") == 0) {
        o->har = v;
      } else if (rep->nexpect == CP_RUN_EXPECT_MAX ||
                 cp_run_expect_parse(&rep->expect[rep->nexpect++], v, err,
                                     sizeof(err)) != 0) {
        fprintf(stderr, "chainproxy run: %s\n",
                rep->nexpect > CP_RUN_EXPECT_MAX - 1 ? "too many --expect"
                                                     : err);
        return -1;
      }
      continue;
    }
    o->has_listen |= strcmp(a, "--listen") == 0;
    o->has_ca_dir |= strcmp(a, "--ca-dir") == 0;
    if (strcmp(a, "--events") == 0) {
      o->has_events = 1;
      o->events = v;
    }
    o->proxy[o->nproxy++] = argv[i];
  }
  if (strcmp(o->trust, "modern") != 0 && strcmp(o->trust, "legacy") != 0 &&
      strcmp(o->trust, "both") != 0 && strcmp(o->trust, "none") != 0) {
    fprintf(stderr,
            "chainproxy run: --trust '%s' is not modern, legacy, "
            "both or none\n",
            o->trust);
    return -1;
  }
  if (o->has_events && (o->events == NULL || strcmp(o->events, "-") == 0)) {
    fprintf(stderr, "chainproxy run: --events needs a file here (stdout is "
                    "the command's)\n");
    return -1;
  }
  return 0;
}


/* The summary for people (stderr) and the files asked for. */
static void report(const opts_t *o, cp_run_report_t *rep, const run_t *run,
                   const char *proxy, json_t *exported, double secs) {
  json_t *sum;
  int i;
  const char *mech = run->iso != NULL ? run->iso->mechanism : NULL;

  cp_run_report_print(rep, stderr);
  fprintf(stderr, "  command: %s exited %s %lld%s\n", o->cmd[0],
          run->term_signal ? "on signal" : "with status",
          run->term_signal ? (long long)run->term_signal
                           : (long long)run->status,
          "");
  fprintf(stderr, "  trust %s, exported:", o->trust);
  for (i = 0; i < (int)json_array_size(exported); i++) {
    fprintf(stderr, " %s", json_string_value(json_array_get(exported, i)));
  }
  fprintf(stderr, "%s\n", json_array_size(exported) ? "" : " (nothing)");
  if (mech != NULL && run->dns != NULL) {
    fprintf(stderr,
            "  dns: %llu answered (catalogue), %llu relayed, %llu refused\n",
            (unsigned long long)run->dns->answered,
            (unsigned long long)run->dns->relayed,
            (unsigned long long)run->dns->refused);
  }
  if (run->nudp > 0) {
    fprintf(stderr, "  udp refused (%d destination(s)):", run->nudp);
    for (i = 0; i < run->nudp && i < 8; i++) {
      fprintf(stderr, " %s", run->udp[i]);
    }
    fprintf(stderr, "%s\n", run->nudp > 8 ? " ..." : "");
  }
  if (mech != NULL) {
    fprintf(stderr,
            "  isolated: CMD ran in a network namespace of its own (%s)\n",
            strcmp(mech, "root") == 0 ? "root: net + mount + pid namespaces"
                                      : "user + net + mount + pid namespaces");
  }
  if (o->summary_json != NULL) {
    json_t *cmd = json_array();

    for (i = 0; o->cmd[i] != NULL; i++) {
      json_array_append_new(cmd, json_string(o->cmd[i]));
    }
    sum = cp_run_report_json(rep);
    json_object_set_new(sum, "command", cmd);
    json_object_set_new(sum, "exit_status",
                        run->term_signal ? json_null()
                                         : json_integer(run->status));
    json_object_set_new(sum, "signal",
                        run->term_signal ? json_integer(run->term_signal)
                                         : json_null());
    json_object_set_new(sum, "proxy", json_string(proxy));
    json_object_set_new(
        sum, "trust",
        json_pack("{s:s,s:O}", "mode", o->trust, "exported", exported));
    json_object_set_new(sum, "seconds", json_real(secs));
    json_object_set_new(
        sum, "isolate",
        mech != NULL
            ? json_pack("{s:s,s:{s:I,s:I,s:I}}", "mechanism", mech, "dns",
                        "answered", (json_int_t)run->dns->answered, "relayed",
                        (json_int_t)run->dns->relayed, "refused",
                        (json_int_t)run->dns->refused)
            : json_null());
    if (json_dump_file(sum, o->summary_json, JSON_INDENT(2)) != 0) {
      fprintf(stderr, "chainproxy run: cannot write %s\n", o->summary_json);
    }
    json_decref(sum);
  }
  if (o->junit != NULL &&
      cp_run_report_junit(rep, o->junit, "chainproxy run", secs) != 0) {
    fprintf(stderr, "chainproxy run: cannot write %s\n", o->junit);
  }
}


/* The run's events (the log at path) as HAR 1.2 in o->har. */
static int write_har(const opts_t *o, const char *path) {
  cp_har_filter_t f;
  cp_har_t *h;
  json_t *har;
  FILE *in;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int rc = -1;

  memset(&f, 0, sizeof(f));
  if ((in = fopen(path, "r")) == NULL || (h = cp_har_new(&f)) == NULL) {
    goto out;
  }
  while ((n = getline(&line, &cap, in)) > 0) {
    cp_har_add(h, line, (size_t)n);
  }
  har = cp_har_finish(h);
  if (har != NULL && json_dump_file(har, o->har, JSON_INDENT(2)) == 0) {
    rc = 0;
  }
  json_decref(har);
out:
  free(line);
  if (in != NULL) {
    fclose(in);
  }
  return rc;
}


/* CMD's environment: the proxy variables, the trust bundle for --trust
 * and Java's store; 0, or -1 after saying so. */
static int prepare_env(const opts_t *o, const cp_config_t *cfg, const char *tmp,
                       const char *proxy, cp_run_env_t *env, json_t *exported) {
  char ca_dir[1024];

  if (cp_ca_default_dir(cfg->ca_dir, ca_dir, sizeof(ca_dir)) != 0 ||
      cp_run_env_init(env) != 0 ||
      cp_run_env_set(env, "HTTPS_PROXY", proxy) != 0 ||
      cp_run_env_set(env, "https_proxy", proxy) != 0 ||
      cp_run_env_set(env, "HTTP_PROXY", proxy) != 0 ||
      cp_run_env_set(env, "http_proxy", proxy) != 0 ||
      cp_run_env_trust(o->trust, ca_dir, tmp, env, exported) != 0 ||
      (!o->no_java && cp_run_env_java(o->trust, ca_dir, tmp,
                                      o->isolate ? NULL : cfg->listen_host,
                                      cfg->listen_port, env, exported) != 0)) {
    fprintf(stderr, "chainproxy run: cannot prepare the command's "
                    "environment\n");
    return -1;
  }
  return 0;
}


/* The CA's files, made now if this is their first use (the server loads
 * them again). */
static int ca_create(const cp_config_t *cfg) {
  char dir[1024], err[1400];
  cp_ca_t ca;
  int rc;

  memset(&ca, 0, sizeof(ca));
  if (cp_ca_default_dir(cfg->ca_dir, dir, sizeof(dir)) != 0) {
    fprintf(stderr, "chainproxy run: no CA directory: set --ca-dir, "
                    "CHAINPROXY_HOME or HOME\n");
    return -1;
  }
  rc = cp_ca_load_or_create(&ca, dir, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "chainproxy run: CA: %s\n", err);
  }
  cp_ca_free(&ca);
  return rc != 0 ? -1 : 0;
}


/* --isolate: the namespace and its listener, CMD waiting in it. */
static int isolate_start(run_t *run, cp_isolate_t *iso, cp_isolate_dns_t *dns,
                         uv_loop_t *loop, cp_config_t *cfg, char **env,
                         const char *tmp) {
  char err[1000];
  int spawned = 0, rc;

  run->child.data = run;
  if (cp_isolate_start(iso, loop, &run->child, on_exit_cb, run->cmd, env,
                       cfg->listen_port, tmp, &spawned, err,
                       sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy run: %s\n", err);
    run->spawned = spawned;
    run->iso = spawned ? iso : NULL;
    return -1;
  }
  run->spawned = 1;
  run->iso = iso;
  run->dns = dns;
  rc = cp_isolate_dns_init(dns, loop, iso->dns_fd, cfg->origins_port != 0);
  iso->dns_fd = -1; /* the resolver's, even on error */
  if (rc != 0) {
    fprintf(stderr, "chainproxy run: --isolate: the resolver: %s\n",
            uv_strerror(rc));
    return -1;
  }
  cfg->listen_fd = iso->listen_fd;
  return 0;
}


int cp_run_cmd(int argc, char **argv) {
  cp_run_report_t rep;
  opts_t o;
  run_t run;
  cp_run_env_t env;
  cp_config_t cfg;
  cp_server_t srv;
  uv_loop_t loop;
  json_t *exported = json_array();
  char tmp[256] = "", ca[300], events[300], listen[64], proxy[80], err[600];
  cp_isolate_t iso;
  cp_isolate_dns_t dns;
  const char *tmpdir = getenv("TMPDIR");
  int rc, code = 2, failed, loop_ok = 0;

  memset(&rep, 0, sizeof(rep));
  memset(&o, 0, sizeof(o));
  memset(&run, 0, sizeof(run));
  memset(&env, 0, sizeof(env));
  memset(&iso, 0, sizeof(iso));
  memset(&dns, 0, sizeof(dns));
  iso.sock = -1;
  iso.listen_fd = -1;
  rc = parse(&o, &rep, argc, argv);
  if (rc != 0) {
    code = rc > 0 ? 0 : 2;
    goto out;
  }
  snprintf(tmp, sizeof(tmp), "%s/chainproxy-run.XXXXXX",
           tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (mkdtemp(tmp) == NULL) {
    fprintf(stderr, "chainproxy run: cannot make a temporary directory: %s\n",
            strerror(errno));
    goto out;
  }
  snprintf(ca, sizeof(ca), "%s/ca", tmp);
  snprintf(events, sizeof(events), "%s/events.jsonl", tmp);
  if (!o.has_listen) {
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", free_port());
    o.proxy[o.nproxy++] = "--listen";
    o.proxy[o.nproxy++] = listen;
  }
  if (!o.has_ca_dir) {
    o.proxy[o.nproxy++] = "--ca-dir";
    o.proxy[o.nproxy++] = ca;
  }
  if (!o.has_events) {
    o.proxy[o.nproxy++] = "--events";
    o.proxy[o.nproxy++] = events;
  }
  cp_config_defaults(&cfg);
  if (cp_config_parse(&cfg, o.nproxy, o.proxy, err, sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy run: %s\n", err);
    goto out;
  }
  if (cfg.verbose == 0) {
    /* CMD shares this stderr: chainproxy says what happened in the
     * summary, and only errors before it (-v for its log). */
    cfg.verbose = -1;
  }
  snprintf(proxy, sizeof(proxy), "http://%s:%u", cfg.listen_host,
           (unsigned)cfg.listen_port);
  code = 1;
  if (uv_loop_init(&loop) != 0) {
    goto out;
  }
  loop_ok = 1;
  run.srv = &srv;
  run.cmd = o.cmd;
  if (o.isolate) {
    cfg.transparent = 1;
    cfg.isolate = 1;
    cfg.workers = 1;
    /* The helper needs CMD's environment, and so the CA, before the
     * server (which listens on the helper's socket) exists. */
    rc = ca_create(&cfg) != 0 ||
                 prepare_env(&o, &cfg, tmp, proxy, &env, exported) != 0
             ? -1
             : isolate_start(&run, &iso, &dns, &loop, &cfg, env.v, tmp);
    if (rc != 0) {
      goto reap;
    }
  }
  rc = cp_server_init(&srv, &loop, &cfg);
  iso.listen_fd = -1; /* the server's, adopted or closed */
  if (rc == 0 && !o.isolate &&
      prepare_env(&o, &cfg, tmp, proxy, &env, exported) != 0) {
    rc = -1;
  }
  if (rc == 0) {
    run.env = env.v;
    srv.hooks.on_running = on_running;
    srv.hooks.on_signal = on_signal;
    srv.hooks.arg = &run;
    cp_server_run(&srv);
  }
  cp_server_close(&srv);
reap:
  cp_isolate_release(&iso);
  cp_isolate_dns_close(&dns);
  if (run.iso != NULL && run.spawned && !run.exited) {
    uv_run(&loop, UV_RUN_DEFAULT); /* the helper exits without CMD */
    rc = -1;
  }
  if (dns.open_handles > 0) {
    uv_run(&loop, UV_RUN_DEFAULT); /* the resolver's handles close */
  }
  if (rc != 0 || !run.exited) {
    goto out;
  }
  if (cp_run_report_read(&rep, o.has_events ? o.events : events) != 0) {
    fprintf(stderr, "chainproxy run: cannot read the run's events\n");
    goto out;
  }
  if (o.har != NULL && write_har(&o, o.has_events ? o.events : events) != 0) {
    fprintf(stderr, "chainproxy run: cannot write %s\n", o.har);
  }
  failed = cp_run_report_judge(&rep);
  report(&o, &rep, &run, proxy, exported, (double)(uv_hrtime() - run.t0) / 1e9);
  if (rep.nexpect > 0 || rep.no_other_hosts) {
    code = failed ? 1 : 0;
  } else {
    code = run.term_signal ? 128 + run.term_signal : (int)run.status;
  }
out:
  if (loop_ok && uv_loop_close(&loop) != 0) {
    fprintf(stderr, "chainproxy run: internal error: handles left open\n");
  }
  if (tmp[0] != '\0' && strstr(tmp, "chainproxy-run.") != NULL) {
    nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  }
  cp_run_env_free(&env);
  free(o.proxy);
  json_decref(exported);
  cp_run_report_free(&rep);
  return code;
}
