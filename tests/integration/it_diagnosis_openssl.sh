#!/bin/bash
# Diagnosis, table-driven: every chain defect built with the openssl
# command line (fixture_pki.sh), served by `openssl s_server` on 127.0.0.1,
# and judged three ways that must agree: `chainproxy verify --json` online,
# `chainproxy verify --chain-file` offline, and the proxy's upstream_verify
# event (with the block-mode 502 body for failures).
. "$(dirname "$0")/lib.sh"
need curl jq openssl

FX=$WORK/fx
bash "$CP_IT/fixture_pki.sh" "$FX" > "$WORK/fixture.log" 2>&1 ||
  fail "fixture PKI: $(tail -5 "$WORK/fixture.log")"

# case | trust store | ok | error_depth | cause | failing subject | warning
CASES='
valid          | modern   | true  | -  | -                    | -                              | -
legacy         | legacy   | false | 2  | expired_cross_sign   | CN=Fixture Modern Root         | -
legacy         | modern   | true  | -  | -                    | -                              | expired_cross_sign
legacy         | both     | true  | -  | -                    | -                              | expired_cross_sign
valid          | legacy   | false | 1  | unknown_issuer       | CN=Fixture Intermediate        | -
expired-leaf   | modern   | false | 0  | expired_leaf         | CN=localhost                   | -
expired-inter  | modern   | false | 1  | expired_intermediate | CN=Fixture Old Intermediate    | -
expired-root   | goneroot | false | 2  | expired_root         | CN=Fixture Expired Root        | -
incomplete     | modern   | false | 0  | incomplete_chain     | CN=localhost                   | -
self-signed    | modern   | false | 0  | self_signed_leaf     | CN=localhost                   | -
untrusted-root | modern   | false | 2  | untrusted_root       | CN=Fixture Corporate Root      | -
wrong-host     | modern   | false | 0  | hostname_mismatch    | CN=other.test                  | -
not-yet-valid  | modern   | false | 0  | not_yet_valid        | CN=localhost                   | -
sha1           | modern   | false | 0  | weak_signature       | CN=localhost                   | -
rsa1024        | modern   | false | 0  | weak_key             | CN=localhost                   | -
bad-usage      | modern   | false | 0  | bad_eku              | CN=localhost                   | -
name-constraints | modern | false | 0  | name_constraints     | CN=localhost                   | -
critical-ext   | modern   | false | 0  | critical_extension   | CN=localhost                   | -
path-length    | modern   | false | 2  | path_length          | CN=Fixture Pathlen0 Intermediate | -
invalid-ca     | modern   | false | 1  | invalid_ca           | CN=Fixture Not A CA            | -
incomplete-aia | modern   | false | 0  | incomplete_chain     | CN=localhost                   | -
policy         | modern   | true  | -  | -                    | -                              | -
bad-signature  | modern   | false | 0  | bad_signature        | CN=localhost                   | -
'

# One proxy per trust store, each with its own event log.
declare -A PPORT PEVENTS PPID_OF
for store in modern legacy both goneroot; do
  EVENTS_FILE=$WORK/events-$store.jsonl
  start_proxy --upstream-ca "$FX/store-$store.pem"
  PPORT[$store]=$PROXY_PORT
  PEVENTS[$store]=$EVENTS
  PPID_OF[$store]=$PROXY_PID
done
unset EVENTS_FILE

# start_server CASE: s_server presenting exactly the case's chain.
start_server() {
  local c=$1 port args=()
  port=$(free_port)
  args=(-accept "127.0.0.1:$port" -cert "$FX/$c.leaf.pem" -key "$FX/$c.key"
        -no-CAfile -no-CApath -no-CAstore -www -quiet
        -cipher 'DEFAULT:@SECLEVEL=0')
  if [ -s "$FX/$c.extra.pem" ]; then
    args+=(-cert_chain "$FX/$c.extra.pem")
  fi
  openssl s_server "${args[@]}" > "$WORK/s_server.$c.log" 2>&1 &
  SERVER_PID=$!
  CP_PIDS+=($SERVER_PID)
  SERVER_PORT=$port
  wait_port "$port"
}

