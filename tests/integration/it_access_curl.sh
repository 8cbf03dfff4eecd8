#!/bin/bash
# Safe defaults: a listener off loopback needs --allow or --auth (the
# proxy refuses to start and says why); --auth asks for Basic proxy
# credentials (407 with Proxy-Authenticate) and admits curl with them,
# without writing them anywhere; the CA's keys must stay private.
. "$(dirname "$0")/lib.sh"
need curl jq

p=$(free_port)
out=$("$CP_BIN" --listen "0.0.0.0:$p" --ca-dir "$WORK/ca0" 2>&1); rc=$?
[ "$rc" != 0 ] || fail "listening on 0.0.0.0 with no access control started"
assert_contains "$out" "refusing to listen on 0.0.0.0:$p with no access control" \
  "and why"
assert_contains "$out" "--allow CIDR" "what to do"
# With --allow (or --auth) it starts; it is still reached on loopback.
EVENTS_FILE=$WORK/open.jsonl LISTEN_HOST=0.0.0.0 start_proxy --allow 10.99.0.0/16
stop_proxy
assert_eq "$PROXY_EXIT" 0 "--allow: proxy exit status"

make_origin_pki
start_origin
# --allow, from an address that is not loopback (inside the test's
# private network namespace, loopback gets one more address).
if [ "${CP_IN_NETNS:-0}" = 1 ] && ip addr add 10.77.0.5/32 dev lo 2>/dev/null; then
  EVENTS_FILE=$WORK/allow.jsonl LISTEN_HOST=0.0.0.0 start_proxy --allow 10.88.0.0/16
  out=$(curl -sS -w ' %{http_code}' --interface 10.77.0.5 \
    -x "http://10.77.0.5:$PROXY_PORT" "http://127.0.0.1:$ORIGIN_PORT/hello")
  assert_contains "$out" "403" "a client outside --allow"
  assert_contains "$out" "may not use this proxy (see --allow)" "and why"
  code=$(curl -sS -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$PROXY_PORT" \
    "http://127.0.0.1:$ORIGIN_PORT/hello")
  assert_eq "$code" 200 "loopback is always allowed"
  stop_proxy
  EVENTS_FILE=$WORK/allow2.jsonl LISTEN_HOST=0.0.0.0 start_proxy --allow 10.77.0.0/24
  code=$(curl -sS -o /dev/null -w '%{http_code}' --interface 10.77.0.5 \
    -x "http://10.77.0.5:$PROXY_PORT" "http://127.0.0.1:$ORIGIN_PORT/hello")
  assert_eq "$code" 200 "a client inside --allow"
  stop_proxy
  # One remote address may not take every slot (slow heads, idle
  # sockets): 3 held connections, the 4th is refused; loopback is exempt.
  EVENTS_FILE=$WORK/percap.jsonl LISTEN_HOST=0.0.0.0 start_proxy --allow 10.77.0.0/24 --max-conns-per-client 3
  out=$(python3 - "$PROXY_PORT" "$ORIGIN_PORT" <<'PY'
import socket, sys, time
p, o = int(sys.argv[1]), sys.argv[2]
def conn(src):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("10.77.0.5" if src != "127.0.0.1" else "127.0.0.1", p))
    return s
held = [conn("10.77.0.5") for _ in range(3)]
time.sleep(0.3)
s = conn("10.77.0.5")
s.sendall(b"GET http://127.0.0.1:%s/hello HTTP/1.1\r\nHost: x\r\n\r\n" % o.encode())
first = s.recv(4096)
l = conn("127.0.0.1")
l.sendall(b"GET http://127.0.0.1:%s/hello HTTP/1.1\r\nHost: x\r\n\r\n" % o.encode())
print(first.split(b"\r\n")[0].decode(), "|", l.recv(4096).split(b"\r\n")[0].decode())
print(first.decode(errors="replace").split("\r\n\r\n", 1)[-1].strip())
PY
)
  assert_contains "$out" "HTTP/1.1 503" "the 4th connection from one address"
  assert_contains "$out" "| HTTP/1.1 200" "loopback is exempt"
  assert_contains "$out" "has more than 3 connections open" "and why"
  stop_proxy
elif [ "${CI:-}" = true ]; then
  fail "the --allow test needs a private network namespace in CI"
else
  say "no private network namespace: the --allow address test was not run"
fi
start_proxy --auth 'alice:s3cr3t pass' --upstream-ca "$ORIGIN_CA"
URL=http://127.0.0.1:$ORIGIN_PORT/hello
h=$(curl -sS -D - -o /dev/null -x "$PROXY_URL" "$URL")
assert_contains "$h" "HTTP/1.1 407" "no credentials: 407"
assert_contains "$h" 'Proxy-Authenticate: Basic realm="chainproxy"' "the challenge"
code=$(curl -sS -o /dev/null -w '%{http_code}' -x "$PROXY_URL" \
  --proxy-user 'alice:wrong' "$URL")
assert_eq "$code" 407 "wrong password: 407"
code=$(curl -sS -o /dev/null -w '%{http_code}' -x "$PROXY_URL" \
  --proxy-user 'alice:s3cr3t pass' "$URL")
assert_eq "$code" 200 "right credentials, absolute form"
start_origin --tls
body=$(curl -sS --cacert "$ROOT" -x "$PROXY_URL" --proxy-user 'alice:s3cr3t pass' \
  "https://localhost:$ORIGIN_PORT/hello" 2>&1)
