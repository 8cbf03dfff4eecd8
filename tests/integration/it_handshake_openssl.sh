#!/bin/bash
# TLS failures that are not about the chain, named on the upstream side:
# for each kind of origin (openssl s_server set up to fail one way, an
# HTTP/2-only Node origin, a plain HTTP server, a silent one) the proxy's
# 502 body, its upstream_verify or error event and `chainproxy verify`
# (exit 1) all give the same cause and a hint that says what to change.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 node

make_origin_pki
start_proxy --upstream-ca "$ORIGIN_CA" --connect-timeout 2

declare -A PORT
s_server tls11 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
s_server mtls12 -tls1_2 -Verify 1 -CAfile "$ORIGIN_CA"
s_server mtls13 -tls1_3 -Verify 1 -CAfile "$ORIGIN_CA"
s_server nocipher -tls1_2 -cipher 'ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0'
PORT[plain]=$(free_port)
python3 -m http.server --bind 127.0.0.1 "${PORT[plain]}" > /dev/null 2>&1 &
CP_PIDS+=($!)
wait_port "${PORT[plain]}"
python3 - > "$WORK/silent.port" <<'PY' &
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept())
PY
CP_PIDS+=($!)
PORT[silent]=$(wait_file "$WORK/silent.port")
node "$CP_IT/h2_origin.js" "$ORIGIN_CERT" "$ORIGIN_KEY" > "$WORK/h2.out" 2>&1 &
CP_PIDS+=($!)
wait_for "the h2 origin" grep -q '^ready ' "$WORK/h2.out"
PORT[h2only]=$(awk '/^ready /{print $2}' "$WORK/h2.out")

