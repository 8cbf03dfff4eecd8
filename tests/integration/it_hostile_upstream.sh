#!/bin/bash
# Hostile upstreams against the real binary (refused, silent, DNS failure,
# TLS alerts and garbage have their own tests: it.errors.curl,
# it.handshake.openssl): a reset in the middle of a body, a response head
# over the limit, a close-delimited HTTP/1.0 body, a chain of 20
# certificates, a 100 KiB certificate and one with 1000 names. Each gets
# a clear answer or passes; none crashes or hangs the proxy.
. "$(dirname "$0")/lib.sh"
need curl jq python3 openssl

make_origin_pki
python3 - > "$WORK/raw.port" <<'PY' &
import socket, struct, threading
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
def serve(c):
    d = c.recv(65536)
    if b"/reset" in d:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif b"/bighead" in d:
        c.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-Big: " + b"a" * 70000 + b"\r\n\r\n")
    elif b"/http10" in d:
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"y" * 50000)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
CP_PIDS+=($!)
RAW=$(wait_file "$WORK/raw.port")

# Certificates: a chain of 20 CAs, a 100 KiB leaf, a leaf with 1000 names.
d=$WORK/pki
mkdir -p "$d"
ca_key=$(dirname "$ORIGIN_CA")/ca.key
issuer=$ORIGIN_CA issuer_key=$ca_key
: > "$d/chain20.pem"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' > "$d/ca.cnf"
for i in $(seq 1 19); do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/ca$i.key" -out "$d/ca$i.csr" -subj "/CN=Deep CA $i" 2>/dev/null
  openssl x509 -req -in "$d/ca$i.csr" -CA "$issuer" -CAkey "$issuer_key" \
    -CAcreateserial -days 2 -extfile "$d/ca.cnf" -out "$d/ca$i.pem" 2>/dev/null ||
    fail "deep CA $i"
  cat "$d/ca$i.pem" "$d/chain20.pem" > "$d/tmp.pem" && mv "$d/tmp.pem" "$d/chain20.pem"
  issuer=$d/ca$i.pem issuer_key=$d/ca$i.key
done
leaf() { # NAME ISSUER ISSUER_KEY EXTFILE
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/$1.key" -out "$d/$1.csr" -subj "/CN=localhost" 2>/dev/null
  openssl x509 -req -in "$d/$1.csr" -CA "$2" -CAkey "$3" -CAcreateserial \
    -days 2 -extfile "$4" -out "$d/$1.pem" 2>/dev/null || fail "leaf $1"
}
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$d/leaf.cnf"
leaf deep "$issuer" "$issuer_key" "$d/leaf.cnf"
python3 -c 'print("subjectAltName=DNS:localhost," + ",".join("DNS:h%d.test" % i for i in range(999)))' \
  > "$d/sans.cnf"
leaf sans "$ORIGIN_CA" "$ca_key" "$d/sans.cnf"
python3 -c 'print("subjectAltName=DNS:localhost\n1.3.6.1.4.1.55555.9=ASN1:UTF8String:" + "z" * 100000)' \
  > "$d/big.cnf"
leaf big "$ORIGIN_CA" "$ca_key" "$d/big.cnf"
[ "$(stat -c %s "$d/big.pem")" -gt 100000 ] || fail "the big certificate is small"

declare -A PORT
serve_tls() { # NAME LEAF [CHAIN]
  local p args=()
  p=$(free_port)
  [ -n "${3:-}" ] && args=(-cert_chain "$3")
  openssl s_server -accept "127.0.0.1:$p" -cert "$d/$2.pem" -key "$d/$2.key" \
    "${args[@]}" -www -quiet > "$WORK/s_server.$1" 2>&1 < /dev/null &
  CP_PIDS+=($!)
  wait_port "$p"
  PORT[$1]=$p
}
serve_tls deep deep "$d/chain20.pem"
serve_tls sans sans
serve_tls big big

start_proxy --upstream-ca "$ORIGIN_CA"
C=(curl -sS --max-time 20 -x "$PROXY_URL")

out=$("${C[@]}" -o "$WORK/reset.body" "http://127.0.0.1:$RAW/reset" 2>&1)
[ "$(stat -c %s "$WORK/reset.body")" -lt 100000 ] || fail "a reset body arrived whole"
expect_event ".event == \"request\" and (.url | endswith(\"/reset\")) and
  .outcome != \"ok\"" "the cut body's request event says so"
out=$("${C[@]}" -i "http://127.0.0.1:$RAW/bighead" 2>&1)
assert_contains "$out" "502" "a 70 KB response head: 502"
assert_contains "$out" "chainproxy:" "with a readable body"
n=$("${C[@]}" "http://127.0.0.1:$RAW/http10" | wc -c)
assert_eq "$n" 50000 "an HTTP/1.0 body delimited by the close"

for name in deep sans big; do
  code=$("${C[@]}" --cacert "$ROOT" -o /dev/null -w '%{http_code}' \
    "https://localhost:${PORT[$name]}/")
  assert_eq "$code" 200 "$name: verified and relayed"
done
expect_event ".event == \"upstream_verify\" and .port == ${PORT[deep]} and
  .ok == true" "the 20-certificate chain verified"
# verify names them too.
json=$("$CP_BIN" verify "localhost:${PORT[deep]}" --upstream-ca "$ORIGIN_CA" --json)
assert_eq "$(jq -r .ok <<< "$json")" true "verify: the deep chain"
out=$("$CP_BIN" verify "localhost:${PORT[sans]}" --upstream-ca "$ORIGIN_CA")
assert_contains "$out" "DNS:localhost, DNS:h0.test" "verify lists the names"
# The proxy is still there and well.
code=$("${C[@]}" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RAW/http10")
assert_eq "$code" 200 "the proxy serves on"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
check_connect_close_pairs
say "ok"
