#!/bin/bash
# The client error strings of docs/diagnosis.md, checked against the real
# clients: for each handshake cause the table names what curl, Python,
# Node and Java print. Upstream causes are observed with each client
# connecting straight to an origin built to fail that way (the error the
# user brings to chainproxy; through chainproxy the same origin gives a
# 502 naming the cause, it.handshake.openssl); client-side causes are
# observed through chainproxy, which refuses the client. Every fragment
# in the table's cells must appear in what the client printed.
# CP_SHOW_STRINGS=1 prints the observed strings as table rows.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 node java javac keytool

make_origin_pki
declare -A PORT
s_server tls11 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
s_server mtls12 -tls1_2 -Verify 1 -CAfile "$ORIGIN_CA"
s_server mtls13 -tls1_3 -Verify 1 -CAfile "$ORIGIN_CA" -www
s_server nocipher -tls1_2 -cipher 'ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0'
s_server alert -servername other.test -servername_fatal \
  -cert2 "$ORIGIN_CERT" -key2 "$ORIGIN_KEY"
PORT[plain]=$(free_port)
python3 -m http.server --bind 127.0.0.1 "${PORT[plain]}" > /dev/null 2>&1 &
CP_PIDS+=($!)
wait_port "${PORT[plain]}"
# silent: accepts and never answers; closing: reads the hello and closes.
python3 - > "$WORK/raw.ports" <<'PY' &
import socket, threading
def serve(close):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
    held = []
    def loop():
        while True:
            c, _ = s.accept()
            if close:
                c.recv(4096); c.close()
            else:
                held.append(c)
    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]
print(serve(False), serve(True), flush=True)
threading.Event().wait()
PY
CP_PIDS+=($!)
read -r PORT[silent] PORT[closing] < <(wait_file "$WORK/raw.ports")
node "$CP_IT/h2_origin.js" "$ORIGIN_CERT" "$ORIGIN_KEY" > "$WORK/h2.out" 2>&1 &
CP_PIDS+=($!)
wait_for "the h2 origin" grep -q '^ready ' "$WORK/h2.out"
PORT[h2only]=$(awk '/^ready /{print $2}' "$WORK/h2.out")

# The proxy refuses clients for itself: TLS 1.0 only, RSA key exchange
# only, no SNI (the rule for 127.0.0.1).
echo '[{"host": "127.0.0.1", "chain": "modern", "require_sni": true}]' \
  > "$WORK/rules.json"
start_proxy --upstream-ca "$ORIGIN_CA" --rules "$WORK/rules.json"

mkdir -p "$WORK/java"
javac -d "$WORK/java" "$CP_IT/clients/HsClient.java" || fail "javac"
for ca in origin proxy; do
  f=$ORIGIN_CA; [ $ca = proxy ] && f=$ROOT
  keytool -importcert -noprompt -alias ca -file "$f" -storetype PKCS12 \
    -storepass changeit -keystore "$WORK/$ca.p12" > /dev/null 2>&1 ||
    fail "keytool $ca"
done
# Java refuses TLS 1.0 locally unless its security file allows it.
echo "jdk.tls.disabledAlgorithms=" > "$WORK/java.security"

# observe CLIENT WHERE URL [MODE]: what the client printed. WHERE is
# direct or proxy; MODE is tls10 (offers only TLS 1.0), rsa (only RSA key
# exchange) or h1 (offers http/1.1 in ALPN, for curl --http1.1).
observe() {
  local client=$1 where=$2 url=$3 mode=${4:-} ca=$ORIGIN_CA store=origin
  local args=()
  [ "$where" = proxy ] && ca=$ROOT && store=proxy
  case $client in
    curl)
      [ "$where" = proxy ] && args+=(-x "$PROXY_URL")
      case $mode in
        tls10) args+=(--tlsv1.0 --tls-max 1.0 --ciphers 'DEFAULT:@SECLEVEL=0') ;;
        rsa) args+=(--tls-max 1.2 --ciphers AES128-SHA) ;;
        h1) args+=(--http1.1) ;;
      esac
      curl -sS -o /dev/null --max-time 5 --cacert "$ca" "${args[@]}" "$url" 2>&1 ||
        true ;;
    python)
      [ "$where" = proxy ] && args+=(--proxy "127.0.0.1:$PROXY_PORT")
      case $mode in
        tls10) args+=(--tls-max 1.0 --ciphers 'DEFAULT:@SECLEVEL=0') ;;
        rsa) args+=(--tls-max 1.2 --ciphers AES128-SHA) ;;
      esac
      python3 "$CP_IT/clients/hs_client.py" "$url" "$ca" "${args[@]}" ;;
    node)
      [ "$where" = proxy ] && args+=(--proxy "127.0.0.1:$PROXY_PORT")
      case $mode in
        tls10) args+=(--tls-max 1.0) ;;
        rsa) args+=(--tls-max 1.2 --ciphers AES128-SHA) ;;
      esac
      node "$CP_IT/clients/hs_client.js" "$url" "$ca" "${args[@]}" ;;
    java)
      [ "$where" = proxy ] && args+=(-Dhttps.proxyHost=127.0.0.1
        -Dhttps.proxyPort="$PROXY_PORT" -Dhttp.nonProxyHosts=)
      case $mode in
        tls10) args+=(-Djdk.tls.client.protocols=TLSv1
          -Djava.security.properties="$WORK/java.security") ;;
        rsa) args+=(-Djdk.tls.client.protocols=TLSv1.2
          -Dhttps.cipherSuites=TLS_RSA_WITH_AES_128_CBC_SHA) ;;
      esac
      java -cp "$WORK/java" -Djavax.net.ssl.trustStore="$WORK/$store.p12" \
        -Djavax.net.ssl.trustStorePassword=changeit "${args[@]}" HsClient "$url" ;;
  esac 2>&1 | tr -s '\n' ' ' | sed 's/ *$//'
}

