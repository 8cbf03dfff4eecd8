#!/bin/bash
# Who breaks, proven on every defect fixture: each chain of
# fixture_pki.sh is served by openssl s_server and met by the real clients
# straight (curl, Python's ssl, Node's https, gnutls-cli, Java); each
# client's pass or fail must be what `chainproxy verify` predicted for its
# family (openssl3 for curl, Python and Node). A prediction of "unknown"
# is counted, never matched. CP_SHOW_WHO=1 prints every cell.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 node gnutls-cli java javac keytool

FX=$WORK/fx
bash "$CP_IT/fixture_pki.sh" "$FX" > "$WORK/fixture.log" 2>&1 ||
  fail "fixture PKI: $(tail -5 "$WORK/fixture.log")"
mkdir -p "$WORK/java"
javac -d "$WORK/java" "$CP_IT/clients/HsClient.java" || fail "javac"
for store in modern legacy both goneroot; do
  # keytool takes one certificate per call.
  awk -v d="$WORK" -v s="$store" '/BEGIN CERT/{n++} {print > (d "/" s "." n ".pem")}' \
    "$FX/store-$store.pem"
  for f in "$WORK/$store".*.pem; do
    keytool -importcert -noprompt -alias "$(basename "$f")" -file "$f" \
      -storetype PKCS12 -storepass changeit -keystore "$WORK/$store.p12" \
      > /dev/null 2>&1 || fail "keytool $f"
  done
done

CASES='valid modern
legacy legacy
legacy modern
legacy both
valid legacy
expired-leaf modern
expired-inter modern
expired-root goneroot
incomplete modern
incomplete-aia modern
self-signed modern
untrusted-root modern
wrong-host modern
not-yet-valid modern
sha1 modern
rsa1024 modern
bad-usage modern
name-constraints modern
critical-ext modern
path-length modern
invalid-ca modern
policy modern
bad-signature modern'

# observe CLIENT PORT STORE: "ok" or what the client printed.
observe() {
  local url=https://localhost:$2/ ca=$FX/store-$3.pem out
  case $1 in
    curl) out=$(curl -sS -o /dev/null --max-time 10 --cacert "$ca" "$url" 2>&1) &&
            out=ok ;;
    python) out=$(python3 "$CP_IT/clients/hs_client.py" "$url" "$ca") ;;
    node) out=$(node "$CP_IT/clients/hs_client.js" "$url" "$ca") ;;
    gnutls) out=$(timeout 10 gnutls-cli --x509cafile="$ca" -p "$2" localhost \
                    < /dev/null 2>&1)
            if grep -q 'Handshake was completed' <<< "$out"; then out=ok
            else out=$(grep -m1 -E 'Status:|Error' <<< "$out"); fi ;;
    java) out=$(java -cp "$WORK/java" -Djavax.net.ssl.trustStore="$WORK/$3.p12" \
                  -Djavax.net.ssl.trustStorePassword=changeit HsClient "$url") ;;
  esac
  case $out in "ok "*) out=ok ;; esac
  echo "$out"
}

family() { case $1 in curl|python) echo openssl3 ;; *) echo "$1" ;; esac; }

checked=0 unknown=0 bad=0
while read -r c store; do
  [ -n "$c" ] || continue
  p=$(free_port)
  extra=()
  [ -s "$FX/$c.extra.pem" ] && extra=(-cert_chain "$FX/$c.extra.pem")
  openssl s_server -accept "127.0.0.1:$p" -cert "$FX/$c.leaf.pem" \
    -key "$FX/$c.key" "${extra[@]}" -no-CAfile -no-CApath \
    -no-CAstore -www -quiet -cipher 'DEFAULT:@SECLEVEL=0' \
    > "$WORK/s_server.log" 2>&1 < /dev/null &
  pid=$!
  CP_PIDS+=($pid)
  wait_port "$p"
  json=$("$CP_BIN" verify "localhost:$p" --upstream-ca "$FX/store-$store.pem" \
           --json 2>/dev/null)
  for client in curl python node gnutls java; do
    fam=$(family "$client")
    verdict=$(jq -r ".clients[] | select(.family == \"$fam\") | .verdict" <<< "$json")
    got=$(observe "$client" "$p" "$store")
    [ "${CP_SHOW_WHO:-}" = 1 ] && say "$c/$store $client: predicted $verdict, got $got"
    if [ "$verdict" = unknown ]; then
      unknown=$((unknown + 1))
    elif { [ "$verdict" = pass ] && [ "$got" != ok ]; } ||
         { [ "$verdict" = fail ] && [ "$got" = ok ]; }; then
      say "MISMATCH $c/$store $client: predicted $verdict, got: $got"; bad=1
    fi
    checked=$((checked + 1))
  done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done <<< "$CASES"
say "$checked cells, $unknown predicted unknown"
[ "$bad" = 0 ] || fail "predictions differ from what the clients did"
[ "$checked" -ge 100 ] || fail "only $checked cells"
say "ok"
