#!/bin/bash
# Hostile clients against the real binary: request-smuggling shapes are
# refused with 400 and never reach the origin; bad CONNECT targets, huge
# heads and loops back to chainproxy are refused with a readable body; a
# ClientHello in 1-byte writes still intercepts; non-TLS bytes after
# CONNECT are relayed as a blind tunnel and said so; clients that vanish
# mid-handshake or mid-body leave one connect and one close event; over
# --max-conns the answer is 503 and service resumes; an event log that
# cannot be written (/dev/full) does not stop the proxy.
. "$(dirname "$0")/lib.sh"
need curl jq python3 openssl

make_origin_pki
# A raw origin that records every byte it receives.
python3 - "$WORK/origin.bytes" > "$WORK/raw.port" <<'PY' &
import socket, sys, threading
log = open(sys.argv[1], "ab", buffering=0)
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
def serve(c):
    try:
        d = c.recv(65536)
        log.write(d)
        if d:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
CP_PIDS+=($!)
RAW=$(wait_file "$WORK/raw.port")
start_origin --tls
CTL=$(free_port)
start_proxy --upstream-ca "$ORIGIN_CA" --control "127.0.0.1:$CTL" \
  --max-conns 20

# One raw exchange: prints the status line and the body's first line.
raw() {
  python3 - "$PROXY_PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
except OSError:
    pass
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode(), "|", body.split(b"\n")[0].decode())
PY
}
T="http://127.0.0.1:$RAW/"
H="Host: 127.0.0.1:$RAW\\r\\n"
declare -A SMUGGLE=(
  [cl-and-te]="POST $T HTTP/1.1\\r\\n${H}Content-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n"
  [two-cl]="POST $T HTTP/1.1\\r\\n${H}Content-Length: 5\\r\\nContent-Length: 6\\r\\n\\r\\nhello!"
  [obs-fold]="GET $T HTTP/1.1\\r\\n${H}X-A: a\\r\\n b\\r\\n\\r\\n"
  [bare-lf]="GET $T HTTP/1.1\\n${H}\\r\\n"
  [te-chunked-identity]="POST $T HTTP/1.1\\r\\n${H}Transfer-Encoding: chunked, identity\\r\\n\\r\\n0\\r\\n\\r\\n"
)
for k in "${!SMUGGLE[@]}"; do
  out=$(raw "${SMUGGLE[$k]}")
  assert_contains "$out" "HTTP/1.1 400" "$k: 400"
  assert_contains "$out" "chainproxy:" "$k: a readable body"
done
[ ! -s "$WORK/origin.bytes" ] || fail "a smuggling shape reached the origin: $(cat "$WORK/origin.bytes")"
out=$(raw "GET $T HTTP/1.1\\r\\n${H}\\r\\n")
assert_contains "$out" "HTTP/1.1 200" "a clean request still passes"

for target in ":443" "a.test:0" "a.test:65536" "a test:443" "[::1:443" ""; do
  out=$(raw "CONNECT $target HTTP/1.1\\r\\n\\r\\n")
  assert_contains "$out" "HTTP/1.1 400" "CONNECT '$target': 400"
done
fields=$(python3 -c 'print("a:b\\r\\n" * 10000, end="")')
out=$(raw "GET $T HTTP/1.1\\r\\n${H}${fields}\\r\\n")
assert_contains "$out" "HTTP/1.1 431" "10 000 header fields: 431"

# Loops: chainproxy's own listener and control port.
for t in "CONNECT 127.0.0.1:$PROXY_PORT HTTP/1.1\\r\\n\\r\\n" \
         "GET http://localhost:$PROXY_PORT/ HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" \
         "CONNECT [::1]:$CTL HTTP/1.1\\r\\n\\r\\n"; do
  out=$(raw "$t")
  assert_contains "$out" "HTTP/1.1 508" "loop refused: $t"
  assert_contains "$out" "is chainproxy itself" "loop: why"
done

# A ClientHello in 1-byte writes, through an intercepted CONNECT.
out=$(python3 - "$PROXY_PORT" "$ORIGIN_PORT" "$ROOT" <<'PY'
import os, ssl, sys, time
sys.path.insert(0, os.environ["CP_CLIENTS"])
from connect_tls import connect, context
s, head = connect(sys.argv[1], "localhost", sys.argv[2])
ctx = context(sys.argv[3])
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
t = ctx.wrap_bio(inc, out, server_hostname="localhost")
try:
    t.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
for b in hello:
    s.send(bytes([b]))
    time.sleep(0.001)
s.settimeout(10)
data = s.recv(65536)
print("server answered %d bytes, first 0x%02x" % (len(data), data[0]) if data else "nothing")
PY
)
assert_contains "$out" "first 0x16" "a 1-byte-at-a-time ClientHello is answered in TLS"

# Non-TLS bytes after CONNECT: a blind tunnel, said so.
out=$(raw "CONNECT 127.0.0.1:$RAW HTTP/1.1\\r\\n\\r\\nGET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
assert_contains "$out" "HTTP/1.1 200" "CONNECT then plain HTTP: relayed"
wait_for "the blind tunnel log line" grep -q \
  "non-TLS bytes after CONNECT (0x47...): relayed untouched as a blind tunnel" \
  "$PROXY_LOG"

# Clients that vanish mid-handshake and mid-body.
python3 - "$PROXY_PORT" "$RAW" "$ORIGIN_PORT" <<'PY'
import socket, sys
p, raw = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", p))
s.sendall(b"CONNECT localhost:%s HTTP/1.1\r\n\r\n" % sys.argv[3].encode())
s.recv(100)
s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a cut hello
s.close()
s = socket.create_connection(("127.0.0.1", p))
s.sendall(("POST http://127.0.0.1:%s/ HTTP/1.1\r\nHost: x\r\n"
           "Content-Length: 100000\r\n\r\n" % raw).encode() + b"x" * 1000)
s.close()
PY

# Over --max-conns: 503 with a body, then service resumes.
out=$(python3 - "$PROXY_PORT" <<'PY'
import socket, sys, time
p = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", p)) for _ in range(20)]
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", p), timeout=5)
s.sendall(b"GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: x\r\n\r\n")
print(s.recv(4096).split(b"\r\n")[0].decode())
for h in held:
    h.close()
PY
)
assert_contains "$out" "503" "over --max-conns: 503"
sleep 0.3
out=$(raw "GET $T HTTP/1.1\\r\\n${H}\\r\\n")
assert_contains "$out" "HTTP/1.1 200" "service resumes"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs

# An event log that cannot be written: the proxy serves on, counts what
# it drops, and says so once.
EVENTS_FILE=/dev/full start_proxy --upstream-ca "$ORIGIN_CA" \
  --control "127.0.0.1:$CTL"
for i in 1 2 3; do
  out=$(raw "GET $T HTTP/1.1\\r\\n${H}\\r\\n")
  assert_contains "$out" "HTTP/1.1 200" "with /dev/full as the event log ($i)"
done
dropped=$(curl -s "http://127.0.0.1:$CTL/stats" | jq .events.dropped)
[ "$dropped" -ge 6 ] || fail "events dropped: $dropped"
curl -s "http://127.0.0.1:$CTL/metrics" | grep -q '^chainproxy_events_dropped_total [1-9]' ||
  fail "no events_dropped_total in /metrics"
assert_eq "$(grep -c 'cannot write the event log' "$PROXY_LOG")" 1 "said once"
stop_proxy
say "ok (exit status with lost events: $PROXY_EXIT)"
