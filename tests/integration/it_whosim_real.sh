#!/bin/bash
# Who breaks, by simulation, proven on the real chain shapes of the 2020
# (AddTrust) and 2021 (DST Root CA X3) incidents served through
# chainproxy. Each chain is cloned (`chainproxy clone --shift-to-now`, so
# the incident is now and every client runs on the real clock), served by
# openssl s_server as the origin, and met through the proxy, whose
# --upstream-ca is the cloned store; the upstream_verify event's verdict
# per family must be what the real verifier does on the same chain and
# store: curl and Python (OpenSSL 3), oldssl_verify in 1.0.2 and 1.0.1 mode
# (error number and depth too), gnutls-cli, Go and Java. Then Python's
# strict mode (VERIFY_X509_STRICT | VERIFY_X509_PARTIAL_CHAIN, Python
# 3.13's defaults) against a CA whose basicConstraints is not critical.
# Each cell: predicted == observed, else the test fails. Every fix the
# event names is applied and checked with the real verifier too. The
# matrix is printed (CP_SHOW_WHO=0 hides it) and kept in
# build/whosim-matrix.txt.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 gnutls-cli go java javac keytool node
OV=$CP_BUILD/tests/oldssl_verify
[ -x "$OV" ] || fail "oldssl_verify was not built"
R=$CP_SRC/certs/real
X=$R/extra
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
MATRIX=$WORK/matrix.txt

go build -o "$WORK/tls_verify_go" "$CP_IT/clients/tls_verify_go.go" \
  > "$WORK/go.log" 2>&1 || fail "go build: $(tail -3 "$WORK/go.log")"
mkdir -p "$WORK/java"
javac -d "$WORK/java" "$CP_IT/clients/HsClient.java" || fail "javac"

PYV=$CP_IT/clients/py_verify.py

# clone_shape NAME CHAIN STORE INSTANT: the clone in $WORK/NAME, its chain
# split into leaf.pem and inter.pem, each store root alone as root-CN.pem.
clone_shape() {
  local d=$WORK/$1 f cn
  "$CP_BIN" clone "$2" --store "$3" --out "$d" --ca-dir "$WORK/cloneca" \
    --shift-to-now "$4" > "$WORK/$1.log" 2>&1 || fail "clone $1: $(cat "$WORK/$1.log")"
  awk -v d="$d" '/BEGIN CERT/{n++} {print > (d (n == 1 ? "/leaf.pem" : "/inter.pem"))}' \
    "$d/chain.pem"
  awk -v d="$d" '/BEGIN CERT/{n++} n {print > (d "/r" n ".pem")}' "$d/store.pem"
  for f in "$d"/r[0-9]*.pem; do
    cn=$(openssl x509 -in "$f" -noout -subject -nameopt multiline |
      awk -F' = ' '/commonName/{print $2}' | tr ' ' '_')
    mv "$f" "$d/root-$cn.pem"
  done
}


# serve DIR [CHAIN]: s_server with DIR's leaf and key and the chain
# (default DIR/inter.pem); sets SPORT and SPID.
serve() {
  local chain=${2:-$1/inter.pem} extra=()
  [ -s "$chain" ] && extra=(-cert_chain "$chain")
  SPORT=$(free_port)
  openssl s_server -accept "127.0.0.1:$SPORT" -cert "$1/leaf.pem" \
    -key "$1/leaf.key" "${extra[@]}" -no-CAfile -no-CApath -no-CAstore \
    -www -quiet > "$WORK/s_server.log" 2>&1 < /dev/null &
  SPID=$!
  CP_PIDS+=($SPID)
  wait_port "$SPORT"
}

