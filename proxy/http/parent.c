#include "http/parent.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/err.h"
#include "base/host.h"
#include "http/http_parse.h"


/* %XX escapes in the user and password of a URL (curl decodes them too:
 * a password with '@' is written %40). Returns -1 on a bad escape. */
static int unescape(char *out, size_t cap, const char *s, size_t n) {
  size_t i, o = 0;

  for (i = 0; i < n; i++) {
    int c = (unsigned char)s[i];

    if (c == '%') {
      char hex[3];

      if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
          !isxdigit((unsigned char)s[i + 2])) {
        return -1;
      }
      hex[0] = s[i + 1];
      hex[1] = s[i + 2];
      hex[2] = '\0';
      c = (int)strtol(hex, NULL, 16);
      i += 2;
    }
    if (o + 1 >= cap || c == 0 || c == '\r' || c == '\n') {
      return -1;
    }
    out[o++] = (char)c;
  }
  out[o] = '\0';
  return (int)o;
}


static int set_credentials(cp_parent_t *p, const char *s, size_t n, char *err,
                           size_t errlen) {
  const char *colon = memchr(s, ':', n);
  char pass[128], both[260];
  int ul, pl;

  ul = unescape(p->user, sizeof(p->user), s, colon ? (size_t)(colon - s) : n);
  pl = colon ? unescape(pass, sizeof(pass), colon + 1,
                        n - (size_t)(colon - s) - 1)
             : 0;
  if (ul <= 0 || pl < 0) {
    return cp_errf(err, errlen, CP_EINVAL,
                   "the user and password must be USER:PASSWORD, each at "
                   "most 127 characters (escape '@' and ':' as %%40 and "
                   "%%3A)");
  }
  snprintf(both, sizeof(both), "%s:%s", p->user, colon ? pass : "");
  memcpy(p->auth, "Basic ", 6);
  EVP_EncodeBlock((unsigned char *)p->auth + 6, (const unsigned char *)both,
                  (int)strlen(both));
  OPENSSL_cleanse(pass, sizeof(pass));
  OPENSSL_cleanse(both, sizeof(both));
  return 0;
}


int cp_parent_parse(cp_parent_t *p, const char *url, char *err, size_t errlen) {
  const char *s = url, *at, *end;
  cp_http_target_t t;
  char hp[CP_HOSTPORT_MAX];

  memset(p, 0, sizeof(*p));
  if (strncasecmp(s, "http://", 7) == 0) {
    s += 7;
  } else if (strstr(s, "://") != NULL) {
    return cp_errf(err, errlen, CP_EINVAL,
                   "'%.40s': only http:// parent proxies are supported (the "
                   "CONNECT to the parent is in clear, as with curl's "
                   "default)",
                   url);
  }
  end = s + strcspn(s, "/?#");
  if (*end == '/' && end[1] == '\0') {
    /* a trailing slash, as in http://proxy:3128/ */
  } else if (*end != '\0') {
    return cp_errf(err, errlen, CP_EINVAL,
                   "'%.40s': a parent proxy URL has no path", url);
  }
  at = memchr(s, '@', (size_t)(end - s));
  if (at != NULL) {
    const char *more = memchr(at + 1, '@', (size_t)(end - at - 1));

    if (more != NULL) {
      return cp_errf(err, errlen, CP_EINVAL,
                     "two '@' in the parent proxy URL: escape '@' in the "
                     "password as %%40");
    }
    if (set_credentials(p, s, (size_t)(at - s), err, errlen) != 0) {
      return CP_EINVAL;
    }
    s = at + 1;
  }
  if (cp_http_parse_authority(s, (size_t)(end - s), 1080, &t) != 0) {
    return cp_errf(err, errlen, CP_EINVAL,
                   "'%.*s' is not HOST[:PORT] (expected "
                   "http://[user:password@]host:port)",
                   (int)(end - s > 80 ? 80 : end - s), s);
  }
  snprintf(p->host, sizeof(p->host), "%s", t.host);
  p->host_kind = (int)t.host_kind;
  p->port = t.port;
  cp_hostport_format(hp, sizeof(hp), p->host, p->port);
  snprintf(p->url, sizeof(p->url), "http://%s%s%s", p->user,
           p->user[0] ? "@" : "", hp);
  return 0;
}


