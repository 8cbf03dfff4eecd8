#!/bin/bash
# --chain exact (issue 26): the client is served a structural clone of the
# chain the upstream presented. An origin whose intermediate expired (from
# fixture_pki.sh, made with the openssl command line) fails in curl and
# openssl s_client through the proxy, trusting a shadow store made with
# `chainproxy ca --shadow-store` from the origin's roots, exactly as it
# fails directly against the origin trusting those roots: curl exit 60
# "certificate has expired", s_client depth 1. A valid origin passes. The
# second connection reuses the cached clone. Then Python, Node, gnutls-cli,
# Go and Java, each directly and through exact, on the expired
# intermediate, a missing intermediate, an unknown critical extension and
# a NUL in a SAN: each prints the same words both ways.
. "$(dirname "$0")/lib.sh"
need curl openssl jq python3 node gnutls-cli go java javac keytool

FX=$WORK/fx
bash "$CP_IT/fixture_pki.sh" "$FX" > "$WORK/fixture.log" 2>&1 ||
  fail "fixture_pki.sh failed: $(tail -3 "$WORK/fixture.log")"
ORIGIN_STORE=$FX/store-modern.pem

start_server() { # CASE: s_server presenting exactly the case's chain
  local c=$1 port
  local extra=()
  port=$(free_port)
  # s_server refuses an empty -cert_chain file (a leaf sent alone).
  [ -s "$FX/$c.extra.pem" ] && extra=(-cert_chain "$FX/$c.extra.pem")
  openssl s_server -accept "127.0.0.1:$port" -cert "$FX/$c.leaf.pem" \
    -key "$FX/$c.key" "${extra[@]}" \
    -no-CAfile -no-CApath -no-CAstore -www -quiet \
    > "$WORK/s_server.$c.log" 2>&1 < /dev/null &
  CP_PIDS+=($!)
  wait_port "$port"
  SERVER_PORT=$port
}

mkdir -p "$PROXY_CA"
"$CP_BIN" ca --ca-dir "$PROXY_CA" --shadow-store "$WORK/shadow.pem" \
  --from "$ORIGIN_STORE" > "$WORK/shadow.log" 2>&1 ||
  fail "ca --shadow-store: $(cat "$WORK/shadow.log")"
[ "$(grep -c 'BEGIN CERTIFICATE' "$WORK/shadow.pem")" = 1 ] ||
  fail "the shadow store should hold one cloned root"
cmp -s "$WORK/shadow.pem" "$ORIGIN_STORE" && fail "shadow store is a copy"

start_proxy --chain exact --upstream-ca "$ORIGIN_STORE" \
  --upstream-failure ignore
EXACT_PORT=$PROXY_PORT

# s_client's verdict line and the depth it failed at.
s_verdict() { # PORT CAFILE [PROXY]
  local extra=()
  [ -n "${3:-}" ] && extra=(-proxy "$3")
  openssl s_client -connect "127.0.0.1:$1" -servername localhost \
    -CAfile "$2" -no-CApath -no-CAstore -verify_return_error "${extra[@]}" \
    < /dev/null 2>&1 | grep -E '^(depth=|verify error|Verify return code)' |
    sort -u | tr '\n' ' '
}

# 1. The expired intermediate.
start_server expired-inter
direct=$(curl -sS --max-time 20 --cacert "$ORIGIN_STORE" \
  "https://localhost:$SERVER_PORT/" 2>&1 >/dev/null); drc=$?
t0=$(date +%s%N)
proxied=$(curl -sS --max-time 30 --cacert "$WORK/shadow.pem" -x "$PROXY_URL" \
  "https://localhost:$SERVER_PORT/" 2>&1 >/dev/null); prc=$?
t1=$(date +%s%N)
proxied2=$(curl -sS --max-time 30 --cacert "$WORK/shadow.pem" -x "$PROXY_URL" \
  "https://localhost:$SERVER_PORT/" 2>&1 >/dev/null); prc2=$?
