/* unshare(2), mount(2) */
#define _GNU_SOURCE
#include "app/isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include <jansson.h>

#define CTL_FD 3     /* the helper's end of the socket (uv_spawn's stdio) */
#define MSG_MAX 900  /* one message: "ok MECH" or "error TEXT" */
#define TOOL_OUT 400 /* what a failing tool said, kept for the message */
#define HELPER_FAIL 125
#define REFUSED_MAX 65536 /* nft's listing of the refused UDP sets */

/* --- the helper, inside the namespaces --------------------------------- */

static int send_msg(int sock, const char *text, const int *fds, int nfds) {
  struct msghdr m;
  struct iovec iov;
  char cbuf[CMSG_SPACE(sizeof(int) * 2)];
  struct cmsghdr *cm;

  memset(&m, 0, sizeof(m));
  iov.iov_base = (void *)text;
  iov.iov_len = strlen(text) + 1;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (nfds > 0) {
    memset(cbuf, 0, sizeof(cbuf));
    m.msg_control = cbuf;
    m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
  }
  return sendmsg(sock, &m, MSG_NOSIGNAL) < 0 ? -1 : 0;
}


static int helper_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));


/* Tells run why, and gives the status the helper exits with. */
static int helper_fail(const char *fmt, ...) {
  char msg[MSG_MAX];
  int n;
  va_list ap;

  n = snprintf(msg, sizeof(msg), "error ");
  va_start(ap, fmt);
  vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
  va_end(ap);
  send_msg(CTL_FD, msg, NULL, 0);
  return HELPER_FAIL;
}


static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0) {
    return -1;
  }
  n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}


/* Keeps CAP_NET_ADMIN across exec (ambient) for the tools, which a
 * process that is not uid 0 in its user namespace would lose otherwise. */
static int keep_net_admin(void) {
  struct __user_cap_header_struct h;
  struct __user_cap_data_struct d[2];

  memset(&h, 0, sizeof(h));
  memset(d, 0, sizeof(d));
  h.version = _LINUX_CAPABILITY_VERSION_3;
  if (syscall(SYS_capget, &h, d) != 0) {
    return -1;
  }
  d[0].inheritable |= 1u << CAP_NET_ADMIN;
  if (syscall(SYS_capset, &h, d) != 0) {
    return -1;
  }
  return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0);
}


/* Runs a tool (ip, nft) found on PATH or in the sbin directories, with
 * input on its stdin; 0 when it succeeded, else -1 with what it said. */
static int run_tool(char *const argv[], const char *input, int ambient,
                    char *out, size_t outlen) {
  static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
  int in[2] = {-1, -1}, er[2] = {-1, -1}, st = 0;
  size_t k, got = 0;
  ssize_t n;
  pid_t pid;

  out[0] = '\0';
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(er, O_CLOEXEC) != 0) {
    snprintf(out, outlen, "pipe: %s", strerror(errno));
    return -1;
  }
  pid = fork();
  if (pid == 0) {
    char path[256];

    dup2(in[0], 0);
    dup2(er[1], 1);
    dup2(er[1], 2);
    if (ambient) {
      keep_net_admin();
    }
    execvp(argv[0], argv);
    for (k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
      snprintf(path, sizeof(path), "%s/%s", dirs[k], argv[0]);
      execv(path, argv);
    }
    fprintf(stderr, "%s: not found (install %s)", argv[0],
            strcmp(argv[0], "nft") == 0 ? "nftables" : "iproute2");
    _exit(127);
  }
  close(in[0]);
  close(er[1]);
  if (input != NULL && pid > 0) {
    n = write(in[1], input, strlen(input));
    (void)n;
  }
  close(in[1]);
  while (got + 1 < outlen &&
         (n = read(er[0], out + got, outlen - 1 - got)) > 0) {
    got += (size_t)n;
  }
  out[got] = '\0';
  close(er[0]);
  if (pid < 0 || waitpid(pid, &st, 0) != pid) {
    return -1;
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}


/* The namespaces: net and mount as root, else a user namespace too, where
 * this uid is itself (CMD is not made root) and holds the capabilities
 * until exec. 0 with the mechanism's name, or the status after failing.
 * (The pid namespace comes last, in helper_wait: its first child is its
 * init, and the tools run before must not be that child.) */