# check WHAT JSON ok depth cause subject warning
check() {
  local what=$1 json=$2 ok=$3 depth=$4 cause=$5 subject=$6 warning=$7
  local got
  got=$(jq -r '[.ok, (.error_depth // "-"), (.cause // "-"),
                (.subject // "-"), (.warning // "-")] | join("|")' \
          <<<"$json") || fail "$what: not JSON: $json"
  assert_eq "$got" "$ok|$depth|$cause|$subject|$warning" "$what"
}

n=0
while IFS='|' read -r c store ok depth cause subject warning; do
  c=$(echo $c); store=$(echo $store); ok=$(echo $ok); depth=$(echo $depth)
  cause=$(echo $cause); subject=$(echo "$subject" | sed 's/^ *//; s/ *$//')
  warning=$(echo $warning)
  [ -n "$c" ] || continue
  n=$((n + 1))
  start_server "$c"
  ca=$FX/store-$store.pem

  # 1. online
  json=$("$CP_BIN" verify "localhost:$SERVER_PORT" --upstream-ca "$ca" \
           --json 2>"$WORK/verify.err"); rc=$?
  check "$c/$store verify" "$json" "$ok" "$depth" "$cause" "$subject" "$warning"
  if [ "$ok" = false ]; then want=1; elif [ "$warning" != - ]; then want=4
  else want=0; fi
  assert_eq "$rc" "$want" "$c/$store verify exit status"

  # 2. offline, the same chain as a file
  json=$("$CP_BIN" verify --chain-file "$FX/$c.chain.pem" --host localhost \
           --upstream-ca "$ca" --json); rc=$?
  check "$c/$store chain-file" "$json" "$ok" "$depth" "$cause" "$subject" \
    "$warning"
  assert_eq "$rc" "$want" "$c/$store chain-file exit status"

  # 3. through the proxy (block mode)
  out=$(curl -sS -i --max-time 20 --cacert "$ROOT" \
          -x "http://127.0.0.1:${PPORT[$store]}" \
          "https://localhost:$SERVER_PORT/" 2>&1)
  EVENTS=${PEVENTS[$store]}
  expect_event ".event == \"upstream_verify\" and .port == $SERVER_PORT"
  ev=$(jq -c -s "map(select(.event == \"upstream_verify\" and
                           .port == $SERVER_PORT)) | last" "$EVENTS")
  check "$c/$store upstream_verify" "$ev" "$ok" "$depth" "$cause" \
    "$subject" "$warning"
  if [ "$ok" = true ]; then
    assert_contains "$out" "HTTP/1.1 200 ok" "$c/$store relayed"
  else
    assert_contains "$out" "HTTP/1.1 502 " "$c/$store blocked"
    assert_contains "$out" "cause:  $cause" "$c/$store 502 body cause"
    assert_contains "$out" "[FAIL] $subject" "$c/$store 502 body tree"
  fi
  kill "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
done <<<"$CASES"
say "$n cases agree across verify, --chain-file and the proxy"

# The hints name what the admin has to act on.
hint() { # CASE: the hint of the case's chain, offline
  "$CP_BIN" verify --chain-file "$FX/$1.chain.pem" --host localhost \
    --upstream-ca "$FX/store-modern.pem" --json | jq -r .hint
}
assert_contains "$(hint incomplete-aia)" \
  "caIssuers URL http://ca.fixture.test/inter.crt" "AIA URL in the hint"
assert_contains "$(hint critical-ext)" "1.3.6.1.4.1.55555.1" "the OID"
assert_contains "$(hint name-constraints)" \
  "(nameConstraints: permitted DNS:.corp.test)" "the constraint"
assert_contains "$(hint path-length)" "pathlen:0" "the path length"
# The policy chain passes OpenSSL's defaults (curl, Python, Node do not
# process policies); openssl verify -policy_check shows what it requires.
out=$(openssl verify -policy_check -CAfile "$FX/store-modern.pem" \
  -untrusted "$FX/policy.extra.pem" "$FX/policy.leaf.pem" 2>&1)
assert_contains "$out" "no explicit policy" "the policy fixture is real"

# The legacy chain in time: before the legacy root's expiry a client
# holding only that root passed (with a forecast), after it failed.
json=$("$CP_BIN" verify --chain-file "$FX/legacy.chain.pem" --host localhost \
         --upstream-ca "$FX/store-legacy.pem" --at 2020-05-01T00:00:00Z --json)
assert_eq "$?" 4 "legacy before expiry: exit status (warning)"
check "legacy --at before" "$json" true - - - expires_soon
assert_eq "$(jq -r '.expires_first.subject + " " +
                   (.expires_first.days | tostring)' <<<"$json")" \
  "CN=Fixture Modern Root 29" "legacy before expiry: expires_first"