assert_contains "$body" "hello from origin" "right credentials, CONNECT"
out=$(curl -sS -o /dev/null -w '%{http_code}' -x "$PROXY_URL" \
  "https://localhost:$ORIGIN_PORT/hello" 2>&1)
assert_contains "$out" "407" "CONNECT without credentials"
expect_event '.event == "error" and .error == "proxy_auth_required" and
  .status == 407'
stop_proxy
# --auth-file: several users, one per line; the event names who it was.
printf '%s\n' '# QA users' 'alice:one pass' '' 'bob:two:with colon' > "$WORK/users"
chmod 600 "$WORK/users"
EVENTS_FILE=$WORK/users.jsonl start_proxy --auth-file "$WORK/users" \
  --upstream-ca "$ORIGIN_CA"
for up in 'alice:one pass' 'bob:two:with colon'; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' -x "$PROXY_URL" \
    --proxy-user "$up" "$URL")
  assert_eq "$code" 200 "--auth-file user ${up%%:*}"
done
code=$(curl -sS -o /dev/null -w '%{http_code}' -x "$PROXY_URL" \
  --proxy-user 'alice:two:with colon' "$URL")
assert_eq "$code" 407 "--auth-file: another user's password"
expect_event 'select(.event == "connect" and .user == "bob")' \
  "--auth-file: the user in the event"
grep -q 'one pass\|with colon' "$WORK/users.jsonl" "$PROXY_LOG" &&
  fail "a password reached a log"
stop_proxy
out=$("$CP_BIN" --auth-file "$WORK/nonexistent" --ca-dir "$PROXY_CA" 2>&1) &&
  fail "a missing --auth-file was accepted"
assert_contains "$out" "--auth-file $WORK/nonexistent: No such file" \
  "the missing file named"
printf 'alice\n' > "$WORK/bad-users"
out=$("$CP_BIN" --auth-file "$WORK/bad-users" --ca-dir "$PROXY_CA" 2>&1) &&
  fail "a malformed --auth-file was accepted"
assert_contains "$out" "line 1 is not USER:PASSWORD" "the bad line named"
start_proxy --auth 'alice:s3cr3t pass' --upstream-ca "$ORIGIN_CA"
# Other secrets in headers, plain and intercepted, with debug logging on:
# neither log may hold them (nor bodies).
stop_proxy
assert_eq "$PROXY_EXIT" 0 "--auth: proxy exit status"
EVENTS_FILE=$WORK/secrets.jsonl start_proxy --auth 'alice:s3cr3t pass' \
  --upstream-ca "$ORIGIN_CA" -vv
for url in "$URL" "https://localhost:$ORIGIN_PORT/hello"; do
  curl -sS -o /dev/null --cacert "$ROOT" -x "$PROXY_URL" \
    --proxy-user 'alice:s3cr3t pass' -H 'Cookie: sid=cookiesecret' \
    -H 'Authorization: Bearer tokensecret' -d 'bodysecret=1' "$url" ||
    fail "a request with secrets: $url"
done
stop_proxy
[ -s "$WORK/secrets.jsonl" ] || fail "no events to look at"
for f in "$WORK"/*.jsonl "$PROXY_LOG"; do
  [ -f "$f" ] || fail "$f is missing"
  ! grep -q -e 's3cr3t' -e 'YWxpY2U6' -e cookiesecret -e tokensecret \
    -e bodysecret "$f" || fail "a secret was written to $f"
done
# From the environment, out of the process list.
EVENTS_FILE=$WORK/env.jsonl CHAINPROXY_AUTH='bob:pw' start_proxy
code=$(curl -sS -o /dev/null -w '%{http_code}' -x "$PROXY_URL" "$URL")
assert_eq "$code" 407 "CHAINPROXY_AUTH: no credentials"
code=$(curl -sS -o /dev/null -w '%{http_code}' -x "http://bob:pw@127.0.0.1:$PROXY_PORT" "$URL")
assert_eq "$code" 200 "CHAINPROXY_AUTH: credentials in the proxy URL"
stop_proxy

# The CA's secrets: a key others can read, or a directory others can
# write, stops the start.
chmod 644 "$PROXY_CA/root.key"
out=$("$CP_BIN" --listen "127.0.0.1:$(free_port)" --ca-dir "$PROXY_CA" 2>&1); rc=$?
[ "$rc" != 0 ] || fail "a world-readable CA key was accepted"
assert_contains "$out" "root.key: private key is readable by group or others (mode 0644)" \
  "and why"
chmod 600 "$PROXY_CA/root.key"
chmod 777 "$PROXY_CA"
out=$("$CP_BIN" --listen "127.0.0.1:$(free_port)" --ca-dir "$PROXY_CA" 2>&1); rc=$?
[ "$rc" != 0 ] || fail "a world-writable CA directory was accepted"
assert_contains "$out" "is writable by others (mode 0777" "and why"
chmod 700 "$PROXY_CA"
out=$("$CP_BIN" --auth nocolon --version 2>&1); rc=$?
[ "$rc" != 0 ] || fail "--auth without a password was accepted"
assert_contains "$out" "--auth: needs USER:PASSWORD" "and why"
say "ok"
