#!/bin/bash
# Issue 26: the real 2020 and 2021 incidents as chain profiles. dst-2021,
# dst-2021-short and addtrust-2020 are the real chains (certs/real) cloned
# at start, shifted so that the incident is now, served through chainproxy
# on 127.0.0.1 to real clients that trust the profile's cloned "as of
# then" stores (CA_DIR/incidents/PROFILE-store-NAME.pem). Every client x
# store cell must print exactly what the matrices of docs/profiles.md say
# (the test reads them from the page), so a profile that served the wrong
# shape (a missing cross-sign, an unshifted root, another depth) fails
# here. The worked example of docs/profiles.md is then run as written.
. "$(dirname "$0")/lib.sh"
need curl openssl python3 go java keytool gnutls-cli jq setsid

CL=$CP_IT/clients
REAL=$CP_SRC/certs/real
DOC=$CP_SRC/docs/profiles.md
OLD=$CP_BUILD/tests/oldssl_client
OLDV=$CP_BUILD/tests/oldssl_verify
[ -x "$OLD" ] && [ -x "$OLDV" ] || fail "oldssl_client/oldssl_verify not built"
export GOCACHE=$WORK/gocache GOPATH=$WORK/gopath GO111MODULE=off
go build -o "$WORK/incident_go" "$CL/incident_go.go" ||
  fail "go build incident_go.go"

# The clone keys first: `chainproxy clone` fills the CA directory's key
# cache (the 4096-bit roots take seconds to make), which the profiles then
# use, so the proxies start at once and sign with the same keys.
mkdir -p "$PROXY_CA"
for c in 2021:served-2021-default-leaf+R3+X1cross:store-2021-dst+isrg \
         2020:served-2020-leaf+SectigoDV+UTcross:store-2020-addtrust+usertrust; do
  IFS=: read -r y chain store <<<"$c"
  "$CP_BIN" clone "$REAL/extra/$chain.pem" --store "$REAL/$store.pem" \
    --ca-dir "$PROXY_CA" --out "$WORK/clone$y" > "$WORK/clone$y.log" 2>&1 ||
    fail "clone $chain: $(cat "$WORK/clone$y.log")"
done

make_origin_pki
start_origin --tls
O=$ORIGIN_PORT
URL=https://localhost:$O/hello
PROFILES="dst-2021 dst-2021-short addtrust-2020"
declare -A PP TUN STORES
STORES[dst-2021]="both isrg dst"
STORES[dst-2021-short]="both isrg dst"
STORES[addtrust-2020]="both usertrust addtrust"
for p in $PROFILES; do
  EVENTS_FILE=$WORK/events-$p.jsonl start_proxy --chain "$p" \
    --upstream-ca "$ORIGIN_CA"
  PP[$p]=$PROXY_PORT
done
S=$PROXY_CA/incidents

# Stores "as of then", written at start; keys the clone made are reused.
for p in $PROFILES; do
  for s in ${STORES[$p]}; do
    [ -s "$S/$p-store-$s.pem" ] || fail "no $S/$p-store-$s.pem"
  done
done
spki() { openssl x509 -noout -pubkey | openssl sha256 | awk '{print $2}'; }
a=$(awk '/BEGIN/{n++} n==2' "$WORK/clone2021/store.pem" | spki)
b=$(spki < "$S/dst-2021-store-isrg.pem")
assert_eq "$b" "$a" "ISRG Root X1's clone key (clone --ca-dir vs the profile)"
[ "$(grep -c BEGIN "$S/dst-2021-store-both.pem")" = 2 ] ||
  fail "dst-2021-store-both.pem should hold two roots"
# The shift: DST Root CA X3 expired an hour before the start, AddTrust too.
for f in dst-2021-store-dst addtrust-2020-store-addtrust; do
  end=$(openssl x509 -in "$S/$f.pem" -noout -enddate | cut -d= -f2)
  left=$(($(date -u -d "$end" +%s) - $(date +%s)))
  [ "$left" -le -3500 ] && [ "$left" -ge -3900 ] ||
    fail "$f: the root expires $end ($left s from now), not an hour ago"
done

