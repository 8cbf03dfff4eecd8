#!/usr/bin/env bash
# Every error status answers with a readable body naming the cause, and an
# error event: 400 (malformed, non-absolute, bad target), 431, 502 (DNS
# failure, connection refused, no response), 504 (connect timeout, upstream
# silent), idle timeouts; bad flags exit 2, an unusable port exits 1.
. "$(dirname "$0")/lib.sh"
need curl jq python3
need_netns  # the DNS case must not reach any resolver

RAW="python3 $CP_IT/rawhttp.py"
start_origin
start_proxy --connect-timeout 1 --idle-timeout 1.5
O=http://127.0.0.1:$ORIGIN_PORT

# check STATUS CODE-NAME TEXT OUTPUT
check() {
  assert_contains "$4" "HTTP/1.1 $1 " "status line"
  assert_contains "$4" "X-Chainproxy-Error: $2" "error field"
  assert_contains "$4" "chainproxy: $3" "error body"
  expect_event ".event == \"error\" and .error == \"$2\" and .status == $1"
}

out=$(printf 'GARBAGE\r\n\r\n' | $RAW "$PROXY_PORT")
check 400 bad_request "malformed request" "$out"
out=$(printf 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n' | $RAW "$PROXY_PORT")
check 400 not_absolute_url "this is a forward proxy" "$out"
assert_contains "$out" "HTTPS_PROXY=http://127.0.0.1:$PROXY_PORT" \
  "the hint names the listener in use"
out=$(printf 'GET https://a.test/ HTTP/1.1\r\n\r\n' | $RAW "$PROXY_PORT")
check 400 bad_target "bad request target 'https://a.test/'" "$out"
out=$(printf 'CONNECT a.test HTTP/1.1\r\n\r\n' | $RAW "$PROXY_PORT")
check 400 bad_target "bad request target 'a.test'" "$out"
out=$($RAW "$PROXY_PORT" --headers-size 70000)
check 431 headers_too_large "request head too large" "$out"
out=$($RAW "$PROXY_PORT" --headers-size 15000)
assert_contains "$out" "HTTP/1.1 502 " "15 kB of fields are within the limits"

# DNS failure: inside this namespace no resolver is reachable.
out=$(curl -sS -i -x "$PROXY_URL" http://no-such-host.invalid/ 2>&1)
check 502 dns_failure "DNS lookup of no-such-host.invalid failed" "$out"
out=$(curl -sS -i -x "$PROXY_URL" https://no-such-host.invalid/ 2>&1)
assert_contains "$out" "CONNECT tunnel failed, response 502" "curl CONNECT"

dead=$(free_port)
out=$(curl -sS -i -x "$PROXY_URL" "http://127.0.0.1:$dead/" 2>&1)
check 502 connection_refused "127.0.0.1:$dead refused the connection" "$out"

# A silent upstream: accepts, reads, never answers.
python3 -c '
import socket, time, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' > "$WORK/silent.port" &
CP_PIDS+=($!)
silent=$(wait_file "$WORK/silent.port")
out=$(curl -sS -i -x "$PROXY_URL" "http://127.0.0.1:$silent/" 2>&1)
check 504 upstream_timeout "127.0.0.1:$silent sent no response within 1.5 s" "$out"

# A closing upstream: accepts and closes at once.
python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.recv(65536); c.close()
' > "$WORK/closer.port" &
CP_PIDS+=($!)
closer=$(wait_file "$WORK/closer.port")
out=$(curl -sS -i -x "$PROXY_URL" "http://127.0.0.1:$closer/" 2>&1)
check 502 upstream_closed "127.0.0.1:$closer closed the connection without sending a response" "$out"

# Connect timeout: a listener whose accept queue is full drops new SYNs.
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for i in range(8):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    fill.append(c)
print(port, flush=True)
time.sleep(120)
' > "$WORK/full.port" &
CP_PIDS+=($!)
full=$(wait_file "$WORK/full.port")
out=$(curl -sS -i -x "$PROXY_URL" "http://127.0.0.1:$full/" 2>&1)
check 504 connect_timeout "connecting to 127.0.0.1:$full timed out after 1.0 s" "$out"

# A client that sends half a head and stalls gets 408; an idle one is
# closed without a word.
out=$(printf 'GET http://127.0.0.1/ HTTP/1.1\r\nX-A: 1\r\n' |
  $RAW "$PROXY_PORT" --timeout 8 | head -c 200)
assert_contains "$out" "HTTP/1.1 408 " "half a head"
$RAW "$PROXY_PORT" --timeout 8 < /dev/null > "$WORK/idle.out"
[ $? = 0 ] || fail "idle connection was not closed by the proxy"
expect_event '.event == "close" and .reason == "idle_timeout"'

# The proxy still works after all of that.
body=$(curl -sS -x "$PROXY_URL" "$O/hello") || fail "GET after errors"
assert_eq "$body" "hello from origin"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs

# Command-line errors: one line on stderr, exit 2; a busy port: exit 1.
"$CP_BIN" --listen nonsense >/dev/null 2>"$WORK/err"; rc=$?
assert_eq "$rc" 2 "exit status for a bad --listen"
assert_eq "$(wc -l < "$WORK/err")" 1 "stderr lines for a bad flag"
assert_contains "$(cat "$WORK/err")" "--listen: 'nonsense'" "message"
"$CP_BIN" --frobnicate >/dev/null 2>"$WORK/err"; rc=$?
assert_eq "$rc" 2 "exit status for an unknown flag"
assert_contains "$(cat "$WORK/err")" "unknown option '--frobnicate'" "message"
"$CP_BIN" --listen "127.0.0.1:$ORIGIN_PORT" 2>"$WORK/err"; rc=$?
assert_eq "$rc" 1 "exit status when the port is taken"
assert_contains "$(cat "$WORK/err")" "cannot listen on 127.0.0.1:$ORIGIN_PORT: address already in use" "message"
"$CP_BIN" --version | grep -q '^chainproxy ' || fail "--version"
"$CP_BIN" --help | grep -q -- '--listen HOST:PORT' || fail "--help"
say "ok"
