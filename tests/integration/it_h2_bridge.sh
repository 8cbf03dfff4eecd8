#!/bin/bash
# --h2 bridge: HTTP/2 wherever a side offers it, translated to HTTP/1.1
# where the other side lacks it. An h2 client (curl, Node, a prior-
# knowledge client) to an HTTP/1.1-only origin, and HTTP/1.1 clients
# (curl, Python) to an HTTP/2-only Node origin: bodies intact both ways,
# chunked and close-delimited responses, HEAD, trailers, many streams
# serialized on the one HTTP/1.1 connection, and a request event per
# exchange naming both versions.
. "$(dirname "$0")/lib.sh"
need curl jq python3 node sha256sum

make_origin_pki
start_origin --tls --host 127.0.0.1
H1=$ORIGIN_PORT
node "$CP_IT/h2_origin.js" "$ORIGIN_CERT" "$ORIGIN_KEY" > "$WORK/h2.out" 2>&1 &
CP_PIDS+=($!)
wait_for "the h2 origin" grep -q '^ready ' "$WORK/h2.out"
H2=$(awk '/^ready /{print $2}' "$WORK/h2.out")
start_proxy --upstream-ca "$ORIGIN_CA" --h2 bridge
C=(curl -sS --cacert "$ROOT" -x "$PROXY_URL")
head -c 3000000 /dev/urandom > "$WORK/big"
big_sha=$(sha256sum < "$WORK/big" | cut -d' ' -f1)

# An h2 client, an HTTP/1.1 origin.
v=$("${C[@]}" --http2 -o "$WORK/b1" -w '%{http_version}' \
  "https://localhost:$H1/bytes/3000000")
