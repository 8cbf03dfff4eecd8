#!/usr/bin/env bash
# Whitespace between a header field name and its colon (RFC 9112 5.1):
# `Content-Length : 5` in a request is a 400 (header_name_whitespace)
# that never reaches the origin, plain or inside an intercepted tunnel;
# in an origin's response it is a 502 (upstream_header_name_whitespace)
# and none of the response reaches the client. http-parser frames such a
# field as Content-Length while an origin may ignore it: a smuggling
# shape.
. "$(dirname "$0")/lib.sh"
need jq python3 openssl

make_origin_pki
# A raw origin, plain on one port and TLS on another: it records every
# byte it receives, answers /bad with `Content-Length : 2` and anything
# else with a clean 200.
python3 - "$WORK/origin.bytes" "$ORIGIN_CERT" "$ORIGIN_KEY" \
  > "$WORK/raw.ports" <<'PY' &
import socket, ssl, sys, threading
log = open(sys.argv[1], "ab", buffering=0)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
def listen():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
    return s
def serve(c, tls):
    try:
        if tls:
            c = ctx.wrap_socket(c, server_side=True)
        d = c.recv(65536)
        log.write(d)
        if d.split(b" ")[1:2] == [b"/bad"]:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok")
        elif d:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except OSError:
        pass
    c.close()
def loop(s, tls):
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, tls), daemon=True).start()
plain, tls = listen(), listen()
print(plain.getsockname()[1], tls.getsockname()[1], flush=True)
threading.Thread(target=loop, args=(tls, True), daemon=True).start()
loop(plain, False)
PY
CP_PIDS+=($!)
read -r RAW RAWTLS <<< "$(wait_file "$WORK/raw.ports")"
start_proxy --upstream-ca "$ORIGIN_CA"

# client.py MODE PATH HEAD-FIELDS: one exchange through the proxy, plain
# (absolute form) or intercepted (CONNECT, then TLS trusting chainproxy's
# root); prints the status line, X-Chainproxy-Error and the body.
cat > "$WORK/client.py" <<'PY'
import os, socket, ssl, sys
sys.path.insert(0, os.environ["CP_CLIENTS"])
from connect_tls import connect, tls
proxy, port, root, mode, path, fields = sys.argv[1:7]
fields = fields.encode().decode("unicode_escape").encode("latin-1")
if mode == "tls":
    s, head = connect(proxy, "localhost", port)
    s = tls(s, root, "localhost")
    target = path.encode()
else:
    s = socket.create_connection(("127.0.0.1", int(proxy)), timeout=10)
    target = b"http://127.0.0.1:%s%s" % (port.encode(), path.encode())
s.sendall(b"POST " + target + b" HTTP/1.1\r\nHost: localhost:" +
          port.encode() + b"\r\n" + fields + b"\r\n")
data = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
except (OSError, ssl.SSLError):
    pass
head, _, body = data.partition(b"\r\n\r\n")
lines = head.decode("latin-1").split("\r\n")
err = [l for l in lines if l.lower().startswith("x-chainproxy-error:")]
print(lines[0], "|", err[0] if err else "-", "|", body.decode("latin-1").strip())
PY
ask() {
  python3 "$WORK/client.py" "$PROXY_PORT" "$1" "$ROOT" "$2" "$3" "$4"
}

# A smuggling attempt: the proxy would frame 29 body bytes, an origin that
# ignores `Content-Length :` would read a second request from them.
smuggle='Content-Length : 29\r\n\r\nGET /smuggled HTTP/1.1\r\nX: y'
for mode in plain tls; do
  port=$RAW
  [ "$mode" = tls ] && port=$RAWTLS
  : > "$WORK/origin.bytes"
  out=$(ask "$port" "$mode" /ok "$smuggle")
  say "$mode request: $out"
  assert_contains "$out" "HTTP/1.1 400 Bad Request" "$mode: Content-Length : 29"
  assert_contains "$out" "X-Chainproxy-Error: header_name_whitespace" \
    "$mode: error code"
  assert_contains "$out" "chainproxy: malformed request: whitespace between a header field name and its colon (RFC 9112 5.1): 'Content-Length '" \
    "$mode: body"
  out=$(ask "$port" "$mode" /ok 'Host : x\r\nContent-Length: 0\r\n')
  assert_contains "$out" "HTTP/1.1 400" "$mode: Host :"
  out=$(ask "$port" "$mode" /ok 'X-A b: c\r\nContent-Length: 0\r\n')
  assert_contains "$out" "whitespace inside a header field name" \
    "$mode: X-A b:"
  [ ! -s "$WORK/origin.bytes" ] ||
    fail "$mode: the request reached the origin: $(cat "$WORK/origin.bytes")"

  # The origin's response with `Content-Length : 2`: a 502, not the body.
  out=$(ask "$port" "$mode" /bad 'Content-Length: 0\r\n')
  say "$mode response: $out"
  assert_contains "$out" "HTTP/1.1 502 Bad Gateway" "$mode: response"
  assert_contains "$out" \
    "X-Chainproxy-Error: upstream_header_name_whitespace" "$mode: code"
  assert_contains "$out" "sent a response that chainproxy refuses: whitespace between a header field name and its colon (RFC 9112 5.1): 'Content-Length '" \
    "$mode: response body"
  case $out in *"| ok"*) fail "$mode: the bad response's body came through" ;; esac

  # A clean exchange still passes.
  out=$(ask "$port" "$mode" /ok 'Content-Length: 0\r\n')
  assert_contains "$out" "HTTP/1.1 200 OK" "$mode: a clean request"
done

expect_event '.event == "error" and .error == "header_name_whitespace" and
  .status == 400' "the 400 recorded"
expect_event '.event == "error" and .error == "upstream_header_name_whitespace"
  and .status == 502' "the 502 recorded"
expect_event '.event == "request" and .outcome ==
  "upstream_header_name_whitespace" and .scheme == "https" and .path == "/bad"'
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs
say "ok"