t2=$(date +%s%N)
say "direct:  exit $drc: $(head -1 <<<"$direct")"
say "proxied: exit $prc: $(head -1 <<<"$proxied") ($(( (t1 - t0) / 1000000 )) ms first clone, $(( (t2 - t1) / 1000000 )) ms cached)"
assert_eq "$drc" 60 "curl direct exit"
assert_eq "$prc" "$drc" "curl through exact exit"
assert_eq "$prc2" "$drc" "curl through exact (cached) exit"
assert_contains "$direct" "certificate has expired"
assert_eq "${proxied#curl: (60) }" "${direct#curl: (60) }" "curl error"

sd=$(s_verdict "$SERVER_PORT" "$ORIGIN_STORE")
sp=$(s_verdict "$SERVER_PORT" "$WORK/shadow.pem" "127.0.0.1:$PROXY_PORT")
say "s_client direct:  $sd"
say "s_client proxied: $sp"
assert_contains "$sd" "depth=1"
assert_contains "$sd" "certificate has expired"
assert_eq "$(grep -o 'verify error:num=[0-9]*' <<<"$sp")" \
  "$(grep -o 'verify error:num=[0-9]*' <<<"$sd")" "s_client error"
assert_eq "$(grep -o 'depth=1' <<<"$sp" | head -1)" "depth=1" \
  "s_client failing depth through exact"
# Same order and count of certificates as the origin sent.
n_direct=$(openssl s_client -connect "127.0.0.1:$SERVER_PORT" -showcerts \
  < /dev/null 2>/dev/null | grep -c 'BEGIN CERTIFICATE')
n_proxied=$(openssl s_client -connect "127.0.0.1:$SERVER_PORT" \
  -proxy "127.0.0.1:$PROXY_PORT" -showcerts < /dev/null 2>/dev/null |
  grep -c 'BEGIN CERTIFICATE')
assert_eq "$n_proxied" "$n_direct" "certificates presented"

# 2. A valid origin passes through exact, trusting the shadow store.
start_server valid
VALID_PORT=$SERVER_PORT
out=$(curl -sS --max-time 30 --cacert "$WORK/shadow.pem" -x "$PROXY_URL" \
  "https://localhost:$SERVER_PORT/" 2>&1 >/dev/null); rc=$?
assert_eq "$rc" 0 "curl through exact to a valid origin ($out)"
# ... and fails trusting chainproxy's own root: it is not that chain.
curl -sS --max-time 30 --cacert "$ROOT" -x "$PROXY_URL" \
  "https://localhost:$SERVER_PORT/" >/dev/null 2>&1 &&
  fail "a clone verified against chainproxy's own root"
# 3. Every client, directly against the origin (trusting its roots) and
# through exact (trusting the shadow store), prints the same words.
go build -o "$WORK/tls_verify_go" "$CP_IT/clients/tls_verify_go.go" \
  > "$WORK/go.log" 2>&1 || fail "go build: $(tail -3 "$WORK/go.log")"
mkdir -p "$WORK/java"
javac -d "$WORK/java" "$CP_IT/clients/HsClient.java" || fail "javac"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# A leaf whose only name is "localhost\0.evil.example", from the fixture's
# intermediate.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$FX/nul-san.key" -out "$FX/nul-san.csr" \
  -subj "/CN=nul-san.evil.example" 2> /dev/null || fail "nul-san key"
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth" \
  "subjectAltName=DER:$(san_der 'localhost\000.evil.example')" \
  > "$FX/nul-san.cnf"
openssl x509 -req -in "$FX/nul-san.csr" -CA "$FX/inter.pem" \
  -CAkey "$FX/inter.key" -CAcreateserial -days 2 -extfile "$FX/nul-san.cnf" \
  -out "$FX/nul-san.leaf.pem" 2> /dev/null || fail "nul-san leaf"
cp "$FX/inter.pem" "$FX/nul-san.extra.pem"

printf '127.0.0.1 localhost\n' > "$WORK/hosts"

