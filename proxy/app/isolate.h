/* `chainproxy run --isolate`: CMD in a network namespace of its own whose
 * only way out is chainproxy. A helper (this binary again, as
 * `chainproxy __isolate`) makes the namespaces (as root: net + mount; else
 * user + net + mount), brings up lo with a default route onto it, opens
 * the proxy's listening socket inside, installs nftables rules that
 * redirect every TCP connection to it and refuse UDP but DNS, opens the
 * namespace's resolver socket (127.0.0.1:53, answered by isolate_dns) and
 * bind-mounts an /etc/resolv.conf naming it, then hands both sockets to
 * run (SCM_RIGHTS over a unix socket on fd 3) and
 * waits for the word to exec CMD. The proxy itself stays in the caller's
 * namespace, so it dials upstream from there (127.0.0.1 included).
 * Everything the helper makes belongs to the namespaces, which the kernel
 * removes when CMD (and what it left running) is gone. */
#ifndef CP_ISOLATE_H
#define CP_ISOLATE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

typedef struct cp_isolate_s {
  int sock;          /* owned: run's end of the unix socket; -1: closed */
  int listen_fd;     /* owned until given to the server; -1: none */
  int dns_fd;        /* owned until given to isolate_dns: a UDP socket on
                        127.0.0.1:53 inside; -1: none */
  char mechanism[8]; /* "root" or "user": which namespaces were made */
} cp_isolate_t;

/* Writes the namespace's resolv.conf into tmpdir, spawns the helper as
 * proc on loop (exit_cb as uv_spawn's), which will run cmd with env in
 * the namespace, and waits for its listening socket on port and its
 * resolver socket. 0 with iso filled; otherwise -1 with the reason in err (proc
 * may still have been spawned: *spawned says so, and its exit_cb will
 * run). */
int cp_isolate_start(cp_isolate_t *iso, uv_loop_t *loop, uv_process_t *proc,
                     uv_exit_cb exit_cb, char **cmd, char **env, uint16_t port,
                     const char *tmpdir, int *spawned, char *err,
                     size_t errlen);
/* Lets the helper run CMD. */
void cp_isolate_go(cp_isolate_t *iso);
/* Once the helper has exited: each UDP destination the namespace refused
 * (nftables remembered up to 64 per family), to cb; how many. */
typedef void (*cp_isolate_udp_cb)(void *arg, const char *addr, int port);
int cp_isolate_refused(cp_isolate_t *iso, cp_isolate_udp_cb cb, void *arg);
/* Closes what is left (a helper still waiting exits without CMD). */
void cp_isolate_release(cp_isolate_t *iso);

/* The helper's main: argv is {"__isolate", PORT, RESOLV_CONF, "--",
 * CMD...}, fd 3 its end of the socket. Returns the exit status: CMD's,
 * or 125 when the namespace could not be made (run has the reason). */
int cp_isolate_child(int argc, char **argv);

#endif
