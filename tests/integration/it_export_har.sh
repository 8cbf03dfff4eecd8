#!/usr/bin/env bash
# HAR 1.2 export: a run with an accepted HTTP/1.1 request, an HTTP/2 page
# (two streams), a legacy chain the client refuses, an origin blocked for
# its self-signed leaf and an upstream that
# refuses the connection, exported by GET /har and by chainproxy run
# --har; the export validates against the HAR 1.2 schema written from the
# specification (Debian's python3-jsonschema) and against Debian's
# har-validator (node-har-validator, on har-schema), Debian's node-request
# replays its HTTP/1.1 entries with the same statuses, and its entries and
# timings are the events' own. The examples are docs/export.md's.
. "$(dirname "$0")/lib.sh"
need curl jq openssl node
need_netns
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || need python3-jsonschema
[ -d /usr/share/nodejs/har-validator ] || need har-validator
[ -d /usr/share/nodejs/request ] || need node-request
CHECK=$CP_SRC/tests/tools/har_check.py

# The namespace is the test's own: docs/export.md's ports (origin 8443,
# control API 9090) are free in it.
make_origin_pki
P=8443
python3 "$CP_IT/origin.py" --port $P --root "$WORK" --cert "$ORIGIN_CERT" \
  --key "$ORIGIN_KEY" > "$WORK/origin.out" 2>&1 &
CP_PIDS+=($!)
wait_port $P
DOC=$CP_SRC/docs/export.md
block() { # the sh block after the marker $1 in docs/export.md
  awk -v m="<!-- $1 -->" '$0 == m { on = 1; next }
     on && /^```sh$/ { inblock = 1; next }
     inblock && /^```$/ { exit }
     inblock { print }' "$DOC"
}
block har-example > "$WORK/har-example.sh"
block run-example > "$WORK/run-example.sh"
[ -s "$WORK/har-example.sh" ] && [ -s "$WORK/run-example.sh" ] ||
  fail "no HAR examples in $DOC"
out=$WORK/h2-origin.out
node "$CP_IT/h2_origin.js" "$ORIGIN_CERT" "$ORIGIN_KEY" > "$out" 2>&1 &
CP_PIDS+=($!)
wait_for "the h2 origin" grep -q '^ready ' "$out"
H2=$(awk '/^ready /{print $2}' "$out")
CLOSED=$(free_port) # nothing listens there
# An origin whose self-signed leaf no store trusts: blocked with a 502.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$WORK/self.key" -out "$WORK/self.pem" -days 30 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" 2>/dev/null ||
  fail "openssl could not make the self-signed origin"
SELF=$(free_port)
openssl s_server -accept "127.0.0.1:$SELF" -cert "$WORK/self.pem" \
  -key "$WORK/self.key" -www -quiet > "$WORK/self.out" 2>&1 < /dev/null &
CP_PIDS+=($!)
wait_port "$SELF"
cat > "$WORK/rules.json" <<JSON
[{"host": "127.0.0.1", "port": $P, "chain": "legacy"}]
JSON
CTL=9090
start_proxy --upstream-ca "$ORIGIN_CA" --rules "$WORK/rules.json" \
  --control "127.0.0.1:$CTL"
C=(curl -sS --max-time 60 -x "$PROXY_URL")

"${C[@]}" --cacert "$ROOT" "https://localhost:$P/hello?x=1&y=two" > /dev/null ||
  fail "the accepted request"
"${C[@]}" --no-progress-meter --http2 --cacert "$ROOT" -Z "https://localhost:$H2/hello" \
  "https://localhost:$H2/bytes/5000" > /dev/null || fail "the HTTP/2 page"
"${C[@]}" --cacert "$PROXY_CA/legacy-root.pem" "https://127.0.0.1:$P/hello" \
  > /dev/null 2>&1 && fail "the legacy chain was accepted"
