#!/bin/bash
# A ClientHello has a deadline that trickled bytes do not push back
# (--handshake-timeout): 600 intercepted CONNECTs that trickle a hello one
# byte every 2.5 s, against --max-conns 600 and an --idle-timeout longer
# than the gaps, are all closed by the proxy with reason
# "handshake_timeout", and a normal request gets a slot again.
. "$(dirname "$0")/lib.sh"
need curl jq python3

N=600
ulimit -n 4096 2>/dev/null || skip "cannot raise the open-file limit"

start_origin
O=http://127.0.0.1:$ORIGIN_PORT
TARGET=$(free_port)
start_proxy --max-conns $N --idle-timeout 5 --handshake-timeout 3

# One process: a target that accepts and stays silent, and N clients that
# CONNECT to it and then trickle a ClientHello. Bounded: 25 s at most.
python3 - "$PROXY_PORT" "$TARGET" "$N" > "$WORK/trickle.out" 2>&1 <<'PY' &
import selectors, socket, sys, time
proxy, target, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
lsn = socket.socket()
lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsn.bind(("127.0.0.1", target))
lsn.listen(2048)
lsn.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(lsn, selectors.EVENT_READ, "listen")
held = []
# A TLS record header and the start of a ClientHello; never finished.
hello = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03,
               0x03]) + bytes(range(32)) * 16
clients = {}
deadline = time.time() + 25
for i in range(n):
    s = socket.create_connection(("127.0.0.1", proxy))
    s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n" % target)
    s.setblocking(False)
    clients[s] = {"got": b"", "sent": 0, "closed": False}
    sel.register(s, selectors.EVENT_READ, "client")
ready = 0
next_tick = time.time()
while time.time() < deadline:
    open_ = [s for s, st in clients.items() if not st["closed"]]
    if not open_:
        break
    if time.time() >= next_tick:
        for s in open_:
            st = clients[s]
            if b"\r\n\r\n" in st["got"] and st["sent"] < len(hello):
                try:
                    s.send(hello[st["sent"]:st["sent"] + 1])
                    st["sent"] += 1
                except OSError:
                    st["closed"] = True
                    sel.unregister(s)
        next_tick = time.time() + 2.5
    for key, _ in sel.select(timeout=0.2):
        if key.data == "listen":
            try:
                while True:
                    held.append(lsn.accept()[0])
            except BlockingIOError:
                pass
            continue
        s = key.fileobj
        st = clients[s]
        try:
            data = s.recv(4096)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            st["closed"] = True
            sel.unregister(s)
        elif b"\r\n\r\n" not in st["got"]:
            st["got"] += data
            if st["got"].startswith(b"HTTP/1.1 200"):
                ready += 1
closed = sum(1 for st in clients.values() if st["closed"])
print("tunnels %d closed_by_proxy %d of %d after %.1f s" %
      (ready, closed, n, 25 - (deadline - time.time())))
sys.exit(0 if closed == n and ready == n else 1)
PY
TRICKLE=$!
CP_PIDS+=($TRICKLE)

# Wait until the proxy holds all N (a request then finds no slot), or the
# trickle is done; bounded.
for i in $(seq 1 200); do
  [ "$(count_events '.event == "connect"')" -ge $N ] && break
  kill -0 $TRICKLE 2>/dev/null || break
  sleep 0.1
done

# A normal request gets through once the deadline has freed the slots:
# poll, at most 15 s (the trickle itself runs up to 25 s).
ok=0
for i in $(seq 1 75); do
  if curl -sS -m 2 -o /dev/null -x "$PROXY_URL" "$O/" 2>/dev/null; then
    ok=1
    break
  fi
  sleep 0.2
done
wait $TRICKLE
rc=$?
cat "$WORK/trickle.out"
[ $rc = 0 ] || fail "not every trickled ClientHello was closed by the proxy"
[ $ok = 1 ] || fail "no slot for a normal request within 15 s"
n=$(count_events '.event == "close" and .reason == "handshake_timeout"')
[ "$n" -ge $N ] || fail "handshake_timeout close events: $n, want $N"

stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok"
