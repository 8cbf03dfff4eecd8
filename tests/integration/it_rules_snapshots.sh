#!/bin/bash
# Held tunnels cost no rule memory: rules with large block pages are
# switched back and forth through the control API while 20 tunnels, each
# opened after a different switch, stay open. Every connection holds the
# snapshot it started with; equal rules share one snapshot, so the
# proxy's RSS grows by about two rule sets, not one per tunnel.
. "$(dirname "$0")/lib.sh"
need python3

CTL_PORT=$(free_port)
TARGET=$(free_port)
# Under ASan freed rule sets sit in its quarantine (RSS counts them);
# without one the allocator reuses them as the real one does.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
start_proxy --control "127.0.0.1:$CTL_PORT" --passthrough '127.0.0.*'

python3 - "$PROXY_PORT" "$CTL_PORT" "$TARGET" "$PROXY_PID" <<'PY' ||
import http.client, json, socket, sys, time
proxy, ctl, target, pid = map(int, sys.argv[1:5])
HOSTS, TUNNELS, PAGE = 40, 20, 60 * 1024  # 40 pages of 60 KiB: 2.4 MB


def rss_kb():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def put(host, fill):
    body = json.dumps({"block": {"status": 451, "page": fill * PAGE}})
    c = http.client.HTTPConnection("127.0.0.1", ctl, timeout=10)
    c.request("PUT", "/rules/" + host, body)
    r = c.getresponse()
    r.read()
    c.close()
    if r.status != 200:
        sys.exit("PUT /rules/%s: %d" % (host, r.status))


lsn = socket.socket()
lsn.bind(("127.0.0.1", target))
lsn.listen(64)
for i in range(HOSTS):
    put("h%d.test" % i, "x")
tunnels = []


def tunnel():
    s = socket.create_connection(("127.0.0.1", proxy), timeout=10)
    s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n" % target)
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("tunnel closed: %r" % got)
        got += chunk
    if not got.startswith(b"HTTP/1.1 200"):
        sys.exit("CONNECT: %r" % got[:60])
    tunnels.append(s)
    tunnels.append(lsn.accept()[0])


# Warm up: one switch each way with a tunnel, so allocator caches settle.
put("h0.test", "a"); tunnel()
put("h0.test", "b"); tunnel()
before = rss_kb()
for i in range(TUNNELS):
    put("h0.test", "a" if i % 2 == 0 else "b")
    tunnel()
after = rss_kb()
growth = (after - before) / 1024.0
print("VmRSS %d -> %d kB: %.1f MB for %d tunnels" %
      (before, after, growth, TUNNELS))
sys.exit(0 if growth < 15 else 1)
PY
  fail "RSS grew with the held tunnels"

stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok"
