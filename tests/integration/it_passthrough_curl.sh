#!/usr/bin/env bash
# --passthrough: CONNECT tunnels that are not intercepted. curl verifies the
# origin's own test CA through them (IPv4 and IPv6 literals), openssl
# s_client sees the origin's own certificate, and a host outside the globs
# (localhost) is still intercepted.
. "$(dirname "$0")/lib.sh"
need curl jq openssl

make_origin_pki
start_origin --tls
V4=$ORIGIN_PORT
start_origin --tls --host ::1
V6=$ORIGIN_PORT
start_proxy --passthrough '127.0.0.*' --passthrough '::1' \
  --upstream-ca "$ORIGIN_CA"

body=$(curl -sS --cacert "$ORIGIN_CA" -x "$PROXY_URL" \
  "https://127.0.0.1:$V4/hello") || fail "passthrough to 127.0.0.1 failed"
assert_eq "$body" "hello from origin" "body over the tunnel"
body=$(curl -sS --cacert "$ORIGIN_CA" -x "$PROXY_URL" \
  "https://[::1]:$V6/hello") || fail "passthrough to [::1] failed"
assert_eq "$body" "hello from origin" "body over IPv6"
out=$(curl -sS -v --cacert "$ORIGIN_CA" -x "$PROXY_URL" \
  "https://127.0.0.1:$V4/hello" "https://127.0.0.1:$V4/bytes/5" 2>&1)
assert_contains "$out" "Re-using existing connection" "curl -v"

issuer=$(openssl s_client -proxy "127.0.0.1:$PROXY_PORT" \
  -connect "127.0.0.1:$V4" -CAfile "$ORIGIN_CA" </dev/null 2>/dev/null |
  grep '^issuer=' | head -1)
assert_contains "$issuer" "cp test origin CA" "passthrough issuer"

# localhost matches no glob: intercepted, so only the proxy's root works.
curl -sS --cacert "$ORIGIN_CA" -x "$PROXY_URL" \
  "https://localhost:$V4/hello" >/dev/null 2>&1 &&
  fail "localhost should have been intercepted"
body=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" \
  "https://localhost:$V4/hello") || fail "intercepted localhost failed"
assert_eq "$body" "hello from origin" "intercepted body"

expect_event ".event == \"connect\" and .host == \"::1\" and .port == $V6
  and .mode == \"tunnel\"" "CONNECT event for ::1"
expect_event '.event == "connect" and .host == "localhost" and
  .mode == "intercept"' "intercepted CONNECT event"
expect_event '.event == "close" and .mode == null and .host == "127.0.0.1"
  and .bytes_from_upstream > 0' "close event with byte counts"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs
say "ok"
