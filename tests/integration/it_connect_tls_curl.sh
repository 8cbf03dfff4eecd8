#!/usr/bin/env bash
# CONNECT tunnels to a TLS origin, with curl verifying the origin's own
# test CA: by IPv4 literal, by name, and to an IPv6 literal.
. "$(dirname "$0")/lib.sh"
need curl jq openssl

make_origin_pki
start_origin --tls
start_proxy
V4=$ORIGIN_PORT
start_origin --tls --host ::1
V6=$ORIGIN_PORT

body=$(curl -sS --cacert "$ORIGIN_CA" -x "$PROXY_URL" \
  "https://127.0.0.1:$V4/hello") || fail "CONNECT to 127.0.0.1 failed"
assert_eq "$body" "hello from origin" "body over the tunnel"
body=$(HTTPS_PROXY=$PROXY_URL curl -sS --cacert "$ORIGIN_CA" \
  "https://localhost:$V4/hello") || fail "CONNECT by name failed"
assert_eq "$body" "hello from origin" "body by name"
body=$(curl -sS --cacert "$ORIGIN_CA" -x "$PROXY_URL" \
  "https://[::1]:$V6/hello") || fail "CONNECT to [::1] failed"
assert_eq "$body" "hello from origin" "body over IPv6"

# Keep-alive inside one tunnel.
out=$(curl -sS -v --cacert "$ORIGIN_CA" -x "$PROXY_URL" \
  "https://127.0.0.1:$V4/hello" "https://127.0.0.1:$V4/bytes/5" 2>&1)
assert_contains "$out" "Re-using existing connection" "curl -v"

# The origin's own certificate arrives untouched through a blind tunnel.
issuer=$( (printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\n\r\n' "$V4"; sleep 1) |
  openssl s_client -proxy "127.0.0.1:$PROXY_PORT" -connect "127.0.0.1:$V4" \
  -CAfile "$ORIGIN_CA" </dev/null 2>/dev/null | grep '^issuer=' | head -1)
assert_contains "$issuer" "cp test origin CA" "certificate issuer"

expect_event ".event == \"connect\" and .method == \"CONNECT\" and
  .host == \"::1\" and .port == $V6" "CONNECT event for ::1"
expect_event ".event == \"close\" and .host == \"localhost\" and
  .bytes_from_upstream > 0" "close event with byte counts"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs
say "ok"
