#!/bin/bash
# What a corporate network does to one host, switched per rule through the
# control API as a QA suite would, each observed from a real client: a
# web filter's block page (CONNECT and plain HTTP, the default page and a
# custom one), proxy authentication for one host (curl, Python, Node), an
# SNI filter's reset, a reset after a budget of bytes (curl and Python),
# latency and bandwidth (curl's own timing, lower bounds only: a loaded
# machine can only add time), a CONNECT never answered, the intermediate
# stripped, TLS capped at 1.1. Each fault is in a `fault` event and in the
# close event of its connection.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 node

start_origin --tls
OP=$ORIGIN_PORT
start_origin
HP=$ORIGIN_PORT
cat > "$WORK/rules.json" <<EOF
[{"host": "blocked.test", "block": true},
 {"host": "filtered.test", "block": {"status": 451,
   "page": "<html><body>Corp policy: not for work</body></html>"}}]
EOF
CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
start_proxy --upstream-ca "$ORIGIN_CA" --rules "$WORK/rules.json" \
  --control "127.0.0.1:$CTL_PORT"
wait_port "$CTL_PORT"
pc() { curl -sS --max-time 20 --cacert "$ROOT" -x "$PROXY_URL" "$@"; }
rule() { # JSON: the rule for localhost, as a QA script switches it
  curl -sf -X PUT "$CTL/rules/localhost" -d "$1" > /dev/null ||
    fail "PUT /rules/localhost $1"
}
fault_seen() { # FAULT: a fault event and a close event that lists it
  expect_event "select(.event == \"fault\" and .fault == \"$1\")" "fault $1"
  expect_event "select(.event == \"close\" and
    ((.faults // []) | index(\"$1\")))" "close event listing $1"
}

# block: the default page (403) for plain HTTP, the CONNECT refused, and
# a rule's own status and page.
out=$(pc -i "http://blocked.test/")
assert_contains "$out" "HTTP/1.1 403 Forbidden" "block status"
assert_contains "$out" "text/html" "block page type"
assert_contains "$out" "Access to blocked.test is blocked" "default block page"
out=$(pc "https://blocked.test/" 2>&1) && fail "a blocked CONNECT passed"
assert_contains "$out" "CONNECT tunnel failed, response 403" "curl on CONNECT"
out=$(pc -w '%{http_code}' "http://filtered.test/")
assert_contains "$out" "451" "custom block status"
assert_contains "$out" "Corp policy: not for work" "custom block page"
fault_seen block

# auth for one host: 407 with Proxy-Authenticate, then success with the
# credentials; other hosts need none. The event names the user only.
rule '{"auth": "qa:pw"}'
out=$(pc -o /dev/null "https://localhost:$OP/hello" 2>&1) &&
  fail "no credentials passed"
assert_contains "$out" "response 407" "curl without credentials"
assert_eq "$(pc -U qa:pw -o /dev/null -w '%{http_code}' \
  "https://localhost:$OP/hello")" 200 "curl with credentials"
assert_eq "$(pc -o /dev/null -w '%{http_code}' \
  "https://127.0.0.1:$OP/hello")" 200 "another host needs none"
expect_event 'select(.event == "connect" and .user == "qa")' "user in event"
grep -q '"pw"\|qa:pw' "$EVENTS" && fail "the password reached the events"
fault_seen auth
cat > "$WORK/auth.py" <<'PY'
import ssl, sys, urllib.request, urllib.error
proxy, url, ca = sys.argv[1:4]
def get(p):
    h = urllib.request.ProxyHandler({"http": p, "https": p})
    ctx = ssl.create_default_context(cafile=ca)
    o = urllib.request.build_opener(h, urllib.request.HTTPSHandler(context=ctx))
    try:
        return str(o.open(url, timeout=20).status)
    except urllib.error.HTTPError as e:
        return str(e.code)
    except urllib.error.URLError as e:
        return str(e.reason)
print(get(proxy))
print(get(proxy.replace("http://", "http://qa:pw@")))
PY
out=$(python3 "$WORK/auth.py" "$PROXY_URL" "https://localhost:$OP/hello" "$ROOT")
assert_eq "$out" "Tunnel connection failed: 407 Proxy Authentication Required
200" "Python https: 407, then 200 with credentials"
out=$(python3 "$WORK/auth.py" "$PROXY_URL" "http://localhost:$HP/hello" "$ROOT")
assert_eq "$out" "407
200" "Python http: 407, then 200 with credentials"
cat > "$WORK/auth.js" <<'JS'
// CONNECT by hand (Node has no proxy support of its own), then TLS.
const http = require("http"), tls = require("tls"), fs = require("fs");
const [port, target, ca, cred] = process.argv.slice(2);
const headers = cred ? {"Proxy-Authorization":
  "Basic " + Buffer.from(cred).toString("base64")} : {};
http.request({host: "127.0.0.1", port, method: "CONNECT", path: target,
  headers}).on("connect", (res, socket) => {
  if (res.statusCode !== 200) {
    console.log(res.statusCode, res.headers["proxy-authenticate"]);
    socket.destroy();
    return;
  }
  const s = tls.connect({socket, servername: "localhost",
                         ca: fs.readFileSync(ca)}, () => {
    s.write("GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  });
  let body = "";
  s.on("data", (d) => { body += d; });
  s.on("end", () => console.log(body.split("\r\n")[0]));
}).on("error", (e) => console.log("error", e.message)).end();
JS
out=$(node "$WORK/auth.js" "$PROXY_PORT" "localhost:$OP" "$ROOT")
assert_eq "$out" '407 Basic realm="chainproxy"' "Node without credentials"
out=$(node "$WORK/auth.js" "$PROXY_PORT" "localhost:$OP" "$ROOT" qa:pw)
assert_eq "$out" "HTTP/1.1 200 OK" "Node with credentials"

# sni_block: the handshake is reset after the ClientHello.
rule '{"sni_block": true}'
out=$(pc -o /dev/null "https://localhost:$OP/hello" 2>&1)
assert_eq "$?" 35 "curl's exit after an SNI filter's reset"
assert_contains "$out" "Connection reset by peer" "curl's error"
cat > "$WORK/sni.py" <<'PY'
import http.client, ssl, sys
proxy_port, port, ca = sys.argv[1:4]
c = http.client.HTTPSConnection("127.0.0.1", int(proxy_port), timeout=20,
    context=ssl.create_default_context(cafile=ca))
c.set_tunnel("localhost", int(port))
try:
    c.request("GET", "/hello")
    print("no reset")
except OSError as e:  # raised by the handshake, after the ClientHello
    print(type(e).__name__, e.errno)
PY
assert_eq "$(python3 "$WORK/sni.py" "$PROXY_PORT" "$OP" "$ROOT")" \
  "ConnectionResetError 104" "Python's error for an SNI filter's reset"
fault_seen sni_block

# reset_after_bytes: cut mid-download, with a TCP reset.
rule '{"reset_after_bytes": 20000}'
out=$(pc -o /dev/null "https://localhost:$OP/bytes/1000000" 2>&1)
assert_eq "$?" 56 "curl's exit after a reset mid-body"
assert_contains "$out" "Connection reset by peer" "curl's error"
cat > "$WORK/reset.py" <<'PY'
import http.client, ssl, sys
proxy_port, port, ca = sys.argv[1:4]
c = http.client.HTTPSConnection("127.0.0.1", int(proxy_port), timeout=20,
    context=ssl.create_default_context(cafile=ca))
c.set_tunnel("localhost", int(port))
try:
    c.request("GET", "/bytes/1000000")
    body = c.getresponse().read()
    print("no reset", len(body))
except ConnectionResetError as e:  # the RST before the body was read
    print("reset:", type(e).__name__, e.errno)
except http.client.IncompleteRead as e:  # read part of it, then the RST
    print("reset:", type(e).__name__)
PY
for i in 1 2 3; do
  out=$(python3 "$WORK/reset.py" "$PROXY_PORT" "$OP" "$ROOT" 2>&1)
  case $out in
    "reset: ConnectionResetError 104" | "reset: IncompleteRead") ;;
    *) fail "Python after the reset: $out" ;;
  esac
  say "python: $out"
done
fault_seen reset_after_bytes
expect_event 'select(.event == "close" and .reason == "fault_reset" and
  .bytes_to_client == 20000)' "exactly the budget went to the client"

# latency: 300 ms each way; a TLS request through a proxy crosses the
# path at least four times (CONNECT, handshake, request, response).
rule '{"latency": 300, "jitter": 20}'
t=$(pc -o /dev/null -w '%{time_total}' "https://localhost:$OP/hello") ||
  fail "with latency"
python3 -c "import sys; sys.exit(0 if float('$t') >= 1.1 else 1)" ||
  fail "300 ms of latency each way, yet the request took $t s"
fault_seen latency

# bandwidth: 200 KB/s each way: 500 KB take 2.5 s at least (lower bound
# 2.0 s), and curl never measures more than the cap.
rule '{"bandwidth": 200}'
out=$(pc -o /dev/null -w '%{time_total} %{speed_download} %{size_download}' \
  "https://localhost:$OP/bytes/500000") || fail "with bandwidth"
read -r t speed size <<< "$out"
assert_eq "$size" 500000 "the whole body arrived"
python3 -c "import sys; sys.exit(0 if $t >= 2.0 and $speed <= 230000 else 1)" ||
  fail "200 KB/s cap, yet 500000 bytes in $t s ($speed B/s)"
fault_seen bandwidth

# timeout: the CONNECT is accepted and never answered.
rule '{"timeout": true}'
out=$(pc --max-time 2 -o /dev/null "https://localhost:$OP/hello" 2>&1)
assert_eq "$?" 28 "curl's exit when the proxy never answers"
fault_seen timeout
expect_event 'select(.event == "close" and .reason == "fault_timeout")' \
  "the held connection closed when the client gave up"

# strip_intermediate: the chain served lacks its intermediate.
rule '{"strip_intermediate": true}'
out=$(pc -o /dev/null "https://localhost:$OP/hello" 2>&1)
assert_eq "$?" 60 "curl's exit for a chain without its intermediate"
assert_contains "$out" "unable to get local issuer certificate" "curl's error"
expect_event 'select(.event == "client_handshake" and .profile == "incomplete")' \
  "the incomplete profile served"
fault_seen strip_intermediate

# downgrade_tls: clients are offered TLS 1.1 at most.
rule '{"downgrade_tls": "1.1"}'
pc -o /dev/null "https://localhost:$OP/hello" 2>/dev/null &&
  fail "a modern client accepted TLS 1.1"
out=$(echo | openssl s_client -proxy "127.0.0.1:$PROXY_PORT" \
  -connect "localhost:$OP" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' 2>&1)
assert_contains "$out" "Protocol  : TLSv1.1" "s_client got TLS 1.1"
fault_seen downgrade_tls

# Back to normal, and the API shows what it set (no password).
rule '{"auth": "qa:pw", "latency": 10}'
out=$(curl -sf "$CTL/rules")
assert_eq "$(jq -c '.rules[] | select(.host == "localhost") |
  [.auth_user, .latency]' <<< "$out")" '["qa",10]' "rule in the API"
assert_eq "$(jq -r '.rules[] | select(.host == "filtered.test") |
  .block.status' <<< "$out")" 451 "block rule in the API"
grep -q '"qa:pw"\|:pw' <<< "$out" && fail "the API showed a password"
curl -sf -X DELETE "$CTL/rules/localhost" > /dev/null || fail "DELETE rule"
assert_eq "$(pc -o /dev/null -w '%{http_code}' "https://localhost:$OP/hello")" \
  200 "no rule, no fault"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status (sanitizers report at exit)"
check_connect_close_pairs
say "ok"