"${C[@]}" --cacert "$ROOT" "https://localhost:$CLOSED/" > /dev/null 2>&1 &&
  fail "a closed port answered"
code=$("${C[@]}" --cacert "$ROOT" -o /dev/null -w '%{http_code}' \
  "https://localhost:$SELF/")
assert_eq "$code" 502 "the untrusted origin, blocked"
expect_event '.event == "close" and .port == '"$CLOSED"
expect_event '.event == "close" and .port == '"$SELF"
wait_for "every connection closed" test "$(count_events '.event == "close"')" \
  -ge "$(count_events '.event == "connect"')"

curl -sS -o "$WORK/all.har" "http://127.0.0.1:$CTL/har" ||
  fail "GET /har"
# docs/export.md, "HAR from the control API", run as written:
(cd "$WORK" && bash -e har-example.sh) > "$WORK/har-example.out" ||
  fail "the HAR example failed"
assert_eq "$(jq -r .request.url "$WORK/har-example.out")" \
  "https://localhost:$P/hello?x=1&y=two" "the example's entry"
assert_eq "$(jq -r '._chainproxy.upstream.chain[0].subject' "$WORK/har-example.out")" \
  "CN=localhost" "the example's origin chain"
/usr/bin/python3 "$CHECK" "$WORK/all.har" || fail "the HAR does not validate"
# Debian's node modules live in /usr/share/nodejs (a node from elsewhere
# does not look there by itself).
har_validator() {
  NODE_PATH=/usr/share/nodejs node -e '
  const v = require("har-validator");
  const har = JSON.parse(require("fs").readFileSync(process.argv[1]));
  v.har(har).then(() => console.log("har-validator: valid"),
    (e) => { console.error(JSON.stringify(e.errors || e)); process.exit(1); });
' "$1" || fail "Debian's har-validator refuses $1"
}
har_validator "$WORK/all.har"

H=$WORK/all.har
n() { jq "$1" "$H"; }
# One entry per request event (the refused upstream's CONNECT has one,
# its 502), plus one for the connection that failed before any request.
assert_eq "$(n '.log.entries | length')" \
  "$(( $(count_events '.event == "request"') + 1 ))" "entries"
# The accepted request, its query string, its verdicts.
e='.log.entries[] | select(.request.url | endswith("/hello?x=1&y=two"))'
assert_eq "$(n "[$e] | length")" 1 "the accepted entry"
assert_eq "$(n "$e | .response.status")" 200 "its status"
assert_eq "$(n "$e | .request.queryString | map(.name + \"=\" + .value) | join(\"&\")")" \
  '"x=1&y=two"' "its query string"
assert_eq "$(n "$e | .serverIPAddress")" '"127.0.0.1"' "serverIPAddress"
assert_eq "$(n "$e | ._chainproxy.upstream.ok")" true "upstream verdict"
assert_eq "$(n "$e | ._chainproxy.client_handshake.accepted")" true "client verdict"
assert_eq "$(n "$e | ._chainproxy.upstream.chain[0].subject | length > 0")" true \
  "the origin's chain"
# Its timings are the events': dns, connect (with ssl) and ssl from the
# upstream_verify of its connection, wait + send = ttfb, the rest receive.
conn=$(n "$e | ._chainproxy.conn")
uv=$(jq -c "select(.event == \"upstream_verify\" and .conn == $conn)" "$EVENTS")
rq=$(jq -c "select(.event == \"request\" and .conn == $conn)" "$EVENTS")
assert_eq "$(n "$e | .timings.ssl")" "$(jq .ssl_ms <<<"$uv")" "ssl"
assert_eq "$(n "$e | .timings.connect")" "$(jq '.connect_ms + .ssl_ms' <<<"$uv")" "connect"
assert_eq "$(n "$e | .timings.dns")" "$(jq .dns_ms <<<"$uv")" "dns"
assert_eq "$(n "$e | .timings.send + .timings.wait")" "$(jq .ttfb_ms <<<"$rq")" "ttfb"
assert_eq "$(n "$e | .timings.send + .timings.wait + .timings.receive")" \
  "$(jq .total_ms <<<"$rq")" "total"