# observe CLIENT PORT STORE: "ok" or the first line the client printed for
# https://localhost:PORT/, the current time Go quotes masked.
observe() {
  local out
  case $1 in
    curl) out=$(curl -sS -o /dev/null --max-time 10 --cacert "$3" \
                  --resolve "localhost:$2:127.0.0.1" "https://localhost:$2/" \
                  2>&1) && out=ok ;;
    python) out=$("$PY" "$CP_IT/clients/py_verify.py" 127.0.0.1 "$2" \
                    localhost "$3") ;;
    node) out=$(node "$CP_IT/clients/node_verify.js" 127.0.0.1 "$2" \
                  localhost "$3") ;;
    gnutls) out=$(timeout 10 gnutls-cli --x509cafile="$3" \
                    --sni-hostname=localhost --verify-hostname=localhost \
                    -p "$2" 127.0.0.1 < /dev/null 2>&1)
            if grep -q 'Handshake was completed' <<< "$out"; then out=ok
            elif grep -q 'Status:' <<< "$out"; then
              out=$(grep -m1 'Status:' <<< "$out")
            else out=$(grep -m1 'Error' <<< "$out"); fi ;;
    go) # Go quotes a SAN's NUL as a raw byte: shown as ^@.
        out=$("$WORK/tls_verify_go" "127.0.0.1:$2" localhost "$3" | cat -v) ;;
    java) out=$(java -cp "$WORK/java" -Djdk.net.hosts.file="$WORK/hosts" \
                  -Djavax.net.ssl.trustStore="$(java_store "$3")" \
                  -Djavax.net.ssl.trustStorePassword=changeit HsClient \
                  "https://localhost:$2/" 2>&1) ;;
  esac
  case $out in ok*) out=ok ;; esac
  head -n 1 <<< "$out" | sed -E 's/current time [^ ]+/current time T/'
}

CLIENTS="curl python node gnutls go java"
cells=0
for c in valid expired-inter incomplete critical-ext nul-san; do
  start_server "$c"
  # A local port whose connections CONNECT through exact to the origin.
  python3 "$CP_IT/clients/tunnel.py" "$EXACT_PORT" \
    "localhost:$SERVER_PORT" > "$WORK/tunnel.$c" 2>&1 &
  CP_PIDS+=($!)
  for i in $(seq 1 100); do
    grep -q '^ready ' "$WORK/tunnel.$c" 2> /dev/null && break
    sleep 0.05
  done
  tport=$(awk '/^ready /{print $2}' "$WORK/tunnel.$c")
  [ -n "$tport" ] || fail "tunnel for $c did not start"
  for cl in $CLIENTS; do
    d=$(observe "$cl" "$SERVER_PORT" "$ORIGIN_STORE")
    p=$(observe "$cl" "$tport" "$WORK/shadow.pem")
    say "$c $cl: $d"
    assert_eq "$p" "$d" "$c, $cl through exact"
    case $c in
      valid) assert_eq "$d" ok "$c, $cl directly" ;;
      *) [ "$cl" = curl ] && [ "$d" = ok ] && fail "$c: curl passes directly" ;;
    esac
    cells=$((cells + 1))
  done
done
say "$cells client x chain cells the same directly and through exact"

# 4. A rule's "chain": "exact", the default staying modern.
SERVER_PORT=$VALID_PORT
printf '[{"host": "localhost", "chain": "exact"}]\n' > "$WORK/rules.json"
EVENTS_FILE=$WORK/events-rules.jsonl start_proxy --rules "$WORK/rules.json" \
  --upstream-ca "$ORIGIN_STORE"
out=$(curl -sS --max-time 30 --cacert "$WORK/shadow.pem" -x "$PROXY_URL" \
  "https://localhost:$SERVER_PORT/" 2>&1 >/dev/null); rc=$?
assert_eq "$rc" 0 "a rule's exact profile ($out)"
grep -E 'exact: new' "$PROXY_LOG" | sed "s/^/$CP_TEST_NAME: proxy log: /" |
  head -4

# A store with no root in it is refused, not written as an empty file;
# --from alone is a usage error.
printf 'no certificate here\n' > "$WORK/empty-store.pem"
out=$("$CP_BIN" ca --ca-dir "$PROXY_CA" --shadow-store "$WORK/none.pem" \
  --from "$WORK/empty-store.pem" 2>&1); rc=$?
assert_eq "$rc" 1 "ca --shadow-store from a store with no root"
assert_contains "$out" "holds no certificate that could be cloned"
[ -e "$WORK/none.pem" ] && fail "an empty shadow store was left behind"
out=$("$CP_BIN" ca --ca-dir "$PROXY_CA" --from "$WORK/empty-store.pem" 2>&1)
assert_eq "$?" 2 "ca --from without --shadow-store"
say "ok"
