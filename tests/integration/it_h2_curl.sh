#!/bin/bash
# HTTP/2 through the interception. ALPN end to end: the origin is offered
# the client's list and the client gets the origin's choice, so curl
# --http2 speaks h2 to an nginx origin with http2 (and nginx logs
# HTTP/2.0) but HTTP/1.1 to an HTTP/1.1-only origin; Node's http2 client
# reaches a Node origin that refuses HTTP/1.1; many streams share one
# connection, each with its request event; and the legacy chain still
# fails an h2 client the way the 2020 incident did.
. "$(dirname "$0")/lib.sh"
need curl jq node nginx openssl

make_origin_pki
H2=$(free_port)
mkdir -p "$WORK/www" "$WORK/nginx"
echo "hello from nginx" > "$WORK/www/hello"
head -c 3000000 /dev/urandom > "$WORK/www/big"
# Run as root, nginx's workers would drop to www-data, which cannot read
# the test's private directory.
user_line=
[ "$(id -u)" = 0 ] && user_line="user root;"
cat > "$WORK/nginx/nginx.conf" <<CONF
$user_line
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 256; }
http {
  access_log $WORK/nginx/access.log;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server {
    listen 127.0.0.1:$H2 ssl http2;
    ssl_certificate $ORIGIN_CERT;
    ssl_certificate_key $ORIGIN_KEY;
    root $WORK/www;
  }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2> "$WORK/nginx/start.log" &
CP_PIDS+=($!)
wait_port "$H2"
start_origin --tls
start_proxy --upstream-ca "$ORIGIN_CA"
C=(curl -sS --http2 --cacert "$ROOT" -x "$PROXY_URL")

say "curl --http2 to nginx with http2"
v=$("${C[@]}" -o "$WORK/hello.out" -w '%{http_version}' "https://localhost:$H2/hello")
assert_eq "$v" 2 "curl's HTTP version to an h2 origin"
assert_eq "$(cat "$WORK/hello.out")" "hello from nginx" "body"
wait_for "nginx's access log" grep -q '"GET /hello HTTP/2.0" 200' \
  "$WORK/nginx/access.log"
got=$("${C[@]}" "https://localhost:$H2/big" | sha256sum | cut -d' ' -f1)
assert_eq "$got" "$(sha256sum < "$WORK/www/big" | cut -d' ' -f1)" \
  "3 MB over h2"
expect_event '.event == "client_handshake" and .accepted and
  .alpn_offered == "h2,http/1.1" and .alpn == "h2"' "client ALPN h2"
expect_event ".event == \"upstream_verify\" and .alpn == \"h2\" and
  .port == $H2" "upstream ALPN h2"
expect_event '.event == "request" and .http_version == "2" and
  .stream_id == 1 and .path == "/big" and .status == 200 and
  .bytes_to_client == 3000000'

say "curl --http2 to an HTTP/1.1-only origin"
v=$("${C[@]}" -o /dev/null -w '%{http_version}' "https://localhost:$ORIGIN_PORT/hello")
assert_eq "$v" 1.1 "curl's HTTP version to an HTTP/1.1 origin"

say "30 streams on one connection"
urls=()
for i in $(seq 1 30); do urls+=("https://localhost:$H2/hello?n=$i"); done
n=$("${C[@]}" -Z --parallel-max 30 "${urls[@]}" | grep -c "hello from nginx")
assert_eq "$n" 30 "30 parallel responses"
conns=$(jq -s '[.[] | select(.event == "request" and .http_version == "2" and
  (.path | startswith("/hello?n=")))] | [group_by(.conn)[] | length] | max' \
  "$EVENTS")
assert_eq "$conns" 30 "30 request events on one connection"
ids=$(jq -s '[.[] | select(.event == "request" and
  (.path | startswith("/hello?n="))) | .stream_id] | unique | length' "$EVENTS")
assert_eq "$ids" 30 "30 distinct stream ids"

say "Node http2 client to a Node origin that refuses HTTP/1.1"
out=$WORK/h2-origin.out
node "$CP_IT/h2_origin.js" "$ORIGIN_CERT" "$ORIGIN_KEY" > "$out" 2>&1 &
CP_PIDS+=($!)
wait_for "the h2 origin" grep -q '^ready ' "$out"
NODE_H2=$(awk '/^ready /{print $2}' "$out")
node "$CP_IT/clients/h2_client.js" "$PROXY_PORT" localhost "$NODE_H2" \
  "$ROOT" || fail "Node http2 through the proxy"
say "SIGTERM: an open h2 stream finishes, then the proxy exits"
"${C[@]}" -o "$WORK/slow.out" "https://localhost:$NODE_H2/slow" &
slow=$!
wait_for "the slow stream at the origin" grep -q "got /slow" "$out"
kill -TERM "$PROXY_PID"
wait "$slow" || fail "the in-flight h2 stream failed"
assert_eq "$(cat "$WORK/slow.out")" "slow" "in-flight h2 response"
wait "$PROXY_PID"
assert_eq "$?" 0 "proxy exit status after SIGTERM"
expect_event '.event == "request" and .path == "/slow" and .status == 200 and
  .http_version == "2" and .outcome == "ok"'
check_connect_close_pairs
EVENTS_FILE=$WORK/after-restart.jsonl start_proxy --upstream-ca "$ORIGIN_CA"
C=(curl -sS --http2 --cacert "$ROOT" -x "$PROXY_URL")

say "HTTP/2 by prior knowledge (no ALPN)"
out=$(python3 "$CP_IT/clients/h2_prior.py" "$PROXY_PORT" localhost "$H2" "$ROOT")
assert_eq "$out" "status 200 body hello from nginx" "prior knowledge to nginx"
out=$(python3 "$CP_IT/clients/h2_prior.py" "$PROXY_PORT" localhost \
  "$ORIGIN_PORT" "$ROOT")
assert_contains "$out" "goaway 13 chainproxy: the origin does not speak HTTP/2" \
  "prior knowledge to an HTTP/1.1 origin: GOAWAY HTTP_1_1_REQUIRED"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs

say "a blocked upstream answers an h2-only client in HTTP/2"
EVENTS_FILE=$WORK/blocked.jsonl start_proxy  # the system store: origin CA unknown
out=$(node "$CP_IT/clients/h2_get.js" "$PROXY_PORT" localhost "$NODE_H2" /hello "$ROOT")
assert_contains "$out" "502 upstream_verify_failed" "h2 502 with the error code"
assert_contains "$out" "cause:  incomplete_chain" "h2 502 body explains the chain"
out=$(curl -sS -i --http2 --cacert "$ROOT" -x "$PROXY_URL" "https://localhost:$NODE_H2/hello")
assert_contains "$out" "HTTP/1.1 502" "curl (h2 and http/1.1 offered) gets HTTP/1.1"
expect_event '.event == "request" and .http_version == "2" and .status == 502
  and .outcome == "upstream_verify_failed"'
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"

say "the legacy chain over h2"
EVENTS_FILE=$WORK/legacy.jsonl start_proxy --upstream-ca "$ORIGIN_CA" \
  --chain legacy
out=$(curl -sS --http2 --cacert "$PROXY_CA/legacy-root.pem" -x "$PROXY_URL" \
  "https://localhost:$H2/hello" 2>&1)
assert_contains "$out" "certificate has expired" \
  "h2 client trusting only the legacy root"
C=(curl -sS --http2 --cacert "$ROOT" -x "$PROXY_URL")
v=$("${C[@]}" -o /dev/null -w '%{http_version}' "https://localhost:$H2/hello")
assert_eq "$v" 2 "h2 client trusting the modern root passes the legacy chain"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok"
