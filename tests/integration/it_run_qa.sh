#!/bin/bash
# `chainproxy run -- CMD` around real clients (curl, Python's urllib and
# http.client, Node, Go) against a local origin: the legacy profile is
# rejected with the expiry alert by a client that trusts the legacy root
# (--trust legacy: the Datadog Agent 5 situation) and accepted with
# --trust modern; --trust none is rejected as unknown_ca; a blocked
# upstream; a failing expectation exits 1 and its JUnit case carries the
# reason and the event; the JUnit file and the JSON summary parse; CMD's
# status passes through when nothing is expected; SIGINT to the process
# group stops both with no orphan.
. "$(dirname "$0")/lib.sh"
need curl python3 node

start_origin --tls
OP=$ORIGIN_PORT
URL=https://localhost:$OP/hello
RUN=("$CP_BIN" run --upstream-ca "$ORIGIN_CA")
NOJ=("$CP_BIN" run --no-java --upstream-ca "$ORIGIN_CA")

# 1. Legacy chain, legacy-only trust: rejected, certificate_expired.
out=$("${NOJ[@]}" --chain legacy --trust legacy \
  --expect "localhost=rejected:certificate_expired" \
  -- curl -sS -o /dev/null "$URL" 2>&1)
assert_eq "$?" 0 "legacy + --trust legacy: the expectation held"
assert_contains "$out" "curl: (60) SSL certificate problem: certificate has expired" \
  "curl's own error"
assert_contains "$out" "PASS localhost=rejected:certificate_expired" "summary"
assert_contains "$out" "command: curl exited with status 60" "CMD's status in the summary"

# 2. The same chain, --trust modern: accepted, for curl, Python and Node.
out=$("${NOJ[@]}" --chain legacy --trust modern --expect "localhost=accepted" \
  -- curl -sS -o /dev/null "$URL" 2>&1) || fail "curl, --trust modern: $out"
cat > "$WORK/get.py" <<'PY'
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode().strip())
PY
out=$("${NOJ[@]}" --chain legacy --expect "localhost=accepted" \
  -- python3 "$WORK/get.py" "$URL" 2>&1) || fail "Python, --trust modern: $out"
