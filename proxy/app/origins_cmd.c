#include "app/origins_cmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "app/origins.h"
#include "config/datadir.h"
#include "pki/ca.h"
#include "pki/catalogue.h"
#include "base/err.h"

static const char usage[] =
    "usage: chainproxy origins [--listen [HOST:]PORT[-LAST]] [--ca-dir DIR] "
    "[--json]\n"
    "\n"
    "Serves the catalogue of broken origins (expired, wrong-host, "
    "incomplete, ...),\neach case on its own port, until SIGINT or "
    "SIGTERM. Trust DIR/catalogue/root.pem.\n"
    "  --listen ADDR   the index's address and port; case N listens on "
    "PORT+1+N\n"
    "                  (default 127.0.0.1:18600); PORT-LAST checks the "
    "range fits\n"
    "  --ca-dir DIR    CA state (default $CHAINPROXY_HOME, else "
    "~/.chainproxy);\n"
    "                  the catalogue CA is DIR/catalogue\n"
    "  --json          print the listing as JSON (as /cases.json serves it)\n"
    "  -h, --help      this text\n";


static int parse_port(const char *s, char **end, uint16_t *out) {
  unsigned long v = strtoul(s, end, 10);

  if (*end == s || v == 0 || v > 65535) {
    return CP_EINVAL;
  }
  *out = (uint16_t)v;
  return 0;
}


int cp_origins_parse_listen(const char *v, size_t ncases, char *host,
                            size_t hostlen, uint16_t *base, char *err,
                            size_t errlen) {
  const char *port = v, *colon;
  unsigned char tmp[16];
  uint16_t last = 0;
  char *end;
  size_t hl;

  snprintf(host, hostlen, "127.0.0.1");
  if (v[0] == '[') {
    colon = strstr(v, "]:");
    if (colon == NULL) {
      return cp_errf(err, errlen, CP_EINVAL, "%s: [V6]:PORT expected", v);
    }
    hl = (size_t)(colon - v - 1);
    port = colon + 2;
    v++;
  } else if ((colon = strchr(v, ':')) != NULL) {
    hl = (size_t)(colon - v);
    port = colon + 1;
  } else {
    hl = 0;
  }
  if (hl > 0) {
    if (hl >= hostlen) {
      return cp_errf(err, errlen, CP_EINVAL, "%s: host too long", v);
    }
    memcpy(host, v, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, tmp) != 1 &&
        inet_pton(AF_INET6, host, tmp) != 1) {
      return cp_errf(err, errlen, CP_EINVAL, "%s: not an IP address", host);
    }
  }
  if (parse_port(port, &end, base) != 0) {
    return cp_errf(err, errlen, CP_EINVAL, "%s: PORT expected", port);
  }
  if (*end == '-') {
    if (parse_port(end + 1, &end, &last) != 0 || *end != '\0') {
      return cp_errf(err, errlen, CP_EINVAL, "%s: PORT-LAST expected", port);
    }
    if ((size_t)last < (size_t)*base + ncases) {
      return cp_errf(err, errlen, CP_EINVAL,
                     "%s: the catalogue needs %zu ports (the index and %zu "
                     "cases), %u-%zu",
                     port, ncases + 1, ncases, *base, (size_t)*base + ncases);
    }
  } else if (*end != '\0') {
    return cp_errf(err, errlen, CP_EINVAL, "%s: PORT expected", port);
  }
  if ((size_t)*base + ncases > 65535) {
    return cp_errf(err, errlen, CP_EINVAL, "%u: no room for %zu cases above",
                   *base, ncases);
  }
  return 0;
}


static void print_text(const cp_origins_t *o) {
  const cp_cat_case_t *cases;
  size_t n, i;

  cases = cp_catalogue_cases(&n);
  printf("chainproxy origins: %zu cases, index %s/ (cases.json)\n"
         "trust: %s/root.pem (an incident case: its own, below)\n\n",
         n, o->cat.base_url, o->cat.ca.dir);
  for (i = 0; i < n; i++) {
    printf("  %-22s %s:%-5u %s\n", cases[i].name, o->host,
           cp_catalogue_port(o->base, (int)i), cases[i].breaks);
    if (cases[i].store != NULL) {
      printf("  %-22s trust: %s\n", "", o->cat.trust[i]);
    }
  }
  printf("\nthrough the proxy (chainproxy --origins): "
         "https://CASE.%s/\nready in %.0f ms\n",
         CP_CATALOGUE_DOMAIN, o->build_ms);
}


int cp_origins_cmd(int argc, char **argv) {
  static const struct option opts[] = {{"listen", 1, NULL, 'l'},
                                       {"ca-dir", 1, NULL, 'c'},
                                       {"json", 0, NULL, 'j'},
                                       {"help", 0, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  cp_origins_t *o = NULL;
  cp_datadir_t data;
  char host[64] = "127.0.0.1", err[512], dir[1024], profiles[1100];
  uint16_t base = CP_CATALOGUE_DEFAULT_PORT;
  const char *ca_dir = NULL;
  size_t ncases;
  sigset_t set;
  int ch, json = 0, sig, rc;

  cp_catalogue_cases(&ncases);
  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (ch) {
    case 'l':
      if (cp_origins_parse_listen(optarg, ncases, host, sizeof(host), &base,
                                  err, sizeof(err)) != 0) {
        fprintf(stderr, "chainproxy origins: --listen %s\n", err);
        return 2;
      }
      break;
    case 'c':
      ca_dir = optarg;
      break;
    case 'j':
      json = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return 0;
    default:
      fputs(usage, stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "chainproxy origins: unexpected argument %s\n%s",
            argv[optind], usage);
    return 2;
  }
  if (cp_ca_default_dir(ca_dir, dir, sizeof(dir)) != 0) {
    fprintf(stderr, "chainproxy origins: no CA directory (set --ca-dir)\n");
    return 2;
  }
  cp_datadir_find(&data, NULL);
  if (cp_datadir_path(&data, "profiles.json", profiles, sizeof(profiles)) !=
      0) {
    fprintf(stderr, "chainproxy origins: data path too long\n");
    return 1;
  }
  /* The server threads inherit the mask: only this thread takes them. */
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  o = calloc(1, sizeof(*o));
  if (o == NULL) {
    return 1;
  }
  rc = cp_origins_start(o, dir, host, base, profiles, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "chainproxy origins: %s\n", err);
    free(o);
    return 1;
  }
  if (json) {
    printf("%s\n", o->listing_json);
  } else {
    print_text(o);
  }
  fflush(stdout);
  sigwait(&set, &sig);
  cp_origins_stop(o);
  free(o);
  return 0;
}
