#!/bin/bash
# Faults under load: SIGTERM while 40 clients run requests (plain and
# intercepted) gives every connection its close event, a complete event
# log and exit 0; a client that reads a large response slowly keeps the
# proxy's memory bounded (RSS sampled). Bounded in time and count.
. "$(dirname "$0")/lib.sh"
need curl jq python3 openssl

make_origin_pki
start_origin
PLAIN=$ORIGIN_PORT
start_origin --tls
TLS=$ORIGIN_PORT
start_proxy --upstream-ca "$ORIGIN_CA" --grace 5

# 40 clients, each on one connection, requests until the proxy goes away
# (at most 4 s or 200 requests each); prints how many connections got at
# least one response. Once 30 have one, it says so in load.ready: SIGTERM
# comes then, not after a fixed sleep a busy machine can outrun.
python3 - "$PROXY_PORT" "$PLAIN" "$TLS" "$ROOT" "$WORK/load.ready" \
  > "$WORK/load.out" <<'PY' &
import os, socket, ssl, sys, threading, time
sys.path.insert(0, os.environ["CP_CLIENTS"])
from connect_tls import connect, tls as tls_wrap
pp, plain, tls, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ready = sys.argv[5]
served = []
lock = threading.Lock()
def client(i):
    try:
        if i % 2:
            s, head = connect(pp, "localhost", tls, timeout=6)
            s = tls_wrap(s, ca, "localhost")
            req = b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"
        else:
            s = socket.create_connection(("127.0.0.1", pp), timeout=6)
            req = (b"GET http://127.0.0.1:%s/hello HTTP/1.1\r\nHost: x\r\n\r\n"
                   % plain.encode())
        got = 0
        end = time.time() + 4
        while time.time() < end and got < 200:
            s.sendall(req)
            data = b""
            while b"hello from origin\n" not in data:
                d = s.recv(4096)
                if not d:
                    raise OSError("closed")
                data += d
            got += 1
            if got == 1:
                with lock:
                    served.append(i)
                    if len(served) == 30:
                        open(ready, "w").close()
    except (OSError, ssl.SSLError):
        pass
threads = [threading.Thread(target=client, args=(i,)) for i in range(40)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(served))
PY
LOAD=$!
for _ in $(seq 600); do
  [ -e "$WORK/load.ready" ] && break
  kill -0 "$LOAD" 2> /dev/null || break
  sleep 0.1
done
sleep 0.3
stop_proxy
assert_eq "$PROXY_EXIT" 0 "exit status after SIGTERM under load"
wait "$LOAD"
served=$(cat "$WORK/load.out")
[ "$served" -ge 30 ] || fail "only $served of 40 load clients were served"
closes=$(count_events '.event == "close"')
connects=$(count_events '.event == "connect"')
[ "$closes" -ge "$served" ] || fail "$closes close events for $served connections"
assert_eq "$closes" "$connects" "a close event for every connect event"
check_connect_close_pairs
# The log ends with whole lines: every line is JSON.
jq -e . "$EVENTS" > /dev/null || fail "the event log has a cut line"
say "SIGTERM under load: $served connections served, $closes close events"

# A slow reader of a 64 MiB response: the proxy's memory stays bounded.
EVENTS_FILE=$WORK/slow.jsonl start_proxy --upstream-ca "$ORIGIN_CA"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PROXY_PID/status"; }
before=$(rss)
python3 - "$PROXY_PORT" "$PLAIN" > "$WORK/slow.out" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET http://127.0.0.1:%s/bytes/67108864 HTTP/1.1\r\nHost: x\r\n\r\n"
          % sys.argv[2].encode())
got, end = 0, time.time() + 3
while time.time() < end:
    got += len(s.recv(1024))
    time.sleep(0.01)
print(got)
PY
during=$(rss)
growth=$(( (during - before) / 1024 ))
say "slow reader: read $(cat "$WORK/slow.out") bytes; proxy RSS ${before} kB -> ${during} kB"
[ "$growth" -lt 32 ] || fail "the proxy grew by $growth MiB for one slow reader"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "exit status"
say "ok"
