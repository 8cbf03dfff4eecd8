#!/bin/bash
# Three chainproxy replicas behind one address, as docker/compose.replicas.yaml
# runs them: started together on one empty CA directory (one CA comes
# out), behind Debian's HAProxy in TCP mode (health from each replica's
# /healthz), rules pushed to all three through their control APIs, and
# events as JSON Lines on stdout shipped by Debian's rsyslog (each line
# sent as one syslog message, as Docker's syslog log driver does; here
# `logger`). Every client trusts the one root; the shipped events of the
# three account for every connection, once.
. "$(dirname "$0")/lib.sh"
need curl jq haproxy rsyslogd logger
RS=$CP_SRC/docker/replicas

start_origin --tls
S=$WORK/shared-ca
declare -a P C RP
for r in 1 2 3; do P[$r]=$(free_port); C[$r]=$(free_port); done
SYSPORT=$(free_port)
LB=$(free_port)

# The shipper first, so no line is lost.
mkdir -p "$WORK/rsyslog"
sed -e "s#/var/spool/rsyslog#$WORK/rsyslog#" -e "s#\"0.0.0.0\"#\"127.0.0.1\"#" \
  -e "s#port=\"5514\"#port=\"$SYSPORT\"#" \
  -e "s#/var/log/chainproxy/events.jsonl#$WORK/shipped.jsonl#" \
  "$RS/rsyslog.conf" > "$WORK/rsyslog.conf"
rsyslogd -n -f "$WORK/rsyslog.conf" -i "$WORK/rsyslogd.pid" \
  > "$WORK/rsyslog.log" 2>&1 &
CP_PIDS+=($!)
wait_port "$SYSPORT"

# Three replicas at once on one empty CA directory; stdout (events) goes
# to the shipper line by line, stderr (the operator log) to a file.
for r in 1 2 3; do
  mkfifo "$WORK/r$r.fifo"
  logger --tcp --octet-count --server 127.0.0.1 --port "$SYSPORT" \
    --tag "chainproxy-r$r" --size 262144 < "$WORK/r$r.fifo" &
  CP_PIDS+=($!)
done
for r in 1 2 3; do
  "$CP_BIN" --listen "127.0.0.1:${P[$r]}" --control "127.0.0.1:${C[$r]}" \
    --ca-dir "$S" --upstream-ca "$ORIGIN_CA" --events - --workers 1 \
    > "$WORK/r$r.fifo" 2> "$WORK/r$r.log" &
  RP[$r]=$!
  CP_PIDS+=($!)
done
for r in 1 2 3; do wait_port "${P[$r]}"; wait_port "${C[$r]}"; done
assert_eq "$(cat "$WORK"/r[123].log | grep -c 'created a new CA')" 1 \
  "one of three concurrent first starts created the CA"

CP_LB_BIND=127.0.0.1:$LB CP_R1=127.0.0.1:${P[1]} CP_R1_CONTROL=${C[1]} \
  CP_R2=127.0.0.1:${P[2]} CP_R2_CONTROL=${C[2]} \
  CP_R3=127.0.0.1:${P[3]} CP_R3_CONTROL=${C[3]} \
  haproxy -db -f "$RS/haproxy.cfg" > "$WORK/haproxy.log" 2>&1 &
CP_PIDS+=($!)
wait_port "$LB"
lb() { curl -sS --max-time 20 --cacert "$S/root.pem" -x "http://127.0.0.1:$LB" "$@"; }

# Rules pushed to all three: every connection, whichever replica takes
# it, gets the expired chain; then taken away from all three.
for r in 1 2 3; do
  curl -sf -X PUT "http://127.0.0.1:${C[$r]}/rules/localhost" \
    -d '{"chain": "expired"}' > /dev/null || fail "PUT rule on replica $r"
done
for i in $(seq 1 9); do
  out=$(lb -o /dev/null "https://localhost:$ORIGIN_PORT/hello" 2>&1)
  assert_contains "$out" "certificate has expired" "request $i with the rule"
done
for r in 1 2 3; do
  curl -sf -X DELETE "http://127.0.0.1:${C[$r]}/rules/localhost" > /dev/null ||
    fail "DELETE rule on replica $r"
done
# Every client trusts the one root, whichever replica answers.
for i in $(seq 1 12); do
  out=$(lb "https://localhost:$ORIGIN_PORT/hello") || fail "request $i: $out"
  assert_eq "$out" "hello from origin" "request $i through the balancer"
done

# Stop the replicas (their last events flush), then count what the
# shipper wrote: 21 client connections, each one connect and one close,
# on some replica, spread over all three.
for r in 1 2 3; do kill -TERM "${RP[$r]}"; done
for r in 1 2 3; do wait "${RP[$r]}" || fail "replica $r exit status"; done
shipped() {
  [ "$(jq -s '[.[] | select(.event.event == "close")] | length' \
    "$WORK/shipped.jsonl" 2> /dev/null)" -ge 21 ]
}
wait_for "the shipped events" shipped
jq -e -s '.[0].replica and .[0].event.id' "$WORK/shipped.jsonl" > /dev/null ||
  fail "shipped lines are not {replica, event}: $(head -c 300 "$WORK/shipped.jsonl")"
# HAProxy's health checks go to the control ports: no proxy events.
n=$(jq -s '[.[] | select(.event.event == "connect" and
  .event.mode == "intercept")] | length' "$WORK/shipped.jsonl")
assert_eq "$n" 21 "intercepted connections in the shipped events"
jq -e -s 'group_by(.replica + "/" + (.event.conn | tostring)) |
  all((map(select(.event.event == "connect")) | length) == 1 and
      (map(select(.event.event == "close")) | length) == 1)' \
  "$WORK/shipped.jsonl" > /dev/null ||
  fail "a connection without exactly one connect and one close"
per=$(jq -r -s '[.[] | select(.event.event == "connect" and
  .event.mode == "intercept") | .replica] | group_by(.) |
  map("\(.[0])=\(length)") | join(" ")' "$WORK/shipped.jsonl")
assert_eq "$(wc -w <<< "$per")" 3 "connections spread over three replicas"
say "connections per replica: $per"
say "ok"
