# Shared helpers for chainproxy's integration tests. Each it_*.sh sources
# this file first. Tests re-run themselves inside a private network
# namespace (loopback only) when the machine allows it, so no test can
# reach any address but 127.0.0.1/::1 — not even a DNS server.
set -u

CP_SRC=${CP_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CP_BUILD=${CP_BUILD:-$CP_SRC/build}
CP_BIN=${CP_BIN:-$CP_BUILD/chainproxy}
CP_IT=$CP_SRC/tests/integration
# Python clients import clients/connect_tls.py from here.
export CP_CLIENTS=$CP_IT/clients
CP_TEST_NAME=$(basename "$0" .sh)
CP_PIDS=()

if [ -z "${CP_IN_NETNS:-}" ]; then
  if command -v unshare >/dev/null 2>&1 &&
     unshare -n true 2>/dev/null; then
    export CP_IN_NETNS=1
    exec unshare -n bash -c 'ip link set lo up && exec bash "$0" "$@"' \
      "$0" "$@"
  fi
  export CP_IN_NETNS=0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cp-$CP_TEST_NAME.XXXXXX")

cleanup() {
  local pid
  for pid in "${CP_PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${CP_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  if [ "${CP_KEEP:-0}" = 1 ]; then
    echo "kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

say() { printf '%s: %s\n' "$CP_TEST_NAME" "$*"; }

fail() {
  say "FAIL: $*" >&2
  if [ -n "${PROXY_LOG:-}" ] && [ -f "$PROXY_LOG" ]; then
    echo "--- proxy log (last 30 lines)" >&2
    tail -n 30 "$PROXY_LOG" >&2
  fi
  exit 1
}

skip() {
  say "SKIP: $*"
  exit 77
}

# A client the README's test command installs. Missing on a developer's
# machine: skip; missing in CI: fail.
need() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      [ "${CI:-}" = true ] && fail "$tool is not installed"
      skip "$tool is not installed"
    fi
  done
}

# A test that needs its own network namespace: skipped on a developer's
# machine that cannot make one, failed in CI (which must be able to).
need_netns() {
  [ "$CP_IN_NETNS" = 1 ] && return 0
  [ "${CI:-}" = true ] && fail "needs a private network namespace (unshare -n), and CI must provide one"
  skip "needs a private network namespace (unshare -n)"
}

free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

# wait_port PORT [HOST]: until something accepts, at most ~10 s.
wait_port() {
  local port=$1 host=${2:-127.0.0.1} i
  for i in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  fail "nothing listens on $host:$port"
}

# wait_for DESCRIPTION COMMAND...: until COMMAND succeeds, at most ~10 s.
# Tests wait on a condition, never on a fixed sleep.
wait_for() {
  local what=$1 i
  shift
  for i in $(seq 1 200); do
    "$@" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "timed out waiting for $what"
}

# wait_file FILE: until FILE exists and is not empty; prints its content.
wait_file() {
  wait_for "$1 to be written" test -s "$1"
  cat "$1"
}

# make_origin_pki: a test CA and a server certificate for 127.0.0.1, ::1
# and localhost, made with the openssl command line (not the code under
# test). Sets ORIGIN_CA, ORIGIN_CERT, ORIGIN_KEY.
make_origin_pki() {
  local d=$WORK/origin-pki
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/ca.key" -out "$d/ca.pem" -days 30 -subj "/CN=cp test origin CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
    fail "openssl could not make the origin CA"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost" \
    2>/dev/null || fail "openssl could not make the origin key"
  printf '%s\n' "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" > "$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
    -CAcreateserial -days 30 -extfile "$d/ext.cnf" -out "$d/server.pem" \
    2>/dev/null || fail "openssl could not sign the origin certificate"
  ORIGIN_CA=$d/ca.pem
  ORIGIN_CERT=$d/server.pem
  ORIGIN_KEY=$d/server.key
}

# san_der NAME...: the DER, in hex, of a subjectAltName with one dNSName
# per argument. Each NAME is a printf(1) format, so it can hold any byte
# (\000, \033, \r, \n, \342\200\256) that openssl's own "DNS:" syntax
# cannot write; use it as "subjectAltName=DER:$(san_der ...)" in an
# extension file. Each name and the whole list stay under 128 bytes.
san_der() {
  local body="" h n
  for n in "$@"; do
    h=$(printf "$n" | od -An -tx1 -v | tr -d ' \n')
    [ $(( ${#h} / 2 )) -lt 128 ] || fail "san_der: name too long"
    body+=$(printf '82%02x%s' $(( ${#h} / 2 )) "$h")
  done
  [ $(( ${#body} / 2 )) -lt 128 ] || fail "san_der: names too long"
  printf '30%02x%s' $(( ${#body} / 2 )) "$body"
}

# make_leaf NAME SUBJECT EXT...: a server certificate from the origin's
# test CA (make_origin_pki first) with SUBJECT (-subj syntax, UTF-8) and
# the extension lines EXT (e.g. "subjectAltName=DER:..."), made with the
# openssl command line. Sets LEAF_CERT, LEAF_KEY.
make_leaf() {
  local name=$1 subj=$2 d
  d=$(dirname "$ORIGIN_CA")
  shift 2
  openssl req -utf8 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/$name.key" -out "$d/$name.csr" -subj "$subj" 2>/dev/null ||
    fail "openssl could not make the key of $name"
  printf '%s\n' "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
    "$@" > "$d/$name.cnf"
  openssl x509 -req -in "$d/$name.csr" -CA "$ORIGIN_CA" -CAkey "$d/ca.key" \
    -CAcreateserial -days 2 -extfile "$d/$name.cnf" -out "$d/$name.pem" \
    2>/dev/null || fail "openssl could not sign $name"
  LEAF_CERT=$d/$name.pem
  LEAF_KEY=$d/$name.key
}

# make_client_cert: a client certificate (clientAuth) from the origin's
# test CA, certificate then key in one 0600 PEM. Sets CLIENT_PEM.
make_client_cert() {
  local d=$WORK/client-cert
  mkdir -p "$d"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/key.pem" -out "$d/req.pem" -subj "/CN=chainproxy test client" \
    2>/dev/null || fail "client key"
  printf 'extendedKeyUsage=clientAuth\n' > "$d/ext.cnf"
  openssl x509 -req -in "$d/req.pem" -CA "$ORIGIN_CA" \
    -CAkey "$(dirname "$ORIGIN_CA")/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/ext.cnf" -out "$d/cert.pem" 2>/dev/null || fail "client cert"
  CLIENT_PEM=$d/client.pem
  cat "$d/cert.pem" "$d/key.pem" > "$CLIENT_PEM"
  chmod 600 "$CLIENT_PEM"
}

# s_server NAME ARGS...: an openssl s_server with the origin's certificate
# on a free port; sets PORT[NAME] (declare -A PORT first).
s_server() {
  local name=$1 p
  shift
  p=$(free_port)
  openssl s_server -accept "127.0.0.1:$p" -cert "$ORIGIN_CERT" \
    -key "$ORIGIN_KEY" -quiet "$@" > "$WORK/s_server.$name" 2>&1 < /dev/null &
  CP_PIDS+=($!)
  wait_port "$p"
  PORT[$name]=$p
}

# start_origin [--tls] [--host H] [--root DIR]: sets ORIGIN_PORT.
start_origin() {
  local tls=0 host=127.0.0.1 root=$WORK args=()
  while [ $# -gt 0 ]; do
    case $1 in
      --tls) tls=1 ;;
      --host) host=$2; shift ;;
      --root) root=$2; shift ;;
    esac
    shift
  done
  args=(--host "$host" --root "$root")
  if [ $tls = 1 ]; then
    [ -n "${ORIGIN_CERT:-}" ] || make_origin_pki
    args+=(--cert "$ORIGIN_CERT" --key "$ORIGIN_KEY")
  fi
  local out=$WORK/origin.$RANDOM
  python3 "$CP_IT/origin.py" "${args[@]}" > "$out" 2>&1 &
  CP_PIDS+=($!)
  local i
  for i in $(seq 1 200); do
    if grep -q '^ready ' "$out" 2>/dev/null; then
      ORIGIN_PORT=$(awk '/^ready /{print $2}' "$out")
      return 0
    fi
    sleep 0.05
  done
  cat "$out" >&2
  fail "origin did not start"
}

# start_proxy [chainproxy options...]: sets PROXY_PORT, PROXY_PID,
# PROXY_URL, EVENTS (EVENTS_FILE if set), PROXY_LOG. The CA lives in $PROXY_CA (ROOT is the
# root clients trust).
PROXY_CA=$WORK/ca
ROOT=$PROXY_CA/root.pem
# LISTEN_HOST (default 127.0.0.1) is the address it binds.
start_proxy() {
  PROXY_PORT=$(free_port)
  EVENTS=${EVENTS_FILE:-$WORK/events.jsonl}
  PROXY_LOG=$WORK/proxy.log
  "$CP_BIN" --listen "${LISTEN_HOST:-127.0.0.1}:$PROXY_PORT" --events "$EVENTS" \
    --ca-dir "$PROXY_CA" "$@" 2>> "$PROXY_LOG" &
  PROXY_PID=$!
  CP_PIDS+=($PROXY_PID)
  PROXY_URL=http://127.0.0.1:$PROXY_PORT
  wait_port "$PROXY_PORT"
  # The control API binds after the proxy's own port: a test that talks to
  # it first must not race its start.
  local prev='' a ctl=''
  for a in "$@"; do
    case $prev in --control) ctl=$a ;; esac
    case $a in --control=*) ctl=${a#--control=} ;; esac
    prev=$a
  done
  case $ctl in
    '') ;;
    \[*) local h=${ctl#\[}; wait_port "${ctl##*:}" "${h%%]*}" ;;
    0.0.0.0:* | :*) wait_port "${ctl##*:}" ;;
    *:*) wait_port "${ctl##*:}" "${ctl%:*}" ;;
    *) ;;
  esac
}

# stop_proxy: SIGTERM and wait; sets PROXY_EXIT.
stop_proxy() {
  kill -TERM "$PROXY_PID" 2>/dev/null
  wait "$PROXY_PID"
  PROXY_EXIT=$?
}

# expect_event JQ_FILTER [description]: some event matches the filter.
expect_event() {
  local filter=$1 what=${2:-$1} i
  for i in $(seq 1 100); do
    if jq -e -s "map(select($filter)) | length > 0" "$EVENTS" >/dev/null 2>&1
    then
      return 0
    fi
    sleep 0.05
  done
  echo "--- events" >&2
  cat "$EVENTS" >&2
  fail "no event matches: $what"
}

# count_events JQ_FILTER
count_events() {
  jq -s "map(select($1)) | length" "$EVENTS"
}

# check_connect_close_pairs: every conn has exactly one connect and one
# close event, and ids increase.
check_connect_close_pairs() {
  jq -e -s '
    (group_by(.conn) | all(
       (map(select(.event == "connect")) | length) == 1 and
       (map(select(.event == "close")) | length) == 1))
    and ([.[].id] == ([.[].id] | sort))
    and ([.[].id] | unique | length) == length' "$EVENTS" >/dev/null ||
    fail "events do not have one connect and one close per connection"
}

assert_eq() {
  [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

assert_contains() {
  case $1 in
    *"$2"*) ;;
    *) fail "${3:-output} does not contain '$2': $1" ;;
  esac
}

# java_store PEM: a PKCS12 trust store beside PEM holding its certificates
# (keytool takes one certificate per call), made again only when PEM is
# newer; prints its path.
java_store() {
  local p=${1%.pem}.p12 f
  if [ "$p" -nt "$1" ]; then
    echo "$p"
    return
  fi
  rm -f "$p" "${1%.pem}".k*.pem
  awk -v b="${1%.pem}" '/BEGIN CERT/{n++} n {print > (b ".k" n ".pem")}' "$1"
  for f in "${1%.pem}".k*.pem; do
    keytool -importcert -noprompt -alias "$(basename "$f")" -file "$f" \
      -storetype PKCS12 -storepass changeit -keystore "$p" > /dev/null 2>&1 ||
      fail "keytool $f"
  done
  echo "$p"
}