assert_eq "$v" 2 "h2 to the client of an HTTP/1.1 origin"
cmp -s "$WORK/b1" <(python3 -c "import sys; p=bytes(range(256))*256
sys.stdout.buffer.write((p*46)[:3000000])") || fail "3 MB download differs"
for route in chunked/70000 close/70000; do
  n=$("${C[@]}" --http2 -o - "https://localhost:$H1/$route" | wc -c)
  assert_eq "$n" 70000 "$route through the bridge"
done
got=$("${C[@]}" --http2 --data-binary @"$WORK/big" \
  "https://localhost:$H1/upload")
assert_eq "$(jq -r .sha256 <<< "$got")" "$big_sha" "3 MB upload, h2 to HTTP/1.1"
got=$("${C[@]}" --http2 -H 'Transfer-Encoding:' -T - \
  "https://localhost:$H1/upload" < "$WORK/big")
assert_eq "$(jq -r .sha256 <<< "$got")" "$big_sha" "a streamed upload (chunked up)"
h=$("${C[@]}" --http2 -I "https://localhost:$H1/bytes/5000")
assert_contains "$h" "content-length: 5000" "HEAD keeps the length"
# 20 streams at once: one HTTP/1.1 connection takes them in turn.
urls=()
for i in $(seq 1 20); do urls+=("https://localhost:$H1/slow?ms=20&i=$i"); done
codes=$("${C[@]}" --http2 --parallel --parallel-max 20 --no-progress-meter \
  -o /dev/null \
  -w '%{http_code} %{http_version}\n' "${urls[@]}")
assert_eq "$(grep -c '^200 2$' <<< "$codes")" 20 "20 parallel streams bridged"
n=$(count_events '.event == "request" and .http_version == "2" and
  .upstream_http_version == "1.1" and (.url | contains("/slow"))')
assert_eq "$n" 20 "a request event per bridged stream"
# Node's http2 client, and a client that starts with the preface.
out=$(node -e '
const http2 = require("http2"), http = require("http"), fs = require("fs");
http.request({host: "127.0.0.1", port: '"$PROXY_PORT"', method: "CONNECT",
              path: "localhost:'"$H1"'"}).on("connect", (res, socket) => {
  const s = http2.connect("https://localhost:'"$H1"'", {socket,
    ca: fs.readFileSync("'"$ROOT"'")});
  const r = s.request({":path": "/hello"});
  let body = "";
  r.on("response", (h) => { body += h[":status"] + " "; });
  r.on("data", (d) => { body += d; });
  r.on("end", () => { console.log(body.trim()); s.close(); });
}).end();')
assert_eq "$out" "200 hello from origin" "Node http2 to an HTTP/1.1 origin"
out=$(python3 "$CP_IT/clients/h2_prior.py" "$PROXY_PORT" localhost "$H1" "$ROOT")
assert_contains "$out" "status 200 body hello from origin" \
  "prior knowledge bridged instead of refused"

# HTTP/1.1 clients, an HTTP/2-only origin.
v=$("${C[@]}" --http1.1 -o "$WORK/h" -w '%{http_version}' \
  "https://localhost:$H2/hello")
assert_eq "$v" 1.1 "HTTP/1.1 to the client of an h2-only origin"
assert_contains "$(cat "$WORK/h")" "hello" "the h2 origin's body"
got=$("${C[@]}" --http1.1 --data-binary @"$WORK/big" "https://localhost:$H2/echo")
assert_contains "$got" "$big_sha" "3 MB upload, HTTP/1.1 to h2"
n=$("${C[@]}" --http1.1 -o - "https://localhost:$H2/bytes/2500000" | wc -c)
assert_eq "$n" 2500000 "2.5 MB download, h2 to HTTP/1.1 (chunked)"
"${C[@]}" --http1.1 -D "$WORK/trailers.h" -o /dev/null \
  "https://localhost:$H2/trailers"
assert_contains "$(tr -d '\r' < "$WORK/trailers.h")" "grpc-status: 0" \
  "trailers kept in the chunked body"
# Keep-alive: three requests on one connection, each its own stream.
out=$("${C[@]}" --http1.1 -w '%{num_connects}\n' -o /dev/null -o /dev/null \
  -o /dev/null "https://localhost:$H2/hello" "https://localhost:$H2/hello" \
  "https://localhost:$H2/hello")
assert_eq "$(tr -d '\n' <<< "$out")" 100 "one connection for three requests"
# Two requests in one write (pipelined): answered in order, one by one.
out=$(python3 - "$PROXY_PORT" "$H2" "$ROOT" <<'PY'
import os, sys, time; sys.path.insert(0, os.environ["CP_CLIENTS"])
from connect_tls import connect, tls, context
pp, port, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s, head = connect(pp, "localhost", port, extra=b"Host: x\r\n")
t = tls(s, ca, "localhost", alpn=["http/1.1"])
req = b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"
t.sendall(req + req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
data, end = b"", time.time() + 10
while time.time() < end:
    chunk = t.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.count(b"HTTP/1.1 200"), data.count(b"Connection: close"))
PY
)
assert_eq "$out" "2 1" "two pipelined requests, the second closes"
out=$(python3 "$CP_IT/clients/hs_client.py" "https://localhost:$H2/hello" \
  "$ROOT" --proxy "127.0.0.1:$PROXY_PORT")
assert_eq "$out" "ok 200" "Python (HTTP/1.1) to an h2-only origin"
expect_event ".event == \"request\" and .port == $H2 and
  .http_version == \"1.1\" and .upstream_http_version == \"2\"" \
  "the event names both versions"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs

# A head trickled by an HTTP/1.1 client of a bridged connection is cut
# at --head-timeout, as on a plain one (each byte does not push it back).
EVENTS_FILE=$WORK/trickle.jsonl start_proxy --upstream-ca "$ORIGIN_CA" \
  --h2 bridge --head-timeout 1.5
out=$(python3 - "$PROXY_PORT" "$H2" "$ROOT" <<'PY'
import os, sys, time; sys.path.insert(0, os.environ["CP_CLIENTS"])
from connect_tls import connect, tls, context
s, head = connect(sys.argv[1], "localhost", sys.argv[2])
t = tls(s, sys.argv[3], "localhost", alpn=["http/1.1"])
req = b"GET /hello HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 40 + b"\r\n\r\n"
sent = 0
try:
    for b in req:
        t.send(bytes([b]))
        sent += 1
        time.sleep(0.4)
    print("whole head sent")
except OSError:
    print("cut after %d of %d bytes" % (sent, len(req)))
PY
)
assert_contains "$out" "cut after" "a trickled head on a bridged connection"
expect_event '.event == "close" and .reason == "head_timeout"' "close reason"
stop_proxy
say "ok"
