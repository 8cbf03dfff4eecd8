#!/bin/bash
# The control API's HTTP side (ctl_http.c on leg and http_parse): limits
# answered with their status and a JSON body that actually arrives,
# pipelining and keep-alive, HEAD, and the idle deadline.
. "$(dirname "$0")/lib.sh"
need python3

CTL_PORT=$(free_port)
start_proxy --control "127.0.0.1:$CTL_PORT" --idle-timeout 1
wait_port "$CTL_PORT"

python3 - "$CTL_PORT" <<'PY' || fail "control API HTTP checks"
import json, socket, sys, time

PORT = int(sys.argv[1])
failed = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failed.append(what)


def exchange(raw, read_timeout=5):
    """Sends raw bytes, returns everything until the server closes."""
    s = socket.create_connection(("127.0.0.1", PORT))
    s.settimeout(read_timeout)
    try:
        s.sendall(raw)
    except OSError:
        pass  # the server may answer and close before the body is sent
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        out += b"<timeout>"
    except ConnectionResetError:
        out += b"<reset>"
    s.close()
    return out


def status_and_body(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head.decode(), body


body = b'{"chain": "modern", "pad": "' + b"a" * 70000 + b'"}'
resp = exchange(b"PUT /rules/a.test HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body)
st, head, b = status_and_body(resp)
check(st == 413 and "Connection: close" in head, "70 KB PUT: 413 (%d)" % st)
check(b"<reset>" not in resp and "error" in json.loads(b),
      "413 body arrives whole, as JSON")

chunks = b"".join(b"%x\r\n%s\r\n" % (8192, b"b" * 8192) for _ in range(9))
resp = exchange(b"PUT /rules/a.test HTTP/1.1\r\nHost: localhost\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
st, _, b = status_and_body(resp)
check(st == 413 and "error" in json.loads(b), "72 KB chunked PUT: 413")

resp = exchange(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                b"GET /rules HTTP/1.1\r\nHost: localhost\r\n\r\n"
                b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
check(resp.count(b"HTTP/1.1 200 OK") == 3 and b"<timeout>" not in resp,
      "three pipelined requests, three answers, closed after the last")

resp = exchange(b"HEAD /stats HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
st, head, b = status_and_body(resp)
check(st == 200 and "Content-Length: " in head and b == b"",
      "HEAD: headers with the length, no body")

resp = exchange(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"c" * 20000 +
                b"\r\n\r\n")
st, _, b = status_and_body(resp)
check(st == 431 and "error" in json.loads(b), "20 KB head: 431 (%d)" % st)

resp = exchange(b"BREW /pot HTCPCP/1.0\r\n\r\n")
st, _, b = status_and_body(resp)
check(st == 400 and "malformed" in json.loads(b)["error"], "garbage: 400")

s = socket.create_connection(("127.0.0.1", PORT))
s.settimeout(10)
t0 = time.time()
closed = s.recv(1) == b""
check(closed and 0.5 < time.time() - t0 < 5,
      "an idle connection is closed at --idle-timeout (%.1f s)"
      % (time.time() - t0))
sys.exit(1 if failed else 0)
PY
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok"
