#!/usr/bin/env bash
# 200 client connections open at the same time: 100 plain requests and 100
# CONNECT tunnels, all held open before any response is read.
. "$(dirname "$0")/lib.sh"
need python3 jq

start_origin
start_proxy
python3 - "$PROXY_PORT" "$ORIGIN_PORT" <<'PY' || fail "concurrent clients"
import socket, sys, time
proxy, origin = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(200):
    s = socket.create_connection(("127.0.0.1", proxy), timeout=30)
    socks.append(s)
for i, s in enumerate(socks):
    if i % 2:
        s.sendall(b"GET http://127.0.0.1:%d/slow?ms=300 HTTP/1.1\r\n"
                  b"Host: x\r\nConnection: close\r\n\r\n" % origin)
    else:
        s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n" % origin)
ok = 0
for i, s in enumerate(socks):
    data = b""
    if i % 2:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        ok += data.startswith(b"HTTP/1.1 200") and data.endswith(b"slow\n")
    else:
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        assert data.startswith(b"HTTP/1.1 200 Connection established"), data
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        ok += data.endswith(b"hello from origin\n")
for s in socks:
    s.close()
print("ok", ok)
sys.exit(0 if ok == 200 else 1)
PY
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
assert_eq "$(count_events '.event == "connect" and .method != null')" 200 \
  "connect events with a request"
assert_eq "$(count_events '.event == "close" and .host != null')" 200 \
  "close events with a target"
check_connect_close_pairs
say "ok"
