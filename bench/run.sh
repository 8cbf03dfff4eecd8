#!/bin/bash
# chainproxy beside nginx and squid on this machine, in one run, with the
# project's own load generator (bench/loadgen.c), and bench/RESULTS.md
# written from it. Everything on 127.0.0.1; every case bounded by DUR
# seconds and MAXOPS operations.
#
#   bench/run.sh                     # the table: every anchor, modes, 16/64
#   SWEEP=1 bench/run.sh             # + rate against concurrency and hosts
#
# Knobs: ANCHORS, MODES ("new keepalive bulk"), CONCS ("16 64"), DUR (8),
# MAXOPS (2000000), SWEEP (0), IDLE (10000 tunnels; 0: skip), OUT
# (bench/RESULTS.md), BUILD (build-bench: a Release build made here),
# PERF (1: a perf profile of an extra new run at concurrency 16 before
# each anchor's measured one, its top symbols in the run's directory as
# ANCHOR.perf.txt).
#
# Anchors: direct (no proxy: the ceiling); chainproxy (upstream session
# resumption on, the default) and chainproxy_full (--upstream-sessions 0:
# a full upstream handshake per tunnel), chainproxy_events (the defaults
# with --events to a file: its cost and events per second),
# chainproxy_pool (--upstream-pool: tunnels share idle upstream
# connections, as nginx's keepalive pool does); nginx and
# nginx_nopool (nginx terminating TLS and re-originating it with
# proxy_ssl_verify on, with and without an upstream keepalive pool and
# session reuse); squid and
# squid_nopool (ssl-bump with minted certificates, with and without
# upstream connection reuse). nginx and the origin run one worker per core.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
ANCHORS=${ANCHORS:-"direct chainproxy chainproxy_full chainproxy_events chainproxy_pool nginx_nopool nginx squid_nopool squid"}
MODES=${MODES:-"new keepalive bulk"}
CONCS=${CONCS:-"16 64"}
DUR=${DUR:-8}
MAXOPS=${MAXOPS:-2000000}
SWEEP=${SWEEP:-0}
IDLE=${IDLE:-10000}
PERF=${PERF:-0}
OUT=${OUT:-$ROOT/bench/RESULTS.md}
W=$(mktemp -d /tmp/cp-bench.XXXXXX)
chmod 755 "$W" # nginx and squid workers read their files here
TSV=$W/results.tsv
OP=29443 # origin
PP=29080 # the proxy under test
PIDS=()

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT

