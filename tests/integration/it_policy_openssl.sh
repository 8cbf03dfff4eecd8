#!/bin/bash
# Browser-only policies on chains that verify: a distrusted CA (from a
# distrust file naming the fixture root's fingerprint), no embedded SCTs,
# a lifetime over 398 days. They apply to publicly trusted roots only:
# with the fixture root among the "distribution's roots" (--system-roots)
# they warn; with it added locally they do not.
. "$(dirname "$0")/lib.sh"
need curl jq openssl

FX=$WORK/fx
bash "$CP_IT/fixture_pki.sh" "$FX" > "$WORK/fixture.log" 2>&1 ||
  fail "fixture PKI: $(tail -5 "$WORK/fixture.log")"
mkdir -p "$WORK/sysroots"
cp "$FX/modern-root.pem" "$WORK/sysroots/fixture.crt"
fp=$(openssl x509 -in "$FX/modern-root.pem" -noout -fingerprint -sha256 |
  cut -d= -f2 | tr -d : | tr A-F a-f)
cat > "$WORK/distrust.json" <<JSON
{"distrust": [{"name": "the Fixture CA", "clients": "Chrome",
  "after": "2025-01-01", "sha256": ["$fp"],
  "source": "a test announcement"}]}
JSON
policies() { # CASE [OPTIONS]: exit status, then the policies named
  local c=$1 json rc
  shift
  json=$("$CP_BIN" verify --chain-file "$FX/$c.chain.pem" --host localhost \
    --upstream-ca "$FX/store-modern.pem" --at 2026-09-01T00:00:00Z \
    --distrust "$WORK/distrust.json" --json "$@"); rc=$?
  echo "$rc $(jq -r '[.browser_policies[]?.policy] | join(",")' <<< "$json")"
}
S=(--system-roots "$WORK/sysroots")
assert_eq "$(policies long "${S[@]}")" "4 no_sct,long_validity" \
  "a nine-year leaf without SCTs"
assert_eq "$(policies sct "${S[@]}")" "4 distrusted_ca" \
  "a leaf issued after the distrust date"
assert_eq "$(policies valid "${S[@]}")" "4 no_sct" \
  "a 2019 leaf: before the lifetime rule and the distrust"
assert_eq "$(policies long)" "0 " "a locally added root is exempt"
json=$("$CP_BIN" verify --chain-file "$FX/sct.chain.pem" --host localhost \
  --upstream-ca "$FX/store-modern.pem" --at 2026-09-01T00:00:00Z \
  --distrust "$WORK/distrust.json" "${S[@]}" --json)
assert_eq "$(jq -r .warning <<< "$json")" distrusted_ca "the warning"
assert_contains "$(jq -r .warning_hint <<< "$json")" \
  "which Chrome distrust for certificates issued after 2025-01-01 (a test announcement)" \
  "the hint names the clients, the date and the source"
out=$("$CP_BIN" verify --chain-file "$FX/long.chain.pem" --host localhost \
  --upstream-ca "$FX/store-modern.pem" "${S[@]}" --at 2026-09-01T00:00:00Z)
assert_contains "$out" "browsers: long_validity: The leaf is valid for 3287 days" \
  "text output"

# The proxy, same files: the event carries the policies.
p=$(free_port)
openssl s_server -accept "127.0.0.1:$p" -cert "$FX/long.leaf.pem" \
  -key "$FX/long.key" -cert_chain "$FX/long.extra.pem" -www -quiet \
  > "$WORK/s_server.log" 2>&1 < /dev/null &
CP_PIDS+=($!)
wait_port "$p"
start_proxy --upstream-ca "$FX/store-modern.pem" "${S[@]}" \
  --distrust "$WORK/distrust.json"
code=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" -o /dev/null \
  -w '%{http_code}' "https://localhost:$p/")
assert_eq "$code" 200 "browser policies do not block"
expect_event ".event == \"upstream_verify\" and .port == $p and .ok == true and
  .warning == \"no_sct\" and
  ([.browser_policies[].policy] == [\"no_sct\", \"long_validity\"])" \
  "the policies in upstream_verify"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
echo '{"distrust": [{"name": "x"}]}' > "$WORK/bad.json"
out=$("$CP_BIN" --distrust "$WORK/bad.json" --listen 127.0.0.1:1 \
  --ca-dir "$PROXY_CA" 2>&1)
assert_eq "$?" 1 "a bad distrust file: exit status"
assert_contains "$out" "entry 0: needs \"name\", \"clients\" and \"source\"" \
  "and why"
# The installed list parses, and names the 2024 Entrust distrust.
jq -e '.distrust[] | select(.name == "Entrust") | .after == "2024-11-30"' \
  "$CP_SRC/certs/distrust.json" > /dev/null || fail "certs/distrust.json"
say "ok"
