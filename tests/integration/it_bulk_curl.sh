#!/usr/bin/env bash
# 200 MiB relayed byte-exact in both directions, over plain HTTP and through
# a CONNECT tunnel to a TLS origin (sha256 compared).
. "$(dirname "$0")/lib.sh"
need curl jq openssl

make_origin_pki
head -c $((200 * 1024 * 1024)) /dev/urandom > "$WORK/big.bin"
want=$(sha256sum < "$WORK/big.bin" | cut -d' ' -f1)
start_origin --root "$WORK"
PLAIN=$ORIGIN_PORT
start_origin --tls --root "$WORK"
TLS=$ORIGIN_PORT
start_proxy

got=$(curl -sS -x "$PROXY_URL" "http://127.0.0.1:$PLAIN/file/big.bin" |
  sha256sum | cut -d' ' -f1)
assert_eq "$got" "$want" "plain download sha256"
got=$(curl -sS -x "$PROXY_URL" -T "$WORK/big.bin" \
  "http://127.0.0.1:$PLAIN/upload" | jq -r .sha256)
assert_eq "$got" "$want" "plain upload sha256"
got=$(curl -sS --cacert "$ORIGIN_CA" -x "$PROXY_URL" \
  "https://127.0.0.1:$TLS/file/big.bin" | sha256sum | cut -d' ' -f1)
assert_eq "$got" "$want" "tunnel download sha256"
got=$(curl -sS --cacert "$ORIGIN_CA" -x "$PROXY_URL" -T "$WORK/big.bin" \
  "https://127.0.0.1:$TLS/upload" | jq -r .sha256)
assert_eq "$got" "$want" "tunnel upload sha256"

expect_event '.event == "request" and .bytes_to_client == 209715200'
expect_event '.event == "request" and .bytes_from_client == 209715200'
expect_event '.event == "close" and .bytes_from_upstream > 209715200 and
  .bytes_to_client > 209715200' "tunnel close with byte counts"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs
say "ok"
