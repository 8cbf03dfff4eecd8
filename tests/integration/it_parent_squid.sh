#!/bin/bash
# chainproxy behind a corporate parent proxy that no one here wrote:
# Debian's squid, with Basic authentication (basic_ncsa_auth) on one port
# and ssl-bump re-signing with its own CA on another. Through it with the
# right password: the CONNECT and the plain-HTTP absolute form pass and
# the parent's log shows them; a wrong password: parent_proxy_auth_required
# naming the parent and its status line; a host the parent forbids:
# parent_proxy_refused; a parent that is not there: parent_proxy_unreachable;
# the re-signing parent: the diagnosis names the parent's root. Then
# --upstream-proxy env with NO_PROXY, and the loop it refuses.
. "$(dirname "$0")/lib.sh"
need curl jq openssl squid
[ -x /usr/lib/squid/basic_ncsa_auth ] || need basic_ncsa_auth
[ -x /usr/lib/squid/security_file_certgen ] || need security_file_certgen

chmod 755 "$WORK" # squid's helpers run as its own user
make_origin_pki
chmod -R a+rX "$WORK/origin-pki"
start_origin --tls
TLS_PORT=$ORIGIN_PORT
start_origin --tls
BUMP_PORT=$ORIGIN_PORT # reached through the re-signing parent
start_origin
HTTP_PORT=$ORIGIN_PORT

# The parent's own CA, for re-signing (what a corporate TLS proxy does).
SQ=$WORK/squid
mkdir -p "$SQ"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$SQ/ca.key" \
  -out "$SQ/ca.pem" -days 30 -subj "/O=Corp/CN=Corp Parent Root" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
  fail "openssl could not make the parent's CA"
printf 'alice:%s\n' "$(openssl passwd -apr1 s3cret)" > "$SQ/htpasswd"
/usr/lib/squid/security_file_certgen -c -s "$SQ/db" -M 4MB > /dev/null ||
  fail "security_file_certgen could not make its database"
SQ_PLAIN=$(free_port)
SQ_BUMP=$(free_port)
cat > "$SQ/squid.conf" <<EOF
http_port 127.0.0.1:$SQ_PLAIN
http_port 127.0.0.1:$SQ_BUMP ssl-bump tls-cert=$SQ/ca.pem tls-key=$SQ/ca.key generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s $SQ/db -M 4MB
sslcrtd_children 2 startup=1 idle=1
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
tls_outgoing_options cafile=$ORIGIN_CA
auth_param basic program /usr/lib/squid/basic_ncsa_auth $SQ/htpasswd
auth_param basic realm corp-parent
acl forbidden dstdomain -n forbidden.test
acl authed proxy_auth REQUIRED
http_access deny forbidden
http_access allow authed
http_access deny all
cache deny all
access_log stdio:$SQ/access.log
cache_log $SQ/cache.log
pid_filename $SQ/squid.pid
coredump_dir $SQ
shutdown_lifetime 1 seconds
EOF
touch "$SQ/access.log" "$SQ/cache.log"
chmod -R a+rX "$SQ"
chown -R proxy "$SQ" 2>/dev/null
squid -N -f "$SQ/squid.conf" > "$SQ/out" 2>&1 &
CP_PIDS+=($!)
wait_port "$SQ_PLAIN"
wait_port "$SQ_BUMP"

cat > "$WORK/rules.json" <<EOF
[
  {"host": "localhost", "port": $BUMP_PORT,
   "upstream_proxy": "http://alice:s3cret@127.0.0.1:$SQ_BUMP"},
  {"host": "127.0.0.1", "upstream_proxy": "http://alice:wrong@127.0.0.1:$SQ_PLAIN"}
]
EOF
# Every host through the authenticating parent, but the rules above.
start_proxy --upstream-ca "$ORIGIN_CA" --rules "$WORK/rules.json" \
  --upstream-proxy "http://alice:s3cret@127.0.0.1:$SQ_PLAIN"
pcurl() { curl -sS --max-time 20 --cacert "$ROOT" -x "$PROXY_URL" "$@"; }
parent_saw() { grep -q "$1" "$SQ/access.log"; }

# 1. CONNECT through the parent (with the right password), intercepted.
out=$(pcurl "https://localhost:$TLS_PORT/hello") ||
  fail "https through the parent failed: $out"
assert_eq "$out" "hello from origin" "https body through the parent"
wait_for "squid logging the CONNECT" parent_saw "CONNECT localhost:$TLS_PORT"
expect_event "select(.event == \"connect\" and .port == $TLS_PORT and
  .upstream_proxy == \"http://alice@127.0.0.1:$SQ_PLAIN\")" \
  "the connect event names the parent (user, no password)"
expect_event "select(.event == \"upstream_verify\" and .ok == true and
  .upstream_proxy == \"http://alice@127.0.0.1:$SQ_PLAIN\")" \
  "the origin's own chain verified through the parent"
grep -q s3cret "$EVENTS" "$PROXY_LOG" && fail "the password reached a log"

# 2. Plain HTTP goes to the parent in absolute form.
out=$(pcurl "http://localhost:$HTTP_PORT/hello") ||
  fail "http through the parent failed: $out"
assert_eq "$out" "hello from origin" "plain body through the parent"
wait_for "squid logging the absolute-form GET" \
  parent_saw "GET http://localhost:$HTTP_PORT/hello"

# 3. The wrong password (a rule's parent): 502 parent_proxy_auth_required,
# for CONNECT and for plain HTTP.
out=$(pcurl -o /dev/null "https://127.0.0.1:$TLS_PORT/" 2>&1) &&
  fail "a wrong parent password passed"
