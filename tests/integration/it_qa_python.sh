#!/bin/bash
# The QA harness end to end: qa_e2e.py drives the control API (rules,
# events, stats, metrics, errors); this script adds the parts around it:
# the event stream, SIGHUP reloads, the bearer token, and which client
# addresses may use the API.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3

OLD=$CP_BUILD/tests/oldssl_client
[ -x "$OLD" ] || fail "oldssl_client was not built"
"$CP_BIN" ca --ca-dir "$PROXY_CA" > /dev/null || fail "chainproxy ca"
start_origin --tls --host 127.0.0.1
CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
start_proxy --upstream-ca "$ORIGIN_CA" --control "127.0.0.1:$CTL_PORT"
wait_port "$CTL_PORT"

# A stream reader from the start (since=0 replays what came before it):
# it must see every event, in order.
curl -sN --max-time 30 -D "$WORK/stream.head" "$CTL/events/stream?since=0" \
  > "$WORK/stream.txt" &
STREAM=$!
CP_PIDS+=($STREAM)
wait_for "the event stream to open" grep -q "text/event-stream" \
  "$WORK/stream.head"

python3 "$CP_IT/qa_e2e.py" "$CTL" "$PROXY_PORT" "$ORIGIN_PORT" "$PROXY_CA" \
  "$OLD" || fail "qa_e2e.py failed"

# The stream saw the same events as the ring, in order, as SSE.
for i in $(seq 1 50); do
  [ "$(grep -c '^id: ' "$WORK/stream.txt")" -ge 12 ] && break
  sleep 0.1
done
ids=$(grep '^id: ' "$WORK/stream.txt" | cut -d' ' -f2 | tr '\n' ' ')
ring=$(curl -s "$CTL/events?since=0&limit=1000" | jq -r '[.events[].id] | join(" ")')
assert_eq "${ids% }" "$ring" "event stream ids equal the ring's"
grep -q '^event: client_handshake$' "$WORK/stream.txt" ||
  fail "stream has no client_handshake event"
grep '^data: ' "$WORK/stream.txt" | sed 's/^data: //' | jq -e . > /dev/null ||
  fail "stream data lines are not JSON"
# Replay from an id.
curl -sN --max-time 1 "$CTL/events/stream?since=3" > "$WORK/replay.txt"
assert_eq "$(grep -m1 '^id: ' "$WORK/replay.txt")" "id: 4" "replay since=3"

# SIGHUP re-reads --rules; a bad file keeps what is in force.
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
wait "$STREAM" 2>/dev/null
echo '[{"host": "localhost", "chain": "expired"}]' > "$WORK/rules.json"
CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
start_proxy --upstream-ca "$ORIGIN_CA" --control "127.0.0.1:$CTL_PORT" \
  --rules "$WORK/rules.json" --control-token s3cret-token-1
wait_port "$CTL_PORT"
AUTH=(-H "Authorization: Bearer s3cret-token-1")
assert_eq "$(curl -s "${AUTH[@]}" "$CTL/rules" | jq -c '[.rules[].chain]')" \
  '["expired"]' "rules from the file"
echo '[{"host": "localhost", "chain": "self-signed"}, {"host": "*.test", "chain": "legacy"}]' > "$WORK/rules.json"
kill -HUP "$PROXY_PID"
for i in $(seq 1 50); do
  got=$(curl -s "${AUTH[@]}" "$CTL/rules" | jq -c '[.rules[].chain]')
  [ "$got" = '["self-signed","legacy"]' ] && break
  sleep 0.1
done
assert_eq "$got" '["self-signed","legacy"]' "rules after SIGHUP"
assert_contains "$(cat "$PROXY_LOG")" "SIGHUP: loaded 2 rule(s)" "reload logged"
echo '[{"host": "localhost", "chain": "vintage"}]' > "$WORK/rules.json"
kill -HUP "$PROXY_PID"
for i in $(seq 1 50); do
  grep -q "SIGHUP: kept the current 2 rule(s)" "$PROXY_LOG" && break
  sleep 0.1
done
assert_contains "$(cat "$PROXY_LOG")" \
  "SIGHUP: kept the current 2 rule(s): $WORK/rules.json: rule 0: \"chain\": unknown profile 'vintage'" \
  "bad reload logged with the reason"
assert_eq "$(curl -s "${AUTH[@]}" "$CTL/rules" | jq -c '[.rules[].chain]')" \
  '["self-signed","legacy"]' "rules kept after a bad reload"
assert_eq "$(curl -s "${AUTH[@]}" "$CTL/stats" | jq -c '.rules')" \
  '{"count":2,"reloads":1,"reload_failures":1}' "reload counters"

# The token: 401 without it or with a wrong one; /healthz stays open.
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$CTL/rules")" 401 "no token"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' \
  -H 'Authorization: Bearer wrong-token-0' "$CTL/rules")" 401 "wrong token"
assert_contains "$(curl -s -D - -o /dev/null "$CTL/stats")" \
  "WWW-Authenticate: Bearer" "401 names the scheme"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$CTL/healthz")" 200 \
  "healthz needs no token"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"

# Addresses: inside the private namespace, give loopback a non-loopback
# address and connect from it.
if [ "$CP_IN_NETNS" = 1 ] && ip addr add 10.77.0.5/32 dev lo 2>/dev/null; then
  CTL_PORT=$(free_port)
  # Off loopback the control API needs a token (/healthz does not).
  CHAINPROXY_CONTROL_TOKEN=qa-token-12345 \
    start_proxy --upstream-ca "$ORIGIN_CA" --control "0.0.0.0:$CTL_PORT"
  wait_port "$CTL_PORT"
  out=$(curl -s -w ' %{http_code}' --interface 10.77.0.5 \
          "http://10.77.0.5:$CTL_PORT/healthz")
  assert_contains "$out" "403" "non-loopback client refused"
  assert_contains "$out" "see --control-allow" "refusal says why"
  assert_eq "$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$CTL_PORT/healthz")" 200 "loopback still allowed"
  stop_proxy
  CTL_PORT=$(free_port)
  # Off loopback the control API needs a token (/healthz does not).
  CHAINPROXY_CONTROL_TOKEN=qa-token-12345 \
    start_proxy --upstream-ca "$ORIGIN_CA" --control "0.0.0.0:$CTL_PORT" \
    --control-allow 10.77.0.0/24
  wait_port "$CTL_PORT"
  assert_eq "$(curl -s -o /dev/null -w '%{http_code}' --interface 10.77.0.5 \
    "http://10.77.0.5:$CTL_PORT/healthz")" 200 "allowed network"
  stop_proxy
  assert_eq "$PROXY_EXIT" 0 "proxy exit status"
elif [ "${CI:-}" = true ]; then
  fail "address checks need a private network namespace, and CI must provide one"
else
  say "no private namespace: address checks skipped"
fi

# Bad control options stop the start.
out=$("$CP_BIN" --control nonsense 2>&1); rc=$?
assert_eq "$rc" 2 "bad --control exit status"
assert_contains "$out" "--control: 'nonsense' is not HOST:PORT" "bad --control"
out=$("$CP_BIN" --control-allow 10.0.0.0/33 2>&1); rc=$?
assert_eq "$rc" 2 "bad --control-allow exit status"
out=$("$CP_BIN" --control-token short 2>&1); rc=$?
assert_eq "$rc" 2 "short token exit status"
say "ok"