# The HTTP/2 page: two streams, two entries on one connection.
assert_eq "$(n '[.log.entries[] | select(.request.httpVersion == "HTTP/2.0")] |
  length')" 2 "HTTP/2 entries"
assert_eq "$(n '[.log.entries[] | select(.request.httpVersion == "HTTP/2.0") |
  .connection] | unique | length')" 1 "one connection for the page"
assert_eq "$(jq -c '[.log.entries[] | select(.request.httpVersion == "HTTP/2.0") |
  ._chainproxy.request.stream_id] | sort' "$H")" '[1,3]' "stream ids"
# The refused legacy chain: an entry with _error, the client's alert.
r='.log.entries[] | select(._chainproxy.client_handshake.accepted == false)'
assert_eq "$(n "$r | ._chainproxy.client_handshake.profile")" '"legacy"' "refused profile"
assert_eq "$(n "$r | ._chainproxy.client_handshake.alert")" '"certificate_expired"' "alert"
assert_contains "$(n "$r | ._error")" "client refused the handshake" "_error"
assert_eq "$(n "$r | .response.status")" 0 "no response"
# The upstream that refused: 502 and its error.
f=".log.entries[] | select(.request.url == \"https://localhost:$CLOSED/\")"
assert_eq "$(n "$f | .response.status")" 502 "failed upstream status"
assert_contains "$(n "$f | ._error")" "connection_refused" "failed upstream _error"

