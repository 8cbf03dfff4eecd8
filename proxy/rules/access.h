/* Who may use the proxy and the control API: lists of networks (CIDR, on
 * the 16-byte form where IPv4 is ::ffff:a.b.c.d), loopback always, and
 * Basic proxy credentials compared in constant time. */
#ifndef CP_ACCESS_H
#define CP_ACCESS_H

#include <stddef.h>

#include <uv.h>

/* A network: IPv4 as ::ffff:a.b.c.d, bits the prefix on the 128-bit
 * form. */
typedef struct cp_cidr_s {
  unsigned char addr[16];
  int bits;
} cp_cidr_t;

/* a is loopback or inside one of the n networks. */
int cp_access_allowed(const cp_cidr_t *list, size_t n,
                      const unsigned char a[16]);
/* The peer of tcp in the 16-byte form; 0, or a libuv error. */
int cp_access_peer(uv_tcp_t *tcp, unsigned char a[16]);
/* A Proxy-Authorization value ("Basic dXNlcjpwYXNz") carries exactly
 * userpass ("user:pass"); compared in constant time. value may be NULL. */
int cp_access_basic_ok(const char *userpass, const char *value, size_t len);
/* --auth-file: the users who may use the proxy, "user:password" each. */
typedef struct cp_users_s {
  char **up; /* owned */
  int n;
} cp_users_t;

/* One "user:password" per line; '#' starts a comment line, blank lines
 * are skipped. err names the line of a malformed entry. */
int cp_users_load(cp_users_t *u, const char *path, char *err, size_t errlen);
/* The value carries one of the users' credentials (constant time per
 * entry). */
int cp_users_check(const cp_users_t *u, const char *value, size_t len);
void cp_users_free(cp_users_t *u);
/* The user name in a Proxy-Authorization: Basic value, into user (cap
 * bytes); 0, or -1 when the value carries none. */
int cp_access_basic_user(const char *value, size_t len, char *user, size_t cap);

#endif
