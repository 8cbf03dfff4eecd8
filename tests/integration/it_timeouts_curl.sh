#!/bin/bash
# Timeouts that match what they protect: a request head has a deadline
# that trickled bytes do not push back; the first byte of a response has
# its own deadline; a quiet stream (server-sent events, long polls) lives
# as long as its gaps stay under --body-idle-timeout, and one cut by it
# still gets its request event and a log line.
. "$(dirname "$0")/lib.sh"
need curl jq python3

start_origin
O=http://127.0.0.1:$ORIGIN_PORT
start_proxy --idle-timeout 1 --head-timeout 1.5 --response-timeout 1 \
  --body-idle-timeout 3

# SSE: two events 2 s apart, longer than --idle-timeout: both arrive.
t0=$(date +%s.%N)
out=$(curl -sS -N -x "$PROXY_URL" "$O/sse?n=2&gap=2000") ||
  fail "SSE through the proxy: $out"
assert_eq "$(printf '%s' "$out" | grep -c '^data: event')" 2 "SSE events"
expect_event '.event == "request" and .path == "/sse?n=2&gap=2000" and
  .status == 200 and .outcome == "ok"' "the SSE request completed"

# A gap over --body-idle-timeout cuts the stream: the client keeps the
# first event, the event log and the operator log say why.
out=$(curl -sS -N -x "$PROXY_URL" "$O/sse?n=2&gap=5000" 2>&1)
assert_contains "$out" "data: event 1" "first event before the cut"
case $out in *"data: event 2"*) fail "the stream was not cut" ;; esac
expect_event '.event == "request" and .path == "/sse?n=2&gap=5000" and
  .outcome == "body_idle_timeout"' "request event of the cut stream"
expect_event '.event == "close" and .reason == "body_idle_timeout"'
wait_for "the log line" grep -q "response body idle for 3.0 s" "$PROXY_LOG"

# The first byte of a response has its own deadline.
out=$(curl -sS -i -x "$PROXY_URL" "$O/slow?ms=3000" 2>&1)
assert_contains "$out" "HTTP/1.1 504" "slow first byte"
assert_contains "$out" "sent no response within 1.0 s" "504 message"

# A head trickled one byte every 0.4 s gets 408 at the 1.5 s deadline,
# although no gap is longer than --idle-timeout.
python3 - "$PROXY_PORT" <<'PY' || fail "trickled head"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
head = b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 40
t0 = time.time()
s.settimeout(0.4)
got = b""
for b in head:
    try:
        s.send(bytes([b]))
    except OSError:
        break
    try:
        got += s.recv(4096)
        if got:
            break
    except socket.timeout:
        pass
s.settimeout(5)
while b"\r\n\r\n" not in got:
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
took = time.time() - t0
print("got %r after %.1f s" % (got[:40], took))
ok = got.startswith(b"HTTP/1.1 408 ") and 1.2 < took < 4
sys.exit(0 if ok else 1)
PY
expect_event '.event == "error" and .error == "request_timeout"'

stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs
say "ok"
