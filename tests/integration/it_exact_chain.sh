#!/bin/bash
# --chain exact (issue 26): the client is served a structural clone of the
# chain the upstream presented. An origin whose intermediate expired (from
# fixture_pki.sh, made with the openssl command line) fails in curl and
# openssl s_client through the proxy, trusting a shadow store made with
# `chainproxy ca --shadow-store` from the origin's roots, exactly as it
# fails directly against the origin trusting those roots: curl exit 60
# "certificate has expired", s_client depth 1. A valid origin passes. The
# second connection reuses the cached clone.
. "$(dirname "$0")/lib.sh"
need curl openssl jq

FX=$WORK/fx
bash "$CP_IT/fixture_pki.sh" "$FX" > "$WORK/fixture.log" 2>&1 ||
  fail "fixture_pki.sh failed: $(tail -3 "$WORK/fixture.log")"
ORIGIN_STORE=$FX/store-modern.pem

start_server() { # CASE: s_server presenting exactly the case's chain
  local c=$1 port
  port=$(free_port)
  openssl s_server -accept "127.0.0.1:$port" -cert "$FX/$c.leaf.pem" \
    -key "$FX/$c.key" -cert_chain "$FX/$c.extra.pem" \
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
out=$(curl -sS --max-time 30 --cacert "$WORK/shadow.pem" -x "$PROXY_URL" \
  "https://localhost:$SERVER_PORT/" 2>&1 >/dev/null); rc=$?
assert_eq "$rc" 0 "curl through exact to a valid origin ($out)"
# ... and fails trusting chainproxy's own root: it is not that chain.
curl -sS --max-time 30 --cacert "$ROOT" -x "$PROXY_URL" \
  "https://localhost:$SERVER_PORT/" >/dev/null 2>&1 &&
  fail "a clone verified against chainproxy's own root"
# 3. A rule's "chain": "exact", the default staying modern.
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
