#!/usr/bin/env bash
# Interception with curl and openssl s_client: the client trusts the
# proxy's root and gets the origin's body over keep-alive; the served leaf
# has the requested SAN and is issued by the intermediate; without the root
# curl fails and the client's alert is recorded; an origin the upstream
# store does not trust gets an explained 502 in block mode and 200 in
# ignore mode, with an upstream_verify event either way.
. "$(dirname "$0")/lib.sh"
need curl jq openssl

make_origin_pki
start_origin --tls
P=$ORIGIN_PORT
start_proxy --upstream-ca "$ORIGIN_CA"

body=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" "https://localhost:$P/hello") ||
  fail "intercepted GET failed"
assert_eq "$body" "hello from origin" "body"
out=$(curl -sS -v --cacert "$ROOT" -x "$PROXY_URL" \
  "https://localhost:$P/hello" "https://localhost:$P/chunked/70000" 2>&1 >/dev/null)
assert_contains "$out" "Re-using existing connection" "keep-alive"
assert_contains "$out" "ALPN: server accepted http/1.1" "ALPN"
body=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" "https://127.0.0.1:$P/hello") ||
  fail "intercepted GET to an IP literal failed"
assert_eq "$body" "hello from origin" "body via IP SAN"
got=$(head -c 3000000 /dev/urandom | tee "$WORK/up.bin" |
  curl -sS --cacert "$ROOT" -x "$PROXY_URL" -T - "https://localhost:$P/upload" |
  jq -r .sha256)
assert_eq "$got" "$(sha256sum < "$WORK/up.bin" | cut -d' ' -f1)" "chunked upload"

# The served chain: leaf for the requested name, issued by the intermediate.
openssl s_client -proxy "127.0.0.1:$PROXY_PORT" -connect "localhost:$P" \
  -servername localhost -showcerts -CAfile "$ROOT" -verify_return_error \
  </dev/null > "$WORK/sclient.out" 2>&1 || fail "s_client: $(tail -5 "$WORK/sclient.out")"
assert_contains "$(cat "$WORK/sclient.out")" "Verify return code: 0 (ok)" "s_client"
awk '/BEGIN CERT/,/END CERT/' "$WORK/sclient.out" | awk 'BEGIN{n=0} /BEGIN CERT/{n++} n==1' > "$WORK/leaf.pem"
leaf=$(openssl x509 -in "$WORK/leaf.pem" -noout -ext subjectAltName -issuer)
assert_contains "$leaf" "DNS:localhost" "leaf SAN"
assert_contains "$leaf" "chainproxy Intermediate CA" "leaf issuer"
serial1=$(openssl x509 -in "$WORK/leaf.pem" -noout -serial)

# Without the root: curl's own error, and the alert in the event log.
out=$(curl -sS -x "$PROXY_URL" "https://localhost:$P/hello" 2>&1); rc=$?
assert_eq "$rc" 60 "curl exit status without the root"
assert_contains "$out" "unable to get local issuer certificate" "curl error"
expect_event '.event == "client_handshake" and .accepted == false and
  .alert == "unknown_ca" and .profile == "modern" and (.served | length) == 2'
expect_event '.event == "client_handshake" and .accepted == true and
  .version == "TLSv1.3" and .alpn == "http/1.1" and .sni == "localhost"'
expect_event '.event == "upstream_verify" and .ok == true and
  (.chain | length) >= 1'
expect_event '.event == "request" and .scheme == "https" and
  .path == "/hello" and .status == 200 and
  .url == "https://localhost:'"$P"'/hello"'
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs

# The origin's CA is not in the upstream store (an empty-but-valid bundle:
# the root of an unrelated PKI).
: > "$WORK/events.jsonl"
start_proxy --upstream-ca "$ROOT"
out=$(curl -sS -i --cacert "$ROOT" -x "$PROXY_URL" "https://localhost:$P/hello" 2>&1)
assert_contains "$out" "HTTP/1.1 502 " "block status"
assert_contains "$out" "X-Chainproxy-Error: upstream_verify_failed" "block code"
assert_contains "$out" "upstream certificate verification failed for localhost:$P at depth 0 (CN=localhost): unable to get local issuer certificate" "block body"
assert_contains "$out" "[FAIL] CN=localhost" "marked chain element"
assert_contains "$out" "issuer CN=cp test origin CA" "chain tree"
assert_contains "$out" "cause:  incomplete_chain" "cause in the body"
expect_event '.event == "upstream_verify" and .ok == false and
  .error_depth == 0 and .error_code == 20 and .subject == "CN=localhost"
  and .issuer == "CN=cp test origin CA" and (.sha256 | length) == 64
  and .cause == "incomplete_chain" and (.hint | length) > 20'
stop_proxy

start_proxy --upstream-ca "$ROOT" --upstream-failure ignore
body=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" "https://localhost:$P/hello") ||
  fail "ignore mode failed"
assert_eq "$body" "hello from origin" "ignore mode body"
expect_event '.event == "upstream_verify" and .ok == false and .error_code == 20'
expect_event '.event == "request" and .status == 200 and .scheme == "https"'
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok"
