/* --mode transparent: the destination a client meant before the kernel
 * redirected its connection to chainproxy (nftables/iptables REDIRECT:
 * SO_ORIGINAL_DST from conntrack; TPROXY: the socket's own local
 * address). No policy here: the connection code decides what to do. */
#ifndef CP_TRANSPARENT_H
#define CP_TRANSPARENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

/* The original destination of tcp, as an address and as an IP literal
 * with its port. CP_EINVAL when the connection was not redirected (it
 * came to the listener's own address and port: a client that knows it
 * is talking to chainproxy, or a missing rule); a libuv error otherwise. */
int cp_transparent_dst(uv_tcp_t *tcp, uint16_t listen_port,
                       struct sockaddr_storage *dst, char *host, size_t hostlen,
                       uint16_t *port);

/* Lets the listener accept connections for addresses that are not this
 * machine's (nftables tproxy): IP_TRANSPARENT, needs CAP_NET_ADMIN. 0, or
 * the error (redirect works without it). */
int cp_transparent_listener(uv_tcp_t *listener);

#endif
