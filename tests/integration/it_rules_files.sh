#!/bin/bash
# A rule's file path (upstream_client_cert) must name a regular file:
# a FIFO, /dev/zero, a directory, a missing file and a file without PEM
# each get the same 400, the control API keeps answering, and SIGTERM
# still stops the proxy. A FIFO used to block the control thread for good.
. "$(dirname "$0")/lib.sh"
need curl jq

CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
start_proxy --control "127.0.0.1:$CTL_PORT"
# A proxy that no longer heeds SIGTERM must not hang the cleanup.
trap 'kill -KILL "$PROXY_PID" 2>/dev/null; cleanup' EXIT

mkfifo "$WORK/fifo"
mkdir "$WORK/dir"
echo "not a certificate" > "$WORK/junk.pem"
first=
for p in "$WORK/fifo" /dev/zero "$WORK/dir" "$WORK/missing.pem" \
         "$WORK/junk.pem"; do
  code=$(curl -sS -m 5 -o "$WORK/body" -w '%{http_code}' -X PUT \
    "$CTL/rules/a.test" \
    -d "{\"chain\": \"modern\", \"upstream_client_cert\": \"$p\"}") ||
    fail "PUT with $p: no answer within 5 s"
  assert_eq "$code" 400 "PUT with $p"
  msg=$(jq -r .error "$WORK/body") || fail "PUT with $p: body is not JSON"
  assert_contains "$msg" "not a readable PEM file" "PUT with $p"
  case $msg in *"$WORK"* | *zero*) fail "the message names the path: $msg" ;; esac
  [ -z "$first" ] && first=$msg
  assert_eq "$msg" "$first" "the message for $p"
  curl -sSf -m 5 -o /dev/null "$CTL/healthz" || fail "/healthz after $p"
done
say "each refused with: $first"

kill -TERM "$PROXY_PID"
for i in $(seq 1 100); do
  kill -0 "$PROXY_PID" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$PROXY_PID" 2>/dev/null && fail "SIGTERM did not stop the proxy within 10 s"
wait "$PROXY_PID"
assert_eq "$?" 0 "proxy exit status"
say "ok"
