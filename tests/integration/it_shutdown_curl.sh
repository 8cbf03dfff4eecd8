#!/usr/bin/env bash
# SIGTERM: the listener closes at once, an in-flight request finishes, an
# open tunnel is closed when the grace period ends, the event log is
# complete and the exit status is 0.
. "$(dirname "$0")/lib.sh"
need curl jq python3

start_origin
start_proxy --grace 3
O=http://127.0.0.1:$ORIGIN_PORT

# An open tunnel that stays idle.
python3 - "$PROXY_PORT" "$ORIGIN_PORT" > "$WORK/tunnel.out" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"CONNECT 127.0.0.1:%s HTTP/1.1\r\n\r\n" % sys.argv[2].encode())
print(s.recv(1024).split(b"\r\n")[0].decode(), flush=True)
start = time.time()
while s.recv(1024):
    pass
print("closed after %.1f s" % (time.time() - start), flush=True)
PY
tunnel=$!
# A slow request in flight.
curl -sS -x "$PROXY_URL" "$O/slow?ms=1500" > "$WORK/slow.out" 2>&1 &
slow=$!
wait_for "the tunnel" grep -q "200 Connection established" "$WORK/tunnel.out"
expect_event '.event == "connect" and .method == "GET"' "the slow request"

t0=$(date +%s)
kill -TERM "$PROXY_PID"
wait_for "the listener to close" \
  bash -c "! exec 3<>/dev/tcp/127.0.0.1/$PROXY_PORT"
curl -sS -m 2 -x "$PROXY_URL" "$O/hello" >/dev/null 2>&1 &&
  fail "a new connection was accepted during shutdown"
wait "$slow" || fail "the in-flight request failed: $(cat "$WORK/slow.out")"
assert_eq "$(cat "$WORK/slow.out")" "slow" "in-flight response"
wait "$PROXY_PID"; rc=$?
t1=$(date +%s)
assert_eq "$rc" 0 "proxy exit status"
[ $((t1 - t0)) -le 20 ] || fail "shutdown took $((t1 - t0)) s"
wait "$tunnel"
grep -q "closed after" "$WORK/tunnel.out" || fail "tunnel was not closed"
expect_event '.event == "close" and .reason == "shutdown"'
expect_event '.event == "request" and .path == "/slow?ms=1500" and
  .status == 200'
check_connect_close_pairs
say "ok"
