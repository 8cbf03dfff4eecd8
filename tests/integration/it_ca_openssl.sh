#!/usr/bin/env bash
# The CA directory: created 0700 with 0600 keys, a hierarchy OpenSSL
# accepts (intermediate -> root; cross and legacy root expired at
# 2020-05-30 10:48:38 UTC), reused on restart (same root fingerprint);
# corrupt, mismatched, missing or group-readable files stop the start
# with a message naming the file, and nothing is overwritten.
. "$(dirname "$0")/lib.sh"
need openssl curl

D=$WORK/ca
out=$(env -u NODE_EXTRA_CA_CERTS "$CP_BIN" ca --ca-dir "$D") || fail "chainproxy ca failed"
assert_contains "$out" "$D/root.pem" "ca output"
# The recipes name the public copy beside the 0700 CA directory.
assert_contains "$out" "NODE_EXTRA_CA_CERTS=$D-public/root.pem" "ca output"
cmp -s "$D/root.pem" "$D-public/root.pem" || fail "the public root.pem differs"
assert_contains "$out" "keytool -importcert" "ca output"
assert_contains "$out" "update-ca-certificates" "ca output"
assert_contains "$out" "REQUESTS_CA_BUNDLE" "ca output"
assert_eq "$(stat -c %a "$D")" 700 "CA directory mode"
for k in root.key legacy-root.key intermediate.key; do
  assert_eq "$(stat -c %a "$D/$k")" 600 "$k mode"
done
fp1=$(openssl x509 -in "$D/root.pem" -noout -fingerprint -sha256)

# The hierarchy as OpenSSL sees it.
openssl verify -CAfile "$D/root.pem" "$D/intermediate.pem" >/dev/null ||
  fail "intermediate does not verify against root.pem"
assert_eq "$(openssl x509 -in "$D/legacy-root.pem" -noout -enddate)" \
  "notAfter=May 30 10:48:38 2020 GMT" "legacy root expiry"
assert_eq "$(openssl x509 -in "$D/cross.pem" -noout -enddate)" \
  "notAfter=May 30 10:48:38 2020 GMT" "cross-sign expiry"
assert_eq "$(openssl x509 -in "$D/cross.pem" -noout -subject)" \
  "$(openssl x509 -in "$D/root.pem" -noout -subject)" "cross-sign subject"
assert_eq "$(openssl x509 -in "$D/cross.pem" -noout -pubkey)" \
  "$(openssl x509 -in "$D/root.pem" -noout -pubkey)" "cross-sign key"
assert_eq "$(openssl x509 -in "$D/cross.pem" -noout -issuer | sed 's/issuer=//')" \
  "$(openssl x509 -in "$D/legacy-root.pem" -noout -subject | sed 's/subject=//')" \
  "cross-sign issuer"
ext=$(openssl x509 -in "$D/root.pem" -noout -text)
assert_contains "$ext" "CA:TRUE" "root basicConstraints"
assert_contains "$ext" "Certificate Sign, CRL Sign" "root keyUsage"
assert_contains "$ext" "ecdsa-with-SHA256" "root signature"
ext=$(openssl x509 -in "$D/intermediate.pem" -noout -text)
assert_contains "$ext" "pathlen:0" "intermediate pathlen"
assert_contains "$ext" "Authority Key Identifier" "intermediate AKI"

# Restart reuses it.
start_proxy
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit"
assert_eq "$(openssl x509 -in "$D/root.pem" -noout -fingerprint -sha256)" \
  "$fp1" "root fingerprint after restart"

# start_fails FILE-IN-MESSAGE TEXT: the proxy refuses to start.
start_fails() {
  local port rc
  port=$(free_port)
  "$CP_BIN" --listen "127.0.0.1:$port" --ca-dir "$D" 2> "$WORK/err"; rc=$?
  assert_eq "$rc" 1 "exit status ($2)"
  assert_contains "$(cat "$WORK/err")" "$1" "message"
  assert_contains "$(cat "$WORK/err")" "$2" "message"
}

chmod 644 "$D/intermediate.key"
start_fails "$D/intermediate.key" "readable by group or others (mode 0644)"
chmod 600 "$D/intermediate.key"

cp "$D/root.key" "$WORK/root.key.bak"
echo garbage > "$D/root.key"
start_fails "$D/root.key" "not a PEM private key"
cp "$WORK/legacy-root.key" "$D/root.key" 2>/dev/null || cp "$D/legacy-root.key" "$D/root.key"
start_fails "$D/root.key" "does not match the certificate in root.pem"
cp "$WORK/root.key.bak" "$D/root.key"

cp "$D/intermediate.pem" "$WORK/inter.bak"
head -c 100 "$WORK/inter.bak" > "$D/intermediate.pem"
start_fails "$D/intermediate.pem" "not a PEM certificate"
rm "$D/intermediate.pem"
start_fails "$D/intermediate.pem" "missing while other CA files exist"
cp "$WORK/inter.bak" "$D/intermediate.pem"

start_proxy
stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit after repair"
assert_eq "$(openssl x509 -in "$D/root.pem" -noout -fingerprint -sha256)" \
  "$fp1" "root fingerprint after repair"

# Replicas started together on one empty directory make one CA: four
# `chainproxy ca` at once (each creates the CA if it finds none):
# every one prints the same root, and one of them made it.
S=$WORK/shared-ca
pids=()
for i in 1 2 3 4; do
  "$CP_BIN" ca --ca-dir "$S" > "$WORK/ca.$i" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent chainproxy ca failed"; done
fps=$(for i in 1 2 3 4; do grep -m1 'fingerprint' "$WORK/ca.$i"; done | sort -u)
assert_eq "$(wc -l <<< "$fps")" 1 "one root fingerprint among four concurrent starts"
assert_eq "$(cat "$WORK"/ca.[1-4] | grep -c 'just created')" 1 \
  "exactly one of them created the CA"
assert_eq "$(ls "$S"/*.pem | wc -l)" 4 "one set of CA files"
# A read-only directory (a mounted Secret; a read-only bind mount here,
# which binds root too) that holds the CA is loaded without its lock; an
# empty one is an error that says why.
mkdir -m 700 "$WORK/empty-ro"
if unshare -m true 2> /dev/null; then
  out=$(unshare -m sh -c 'mount --bind "$1" "$1" &&
    mount -o remount,ro,bind "$1" && mount --bind "$3" "$3" &&
    mount -o remount,ro,bind "$3" && "$2" ca --ca-dir "$1" &&
    ! "$2" ca --ca-dir "$3"' sh "$S" "$CP_BIN" "$WORK/empty-ro" 2>&1) ||
    fail "read-only CA directories: $out"
  assert_contains "$out" "$(grep -m1 fingerprint "$WORK/ca.1")" \
    "the read-only CA loaded"
  assert_contains "$out" "no CA here, and the directory cannot be written" \
    "an empty read-only directory"
elif [ "${CI:-}" = true ]; then
  fail "the read-only CA test needs a mount namespace (unshare -m)"
else
  say "no mount namespace: the read-only CA directory was not tried"
fi
say "ok"
