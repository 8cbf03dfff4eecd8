#!/usr/bin/env bash
# 200 MiB relayed byte-exact in both directions (sha256 compared): over
# plain HTTP, through an intercepted CONNECT (decrypted and re-encrypted),
# and through a passthrough tunnel.
. "$(dirname "$0")/lib.sh"
need curl jq openssl

make_origin_pki
head -c $((200 * 1024 * 1024)) /dev/urandom > "$WORK/big.bin"
want=$(sha256sum < "$WORK/big.bin" | cut -d' ' -f1)
start_origin --root "$WORK"
PLAIN=$ORIGIN_PORT
start_origin --tls --root "$WORK"
TLS=$ORIGIN_PORT
start_proxy --upstream-ca "$ORIGIN_CA" --passthrough localhost

got=$(curl -sS -x "$PROXY_URL" "http://127.0.0.1:$PLAIN/file/big.bin" |
  sha256sum | cut -d' ' -f1)
assert_eq "$got" "$want" "plain download sha256"
got=$(curl -sS -x "$PROXY_URL" -T "$WORK/big.bin" \
  "http://127.0.0.1:$PLAIN/upload" | jq -r .sha256)
assert_eq "$got" "$want" "plain upload sha256"
got=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" \
  "https://127.0.0.1:$TLS/file/big.bin" | sha256sum | cut -d' ' -f1)
assert_eq "$got" "$want" "intercepted download sha256"
got=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" -T "$WORK/big.bin" \
  "https://127.0.0.1:$TLS/upload" | jq -r .sha256)
assert_eq "$got" "$want" "intercepted upload sha256"
got=$(curl -sS --cacert "$ORIGIN_CA" -x "$PROXY_URL" \
  "https://localhost:$TLS/file/big.bin" | sha256sum | cut -d' ' -f1)
assert_eq "$got" "$want" "passthrough download sha256"

expect_event '.event == "request" and .bytes_to_client == 209715200'
expect_event '.event == "request" and .bytes_from_client == 209715200'
expect_event '.event == "request" and .scheme == "https" and
  .bytes_to_client == 209715200' "intercepted download request"
expect_event '.event == "close" and .host == "localhost" and
  .bytes_from_upstream > 209715200 and .bytes_to_client > 209715200' \
  "passthrough close with byte counts"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs
say "ok"