install_missing() {
  local need=() p
  for p in nginx-light squid-openssl openssl cmake gcc pkg-config \
    libssl-dev libuv1-dev libjansson-dev libnghttp2-dev libhttp-parser-dev \
    python3; do
    dpkg -s "$p" > /dev/null 2>&1 || need+=("$p")
  done
  [ ${#need[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || { log "missing: ${need[*]} (run as root)"; exit 1; }
  log "installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${need[@]}" > "$W/apt.log" 2>&1 ||
    { log "apt-get failed: $W/apt.log"; exit 1; }
  # The packages start their daemons; the benchmark runs its own.
  systemctl stop nginx squid 2> /dev/null
}

build() {
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release > "$W/cmake.log" &&
    cmake --build "$BUILD" -j"$(nproc)" --target chainproxy loadgen \
      >> "$W/cmake.log" 2>&1 || { log "build failed: $W/cmake.log"; exit 1; }
}

# An origin CA and leaf (origin.bench.test and *.hosts.bench.test, for the
# many-hosts sweep), and a proxy CA for nginx's leaf and squid's minting.
pki() {
  local d=$W/pki
  mkdir -p "$d"
  ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@"; }
  ec -x509 -keyout "$d/origin-ca.key" -out "$d/origin-ca.pem" -days 30 \
    -subj "/CN=bench origin CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign" 2> /dev/null
  ec -x509 -keyout "$d/proxy-ca.key" -out "$d/proxy-ca.pem" -days 30 \
    -subj "/CN=bench proxy CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign" 2> /dev/null
  leaf() { # NAME CA SANS
    ec -keyout "$d/$1.key" -out "$d/$1.csr" -subj "/CN=origin.bench.test" \
      2> /dev/null
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n%s\n' \
      "subjectAltName=$3" > "$d/$1.ext"
    openssl x509 -req -in "$d/$1.csr" -CA "$d/$2.pem" -CAkey "$d/$2.key" \
      -CAcreateserial -days 30 -extfile "$d/$1.ext" -out "$d/$1.pem" \
      2> /dev/null
  }
  leaf origin origin-ca "DNS:origin.bench.test,DNS:*.hosts.bench.test"
  leaf rp proxy-ca "DNS:origin.bench.test"
  "$BUILD/chainproxy" ca --ca-dir "$W/cpca" > /dev/null
}

start_origin() {
  local p
  for p in $OP $PP; do # a leftover server would be measured instead
    if (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then
      log "127.0.0.1:$p is taken by another process: stop it first"
      exit 1
    fi
  done
  mkdir -p "$W/www"
  head -c 1024 /dev/urandom > "$W/www/1k"
  head -c 1048576 /dev/urandom > "$W/www/1m"
  cat > "$W/origin.conf" <<EOF
worker_processes auto; daemon off; pid $W/origin.pid; error_log $W/origin.err;
events { worker_connections 30000; }
http {
  log_format b '\$connection \$ssl_session_reused';
  access_log $W/origin-access.log b buffer=256k;
  keepalive_requests 10000000; keepalive_timeout 300s;
  ssl_protocols TLSv1.2 TLSv1.3;
  server { listen 127.0.0.1:$OP ssl; root $W/www;
    ssl_certificate $W/pki/origin.pem; ssl_certificate_key $W/pki/origin.key; }
}
EOF
  nginx -c "$W/origin.conf" 2> "$W/origin.start" &
  PIDS+=($!)
  wait_port $OP || { log "the origin did not start"; exit 1; }
}

wait_port() {
  local i
  for i in $(seq 1 100); do
    (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Starts anchor $1 on $PP; sets APID and LG (the load generator's target
# arguments).
start_anchor() {
  local a=$1 pool
  APID=
  case $a in
    direct)
      LG=(-t 127.0.0.1:$OP -N origin.bench.test -C "$W/pki/origin-ca.pem")
      return 0 ;;
    chainproxy | chainproxy_full | chainproxy_events | chainproxy_pool)
      local extra=()
      [ "$a" = chainproxy_full ] && extra=(--upstream-sessions 0)
      [ "$a" = chainproxy_events ] && extra=(--events "$W/events.jsonl")
      [ "$a" = chainproxy_pool ] && extra=(--upstream-pool)
      "$BUILD/chainproxy" --listen 127.0.0.1:$PP --ca-dir "$W/cpca" \
        --upstream-ca "$W/pki/origin-ca.pem" --max-conns 30000 \
        "${extra[@]}" 2> "$W/$a.log" &
      APID=$!
      LG=(-x 127.0.0.1:$PP -t 127.0.0.1:$OP -N origin.bench.test
        -C "$W/cpca/root.pem") ;;
    nginx | nginx_nopool)
      pool="keepalive 256;" reuse=on
      [ "$a" = nginx_nopool ] && pool="" reuse=off
      cat > "$W/$a.conf" <<EOF
worker_processes auto; daemon off; pid $W/$a.pid; error_log $W/$a.err;
events { worker_connections 30000; }
http {
  access_log off; keepalive_requests 10000000; keepalive_timeout 300s;
  ssl_protocols TLSv1.2 TLSv1.3;
  upstream origin { server 127.0.0.1:$OP; $pool }
  server { listen 127.0.0.1:$PP ssl;
    ssl_certificate $W/pki/rp.pem; ssl_certificate_key $W/pki/rp.key;
    location / { proxy_pass https://origin; proxy_http_version 1.1;
      proxy_set_header Connection ""; proxy_ssl_verify on;
      proxy_ssl_protocols TLSv1.2 TLSv1.3;
      proxy_ssl_trusted_certificate $W/pki/origin-ca.pem;
      proxy_ssl_name origin.bench.test; proxy_ssl_server_name on;
      proxy_ssl_session_reuse $reuse; proxy_buffering off; } }
}
EOF
      nginx -c "$W/$a.conf" 2> "$W/$a.log" &
      APID=$!
      LG=(-t 127.0.0.1:$PP -N origin.bench.test -C "$W/pki/proxy-ca.pem") ;;
    squid | squid_nopool)
      pool=on
      [ "$a" = squid_nopool ] && pool=off
      rm -rf "$W/$a" && mkdir -p "$W/$a"
      /usr/lib/squid/security_file_certgen -c -s "$W/$a/db" -M 16MB \
        > /dev/null
      chown -R proxy "$W/$a" 2> /dev/null
      cat > "$W/$a.conf" <<EOF
http_port 127.0.0.1:$PP ssl-bump tls-cert=$W/pki/proxy-ca.pem tls-key=$W/pki/proxy-ca.key generate-host-certificates=on dynamic_cert_mem_cache_size=16MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s $W/$a/db -M 16MB
sslcrtd_children 5 startup=1 idle=1
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
tls_outgoing_options cafile=$W/pki/origin-ca.pem
server_persistent_connections $pool
http_access allow localhost
http_access deny all
cache deny all
access_log none
cache_log $W/$a/cache.log
pid_filename $W/$a/squid.pid
coredump_dir $W/$a
max_filedescriptors 16384
EOF
      squid -N -f "$W/$a.conf" > "$W/$a.log" 2>&1 &
      APID=$!
      LG=(-x 127.0.0.1:$PP -t 127.0.0.1:$OP -N origin.bench.test
        -C "$W/pki/proxy-ca.pem") ;;
    *) log "unknown anchor $a"; return 1 ;;
  esac
  PIDS+=($APID)
  wait_port $PP || { log "$a did not start ($W/$a.log)"; return 1; }
}

stop_anchor() {
  [ -n "$APID" ] || return 0
  kill -TERM "$APID" 2> /dev/null
  local i
  for i in $(seq 1 100); do kill -0 "$APID" 2> /dev/null || break; sleep 0.1; done
  kill -KILL "$APID" 2> /dev/null
  wait "$APID" 2> /dev/null
  sleep 0.5
}

tree() { # PID: it and its descendants
  local p=$1 c
  echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2> /dev/null); do tree "$c"; done
}
cpu_ticks() { # PIDs: utime+stime summed
  local t=0 p f
  for p in "$@"; do
    f=$(cut -d' ' -f14,15 /proc/"$p"/stat 2> /dev/null) || continue
    t=$((t + ${f% *} + ${f#* }))
  done
  echo $t
}
hwm_kb() { # PIDs: VmHWM summed
  local k=0 p v
  for p in "$@"; do
    v=$(awk '/^VmHWM/{print $2}' /proc/"$p"/status 2> /dev/null)
    k=$((k + ${v:-0}))
  done
  echo $k
}
origin_counts() { # connections, of which resumed, since the last call
  sleep 0.3
  kill -USR1 "$(cat "$W/origin.pid")" 2> /dev/null # reopen: flush the buffer
  sleep 0.3
  awk '{c[$1]=$2} END{n=0;r=0;for(k in c){n++; if(c[k]=="r")r++}; print n, r}' \
    "$W/origin-access.log" 2> /dev/null
  : > "$W/origin-access.log"
}

# A perf profile of one extra `new` run at concurrency 16 (anchor, pids),
# apart from the measured one: sampling with call graphs slows the proxy.
profile_case() {
  local perf=$W/$1.perf
  perf record -q -F 499 --call-graph "${PERF_CG:-dwarf,16384}" \
    -o "$perf.data" -p "$(paste -sd, <<< "$2")" -- sleep "$DUR" \
    2> /dev/null &
  timeout $((DUR + 60)) "$BUILD/loadgen" -m new -c 16 -d "$DUR" \
    -n "$MAXOPS" "${LG[@]}" > /dev/null 2>> "$W/loadgen.err"
  wait $! 2> /dev/null
  perf report -i "$perf.data" --no-children --stdio --percent-limit 0.5 \
    --sort dso,sym -g none 2> /dev/null | grep -v '^#' | sed '/^$/d' \
    > "$perf.txt"
  log "$1: profile of an extra new c=16 run in $perf.txt"
}

# One case: anchor mode conc [hosts]; appends a row to the TSV.
run_case() {
  local a=$1 m=$2 c=$3 h=${4:-1} pids t0 t1 hz line extra=()
  pids=$( [ -n "$APID" ] && tree "$APID")
  [ "$m" = hosts ] && extra=(-H "$h" -S hosts.bench.test)
  if [ "$PERF" = 1 ] && [ "$m" = new ] && [ "$c" = 16 ] && [ -n "$pids" ]; then
    profile_case "$a" "$pids"
  fi
  origin_counts > /dev/null
  local ev0=0
  [ -f "$W/events.jsonl" ] && ev0=$(wc -l < "$W/events.jsonl")
  t0=$(cpu_ticks $pids)
  line=$(timeout $((DUR + 60)) "$BUILD/loadgen" -m "$m" -c "$c" -d "$DUR" \
    -n "$MAXOPS" "${LG[@]}" "${extra[@]}" 2>> "$W/loadgen.err")
  t1=$(cpu_ticks $pids)
  hz=$(getconf CLK_TCK)
  pids=$( [ -n "$APID" ] && tree "$APID")
  read -r oc orr <<< "$(origin_counts)"
  local g
  g() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<< "$line"; }
  local el; el=$(g elapsed_s)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$a" "$m" "$c" "$h" "$(g rate_per_s)" "$(g MBps)" "$(g p50_ms)" \
    "$(g p99_ms)" "$(g ops)" "$(g errors)" \
    "$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v e="${el:-1}" \
      'BEGIN{printf "%.0f", (b-a)/hz/e*100}')" \
    "$(hwm_kb $pids)" "$oc" "$orr" >> "$TSV"
  log "$a $m c=$c h=$h: $line"
  if [ "$a" = chainproxy_events ]; then # events written per second
    printf '%s\t%s\t%s\t%s\n' "$m" "$c" \
      $(($(wc -l < "$W/events.jsonl") - ev0)) "${el:-1}" >> "$W/events.tsv"
  fi
}

idle_case() { # anchor: $IDLE tunnels held; RSS growth per tunnel
  local a=$1 line
  [ -n "$APID" ] || return 0
  line=$(timeout 300 "$BUILD/loadgen" -m idle -c "$IDLE" -d 40 -n "$IDLE" \
    -p "$(tree "$APID" | paste -sd,)" "${LG[@]}" 2>> "$W/loadgen.err")
  log "$a idle: $line"
  printf '%s\tidle\t%s\t1\t%s\n' "$a" "$IDLE" \
    "$(sed -n 's/.*per_tunnel_kb=\([^ ]*\).*/\1/p' <<< "$line")" >> "$W/idle.tsv"
}

# The crypto floor: what the primitives a tunnel needs cost here.
speed() {
  openssl speed -seconds 2 -mr ecdhx25519 ecdsap256 2> /dev/null |
    grep '^+F' > "$W/speed.txt"
}

ulimit -n "$(ulimit -Hn)" 2> /dev/null
install_missing
build
speed
pki
start_origin
: > "$TSV"
: > "$W/idle.tsv"
: > "$W/events.tsv"
for a in $ANCHORS; do
  start_anchor "$a" || continue
  for c in $CONCS; do
    for m in $MODES; do run_case "$a" "$m" "$c"; done
  done
  if [ "$SWEEP" = 1 ] && [ "$a" = chainproxy ]; then
    for c in 1 4 16 64 256; do run_case "$a" new "$c"; done
    for h in 1 10 100 1000 10000; do run_case "$a" hosts 16 "$h"; done
  fi
  # Last: its peak RSS is not the table's.
  case $a in chainproxy | nginx | squid) [ "$IDLE" -gt 0 ] && idle_case "$a" ;; esac
  stop_anchor
done
python3 "$ROOT/bench/results_md.py" "$TSV" "$W/idle.tsv" "$W/speed.txt" \
  "$W/events.tsv" > "$OUT"
log "wrote $OUT (raw: $TSV)"
