#!/bin/bash
# `chainproxy run --isolate -- CMD`: CMD in a network namespace of its own
# whose only way out is chainproxy, so clients that ignore HTTPS_PROXY are
# intercepted anyway: curl --noproxy '*', Node 20's https.get and fetch
# (no agent), Go's default client to localhost (never proxied), Java's
# HttpClient with default settings. Each is intercepted (connect events
# with mode "isolate" and the original destination, --expect judged) and
# fails as expected on --chain legacy with --trust legacy. Plain HTTP is
# named by its Host; names resolve through chainproxy's resolver (the
# catalogue's locally, the rest relayed); UDP is refused; a client that does use the proxy
# variables still works. As an unprivileged user the namespace is a user
# namespace; where no namespace can be made (the kernel's per-namespace
# limits set to 0 in a throwaway user namespace) run says so and CMD does
# not run. SIGINT and SIGTERM leave no process, namespace or mount.
. "$(dirname "$0")/lib.sh"
need_netns
need curl jq openssl python3 node go java keytool nft ip unshare setpriv
export GOCACHE=$WORK/gocache GOPATH=$WORK/gopath GO111MODULE=off
go build -o "$WORK/isolate_go" "$CP_IT/clients/isolate_go.go" ||
  fail "go build isolate_go.go"

start_origin --tls
OP=$ORIGIN_PORT
start_origin
HP=$ORIGIN_PORT
URL=https://localhost:$OP/hello
ISO=("$CP_BIN" run --isolate --upstream-ca "$ORIGIN_CA")
# isolated TAG ARGS...: chainproxy run --isolate with its events in
# $WORK/TAG.jsonl (EVENTS, for expect_event); sets OUT and RC.
isolated() {
  local tag=$1
  shift
  EVENTS=$WORK/$tag.jsonl
  OUT=$("${ISO[@]}" --events "$EVENTS" --summary-json "$WORK/$tag.json" \
    "$@" 2>&1)
  RC=$?
}
# connect_isolate: the run's connect event was redirected, not proxied.
connect_isolate() {
  expect_event "select(.event == \"connect\" and .mode == \"isolate\" and
    .method == null and .host == \"localhost\" and .port == $OP and
    .original_dst == \"127.0.0.1:$OP\")" "$1: connect, mode isolate"
  say "$1: $(jq -c 'select(.event == "connect")' "$EVENTS" | head -1)"
}

# 1. curl told to use no proxy at all.
isolated curl --no-java --expect "localhost=accepted" \
  -- curl -sS --noproxy '*' "$URL"
assert_eq "$RC" 0 "curl --noproxy: $OUT"
assert_contains "$OUT" "hello from origin" "curl's body"
assert_contains "$OUT" "PASS localhost=accepted" "curl's expectation"
connect_isolate curl
expect_event "select(.event == \"request\" and
  .url == \"https://localhost:$OP/hello\" and .status == 200)" "curl request"
assert_eq "$(jq -r .isolate.mechanism "$WORK/curl.json")" root "mechanism"
assert_contains "$OUT" "isolated: CMD ran in a network namespace of its own (root" \
  "the summary names the mechanism"
isolated curl-legacy --no-java --chain legacy --trust legacy \
  --expect "localhost=rejected:certificate_expired" \
  -- curl -sS --noproxy '*' -o /dev/null "$URL"
assert_eq "$RC" 0 "curl, legacy: $OUT"
assert_contains "$OUT" "curl: (60) SSL certificate problem: certificate has expired" \
  "curl's error on the legacy chain"
connect_isolate curl-legacy

# Plain HTTP is named by its Host header; the address is kept.
isolated plain --no-java -- curl -sS --noproxy '*' \
  "http://plain.test:$HP/hello" --resolve "plain.test:$HP:127.0.0.1"
assert_eq "$RC" 0 "plain HTTP: $OUT"
assert_contains "$OUT" "hello from origin" "plain body"
expect_event "select(.event == \"request\" and .scheme == \"http\" and
  .url == \"http://plain.test:$HP/hello\" and .status == 200)" "plain request"
expect_event "select(.event == \"connect\" and .mode == \"isolate\" and
  .method == \"GET\" and .original_dst == \"127.0.0.1:$HP\")" "plain connect"

# Anything else (here a binary protocol, client first) is relayed as it is.
EP=$(free_port)
python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(5)
while True:
    c, _ = s.accept()
    c.sendall(b"echo:" + c.recv(100))
    c.close()' "$EP" > /dev/null 2>&1 &