# event_through_proxy NAME STORE HOST: two requests through a proxy that
# trusts STORE upstream (no session resumption, so the second handshake
# is full and presents the same chain); the first upstream_verify event
# in $WORK/NAME.event, /metrics in $WORK/NAME.metrics. The second
# diagnosis, simulation included, must come from the chain cache, broken
# chains too (an element expired already changes no verdict).
event_through_proxy() {
  local ctl i
  ctl=$(free_port)
  EVENTS_FILE=$WORK/$1.events start_proxy --upstream-ca "$2" \
    --upstream-failure ignore --upstream-sessions 0 --control "127.0.0.1:$ctl"
  for i in 1 2; do
    curl -s -o /dev/null --max-time 20 --cacert "$ROOT" -x "$PROXY_URL" \
      --connect-to "$3:$SPORT:localhost:$SPORT" "https://$3:$SPORT/" || true
    wait_for "upstream_verify $i ($1)" jq -e -s --argjson n "$i" \
      'map(select(.event == "upstream_verify")) | length >= $n' "$EVENTS"
  done
  jq -c 'select(.event == "upstream_verify")' "$EVENTS" | head -1 \
    > "$WORK/$1.event"
  jq -e -s 'map(select(.event == "upstream_verify")) |
    (.[0].chain_cached | not) and .[0].clients == .[1].clients and
    .[1].chain_cached == true' "$EVENTS" > /dev/null ||
    fail "$1: the repeated chain's diagnosis is not the cached one"
  curl -s --max-time 10 "http://127.0.0.1:$ctl/metrics" > "$WORK/$1.metrics"
  grep -q '^chainproxy_upstream_chain_cache_hits_total 1$' "$WORK/$1.metrics" ||
    fail "$1: no chain cache hit: $(grep chain_cache "$WORK/$1.metrics")"
  CACHED=$((CACHED + 1))
  stop_proxy
}

# observe CLIENT DIR STORE HOST: "ok", or what the client printed.
observe() {
  local out
  case $1 in
    curl) out=$(curl -sS -o /dev/null --max-time 10 --cacert "$3" \
                  --resolve "$4:$SPORT:127.0.0.1" "https://$4:$SPORT/" 2>&1) &&
            out=ok ;;
    python) out=$("$PY" "$PYV" 127.0.0.1 "$SPORT" "$4" "$3" default) ;;
    python-strict) out=$("$PY" "$PYV" 127.0.0.1 "$SPORT" "$4" "$3" strict) ;;
    oldssl102) out=$("$OV" 1.0.2 "$3" "$2/inter.pem" "$2/leaf.pem" now) ;;
    oldssl101) out=$("$OV" 1.0.1 "$3" "$2/inter.pem" "$2/leaf.pem" now) ;;
    gnutls) out=$(timeout 10 gnutls-cli --x509cafile="$3" --sni-hostname="$4" \
                    --verify-hostname="$4" -p "$SPORT" 127.0.0.1 < /dev/null 2>&1)
            if grep -q 'Handshake was completed' <<< "$out"; then out=ok
            else out=$(grep -m1 -E 'Status:|Error' <<< "$out"); fi ;;
    go) out=$("$WORK/tls_verify_go" "127.0.0.1:$SPORT" "$4" "$3") ;;
    node) out=$(node "$CP_IT/clients/node_verify.js" 127.0.0.1 "$SPORT" "$4" "$3") ;;
    java) printf '127.0.0.1 %s\n' "$4" > "$WORK/hosts"
          out=$(java -cp "$WORK/java" -Djdk.net.hosts.file="$WORK/hosts" \
                  -Djavax.net.ssl.trustStore="$(java_store "$3")" \
                  -Djavax.net.ssl.trustStorePassword=changeit HsClient \
                  "https://$4:$SPORT/" 2>&1) ;;
  esac
  case $out in ok*) out=ok ;; esac
  head -n 1 <<< "$out"
}

family() {
  case $1 in
    curl|python) echo openssl3 ;;
    python-strict) echo python313 ;;
    oldssl102) echo openssl102 ;;
    oldssl101) echo openssl101 ;;
    *) echo "$1" ;;
  esac
}

