#!/bin/bash
# Per-host TLS settings from the rules file, with real clients: a client
# certificate presented to one origin (mutual TLS), an RSA leaf for one
# host, SNI required for another (a client without SNI is refused with
# cause no_sni, as nginx's ssl_reject_handshake would), and a client's own
# certificate recorded when the origin asked for one and chainproxy has
# none to give.
. "$(dirname "$0")/lib.sh"
need curl jq openssl

make_origin_pki
make_client_cert
declare -A PORT
s_server mtls -tls1_2 -Verify 1 -CAfile "$ORIGIN_CA" -www
s_server mtls_norule -tls1_2 -Verify 1 -CAfile "$ORIGIN_CA" -www
s_server mtls13_norule -tls1_3 -Verify 1 -CAfile "$ORIGIN_CA" -www
s_server rsa -www
cat > "$WORK/rules.json" <<JSON
[{"host": "localhost", "port": ${PORT[mtls]}, "chain": "modern",
  "upstream_client_cert": "$CLIENT_PEM"},
 {"host": "localhost", "port": ${PORT[rsa]}, "chain": "modern",
  "leaf_key": "rsa"},
 {"host": "127.0.0.1", "chain": "modern", "require_sni": true}]
JSON
start_proxy --upstream-ca "$ORIGIN_CA" --rules "$WORK/rules.json"

# Mutual TLS for the one origin the rule names.
code=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" -o /dev/null \
  -w '%{http_code}' "https://localhost:${PORT[mtls]}/")
assert_eq "$code" 200 "the rule's client certificate reaches the mTLS origin"
expect_event ".event == \"upstream_verify\" and .port == ${PORT[mtls]} and
  .ok == true and .client_cert_presented == true" "certificate presented"

# The other mTLS origins get no certificate from chainproxy: a client that
# presents its own is asked for it (as the origin asked), and the event
# names it; chainproxy cannot forward it, and the 502 says what to do.
for name in mtls_norule mtls13_norule; do
  body=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" --cert "$CLIENT_PEM" \
    "https://localhost:${PORT[$name]}/" 2>&1)
  assert_contains "$body" "[client_cert_required]" "$name: the 502"
  assert_contains "$body" "--upstream-client-cert" "$name: the hint"
  expect_event ".event == \"client_handshake\" and .port == ${PORT[$name]} and
    .client_cert == \"CN=chainproxy test client\"" \
    "$name: the client's certificate recorded"
done
wait_for "the operator log line" grep -q \
  "the client presented a certificate (CN=chainproxy test client)" "$PROXY_LOG"
# A client with no certificate is asked too, and the event has none.
curl -sS --cacert "$ROOT" -x "$PROXY_URL" -o /dev/null \
  "https://localhost:${PORT[mtls_norule]}/" 2>/dev/null
n=$(count_events ".event == \"client_handshake\" and
  .port == ${PORT[mtls_norule]} and .accepted == true and
  (has(\"client_cert\") | not)")
[ "$n" -ge 1 ] || fail "a client without a certificate: no client_cert field"

# An RSA leaf for the host the rule names, P-256 elsewhere.
leaf_alg() { # PORT: the public key algorithm of the leaf served for it
  echo | timeout 10 openssl s_client -proxy "127.0.0.1:$PROXY_PORT" \
    -connect "localhost:$1" -servername localhost -CAfile "$ROOT" "${@:2}" \
    2>/dev/null | openssl x509 -noout -text 2>/dev/null |
    awk -F': ' '/Public Key Algorithm/{print $2; exit}'
}
assert_eq "$(leaf_alg "${PORT[rsa]}")" rsaEncryption "the rule's RSA leaf"
assert_eq "$(leaf_alg "${PORT[mtls]}")" id-ecPublicKey "the default P-256 leaf"
out=$(echo | timeout 10 openssl s_client -proxy "127.0.0.1:$PROXY_PORT" \
  -connect "localhost:${PORT[rsa]}" -servername localhost -CAfile "$ROOT" \
  -tls1_2 -cipher AES128-SHA 2>&1)
assert_contains "$out" "Cipher is AES128-SHA" "an RSA-key-exchange client served"

# SNI required for 127.0.0.1: curl to an IP address sends none.
out=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" \
  "https://127.0.0.1:${PORT[rsa]}/" 2>&1)
assert_contains "$out" "unrecognized name" "curl without SNI refused"
expect_event '.event == "client_handshake" and .host == "127.0.0.1" and
  .accepted == false and .refused_by == "chainproxy" and
  .cause == "no_sni" and .sni == null and .alert == "unrecognized_name"' \
  "no_sni in the event"
n=$(count_events '.event == "upstream_verify" and .host == "127.0.0.1"')
assert_eq "$n" 0 "the upstream is not contacted for a refused client"
wait_for "the no_sni log line" grep -q "it sent no SNI" "$PROXY_LOG"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs

# --require-sni for every host.
EVENTS_FILE=$WORK/require-sni.jsonl start_proxy --upstream-ca "$ORIGIN_CA" \
  --require-sni
out=$(echo | timeout 10 openssl s_client -proxy "127.0.0.1:$PROXY_PORT" \
  -connect "localhost:${PORT[rsa]}" -noservername 2>&1)
assert_contains "$out" "tlsv1 unrecognized name" "s_client -noservername"
out=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" \
  "https://localhost:${PORT[rsa]}/" 2>&1)
assert_contains "$out" "s_server" "a client with SNI is served"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"

# A rule's certificate file is checked when the rules are loaded.
echo '[{"host": "a.test", "chain": "modern", "upstream_client_cert": "'"$ORIGIN_CA"'"}]' \
  > "$WORK/bad-rules.json"
out=$("$CP_BIN" --rules "$WORK/bad-rules.json" --listen 127.0.0.1:1 \
  --ca-dir "$PROXY_CA" 2>&1); rc=$?
[ "$rc" != 0 ] || fail "a rule with a certificate but no key was accepted"
assert_contains "$out" "not a readable PEM file" "and why"
say "ok"