# The scenario of each table row: WHERE URL MODE.
scenario() {
  case $1 in
    tls_version) echo "direct https://localhost:${PORT[tls11]}/" ;;
    no_shared_cipher) echo "direct https://localhost:${PORT[nocipher]}/" ;;
    alpn_mismatch) echo "direct https://localhost:${PORT[h2only]}/ h1" ;;
    client_cert_required) echo "direct https://localhost:${PORT[mtls12]}/" ;;
    client_cert_required_13) echo "direct https://localhost:${PORT[mtls13]}/" ;;
    not_tls) echo "direct https://localhost:${PORT[plain]}/" ;;
    handshake_timeout) echo "direct https://localhost:${PORT[silent]}/" ;;
    handshake_alert) echo "direct https://localhost:${PORT[alert]}/" ;;
    handshake_closed) echo "direct https://localhost:${PORT[closing]}/" ;;
    client_tls_version) echo "proxy https://localhost:${PORT[mtls13]}/ tls10" ;;
    client_no_shared_cipher) echo "proxy https://localhost:${PORT[mtls13]}/ rsa" ;;
    client_no_sni) echo "proxy https://127.0.0.1:${PORT[mtls13]}/" ;;
    *) fail "no scenario for table row '$1'" ;;
  esac
}

CLIENTS=(curl python node java)
if [ "${CP_SHOW_STRINGS:-}" = 1 ]; then
  for row in tls_version no_shared_cipher alpn_mismatch client_cert_required \
             client_cert_required_13 not_tls handshake_timeout handshake_alert \
             handshake_closed client_tls_version client_no_shared_cipher \
             client_no_sni; do
    line="| $row |"
    for client in "${CLIENTS[@]}"; do
      line+=" $(observe "$client" $(scenario "$row")) |"
    done
    echo "$line"
  done
  exit 0
fi

# The rows of the two tables: "| `cause` ... | `a` ... `b` | ... |" where a
# cell lists fragments in backticks that must all appear in the client's
# text. Rows of the client-side table are the client_ scenarios.
doc=$CP_SRC/docs/diagnosis.md
rows=$(awk '/^<!-- client-strings (upstream|client) -->/{side=$3; next}
            /^<!-- \/client-strings -->/{side=""}
            side != "" && /^\| `/{print side "|" $0}' "$doc")
[ -n "$rows" ] || fail "no client-strings tables in docs/diagnosis.md"
checked=0
while IFS= read -r line; do
  IFS='|' read -r side _ rowcell c1 c2 c3 c4 _ <<< "$line"
  row=$(grep -o '`[^`]*`' <<< "$rowcell" | head -n 1 | tr -d '`')
  case $rowcell in *"TLS 1.3"*) row+=_13 ;; esac
  [ "$side" = client ] && row=client_$row
  cells=("$c1" "$c2" "$c3" "$c4")
  for i in 0 1 2 3; do
    got=$(observe "${CLIENTS[$i]}" $(scenario "$row"))
    frags=$(grep -o '`[^`]*`' <<< "${cells[$i]}" | tr -d '`')
    [ -n "$frags" ] || fail "$row/${CLIENTS[$i]}: empty cell"
    while IFS= read -r frag; do
      assert_contains "$got" "$frag" "$row/${CLIENTS[$i]}"
    done <<< "$frags"
    checked=$((checked + 1))
  done
done <<< "$rows"
[ "$checked" -ge 44 ] || fail "only $checked cells checked"
expect_event '.event == "client_handshake" and .cause == "no_sni"' "no_sni"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok: $checked cells"
