#!/bin/bash
# The catalogue of broken origins (chainproxy origins) against real
# clients: every case, straight to its port, with curl, Python, Node, Java,
# Go and Chromium trusting only the catalogue CA (an incident case: only
# the store of its time the listing names as its "ca"); each client must
# print the words the catalogue's
# listing (/cases.json, docs/catalogue.md) documents for it, "ok" meaning
# it got the case's body. Then the index's AIA, CRL and OCSP answers, and
# through the proxy (--origins): CASE.chainproxy.test needs no DNS and the
# upstream_verify event names chainproxy's cause.
# CP_SHOW_STRINGS=1 prints what each client said.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 node go java keytool
# Go's client, built once from the standard library only (no network).
export GOCACHE=$WORK/gocache GOPATH=$WORK/gopath GO111MODULE=off
go build -o "$WORK/catalogue_go" "$CP_IT/clients/catalogue_go.go" ||
  fail "go build catalogue_go.go"

BASE=18600 # a private network namespace: these ports are ours
t0=$(date +%s%N)
"$CP_BIN" origins --listen "127.0.0.1:$BASE" --ca-dir "$WORK/home" --json \
  > "$WORK/listing.json" 2> "$WORK/origins.log" &
CP_PIDS+=($!)
# The listing is printed whole once every port listens; its last line is
# the closing brace.
wait_for "the catalogue's listing" grep -q '^}' "$WORK/listing.json"
say "catalogue ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms" \
  "(first start: CA created)"
CA=$(jq -r .ca "$WORK/listing.json")
[ "$(stat -c %a "$(dirname "$CA")/root.key")" = 600 ] ||
  fail "the catalogue CA's key is not 0600"
wait_port "$BASE"

# The index serves the same listing, in HTML too.
curl -sS "http://127.0.0.1:$BASE/cases.json" > "$WORK/served.json" ||
  fail "GET /cases.json"
assert_eq "$(jq -c '[.cases[].name]' "$WORK/served.json")" \
  "$(jq -c '[.cases[].name]' "$WORK/listing.json")"
curl -sS -o "$WORK/index.html" "http://127.0.0.1:$BASE/" || fail "GET /"
grep -q '<td>expired-intermediate</td>' "$WORK/index.html" ||
  fail "the HTML listing lacks a case"

# Every case names the file its clients trust: the catalogue CA, or for
# an incident case the cloned store of its time.
jq -e --arg ca "$CA" '[.cases[] | select(.ca != $ca) | .name] ==
  ["dst-2021", "dst-2021-short", "addtrust-2020"]' "$WORK/listing.json" \
  > /dev/null || fail "the cases' trust files: $(jq -c '[.cases[].ca]' \
  "$WORK/listing.json")"
jq -e '.cases[] | select(.name == "legacy") | .stores.legacy |
  endswith("/legacy-root.pem")' "$WORK/listing.json" > /dev/null ||
  fail "legacy does not name the legacy root"
# ca_of NAME: the file the case's clients trust.
ca_of() {
  jq -r --arg n "$1" '.cases[] | select(.name == $n) | .ca' "$WORK/listing.json"
}

# Java: one JVM for every case (CatalogueJava.java prints NAME<TAB>what),
# a PKCS12 store per trust file.
jargs=()
for name in $(jq -r '.cases[].name' "$WORK/listing.json"); do
  port=$(jq -r --arg n "$name" '.cases[] | select(.name == $n) | .port' \
    "$WORK/listing.json")
  jargs+=("$name=$port=$(java_store "$(ca_of "$name")")")
done
timeout 180 java "$CP_IT/clients/CatalogueJava.java" "$(java_store "$CA")" \
  changeit "${jargs[@]}" > "$WORK/java.out" 2>&1 ||
  fail "java: $(cat "$WORK/java.out")"

# what CLIENT NAME PORT: what the client printed (first line).
what() {
  local client=$1 name=$2 port=$3 CA
  CA=$(ca_of "$name")
  case $client in
    curl)
      timeout 20 curl -sS --cacert "$CA" \
        --resolve "$name.chainproxy.test:$port:127.0.0.1" \
        "https://$name.chainproxy.test:$port/" 2>&1 | head -n 1 ;;
    python)
      timeout 20 python3 "$CP_IT/clients/catalogue_py.py" "$CA" "$name" \
        "$port" --alpn ;;
    node)
      timeout 20 node "$CP_IT/clients/catalogue_node.js" "$CA" "$name" \
        "$port" 2>&1 | head -n 1 ;;
    java)
      awk -F '\t' -v n="$name" '$1 == n { print $2 }' "$WORK/java.out" ;;
    go)
      timeout 20 "$WORK/catalogue_go" "$CA" "$name" "$port" 2>&1 |
        head -n 1 ;;
  esac
}