static int make_namespaces(char *mech, size_t len) {
  char map[64];
  int root_err = 0, uid = (int)geteuid(), gid = (int)getegid();

  if (uid == 0) {
    if (unshare(CLONE_NEWNET | CLONE_NEWNS) == 0) {
      snprintf(mech, len, "root");
      return 0;
    }
    root_err = errno;
  }
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0) {
    int e = errno;

    return helper_fail(
        "cannot create a network namespace for --isolate: %s%s%s"
        "a user namespace (unprivileged): %s. Run as root, or allow "
        "unprivileged user namespaces (user.max_user_namespaces > 0, "
        "kernel.unprivileged_userns_clone=1 where it exists, no AppArmor "
        "restrict_unprivileged_userns), or use `chainproxy run` without "
        "--isolate (the proxy variables) or --mode transparent "
        "(docs/transparent.md)",
        root_err ? "as root (unshare CLONE_NEWNET): " : "",
        root_err ? strerror(root_err) : "", root_err ? "; " : "", strerror(e));
  }
  snprintf(map, sizeof(map), "%d %d 1\n", uid, uid);
  if (write_file("/proc/self/setgroups", "deny") != 0 ||
      write_file("/proc/self/uid_map", map) != 0) {
    return helper_fail("--isolate: cannot map uid %d into the user "
                       "namespace: %s",
                       uid, strerror(errno));
  }
  snprintf(map, sizeof(map), "%d %d 1\n", gid, gid);
  if (write_file("/proc/self/gid_map", map) != 0) {
    return helper_fail("--isolate: cannot map gid %d into the user "
                       "namespace: %s",
                       gid, strerror(errno));
  }
  snprintf(mech, len, "user");
  return 0;
}


/* The proxy's listener inside: every address of the namespace, both
 * families on one socket where IPv6 exists. */
static int open_listener(uint16_t port) {
  struct sockaddr_in6 a6;
  struct sockaddr_in a4;
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), off = 0, on = 1;

  if (fd >= 0) {
    memset(&a6, 0, sizeof(a6));
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(port);
    a6.sin6_addr = in6addr_any;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0 &&
        listen(fd, 511) == 0) {
      return fd;
    }
    close(fd);
  }
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  memset(&a4, 0, sizeof(a4));
  a4.sin_family = AF_INET;
  a4.sin_port = htons(port);
  a4.sin_addr.s_addr = htonl(INADDR_ANY);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) != 0 ||
      listen(fd, 511) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}


/* lo up with the default routes on it: a connection to any address then
 * leaves connect() and meets the redirect in the output hook (without a
 * route, connect fails with ENETUNREACH before netfilter sees it). */
static int net_setup(int ambient, uint16_t port, char *out, size_t outlen) {
  char *up[] = {"ip", "link", "set", "lo", "up", NULL};
  char *r4[] = {"ip", "route", "add", "default", "dev", "lo", NULL};
  char *r6[] = {"ip", "-6", "route", "add", "default", "dev", "lo", NULL};
  char *nft[] = {"nft", "-f", "-", NULL};
  char rules[1600];

  if (run_tool(up, NULL, ambient, out, outlen) != 0 ||
      run_tool(r4, NULL, ambient, out, outlen) != 0) {
    return -1;
  }
  run_tool(r6, NULL, ambient, out, outlen); /* IPv6 may be off: v4 only */
  /* redirect in the output hook rewrites locally made connections to the
   * loopback address (127.0.0.1 or ::1) and the port; the listener takes
   * the original destination from conntrack (SO_ORIGINAL_DST). A
   * connection to the listener itself is left as it is (a client using
   * the proxy variables). UDP is refused (reject in the output hook:
   * the send fails with EPERM at once, so QUIC falls back to TCP), but
   * DNS to the namespace's resolver (and its answers). */
  snprintf(rules, sizeof(rules),
           "table inet chainproxy_isolate {\n"
           "  set udp4 { type ipv4_addr . inet_service; flags dynamic; "
           "size 64; }\n"
           "  set udp6 { type ipv6_addr . inet_service; flags dynamic; "
           "size 64; }\n"
           "  chain nat_out {\n"
           "    type nat hook output priority -100; policy accept;\n"
           "    meta l4proto tcp redirect to :%u\n"
           "  }\n"
           "  chain filter_out {\n"
           "    type filter hook output priority 0; policy accept;\n"
           "    ip daddr 127.0.0.1 udp dport 53 accept\n"
           "    ct state established accept\n"
           "    meta nfproto ipv4 meta l4proto udp "
           "add @udp4 { ip daddr . udp dport }\n"
           "    meta nfproto ipv6 meta l4proto udp "
           "add @udp6 { ip6 daddr . udp dport }\n"
           "    meta l4proto udp counter reject\n"
           "  }\n"
           "}\n",
           (unsigned)port);
  return run_tool(nft, rules, ambient, out, outlen);
}


