#!/usr/bin/env bash
# The upstream pool with real clients: without --upstream-pool each curl
# tunnel gets its own upstream connection (the origin sees as many client
# ports as tunnels); with it, one worker's tunnels share one idle upstream,
# whose later uses say upstream_reused in upstream_verify, and so does
# Python's http.client. A rule's "upstream_pool": false turns it off for its
# host; an origin that went away while its connection sat in the pool is
# dialled again (the refusal answered inside TLS when it is gone for
# good), not answered with a dead socket; a response that closes
# its connection leaves nothing in the pool; SIGTERM with idle pooled
# connections exits 0.
. "$(dirname "$0")/lib.sh"
need curl jq python3 ss

start_origin --tls
OP=$ORIGIN_PORT

# peers N: the origin's view (its client port) of N tunnels, one per curl.
peers() {
  local i
  for i in $(seq 1 "$1"); do
    timeout 20 curl -fsS -x "$PROXY_URL" --cacert "$ROOT" \
      "https://localhost:$OP/peer" || fail "curl $i"
  done
}

# Off (the default): one upstream per tunnel.
start_proxy --upstream-ca "$ORIGIN_CA" --workers 1
n=$(peers 4 | sort -u | wc -l)
assert_eq "$n" 4 "without the pool, upstream connections for 4 tunnels"
stop_proxy
assert_eq "$(jq -s '[.[] | select(.upstream_reused)] | length' "$EVENTS")" 0
rm -f "$EVENTS"

# On: the tunnels take turns on one connection.
start_proxy --upstream-ca "$ORIGIN_CA" --workers 1 --upstream-pool
n=$(peers 4 | sort -u | wc -l)
assert_eq "$n" 1 "with the pool, upstream connections for 4 tunnels"
expect_event '.event == "upstream_verify" and .upstream_reused == true and .ok == true' \
  "upstream_verify says upstream_reused"
got=$(count_events '.event == "upstream_verify" and .upstream_reused == true')
assert_eq "$got" 3 "tunnels that reused the pooled connection"
got=$(count_events '.event == "upstream_verify" and .upstream_reused == true and (has("dns_ms") or has("connect_ms") or has("ssl_ms"))')
assert_eq "$got" 0 "timings on a reused connection (nothing was measured)"
# Python's http.client through the proxy (CONNECT, TLS to chainproxy).
out=$(python3 - "$PROXY_PORT" "$OP" "$ROOT" <<'PY'
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx,
                                timeout=10)
c.set_tunnel("localhost", int(sys.argv[2]))
c.request("GET", "/peer")
print(c.getresponse().read().decode().strip())
PY
) || fail "python: $out"
assert_eq "$(peers 1)" "$out" "python's tunnel and curl's next share it"
# A response that ends by closing its connection is not pooled; a second
# request in the same tunnel (on the pooled connection first) gets a new
# upstream, handshaken.
out=$(timeout 20 curl -fsS -x "$PROXY_URL" --cacert "$ROOT" \
  -o /dev/null "https://localhost:$OP/close/100" \
  "https://localhost:$OP/peer" 2>&1) || fail "curl /close then /peer: $out"
case $out in
  '' | *[!0-9]*) fail "the request after /close: '$out'" ;;
esac
first=$(peers 1)
# The origin goes away: the pooled socket is dead, the next tunnel (its
# CONNECT answered before its ClientHello named the connection to take) is
# dialled afresh and hears the refusal inside TLS, as a 502.
kill "${CP_PIDS[0]}" 2> /dev/null
wait "${CP_PIDS[0]}" 2> /dev/null
out=$(timeout 20 curl -sS -w ' %{http_code}' -x "$PROXY_URL" --cacert "$ROOT" \
  "https://localhost:$OP/peer" 2>&1)
assert_contains "$out" "refused the connection" "the origin gone"
assert_eq "${out##* }" 502 "the origin gone: status"
# ... and comes back on its port: a fresh connection, not a dead one.
python3 "$CP_IT/origin.py" --port "$OP" --cert "$ORIGIN_CERT" \
  --key "$ORIGIN_KEY" > "$WORK/origin2.out" 2>&1 &
CP_PIDS+=($!)
wait_file "$WORK/origin2.out" > /dev/null
second=$(peers 1)
case $second in
  '' | *[!0-9]*) fail "after the origin restarted: '$second'" ;;
esac
[ "$second" != "$first" ] || fail "the pooled socket outlived its origin"
expect_event '.event == "request" and .status == 200 and (.url | endswith("/peer"))' \
  "the tunnel after the restart got its answer"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "SIGTERM with a pooled connection"
rm -f "$EVENTS"

# An idle pooled connection is closed once it has waited --idle-timeout
# (the worker looks every 5 s), even when no tunnel comes.
start_proxy --upstream-ca "$ORIGIN_CA" --workers 1 --upstream-pool \
  --idle-timeout 2
peers 1 > /dev/null
# established PORT: connections from the proxy to the origin on PORT.
established() {
  ss -Htn state established "( dport = :$1 )" | wc -l
}
assert_eq "$(established "$OP")" 1 "the pooled connection"
for i in $(seq 1 80); do # 20 s; it is due within 7 s
  [ "$(established "$OP")" -eq 0 ] && break
  sleep 0.25
done
assert_eq "$(established "$OP")" 0 "the pooled connection, idle past 2 s"
stop_proxy
rm -f "$EVENTS"

# A rule turns it off for its host.
cat > "$WORK/rules.json" <<EOF
[{"host": "localhost", "upstream_pool": false}]
EOF
start_proxy --upstream-ca "$ORIGIN_CA" --workers 1 --upstream-pool \
  --rules "$WORK/rules.json"
n=$(peers 3 | sort -u | wc -l)
assert_eq "$n" 3 "a rule's upstream_pool: false"
stop_proxy
say "ok"