# The shape served: the real order, the leaf re-issued for the host.
shape() { # PROFILE -> the served chain's subject/issuer lines
  openssl s_client -proxy "127.0.0.1:${PP[$1]}" -connect "localhost:$O" \
    -servername localhost -showcerts < /dev/null 2>/dev/null |
    grep -E '^ [0-9] s:|^   i:'
}
got=$(shape dst-2021)
exp=" 0 s:CN = localhost
   i:C = US, O = Let's Encrypt, CN = R3
 1 s:C = US, O = Let's Encrypt, CN = R3
   i:C = US, O = Internet Security Research Group, CN = ISRG Root X1
 2 s:C = US, O = Internet Security Research Group, CN = ISRG Root X1
   i:O = Digital Signature Trust Co., CN = DST Root CA X3"
assert_eq "$got" "$exp" "dst-2021 chain served"
got=$(shape dst-2021-short)
exp=" 0 s:CN = localhost
   i:C = US, O = Let's Encrypt, CN = R3
 1 s:C = US, O = Let's Encrypt, CN = R3
   i:O = Digital Signature Trust Co., CN = DST Root CA X3"
assert_eq "$got" "$exp" "dst-2021-short chain served"
got=$(shape addtrust-2020)
exp=" 0 s:OU = Domain Control Validated, OU = EssentialSSL Wildcard, CN = localhost
   i:C = GB, ST = Greater Manchester, L = Salford, O = Sectigo Limited, CN = Sectigo RSA Domain Validation Secure Server CA
 1 s:C = GB, ST = Greater Manchester, L = Salford, O = Sectigo Limited, CN = Sectigo RSA Domain Validation Secure Server CA
   i:C = US, ST = New Jersey, L = Jersey City, O = The USERTRUST Network, CN = USERTrust RSA Certification Authority
 2 s:C = US, ST = New Jersey, L = Jersey City, O = The USERTRUST Network, CN = USERTrust RSA Certification Authority
   i:C = SE, O = AddTrust AB, OU = AddTrust External TTP Network, CN = AddTrust External CA Root"
assert_eq "$got" "$exp" "addtrust-2020 chain served"
# The leaf keeps the real leaf's extensions, in order; only its names
# are the host's.
openssl s_client -proxy "127.0.0.1:${PP[dst-2021]}" -connect "localhost:$O" \
  -servername localhost -showcerts < /dev/null 2>/dev/null |
  awk '/BEGIN CERT/,/END CERT/' > "$WORK/served-dst-2021.pem"
exts() { openssl x509 -noout -text | grep -E '^ {12}[A-Za-z].*:( critical)?$'; }
assert_eq "$(exts < "$WORK/served-dst-2021.pem")" \
  "$(exts < "$REAL/le-leaf-2021.pem")" "leaf extensions"
san=$(openssl x509 -in "$WORK/served-dst-2021.pem" -noout -ext subjectAltName |
  tail -1 | tr -d ' ')
assert_eq "$san" "DNS:localhost" "leaf SAN"

# gnutls-cli cannot use a proxy: a CONNECT tunnel port per proxy.
for p in $PROFILES; do
  python3 "$CL/tunnel.py" "${PP[$p]}" "localhost:$O" > "$WORK/tunnel.$p" 2>&1 &
  CP_PIDS+=($!)
done
for p in $PROFILES; do
  for i in $(seq 1 100); do
    grep -q '^ready ' "$WORK/tunnel.$p" 2>/dev/null && break
    sleep 0.05
  done
  TUN[$p]=$(awk '/^ready /{print $2}' "$WORK/tunnel.$p")
  [ -n "${TUN[$p]}" ] || fail "tunnel for $p did not start"
done

