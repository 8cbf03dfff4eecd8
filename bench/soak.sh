#!/bin/bash
# Soak: a few minutes of mixed load and faults against one chainproxy,
# bounded in time and count, on 127.0.0.1 only. Plain and intercepted
# requests, HTTP/2, uploads, smuggling shapes, resets, clients that vanish
# mid-handshake, slow readers; the proxy's RSS is sampled throughout, and
# at the end SIGTERM must give exit 0 (and, under valgrind, no error and
# no definite leak).
#   bench/soak.sh [--seconds N] [--valgrind] [--binary PATH]
# Defaults: 120 seconds, build/chainproxy. Prints a summary to quote.
set -u
SECONDS_TOTAL=120
VALGRIND=0
here=$(cd "$(dirname "$0")/.." && pwd)
BIN=$here/build/chainproxy
# Parsed without shifting: lib.sh re-runs this script, with its
# arguments, inside a private network namespace.
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[$i]} in
    --seconds) SECONDS_TOTAL=${args[$((i + 1))]}; i=$((i + 1)) ;;
    --valgrind) VALGRIND=1 ;;
    --binary) BIN=${args[$((i + 1))]}; i=$((i + 1)) ;;
    *) echo "usage: $0 [--seconds N] [--valgrind] [--binary PATH]" >&2; exit 2 ;;
  esac
done
export CP_SRC=$here CP_BIN=$BIN CP_TEST_NAME=soak
. "$here/tests/integration/lib.sh"
need curl python3 openssl
if [ "$VALGRIND" = 1 ]; then
  need valgrind
  cat > "$WORK/vg" <<EOF
#!/bin/sh
exec valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
  --error-exitcode=99 --log-file=$WORK/valgrind.log "$BIN" "\$@"
EOF
  chmod +x "$WORK/vg"
  CP_BIN=$WORK/vg
fi

make_origin_pki
start_origin
PLAIN=$ORIGIN_PORT
start_origin --tls
TLS=$ORIGIN_PORT
start_proxy --upstream-ca "$ORIGIN_CA" --max-conns 512
PID=$PROXY_PID
[ "$VALGRIND" = 1 ] && sleep 3 # valgrind starts slowly

# The load: 8 workers, each a loop of mixed actions until the deadline
# or 20 000 actions in all.
python3 - "$PROXY_PORT" "$PLAIN" "$TLS" "$ROOT" "$SECONDS_TOTAL" \
  > "$WORK/load.out" 2>&1 <<'PY' &
import random, socket, ssl, subprocess, sys, threading, time
pp, plain, tls, ca, secs = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                            sys.argv[4], float(sys.argv[5]))
end = time.time() + secs
counts = {}
budget = [20000]
lock = threading.Lock()
proxy = "http://127.0.0.1:%d" % pp

def curl(*args, data=None):
    return subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "10",
                           "-x", proxy, "--cacert", ca] + list(args),
                          input=data, capture_output=True).returncode == 0

def raw(data, close_early=False):
    try:
        s = socket.create_connection(("127.0.0.1", pp), timeout=5)
        s.sendall(data)
        if not close_early:
            s.recv(4096)
        s.close()
        return True
    except OSError:
        return False

def plain_get():
    return curl("http://127.0.0.1:%s/bytes/%d" % (plain, random.randint(1, 200000)))
def tls_get():
    return curl("https://localhost:%s/hello" % tls)
def h2_get():
    return curl("--http2", "https://localhost:%s/hello" % tls)
def upload():
    return curl("--data-binary", "@-", "http://127.0.0.1:%s/upload" % plain,
                data=b"x" * random.randint(1, 300000))
def smuggle():
    return raw(b"POST http://127.0.0.1:%s/ HTTP/1.1\r\nHost: x\r\n"
               b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
               % plain.encode())
def vanish_handshake():
    return raw(b"CONNECT localhost:%s HTTP/1.1\r\n\r\n\x16\x03\x01\x00\xff\x01"
               % tls.encode(), close_early=True)
def vanish_body():
    return raw(b"POST http://127.0.0.1:%s/upload HTTP/1.1\r\nHost: x\r\n"
               b"Content-Length: 100000\r\n\r\n" % plain.encode() + b"y" * 500,
               close_early=True)
def slow_reader():
    try:
        s = socket.create_connection(("127.0.0.1", pp), timeout=5)
        s.sendall(b"GET http://127.0.0.1:%s/bytes/5000000 HTTP/1.1\r\nHost: x\r\n\r\n"
                  % plain.encode())
        for _ in range(20):
            s.recv(1024)
            time.sleep(0.02)
        s.close()
        return True
    except OSError:
        return False

actions = [plain_get, plain_get, tls_get, tls_get, h2_get, upload, smuggle,
           vanish_handshake, vanish_body, slow_reader]

def worker():
    while time.time() < end:
        with lock:
            if budget[0] <= 0:
                return
            budget[0] -= 1
        a = random.choice(actions)
        ok = a()
        with lock:
            k = a.__name__ + (" ok" if ok else " failed")
            counts[k] = counts.get(k, 0) + 1

threads = [threading.Thread(target=worker) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for k in sorted(counts):
    print("%-24s %d" % (k, counts[k]))
PY
LOAD=$!
: > "$WORK/rss"
while kill -0 "$LOAD" 2>/dev/null; do
  awk '/^VmRSS/ {print $2}' "/proc/$PID/status" >> "$WORK/rss" 2>/dev/null
  sleep 2
done
wait "$LOAD"
stop_proxy
echo "soak: $SECONDS_TOTAL s, $( [ "$VALGRIND" = 1 ] && echo valgrind || echo "$(basename "$BIN")" )"
cat "$WORK/load.out"
awk 'NR == 1 {first = $1} {last = $1; if ($1 > max) max = $1}
     END {printf "RSS kB: first %d, last %d, max %d (%d samples)\n",
          first, last, max, NR}' "$WORK/rss"
echo "RSS kB every 10 s: $(awk 'NR % 5 == 1 {printf "%s ", $1}' "$WORK/rss")"
echo "events: $(wc -l < "$EVENTS") lines; proxy exit status: $PROXY_EXIT"
if [ "$VALGRIND" = 1 ]; then
  if [ -s "$WORK/valgrind.log" ]; then
    cat "$WORK/valgrind.log"
  else
    echo "valgrind: no error, no definite leak"
  fi
fi
[ "$PROXY_EXIT" = 0 ] || { echo "soak: the proxy did not exit cleanly" >&2; exit 1; }