n=0
for name in $(jq -r '.cases[].name' "$WORK/listing.json"); do
  port=$(jq -r --arg n "$name" '.cases[] | select(.name == $n) | .port' \
    "$WORK/listing.json")
  for client in curl python node java go; do
    want=$(jq -r --arg n "$name" --arg c "$client" \
      '.cases[] | select(.name == $n) | .clients[$c]' "$WORK/listing.json")
    [ -n "$want" ] || fail "$name: the listing has no words for $client"
    got=$(what "$client" "$name" "$port")
    [ "${CP_SHOW_STRINGS:-0}" = 1 ] && say "$name $client: $got"
    if [ "$want" = ok ]; then
      case $got in
        *"chainproxy catalogue: $name"*) ;;
        *) fail "$name: $client should connect, printed: $got" ;;
      esac
    else
      case $got in
        *"chainproxy catalogue"*) fail "$name: $client accepted it" ;;
        *"$want"*) ;;
        *) fail "$name: $client should say '$want', printed: $got" ;;
      esac
    fi
    n=$((n + 1))
  done
done
# Chromium, headless, trusting the catalogue CA through its NSS database
# ($HOME/.pki/nssdb): the cases the listing has words for.
# chrome_home PEM: a HOME whose NSS database trusts every certificate of
# PEM (certutil takes one per call), made once per file; prints it.
chrome_home() {
  local h f
  h=$WORK/chome-$(basename "$(dirname "$1")")-$(basename "$1" .pem)
  if [ ! -d "$h/.pki/nssdb" ]; then
    mkdir -p "$h/.pki/nssdb"
    certutil -d "sql:$h/.pki/nssdb" -N --empty-password || fail "certutil -N"
    awk -v b="$h/c" '/BEGIN CERT/{n++} n {print > (b n ".pem")}' "$1"
    for f in "$h"/c*.pem; do
      certutil -d "sql:$h/.pki/nssdb" -A -t "C,," -n "$(basename "$f")" \
        -i "$f" || fail "certutil -A $f"
    done
  fi
  echo "$h"
}
if command -v chromium > /dev/null && command -v certutil > /dev/null; then
  for name in $(jq -r '.cases[] | select(.clients.chromium != "") | .name' \
    "$WORK/listing.json"); do
    port=$(jq -r --arg n "$name" '.cases[] | select(.name == $n) | .port' \
      "$WORK/listing.json")
    want=$(jq -r --arg n "$name" \
      '.cases[] | select(.name == $n) | .clients.chromium' "$WORK/listing.json")
    home=$(chrome_home "$(ca_of "$name")")
    # Other names resolve nowhere: a cloned certificate's AIA URLs name
    # real hosts, and the path builder would fetch them.
    HOME=$home timeout 60 chromium --headless=new --no-sandbox \
      --disable-gpu --no-first-run --user-data-dir="$home/ud-$name" \
      --host-resolver-rules="MAP *.chainproxy.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
      --dump-dom "https://$name.chainproxy.test:$port/" \
      > "$WORK/chromium-$name.out" 2> "$WORK/chromium-$name.err"
    got=$(grep -ho 'ERR_[A-Z_]*\|chainproxy catalogue: [a-z0-9.-]*' \
      "$WORK/chromium-$name.out" "$WORK/chromium-$name.err" | sort -u |
      tr '\n' ' ')
    [ "${CP_SHOW_STRINGS:-0}" = 1 ] && say "$name chromium: $got"
    if [ "$want" = ok ]; then
      assert_contains "$got" "chainproxy catalogue: $name" "chromium $name"
    else
      assert_contains "$got" "$want" "chromium $name"
    fi
    n=$((n + 1))
  done
else
  [ "${CI:-}" = true ] && fail "chromium or certutil is not installed"
  say "chromium or certutil missing: Chromium not observed"
fi
say "$n case x client observations match the listing"

# incomplete: the leaf's AIA caIssuers URL serves the missing intermediate.
port=$(jq -r '.cases[] | select(.name == "incomplete") | .port' \
  "$WORK/listing.json")
openssl s_client -connect "127.0.0.1:$port" \
  -servername incomplete.chainproxy.test < /dev/null 2> /dev/null |
  openssl x509 > "$WORK/incomplete.pem" || fail "s_client incomplete"
aia=$(openssl x509 -in "$WORK/incomplete.pem" -noout -ext authorityInfoAccess |
  sed -n 's/.*CA Issuers - URI:\(.*\)/\1/p')
[ -n "$aia" ] || fail "incomplete: no AIA caIssuers URL"
curl -sS -o "$WORK/inter.der" "$aia" || fail "GET $aia"
openssl x509 -inform DER -in "$WORK/inter.der" -out "$WORK/inter.pem"
openssl verify -CAfile "$CA" -untrusted "$WORK/inter.pem" \
  "$WORK/incomplete.pem" > /dev/null || fail "the AIA intermediate does not complete the chain"

# revoked: on the CRL at its distribution point, and revoked by OCSP.
port=$(jq -r '.cases[] | select(.name == "revoked") | .port' \
  "$WORK/listing.json")
openssl s_client -connect "127.0.0.1:$port" \
  -servername revoked.chainproxy.test < /dev/null 2> /dev/null |
  openssl x509 > "$WORK/revoked.pem" || fail "s_client revoked"