# check_case NAME CAUSE HINT_WORDS [CURL_ARGS...]
check_case() {
  local name=$1 cause=$2 words=$3 port body json rc
  shift 3
  port=${PORT[$name]}
  body=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" "$@" "https://localhost:$port/" 2>&1)
  assert_contains "$body" "[$cause]" "$name: 502 names the cause"
  assert_contains "$body" "cause:  $cause" "$name: 502 body cause"
  assert_contains "$body" "$words" "$name: the hint"
  expect_event ".port == $port and (.event == \"upstream_verify\" or
    .event == \"error\") and ((.cause // \"\") == \"$cause\" or
    ((.message // \"\") | contains(\"[$cause]\")))" "$name: event"
  json=$("$CP_BIN" verify "localhost:$port" --upstream-ca "$ORIGIN_CA" \
           --connect-timeout 2 --json 2>/dev/null); rc=$?
  if [ "$cause" = alpn_mismatch ]; then
    # verify offers h2 and http/1.1 as browsers do: the handshake works.
    [ "$rc" = 0 ] || [ "$rc" = 4 ] || fail "$name: verify exit status $rc"
  else
    assert_eq "$rc" 1 "$name: verify exit status"
    assert_eq "$(jq -r .cause <<< "$json")" "$cause" "$name: verify cause"
  fi
  say "$name: $cause"
}

check_case tls11 tls_version "TLS 1.0 or 1.1"
# The hint says how to reach it anyway, and that works for verify.
check_case tls11 tls_version "with --upstream-tls-min 1.1"
json=$("$CP_BIN" verify "localhost:${PORT[tls11]}" --upstream-ca "$ORIGIN_CA" \
  --upstream-tls-min 1.1 --connect-timeout 2 --json 2>&1); rc=$?
[ "$rc" = 0 ] || [ "$rc" = 4 ] || fail "verify --upstream-tls-min 1.1: exit $rc: $json"
assert_eq "$(jq -r .ok <<< "$json")" true "verify --upstream-tls-min 1.1 reaches the TLS 1.1 server"
check_case mtls12 client_cert_required "issued by one of: CN=cp test origin CA"
check_case mtls13 client_cert_required "client certificate (mutual TLS)"
check_case nocipher no_shared_cipher "share no cipher suite"
check_case plain not_tls "plain HTTP"
check_case silent handshake_timeout "did not complete the TLS handshake"
check_case h2only alpn_mismatch "(http/1.1)" --http1.1
expect_event ".port == ${PORT[mtls12]} and .event == \"upstream_verify\" and
  .client_cert_requested == true and
  .client_cert_cas == \"CN=cp test origin CA\"" "CA names in the event"
# The same origin reached with the client's full offer works over h2.
v=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" -o /dev/null \
  -w '%{http_version}' "https://localhost:${PORT[h2only]}/hello")
assert_eq "$v" 2 "h2-only origin with h2 offered"


# The client side: chainproxy refusing a client (its TLS version, its
# ciphers) is told apart from a client refusing the chain it was served.
s_client() { # ARGS...: one handshake through the proxy to the h2 origin
  echo | timeout 10 openssl s_client -proxy "127.0.0.1:$PROXY_PORT" \
    -connect "localhost:${PORT[h2only]}" -servername localhost \
    -CAfile "$ROOT" "$@" 2>&1
}
out=$(s_client -tls1 -cipher 'DEFAULT:@SECLEVEL=0')
assert_contains "$out" "alert protocol version" "TLS 1.0 client refused"
expect_event '.event == "client_handshake" and .accepted == false and
  .refused_by == "chainproxy" and .cause == "tls_version" and
  .client_versions == "TLSv1" and .alert == "protocol_version"'
out=$(s_client -tls1_2 -cipher AES128-SHA)
assert_contains "$out" "alert handshake failure" "RSA-only client refused"
expect_event '.event == "client_handshake" and .accepted == false and
  .refused_by == "chainproxy" and .cause == "no_shared_cipher" and
  (.client_ciphers | contains("RSA-key-exchange"))'
wait_for "the operator log line" grep -q \
  "chainproxy refused the client: it offers only TLSv1," "$PROXY_LOG"
out=$(curl -sS --cacert "$PROXY_CA/legacy-root.pem" -x "$PROXY_URL" \
  "https://localhost:${PORT[h2only]}/hello" 2>&1)
expect_event '.event == "client_handshake" and .accepted == false and
  .refused_by == "client" and .alert == "unknown_ca"' \
  "a client refusing the chain is the client's refusal"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs

# Lowered floors reach the old: a TLS 1.0 client, a TLS 1.1 origin whose
# chain is still judged (at the default level); an RSA leaf serves a
# client that only knows RSA key exchange.
EVENTS_FILE=$WORK/legacy-tls.jsonl start_proxy --upstream-ca "$ORIGIN_CA" \
  --client-tls-min 1.0 --upstream-tls-min 1.1 --leaf-key rsa
out=$(s_client -tls1_2 -cipher AES128-SHA)
assert_contains "$out" "Cipher is AES128-SHA" "RSA-only client with --leaf-key rsa"
assert_contains "$out" "Verify return code: 0 (ok)" "RSA leaf verifies"
assert_contains "$(cat "$PROXY_LOG")" "--client-tls-min: clients may use TLSv1" \
  "lowered client floor logged"
out=$(s_client -tls1 -cipher 'DEFAULT:@SECLEVEL=0')
assert_contains "$out" "Protocol  : TLSv1" "TLS 1.0 client accepted"
assert_contains "$out" "Verify return code: 0 (ok)" "and served the modern chain"
# (s_server without -www never answers; the event is what counts.)
curl -sS --cacert "$ROOT" -x "$PROXY_URL" -o /dev/null --max-time 5 \
  "https://localhost:${PORT[tls11]}/" 2> /dev/null
expect_event ".event == \"upstream_verify\" and .port == ${PORT[tls11]} and
  .ok == true" "the TLS 1.1 origin reached and its chain verified"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"

# The same floors per host, from the rules file.
cat > "$WORK/rules.json" <<JSON
[{"host": "localhost", "port": ${PORT[tls11]}, "chain": "modern",
  "upstream_tls_min": "1.1"},
 {"host": "localhost", "port": ${PORT[h2only]}, "chain": "modern",
  "client_tls_min": "1.0"}]
JSON
EVENTS_FILE=$WORK/rule-floors.jsonl start_proxy --upstream-ca "$ORIGIN_CA" \
  --rules "$WORK/rules.json"
curl -sS --cacert "$ROOT" -x "$PROXY_URL" -o /dev/null --max-time 5 \
  "https://localhost:${PORT[tls11]}/" 2>/dev/null
expect_event ".event == \"upstream_verify\" and .port == ${PORT[tls11]} and
  .ok == true" "a rule's upstream floor reaches the TLS 1.1 origin"
out=$(s_client -tls1 -cipher 'DEFAULT:@SECLEVEL=0')
assert_contains "$out" "Protocol  : TLSv1" "a rule's client floor admits TLS 1.0"
out=$(echo | timeout 10 openssl s_client -proxy "127.0.0.1:$PROXY_PORT" \
  -connect "localhost:${PORT[mtls12]}" -servername localhost \
  -tls1 -cipher 'DEFAULT:@SECLEVEL=0' 2>&1)
assert_contains "$out" "alert protocol version" "other hosts keep the default floor"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"

# Mutual TLS: with --upstream-client-cert the origins that asked for a
# certificate (TLS 1.2 and 1.3) are reached.
make_client_cert
s_server www12 -tls1_2 -Verify 1 -CAfile "$ORIGIN_CA" -www
s_server www13 -tls1_3 -Verify 1 -CAfile "$ORIGIN_CA" -www
EVENTS_FILE=$WORK/mtls.jsonl start_proxy --upstream-ca "$ORIGIN_CA" \
  --upstream-client-cert "$CLIENT_PEM"
for name in www12 www13; do
  code=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" -o "$WORK/$name.out" \
    -w '%{http_code}' "https://localhost:${PORT[$name]}/")
  assert_eq "$code" 200 "$name: mutual TLS through chainproxy"
  expect_event ".event == \"upstream_verify\" and .port == ${PORT[$name]} and
    .ok == true and .client_cert_requested == true and
    .client_cert_presented == true" "$name: certificate presented"
done
# A root that the distribution does not ship is a private root: a
# re-signing network, or a private CA (the test's).
expect_event ".event == \"upstream_verify\" and .port == ${PORT[www12]} and
  .private_root == true and .root == \"CN=cp test origin CA\"" \
  "private root named"
# verify through chainproxy itself: the chain is recognised as chainproxy's
# own, its 30-day leaves do not warn, and the hint says what to trust.
json=$("$CP_BIN" verify "localhost:${PORT[www12]}" --proxy "$PROXY_URL" \
  --upstream-ca "$ROOT" --json); rc=$?
assert_eq "$rc" 0 "verify --proxy through chainproxy, trusting its root"
assert_eq "$(jq -r .minted_by_chainproxy <<< "$json")" true "minted_by_chainproxy"
json=$("$CP_BIN" verify "localhost:${PORT[www12]}" --proxy "$PROXY_URL" \
  --upstream-ca "$ORIGIN_CA" --json); rc=$?
assert_eq "$rc" 1 "verify --proxy through chainproxy, not trusting its root"
assert_contains "$(jq -r .hint <<< "$json")" "trust chainproxy's root.pem" \
  "the hint for chainproxy's own CA"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
out=$("$CP_BIN" --upstream-client-cert "$ORIGIN_CA" --listen 127.0.0.1:1 \
  --ca-dir "$PROXY_CA" 2>&1); rc=$?
assert_eq "$rc" 1 "a client certificate file without a key: exit status"
assert_contains "$out" "not a readable PEM file" "and why"
say "ok"
