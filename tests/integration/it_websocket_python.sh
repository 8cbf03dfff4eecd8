#!/bin/bash
# WebSocket through chainproxy: wss:// through an intercepted CONNECT
# (Python websockets and Node ws) and ws:// in absolute form (a raw RFC
# 6455 client). The Upgrade is passed on, the 101 relayed, then bytes both
# ways with the tunnel idle timeout; messages of 1 byte to 1 MiB, the
# origin speaking first, and a clean close handshake. The events show the
# 101 and the upgraded stream's byte counts.
. "$(dirname "$0")/lib.sh"
need jq node
# Debian's python3-websockets belongs to Debian's python3.
PY=/usr/bin/python3
$PY -c 'import websockets' 2>/dev/null || {
  [ "${CI:-}" = true ] && fail "python3-websockets is not installed"
  skip "python3-websockets is not installed"
}
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
node -e 'require("ws")' 2>/dev/null || {
  [ "${CI:-}" = true ] && fail "node-ws is not installed"
  skip "node-ws is not installed"
}

# start_ws_origin VAR [--tls]: sets VAR to the port. Not in a command
# substitution: the origin's PID must reach CP_PIDS so cleanup stops it.
start_ws_origin() {
  local -n port_var=$1
  local out=$WORK/ws-origin.$RANDOM args=()
  if [ "${2:-}" = --tls ]; then
    args=(--cert "$ORIGIN_CERT" --key "$ORIGIN_KEY")
  fi
  $PY "$CP_IT/ws_origin.py" "${args[@]}" > "$out" 2>&1 &
  CP_PIDS+=($!)
  wait_for "the WebSocket origin" grep -q '^ready ' "$out"
  port_var=$(awk '/^ready /{print $2}' "$out")
}

make_origin_pki
start_ws_origin WSS --tls
start_ws_origin WS
start_proxy --upstream-ca "$ORIGIN_CA"

say "wss:// with Python websockets through an intercepted CONNECT"
$PY "$CP_IT/clients/ws_client.py" wss "$PROXY_PORT" localhost "$WSS" "$ROOT" ||
  fail "Python websockets over wss://"
say "wss:// with Node ws through an intercepted CONNECT"
node "$CP_IT/clients/ws_client.js" "$PROXY_PORT" localhost "$WSS" "$ROOT" ||
  fail "Node ws over wss://"
say "ws:// in absolute form with a raw client"
$PY "$CP_IT/clients/ws_client.py" ws "$PROXY_PORT" "$WS" ||
  fail "ws:// absolute form"

expect_event ".event == \"request\" and .status == 101 and
  .outcome == \"upgrade\" and .url == \"https://localhost:$WSS/echo\"" \
  "the wss:// handshake's request event"
expect_event ".event == \"request\" and .status == 101 and
  .outcome == \"upgrade\" and .url == \"http://127.0.0.1:$WS/echo\"" \
  "the ws:// handshake's request event"
# Both directions carried 2 x (1+125+126+65535+65536+1 MiB) of payload and
# more, counted on the upgraded stream.
n=$(count_events '.event == "close" and .upgraded == true and
  .upgraded_bytes_from_client > 1179000 and
  .upgraded_bytes_to_client > 1179000')
[ "$n" -ge 3 ] || fail "close events with upgraded byte counts: $n of 3"

# h2c is refused cleanly: the origin gets a plain request and answers it.
start_origin
out=$(printf 'GET http://127.0.0.1:%s/hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nConnection: close\r\n\r\n' \
  "$ORIGIN_PORT" | python3 "$CP_IT/rawhttp.py" "$PROXY_PORT" --timeout 5)
assert_contains "$out" "HTTP/1.1 200" "h2c upgrade ignored, HTTP/1.1 answer"
assert_contains "$out" "hello from origin" "h2c: the body"
case $out in *"101 Switching"*) fail "h2c was switched" ;; esac

stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs
say "ok"