crl=$(openssl x509 -in "$WORK/revoked.pem" -noout -ext crlDistributionPoints |
  sed -n 's/ *URI:\(.*\)/\1/p')
curl -sS -o "$WORK/crl.der" "$crl" || fail "GET $crl"
openssl crl -inform DER -in "$WORK/crl.der" -out "$WORK/crl.pem"
cat "$CA" "$WORK/crl.pem" > "$WORK/crlfile.pem"
got=$(curl -sS --cacert "$CA" --crlfile "$WORK/crl.pem" \
  --resolve "revoked.chainproxy.test:$port:127.0.0.1" \
  "https://revoked.chainproxy.test:$port/" 2>&1 | head -n 1)
assert_contains "$got" "certificate revoked"
ocsp=$(openssl ocsp -issuer "$WORK/inter.pem" -cert "$WORK/revoked.pem" \
  -url "http://127.0.0.1:$BASE/ocsp" -CAfile "$CA" 2>&1)
assert_contains "$ocsp" "revoked.pem: revoked"
ocsp=$(openssl ocsp -issuer "$WORK/inter.pem" -cert "$WORK/incomplete.pem" \
  -url "http://127.0.0.1:$BASE/ocsp" -CAfile "$CA" 2>&1)
assert_contains "$ocsp" "incomplete.pem: good"

# Through the proxy: its own catalogue in-process, names without DNS.
start_proxy --origins 18700
wait_port 18700
for c in expired:expired_leaf not-yet-valid:not_yet_valid \
  wrong-host:hostname_mismatch self-signed:self_signed_leaf \
  untrusted-root:untrusted_root incomplete:incomplete_chain \
  expired-intermediate:expired_intermediate; do
  name=${c%%:*} cause=${c#*:}
  out=$(timeout 20 curl -sS -x "$PROXY_URL" --cacert "$ROOT" \
    "https://$name.chainproxy.test/" 2>&1)
  assert_contains "$out" "[$cause]"
  expect_event ".event == \"upstream_verify\" and .host == \"$name.chainproxy.test\" and .cause == \"$cause\"" \
    "upstream_verify $name -> $cause"
done
# The catalogue CA is trusted upstream, by the simulation too: every
# family passes the good case, and its chain is not one chainproxy minted.
out=$(timeout 20 curl -sS -o /dev/null -w '%{http_code}' -x "$PROXY_URL" \
  --cacert "$ROOT" https://good.chainproxy.test/ 2>&1)
assert_eq "$out" 200 "the good case through the proxy"
expect_event '.event == "upstream_verify" and .host == "good.chainproxy.test" and .ok == true and (.minted_by_chainproxy | not) and ([.clients[] | select(.verdict == "fail")] | length) == 0' \
  "every family passes the good case"
out=$(timeout 20 curl -sS -x "$PROXY_URL" --cacert "$ROOT" \
  "https://good.chainproxy.test/" 2>&1)
assert_contains "$out" "chainproxy catalogue: good"
# The 2020 and 2021 shapes: what "who breaks" predicts on each is the
# history (OpenSSL 1.0.2 and GnuTLS before 3.6 failed the real 2021 and
# 2020 chains, OpenSSL 3 passed), and the short 2021 chain fails on its
# expired root.
for name in legacy modern dst-2021 addtrust-2020; do
  out=$(timeout 20 curl -sS -x "$PROXY_URL" --cacert "$ROOT" \
    "https://$name.chainproxy.test/" 2>&1)
  assert_contains "$out" "chainproxy catalogue: $name"
done
verdict='def v(f): [.clients[] | select(.family == f) | .verdict][0];'
expect_event "$verdict"' .event == "upstream_verify" and .host == "dst-2021.chainproxy.test" and .ok == true and v("openssl3") == "pass" and v("openssl102") == "fail" and v("gnutls_old") == "fail" and v("chrome") == "pass"' \
  "dst-2021: OpenSSL 1.0.2 and old GnuTLS break, OpenSSL 3 and Chrome do not"
expect_event "$verdict"' .event == "upstream_verify" and .host == "addtrust-2020.chainproxy.test" and .ok == true and v("openssl3") == "pass" and v("openssl102") == "fail" and v("gnutls_old") == "fail"' \
  "addtrust-2020: OpenSSL 1.0.2 and old GnuTLS break"
expect_event "$verdict"' .event == "upstream_verify" and .host == "legacy.chainproxy.test" and .ok == true and v("openssl3") == "pass" and v("go") == "pass"' \
  "legacy: the modern families pass"
out=$(timeout 20 curl -sS -x "$PROXY_URL" --cacert "$ROOT" \
  "https://dst-2021-short.chainproxy.test/" 2>&1)
assert_contains "$out" "[expired_root]"
out=$(timeout 20 curl -sS -x "$PROXY_URL" --cacert "$ROOT" \
  "https://tls1.0-only.chainproxy.test/" 2>&1)
assert_contains "$out" "[tls_version]"
out=$(timeout 20 curl -sS -x "$PROXY_URL" "http://chainproxy.test/cases.json")
assert_eq "$(jq -r '.base_port' <<< "$out")" 18700
say "ok"
