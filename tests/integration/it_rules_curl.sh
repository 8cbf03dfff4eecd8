#!/bin/bash
# Profile selection and mirroring with curl: --rules (first match by host
# glob and port), --chain, mirror for defective upstreams (the client gets
# the upstream's own defect), --upstream-failure mirror, and the start-up
# errors for unknown profiles and malformed rules.
. "$(dirname "$0")/lib.sh"
need curl jq openssl

"$CP_BIN" ca --ca-dir "$PROXY_CA" > /dev/null || fail "chainproxy ca"
FX=$WORK/fx
bash "$CP_IT/fixture_pki.sh" "$FX" > "$WORK/fixture.log" 2>&1 ||
  fail "fixture PKI: $(tail -5 "$WORK/fixture.log")"

# Two origins, both trusted upstream.
start_origin --tls --host 127.0.0.1
A=$ORIGIN_PORT
start_origin --tls --host 127.0.0.1
B=$ORIGIN_PORT

cat > "$WORK/rules.json" <<EOF
[
  {"host": "127.0.0.1", "port": $B, "chain": "legacy"},
  {"host": "*host", "port": $B, "chain": "expired"},
  {"host": "LOCAL*", "chain": "wrong-host"}
]
EOF
start_proxy --upstream-ca "$ORIGIN_CA" --rules "$WORK/rules.json"
get() { curl -sS -o /dev/null -w '%{http_code}' --max-time 20 \
          --cacert "$1" -x "$PROXY_URL" "$2" 2>&1 | head -1; }
# localhost:A -> third rule (glob, any port, case-insensitive)
assert_contains "$(get "$ROOT" "https://localhost:$A/hello")" \
  "no alternative certificate subject name matches" "rule 3: wrong-host"
# localhost:B -> second rule wins over the third (first match)
assert_contains "$(get "$ROOT" "https://localhost:$B/hello")" \
  "certificate has expired" "rule 2: expired"
# 127.0.0.1:B -> first rule: legacy, fine with root.pem, expired for a
# client holding only the legacy root
assert_eq "$(get "$ROOT" "https://127.0.0.1:$B/hello")" 200 "rule 1: legacy"
assert_contains "$(get "$PROXY_CA/legacy-root.pem" "https://127.0.0.1:$B/hello")" \
  "certificate has expired" "rule 1: legacy, old root only"
# 127.0.0.1:A -> no rule: --chain (modern)
assert_eq "$(get "$ROOT" "https://127.0.0.1:$A/hello")" 200 "no rule: modern"
expect_event '.event == "client_handshake" and .profile == "legacy" and
  (.served | length) == 3 and .accepted == false and
  .alert == "certificate_expired"'
expect_event '.event == "client_handshake" and .profile == "wrong-host"'
expect_event ".event == \"client_handshake\" and .profile == \"modern\" and
  .accepted == true and .port == $A"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"

# mirror: each defective upstream reproduced for the client.
# case | upstream store | curl error (or 200)
: > "$WORK/events.jsonl"
start_proxy --chain mirror --upstream-ca "$FX/store-modern.pem"
while IFS='|' read -r c want; do
  c=$(echo $c); want=$(echo "$want" | sed 's/^ *//; s/ *$//')
  [ -n "$c" ] || continue
  port=$(free_port)
  extra=()
  [ -s "$FX/$c.extra.pem" ] && extra=(-cert_chain "$FX/$c.extra.pem")
  openssl s_server -accept "127.0.0.1:$port" -cert "$FX/$c.leaf.pem" \
    -key "$FX/$c.key" "${extra[@]}" -no-CAfile -no-CApath -no-CAstore \
    -www -quiet > /dev/null 2>&1 &
  spid=$!
  CP_PIDS+=($spid)
  wait_port "$port"
  got=$(get "$ROOT" "https://localhost:$port/")
  assert_contains "$got" "$want" "mirror of $c"
  kill $spid; wait $spid 2>/dev/null
done <<'EOF'
valid          | 200
expired-leaf   | certificate has expired
not-yet-valid  | certificate is not yet valid
self-signed    | self-signed certificate
untrusted-root | self-signed certificate in certificate chain
incomplete     | self-signed certificate in certificate chain
wrong-host     | no alternative certificate subject name matches
legacy         | 200
EOF
expect_event '.event == "client_handshake" and .mirrored == true and
  .profile == "expired" and .alert == "certificate_expired"'
expect_event '.event == "client_handshake" and .mirrored == true and
  .profile == "untrusted-root"'
stop_proxy
assert_eq "$PROXY_EXIT" 0 "mirror proxy exit status"

# --upstream-failure mirror: a failing upstream is mirrored and relayed to
# a client that does not verify (curl -k), instead of a 502.
: > "$WORK/events.jsonl"
start_proxy --upstream-failure mirror --upstream-ca "$FX/store-modern.pem"
port=$(free_port)
openssl s_server -accept "127.0.0.1:$port" -cert "$FX/expired-leaf.leaf.pem" \
  -key "$FX/expired-leaf.key" -cert_chain "$FX/expired-leaf.extra.pem" \
  -no-CAfile -no-CApath -no-CAstore -www -quiet > /dev/null 2>&1 &
CP_PIDS+=($!)
wait_port "$port"
assert_contains "$(get "$ROOT" "https://localhost:$port/")" \
  "certificate has expired" "mirror mode: verifying client"
out=$(curl -sS -k -o /dev/null -w '%{http_code}' -x "$PROXY_URL" \
        "https://localhost:$port/")
assert_eq "$out" 200 "mirror mode: relayed to a client that accepts"
expect_event '.event == "upstream_verify" and .cause == "expired_leaf"'
expect_event '.event == "client_handshake" and .profile == "expired" and
  .mirrored == true and .accepted == true'
stop_proxy
assert_eq "$PROXY_EXIT" 0 "mirror mode proxy exit status"

# Start-up errors name the problem; the proxy does not start.
expect_start_error() {
  local what=$1 want=$2; shift 2
  local out rc
  out=$(timeout 10 "$CP_BIN" --listen "127.0.0.1:$(free_port)" \
          --ca-dir "$PROXY_CA" "$@" 2>&1)
  rc=$?
  [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "$what: exit status $rc"
  assert_contains "$out" "$want" "$what"
}
expect_start_error "unknown --chain" \
  "--chain: unknown profile 'vintage' (profiles: modern, legacy" --chain vintage
printf '[{"host": "a.test", "chain": "modern"},\n {"host": "b.test", "chain": "vintage"}]\n' > "$WORK/bad1.json"
expect_start_error "unknown profile in rules" \
  "rule 1: \"chain\": unknown profile 'vintage'" --rules "$WORK/bad1.json"
printf '[{"host": "a.test",\n  "chain": "modern"\n' > "$WORK/bad2.json"
expect_start_error "malformed rules" "bad2.json: line 3" --rules "$WORK/bad2.json"
expect_start_error "missing rules" "No such file" --rules "$WORK/none.json"
printf '{"profiles": {"modern": {"issuer": "nobody", "send": []}}}' > "$WORK/p.json"
expect_start_error "bad profiles file" "profile 'modern': \"issuer\"" \
  --profiles "$WORK/p.json"
say "ok"
