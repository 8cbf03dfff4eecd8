/* Host names, IP literals and host globs: validation and formatting that
 * the proxy, the rules, minting and the control API share. Pure string
 * functions; no allocation, no I/O. */
#ifndef CP_HOST_H
#define CP_HOST_H

#include <stddef.h>
#include <stdint.h>

#define CP_HOST_MAX 255
/* "[v6]:65535" plus NUL for the longest host. */
#define CP_HOSTPORT_MAX (CP_HOST_MAX + 9)

/* What a host string is: a DNS name or an IP literal of either family. */
typedef enum cp_host_kind_e {
  CP_HOST_NAME,
  CP_HOST_IPV4,
  CP_HOST_IPV6
} cp_host_kind_e;

/* 1 if s is a syntactically valid DNS name or IP literal (no brackets). */
int cp_host_is_valid(const char *s);
/* 1 when s is an IPv4 or IPv6 literal (no brackets). */
int cp_host_is_ip(const char *s);
/* 1 when s is an IPv6 literal (no brackets). */
int cp_host_is_ipv6(const char *s);
/* fnmatch(3) glob match of a host name, case-insensitive: '*' matches any
 * run of characters (dots included), '?' one character. */
int cp_host_glob_match(const char *pattern, const char *host);
/* "host:port", with brackets around an IPv6 literal; port 0 is left out.
 * Returns out. */
char *cp_hostport_format(char *out, size_t len, const char *host,
                         uint16_t port);
/* a (16 bytes; IPv4 as ::ffff:a.b.c.d) is 127.0.0.0/8 or ::1. */
int cp_host_addr_is_loopback(const unsigned char a[16]);
/* host (an IP literal or "localhost") is a loopback address. */
int cp_host_is_loopback(const char *host);

#endif