printf '%-6s %-10s %-14s %-11s %-24s %s\n' shape store client family \
  predicted observed > "$MATRIX"
cells=0 bad=0
# check SHAPE STORE-NAME DIR STORE HOST CLIENTS...
check() {
  local shape=$1 sname=$2 dir=$3 store=$4 host=$5 ev client fam pred got code
  shift 5
  ev=$WORK/$shape-$sname.event
  for client in "$@"; do
    fam=$(family "$client")
    pred=$(jq -r --arg f "$fam" '.clients[] | select(.family == $f) |
      .verdict + (if .error_code then " \(.error_code)@\(.error_depth)" else "" end)' "$ev")
    [ -n "$pred" ] || fail "$shape/$sname: no prediction for $fam"
    got=$(observe "$client" "$dir" "$store" "$host")
    printf '%-6s %-10s %-14s %-11s %-24s %s\n' "$shape" "$sname" "$client" \
      "$fam" "$pred" "$got" >> "$MATRIX"
    cells=$((cells + 1))
    if { [ "${pred%% *}" = pass ] && [ "$got" != ok ]; } ||
       { [ "${pred%% *}" != pass ] && [ "$got" = ok ]; }; then
      say "MISMATCH $shape/$sname $client ($fam): predicted $pred, got $got"
      bad=1
    fi
    # The OpenSSL-style builders print the error number and depth too.
    case $client in
      oldssl*) if [ "$got" != ok ]; then
                 code=$(sed -n 's/^error \([0-9]*\) at \([0-9]*\):.*/\1@\2/p' <<< "$got")
                 [ "${pred#fail }" = "$code" ] || {
                   say "MISMATCH $shape/$sname $client: predicted $pred, got $got"; bad=1; }
               fi ;;
    esac
  done
}

# check_fixes SHAPE STORE-NAME DIR STORE: every chain fix the event names
# for the OpenSSL-style builders, applied (the chain served without the
# certificate it names), passes with oldssl_verify; every store fix
# (remove an expired root) too.
check_fixes() {
  local ev=$WORK/$1-$2.event fam mode drop keep n=0
  for mode in 102 101; do
    fam=openssl$mode
    drop=$(jq -r --arg f "$fam" '.clients[] | select(.family == $f) |
      .fix.chain // empty' "$ev" | sed -n 's/^drop \(.*\) from the chain:.*/\1/p')
    if [ -n "$drop" ]; then
      awk -v d="$WORK/fx" '/BEGIN CERT/{n++} n {print > (d n ".pem")}' "$3/inter.pem"
      : > "$WORK/fx-inter.pem"
      for keep in "$WORK"/fx[0-9]*.pem; do
        openssl x509 -in "$keep" -noout -subject | grep -q "CN = $drop\$" ||
          cat "$keep" >> "$WORK/fx-inter.pem"
        rm -f "$keep"
      done
      assert_eq "$("$OV" 1.0.$((mode - 100)) "$4" "$WORK/fx-inter.pem" "$3/leaf.pem" now)" \
        ok "$1/$2 $fam after the fix '$drop dropped'"
      n=$((n + 1))
    fi
    drop=$(jq -r --arg f "$fam" '.clients[] | select(.family == $f) |
      .fix.store // empty' "$ev" | sed -n 's/^remove the expired root \(.*\) from the trust store$/\1/p')
    if [ -n "$drop" ]; then
      : > "$WORK/fx-store.pem"
      for keep in "$3"/root-*.pem; do
        openssl x509 -in "$keep" -noout -subject | grep -q "CN = $drop\$" ||
          cat "$keep" >> "$WORK/fx-store.pem"
      done
      assert_eq "$("$OV" 1.0.$((mode - 100)) "$WORK/fx-store.pem" "$3/inter.pem" "$3/leaf.pem" now)" \
        ok "$1/$2 $fam after the fix 'remove $drop'"
      n=$((n + 1))
    fi
  done
  FIXES=$((FIXES + n))
}

CLIENTS="curl python oldssl102 oldssl101 gnutls go java node python-strict"
FIXES=0 CACHED=0
# 2021: leaf > R3 > ISRG Root X1 cross-signed by DST Root CA X3, the day
# after DST Root CA X3 expired.
clone_shape c21 "$X/served-2021-default-leaf+R3+X1cross.pem" \
  "$R/store-2021-dst+isrg.pem" 2021-10-01T00:00:00Z
D=$WORK/c21
serve "$D"
for sname in both isrg dst; do
  case $sname in
    both) store=$D/store.pem ;;
    isrg) store=$D/root-ISRG_Root_X1.pem ;;
    dst) store=$D/root-DST_Root_CA_X3.pem ;;
  esac
  [ -s "$store" ] || fail "no cloned store for $sname"
  event_through_proxy "c21-$sname" "$store" geoip.elastic.dev
  check c21 "$sname" "$D" "$store" geoip.elastic.dev $CLIENTS
  check_fixes c21 "$sname" "$D" "$store"
