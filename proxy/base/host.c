/* FNM_CASEFOLD is a GNU extension of fnmatch(3). */
#define _GNU_SOURCE
#include "base/host.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>


int cp_host_is_ipv6(const char *s) {
  unsigned char a[16];

  return inet_pton(AF_INET6, s, a) == 1;
}


int cp_host_is_ip(const char *s) {
  unsigned char a[16];

  return inet_pton(AF_INET, s, a) == 1 || cp_host_is_ipv6(s);
}


int cp_host_is_valid(const char *s) {
  size_t len = strlen(s);
  size_t label = 0;
  size_t i;

  if (len == 0 || len > 253) {
    return 0;
  }
  if (cp_host_is_ipv6(s)) {
    return 1;
  }
  /* Letters, digits, '-', '_' (seen in real names) and dots; no empty
   * labels and none over 63 bytes. This also keeps anything that could
   * change a certificate's SAN out of the names we mint for. */
  for (i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];

    if (ch == '.') {
      if (label == 0) {
        return 0;
      }
      label = 0;
    } else if (isalnum(ch) || ch == '-' || ch == '_') {
      if (++label > 63) {
        return 0;
      }
    } else {
      return 0;
    }
  }
  return 1;
}


int cp_host_glob_match(const char *pattern, const char *host) {
  /* No FNM_PATHNAME or FNM_PERIOD: '*' crosses dots, so "*.test" matches
   * "a.b.test" as users of --passthrough expect. */
  return fnmatch(pattern, host, FNM_CASEFOLD) == 0;
}


char *cp_hostport_format(char *out, size_t len, const char *host,
                         uint16_t port) {
  int v6 = strchr(host, ':') != NULL;

  if (port == 0) {
    snprintf(out, len, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
  } else {
    snprintf(out, len, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
             (unsigned)port);
  }
  return out;
}


int cp_host_addr_is_loopback(const unsigned char a[16]) {
  static const unsigned char v6_loop[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                            0, 0, 0, 0, 0, 0, 0, 1};
  static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0,    0,
                                              0, 0, 0, 0, 0xff, 0xff};

  return (memcmp(a, v4_mapped, 12) == 0 && a[12] == 127) ||
         memcmp(a, v6_loop, 16) == 0;
}


int cp_host_is_loopback(const char *host) {
  unsigned char a[16];
  unsigned char a4[4];

  if (strcmp(host, "localhost") == 0) {
    return 1;
  }
  memset(a, 0, sizeof(a));
  if (inet_pton(AF_INET, host, a4) == 1) {
    a[10] = a[11] = 0xff;
    memcpy(a + 12, a4, 4);
  } else if (inet_pton(AF_INET6, host, a) != 1) {
    return 0;
  }
  return cp_host_addr_is_loopback(a);
}