# One cell per client, profile and store: what the client printed (Go's
# message without the URL and the times, gnutls-cli's status line without
# its prefix).
declare -A GOT
for p in $PROFILES; do
  px=http://127.0.0.1:${PP[$p]}
  openssl s_client -proxy "127.0.0.1:${PP[$p]}" -connect "localhost:$O" \
    -servername localhost -showcerts < /dev/null 2>/dev/null |
    awk '/BEGIN CERT/,/END CERT/' > "$WORK/served-$p.pem"
  awk '/BEGIN/{n++} n==1' "$WORK/served-$p.pem" > "$WORK/leaf-$p.pem"
  awk '/BEGIN/{n++} n>1' "$WORK/served-$p.pem" > "$WORK/rest-$p.pem"
  for s in ${STORES[$p]}; do
    st=$S/$p-store-$s.pem
    out=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 \
      --cacert "$st" -x "$px" "$URL" 2>&1 | head -1)
    GOT[curl:$p:$s]=$out
    GOT[python:$p:$s]=$(python3 "$CL/py_client.py" 127.0.0.1 0 localhost "$O" \
      "$st" "x=${PP[$p]}" | cut -f2)
    for m in current 1.0.2 1.0.1; do
      GOT[openssl-$m:$p:$s]=$("$OLD" "$m" "127.0.0.1:${PP[$p]}" \
        "localhost:$O" "$st")
    done
    for m in 1.0.2 1.0.1; do
      GOT[verify-$m:$p:$s]=$("$OLDV" "$m" "$st" "$WORK/rest-$p.pem" \
        "$WORK/leaf-$p.pem" now)
    done
    GOT[go:$p:$s]=$("$WORK/incident_go" "$st" "$px" "$URL" |
      sed -E 's/^error Get "[^"]*": /error /; s/: current time .*//')
    out=$(timeout 20 gnutls-cli --x509cafile="$st" -p "${TUN[$p]}" localhost \
      < /dev/null 2>&1)
    if grep -q 'Handshake was completed' <<<"$out"; then
      GOT[gnutls:$p:$s]=ok
    else
      GOT[gnutls:$p:$s]=$(grep -m1 'Status:' <<<"$out" |
        sed 's/^- Status: The certificate is NOT trusted. //; s/ *$//')
    fi
    # Java: a PKCS12 store of the same roots, one JVM per store.
    rm -f "$WORK"/root-*.crt
    awk -v d="$WORK" '/BEGIN/{n++} {print > (d "/root-" n ".crt")}' "$st"
    for f in "$WORK"/root-*.crt; do
      keytool -importcert -noprompt -storetype PKCS12 -storepass changeit \
        -keystore "$WORK/$p-$s.p12" -alias "$(basename "$f" .crt)" \
        -file "$f" > /dev/null 2>&1 || fail "keytool $p $s"
    done
    GOT[java:$p:$s]=$(timeout 120 java "$CL/JavaClient.java" \
      "$WORK/$p-$s.p12" changeit 127.0.0.1 localhost "$O" "x=${PP[$p]}" 2>&1 |
      cut -f2)
  done
done

for p in $PROFILES; do
  say "matrix $p:"
  for client in curl python openssl-current openssl-1.0.2 openssl-1.0.1 \
    verify-1.0.2 verify-1.0.1 go java gnutls; do
    line="  $client"
    for s in ${STORES[$p]}; do
      line+=" | $s: ${GOT[$client:$p:$s]}"
    done
    say "$line"
  done
