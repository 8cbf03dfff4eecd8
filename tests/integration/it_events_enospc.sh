#!/usr/bin/env bash
# The event log on a full disk: a line is written whole or not at all.
# The log lives on a 64 KiB tmpfs (a private mount namespace) with a
# filler file; plain HTTP requests fill it, the filler is deleted, more
# requests follow. Every line must parse as JSON (a line cut by ENOSPC
# used to stay, and the next event was glued to it), a `dropped` event
# must count what the log lost, the events after the gap must be there,
# ids must increase, and the ids missing from the file must be exactly
# the ones counted.
if [ -z "${CP_IN_MNTNS:-}" ]; then
  if [ "$(id -u)" = 0 ] && unshare -m true 2> /dev/null; then
    export CP_IN_MNTNS=1
    exec unshare -m --propagation private bash "$0" "$@"
  fi
  export CP_IN_MNTNS=0
fi
. "$(dirname "$0")/lib.sh"
need curl jq python3
if [ "$CP_IN_MNTNS" != 1 ]; then
  [ "${CI:-}" = true ] && fail "needs a mount namespace (root, unshare -m)"
  skip "needs a mount namespace (root, unshare -m) for a small tmpfs"
fi

T=$WORK/tmpfs
mkdir "$T"
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$T" || fail "cannot mount a tmpfs"
trap 'umount "$T" 2> /dev/null; cleanup' EXIT
# Leave three pages free: a dozen requests fill them.
dd if=/dev/zero of="$T/filler" bs=1k count=52 2> /dev/null
start_origin
CTL=$(free_port)
EVENTS_FILE=$T/events.jsonl start_proxy --control "127.0.0.1:$CTL"
O=http://127.0.0.1:$ORIGIN_PORT

dropped() { curl -s "http://127.0.0.1:$CTL/stats" | jq .events.dropped; }
n=0
while [ "$(dropped)" -lt 5 ]; do
  n=$((n + 1))
  [ $n -le 300 ] || fail "the tmpfs never filled ($(df -h "$T" | tail -1))"
  out=$(curl -sS -x "$PROXY_URL" "$O/hello?before=$n") ||
    fail "request $n failed on a full disk"
  assert_eq "$out" "hello from origin" "request $n on a full disk"
done
say "$n requests filled the disk; $(dropped) events dropped so far"
rm "$T/filler"
for i in 1 2 3 4 5; do
  out=$(curl -sS -x "$PROXY_URL" "$O/hello?after=$i") || fail "request after $i"
  assert_eq "$out" "hello from origin" "request $i after space came back"
done
lost=$(dropped)
stop_proxy
say "proxy exit status with lost events: $PROXY_EXIT"

python3 - "$EVENTS" "$lost" <<'PY' || fail "the event log is not whole lines"
import json, sys
path, lost = sys.argv[1], int(sys.argv[2])
bad, events = [], []
with open(path, "rb") as f:
    for i, line in enumerate(f.read().split(b"\n")[:-1], 1):
        try:
            events.append(json.loads(line))
        except ValueError:
            bad.append((i, line[:160]))
for i, line in bad:
    print("line %d does not parse: %r" % (i, line))
drops = [e for e in events if e["event"] == "dropped"]
ids = [e["id"] for e in events]
after = {e["url"].split("=")[-1] for e in events
         if e["event"] == "request" and "after=" in e["url"]}
print("%d lines, %d dropped event(s): %s" % (len(events), len(drops),
      [(d["id"], d["count"], d["first_id"], d["last_id"]) for d in drops]))
ok = not bad
if not drops or any(d["count"] <= 0 for d in drops):
    print("no dropped event with count > 0"); ok = False
if ids != sorted(set(ids)):
    print("ids out of order or repeated"); ok = False
missing = set(range(1, max(ids) + 1)) - set(ids)
if len(missing) != sum(d["count"] for d in drops) or len(missing) != lost:
    print("%d ids missing, dropped events count %d, /stats said %d" %
          (len(missing), sum(d["count"] for d in drops), lost)); ok = False
for d in drops:
    if set(range(d["first_id"], d["last_id"] + 1)) - missing:
        print("dropped event %d names ids that are in the file" % d["id"])
        ok = False
if after != {"1", "2", "3", "4", "5"}:
    print("requests after the gap missing: have %s" % sorted(after)); ok = False
sys.exit(0 if ok else 1)
PY
say "ok"