/* The one process a signal handler must reach: the helper's init, or
 * init's CMD. A signal handler can only find it in a static (the only
 * mutable static of the program, and only in the helper's process). */
static volatile pid_t forward_to = -1;


static void on_forward_signal(int sig) {
  if (forward_to > 0) {
    kill(forward_to, sig);
  }
}


/* SIGINT, SIGTERM, ... passed on: run -> helper -> init -> CMD (a pid
 * namespace's init gets no signal it has no handler for). */
static void forward_signals(void) {
  static const int sigs[] = {SIGINT,  SIGTERM, SIGHUP,
                             SIGQUIT, SIGUSR1, SIGUSR2};
  struct sigaction sa;
  size_t k;

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_forward_signal;
  sigemptyset(&sa.sa_mask);
  for (k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++) {
    sigaction(sigs[k], &sa, NULL);
  }
}


/* Once CMD is gone: the UDP destinations the namespace refused (the
 * nftables sets, as `nft -j` prints them) to run, which records them. */
static void send_refused(int ambient) {
  char *list[] = {"nft", "-j", "list", "table", "inet", "chainproxy_isolate",
                  NULL};
  char *out = malloc(REFUSED_MAX);

  if (out != NULL && run_tool(list, NULL, ambient, out, REFUSED_MAX) == 0) {
    send_msg(CTL_FD, out, NULL, 0);
  }
  free(out);
}


/* pid 1 of CMD's pid namespace: runs CMD, passes signals on, reaps what
 * is orphaned to it, and hands CMD's wait status to the helper through
 * status_fd (init itself cannot die of a signal it sends itself). */
