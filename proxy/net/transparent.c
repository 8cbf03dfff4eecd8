#include "net/transparent.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <linux/netfilter_ipv4.h>

#include "base/err.h"

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80 /* linux/netfilter_ipv6/ip6_tables.h */
#endif


static uint16_t port_of(const struct sockaddr_storage *ss) {
  return ntohs(ss->ss_family == AF_INET6
                   ? ((const struct sockaddr_in6 *)ss)->sin6_port
                   : ((const struct sockaddr_in *)ss)->sin_port);
}


static int same(const struct sockaddr_storage *a,
                const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family || port_of(a) != port_of(b)) {
    return 0;
  }
  if (a->ss_family == AF_INET6) {
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
  }
  return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
         ((const struct sockaddr_in *)b)->sin_addr.s_addr;
}


/* A v4 peer of a dual-stack socket, as the v4 address it is. */
static void unmap(struct sockaddr_storage *ss) {
  struct sockaddr_in6 s6;
  struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

  if (ss->ss_family != AF_INET6) {
    return;
  }
  memcpy(&s6, ss, sizeof(s6));
  if (!IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr)) {
    return;
  }
  memset(ss, 0, sizeof(*ss));
  s4->sin_family = AF_INET;
  s4->sin_port = s6.sin6_port;
  memcpy(&s4->sin_addr, s6.sin6_addr.s6_addr + 12, 4);
}


int cp_transparent_dst(uv_tcp_t *tcp, uint16_t listen_port,
                       struct sockaddr_storage *dst, char *host, size_t hostlen,
                       uint16_t *port) {
  struct sockaddr_storage local;
  socklen_t len = sizeof(*dst);
  int llen = sizeof(local);
  uv_os_fd_t fd;
  int rc, nat;

  rc = uv_fileno((uv_handle_t *)tcp, &fd);
  if (rc == 0) {
    rc = uv_tcp_getsockname(tcp, (struct sockaddr *)&local, &llen);
  }
  if (rc != 0) {
    return rc;
  }
  memset(dst, 0, sizeof(*dst));
  unmap(&local);
  /* REDIRECT and DNAT leave the original in conntrack; TPROXY leaves the
   * socket bound to it. A v4 connection on a dual-stack socket has a v4
   * conntrack entry, which SOL_IP reaches on an AF_INET6 socket too
   * (checked on Linux 6.x). */
  nat = local.ss_family == AF_INET6
            ? getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, dst, &len) == 0
            : getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, dst, &len) == 0;
  if (!nat) {
    *dst = local;
  }
  if ((nat && same(dst, &local)) || (!nat && port_of(&local) == listen_port)) {
    return CP_EINVAL;
  }
  if (dst->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)dst;

    /* A v4 client on a dual-stack socket: its destination is v4. */
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
      rc = inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, host,
                     (socklen_t)hostlen) != NULL;
    } else {
      rc =
          inet_ntop(AF_INET6, &s6->sin6_addr, host, (socklen_t)hostlen) != NULL;
    }
  } else {
    rc = inet_ntop(AF_INET, &((const struct sockaddr_in *)dst)->sin_addr, host,
                   (socklen_t)hostlen) != NULL;
  }
  *port = port_of(dst);
  return rc ? 0 : CP_EINVAL;
}


int cp_transparent_listener(uv_tcp_t *listener) {
  uv_os_fd_t fd;
  int on = 1, rc = uv_fileno((uv_handle_t *)listener, &fd);

  if (rc != 0) {
    return rc;
  }
  /* One of the two applies, by the socket's family; both are tried. */
  rc = setsockopt(fd, SOL_IP, IP_TRANSPARENT, &on, sizeof(on));
  if (setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &on, sizeof(on)) == 0) {
    rc = 0;
  }
  return rc == 0 ? 0 : CP_EPERM;
}
