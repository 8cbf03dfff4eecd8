#!/bin/bash
# A web page must not steer or read the control API (docs/security.md),
# in Debian's chromium, headless:
# - DNS rebinding: the attacker's page is loaded as
#   http://rebind.example:A/ (--host-resolver-rules maps the name to
#   127.0.0.1); its later requests to its own origin reach the control
#   API unchanged, as they would once the name resolves to loopback (a
#   relay on A stands for the rebound DNS). Its fetch PUT /rules/* and GET
#   /events must fail (421) and the rules stay as they were.
# - PAC inclusion: a page on http://attacker.example:A/ with <script
#   src="http://127.0.0.1:CTL/proxy.pac"> must not get FindProxyForURL.
. "$(dirname "$0")/lib.sh"
need curl jq chromium python3

CTL_PORT=$(free_port)
CTL=http://127.0.0.1:$CTL_PORT
printf '[{"host": "secret.corp.test", "chain": "legacy"}]\n' > "$WORK/rules.json"
start_proxy --control "127.0.0.1:$CTL_PORT" --rules "$WORK/rules.json"
before=$(curl -sf "$CTL/rules" | jq -c .rules) || fail "GET /rules"

A=$(free_port)
cat > "$WORK/attacker.py" <<'PY'
import socket, sys, threading
port, ctl = int(sys.argv[1]), int(sys.argv[2])
REBIND = b"""<!doctype html><html><head><title>wait</title></head><body>
<script>
(async () => {
  const r = [];
  try {
    const a = await fetch('/rules/*', {method: 'PUT',
      body: '{"upstream_proxy": "http://127.0.0.1:9"}'});
    r.push('put:' + a.status);
  } catch (e) { r.push('put:error'); }
  try {
    const b = await fetch('/events');
    const t = await b.text();
    r.push('events:' + b.status + (t.includes('"events"') ? ':read' : ''));
  } catch (e) { r.push('events:error'); }
  document.body.textContent = 'RESULT ' + r.join(' ');
})();
</script></body></html>"""
PAC = b"""<!doctype html><html><body>
<script src="http://127.0.0.1:%d/proxy.pac"></script>
<script>
document.body.textContent = 'PAC ' + typeof FindProxyForURL;
</script></body></html>""" % ctl

def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def handle(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            c.close()
            return
        buf += d
    line = buf.split(b"\r\n", 1)[0]
    page = {b"GET / ": REBIND, b"GET /pac ": PAC}
    for k, v in page.items():
        if line.startswith(k):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                      % len(v) + v)
            c.close()
            return
    # Anything else: the bytes go to the control API as they are.
    u = socket.create_connection(("127.0.0.1", ctl))
    u.sendall(buf)
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
    pipe(c, u)

srv = socket.create_server(("127.0.0.1", port))
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
PY
python3 "$WORK/attacker.py" "$A" "$CTL_PORT" &
CP_PIDS+=($!)
wait_port "$A"

browse() { # URL: the page's DOM once its scripts ran
  timeout 60 chromium --headless=new --no-sandbox --disable-gpu \
    --no-first-run --no-default-browser-check \
    --disable-background-networking --disable-component-update \
    --disable-sync --disable-extensions --disable-dev-shm-usage \
    --user-data-dir="$WORK/chrome" \
    --host-resolver-rules="MAP rebind.example 127.0.0.1, MAP attacker.example 127.0.0.1" \
    --virtual-time-budget=10000 --dump-dom "$1" 2> "$WORK/chromium.log"
}

dom=$(browse "http://rebind.example:$A/")
res=$(grep -o 'RESULT[^<]*' <<< "$dom") || fail "the page did not run: $dom"
say "rebinding page: $res"
case $res in
  *put:200*) fail "the rebinding page changed the rules: $res" ;;
esac
case $res in
  *:read*) fail "the rebinding page read the events: $res" ;;
esac
assert_contains "$res" "put:421" "the rebound PUT is misdirected"
after=$(curl -sf "$CTL/rules" | jq -c .rules) || fail "GET /rules"
assert_eq "$after" "$before" "the rules after the page"

dom=$(browse "http://attacker.example:$A/pac")
res=$(grep -o 'PAC [a-z]*' <<< "$dom") || fail "the PAC page did not run: $dom"
say "PAC page: $res"
assert_eq "$res" "PAC undefined" "FindProxyForURL in another origin's page"
say "ok"