assert_contains "$out" "502" "curl's error for a wrong parent password"
expect_event "select(.event == \"error\" and
  .error == \"parent_proxy_auth_required\" and
  (.message | contains(\"http://alice@127.0.0.1:$SQ_PLAIN\")) and
  (.message | contains(\"407 Proxy Authentication Required\")) and
  (.message | contains(\"Basic realm=\\\"corp-parent\\\"\")))" \
  "parent_proxy_auth_required naming the parent, its 407 and its realm"
code=$(pcurl -o "$WORK/body4" -w '%{http_code}' \
  "http://127.0.0.1:$HTTP_PORT/hello")
assert_eq "$code" 502 "plain HTTP with a wrong parent password"
assert_contains "$(cat "$WORK/body4")" "wants credentials" "502 body"
[ "$(count_events 'select(.event == "error" and
  .error == "parent_proxy_auth_required")')" -ge 2 ] ||
  fail "two parent_proxy_auth_required errors expected"

# 4. A host the parent forbids: parent_proxy_refused with its status line.
pcurl -o /dev/null "https://forbidden.test:$TLS_PORT/" 2>/dev/null
expect_event "select(.event == \"error\" and .error == \"parent_proxy_refused\"
  and (.message | contains(\"403 Forbidden\")) and
  (.message | contains(\"forbidden.test:$TLS_PORT\")))" \
  "parent_proxy_refused with the parent's 403"

# 5. The re-signing parent: the chain that arrives is the parent's, and the
# diagnosis says whose root chainproxy does not trust.
code=$(pcurl -o "$WORK/body5" -w '%{http_code}' \
  "https://localhost:$BUMP_PORT/hello")
assert_eq "$code" 502 "a re-signed chain is blocked"
expect_event "select(.event == \"upstream_verify\" and .ok == false and
  .upstream_proxy == \"http://alice@127.0.0.1:$SQ_BUMP\" and
  ((.issuer // \"\") + (.subject // \"\") | contains(\"Corp Parent Root\")))" \
  "the diagnosis names the parent's root"
assert_contains "$(cat "$WORK/body5")" "Corp Parent Root" "502 body"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"

# 6. A parent that is not there.
dead=$(free_port)
start_proxy --upstream-ca "$ORIGIN_CA" \
  --upstream-proxy "http://127.0.0.1:$dead"
pcurl -o /dev/null "https://localhost:$TLS_PORT/" 2>/dev/null
expect_event "select(.event == \"error\" and
  .error == \"parent_proxy_unreachable\" and
  (.message | contains(\"127.0.0.1:$dead\")))" "parent_proxy_unreachable"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"

# 7. --upstream-proxy env: HTTPS_PROXY with NO_PROXY, read only when asked.
: > "$SQ/access.log"
HTTPS_PROXY="http://alice:s3cret@127.0.0.1:$SQ_PLAIN" NO_PROXY="127.0.0.1" \
  start_proxy --upstream-ca "$ORIGIN_CA" --upstream-proxy env
pcurl -o /dev/null "https://localhost:$TLS_PORT/hello" ||
  fail "env parent: localhost failed"
pcurl -o /dev/null "https://127.0.0.1:$TLS_PORT/hello" ||
  fail "env parent: 127.0.0.1 (NO_PROXY) failed"
wait_for "squid logging the env parent's CONNECT" \
  parent_saw "CONNECT localhost:$TLS_PORT"
parent_saw "CONNECT 127.0.0.1:$TLS_PORT" &&
  fail "NO_PROXY=127.0.0.1 went through the parent"
expect_event "select(.event == \"connect\" and .host == \"127.0.0.1\" and
  .upstream_proxy == null)" "NO_PROXY host connected directly"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
# Without "env", the environment is never read.
: > "$SQ/access.log"
HTTPS_PROXY="http://alice:s3cret@127.0.0.1:$SQ_PLAIN" \
  start_proxy --upstream-ca "$ORIGIN_CA"
pcurl -o /dev/null "https://localhost:$TLS_PORT/hello" ||
  fail "direct with HTTPS_PROXY set failed"
parent_saw CONNECT && fail "HTTPS_PROXY was used without --upstream-proxy env"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
# A parent that is chainproxy itself would loop: refused at start.
p=$(free_port)
if out=$(HTTPS_PROXY="http://127.0.0.1:$p" "$CP_BIN" --listen "127.0.0.1:$p" \
  --ca-dir "$PROXY_CA" --upstream-proxy env 2>&1); then
  fail "a parent that is chainproxy itself was accepted"
fi
assert_contains "$out" "would loop" "the loop refusal"

# 8. chainproxy verify through the parent (its --proxy is chainproxy).
V=("$CP_BIN" verify "localhost:$TLS_PORT" --upstream-ca "$ORIGIN_CA"
  --warn-days 1)
out=$("${V[@]}" --upstream-proxy "http://alice:s3cret@127.0.0.1:$SQ_PLAIN" \
  2>&1) || fail "verify through the parent: $out"
out=$("${V[@]}" --upstream-proxy "http://alice:nope@127.0.0.1:$SQ_PLAIN" \
  --json 2>/dev/null)
assert_eq "$?" 3 "verify's exit with a wrong parent password"
assert_eq "$(jq -r .connect_error <<< "$out")" parent_proxy_auth_required \
  "verify's connect_error"
out=$("$CP_BIN" verify "localhost:$BUMP_PORT" --upstream-ca "$ORIGIN_CA" \
  --upstream-proxy "http://alice:s3cret@127.0.0.1:$SQ_BUMP" --json \
  2>/dev/null)
assert_eq "$?" 1 "verify through the re-signing parent fails verification"
assert_eq "$(jq -r .subject <<< "$out")" "CN=Corp Parent Root,O=Corp" \
  "verify names the parent's root"
say "ok"
