#!/usr/bin/env bash
# --keylog: a capture on the namespace's loopback (tcpdump, bounded by
# count and time) of curl through chainproxy to a TLS origin; tshark with
# the key log decrypts both legs (the request line and the response
# status on the client leg and on the upstream leg); without it, neither.
# The key log is 0600, a group-readable one is refused, and each leg's
# client random in the events names its lines. The commands are
# docs/export.md's, run as written there.
. "$(dirname "$0")/lib.sh"
need curl jq openssl tshark tcpdump timeout
need_netns

# The namespace is the test's own: the ports of docs/export.md's example
# (proxy 8080, origin 8443) are free in it.
make_origin_pki
P=8443
python3 "$CP_IT/origin.py" --port $P --root "$WORK" --cert "$ORIGIN_CERT" \
  --key "$ORIGIN_KEY" > "$WORK/origin.out" 2>&1 &
CP_PIDS+=($!)
wait_port $P
KEYLOG=$WORK/keys.log
DOC=$CP_SRC/docs/export.md
awk '/<!-- keylog-example -->/ { on = 1; next }
     on && /^```sh$/ { inblock = 1; next }
     inblock && /^```$/ { exit }
     inblock { print }' "$DOC" > "$WORK/example.sh"
[ -s "$WORK/example.sh" ] || fail "no keylog example in $DOC"

# A key log others could read is refused before anything is served.
install -m 644 /dev/null "$WORK/open.log"
out=$("$CP_BIN" --listen "127.0.0.1:$(free_port)" --keylog "$WORK/open.log" \
  --ca-dir "$WORK/ca0" 2>&1); rc=$?
[ "$rc" != 0 ] || fail "a key log mode 644 was taken"
assert_contains "$out" "mode 644" "refusal"

PROXY_PORT=8080
PROXY_URL=http://127.0.0.1:$PROXY_PORT
EVENTS=$WORK/events.jsonl
PROXY_LOG=$WORK/proxy.log
"$CP_BIN" --listen 127.0.0.1:$PROXY_PORT --events "$EVENTS" --ca-dir "$WORK/ca" \
  --upstream-ca "$ORIGIN_CA" --keylog "$KEYLOG" --workers 2 2>> "$PROXY_LOG" &
PROXY_PID=$!
CP_PIDS+=($PROXY_PID)
wait_port $PROXY_PORT
ROOT=$WORK/ca/root.pem
assert_eq "$(stat -c %a "$KEYLOG")" 600 "key log mode"

# The capture: every packet on lo, until curl is done (-c bounds it by
# count, timeout by time).
timeout 30 tcpdump -i lo --immediate-mode -U -n -s 0 -c 400 -w "$WORK/cap.pcap" \
  "tcp port $P or tcp port $PROXY_PORT" > "$WORK/tcpdump.out" 2>&1 &
TCPDUMP=$!
CP_PIDS+=($TCPDUMP)
wait_for "tcpdump to listen" grep -q "listening on" "$WORK/tcpdump.out"
curl -sS --http1.1 --cacert "$ROOT" -x "$PROXY_URL" \
  "https://localhost:$P/hello" > "$WORK/body" || fail "curl through chainproxy"
assert_eq "$(cat "$WORK/body")" "hello from origin" "body"
expect_event '.event == "close"'
kill -INT $TCPDUMP 2>/dev/null
wait $TCPDUMP 2>/dev/null
[ -s "$WORK/cap.pcap" ] || fail "no capture"

# docs/export.md, "Decrypting a capture", run as written:
(cd "$WORK" && bash -e example.sh) > "$WORK/decrypted.txt" 2> "$WORK/tshark.err" ||
  fail "tshark: $(cat "$WORK/tshark.err")"
cat "$WORK/decrypted.txt"
# The client leg: curl -> chainproxy, inside the CONNECT tunnel.
grep -qP "^$PROXY_PORT\t[0-9]+\tGET\t/hello\t" "$WORK/decrypted.txt" ||
  fail "the client leg's GET /hello is not decrypted"
grep -qP "^[0-9]+\t$PROXY_PORT\t\t\t200$" "$WORK/decrypted.txt" ||
  fail "the client leg's 200 is not decrypted"
# The upstream leg: chainproxy -> origin.
grep -qP "^$P\t[0-9]+\tGET\t/hello\t" "$WORK/decrypted.txt" ||
  fail "the upstream leg's GET /hello is not decrypted"
grep -qP "^[0-9]+\t$P\t\t\t200$" "$WORK/decrypted.txt" ||
  fail "the upstream leg's 200 is not decrypted"

# Without the key log: the CONNECT is plain, the rest is not.
tshark -r "$WORK/cap.pcap" -d "tcp.port==$PROXY_PORT,http" -Y http \
  -T fields -e http.request.method -e http.request.uri \
  -e http.response.code > "$WORK/plain.txt" 2>/dev/null
grep -q "/hello" "$WORK/plain.txt" &&
  fail "GET /hello readable without the key log: $(cat "$WORK/plain.txt")"
grep -qP "^CONNECT\t" "$WORK/plain.txt" || fail "the CONNECT is not seen"

# Each leg's client random is in its event and in the key log.
cr=$(jq -r 'select(.event == "client_handshake" and .accepted) |
  .client_random' "$EVENTS")
ur=$(jq -r 'select(.event == "upstream_verify") | .client_random' "$EVENTS")
[ ${#cr} = 64 ] && [ ${#ur} = 64 ] && [ "$cr" != "$ur" ] ||
  fail "client randoms: '$cr' '$ur'"
grep -q " $cr " "$KEYLOG" || fail "the client leg's random is not in the key log"
grep -q " $ur " "$KEYLOG" || fail "the upstream leg's random is not in the key log"
# Whole lines only, each LABEL CLIENT_RANDOM SECRET.
bad=$(grep -cvE '^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$' "$KEYLOG")
assert_eq "$bad" 0 "malformed key log lines"

# Many handshakes over two workers: the lines stay whole.
pids=()
for i in $(seq 1 20); do
  curl -sS --max-time 120 --cacert "$ROOT" -x "$PROXY_URL" \
    "https://localhost:$P/hello" > /dev/null &
  pids+=($!)
done
for pid in "${pids[@]}"; do
  wait "$pid" || fail "a concurrent curl failed"
done
expect_event '.event == "request" and .conn > 20'
bad=$(grep -cvE '^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$' "$KEYLOG")
assert_eq "$bad" 0 "malformed key log lines under concurrency"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"

# SSLKEYLOGFILE in chainproxy's own environment, without --keylog: the
# same key log (created 0600), for both legs.
EVENTS_FILE=$WORK/env-events.jsonl
SSLKEYLOGFILE=$WORK/env-keys.log start_proxy --upstream-ca "$ORIGIN_CA"
curl -sS --cacert "$ROOT" -x "$PROXY_URL" "https://localhost:$P/hello" \
  > /dev/null || fail "curl through chainproxy with SSLKEYLOGFILE"
expect_event '.event == "request"'
stop_proxy
assert_eq "$(stat -c %a "$WORK/env-keys.log")" 600 "SSLKEYLOGFILE's mode"
for leg in client_handshake upstream_verify; do
  r=$(jq -r "select(.event == \"$leg\") | .client_random" "$EVENTS")
  grep -q " $r " "$WORK/env-keys.log" || fail "SSLKEYLOGFILE lacks the $leg leg"
done
say "ok: $(wc -l < "$KEYLOG") key log lines, both legs decrypted"