assert_contains "$out" "hello from origin" "Python's body"
# requests (its own CA bundle unless REQUESTS_CA_BUNDLE says otherwise).
if python3 -c 'import requests' 2> /dev/null; then
  out=$("${NOJ[@]}" --chain legacy --trust legacy \
    --expect "localhost=rejected:certificate_expired" -- python3 -c \
    'import requests, sys
try:
    requests.get(sys.argv[1], timeout=20)
except requests.exceptions.SSLError as e:
    print("SSLError", "certificate has expired" in str(e))' "$URL" 2>&1) ||
    fail "requests, --trust legacy: $out"
  assert_contains "$out" "SSLError True" "requests' error"
else
  say "python3 has no requests: its case was not run"
fi
cat > "$WORK/get.js" <<'JS'
// Node has no proxy support of its own: CONNECT to HTTPS_PROXY by hand;
// NODE_EXTRA_CA_CERTS (exported by chainproxy run) does the trust.
const http = require("http"), tls = require("tls");
const u = new URL(process.argv[2]), p = new URL(process.env.HTTPS_PROXY);
http.request({host: p.hostname, port: p.port, method: "CONNECT",
              path: u.host}).on("connect", (res, socket) => {
  const s = tls.connect({socket, servername: u.hostname}, () => {
    s.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`);
  });
  let body = "";
  s.on("data", (d) => { body += d; });
  s.on("end", () => console.log(body.split("\r\n")[0]));
  s.on("error", (e) => { console.log("error " + e.code); process.exit(3); });
}).end();
JS
out=$("${NOJ[@]}" --expect "localhost=accepted" -- node "$WORK/get.js" "$URL" 2>&1) ||
  fail "Node: $out"
assert_contains "$out" "HTTP/1.1 200 OK" "Node through chainproxy run"
# Node closes without an alert when it refuses a chain: rejected, alert
# "none"; the cause is the defect of the chain chainproxy served.
out=$("${NOJ[@]}" --chain expired --expect "localhost=rejected:expired_leaf" \
  -- node "$WORK/get.js" "$URL" 2>&1) || fail "Node, expired: $out"
assert_contains "$out" "rejected: alert none, served expired_leaf" \
  "Node's refusal in the summary"
assert_contains "$out" "PASS localhost=rejected:expired_leaf: the client rejected the expired chain (served expired_leaf; alert none)" \
  "Node's expectation, its alert kept"
assert_contains "$out" "error CERT_HAS_EXPIRED" "Node's own error"
# Go sends bad_certificate. Go never proxies localhost from the
# environment (ProxyFromEnvironment): the client names the proxy itself.
if command -v go > /dev/null 2>&1; then
  mkdir -p "$WORK/goget"
  cat > "$WORK/goget/main.go" <<'GO'
package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
)

func main() {
	p, err := url.Parse(os.Getenv("HTTPS_PROXY"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(p)}}
	r, err := c.Get(os.Args[1])
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	fmt.Println(r.Status)
}
GO
  ( cd "$WORK/goget" && GOCACHE=$WORK/gocache GOPATH=$WORK/gopath GO111MODULE=off \
      GOFLAGS= go build -o "$WORK/goget/goget" main.go ) || fail "go build"
  out=$("${NOJ[@]}" --expect "localhost=accepted" -- "$WORK/goget/goget" "$URL" 2>&1) ||
    fail "Go: $out"
  assert_contains "$out" "200 OK" "Go through chainproxy run"
  out=$("${NOJ[@]}" --chain expired --expect "localhost=rejected:expired_leaf" \
    -- "$WORK/goget/goget" "$URL" 2>&1) || fail "Go, expired: $out"
  assert_contains "$out" "rejected: alert bad_certificate, served expired_leaf" \
    "Go's refusal in the summary"
  assert_contains "$out" "certificate has expired" "Go's own error"
  out=$("${NOJ[@]}" --chain expired --expect "localhost=rejected:hostname_mismatch" \
    -- "$WORK/goget/goget" "$URL" 2>&1)
  assert_eq "$?" 1 "Go, expired, another cause expected"
  assert_contains "$out" "FAIL localhost=rejected:hostname_mismatch: the client rejected the expired chain (served expired_leaf; alert bad_certificate), not hostname_mismatch" \
    "another defect does not match"
else
  [ "${CI:-}" = true ] && fail "go is not installed"
  say "go is not installed: its case was not run"
fi

# Java: a trust store and the proxy as system properties through
# JAVA_TOOL_OPTIONS (Java reads neither HTTPS_PROXY nor PEM bundles).
if command -v java > /dev/null && command -v keytool > /dev/null; then
  cat > "$WORK/Get.java" <<'JAVA'
public class Get {
  public static void main(String[] a) throws Exception {
    var c = (javax.net.ssl.HttpsURLConnection) new java.net.URL(a[0]).openConnection();
    c.setConnectTimeout(20000);
    c.setReadTimeout(20000);
    try (var in = c.getInputStream()) {
      System.out.println(new String(in.readAllBytes()).trim());
    } catch (Exception e) {
      System.out.println("error " + e.getClass().getSimpleName());
      System.exit(3);
    }
  }
}
JAVA
  out=$("${RUN[@]}" --expect "localhost=accepted" \
    -- java "$WORK/Get.java" "$URL" 2>&1) || fail "Java: $out"
  assert_contains "$out" "hello from origin" "Java's body"
  assert_contains "$out" "JAVA_TOOL_OPTIONS" "the Java variable in the summary"
else
  [ "${CI:-}" = true ] && fail "java and keytool are not installed"
fi

# 3. --trust none: the app trusts only the system store: unknown_ca.
"${NOJ[@]}" --trust none --expect "localhost=rejected:unknown_ca" \
  -- curl -sS -o /dev/null "$URL" > "$WORK/none.out" 2>&1 ||
  fail "--trust none: $(cat "$WORK/none.out")"

# 4. An upstream chainproxy refuses: not given the origin's CA, it sees a
# leaf whose issuer it cannot find (incomplete_chain).
"$CP_BIN" run --no-java --expect "localhost=blocked:incomplete_chain" \
  -- curl -sS -o /dev/null "$URL" > "$WORK/blocked.out" 2>&1 ||
  fail "blocked: $(cat "$WORK/blocked.out")"

# 5. A failing expectation: exit 1, JUnit and JSON carry why.
out=$("${NOJ[@]}" --chain legacy --trust legacy --expect "localhost=accepted" \
  --expect "other.test=accepted" --expect-no-other-hosts \
  --junit "$WORK/junit.xml" --summary-json "$WORK/summary.json" \
  -- curl -sS -o /dev/null "$URL" 2>&1)
assert_eq "$?" 1 "exit status when an expectation failed"
assert_contains "$out" "FAIL localhost=accepted: the client rejected the legacy chain" "summary"
assert_contains "$out" "FAIL other.test=accepted: no connection to other.test was seen" \
  "an expected host that never connected"
python3 - "$WORK/junit.xml" "$WORK/summary.json" <<'PY' || fail "the reports"
import json, sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot()
assert suite.tag == "testsuite", suite.tag
assert suite.get("tests") == "3" and suite.get("failures") == "2", suite.attrib
cases = {c.get("name"): c for c in suite.findall("testcase")}
f = cases["localhost=accepted"].find("failure")
assert f is not None and "alert certificate_expired" in f.get("message"), f
assert '"event":"client_handshake"' in f.text, f.text
assert cases["other.test=accepted"].find("failure") is not None
assert cases["no other hosts"].find("failure") is None
s = json.load(open(sys.argv[2]))
assert s["exit_status"] == 60 and s["trust"]["mode"] == "legacy", s
assert s["hosts"][0]["client"]["alert"] == "certificate_expired", s["hosts"]
assert [e["ok"] for e in s["expectations"]] == [False, False, True], s
print("reports ok")
PY

# 6. Without expectations, CMD's status is the exit status.
"$CP_BIN" run -- sh -c 'exit 7' 2> /dev/null
assert_eq "$?" 7 "CMD's exit status passed through"
out=$("$CP_BIN" run -- /nonexistent/cmd 2>&1)
assert_eq "$?" 127 "a command that does not exist"
assert_contains "$out" "cannot run /nonexistent/cmd" "why"
out=$("$CP_BIN" run --trust sometimes -- true 2>&1)
assert_eq "$?" 2 "a bad --trust"
out=$("$CP_BIN" run curl 2>&1)
assert_eq "$?" 2 "no '--'"

# 7. Ctrl-C: SIGINT to the process group stops both, nothing left over.
setsid "$CP_BIN" run -- sleep 60 > /dev/null 2> "$WORK/int.err" &
RPID=$!
running() { pgrep -s "$RPID" sleep > /dev/null; }
wait_for "the command under chainproxy run" running
kill -INT -- "-$RPID"
wait "$RPID"
assert_eq "$?" 130 "exit status after SIGINT (128 + 2)"
pgrep -s "$RPID" > /dev/null && fail "a process of the run survived SIGINT"
say "ok"