done
kill "$SPID"; wait "$SPID" 2>/dev/null

# 2020: leaf > Sectigo RSA DV > USERTrust RSA cross-signed by AddTrust
# External CA Root, the day after AddTrust expired.
clone_shape c20 "$X/served-2020-leaf+SectigoDV+UTcross.pem" \
  "$R/store-2020-addtrust+usertrust.pem" 2020-06-01T00:00:00Z
D=$WORK/c20
serve "$D"
for sname in both usertrust addtrust; do
  case $sname in
    both) store=$D/store.pem ;;
    usertrust) store=$D/root-USERTrust_RSA_Certification_Authority.pem ;;
    addtrust) store=$D/root-AddTrust_External_CA_Root.pem ;;
  esac
  [ -s "$store" ] || fail "no cloned store for $sname ($(ls "$D"))"
  event_through_proxy "c20-$sname" "$store" www.growingio.com
  check c20 "$sname" "$D" "$store" www.growingio.com $CLIENTS
  check_fixes c20 "$sname" "$D" "$store"
done
kill "$SPID"; wait "$SPID" 2>/dev/null

# The incident cells themselves, whatever the clients say: 1.0.2 fails
# with error 10 at depth 3 on the 2021 chain with both roots, 1.0.1 with
# error 20 at depth 2 with ISRG Root X1 alone; OpenSSL 3 passes both.
for want in "c21-both openssl102 fail 10 3" "c21-isrg openssl101 fail 20 2" \
            "c21-both openssl3 pass null null" "c21-isrg openssl3 pass null null"; do
  set -- $want
  assert_eq "$(jq -r --arg f "$2" '.clients[] | select(.family == $f) |
    "\(.verdict) \(.error_code) \(.error_depth)"' "$WORK/$1.event")" "$3 $4 $5" \
    "$1 $2"
done
# Each family's path: every element with where it came from.
assert_eq "$(jq -r '.clients[] | select(.family == "openssl102") |
  [.path[] | .from + (if (.errors | length) > 0 then "!" + (.errors | join(",")) else "" end)] |
  join(" ")' "$WORK/c21-both.event")" "sent sent sent store!expired" \
  "c21-both openssl102 path"
jq -e '.clients[] | select(.family == "openssl3") | .horizon |
  test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")' \
  "$WORK/c21-both.event" > /dev/null || fail "c21-both: openssl3 has no horizon"

# The horizon gauge: one series per family for the host, 0 where the
# family fails now, the event's horizon where it passes.
m=$WORK/c21-both.metrics
grep -q '^chainproxy_chain_horizon_timestamp_seconds{host="geoip.elastic.dev",family="openssl102"} 0$' "$m" ||
  fail "no openssl102 horizon of 0 in /metrics: $(grep horizon "$m")"