static int init_run(char **cmd, int status_fd, int ambient) {
  pid_t pid, w;
  int st = 0;
  ssize_t n;

  prctl(PR_SET_PDEATHSIG, SIGKILL);
  pid = fork();
  if (pid == 0) {
    close(status_fd);
    execvp(cmd[0], cmd);
    fprintf(stderr, "chainproxy run: cannot run %s: %s\n", cmd[0],
            strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  if (pid < 0) {
    _exit(126);
  }
  forward_to = pid;
  forward_signals();
  for (;;) {
    w = waitpid(-1, &st, 0);
    if (w == pid) {
      /* Here, not in the helper: only this namespace's init may still
       * fork in it. */
      send_refused(ambient);
      n = write(status_fd, &st, sizeof(st));
      (void)n;
      _exit(0); /* the kernel kills the rest of the namespace */
    }
    if (w < 0 && errno != EINTR) {
      _exit(126);
    }
  }
}


/* The helper once CMD may start: init in the new pid namespace, CMD's
 * status passed through as this process's own (the same code, or the
 * same signal). */
static int helper_wait(char **cmd, int ambient) {
  int p[2], st = 0, ist = 0;
  pid_t pid;
  ssize_t n;

  /* The first child after this is pid 1 of the new namespace; when it
   * ends, the kernel kills whatever CMD left running there. */
  if (unshare(CLONE_NEWPID) != 0) {
    fprintf(stderr, "chainproxy run: --isolate: no pid namespace: %s\n",
            strerror(errno));
    return HELPER_FAIL;
  }
  if (pipe2(p, O_CLOEXEC) != 0) {
    return HELPER_FAIL;
  }
  pid = fork();
  if (pid == 0) {
    close(p[0]);
    return init_run(cmd, p[1], ambient);
  }
  close(p[1]);
  if (pid < 0) {
    return HELPER_FAIL;
  }
  forward_to = pid;
  forward_signals();
  do {
    n = read(p[0], &st, sizeof(st));
  } while (n < 0 && errno == EINTR);
  while (waitpid(pid, &ist, 0) < 0 && errno == EINTR) {
  }
  if (n != (ssize_t)sizeof(st)) {
    return WIFSIGNALED(ist) ? 128 + WTERMSIG(ist) : HELPER_FAIL;
  }
  if (WIFSIGNALED(st)) {
    signal(WTERMSIG(st), SIG_DFL);
    raise(WTERMSIG(st));
    return 128 + WTERMSIG(st);
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : HELPER_FAIL;
}


/* The namespace's resolver socket, 127.0.0.1:53 (answered by run). */
static int open_dns(void) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd < 0) {
    return -1;
  }
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons(53);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}


int cp_isolate_child(int argc, char **argv) {
  char mech[8] = "", out[TOOL_OUT], go = 0;
  int fds[2], lfd, dfd, rc;
  long port;

  /* CMD goes when run goes, even on SIGKILL. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    return helper_fail("--isolate: bad helper arguments");
  }
  port = strtol(argv[1], NULL, 10);
  if (port < 1 || port > 65535) {
    return helper_fail("--isolate: bad port");
  }
  rc = make_namespaces(mech, sizeof(mech));
  if (rc != 0) {
    return rc;
  }
  /* Mounts made here stay here. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
    return helper_fail("--isolate: cannot make the mount namespace "
                       "private: %s",
                       strerror(errno));
  }
  if (net_setup(strcmp(mech, "user") == 0, (uint16_t)port, out, sizeof(out)) !=
      0) {
    return helper_fail("--isolate: cannot set up the namespace's network "
                       "(%s namespace): %s",
                       mech, out);
  }
  lfd = open_listener((uint16_t)port);
  if (lfd < 0) {
    return helper_fail("--isolate: cannot listen on port %ld inside the "
                       "namespace: %s",
                       port, strerror(errno));
  }
  dfd = open_dns();
  if (dfd < 0) {
    return helper_fail("--isolate: cannot open the namespace's resolver "
                       "on 127.0.0.1:53: %s",
                       strerror(errno));
  }
  /* Without an /etc/resolv.conf the C library asks 127.0.0.1 anyway. */
  if (mount(argv[2], "/etc/resolv.conf", NULL, MS_BIND, NULL) != 0 &&
      errno != ENOENT) {
    return helper_fail("--isolate: cannot mount %s on /etc/resolv.conf: %s",
                       argv[2], strerror(errno));
  }
  fds[0] = lfd;
  fds[1] = dfd;
  snprintf(out, sizeof(out), "ok %s", mech);
  if (send_msg(CTL_FD, out, fds, 2) != 0) {
    return HELPER_FAIL;
  }
  close(lfd);
  close(dfd);
  /* run answers once its proxy listens; EOF means it gave up. */
  if (read(CTL_FD, &go, 1) != 1 || go != 'g') {
    return HELPER_FAIL;
  }
  /* Kept for send_refused, out of CMD's reach. */
  fcntl(CTL_FD, F_SETFD, FD_CLOEXEC);
  return helper_wait(argv + 4, strcmp(mech, "user") == 0);
}


/* --- run's side -------------------------------------------------------- */

/* One message from the helper and the descriptors it carries (fd[0],
 * fd[1]; -1 when absent); -1 at EOF. */
static int recv_msg(int sock, char *text, size_t len, int *fd) {
  struct msghdr m;
  struct iovec iov;
  char cbuf[CMSG_SPACE(sizeof(int) * 2)];
  struct cmsghdr *cm;
  ssize_t n;

  fd[0] = -1;
  fd[1] = -1;
  memset(&m, 0, sizeof(m));
  iov.iov_base = text;
  iov.iov_len = len - 1;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cbuf;
  m.msg_controllen = sizeof(cbuf);
  do {
    n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    return -1;
  }
  text[n] = '\0';
  for (cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
        cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
      memcpy(fd, CMSG_DATA(cm),
             cm->cmsg_len >= CMSG_LEN(2 * sizeof(int)) ? 2 * sizeof(int)
                                                       : sizeof(int));
    }
  }
  return 0;
}


