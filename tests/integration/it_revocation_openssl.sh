#!/bin/bash
# Revocation, with CRLs and OCSP responses made by the openssl command
# line (fixture_pki.sh): `verify --crl` offline and online, the OCSP
# staple an openssl s_server sends (-status_file): good, revoked, signed by
# the wrong responder, and out of date; the proxy with --crl and with a
# revoked staple blocks with cause revoked. Without a CRL or a staple the
# result says revocation was not checked, never that it is fine.
. "$(dirname "$0")/lib.sh"
need curl jq openssl

FX=$WORK/fx
bash "$CP_IT/fixture_pki.sh" "$FX" > "$WORK/fixture.log" 2>&1 ||
  fail "fixture PKI: $(tail -5 "$WORK/fixture.log")"
V=("$CP_BIN" verify --upstream-ca "$FX/store-modern.pem" --json)
field() { jq -r "$1" <<< "$json"; }

# Offline: the CRLs decide; none given is "not checked".
json=$("${V[@]}" --chain-file "$FX/revoked.chain.pem" --host localhost \
  --crl "$FX/crls.pem"); rc=$?
assert_eq "$rc" 1 "revoked leaf: exit status"
assert_eq "$(field .cause)" revoked "revoked leaf: cause"
assert_contains "$(field .hint)" "(reason: keyCompromise)" "the reason"
assert_eq "$(field .revocation)" revoked "revocation verdict"
json=$("${V[@]}" --chain-file "$FX/valid.chain.pem" --host localhost \
  --crl "$FX/crls.pem"); rc=$?
assert_eq "$rc" 0 "valid chain with CRLs: exit status"
assert_eq "$(field .revocation_note)" \
  "CRL: 2 certificate(s) checked, none revoked" "every element checked"
json=$("${V[@]}" --chain-file "$FX/valid.chain.pem" --host localhost \
  --crl "$FX/inter.crl.pem")
assert_eq "$(field .revocation)" partial "only the leaf's CRL given"
json=$("${V[@]}" --chain-file "$FX/revoked.chain.pem" --host localhost); rc=$?
assert_eq "$rc" 0 "revoked leaf without a CRL passes, as curl does"
assert_eq "$(field .revocation)" not_checked "and says it was not checked"
err=$("${V[@]}" --chain-file "$FX/valid.chain.pem" --crl "$FX/good.pem" 2>&1)
assert_eq "$?" 2 "a CRL file with no CRL: usage error"
assert_contains "$err" "no PEM CRL in it" "and why"

# Online: s_server staples what it is given.
declare -A PORT
serve() { # NAME CHAIN [STAPLE]
  local p staple=()
  p=$(free_port)
  [ -n "${3:-}" ] && staple=(-status_file "$3")
  openssl s_server -accept "127.0.0.1:$p" -cert "$FX/$2.leaf.pem" \
    -key "$FX/$2.key" -cert_chain "$FX/$2.extra.pem" "${staple[@]}" \
    -no-CAfile -no-CApath -no-CAstore -www -quiet \
    > "$WORK/s_server.$1" 2>&1 < /dev/null &
  CP_PIDS+=($!)
  wait_port "$p"
  PORT[$1]=$p
}
serve good valid "$FX/good.ocsp.der"
serve revoked revoked "$FX/revoked.ocsp.der"
serve badsigner valid "$FX/badsigner.ocsp.der"
json=$("${V[@]}" "localhost:${PORT[good]}"); rc=$?
assert_eq "$rc" 0 "good staple: exit status"
assert_eq "$(field .ocsp)" good "good staple"
assert_eq "$(field .revocation)" good "the staple counts as a check"
json=$("${V[@]}" "localhost:${PORT[revoked]}"); rc=$?
assert_eq "$rc" 1 "revoked staple: exit status"
assert_eq "$(field .cause)" revoked "revoked staple: cause"
assert_contains "$(field .revocation_note)" "OCSP staple: revoked" "by OCSP"
json=$("${V[@]}" "localhost:${PORT[badsigner]}"); rc=$?
assert_eq "$rc" 4 "staple from the wrong responder: a warning"
assert_eq "$(field .warning)" ocsp_staple "warning name"
assert_contains "$(field .warning_hint)" "not the issuer" "its hint"
json=$("${V[@]}" "localhost:${PORT[good]}" --at 2040-06-01T00:00:00Z)
assert_eq "$(field .ocsp)" expired "a staple past its next update"
out=$("$CP_BIN" verify "localhost:${PORT[good]}" \
  --upstream-ca "$FX/store-modern.pem")
assert_contains "$out" "revocation: good: OCSP staple: good" "text output"

# The proxy: a revoked staple blocks; so does --crl for a chain whose
# server staples nothing.
serve nostaple revoked
start_proxy --upstream-ca "$FX/store-modern.pem" --crl "$FX/crls.pem"
for name in revoked nostaple; do
  out=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" "https://localhost:${PORT[$name]}/" 2>&1)
  assert_contains "$out" "cause:  revoked" "$name: the 502"
  expect_event ".event == \"upstream_verify\" and .port == ${PORT[$name]} and
    .cause == \"revoked\" and .revocation == \"revoked\"" "$name: the event"
done
code=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" -o /dev/null -w '%{http_code}' \
  "https://localhost:${PORT[good]}/")
assert_eq "$code" 200 "a good chain passes with CRLs on"
expect_event ".event == \"upstream_verify\" and .port == ${PORT[good]} and
  .ok == true and .ocsp == \"good\"" "the staple in the event"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
out=$("$CP_BIN" --crl "$FX/good.pem" --listen 127.0.0.1:1 --ca-dir "$PROXY_CA" 2>&1)
assert_eq "$?" 1 "proxy with a bad --crl: exit status"
assert_contains "$out" "no PEM CRL in it" "and why"
say "ok"
