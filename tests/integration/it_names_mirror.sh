#!/bin/bash
# Certificate names are bytes (--upstream-failure mirror): an origin under
# a CA the proxy trusts whose only name is "localhost\0.evil.example", or
# the single dNSName "evil.test,DNS:localhost", or the DNS (not IP) name
# "127.0.0.1", fails OpenSSL's host check. Mirrored, the client must fail
# the same way it fails against the origin (curl: exit 60, "no alternative
# certificate subject name matches"), never get a leaf for the host and
# the origin's body. The event records the names' real bytes.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3

make_origin_pki
mkdir -p "$WORK/www"
echo "ORIGIN-SECRET-BODY" > "$WORK/www/secret.txt"

# case | SAN (san_der arguments, or an openssl SAN) | host curl asks for |
# profile the client is served | curl's exit against the origin itself
# (trail: curl ignores a trailing dot where OpenSSL, and so the proxy,
# sees a mismatch; the mismatch is what is mirrored)
CASES='
nul     | localhost\000.evil.example              | localhost | wrong-host | 60
comma   | evil.test,DNS:localhost                 | localhost | wrong-host | 60
nulplus | localhost\000.evil.example other.test   | localhost | modern     | 60
ipdns   | DNS:127.0.0.1                           | 127.0.0.1 | wrong-host | 60
trail   | LOCALHOST.                              | localhost | wrong-host | 0
'
declare -A PORT HOST PROFILE DIRECT
while IFS='|' read -r c san host profile direct; do
  c=$(echo $c)
  [ -n "$c" ] || continue
  san=$(echo $san); host=$(echo $host); profile=$(echo $profile)
  case $san in
    DNS:*) ext="subjectAltName=$san" ;;
    *) # shellcheck disable=SC2086
       ext="subjectAltName=DER:$(san_der $san)" ;;
  esac
  make_leaf "$c" "/CN=$c.evil.example" "$ext"
  ORIGIN_CERT=$LEAF_CERT ORIGIN_KEY=$LEAF_KEY start_origin --tls --root "$WORK/www"
  PORT[$c]=$ORIGIN_PORT HOST[$c]=$host PROFILE[$c]=$profile
  DIRECT[$c]=$(echo $direct)
done <<<"$CASES"

start_proxy --upstream-ca "$ORIGIN_CA" --upstream-failure mirror

for c in "${!PORT[@]}"; do
  url=https://${HOST[$c]}:${PORT[$c]}/file/secret.txt
  # What the client says against the origin itself ...
  direct=$(curl -sS --max-time 20 --cacert "$ORIGIN_CA" "$url" 2>&1); rc=$?
  assert_eq "$rc" "${DIRECT[$c]}" "$c: curl against the origin"
  if [ "$rc" = 60 ]; then
    assert_contains "$direct" \
      "no alternative certificate subject name matches" \
      "$c: curl against the origin"
  fi
  # ... it says through the mirror, and the origin's body never comes.
  out=$(curl -sS --max-time 20 --cacert "$ROOT" -x "$PROXY_URL" "$url" 2>&1)
  rc=$?
  say "$c through the proxy: exit $rc: $(head -1 <<<"$out")"
  assert_eq "$rc" 60 "$c: curl through the mirror"
  assert_contains "$out" "no alternative certificate subject name matches" \
    "$c: curl through the mirror"
  case $out in
    *ORIGIN-SECRET-BODY*) fail "$c: the origin's body was relayed" ;;
  esac
  expect_event ".event == \"upstream_verify\" and .port == ${PORT[$c]} and
    .cause == \"hostname_mismatch\"" "$c: upstream_verify hostname_mismatch"
  expect_event ".event == \"client_handshake\" and .port == ${PORT[$c]} and
    .mirrored == true and .profile == \"${PROFILE[$c]}\"" \
    "$c: mirrored with ${PROFILE[$c]}"
done

# The event keeps every byte: the NUL is \u0000, the comma stays inside
# its one entry.
ev() { # CASE: the leaf of its upstream_verify event
  jq -c -s "map(select(.event == \"upstream_verify\" and
                       .port == ${PORT[$1]})) | last | .chain[0]" "$EVENTS"
}
leaf=$(ev nul)
say "nul: names $(jq -c .names <<<"$leaf"), san $(jq -c .san <<<"$leaf")"
jq -e '.names == "DNS:localhost\u0000.evil.example" and
       .san == [{"type": "DNS", "value": "localhost\u0000.evil.example"}]' \
  <<<"$leaf" >/dev/null || fail "nul: the event lost bytes: $leaf"
leaf=$(ev comma)
say "comma: names $(jq -c .names <<<"$leaf"), san $(jq -c .san <<<"$leaf")"
jq -e '.san == [{"type": "DNS", "value": "evil.test,DNS:localhost"}]' \
  <<<"$leaf" >/dev/null || fail "comma: not one entry: $leaf"
jq -e '.san | map(.value) == ["localhost\u0000.evil.example", "other.test"]' \
  <<<"$(ev nulplus)" >/dev/null || fail "nulplus: $(ev nulplus)"

# The leaves served: nulplus's carries the one name that was really there,
# nul's the wrong-host profile's name, never localhost.
served_san() { # CASE
  openssl s_client -proxy "127.0.0.1:$PROXY_PORT" \
    -connect "${HOST[$1]}:${PORT[$1]}" -servername "${HOST[$1]}" \
    </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName
}
san=$(served_san nulplus) || fail "nulplus: no leaf served"
say "nulplus: the leaf served has: $(tail -1 <<<"$san")"
assert_eq "$(tail -1 <<<"$san" | tr -d ' ')" "DNS:other.test" "nulplus leaf"
san=$(served_san nul) || fail "nul: no leaf served"
say "nul: the leaf served has: $(tail -1 <<<"$san")"
case $san in *localhost*) fail "nul: a leaf for localhost: $san" ;; esac
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok"