h=$(jq -r '.clients[] | select(.family == "openssl3") | .horizon' "$WORK/c21-both.event")
grep -q "^chainproxy_chain_horizon_timestamp_seconds{host=\"geoip.elastic.dev\",family=\"openssl3\"} $(date -u -d "$h" +%s)\$" "$m" ||
  fail "openssl3's horizon $h is not in /metrics: $(grep horizon "$m")"
[ "$(grep -c '^chainproxy_chain_horizon_timestamp_seconds{' "$m")" -ge 14 ] ||
  fail "fewer than 14 horizon series"

# docs/diagnosis.md's example, as written (the real 2021 chain at the
# incident date): the path, the error and both fixes for openssl102.
out=$(cd "$CP_SRC" && "$CP_BIN" verify --chain-file certs/real/extra/served-2021-default-leaf+R3+X1cross.pem --upstream-ca certs/real/store-2021-dst+isrg.pem --at 2021-10-01T00:00:00Z)
rc=$?
# It verified with OpenSSL 3, yet three families fail now: a warning,
# exit 4, so a CI check on the exit status sees the 2021 break.
assert_eq "$rc" 4 "verify's exit status on the 2021 long chain"
for line in "warning: fails_for_some_clients" \
  "hint:    This chain verified here, but 3 client families build a path that fails now: openssl102 (certificate has expired), openssl101 (certificate has expired), gnutls_old (expired); each family's fix is in 'clients'." \
  "  openssl3    pass until 2021-11-09T09:01:35Z (horizon)" \
  "  openssl102  FAIL (expired: error 10 at depth 3: certificate has expired)" \
  "      3 CN=DST Root CA X3,O=Digital Signature Trust Co. [store] !expired" \
  "      fix (server): drop ISRG Root X1 from the chain: serve geoip.elastic.dev > R3" \
  "      fix (client): remove the expired root DST Root CA X3 from the trust store"; do
  grep -qxF -- "$line" <<< "$out" || fail "verify's output lacks: $line"
done
awk '/^\$ chainproxy verify --chain-file certs\/real\/extra\/served-2021/' \
  "$CP_SRC/docs/diagnosis.md" | grep -q . || fail "diagnosis.md no longer shows the example"

# Python 3.13's strict profile: a CA whose basicConstraints is not
# critical. OpenSSL 3 (curl, Python <= 3.12) accepts it; strict refuses.
S=$WORK/strict
mkdir -p "$S"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$S/ca.key" -out "$S/ca.pem" \
  -days 30 -subj "/CN=Lax CA" -addext "basicConstraints=CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" > /dev/null 2>&1 ||
  fail "strict CA"
openssl req -newkey rsa:2048 -nodes -keyout "$S/leaf.key" -out "$S/leaf.csr" \
  -subj "/CN=localhost" > /dev/null 2>&1 || fail "strict leaf csr"
printf 'subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n' \
  > "$S/ext"
openssl x509 -req -in "$S/leaf.csr" -CA "$S/ca.pem" -CAkey "$S/ca.key" \
  -CAcreateserial -days 20 -extfile "$S/ext" -out "$S/leaf.pem" > /dev/null 2>&1 ||
  fail "strict leaf"
: > "$S/inter.pem"
serve "$S"
event_through_proxy strict-lax "$S/ca.pem" localhost
check strict lax "$S" "$S/ca.pem" localhost curl python python-strict
assert_eq "$(jq -r '.clients[] | select(.family == "python313") | .simulated_kind' \
  "$WORK/strict-lax.event")" strict "python313's error kind"
kill "$SPID"; wait "$SPID" 2>/dev/null

# Browsers on a chain nothing can complete: the leaf alone, its issuer
# named by no AIA URL (what --chain incomplete serves). The event's
# browsers verdict (Chrome's simulated path) must be what Chromium does
# with the root in its own NSS database; with the intermediate sent, the
# same Chromium loads the page (the control).
command -v chromium > /dev/null && command -v certutil > /dev/null ||
  fail "chromium and certutil (libnss3-tools) are needed"
