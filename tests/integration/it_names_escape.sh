#!/bin/bash
# Certificate names are bytes, and text sinks get them escaped: an origin
# whose subject and SAN hold ESC (a colour), CR LF and a forged log line,
# the C1 control CSI and U+202E (right-to-left override). `chainproxy
# verify` (text and --json), the block-mode 502 body and the operator
# log show \x1b, \x0d\x0a, \u009b, \u202e and
# never the raw bytes or a forged line; the JSON event keeps the exact
# characters.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3

make_origin_pki
mkdir -p "$WORK/www"
FORGED='2026-01-01T00:00:00Z error forged'
# The SAN holds ESC, CR LF, the forged line and U+202E; the subject the
# same, and the C1 CSI (U+009B) besides.
make_leaf ctl "/CN=$(printf 'c\033[31mr\r\n%s\302\233\342\200\256gnp.test' "$FORGED")" \
  "subjectAltName=DER:$(san_der "x\\033[31mred\\r\\n$FORGED\\342\\200\\256gnp.test")"
ORIGIN_CERT=$LEAF_CERT ORIGIN_KEY=$LEAF_KEY start_origin --tls --root "$WORK/www"
SAN_EXACT="x\u001b[31mred\r\n$FORGED\u202egnp.test"

# clean FILE WHAT: no raw control (but LF), no C1, no bidi or invisible
# format character from the certificate, and no line the certificate
# started.
clean() {
  python3 - "$1" "$2" "$FORGED" <<'PY' || fail "$2: raw bytes from the certificate (see above)"
import re, sys
data = open(sys.argv[1], "rb").read()
bad = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|"
                 rb"\xe2\x80[\x8b-\x8f\xa8-\xae]|\xe2\x81[\xa0-\xa4\xa6-\xaf]|"
                 rb"\xd8\x9c|\xef\xbb\xbf")
m = bad.search(data)
if m:
    print("%s: %r at byte %d: %r" % (sys.argv[2], m.group(0), m.start(),
          data[max(0, m.start() - 40):m.end() + 40]), file=sys.stderr)
    sys.exit(1)
for line in data.split(b"\n"):
    if line.startswith(sys.argv[3].encode()):
        print("%s: forged line: %r" % (sys.argv[2], line), file=sys.stderr)
        sys.exit(1)
PY
}

# 1. chainproxy verify, text: each field escaped.
"$CP_BIN" verify "localhost:$ORIGIN_PORT" --upstream-ca "$ORIGIN_CA" \
  > "$WORK/verify.out" 2> "$WORK/verify.err"
assert_eq "$?" 1 "verify exit status"
clean "$WORK/verify.out" "chainproxy verify"
clean "$WORK/verify.err" "chainproxy verify (stderr)"
out=$(cat "$WORK/verify.out")
say "verify: $(grep -m1 'names' <<<"$out" | sed 's/^ *//')"
assert_contains "$out" "names  DNS:x\\x1b[31mred\\x0d\\x0a$FORGED\\u202egnp.test" \
  "verify names"
assert_contains "$out" "\\u009b\\u202egnp.test" "verify subject"
assert_contains "$out" "cause:  hostname_mismatch" "verify cause"

# 2. chainproxy verify --json: ASCII escapes, the exact string once parsed.
"$CP_BIN" verify "localhost:$ORIGIN_PORT" --upstream-ca "$ORIGIN_CA" --json \
  > "$WORK/verify.json" 2>/dev/null
clean "$WORK/verify.json" "chainproxy verify --json"
grep -q '\\u202e' "$WORK/verify.json" || fail "--json: no \\u202e"
jq -e --arg v "$(printf "$SAN_EXACT")" '.chain[0].san[0].value == $v' \
  "$WORK/verify.json" >/dev/null || fail "--json: not the exact name"

# 3. The proxy in block mode: the 502 body.
start_proxy --upstream-ca "$ORIGIN_CA"
code=$(curl -sS --max-time 20 --cacert "$ROOT" -x "$PROXY_URL" \
         -o "$WORK/body" -w '%{http_code}' "https://localhost:$ORIGIN_PORT/")
assert_eq "$code" 502 "block mode status"
say "502 body: $(grep -m1 'names' "$WORK/body" | sed 's/^ *//')"
clean "$WORK/body" "502 body"
body=$(cat "$WORK/body")
assert_contains "$body" "DNS:x\\x1b[31mred\\x0d\\x0a$FORGED\\u202egnp.test" \
  "502 body names"
assert_contains "$body" "\\u009b\\u202egnp.test" "502 body subject"
# The body is the text chainproxy wrote, to its last line's end.
assert_eq "$(tail -c 1 "$WORK/body" | od -An -tx1 | tr -d ' ')" 0a "body end"

# 4. The operator log: one line per message, the escapes visible.
expect_event '.event == "upstream_verify"'
clean "$PROXY_LOG" "operator log"
grep -q 'verification failed.*\\u009b\\u202egnp.test' "$PROXY_LOG" ||
  fail "the log does not show the escaped subject"
say "log: $(grep -m1 'verification failed' "$PROXY_LOG" | cut -c 25-)"

# 5. The event: the exact characters.
ev=$(jq -c -s 'map(select(.event == "upstream_verify")) | last' "$EVENTS")
jq -e --arg v "$(printf "$SAN_EXACT")" \
  '.chain[0].san == [{"type": "DNS", "value": $v}] and
   .chain[0].names == "DNS:" + $v and
   (.chain[0].subject | contains("\u009b\u202egnp.test"))' \
  <<<"$ev" >/dev/null || fail "the event is not exact: $ev"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok"