# The blocked origin: its verdict, cause and failing depth.
b=".log.entries[] | select(.request.url == \"https://localhost:$SELF/\")"
assert_eq "$(n "$b | .response.status")" 502 "blocked status"
assert_eq "$(n "$b | ._chainproxy.upstream.ok")" false "blocked verdict"
assert_eq "$(n "$b | ._chainproxy.upstream.error_depth")" 0 "failing depth"
assert_eq "$(n "$b | ._chainproxy.upstream.cause")" \
  "$(jq -s "map(select(.event == \"upstream_verify\" and .port == $SELF))[0].cause" "$EVENTS")" \
  "blocked cause"
assert_contains "$(n "$b | ._error")" "upstream_verify_failed" "blocked _error"
jq "$b" "$H" > "$WORK/blocked-entry.json"

# Filters: host, conn, since.
curl -sS -o "$WORK/h2.har" "http://127.0.0.1:$CTL/har?host=localhost&conn=$conn"
assert_eq "$(jq '.log.entries | length' "$WORK/h2.har")" 1 "conn filter"
curl -sS -o "$WORK/ip.har" "http://127.0.0.1:$CTL/har?host=127.0.0.*"
assert_eq "$(jq '[.log.entries[]._chainproxy.client_handshake.profile] | unique' -c "$WORK/ip.har")" \
  '["legacy"]' "host filter"
last=$(jq -s 'map(.id) | max' "$EVENTS")
curl -sS -o "$WORK/none.har" "http://127.0.0.1:$CTL/har?since=$last"
assert_eq "$(jq '.log.entries | length' "$WORK/none.har")" 0 "since filter"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CTL/har?host=a%20b")
assert_eq "$code" 400 "a malformed host"
# The web view's download link.
assert_contains "$(curl -sS "http://127.0.0.1:$CTL/ui")" 'id="dl-har"' "the web view"
assert_contains "$(curl -sS -D - -o /dev/null "http://127.0.0.1:$CTL/har")" \
  'filename="chainproxy.har"' "the download's name"
# A HAR consumer reads the export back: Debian's node-request builds each
# intercepted HTTP/1.1 request from its entry (validated by har-validator
# first) and replays it through the proxy: the same statuses (200, and the
# blocked origin's 502).
out=$(NODE_PATH=/usr/share/nodejs node "$CP_IT/clients/har_replay.js" \
  "$WORK/all.har" "$PROXY_URL" "$ROOT" 2>&1) ||
  fail "node-request's replay of the HAR: $out"
say "replayed by node-request: $(tr '\n' ';' <<< "$out")"
assert_eq "$(grep -c '^200 200 ' <<< "$out")" 1 "the accepted entry, replayed"
assert_eq "$(grep -c '^502 502 ' <<< "$out")" 1 "the blocked entry, replayed"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"

# chainproxy run --har: the same export for a command's run.
# docs/export.md, "HAR of a run", run as written:
cp "$ORIGIN_CA" "$WORK/origin-ca.pem"
mkdir -p "$WORK/bin"
ln -s "$CP_BIN" "$WORK/bin/chainproxy"
(cd "$WORK" && CHAINPROXY_HOME=$PROXY_CA PATH=$WORK/bin:$PATH \
  bash -e run-example.sh) > "$WORK/run.out" 2>&1 ||
  fail "chainproxy run: $(cat "$WORK/run.out")"
/usr/bin/python3 "$CHECK" "$WORK/run.har" || fail "run's HAR does not validate"
assert_eq "$(jq -r '.log.entries[0].request.url' "$WORK/run.har")" \
  "https://localhost:$P/hello" "run's entry"
assert_eq "$(jq '.log.entries[0].response.status' "$WORK/run.har")" 200 "run's status"
jq '.log.entries[0]' "$WORK/all.har" > "$WORK/entry.json"
# Without --har-bodies no body is kept.
assert_eq "$(jq '[.log.entries[] | .request.postData, .response.content.text] |
  map(select(. != null)) | length' "$WORK/all.har")" 0 "bodies without --har-bodies"

# --har-bodies: an upload and its answer, base64; a chunked body of 70000
# bytes kept to its first 64 KiB and marked _truncated.
printf 'name=value&secret=%%s\n' > "$WORK/post.txt"
"$CP_BIN" run --no-java --har-bodies --har "$WORK/bodies.har" \
  --upstream-ca "$ORIGIN_CA" --ca-dir "$PROXY_CA" -- \
  curl -sS --cacert "$ROOT" --data-binary @"$WORK/post.txt" \
  "https://localhost:$P/upload" -o "$WORK/upload.out" \
  --next --cacert "$ROOT" "https://localhost:$P/chunked/70000" \
  -o "$WORK/chunked.out" > "$WORK/bodies.run" 2>&1 ||
  fail "chainproxy run --har-bodies: $(cat "$WORK/bodies.run")"
/usr/bin/python3 "$CHECK" "$WORK/bodies.har" || fail "the bodies' HAR does not validate"
har_validator "$WORK/bodies.har"
B=$WORK/bodies.har
up='.log.entries[] | select(.request.url | endswith("/upload"))'
jq -r "$up | .request.postData.text" "$B" | base64 -d > "$WORK/post.back"
cmp "$WORK/post.txt" "$WORK/post.back" || fail "postData is not the body sent"
jq -r "$up | .response.content.text" "$B" | base64 -d > "$WORK/upload.back"
cmp "$WORK/upload.out" "$WORK/upload.back" || fail "content.text is not the answer"
ch='.log.entries[] | select(.request.url | endswith("/chunked/70000"))'
assert_eq "$(jq "$ch | .response.content._truncated" "$B")" true "_truncated"
assert_eq "$(jq "$ch | .response.content.size" "$B")" 70000 "content.size"
jq -r "$ch | .response.content.text" "$B" | base64 -d > "$WORK/chunked.back"
assert_eq "$(wc -c < "$WORK/chunked.back")" 65536 "bytes kept"
cmp "$WORK/chunked.back" <(head -c 65536 "$WORK/chunked.out") ||
  fail "the kept bytes are not the body's first"
say "ok: $(jq '.log.entries | length' "$H") entries"