N=$WORK/noaia
mkdir -p "$N/nss/.pki/nssdb"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$N/ca.key" -out "$N/ca.pem" \
  -days 30 -subj "/CN=NoAIA Root" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" > /dev/null 2>&1 ||
  fail "noaia root"
openssl req -newkey rsa:2048 -nodes -keyout "$N/int.key" -out "$N/int.csr" \
  -subj "/CN=NoAIA Intermediate" > /dev/null 2>&1 || fail "noaia int csr"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
  > "$N/int.ext"
openssl x509 -req -in "$N/int.csr" -CA "$N/ca.pem" -CAkey "$N/ca.key" \
  -CAcreateserial -days 25 -extfile "$N/int.ext" -out "$N/int.pem" \
  > /dev/null 2>&1 || fail "noaia int"
openssl req -newkey rsa:2048 -nodes -keyout "$N/leaf.key" -out "$N/leaf.csr" \
  -subj "/CN=localhost" > /dev/null 2>&1 || fail "noaia leaf csr"
printf 'subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
  > "$N/leaf.ext"
openssl x509 -req -in "$N/leaf.csr" -CA "$N/int.pem" -CAkey "$N/int.key" \
  -CAcreateserial -days 20 -extfile "$N/leaf.ext" -out "$N/leaf.pem" \
  > /dev/null 2>&1 || fail "noaia leaf"
certutil -d "sql:$N/nss/.pki/nssdb" -N --empty-password &&
  certutil -d "sql:$N/nss/.pki/nssdb" -A -t "C,," -n noaia -i "$N/ca.pem" ||
  fail "certutil"
# chromium_sees NAME: the page or Chromium's net error for the origin.
chromium_sees() {
  HOME=$N/nss timeout 60 chromium --headless=new --no-sandbox --disable-gpu \
    --no-first-run --user-data-dir="$N/ud-$1" \
    --dump-dom "https://localhost:$SPORT/" > "$N/$1.out" 2> "$N/$1.err"
  grep -ho 'ERR_CERT_[A-Z_]*\|s_server -accept' "$N/$1.out" "$N/$1.err" |
    sort -u | head -1
}
: > "$N/none.pem"
serve "$N" "$N/none.pem"
event_through_proxy noaia "$N/ca.pem" localhost
predicted=$(jq -r '.clients[] | select(.family == "browsers") |
  "\(.verdict) \(.error)"' "$WORK/noaia.event")
observed=$(chromium_sees leaf-only)
say "leaf only, no AIA: browsers predicted '$predicted', Chromium '$observed'"
assert_eq "$predicted" "fail NET::ERR_CERT_AUTHORITY_INVALID" \
  "the browsers prediction on a leaf without AIA"
assert_eq "$observed" "ERR_CERT_AUTHORITY_INVALID" "Chromium on the leaf alone"
kill "$SPID"; wait "$SPID" 2>/dev/null
serve "$N" "$N/int.pem"
assert_eq "$(chromium_sees full)" "s_server -accept" "Chromium with the intermediate"
kill "$SPID"; wait "$SPID" 2>/dev/null

[ "${CP_SHOW_WHO:-1}" = 0 ] || cat "$MATRIX"
cp "$MATRIX" "$CP_BUILD/whosim-matrix.txt" 2>/dev/null || true
say "$cells cells, $FIXES fixes applied and checked, $CACHED repeated chains served from the chain cache"
[ "$bad" = 0 ] || fail "predictions differ from what the real verifiers did"
[ "$cells" -ge 50 ] || fail "only $cells cells"
[ "$FIXES" -ge 3 ] || fail "only $FIXES fixes checked"
[ "$CACHED" -ge 7 ] || fail "only $CACHED chains came from the cache"
say "ok"
