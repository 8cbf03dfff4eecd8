#!/bin/bash
# A bounded control plane: 64 clients that trickle a byte a second from
# one address do not take every slot (at most 16 per client address),
# /healthz from another address (127.0.0.2) still answers 200, and the
# trickled connections are closed by the request deadline (here
# --head-timeout 3), which reading does not extend; after a 400 the
# connection closes (within its 5 s linger) even while bytes keep
# coming; 64 event streams do
# not block /healthz either.
. "$(dirname "$0")/lib.sh"
need curl python3

CTL_PORT=$(free_port)
start_proxy --control "127.0.0.1:$CTL_PORT" --head-timeout 3
cat > "$WORK/trickle.py" <<'PY'
import socket, sys, time, threading
port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks, closed_at = [], {}
start = time.time()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if mode == "stream":
        s.sendall(b"GET /events/stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
    elif mode == "bad":
        s.sendall(b"BAD\x01 request\r\n\r\n")
    socks.append(s)
print("open", flush=True)
if mode == "stream":
    sys.stdin.readline()          # held until the caller is done
    sys.exit(0)
msg = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
for tick in range(14):            # bounded: 14 s at most
    for i, s in enumerate(socks):
        if i in closed_at:
            continue
        try:
            s.sendall(msg[tick % len(msg):tick % len(msg) + 1])
            s.setblocking(False)
            try:
                while True:
                    d = s.recv(65536)
                    if not d:
                        # After a 400 the FIN comes at once: what counts
                        # is that the server drops the socket (a reset).
                        if mode != "bad":
                            closed_at[i] = time.time() - start
                        break
            except BlockingIOError:
                pass
            s.setblocking(True)
        except OSError:
            closed_at[i] = time.time() - start
    if len(closed_at) == n:
        break
    time.sleep(1)
print("closed %d of %d, last after %.1f s" % (
    len(closed_at), n, max(closed_at.values()) if closed_at else -1))
PY
PY=python3
healthz() {
  curl -s -m 5 -o /dev/null -w '%{http_code}' --interface 127.0.0.2 \
    "http://127.0.0.1:$CTL_PORT/healthz"
}

coproc TR { "$PY" "$WORK/trickle.py" "$CTL_PORT" 64 trickle; }
read -r -t 20 line <&"${TR[0]}" || fail "the trickling clients did not open"
assert_eq "$line" open "64 trickling clients connected"
assert_eq "$(healthz)" 200 "/healthz from 127.0.0.2 beside 64 tricklers"
read -r -t 30 line <&"${TR[0]}" || fail "the trickling clients hung"
wait "$TR_PID" 2> /dev/null || true
case $line in
  "closed 64 of 64,"*) ;;
  *) fail "the trickled connections were not all closed: $line" ;;
esac
say "trickle: $line"

coproc BAD { "$PY" "$WORK/trickle.py" "$CTL_PORT" 4 bad; }
read -r -t 20 line <&"${BAD[0]}" || fail "the bad clients did not open"
read -r -t 30 line <&"${BAD[0]}" || fail "the bad clients hung"
wait "$BAD_PID" 2> /dev/null || true
case $line in
  "closed 4 of 4,"*) ;;
  *) fail "connections answered 400 stayed open while trickling: $line" ;;
esac
say "after 400: $line"

coproc ST { "$PY" "$WORK/trickle.py" "$CTL_PORT" 64 stream; }
read -r -t 20 line <&"${ST[0]}" || fail "the stream clients did not open"
assert_eq "$(healthz)" 200 "/healthz from 127.0.0.2 beside 64 event streams"
code=$(curl -s -m 5 -o "$WORK/body" -w '%{http_code}' \
  "http://127.0.0.1:$CTL_PORT/events/stream")
assert_eq "$code" 503 "one more stream from the same address"
assert_contains "$(cat "$WORK/body")" "too many" "the 503's JSON"
echo done >&"${ST[1]}"
wait "$ST_PID" 2> /dev/null || true
say "ok"