json=$("$CP_BIN" verify --chain-file "$FX/legacy.chain.pem" --host localhost \
         --upstream-ca "$FX/store-legacy.pem" --at 2020-05-31T00:00:00Z --json)
assert_eq "$?" 1 "legacy after expiry: exit status"
check "legacy --at after" "$json" false 2 expired_cross_sign \
  "CN=Fixture Modern Root" -
# --warn-days 0 silences the forecast.
"$CP_BIN" verify --chain-file "$FX/legacy.chain.pem" --host localhost \
  --upstream-ca "$FX/store-legacy.pem" --at 2020-05-01T00:00:00Z \
  --warn-days 0 > /dev/null
assert_eq "$?" 0 "legacy before expiry with --warn-days 0"

# The human output names the failing element and the remedy.
start_server legacy
out=$("$CP_BIN" verify "localhost:$SERVER_PORT" \
        --upstream-ca "$FX/store-legacy.pem")
assert_contains "$out" "=>  error 10: certificate has expired" "text: marker"
assert_contains "$out" "cause:  expired_cross_sign" "text: cause"
assert_contains "$out" "trust the current root 'CN=Fixture Modern Root'" \
  "text: hint"
# Through an HTTP proxy with CONNECT (the proxy here is chainproxy with
# passthrough, i.e. any proxy that tunnels).
EVENTS_FILE=$WORK/events-passthrough.jsonl start_proxy --passthrough '*'
json=$("$CP_BIN" verify "localhost:$SERVER_PORT" --proxy "$PROXY_URL" \
         --upstream-ca "$FX/store-legacy.pem" --json)
assert_eq "$?" 1 "verify --proxy exit status"
check "verify --proxy" "$json" false 2 expired_cross_sign \
  "CN=Fixture Modern Root" -

# Exit 3 names what failed; exit 2 for usage errors.
err=$("$CP_BIN" verify 127.0.0.1:1 2>&1 >/dev/null); rc=$?
assert_eq "$rc" 3 "refused: exit status"
assert_contains "$err" "refused the connection" "refused: message"
err=$("$CP_BIN" verify no-such-host.invalid:443 2>&1 >/dev/null); rc=$?
assert_eq "$rc" 3 "DNS: exit status"
assert_contains "$err" "DNS lookup of no-such-host.invalid failed" "DNS"
plain=$(free_port)
python3 -m http.server --bind 127.0.0.1 "$plain" >/dev/null 2>&1 &
CP_PIDS+=($!)
wait_port "$plain"
# A handshake that fails for a reason other than the chain is a
# verification failure with its cause (it.handshake.openssl has them all).
err=$("$CP_BIN" verify "127.0.0.1:$plain" 2>&1 >/dev/null); rc=$?
assert_eq "$rc" 1 "not TLS: exit status"
assert_contains "$err" "TLS handshake failed" "not TLS: message"
assert_contains "$err" "[not_tls]" "not TLS: cause"
err=$("$CP_BIN" verify "localhost:$SERVER_PORT" --proxy "http://127.0.0.1:$plain" 2>&1 >/dev/null); rc=$?
assert_eq "$rc" 3 "proxy refuses CONNECT: exit status"
assert_contains "$err" "the proxy answered CONNECT with" "proxy refusal"
for bad in "" "--at yesterday localhost" "--warn-days -1 localhost" \
           "--bogus localhost" "--chain-file /nonexistent" "a b" \
           "localhost --host x"; do
  err=$("$CP_BIN" verify $bad 2>&1 >/dev/null); rc=$?
  assert_eq "$rc" 2 "usage error exit status for '$bad'"
  assert_contains "$err" "chainproxy verify:" "usage message for '$bad'"
done
printf 'not a certificate\n' > "$WORK/junk.pem"
err=$("$CP_BIN" verify --chain-file "$WORK/junk.pem" 2>&1); rc=$?
assert_eq "$rc" 2 "junk chain file exit status"
assert_contains "$err" "no PEM certificate" "junk chain file message"

for store in modern legacy both goneroot; do
  PROXY_PID=${PPID_OF[$store]}
  stop_proxy
  assert_eq "$PROXY_EXIT" 0 "proxy ($store) exit status"
done
say "ok"