int cp_isolate_start(cp_isolate_t *iso, uv_loop_t *loop, uv_process_t *proc,
                     uv_exit_cb exit_cb, char **cmd, char **env, uint16_t port,
                     const char *tmpdir, int *spawned, char *err,
                     size_t errlen) {
  uv_process_options_t o;
  uv_stdio_container_t io[4];
  char exe[4096], portstr[8], msg[MSG_MAX], resolv[1100];
  char **args = NULL;
  int sv[2] = {-1, -1}, i, n = 0, fd[2] = {-1, -1}, rc = -1;
  ssize_t len;
  FILE *f;

  memset(iso, 0, sizeof(*iso));
  iso->sock = -1;
  iso->listen_fd = -1;
  iso->dns_fd = -1;
  *spawned = 0;
  snprintf(resolv, sizeof(resolv), "%s/resolv.conf", tmpdir);
  f = fopen(resolv, "w");
  if (f == NULL ||
      fputs("# chainproxy run --isolate\nnameserver 127.0.0.1\n", f) < 0 ||
      fclose(f) != 0) {
    snprintf(err, errlen, "--isolate: cannot write %s", resolv);
    return -1;
  }
  len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  while (cmd[n] != NULL) {
    n++;
  }
  args = calloc((size_t)n + 6, sizeof(char *));
  if (len <= 0 || args == NULL ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    snprintf(err, errlen, "--isolate: cannot start the helper: %s",
             strerror(errno));
    goto out;
  }
  exe[len] = '\0';
  snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
  args[0] = "chainproxy";
  args[1] = "__isolate";
  args[2] = portstr;
  args[3] = resolv;
  args[4] = "--";
  for (i = 0; i < n; i++) {
    args[5 + i] = cmd[i];
  }
  memset(&o, 0, sizeof(o));
  for (i = 0; i < 3; i++) {
    io[i].flags = UV_INHERIT_FD;
    io[i].data.fd = i;
  }
  io[3].flags = UV_INHERIT_FD;
  io[3].data.fd = sv[1];
  o.file = exe;
  o.args = args;
  o.env = env;
  o.stdio = io;
  o.stdio_count = 4;
  o.exit_cb = exit_cb;
  rc = uv_spawn(loop, proc, &o);
  if (rc != 0) {
    snprintf(err, errlen, "--isolate: cannot start the helper %s: %s", exe,
             uv_strerror(rc));
    uv_close((uv_handle_t *)proc, NULL);
    rc = -1;
    goto out;
  }
  *spawned = 1;
  close(sv[1]);
  sv[1] = -1;
  rc = -1;
  if (recv_msg(sv[0], msg, sizeof(msg), fd) != 0) {
    snprintf(err, errlen,
             "--isolate: the helper ended before the "
             "namespace was ready");
    goto out;
  }
  if (strncmp(msg, "ok ", 3) != 0 || fd[0] < 0 || fd[1] < 0) {
    snprintf(err, errlen, "%s", strncmp(msg, "error ", 6) == 0 ? msg + 6 : msg);
    goto out;
  }
  snprintf(iso->mechanism, sizeof(iso->mechanism), "%.7s", msg + 3);
  iso->listen_fd = fd[0];
  iso->dns_fd = fd[1];
  fd[0] = -1;
  fd[1] = -1;
  iso->sock = sv[0];
  sv[0] = -1;
  rc = 0;
out:
  for (i = 0; i < 2; i++) {
    if (fd[i] >= 0) {
      close(fd[i]);
    }
    if (sv[i] >= 0) {
      close(sv[i]);
    }
  }
  free(args);
  return rc;
}


void cp_isolate_go(cp_isolate_t *iso) {
  ssize_t n;

  if (iso->sock >= 0) {
    n = send(iso->sock, "g", 1, MSG_NOSIGNAL);
    (void)n;
  }
}


int cp_isolate_refused(cp_isolate_t *iso, cp_isolate_udp_cb cb, void *arg) {
  char *buf = malloc(REFUSED_MAX);
  json_t *doc = NULL, *item, *elems, *e, *cat;
  size_t i, j;
  ssize_t n;
  int count = 0;

  if (buf == NULL || iso->sock < 0) {
    free(buf);
    return 0;
  }
  /* The helper has exited: its message, if any, is queued. */
  n = recv(iso->sock, buf, REFUSED_MAX - 1, MSG_DONTWAIT);
  if (n > 0) {
    buf[n] = '\0';
    doc = json_loads(buf, 0, NULL);
  }
  json_array_foreach(json_object_get(doc, "nftables"), i, item) {
    elems = json_object_get(json_object_get(item, "set"), "elem");
    json_array_foreach(elems, j, e) {
      /* {"concat": ["10.0.0.1", 443]}, or {"elem": {"val": {...}}} */
      cat = json_object_get(e, "concat");
      if (cat == NULL) {
        cat = json_object_get(
            json_object_get(json_object_get(e, "elem"), "val"), "concat");
      }
      if (json_is_string(json_array_get(cat, 0)) &&
          json_is_integer(json_array_get(cat, 1))) {
        cb(arg, json_string_value(json_array_get(cat, 0)),
           (int)json_integer_value(json_array_get(cat, 1)));
        count++;
      }
    }
  }
  json_decref(doc);
  free(buf);
  return count;
}


void cp_isolate_release(cp_isolate_t *iso) {
  if (iso->sock >= 0) {
    close(iso->sock);
    iso->sock = -1;
  }
  if (iso->listen_fd >= 0) {
    close(iso->listen_fd);
    iso->listen_fd = -1;
  }
  if (iso->dns_fd >= 0) {
    close(iso->dns_fd);
    iso->dns_fd = -1;
  }
}
