#!/bin/bash
# GET /proxy.pac evaluated by a real PAC engine (Debian's pacparser, the
# library behind several desktop proxy stacks): hosts the rules select go
# to chainproxy, --pac-direct and every other host DIRECT, ?all=1 sends
# the rest too; a rule added at run time shows up in the next PAC; with a
# control token the PAC needs ?token=; and a client that follows the PAC
# answer reaches the origin through chainproxy.
. "$(dirname "$0")/lib.sh"
need curl jq python3
# Debian's module is for Debian's python3 (a developer's PATH may hold
# another one first).
PY=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import pacparser' 2> /dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || need pacparser-for-python3

start_origin --tls
printf '%s\n' '[{"host": "*.corp.test", "chain": "legacy"},' \
  ' {"host": "API.test", "port": 8443, "latency": 5}]' > "$WORK/rules.json"
CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
TOKEN=pac-test-token-123
start_proxy --upstream-ca "$ORIGIN_CA" --rules "$WORK/rules.json" \
  --control "127.0.0.1:$CTL_PORT" --control-token "$TOKEN" \
  --pac-direct '*.intranet.corp.test'
wait_port "$CTL_PORT"
WANT="PROXY 127.0.0.1:$PROXY_PORT"

code=$(curl -s -o /dev/null -w '%{http_code}' "$CTL/proxy.pac")
assert_eq "$code" 401 "the PAC without the token"
curl -sf -o "$WORK/p.pac" -D "$WORK/p.hdr" "$CTL/proxy.pac?token=$TOKEN" ||
  fail "GET /proxy.pac?token="
assert_contains "$(cat "$WORK/p.hdr")" "application/x-ns-proxy-autoconfig" \
  "the PAC's content type"
printf '%s\n' 'import sys, pacparser' 'pacparser.init()' \
  'pacparser.parse_pac_file(sys.argv[1])' \
  'for url in sys.argv[2:]:' \
  '    print(pacparser.find_proxy(url, url.split("/")[2].split(":")[0]))' \
  'pacparser.cleanup()' > "$WORK/eval.py"
pac() { "$PY" "$WORK/eval.py" "$@"; }
out=$(pac "$WORK/p.pac" https://a.corp.test/ https://example.org/ \
  https://x.intranet.corp.test/ https://api.test:8443/v1 https://API.TEST/)
assert_eq "$out" "$WANT
DIRECT
DIRECT
$WANT
$WANT" "pacparser's answers"

curl -sf -o "$WORK/all.pac" -H "Authorization: Bearer $TOKEN" \
  "$CTL/proxy.pac?all=1" || fail "GET /proxy.pac?all=1"
out=$(pac "$WORK/all.pac" https://example.org/ https://x.intranet.corp.test/)
assert_eq "$out" "$WANT
DIRECT" "?all=1: everything but --pac-direct"

# A rule added at run time is in the next PAC.
curl -sf -X PUT -H "Authorization: Bearer $TOKEN" "$CTL/rules/localhost" \
  -d '{"chain": "modern"}' > /dev/null || fail "PUT /rules/localhost"
curl -sf -o "$WORK/p2.pac" "$CTL/proxy.pac?token=$TOKEN" || fail "PAC again"
assert_eq "$(pac "$WORK/p2.pac" "https://localhost:$ORIGIN_PORT/")" "$WANT" \
  "the new rule's host"

# Follow the PAC as a desktop stack would: its answer is the proxy used.
p=$(pac "$WORK/p2.pac" "https://localhost:$ORIGIN_PORT/hello")
out=$(curl -sS --max-time 20 --cacert "$ROOT" -x "http://${p#PROXY }" \
  "https://localhost:$ORIGIN_PORT/hello") || fail "through the PAC's proxy"
assert_eq "$out" "hello from origin" "body through the PAC's proxy"
expect_event 'select(.event == "client_handshake" and .accepted == true)' \
  "the request went through chainproxy"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok"
