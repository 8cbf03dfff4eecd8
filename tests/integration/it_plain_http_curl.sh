#!/usr/bin/env bash
# Plain http:// through the proxy with curl: GET, HEAD, POST (length and
# chunked), keep-alive, chunked and close-delimited responses, hop-by-hop
# fields removed and Via added; one connect and one close event per
# connection.
. "$(dirname "$0")/lib.sh"
need curl jq

start_origin
start_proxy
O=http://127.0.0.1:$ORIGIN_PORT

body=$(curl -sS -x "$PROXY_URL" "$O/hello") || fail "GET failed"
assert_eq "$body" "hello from origin" "GET body"

hdrs=$(curl -sS -D - -o /dev/null -x "$PROXY_URL" \
  -H 'Proxy-Connection: keep-alive' -H 'Connection: X-Secret' \
  -H 'X-Secret: 1' "$O/hello?q=1") || fail "GET with headers failed"
assert_contains "$hdrs" "X-Seen-Via: 1.1 chainproxy" "origin's view"
assert_contains "$hdrs" "X-Seen-Proxy-Connection: " "origin's view"
assert_contains "$hdrs" "X-Seen-Path: /hello?q=1" "origin-form path"
assert_contains "$hdrs" "X-Seen-Host: 127.0.0.1:$ORIGIN_PORT" "Host field"
assert_contains "$hdrs" "Via: 1.1 chainproxy" "response Via"
case $hdrs in *"X-Seen-Proxy-Connection: keep-alive"*)
  fail "Proxy-Connection was forwarded" ;; esac

code=$(curl -sS -I -o /dev/null -w '%{http_code}' -x "$PROXY_URL" \
  "$O/bytes/1000") || fail "HEAD failed"
assert_eq "$code" 200 "HEAD status"

head -c 300000 /dev/urandom > "$WORK/post.bin"
want=$(sha256sum < "$WORK/post.bin" | cut -d' ' -f1)
got=$(curl -sS -x "$PROXY_URL" --data-binary "@$WORK/post.bin" \
  "$O/upload" | jq -r .sha256) || fail "POST failed"
assert_eq "$got" "$want" "POST body sha256"
got=$(curl -sS -x "$PROXY_URL" -H 'Transfer-Encoding: chunked' \
  --data-binary "@$WORK/post.bin" "$O/upload" | jq -r .sha256) ||
  fail "chunked POST failed"
assert_eq "$got" "$want" "chunked POST body sha256"

# Chunked and close-delimited responses arrive whole.
n=$(curl -sS -x "$PROXY_URL" "$O/chunked/200000" | wc -c)
assert_eq "$n" 200000 "chunked response length"
n=$(curl -sS -x "$PROXY_URL" "$O/close/150000" | wc -c)
assert_eq "$n" 150000 "close-delimited response length"
n=$(curl -sS -0 -x "$PROXY_URL" "$O/close/150000" | wc -c)
assert_eq "$n" 150000 "close-delimited response to HTTP/1.0"

# Keep-alive: three requests, one client connection, one upstream reuse.
before=$(count_events '.event == "connect"')
out=$(curl -sS -v -x "$PROXY_URL" "$O/hello" "$O/bytes/10" "$O/chunked/10" \
  2>&1 >/dev/null)
assert_contains "$out" "Re-using existing connection" "curl -v"
after=$(count_events '.event == "connect"')
assert_eq $((after - before)) 1 "connections for three keep-alive requests"
expect_event '.event == "close" and .requests == 3' "a close with 3 requests"

expect_event '.event == "request" and .path == "/hello?q=1" and .status == 200
  and .method == "GET"' "request event"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs
say "ok"
