#!/bin/bash
# The control API answers only to itself (docs/security.md): a Host that
# does not name the listener gets 421 (DNS rebinding), --control-host
# admits a name, a foreign Origin is refused with 403 except on GET
# /healthz, /proxy.pac is served nosniff; the token comes from
# --control-token-file (a private regular file) or
# CHAINPROXY_CONTROL_TOKEN; off loopback without a token the start is
# refused.
. "$(dirname "$0")/lib.sh"
need curl jq

CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
start_proxy --control "127.0.0.1:$CTL_PORT" --control-host lab.internal
code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }

assert_eq "$(code -H "Host: evil.example:$CTL_PORT" "$CTL/rules")" 421 \
  "Host: evil.example"
jq -e '.error | test("does not name this control API")' "$WORK/body" \
  > /dev/null || fail "the 421 body: $(cat "$WORK/body")"
assert_eq "$(code -H "Host: evil.example:$CTL_PORT" "$CTL/healthz")" 421 \
  "Host: evil.example on /healthz"
assert_eq "$(code -X PUT -H "Host: evil.example:$CTL_PORT" \
  -d '{"upstream_proxy": "http://127.0.0.1:9"}' "$CTL/rules/*")" 421 \
  "a PUT with a foreign Host"
n=$(curl -sf "$CTL/rules" | jq '.rules | length')
assert_eq "$n" 0 "no rule was added"
assert_eq "$(code -H "Host: localhost:$CTL_PORT" "$CTL/rules")" 200 \
  "Host: localhost:PORT"
assert_eq "$(code -H "Host: localhost" "$CTL/rules")" 200 "Host: localhost"
assert_eq "$(code -H "Host: [::1]:$CTL_PORT" "$CTL/rules")" 200 "Host: [::1]"
assert_eq "$(code -H "Host: localhost:1" "$CTL/rules")" 421 "another port"
assert_eq "$(code -H "Host: lab.internal:$CTL_PORT" "$CTL/rules")" 200 \
  "--control-host lab.internal"
assert_eq "$(code -H "Host: lab.internal.evil:$CTL_PORT" "$CTL/rules")" 421 \
  "a longer name"
# HTTP/1.0 without Host on a loopback listener.
resp=$(printf 'GET /rules HTTP/1.0\r\n\r\n' |
  python3 -c 'import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
print(s.recv(100).split(b"\r\n")[0].decode())' "$CTL_PORT")
assert_contains "$resp" "200" "no Host on loopback"

# Origin: foreign refused, own accepted, /healthz open.
assert_eq "$(code -H "Origin: http://evil.example" "$CTL/rules")" 403 \
  "a foreign Origin"
jq -e '.error | test("Origin")' "$WORK/body" > /dev/null ||
  fail "the 403 body: $(cat "$WORK/body")"
assert_eq "$(code -X PUT -H "Origin: http://127.0.0.1:$((CTL_PORT + 1))" \
  -d '{"chain": "legacy"}' "$CTL/rules/a.test")" 403 "another port's Origin"
assert_eq "$(code -H "Origin: null" "$CTL/events")" 403 "Origin: null"
assert_eq "$(code -H "Origin: http://evil.example" "$CTL/healthz")" 200 \
  "/healthz from any origin"
assert_eq "$(code -X PUT -H "Origin: http://127.0.0.1:$CTL_PORT" \
  -d '{"chain": "legacy"}' "$CTL/rules/a.test")" 200 "the API's own Origin"
assert_eq "$(code -H "Sec-Fetch-Site: cross-site" "$CTL/proxy.pac")" 403 \
  "Sec-Fetch-Site: cross-site"

# The PAC: its own type, never sniffed as a script.
curl -sf -D "$WORK/pac.hdr" -o /dev/null "$CTL/proxy.pac" || fail "GET pac"
assert_contains "$(cat "$WORK/pac.hdr")" \
  "Content-Type: application/x-ns-proxy-autoconfig" "the PAC's type"
assert_contains "$(cat "$WORK/pac.hdr")" "X-Content-Type-Options: nosniff" \
  "the PAC is nosniff"
assert_eq "$(code -H "Host: evil.example" "$CTL/proxy.pac")" 421 \
  "the PAC under a foreign Host"
stop_proxy

# Tokens: from a file, from the environment.
TOKEN=file-token-12345
printf '%s\n' "$TOKEN" > "$WORK/token"
chmod 600 "$WORK/token"
CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
start_proxy --control "127.0.0.1:$CTL_PORT" --control-token-file "$WORK/token"
assert_eq "$(code "$CTL/rules")" 401 "no token"
assert_eq "$(code -H "Authorization: Bearer $TOKEN" "$CTL/rules")" 200 \
  "the file's token (newline stripped)"
stop_proxy
grep -q "control-token is visible" "$PROXY_LOG" &&
  fail "a token from a file was warned of as if on the command line"
# On the command line it works, with a warning: ps shows it to everyone.
CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
start_proxy --control "127.0.0.1:$CTL_PORT" --control-token argv-token-123
assert_eq "$(code -H "Authorization: Bearer argv-token-123" "$CTL/rules")" \
  200 "--control-token"
stop_proxy
grep -q -- "--control-token is visible to every local user" "$PROXY_LOG" ||
  fail "no warning for --control-token on the command line"
CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
CHAINPROXY_CONTROL_TOKEN=env-token-6789 start_proxy \
  --control "127.0.0.1:$CTL_PORT"
assert_eq "$(code "$CTL/rules")" 401 "no token (env)"
assert_eq "$(code -H "Authorization: Bearer env-token-6789" "$CTL/rules")" \
  200 "CHAINPROXY_CONTROL_TOKEN"
stop_proxy

# Bad token files and an exposed control API: refused at start.
refused() { # WANT DESCRIPTION ARGS...
  local want=$1 what=$2 rc=0 err
  shift 2
  err=$(timeout 10 "$CP_BIN" --listen "127.0.0.1:$(free_port)" \
    --ca-dir "$WORK/ca" "$@" 2>&1 > /dev/null) || rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "$what: started (rc $rc)"
  assert_contains "$err" "$want" "$what: the message"
}
chmod 644 "$WORK/token"
refused "chmod 600" "a token file others can read" \
  --control "127.0.0.1:$(free_port)" --control-token-file "$WORK/token"
mkfifo "$WORK/fifo"
refused "not a regular file" "a FIFO as token file" \
  --control "127.0.0.1:$(free_port)" --control-token-file "$WORK/fifo"
refused "No such file" "a missing token file" \
  --control "127.0.0.1:$(free_port)" --control-token-file "$WORK/none"
refused "refusing to serve the control API on 0.0.0.0" \
  "the control API on 0.0.0.0 without a token" \
  --control "0.0.0.0:$(free_port)"
say "ok"
