#!/bin/bash
# --mode transparent as a gateway runs it: a client in its own network
# namespace, with no proxy settings at all, routes through this namespace,
# where an nftables REDIRECT sends its ports 443-style and 80-style to
# chainproxy. chainproxy takes the destination from SO_ORIGINAL_DST and
# the name from the SNI (TLS) or Host (plain HTTP), and does what an
# intercepted CONNECT does: the same verification, chain and events, with
# mode "transparent". A connection that was not redirected is refused.
. "$(dirname "$0")/lib.sh"
need_netns
need curl jq openssl python3 nft ip nsenter

# The "remote" origins live on an address of this namespace.
ip addr add 10.88.0.1/32 dev lo || fail "cannot add 10.88.0.1"
start_origin --tls --host 10.88.0.1
OP=$ORIGIN_PORT
start_origin --host 10.88.0.1
HP=$ORIGIN_PORT

# The client's namespace, joined by a veth pair; its default route is us.
unshare -n sleep 600 &
CLIENT_NS=$!
CP_PIDS+=($CLIENT_NS)
wait_for "the client namespace" test -e "/proc/$CLIENT_NS/ns/net"
ip link add cpr0 type veth peer name cpc0 || fail "veth"
ip link set cpc0 netns "$CLIENT_NS" || fail "veth into the client namespace"
ip addr add 10.77.0.1/24 dev cpr0
ip link set cpr0 up
in_client() { nsenter -t "$CLIENT_NS" -n "$@"; }
in_client sh -c 'ip link set lo up && ip addr add 10.77.0.2/24 dev cpc0 &&
  ip link set cpc0 up && ip route add default via 10.77.0.1' ||
  fail "client namespace network"

LISTEN_HOST=0.0.0.0 start_proxy --mode transparent --allow 10.77.0.0/24 \
  --upstream-ca "$ORIGIN_CA" --handshake-timeout 2
# The rules the docs give (docs/transparent.md), for the two test ports.
nft -f - <<EOF || fail "nft rules"
table ip chainproxy_test {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "cpr0" tcp dport { $OP, $HP } redirect to :$PROXY_PORT
  }
}
EOF
# (The table goes with this test's network namespace.)

# 1. TLS: the client knows nothing of a proxy; it trusts chainproxy's root.
out=$(in_client curl -sS --max-time 20 --cacert "$ROOT" \
  --resolve "localhost:$OP:10.88.0.1" "https://localhost:$OP/hello") ||
  fail "transparent https: $out"
assert_eq "$out" "hello from origin" "body through transparent interception"
expect_event "select(.event == \"connect\" and .mode == \"transparent\" and
  .host == \"localhost\" and .port == $OP and .method == null)" \
  "connect event: transparent, named by the SNI"
expect_event "select(.event == \"upstream_verify\" and .ok == true and
  .sni == \"localhost\" and .port == $OP)" "the origin's chain verified"
expect_event "select(.event == \"request\" and
  .url == \"https://localhost:$OP/hello\" and .status == 200)" \
  "request event with the SNI's name"
# A client trusting only the system store sees the interception.
out=$(in_client curl -sS --max-time 20 --resolve "localhost:$OP:10.88.0.1" \
  "https://localhost:$OP/hello" 2>&1)
assert_eq "$?" 60 "curl without chainproxy's root"
# Python's ssl, connecting by address with the name in SNI only.
cat > "$WORK/t.py" <<'PY'
import socket, ssl, sys
ca, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context(cafile=ca)
with socket.create_connection(("10.88.0.1", port), timeout=20) as s:
    with ctx.wrap_socket(s, server_hostname="localhost") as t:
        t.sendall(b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = t.recv(4096)
            if not d:
                break
            data += d
        print(data.split(b"\r\n")[0].decode(), t.version())
PY
out=$(in_client python3 "$WORK/t.py" "$ROOT" "$OP") || fail "python: $out"
assert_contains "$out" "HTTP/1.1 200 OK" "Python through transparent mode"

# 2. Plain HTTP: the Host header names the host, the address is kept.
out=$(in_client curl -sS --max-time 20 --resolve "plain.test:$HP:10.88.0.1" \
  "http://plain.test:$HP/hello") || fail "transparent http: $out"
assert_eq "$out" "hello from origin" "plain body through transparent mode"
expect_event "select(.event == \"request\" and .scheme == \"http\" and
  .url == \"http://plain.test:$HP/hello\" and .status == 200)" \
  "plain request named by its Host"
expect_event "select(.event == \"connect\" and .mode == \"transparent\" and
  .method == \"GET\")" "plain connect event"

# 3. A client that connects to the listener itself was not redirected.
out=$(curl -sS --max-time 5 "http://127.0.0.1:$PROXY_PORT/" 2>&1)
assert_contains "$out" "--mode transparent" "direct connection refused"
expect_event 'select(.event == "error" and .error == "not_redirected")' \
  "not_redirected error"

# 4. TPROXY instead of REDIRECT: no NAT, the socket is bound to the
# original destination (chainproxy set IP_TRANSPARENT on its listener).
nft delete table ip chainproxy_test || fail "nft delete"
nft -f - <<EOF || fail "nft tproxy rules"
table ip chainproxy_tproxy {
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    iifname "cpr0" tcp dport $OP tproxy to :$PROXY_PORT meta mark set 1 accept
  }
}
EOF
ip rule add fwmark 1 lookup 100 || fail "ip rule"
ip route add local 0.0.0.0/0 dev lo table 100 || fail "ip route local"
n=$(count_events 'select(.event == "connect" and .mode == "transparent")')
out=$(in_client curl -sS --max-time 20 --cacert "$ROOT" \
  --resolve "localhost:$OP:10.88.0.1" "https://localhost:$OP/hello") ||
  fail "tproxy https: $out"
assert_eq "$out" "hello from origin" "body through TPROXY"
[ "$(count_events 'select(.event == "connect" and
  .mode == "transparent")')" -gt "$n" ] || fail "TPROXY went around chainproxy"

# A redirected ClientHello trickled one byte every 0.5 s (never a gap
# near --idle-timeout) is closed at --handshake-timeout, counted from its
# first byte.
out=$(in_client python3 - "$OP" <<'PY'
import socket, sys, time
s = socket.create_connection(("10.88.0.1", int(sys.argv[1])), timeout=5)
hello = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]) + bytes(64)
t0 = time.time()
s.settimeout(0.5)
for b in hello:
    if time.time() - t0 > 10:
        break
    try:
        s.send(bytes([b]))
        if s.recv(64) == b"":
            break
    except socket.timeout:
        continue
    except OSError:
        break
took = time.time() - t0
print("closed after %.1f s" % took)
sys.exit(0 if 1.5 < took < 6 else 1)
PY
) || fail "trickled transparent ClientHello: $out"
expect_event '.event == "close" and .reason == "handshake_timeout"' \
  "the trickled transparent hello's close event"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok"