CP_PIDS+=($!)
wait_port "$EP"
isolated raw --no-java -- python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"\x00\x01binary")
print(s.recv(100))' "$EP"
assert_eq "$RC" 0 "a relayed protocol: $OUT"
assert_contains "$OUT" "echo:\\x00\\x01binary" "the relayed bytes"
expect_event "select(.event == \"connect\" and .mode == \"isolate\" and
  .original_dst == \"127.0.0.1:$EP\")" "relayed connect"
expect_event "select(.event == \"close\" and .bytes_to_upstream == 8 and
  .bytes_from_upstream == 13)" "relayed close with its bytes"

# A client that uses the proxy variables goes through the listener itself.
isolated proxied --no-java --expect "localhost=accepted" -- curl -sS "$URL"
assert_eq "$RC" 0 "curl with HTTPS_PROXY: $OUT"
expect_event 'select(.event == "connect" and .method == "CONNECT")' \
  "CONNECT through the proxy variables"

# UDP (QUIC, anything but DNS) is refused: the send itself fails (EPERM
# from the output hook's reject), so a client falls back at once.
isolated udp --no-java -- python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
try:
    s.sendto(b"quic?", ("127.0.0.1", 443))
    s.recv(100)
    print("udp answered")
except (PermissionError, ConnectionRefusedError) as e:
    print("udp refused:", e.strerror)
except socket.timeout:
    print("udp timeout")'
assert_contains "$OUT" "udp refused: Operation not permitted" \
  "UDP refused in the namespace"
assert_contains "$OUT" "udp refused (1 destination(s)): 127.0.0.1:443" \
  "the refused destination in the summary"
expect_event 'select(.event == "udp_refused" and .host == "127.0.0.1" and
  .port == 443 and .mode == "isolate")' "the udp_refused event"

# DNS inside: the namespace's resolver is chainproxy's. Catalogue names
# (--origins) are answered by it; the rest go to the resolver of the
# namespace run was started in: here a stub on 127.0.0.1:53 named by an
# /etc/resolv.conf of this test's own mount namespace.
cat > "$WORK/dns.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
    name, qtype = ".".join(labels).lower(), struct.unpack(">H", q[i + 1:i + 3])[0]
    print("query", name, qtype, flush=True)
    found = name == "db.example.test"
    ans = b""
    if found and qtype == 1:
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 1])
    hdr = q[:2] + struct.pack(">HHHHH", 0x8180 if found else 0x8183, 1,
                              1 if ans else 0, 0, 0)
    s.sendto(hdr + q[12:i + 5] + ans, peer)
