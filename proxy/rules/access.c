#include "rules/access.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/err.h"
#include "base/host.h"


int cp_access_allowed(const cp_cidr_t *list, size_t n,
                      const unsigned char a[16]) {
  size_t i;

  if (cp_host_addr_is_loopback(a)) {
    return 1;
  }
  for (i = 0; i < n; i++) {
    int full = list[i].bits / 8, rest = list[i].bits % 8;

    if (memcmp(a, list[i].addr, (size_t)full) == 0 &&
        (rest == 0 ||
         ((a[full] ^ list[i].addr[full]) & (0xff << (8 - rest))) == 0)) {
      return 1;
    }
  }
  return 0;
}


int cp_access_peer(uv_tcp_t *tcp, unsigned char a[16]) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  int rc = uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len);

  memset(a, 0, 16);
  if (rc != 0) {
    return rc;
  }
  if (ss.ss_family == AF_INET) {
    a[10] = a[11] = 0xff;
    memcpy(a + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
  } else {
    memcpy(a, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
  }
  return 0;
}


/* The credentials of a Proxy-Authorization: Basic value, decoded into got
 * (room for 512 + 4 bytes): their length, or -1 when the value is not
 * Basic or too long. got holds a NUL after them. */
static int basic_decode(const char *value, size_t len, unsigned char *got) {
  int gl;

  if (value == NULL || len < 7 || strncasecmp(value, "Basic ", 6) != 0 ||
      len - 6 > 4 * (512 / 3)) {
    return -1;
  }
  value += 6;
  len -= 6;
  while (len > 0 && value[0] == ' ') {
    value++;
    len--;
  }
  gl = EVP_DecodeBlock(got, (const unsigned char *)value, (int)len);
  /* EVP_DecodeBlock counts base64 padding as zero bytes. */
  while (gl > 0 && len > 0 && value[len - 1] == '=') {
    gl--;
    len--;
  }
  if (gl >= 0) {
    got[gl] = '\0';
  }
  return gl;
}


/* Decoded credentials against "user:pass": same length, same bytes; the
 * comparison's time does not depend on where they differ. */
static int basic_match(const unsigned char *got, int gl, const char *userpass) {
  unsigned char want[512];
  size_t wl = strlen(userpass);

  if (gl < 0 || wl >= sizeof(want)) {
    return 0;
  }
  memset(want, 0, sizeof(want));
  memcpy(want, userpass, wl);
  return (size_t)gl == wl && CRYPTO_memcmp(got, want, wl) == 0;
}


int cp_access_basic_ok(const char *userpass, const char *value, size_t len) {
  unsigned char got[512 + 4];
  int ok = basic_match(got, basic_decode(value, len, got), userpass);

  OPENSSL_cleanse(got, sizeof(got));
  return ok;
}


int cp_access_basic_user(const char *value, size_t len, char *user,
                         size_t cap) {
  unsigned char got[512 + 4];
  int gl = basic_decode(value, len, got);
  size_t n;

  if (cap == 0 || gl <= 0) {
    return -1;
  }
  n = strcspn((const char *)got, ":");
  if (n >= cap) {
    n = cap - 1;
  }
  memcpy(user, got, n);
  user[n] = '\0';
  OPENSSL_cleanse(got, sizeof(got));
  return 0;
}


int cp_users_load(cp_users_t *u, const char *path, char *err, size_t errlen) {
  FILE *fp = fopen(path, "r");
  char line[600];
  int lineno = 0, rc = 0;

  memset(u, 0, sizeof(*u));
  if (fp == NULL) {
    return cp_errf(err, errlen, CP_ECONFIG, "--auth-file %s: %s", path,
                   strerror(errno));
  }
  while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
    size_t n = strcspn(line, "\r\n");
    const char *colon;
    char **grown;

    lineno++;
    line[n] = '\0';
    if (n == 0 || line[0] == '#') {
      continue;
    }
    colon = strchr(line, ':');
    if (colon == NULL || colon == line || colon[1] == '\0' || n > 255) {
      rc = cp_errf(err, errlen, CP_ECONFIG,
                   "--auth-file %s: line %d is not USER:PASSWORD (both "
                   "non-empty, at most 255 characters)",
                   path, lineno);
      break;
    }
    grown = u->n < 10000 ? realloc(u->up, sizeof(*grown) * (size_t)(u->n + 1))
                         : NULL;
    if (grown == NULL || (grown[u->n] = strdup(line)) == NULL) {
      if (grown != NULL) {
        u->up = grown;
      }
      rc = cp_errf(err, errlen, CP_ENOMEM, "--auth-file %s: too many users",
                   path);
      break;
    }
    u->up = grown;
    u->n++;
  }
  OPENSSL_cleanse(line, sizeof(line));
  fclose(fp);
  if (rc == 0 && u->n == 0) {
    rc = cp_errf(err, errlen, CP_ECONFIG, "--auth-file %s: no users", path);
  }
  if (rc != 0) {
    cp_users_free(u);
  }
  return rc;
}


int cp_users_check(const cp_users_t *u, const char *value, size_t len) {
  unsigned char got[512 + 4];
  int i, ok = 0, gl;

  if (u == NULL || u->n == 0) {
    return 0;
  }
  gl = basic_decode(value, len, got); /* once, for every user */
  for (i = 0; i < u->n; i++) {
    ok |= basic_match(got, gl, u->up[i]);
  }
  OPENSSL_cleanse(got, sizeof(got));
  return ok;
}


void cp_users_free(cp_users_t *u) {
  int i;

  for (i = 0; i < u->n; i++) {
    OPENSSL_cleanse(u->up[i], strlen(u->up[i]));
    free(u->up[i]);
  }
  free(u->up);
  u->up = NULL;
  u->n = 0;
}
