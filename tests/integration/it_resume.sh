#!/bin/bash
# Upstream TLS session resumption. The origin (openssl s_server -www)
# prints whether it resumed, so the proof is the origin's own word; the
# events must say the same, and a resumed connection carries the diagnosis
# of the full handshake that made the session, unchanged, for a good chain
# and a failing one alike. A rule turns resumption off for one host, a
# SIGHUP reload forgets every session, --upstream-sessions 0 never resumes.
. "$(dirname "$0")/lib.sh"
need curl jq openssl

make_origin_pki
declare -A PORT
s_server tls13 -tls1_3 -www
s_server tls12 -tls1_2 -www
# An origin whose chain the proxy does not trust (a self-signed leaf).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$WORK/self.key" -out "$WORK/self.pem" -days 30 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" 2>/dev/null ||
  fail "openssl could not make the self-signed origin"
saved=("$ORIGIN_CERT" "$ORIGIN_KEY")
ORIGIN_CERT=$WORK/self.pem ORIGIN_KEY=$WORK/self.key
s_server selfsigned -www
ORIGIN_CERT=${saved[0]} ORIGIN_KEY=${saved[1]}
echo '[]' > "$WORK/rules.json"
CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
# mirror: a failing chain is relayed (as its defect), so the connection
# lives long enough to receive the origin's session tickets.
start_proxy --upstream-ca "$ORIGIN_CA" --upstream-failure mirror \
  --rules "$WORK/rules.json" --control "127.0.0.1:$CTL_PORT"
wait_port "$CTL_PORT"

origin_says() { # NAME [curl options]: "New" or "Reused", from the origin
  curl -sS --max-time 10 --cacert "$ROOT" -x "$PROXY_URL" "${@:2}" \
    "https://localhost:${PORT[$1]}/" | grep -oE '^(New|Reused)' | head -1
}
verify_events() { # PORT: the upstream_verify events' resumed flags
  jq -r -s "map(select(.event == \"upstream_verify\" and .port == $1) |
    .resumed) | join(\" \")" "$EVENTS"
}
verify_events_are() { [ "$(verify_events "$1")" = "$2" ]; }

for name in tls13 tls12; do
  seen=""
  for i in 1 2 3; do seen="$seen $(origin_says $name)"; done
  assert_eq "${seen# }" "New Reused Reused" "$name: the origin resumed"
  wait_for "$name events" verify_events_are "${PORT[$name]}" \
    "false true true"
  # The same chain and verdict, whether verified now or stored.
  n=$(jq -s "map(select(.event == \"upstream_verify\" and
    .port == ${PORT[$name]}) | [.ok, [.chain[].sha256], .root]) | unique |
    length" "$EVENTS")
  assert_eq "$n" 1 "$name: one diagnosis for full and resumed handshakes"
done

# A failing chain: resumed, the failure and its cause are reported the
# same (the session authenticates the same chain).
seen="$(origin_says selfsigned -k) $(origin_says selfsigned -k)"
assert_eq "$seen" "New Reused" "self-signed origin: resumed"
wait_for "the failing origin's events" verify_events_are \
  "${PORT[selfsigned]}" "false true"
jq -e -s "map(select(.event == \"upstream_verify\" and
  .port == ${PORT[selfsigned]})) | (.[0].ok == false) and
  (.[0].cause != null) and (map([.ok, .cause, .error_depth, .error, .hint,
  [.chain[].sha256]]) | unique | length == 1)" "$EVENTS" > /dev/null ||
  fail "the resumed failure differs from the full handshake's"

# A rule turns it off for one host: full handshakes, resumed false.
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d \
  "{\"chain\": \"modern\", \"port\": ${PORT[tls13]}, \"upstream_resume\": false}" \
  "$CTL/rules/localhost")
assert_eq "$code" 200 "PUT a rule with upstream_resume false"
curl -s "$CTL/rules" | jq -e '.rules[0].upstream_resume == false' \
  > /dev/null || fail "GET /rules shows upstream_resume false"
seen="$(origin_says tls13) $(origin_says tls13)"
assert_eq "$seen" "New New" "upstream_resume false: full handshakes"
# ... and the other origin still resumes.
assert_eq "$(origin_says tls12)" Reused "another host still resumes"

# SIGHUP reloads the data the stored diagnoses use: they are dropped.
kill -HUP "$PROXY_PID"
wait_for "the reload" grep -q "SIGHUP: loaded" "$PROXY_LOG"
assert_eq "$(origin_says tls12)" New "after SIGHUP: a full handshake"
assert_eq "$(origin_says tls12)" Reused "... then resumed again"

st=$(curl -s "$CTL/stats")
n=$(jq '.upstream_verify.resumed' <<< "$st")
[ "$n" -ge 6 ] || fail "/stats upstream_verify.resumed is $n, want >= 6"
curl -s "$CTL/metrics" | grep -q '^chainproxy_upstream_resumed_total ' ||
  fail "/metrics has no chainproxy_upstream_resumed_total"
stop_proxy

# --upstream-sessions 0: never resumed. A full handshake that presents
# exactly a chain judged before reuses that diagnosis (chain_cached), the
# same verdict, on TLS 1.3 and 1.2 alike (no staple here).
: > "$EVENTS"
start_proxy --upstream-ca "$ORIGIN_CA" --upstream-sessions 0 \
  --upstream-failure mirror
seen="$(origin_says tls13) $(origin_says tls13) $(origin_says tls13)"
assert_eq "$seen" "New New New" "--upstream-sessions 0: never resumed"
seen="$(origin_says selfsigned -k) $(origin_says selfsigned -k)"
seen="$seen $(origin_says tls12) $(origin_says tls12)"
assert_eq "$seen" "New New New New" "... for any origin"
chain_flags() { # PORT
  jq -r -s "map(select(.event == \"upstream_verify\" and .port == $1) |
    (.chain_cached // false)) | join(\" \")" "$EVENTS"
}
chain_flags_are() { [ "$(chain_flags "$1")" = "$2" ]; }
wait_for "chain cache, TLS 1.3" chain_flags_are "${PORT[tls13]}" \
  "false true true"
wait_for "chain cache, failing chain" chain_flags_are \
  "${PORT[selfsigned]}" "false true"
wait_for "chain cache, TLS 1.2" chain_flags_are "${PORT[tls12]}" \
  "false true"
for p in "${PORT[tls13]}" "${PORT[selfsigned]}" "${PORT[tls12]}"; do
  n=$(jq -s "map(select(.event == \"upstream_verify\" and .port == $p) |
    [.ok, .cause, .error, .hint, [.chain[].sha256], .root, .clients]) |
    unique | length" "$EVENTS")
  assert_eq "$n" 1 "port $p: the cached diagnosis equals the full one"
done
say "ok"