PY
printf 'nameserver 127.0.0.1\n' > "$WORK/host-resolv.conf"
python3 "$WORK/dns.py" > "$WORK/dns.log" 2>&1 &
CP_PIDS+=($!)
wait_for "the stub resolver" grep -q '^ready' "$WORK/dns.log"
EVENTS=$WORK/dns.jsonl
out=$(unshare -m bash -c 'mount --bind "$1" /etc/resolv.conf && shift &&
  exec "$@"' - "$WORK/host-resolv.conf" "${ISO[@]}" --no-java \
  --events "$EVENTS" --expect "db.example.test=accepted" \
  -- curl -sS --noproxy '*' "http://db.example.test:$HP/hello" 2>&1) ||
  fail "a name resolved through DNS: $out"
assert_contains "$out" "hello from origin" "the body, by name"
grep -q '^query db.example.test 1' "$WORK/dns.log" ||
  fail "the query did not reach the host's resolver: $(cat "$WORK/dns.log")"
assert_contains "$out" "relayed" "the summary counts DNS"
expect_event "select(.event == \"request\" and
  .url == \"http://db.example.test:$HP/hello\" and .status == 200)" \
  "the request by name"
say "by name: $(jq -c 'select(.event == "connect")' "$EVENTS" | head -1)"
# ... and by name over TLS, on the legacy chain: rejected as expected.
EVENTS=$WORK/dns-legacy.jsonl
out=$(unshare -m bash -c 'mount --bind "$1" /etc/resolv.conf && shift &&
  exec "$@"' - "$WORK/host-resolv.conf" "${ISO[@]}" --no-java \
  --events "$EVENTS" --chain legacy --trust legacy \
  --expect "db.example.test=rejected:expired_cross_sign" \
  -- curl -sS --noproxy '*' -o /dev/null "https://db.example.test:$OP/hello" 2>&1) ||
  fail "a name resolved through DNS, legacy chain: $out"
assert_contains "$out" "curl: (60) SSL certificate problem: certificate has expired" \
  "curl's error on the legacy chain, by name"
assert_contains "$out" "PASS db.example.test=rejected:expired_cross_sign" \
  "the expectation by name"
expect_event 'select(.event == "connect" and .mode == "isolate" and
  .host == "db.example.test")' "the legacy connect by name"
say "by name, legacy: $(jq -c 'select(.event == "connect")' "$EVENTS" | head -1)"
# A name the resolver does not know stays unknown (curl: 6).
out=$(unshare -m bash -c 'mount --bind "$1" /etc/resolv.conf && shift &&
  exec "$@"' - "$WORK/host-resolv.conf" "${ISO[@]}" --no-java \
  -- curl -sS --noproxy '*' "http://nowhere.example.test:$HP/" 2>&1)
assert_contains "$out" "curl exited with status 6" "an unknown name"
# The catalogue's names need no resolver at all.
OPORT=$(free_port)
isolated catalogue --no-java --origins "$OPORT" \
  --expect "good.chainproxy.test=accepted" \
  -- curl -sS --noproxy '*' https://good.chainproxy.test/
assert_eq "$RC" 0 "the catalogue by name: $OUT"
assert_contains "$OUT" "chainproxy catalogue: good" "the catalogue's body"
expect_event 'select(.event == "connect" and .mode == "isolate" and
  .host == "good.chainproxy.test")' "catalogue connect"
[ "$(jq .isolate.dns.answered "$WORK/catalogue.json")" -ge 1 ] ||
  fail "the catalogue name was not answered locally"

# 2. Node: https.get with no agent, then global fetch.
isolated node --no-java --expect "localhost=accepted" \
  -- node "$CP_IT/clients/isolate_node.js" "$URL"
assert_eq "$RC" 0 "node: $OUT"
assert_contains "$OUT" "https.get 200" "Node https.get"
assert_contains "$OUT" "fetch 200" "Node fetch"
connect_isolate node
[ "$(count_events 'select(.event == "connect" and .mode == "isolate")')" = 2 ] ||
  fail "Node: two connections expected (https.get, fetch)"
isolated node-legacy --no-java --chain legacy --trust legacy \
  --expect "localhost=rejected:expired_cross_sign" \
  -- node "$CP_IT/clients/isolate_node.js" "$URL"
assert_eq "$RC" 0 "node, legacy: $OUT"
assert_contains "$OUT" "https.get error CERT_HAS_EXPIRED" "Node's error"
assert_contains "$OUT" "fetch error CERT_HAS_EXPIRED" "Node fetch's error"
connect_isolate node-legacy
[ "$(count_events 'select(.event == "connect" and .mode == "isolate")')" = 2 ] ||
  fail "Node, legacy: two connections expected (https.get, fetch)"

# 3. Go's default client to localhost: HTTPS_PROXY alone sees nothing.
EVENTS=$WORK/go-plain.jsonl
out=$("$CP_BIN" run --no-java --upstream-ca "$ORIGIN_CA" --events "$EVENTS" \
  -- "$WORK/isolate_go" "$URL" 2>&1)
assert_contains "$out" "chainproxy run: 0 host(s)" "Go without --isolate went around"
isolated go --no-java --expect "localhost=accepted" -- "$WORK/isolate_go" "$URL"
assert_eq "$RC" 0 "go: $OUT"
assert_contains "$OUT" "status 200" "Go's status"
connect_isolate go
isolated go-legacy --no-java --chain legacy --trust legacy \
  --expect "localhost=rejected:expired_cross_sign" \
  -- "$WORK/isolate_go" "$URL"
assert_eq "$RC" 0 "go, legacy: $OUT"
assert_contains "$OUT" "x509: certificate has expired" "Go's error"
connect_isolate go-legacy

# 4. Java's HttpClient, default settings (run gives it only a trust store).
isolated java --expect "localhost=accepted" \
  -- java "$CP_IT/clients/IsolateJava.java" "$URL"
assert_eq "$RC" 0 "java: $OUT"
assert_contains "$OUT" "status 200" "Java's status"
connect_isolate java
isolated java-legacy --chain legacy --trust legacy \
  --expect "localhost=rejected:expired_cross_sign" \
  -- java "$CP_IT/clients/IsolateJava.java" "$URL"
assert_eq "$RC" 0 "java, legacy: $OUT"
assert_contains "$OUT" "SSLHandshakeException" "Java's error"
connect_isolate java-legacy

# 5. An unprivileged user gets a user namespace.
# The user runs its own install (a prefix: bin/ and share/chainproxy/):
# the build tree may sit where it cannot reach (a 0700 checkout).
U=$WORK/nobody
mkdir -p "$U/prefix/bin" "$U/prefix/share"
cp "$CP_BIN" "$U/prefix/bin/chainproxy"
cp -r "$CP_SRC/certs" "$U/prefix/share/chainproxy"
cp "$ORIGIN_CA" "$U/origin-ca.pem"
chown -R 65534:65534 "$U"
chmod 755 "$WORK"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
  env HOME="$U" TMPDIR="$U" "$U/prefix/bin/chainproxy" run --isolate --no-java \
  --upstream-ca "$U/origin-ca.pem" --summary-json "$U/sum.json" \
  --expect "localhost=accepted" -- curl -sS --noproxy '*' "$URL" 2>&1) ||
  fail "unprivileged --isolate: $out"