done
# The matrices of docs/profiles.md: <!-- matrix PROFILE --> and a table
# whose header names the stores and whose rows start with the client.
bad=0
cells=0
for p in $PROFILES; do
  table=$(awk -v m="<!-- matrix $p -->" '$0 == m { on = 1; next }
    on && /^\|/ { print; seen = 1; next } on && seen { exit }' "$DOC")
  [ -n "$table" ] || fail "no matrix for $p in $DOC"
  read -r -a hdr <<<"$(head -1 <<<"$table" | tr -d '`|' )"
  # hdr: client store1 store2 store3
  while IFS= read -r row; do
    IFS='|' read -r -a c <<<"$row"
    client=$(tr -d '` ' <<<"${c[1]}")
    for k in 1 2 3; do
      s=${hdr[$k]}
      want=$(sed -E 's/^ *`?//; s/`? *$//' <<<"${c[$((k + 1))]}")
      have=${GOT[$client:$p:$s]-(not run)}
      cells=$((cells + 1))
      if [ "$have" != "$want" ]; then
        say "MISMATCH $p $client $s: docs say '$want', got '$have'"
        bad=1
      fi
    done
  done < <(tail -n +3 <<<"$table")
done
[ "$cells" -ge 90 ] || fail "only $cells cells in the docs' matrices"
[ $bad = 0 ] || fail "the clients disagree with docs/profiles.md"
say "$cells cells as docs/profiles.md says"

# The CA directory is 0700: `chainproxy ca` copies the stores into the
# public directory, for clients run as other users.
"$CP_BIN" ca --ca-dir "$PROXY_CA" --public-dir "$WORK/pub" \
  > "$WORK/ca.out" 2>&1 || fail "chainproxy ca: $(cat "$WORK/ca.out")"
for p in $PROFILES; do
  for s in ${STORES[$p]}; do
    cmp -s "$S/$p-store-$s.pem" "$WORK/pub/incidents/$p-store-$s.pem" ||
      fail "no public copy of $p-store-$s.pem"
  done
done
[ "$(stat -c %a "$WORK/pub/incidents/dst-2021-store-both.pem")" = 644 ] ||
  fail "the public copy is not 0644"

# "shift_to_now": null serves the unshifted originals; a profile a
# --rules file names is built at start too (its stores are there before
# the first client).
cat > "$WORK/profiles.json" <<JSON
{"profiles": {
  "modern": {"issuer": "intermediate", "send": ["intermediate"]},
  "dst-2021-original": {
    "incident": {
      "chain": "$REAL/extra/served-2021-default-leaf+R3+X1cross.pem",
      "stores": {"both": "$REAL/store-2021-dst+isrg.pem"}
    },
    "shift_to_now": null
  }
}}
JSON
printf '[{"host": "localhost", "chain": "dst-2021-original"}]\n' \
  > "$WORK/rules.json"
EVENTS_FILE=$WORK/events-original.jsonl start_proxy \
  --profiles "$WORK/profiles.json" --rules "$WORK/rules.json" \
  --upstream-ca "$ORIGIN_CA"
st=$S/dst-2021-original-store-both.pem
[ -s "$st" ] || fail "the rule's incident profile was not built at start"
assert_eq "$(openssl x509 -in "$st" -noout -enddate)" \
  "notAfter=Sep 30 14:01:15 2021 GMT" "unshifted DST Root CA X3"
leaf=$(openssl s_client -proxy "127.0.0.1:$PROXY_PORT" -connect \
  "localhost:$O" -servername localhost < /dev/null 2>/dev/null |
  openssl x509 -noout -enddate)
assert_eq "$leaf" "$(openssl x509 -in "$REAL/le-leaf-2021.pem" -noout \
  -enddate)" "unshifted leaf notAfter"
out=$(curl -sS -o /dev/null --max-time 20 --cacert "$st" -x "$PROXY_URL" \
  "$URL" 2>&1 | head -1)
assert_eq "$out" "curl: (60) SSL certificate problem: certificate has expired" \
  "curl, unshifted"
stop_proxy

# The worked example, as written (its fixed ports moved when this test is
# not in a network namespace of its own). Its keys come from the cache.
ex=$(awk '/<!-- incident-example -->/ { on = 1; next }
  on && /^```sh$/ { b = 1; next } b && /^```$/ { exit } b { print }' "$DOC")
want=$(awk '/<!-- incident-example -->/ { on = 1 }
  on && /^```text$/ { b = 1; next } b && /^```$/ { exit } b { print }' "$DOC")
[ -n "$ex" ] && [ -n "$want" ] || fail "no incident example in $DOC"
if [ "$CP_IN_NETNS" != 1 ]; then
  ex=$(sed -e "s/127.0.0.1:8080/127.0.0.1:$(free_port)/g" \
    -e "s/8443/$(free_port)/g" <<<"$ex")
fi
mkdir -p "$WORK/run/bin" "$WORK/run/ca/clones"
cp -a "$PROXY_CA/clones/keys" "$WORK/run/ca/clones/"
ln -s "$CP_BIN" "$WORK/run/bin/chainproxy"
printf '%s\n' "$ex" > "$WORK/example.sh"
(cd "$WORK/run" && PATH=$WORK/run/bin:$PATH exec setsid bash -e \
  "$WORK/example.sh") > "$WORK/example.out" 2>&1 &
ex_pid=$!
wait $ex_pid
ex_rc=$?
kill -- -"$ex_pid" 2>/dev/null
[ $ex_rc = 0 ] || { cat "$WORK/example.out"; fail "the example failed"; }
diff -u <(printf '%s\n' "$want") "$WORK/example.out" ||
  fail "the example prints something else"
say "ok"
