/* Parent proxies (--upstream-proxy, the rules' "upstream_proxy"): the
 * URL a user gives, NO_PROXY-style exceptions, the environment's
 * HTTPS_PROXY/HTTP_PROXY when asked for, and the parent's answer to our
 * CONNECT. Pure functions over strings and bytes (the fuzzer drives the
 * answer parser); no I/O. */
#ifndef CP_PARENT_H
#define CP_PARENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/host.h"

#define CP_PARENT_LISTS 16 /* --upstream-no-proxy lists kept */

typedef struct cp_parent_s cp_parent_t;
typedef struct cp_parents_s cp_parents_t;
typedef struct cp_parent_reply_s cp_parent_reply_t;

/* One parent: http://[user:password@]host[:port] (port 1080 when left
 * out, as curl does). */
struct cp_parent_s {
  char host[CP_HOST_MAX + 1]; /* without IPv6 brackets */
  int host_kind;              /* cp_host_kind_e of base/host.h */
  uint16_t port;
  char user[128];                  /* "" : no credentials */
  char auth[384];                  /* "Basic <base64(user:password)>", or "" */
  char url[CP_HOSTPORT_MAX + 140]; /* shown: http://user@host:port */
};

/* Where the process's upstream connections go when no rule says. */
struct cp_parents_s {
  cp_parent_t https; /* CONNECT and intercepted tunnels */
  cp_parent_t http;  /* plain-HTTP requests (absolute form) */
  unsigned has_https : 1;
  unsigned has_http : 1;
  const char *no_proxy[CP_PARENT_LISTS]; /* borrowed comma lists */
  int nno_proxy;
};

/* The parent's answer to CONNECT: its status line and the one field a
 * user needs when it refuses (what credentials it asks for). */
struct cp_parent_reply_s {
  int status;
  char line[160];         /* "HTTP/1.1 407 Proxy Authentication Required" */
  char authenticate[160]; /* Proxy-Authenticate, "" when absent */
  size_t head_len;        /* bytes of the head, the blank line included */
};

/* Parses url; err says what is wrong with it. */
int cp_parent_parse(cp_parent_t *p, const char *url, char *err, size_t errlen);
/* 1 when host:port is excepted by list, a NO_PROXY value: comma or space
 * separated entries, "*" for every host, a domain (optionally with a
 * leading dot or "*.") matching itself and its subdomains, an IP literal
 * or CIDR network, each optionally with ":port". */
int cp_parent_no_proxy(const char *list, const char *host, uint16_t port);
/* --upstream-proxy env: HTTPS_PROXY/https_proxy and HTTP_PROXY/http_proxy,
 * NO_PROXY/no_proxy of getenv. A parent that is this proxy's own listener
 * (self_host:self_port) is refused: it would loop. */
int cp_parents_from_env(cp_parents_t *ps, const char *self_host,
                        uint16_t self_port, char *err, size_t errlen);
/* The parent for host:port: rule_parent when a rule names one (NULL:
 * none; rule_direct: the rule says "direct"), else the process's, unless
 * an exception matches. NULL: connect directly. */
const cp_parent_t *cp_parents_pick(const cp_parents_t *ps,
                                   const cp_parent_t *rule_parent,
                                   int rule_direct, const char *host,
                                   uint16_t port, int tls);
/* The request asking p for a tunnel to hostport ("host:port"), with p's
 * credentials: its length, or 0 when it does not fit in len. */
size_t cp_parent_connect_request(const cp_parent_t *p, const char *hostport,
                                 char *out, size_t len);
/* Reads the parent's answer from the bytes received so far: 0 when the
 * head is incomplete, 1 when r is filled, CP_EHTTP when it is not an
 * HTTP response or its head is longer than max. */
int cp_parent_reply_parse(cp_parent_reply_t *r, const char *data, size_t len,
                          size_t max);
/* What a parsed answer means: NULL when the tunnel is open, else the error
 * code (parent_proxy_auth_required, parent_proxy_refused) with what the
 * parent said in words in what. */
const char *cp_parent_reply_verdict(const cp_parent_reply_t *r, char *what,
                                    size_t len);

#endif