/* host (an IP literal) inside the network entry ("10.0.0.0/8", "::1"). */
static int cidr_match(const char *entry, size_t n, const char *host) {
  char e[64];
  unsigned char net[16], a[16];
  const char *slash;
  int fam = strchr(host, ':') ? AF_INET6 : AF_INET;
  int len = fam == AF_INET6 ? 128 : 32, bits = len, full, rest;

  if (n >= sizeof(e)) {
    return 0;
  }
  memcpy(e, entry, n);
  e[n] = '\0';
  slash = strchr(e, '/');
  if (slash != NULL) {
    bits = atoi(slash + 1);
    e[slash - e] = '\0';
    if (bits < 0 || bits > len || slash[1] == '\0') {
      return 0;
    }
  }
  if (inet_pton(fam, e, net) != 1 || inet_pton(fam, host, a) != 1) {
    return 0;
  }
  full = bits / 8;
  rest = bits % 8;
  return memcmp(a, net, (size_t)full) == 0 &&
         (rest == 0 || ((a[full] ^ net[full]) & (0xff << (8 - rest))) == 0);
}


/* One NO_PROXY entry (not empty) against host:port. */
static int entry_match(const char *e, size_t n, const char *host,
                       uint16_t port) {
  const char *colon = NULL;
  size_t hl = strlen(host), k;

  if (n == 1 && e[0] == '*') {
    return 1;
  }
  /* ":port" at the end, unless the entry is a bare IPv6 literal. */
  for (k = n; k > 0; k--) {
    if (e[k - 1] == ':' || e[k - 1] == ']') {
      colon = e[k - 1] == ':' ? e + k - 1 : NULL;
      break;
    }
  }
  if (colon != NULL && memchr(e, ':', (size_t)(colon - e)) != NULL &&
      e[0] != '[') {
    colon = NULL; /* fe80::1 */
  }
  if (colon != NULL) {
    if ((uint16_t)atoi(colon + 1) != port) {
      return 0;
    }
    n = (size_t)(colon - e);
  }
  if (n >= 2 && e[0] == '[' && e[n - 1] == ']') {
    e++;
    n -= 2;
  }
  if (n > 0 && (isdigit((unsigned char)e[0]) || memchr(e, ':', n))) {
    if (cidr_match(e, n, host)) {
      return 1;
    }
  }
  if (n >= 2 && e[0] == '*' && e[1] == '.') {
    e++;
    n--;
  }
  if (n > 0 && e[0] == '.') {
    e++;
    n--;
  }
  if (n == 0 || n > hl) {
    return 0;
  }
  return strncasecmp(host + hl - n, e, n) == 0 &&
         (hl == n || host[hl - n - 1] == '.');
}


int cp_parent_no_proxy(const char *list, const char *host, uint16_t port) {
  const char *s = list;

  while (s != NULL && *s != '\0') {
    size_t n;

    s += strspn(s, ", \t");
    n = strcspn(s, ", \t");
    if (n > 0 && entry_match(s, n, host, port)) {
      return 1;
    }
    s += n;
  }
  return 0;
}


static const char *env2(const char *a, const char *b) {
  const char *v = getenv(a);

  return v != NULL && *v != '\0' ? v : getenv(b);
}


static int from_env(cp_parent_t *p, const char *name, const char *v,
                    const char *self_host, uint16_t self_port, char *err,
                    size_t errlen) {
  char inner[256];

  if (cp_parent_parse(p, v, inner, sizeof(inner)) != 0) {
    return cp_errf(err, errlen, CP_EINVAL, "--upstream-proxy env: %s: %s", name,
                   inner);
  }
  if (p->port == self_port &&
      (strcmp(p->host, self_host) == 0 ||
       (cp_host_is_loopback(p->host) &&
        (cp_host_is_loopback(self_host) || strcmp(self_host, "0.0.0.0") == 0 ||
         strcmp(self_host, "::") == 0)))) {
    return cp_errf(err, errlen, CP_EINVAL,
                   "--upstream-proxy env: %s=%s is chainproxy itself: "
                   "going out through it would loop (unset it for "
                   "chainproxy, or name the real parent with "
                   "--upstream-proxy http://host:port)",
                   name, p->url);
  }
  return 0;
}


