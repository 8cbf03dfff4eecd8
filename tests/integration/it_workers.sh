#!/bin/bash
# --workers: several event loops on one port (SO_REUSEPORT). Connections
# land on every worker; the event log stays one log (whole lines, unique
# increasing ids, a connect and a close per connection, nothing lost);
# /stats sums the workers; a rule set through the API and a SIGHUP reload
# reach every worker; SIGTERM lets in-flight exchanges on every worker
# finish; a port held by another process is refused, not shared.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3

start_origin --tls
cat > "$WORK/rules.json" <<JSON
[{"host": "localhost", "chain": "legacy"}]
JSON
CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
start_proxy --workers 4 --upstream-ca "$ORIGIN_CA" --rules "$WORK/rules.json" \
  --control "127.0.0.1:$CTL_PORT"
wait_port "$CTL_PORT"
grep -q "(4 workers)" "$PROXY_LOG" || fail "the start line names 4 workers"

# 64 connections, 8 at a time (each a new source port: the kernel hashes
# them over the four listeners).
served() { # N: the profiles served to N parallel-by-8 connections
  seq 1 "$1" | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    --cacert "$PROXY_CA/both.pem" -x "$PROXY_URL" \
    "https://localhost:$ORIGIN_PORT/hello" | sort | uniq -c | tr -s ' '
}
# Both roots: legacy and modern chains are accepted alike.
cat "$PROXY_CA/root.pem" "$PROXY_CA/legacy-root.pem" > "$PROXY_CA/both.pem"
out=$(served 64)
assert_eq "$out" " 64 200" "64 requests through 4 workers"

# A request is counted when its exchange ends, a moment after the
# client has its answer.
requests_are() { [ "$(curl -s "$CTL/stats" | jq '.requests')" = "$1" ]; }
events_at_least() { [ "$(count_events "$1")" -ge "$2" ]; }
wait_for "64 requests counted" requests_are 64
st=$(curl -s "$CTL/stats")
# (accepted also counts the harness probing the port)
assert_eq "$(jq '.connections.accepted' <<< "$st")" 65 \
  "/stats sums the workers' connections"
assert_eq "$(jq '.requests' <<< "$st")" 64 "/stats sums the requests"
assert_eq "$(jq '.workers | length' <<< "$st")" 4 "/stats lists 4 workers"
busy=$(jq '[.workers[] | select(.accepted > 0)] | length' <<< "$st")
[ "$busy" -ge 2 ] || fail "connections went to $busy worker(s): $st"
curl -s "$CTL/metrics" | grep -q '^chainproxy_connections_total 65$' ||
  fail "/metrics sums the workers"

# One log: every line whole JSON, ids unique and increasing, one connect
# and one close per connection, ids of connections unique.
wait_for "65 close events" events_at_least '.event == "close"' 65
jq -e . "$EVENTS" > /dev/null || fail "an event line is not whole JSON"
check_connect_close_pairs
n=$(count_events '.event == "client_handshake" and .profile == "legacy"')
assert_eq "$n" 64 "the rules file reached every worker"

# A rule through the API: every worker's next connections use it.
curl -s -o /dev/null -X PUT -d '{"chain": "modern"}' "$CTL/rules/localhost"
before=$(count_events '.event == "client_handshake"')
served 32 > /dev/null
n=$(jq -s "[.[] | select(.event == \"client_handshake\")] | .[$before:] |
  map(select(.profile == \"modern\")) | length" "$EVENTS")
assert_eq "$n" 32 "the API's rule reached every worker"

# SIGHUP: the file (legacy) is in force again, on every worker.
kill -HUP "$PROXY_PID"
wait_for "the reload" grep -q "SIGHUP: loaded 1 rule" "$PROXY_LOG"
before=$(count_events '.event == "client_handshake"')
served 32 > /dev/null
n=$(jq -s "[.[] | select(.event == \"client_handshake\")] | .[$before:] |
  map(select(.profile == \"legacy\")) | length" "$EVENTS")
assert_eq "$n" 32 "SIGHUP reached every worker"

# SIGTERM with exchanges in flight on several workers: each finishes.
for i in 1 2 3 4 5 6; do
  curl -s --cacert "$PROXY_CA/both.pem" -x "$PROXY_URL" \
    "https://localhost:$ORIGIN_PORT/slow?ms=1500" > "$WORK/slow.$i" &
  SLOW[$i]=$!
done
wait_for "6 slow requests in flight" events_at_least \
  '.event == "client_handshake"' $((before + 32 + 6))
stop_proxy
assert_eq "$PROXY_EXIT" 0 "SIGTERM: exit status"
for i in 1 2 3 4 5 6; do
  wait "${SLOW[$i]}"
  assert_eq "$(cat "$WORK/slow.$i")" "slow" "in-flight request $i finished"
done
check_connect_close_pairs

# A port another process holds is refused (SO_REUSEPORT would otherwise
# let a second proxy share it silently).
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(30)' > "$WORK/holder" &
CP_PIDS+=($!)
wait_for "the port holder" test -s "$WORK/holder"
held=$(cat "$WORK/holder")
err=$("$CP_BIN" --workers 2 --listen "127.0.0.1:$held" --ca-dir "$PROXY_CA" \
  2>&1 >/dev/null)
[ $? -ne 0 ] || fail "a held port was shared"
assert_contains "$err" "address already in use" "a held port: the error"
err=$("$CP_BIN" --workers 0 2>&1)
assert_contains "$err" "--workers: '0' is not a number from 1 to 256" \
  "--workers 0"
say "ok"
