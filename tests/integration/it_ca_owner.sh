#!/usr/bin/env bash
# The CA's ownership, as sshd's StrictModes: the CA directory and every
# file in it belong to the user chainproxy runs as (or root) and are not
# writable by group or others. A directory or key of another user, or a
# group-writable directory or certificate, stops `chainproxy`,
# `chainproxy ca` and `chainproxy run` with a message that names the
# path, the owner and the mode and says which chown or chmod fixes it;
# running as root used to accept all of them. The normal case, a
# read-only CA directory, and the Kubernetes init container's recipe
# (an emptyDir is root's, mode 0777) still load.
. "$(dirname "$0")/lib.sh"
need openssl python3 setpriv

[ "$(id -u)" = 0 ] || skip "needs root (chown to another user)"
OTHER=nobody
OTHER_UID=$(id -u "$OTHER") || skip "no user $OTHER"

D=$WORK/ca
"$CP_BIN" ca --ca-dir "$D" > /dev/null || fail "chainproxy ca failed"
fp=$(openssl x509 -in "$D/root.pem" -noout -fingerprint -sha256 | cut -d= -f2)

# refused TEXT...: each of the three commands stops, exit 1 (run: 2), and
# stderr holds every TEXT.
refused() {
  local rc out t
  # A proxy that accepted the CA would serve until stopped.
  out=$(timeout 10 "$CP_BIN" --listen "127.0.0.1:$(free_port)" \
    --ca-dir "$D" 2>&1)
  rc=$?
  assert_eq "$rc" 1 "chainproxy exit status ($1)"
  for t in "$@"; do assert_contains "$out" "$t" "chainproxy's message"; done
  say "refused: $out"
  out=$("$CP_BIN" ca --ca-dir "$D" 2>&1) && fail "chainproxy ca accepted it ($1)"
  for t in "$@"; do assert_contains "$out" "$t" "chainproxy ca's message"; done
  out=$(timeout 10 "$CP_BIN" run --ca-dir "$D" --no-java -- true 2>&1) &&
    fail "chainproxy run accepted it ($1)"
  for t in "$@"; do assert_contains "$out" "$t" "chainproxy run's message"; done
}

# The CA directory of another user.
chown "$OTHER" "$D"
refused "$D: the CA directory is owned by $OTHER (uid $OTHER_UID), not by root (uid 0) who runs chainproxy (mode 0700)" \
  "fix it with: chown -R root $D (or run chainproxy as $OTHER)"
chown root "$D"

# A group-writable directory, and a world-writable one.
chmod 770 "$D"
refused "$D: the CA directory is writable by its group (mode 0770, owner root (uid 0))" \
  "fix it with: chmod go-w $D"
chmod 1777 "$D"
refused "$D: the CA directory is writable by others (mode 1777" "chmod go-w $D"
chmod 700 "$D"

# A key of another user (mode 0600: only its owner could read it, and it
# could replace it).
chown "$OTHER" "$D/intermediate.key"
refused "$D/intermediate.key: a CA key is owned by $OTHER (uid $OTHER_UID), not by root (uid 0) who runs chainproxy (mode 0600)" \
  "chown root $D/intermediate.key"
chown root "$D/intermediate.key"

# A certificate others may write, and one of another user.
chmod 664 "$D/root.pem"
refused "$D/root.pem: a CA certificate is writable by its group (mode 0664" \
  "chmod go-w $D/root.pem"
chmod 644 "$D/root.pem"
chown "$OTHER" "$D/cross.pem"
refused "$D/cross.pem: a CA certificate is owned by $OTHER"
chown root "$D/cross.pem"

# Repaired: the same CA loads, in all three commands.
out=$("$CP_BIN" ca --ca-dir "$D") || fail "chainproxy ca after repair: $out"
assert_contains "$out" "$fp" "the same root after repair"
start_proxy
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status after repair"
out=$("$CP_BIN" run --ca-dir "$D" --no-java -- sh -c 'echo "$HTTPS_PROXY"' 2>&1) ||
  fail "chainproxy run after repair: $out"
assert_contains "$out" "http://127.0.0.1:" "chainproxy run's command ran"

# Root's files are accepted for another user too (sshd's rule: root could
# replace them anyway), and another user's files still are not: as
# $OTHER, a root-owned 0755 directory holding $OTHER's CA loads.
U=$WORK/user-ca
mkdir -m 755 "$U"
for f in "$D"/*.pem "$D"/*.key; do
  install -o "$OTHER" -m "$(stat -c %a "$f")" "$f" "$U/"
done
chmod 755 "$WORK"
out=$(setpriv --reuid="$OTHER" --regid="$(id -g "$OTHER")" --clear-groups \
  "$CP_BIN" ca --ca-dir "$U" 2>&1) || fail "$OTHER's CA under root's directory: $out"
assert_contains "$out" "$fp" "$OTHER's CA loaded"
chown root "$U/root.key"
chmod 644 "$U/root.key" # readable, so that the owner is what is refused
out=$(setpriv --reuid="$OTHER" --regid="$(id -g "$OTHER")" --clear-groups \
  "$CP_BIN" ca --ca-dir "$U" 2>&1) && fail "a key root can read was accepted"
assert_contains "$out" "readable by group or others (mode 0644)" "as $OTHER"

# The Kubernetes recipe (deploy/k8s/deployment.yaml): the init container,
# as the pod's user, copies the Secret into a directory of its own inside
# the emptyDir, which the kubelet makes root's with mode 0777; chainproxy
# loads it from CHAINPROXY_HOME as that user.
K8S=$CP_SRC/deploy/k8s/deployment.yaml
mapfile -t k8s < <(python3 - "$K8S" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
spec = d["spec"]["template"]["spec"]
env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
print(spec["initContainers"][0]["command"][2])
print(env["CHAINPROXY_HOME"])
PY
)
cmd=${k8s[0]}
home=${k8s[1]}
mkdir -m 755 "$WORK/k8s" "$WORK/k8s/ca-secret"
mkdir -m 777 "$WORK/k8s/var-lib-chainproxy" # emptyDir: root's, 0777
# The Secret with fsGroup: root's files, mode 0400 plus group read.
for f in "$D"/*.pem "$D"/*.key; do
  install -o root -g "$(id -g "$OTHER")" -m 0440 "$f" "$WORK/k8s/ca-secret/"
done
cmd=${cmd//\/ca-secret/$WORK\/k8s\/ca-secret}
cmd=${cmd//\/var\/lib\/chainproxy/$WORK\/k8s\/var-lib-chainproxy}
home=${home/\/var\/lib\/chainproxy/$WORK\/k8s\/var-lib-chainproxy}
setpriv --reuid="$OTHER" --regid="$(id -g "$OTHER")" --clear-groups \
  sh -c "$cmd" || fail "the init container's command failed: $cmd"
out=$(CHAINPROXY_HOME=$home setpriv --reuid="$OTHER" \
  --regid="$(id -g "$OTHER")" --clear-groups "$CP_BIN" ca 2>&1) ||
  fail "the pod's CA home did not load: $out"
assert_contains "$out" "$fp" "the pod's CA"
# The emptyDir itself, root's and 0777, would be refused.
out=$(CHAINPROXY_HOME=$WORK/k8s/var-lib-chainproxy "$CP_BIN" ca 2>&1) &&
  fail "a world-writable emptyDir was accepted as the CA home"
assert_contains "$out" "is writable by others (mode 0777" "the bare emptyDir"
say "ok"
