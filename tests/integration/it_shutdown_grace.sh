#!/usr/bin/env bash
# SIGTERM with --grace 1 while requests wait on origins that never
# answer: when the grace period ends, each cut request still gets its
# request event, with its URL and outcome "shutdown" (plain HTTP, an
# intercepted HTTP/1.1 request, an HTTP/2 stream); the proxy then exits 0
# with one connect and one close per connection.
. "$(dirname "$0")/lib.sh"
need curl jq python3 node

make_origin_pki
# Origins that read a request and never answer, plain and TLS (and
# h2_origin.js's /hang).
python3 - "$ORIGIN_CERT" "$ORIGIN_KEY" "$WORK/hung.log" > "$WORK/hung.ports" <<'PY' &
import socket, ssl, sys, threading
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
log = open(sys.argv[3], "a", buffering=1)
held = []
def listen():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
    return s
def serve(c, tls):
    if tls:
        c = ctx.wrap_socket(c, server_side=True)
    held.append(c)
    d = c.recv(65536)
    log.write("got %s\n" % d.split(b"\r\n")[0].decode())
def loop(s, tls):
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, tls), daemon=True).start()
plain, tls = listen(), listen()
print(plain.getsockname()[1], tls.getsockname()[1], flush=True)
threading.Thread(target=loop, args=(tls, True), daemon=True).start()
loop(plain, False)
PY
CP_PIDS+=($!)
read -r PLAIN TLS <<< "$(wait_file "$WORK/hung.ports")"
node "$CP_IT/h2_origin.js" "$ORIGIN_CERT" "$ORIGIN_KEY" > "$WORK/h2.out" 2>&1 &
CP_PIDS+=($!)
wait_for "the h2 origin" grep -q '^ready ' "$WORK/h2.out"
H2=$(awk '/^ready /{print $2}' "$WORK/h2.out")

start_proxy --grace 1 --upstream-ca "$ORIGIN_CA" --connect-timeout 60

curl -sS -m 30 -x "$PROXY_URL" "http://127.0.0.1:$PLAIN/plain?x=1" \
  > "$WORK/plain.out" 2>&1 &
curl -sS -m 30 --http1.1 --cacert "$ROOT" -x "$PROXY_URL" \
  "https://localhost:$TLS/tls?x=2" > "$WORK/tls.out" 2>&1 &
curl -sS -m 30 --http2 --cacert "$ROOT" -x "$PROXY_URL" \
  "https://localhost:$H2/hang" > "$WORK/h2.client" 2>&1 &
wait_for "the plain request at its origin" grep -q "got GET /plain?x=1" "$WORK/hung.log"
wait_for "the TLS request at its origin" grep -q "got GET /tls?x=2" "$WORK/hung.log"
wait_for "the h2 stream at its origin" grep -q "got /hang" "$WORK/h2.out"

t0=$(date +%s%N)
kill -TERM "$PROXY_PID"
wait "$PROXY_PID"; rc=$?
t1=$(date +%s%N)
assert_eq "$rc" 0 "proxy exit status"
say "exited $(( (t1 - t0) / 1000000 )) ms after SIGTERM"
[ $(( (t1 - t0) / 1000000 )) -ge 900 ] || fail "the grace period was not waited"
grep 'grace period over' "$PROXY_LOG" || fail "no 'grace period over' in the log"

jq -c 'select(.event == "request")' "$EVENTS"
expect_event ".event == \"request\" and .url == \"http://127.0.0.1:$PLAIN/plain?x=1\"
  and .outcome == \"shutdown\" and .status == null and .method == \"GET\"" \
  "the plain request, cut"
expect_event ".event == \"request\" and .url == \"https://localhost:$TLS/tls?x=2\"
  and .outcome == \"shutdown\" and .scheme == \"https\" and
  .http_version == \"1.1\"" "the intercepted HTTP/1.1 request, cut"
expect_event ".event == \"request\" and .url == \"https://localhost:$H2/hang\"
  and .outcome == \"shutdown\" and .http_version == \"2\"" \
  "the HTTP/2 stream, cut"
assert_eq "$(count_events '.event == "request"')" 3 "one request event each"
expect_event '.event == "close" and .reason == "shutdown"'
check_connect_close_pairs
say "ok"