int cp_parents_from_env(cp_parents_t *ps, const char *self_host,
                        uint16_t self_port, char *err, size_t errlen) {
  const char *https = env2("HTTPS_PROXY", "https_proxy");
  const char *http = env2("http_proxy", "HTTP_PROXY");
  const char *no = env2("NO_PROXY", "no_proxy");

  if (https != NULL && *https != '\0') {
    if (from_env(&ps->https, "HTTPS_PROXY", https, self_host, self_port, err,
                 errlen) != 0) {
      return CP_EINVAL;
    }
    ps->has_https = 1;
  }
  if (http != NULL && *http != '\0') {
    if (from_env(&ps->http, "HTTP_PROXY", http, self_host, self_port, err,
                 errlen) != 0) {
      return CP_EINVAL;
    }
    ps->has_http = 1;
  }
  if (no != NULL && *no != '\0' && ps->nno_proxy < CP_PARENT_LISTS) {
    ps->no_proxy[ps->nno_proxy++] = no;
  }
  return 0;
}


const cp_parent_t *cp_parents_pick(const cp_parents_t *ps,
                                   const cp_parent_t *rule_parent,
                                   int rule_direct, const char *host,
                                   uint16_t port, int tls) {
  int i;

  if (rule_direct) {
    return NULL;
  }
  if (rule_parent != NULL) {
    return rule_parent; /* a rule is explicit: no exception applies */
  }
  if (ps == NULL || !(tls ? ps->has_https : ps->has_http)) {
    return NULL;
  }
  for (i = 0; i < ps->nno_proxy; i++) {
    if (cp_parent_no_proxy(ps->no_proxy[i], host, port)) {
      return NULL;
    }
  }
  return tls ? &ps->https : &ps->http;
}


int cp_parent_reply_parse(cp_parent_reply_t *r, const char *data, size_t len,
                          size_t max) {
  cp_http_status_t st;
  const char *end = NULL;
  size_t i;

  memset(r, 0, sizeof(*r));
  /* The head ends at the first empty line (CRLF CRLF, or bare LFs). */
  for (i = 0; i + 1 < len && i < max; i++) {
    if (data[i] == '\n' &&
        (data[i + 1] == '\n' ||
         (data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n'))) {
      end = data + i + (data[i + 1] == '\n' ? 2 : 3);
      break;
    }
  }
  if (end == NULL) {
    return len >= max ? CP_EHTTP : 0;
  }
  if (cp_http_status_parse(&st, data, (size_t)(end - data),
                           "proxy-authenticate", r->authenticate,
                           sizeof(r->authenticate)) != 0) {
    return CP_EHTTP;
  }
  r->status = st.code;
  r->head_len = (size_t)(end - data);
  snprintf(r->line, sizeof(r->line), "HTTP/%d.%d %d %s", st.major % 10,
           st.minor % 10, r->status % 1000, st.reason);
  return 1;
}


size_t cp_parent_connect_request(const cp_parent_t *p, const char *hostport,
                                 char *out, size_t len) {
  int n =
      snprintf(out, len,
               "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s"
               "User-Agent: chainproxy\r\n\r\n",
               hostport, hostport, p->auth[0] ? "Proxy-Authorization: " : "",
               p->auth, p->auth[0] ? "\r\n" : "");

  return n > 0 && (size_t)n < len ? (size_t)n : 0;
}


const char *cp_parent_reply_verdict(const cp_parent_reply_t *r, char *what,
                                    size_t len) {
  if (r->status >= 200 && r->status <= 299) {
    return NULL;
  }
  if (r->status == 407) {
    snprintf(what, len, "wants credentials: \"%s\"%s%s%s", r->line,
             r->authenticate[0] ? " (Proxy-Authenticate: " : "",
             r->authenticate, r->authenticate[0] ? ")" : "");
    return "parent_proxy_auth_required";
  }
  snprintf(what, len, "refused the tunnel: \"%s\"", r->line);
  return "parent_proxy_refused";
}