assert_contains "$out" "hello from origin" "unprivileged body"
assert_eq "$(jq -r .isolate.mechanism "$U/sum.json")" user \
  "unprivileged mechanism"

# 6. No namespace to be had: the kernel's limits at 0 (a throwaway user
# namespace's own sysctls), so neither unshare(CLONE_NEWNET) as its root
# nor a user namespace is allowed. The message says so; CMD never runs.
out=$(unshare -U -r --fork bash -c '
  echo 0 > /proc/sys/user/max_net_namespaces &&
  echo 0 > /proc/sys/user/max_user_namespaces || exit 99
  exec "$@"' - "$CP_BIN" run --isolate --no-java \
  -- touch "$WORK/ran" 2>&1)
rc=$?
[ "$rc" != 99 ] || fail "could not lower the namespace limits"
[ "$rc" != 0 ] || fail "run --isolate succeeded without namespaces"
assert_contains "$out" "cannot create a network namespace for --isolate" \
  "the message"
assert_contains "$out" "No space left on device" "the kernel's reason"
[ -e "$WORK/ran" ] && fail "CMD ran although it could not be isolated"

# 7. docs/qa.md's worked example (Node and Go), run as written.
mkdir -p "$WORK/recipe"
cp "$ORIGIN_CA" "$WORK/recipe/origin-ca.pem"
awk '$0 == "<!-- qa-recipe: isolate -->" { want = 1; next }
  want && /^```/ { if (inside) exit; inside = 1; next }
  inside { print }' "$CP_SRC/docs/qa.md" > "$WORK/recipe/recipe.sh"
[ -s "$WORK/recipe/recipe.sh" ] || fail "docs/qa.md has no isolate recipe"
out=$(cd "$WORK/recipe" && ORIGIN=$URL PATH=$(dirname "$CP_BIN"):$PATH \
  bash -e recipe.sh 2>&1) || fail "the isolate recipe: $out"
assert_contains "$out" "node: CERT_HAS_EXPIRED" "the recipe's Node error"
assert_contains "$out" "PASS localhost=rejected:expired_cross_sign" \
  "the recipe's Node expectation"
assert_contains "$out" "PASS localhost=accepted" "the recipe's Go expectation"
[ "$(printf '%s\n' "$out" | grep -c '"mode":"isolate"')" = 2 ] ||
  fail "the recipe's connect events: $out"

# 8. SIGINT to the process group, SIGTERM to run alone: CMD (and what it
# started in the background) is gone, and so are its namespaces.
mounts_before=$(wc -l < /proc/self/mountinfo)
for sig in INT TERM; do
  setsid "$CP_BIN" run --isolate --no-java \
    -- sh -c 'sleep 300 & exec sleep 200' > /dev/null 2> "$WORK/sig.err" &
  RPID=$!
  running() { pgrep -s "$RPID" -fx 'sleep 200' > /dev/null; }
  wait_for "the command under run --isolate" running
  CPID=$(pgrep -s "$RPID" -fx 'sleep 200' | head -n 1)
  NS=$(readlink "/proc/$CPID/ns/net")
  MNT=$(readlink "/proc/$CPID/ns/mnt")
  [ -n "$NS" ] && [ -n "$MNT" ] || fail "CMD's namespaces unreadable"
  [ "$NS" != "$(readlink /proc/self/ns/net)" ] || fail "CMD not in a namespace"
  bg() { pgrep -fx 'sleep 300' > /dev/null; }
  wait_for "CMD's background child" bg
  if [ $sig = INT ]; then
    kill -INT -- "-$RPID"
  else
    kill -TERM "$RPID"
  fi
  wait "$RPID"
  rc=$?
  [ $sig = INT ] && assert_eq "$rc" 130 "exit status after SIGINT"
  [ $sig = TERM ] && assert_eq "$rc" 143 "exit status after SIGTERM"
  pgrep -s "$RPID" > /dev/null && fail "a process survived SIG$sig"
  pgrep -fx 'sleep 300' > /dev/null && fail "CMD's background child survived"
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$NS" ] &&
      fail "$p is still in the namespace after SIG$sig"
    [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$MNT" ] &&
      fail "$p is still in the mount namespace after SIG$sig"
  done
done
[ -z "$(ip netns list)" ] || fail "a named network namespace was left"
assert_eq "$(wc -l < /proc/self/mountinfo)" "$mounts_before" "mounts"
say "ok"
