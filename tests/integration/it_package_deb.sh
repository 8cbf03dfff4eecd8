#!/bin/bash
# Installing chainproxy like a real tool: `cmake --install` into a prefix
# (the binary finds its data beside it, wherever the prefix is, even
# moved), and the Debian package from `cpack -G DEB`: its files, its
# Depends computed from the shared libraries, its unit accepted by
# `systemd-analyze verify`. On a machine where installing is allowed (CI,
# or CP_TEST_INSTALL=1) the package is installed with dpkg -i, its user
# and state directory checked, the installed binary run as that user, and
# the package purged again.
. "$(dirname "$0")/lib.sh"
need cmake cpack dpkg-deb dpkg-shlibdeps systemd-analyze curl

B=$WORK/build
say "building a Release tree with the service files (about a minute)"
cmake -S "$CP_SRC" -B "$B" -DCMAKE_BUILD_TYPE=Release -DCP_INSTALL_SERVICE=ON \
  -DCP_DATA_DIR=/usr/share/chainproxy \
  > "$WORK/cmake.log" 2>&1 || fail "cmake: $(tail -5 "$WORK/cmake.log")"
cmake --build "$B" -j"$(nproc)" --target chainproxy > "$WORK/build.log" 2>&1 ||
  fail "build: $(tail -5 "$WORK/build.log")"

# 1. cmake --install into a prefix, then the prefix moved elsewhere.
cmake --install "$B" --prefix "$WORK/prefix" > "$WORK/install.log" 2>&1 ||
  fail "cmake --install: $(tail -5 "$WORK/install.log")"
for f in bin/chainproxy share/man/man1/chainproxy.1 \
  share/chainproxy/profiles.json share/chainproxy/distrust.json \
  share/chainproxy/clients.json share/doc/chainproxy/README.md \
  share/doc/chainproxy/install.md; do
  [ -e "$WORK/prefix/$f" ] || fail "cmake --install did not install $f"
done
mv "$WORK/prefix" "$WORK/moved"
out=$("$WORK/moved/bin/chainproxy" --version)
assert_contains "$out" "data: $WORK/moved/share/chainproxy (next to the binary)" \
  "--version names the data beside the moved binary"
# The moved binary serves a profile from its own data.
start_origin --tls
OP_TLS=$ORIGIN_PORT
P=$(free_port)
"$WORK/moved/bin/chainproxy" --listen "127.0.0.1:$P" --ca-dir "$WORK/ca" \
  --upstream-ca "$ORIGIN_CA" --chain expired 2> "$WORK/moved.log" &
CP_PIDS+=($!)
wait_port "$P"
out=$(curl -sS --max-time 20 --cacert "$WORK/ca/root.pem" \
  -x "http://127.0.0.1:$P" "https://localhost:$ORIGIN_PORT/hello" 2>&1)
assert_contains "$out" "certificate has expired" \
  "the expired profile, loaded from the moved prefix"

# 2. The Debian package.
(cd "$B" && cpack -G DEB > "$WORK/cpack.log" 2>&1) ||
  fail "cpack: $(tail -5 "$WORK/cpack.log")"
DEB=$(ls "$B"/chainproxy_*.deb 2> /dev/null | head -1)
[ -n "$DEB" ] || fail "cpack made no .deb"
dpkg-deb -c "$DEB" > "$WORK/contents"
for f in ./usr/bin/chainproxy ./usr/share/man/man1/chainproxy.1 \
  ./usr/share/chainproxy/profiles.json ./usr/lib/systemd/system/chainproxy.service \
  ./etc/default/chainproxy ./usr/share/doc/chainproxy/README.md; do
  grep -q " $f\$" "$WORK/contents" || fail "the package lacks $f"
done
deps=$(dpkg-deb -f "$DEB" Depends)
for d in libssl3 libuv1 libjansson4 libnghttp2-14 libhttp-parser2.9 adduser; do
  assert_contains "$deps" "$d" "Depends"
done
dpkg-deb -e "$DEB" "$WORK/control"
for f in postinst prerm postrm conffiles; do
  [ -e "$WORK/control/$f" ] || fail "the package lacks its $f"
done
assert_contains "$(cat "$WORK/control/conffiles")" /etc/default/chainproxy \
  "conffiles"
mkdir -p "$WORK/root"
dpkg-deb -x "$DEB" "$WORK/root"
# The unit as shipped, checked against the extracted binary and man page
# (verify runs `man` for Documentation= and checks ExecStart exists).
mkdir -p "$WORK/unit"
sed "s#ExecStart=/usr/bin/chainproxy#ExecStart=$WORK/root/usr/bin/chainproxy#" \
  "$WORK/root/usr/lib/systemd/system/chainproxy.service" \
  > "$WORK/unit/chainproxy.service"
out=$(MANPATH="$WORK/root/usr/share/man" systemd-analyze verify \
  "$WORK/unit/chainproxy.service" 2>&1) || fail "systemd-analyze verify: $out"
unit=$(cat "$WORK/root/usr/lib/systemd/system/chainproxy.service")
for k in "User=chainproxy" "StateDirectory=chainproxy" \
  "StateDirectoryMode=0700" "ExecReload=/bin/kill -HUP \$MAINPID" \
  "NoNewPrivileges=yes" "ProtectSystem=strict" "PrivateTmp=yes" \
  "EnvironmentFile=-/etc/default/chainproxy"; do
  assert_contains "$unit" "$k" "the unit"
done
say "package: $(basename "$DEB"), Depends: $deps"

# 3. The container image without a container engine (none here, and no
#    registry to pull a base image from): its runtime tree assembled from
#    this package by docker/rootfs.sh, and the image's own ENTRYPOINT and
#    CMD (read from the Dockerfile, ports made free) run in it by chroot
#    as the unprivileged user.
if [ "$(id -u)" = 0 ] && command -v chroot > /dev/null; then
  RF=$WORK/rootfs
  bash "$CP_SRC/docker/rootfs.sh" "$DEB" "$RF" > "$WORK/rootfs.log" 2>&1 ||
    fail "rootfs.sh: $(tail -5 "$WORK/rootfs.log")"
  IP=$(free_port)
  IC=$(free_port)
  mapfile -t cmd < <(python3 - "$CP_SRC/docker/Dockerfile" "$IP" "$IC" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
entry = json.loads(re.search(r'^ENTRYPOINT (\[.*\])$', text, re.M).group(1))
cmd = json.loads(re.search(r'^CMD (\[.*\])$', text, re.M).group(1))
for a in entry + cmd:
    print(a.replace(":8080", ":" + sys.argv[2]).replace(":8081", ":" + sys.argv[3]))
PY
)
  [ "${cmd[0]}" = chainproxy ] || fail "the image's ENTRYPOINT is not chainproxy"
  # (The tree has no shell and no env: the variable is set outside.)
  # Off loopback the control API needs a token (as compose passes it).
  CHAINPROXY_CONTROL_TOKEN=image-test-token-1 \
    CHAINPROXY_HOME=/var/lib/chainproxy chroot --userspec=10001:10001 "$RF" \
    /usr/bin/"${cmd[@]}" > "$WORK/image.events" 2> "$WORK/image.log" &
  IMG=$!
  CP_PIDS+=($IMG)
  PROXY_LOG=$WORK/image.log
  wait_port "$IP"
  wait_port "$IC"
  curl -sf -H "Authorization: Bearer image-test-token-1" \
    "http://127.0.0.1:$IC/ca.pem" -o "$WORK/image-root.pem" ||
    fail "the image's control API did not serve /ca.pem"
  start_origin
  out=$(curl -sS --max-time 20 -x "http://127.0.0.1:$IP" \
    "http://localhost:$ORIGIN_PORT/hello") || fail "plain HTTP in the image"
  assert_eq "$out" "hello from origin" "plain HTTP through the image"
  # The image trusts the system store only: a private origin is refused
  # with the diagnosis, over the TLS the image intercepted.
  out=$(curl -sS --max-time 20 --cacert "$WORK/image-root.pem" \
    -x "http://127.0.0.1:$IP" "https://localhost:$OP_TLS/hello" 2>&1)
  assert_contains "$out" "upstream certificate verification failed" \
    "the image's verdict on a private origin"
  assert_eq "$(stat -c '%u %a' "$RF/var/lib/chainproxy/root.key")" "10001 600" \
    "the image's CA key"
  grep -q '"event":"upstream_verify"' "$WORK/image.events" ||
    fail "the image wrote no events on stdout"
  kill -TERM "$IMG"
  wait "$IMG" || fail "the image's chainproxy exit status"
  say "image runtime tree: $(tail -1 "$WORK/rootfs.log")"
else
  say "not root: the image's runtime tree was not run under chroot"
fi

# 4. Installed for real, where that is allowed, then purged.
if [ "${CI:-}" != true ] && [ "${CP_TEST_INSTALL:-0}" != 1 ]; then
  say "not installing the package here (set CP_TEST_INSTALL=1)"
  say "ok"
  exit 0
fi
if dpkg -s chainproxy > /dev/null 2>&1; then
  say "chainproxy is installed on this machine already: not touching it"
  say "ok"
  exit 0
fi
purge() { dpkg --purge chainproxy > /dev/null 2>&1; }
trap 'purge; cleanup' EXIT
dpkg -i "$DEB" > "$WORK/dpkg.log" 2>&1 || fail "dpkg -i: $(tail -5 "$WORK/dpkg.log")"
getent passwd chainproxy > /dev/null || fail "no chainproxy user after install"
out=$(systemd-analyze verify /usr/lib/systemd/system/chainproxy.service 2>&1) ||
  fail "systemd-analyze verify (installed): $out"
assert_eq "$(stat -c '%U %a' /var/lib/chainproxy)" "chainproxy 700" \
  "/var/lib/chainproxy"
assert_contains "$(/usr/bin/chainproxy --version)" \
  "data: /usr/share/chainproxy (next to the binary)" "installed --version"
# The service user reads the test origin's CA from a copy it may read.
install -m 0644 "$ORIGIN_CA" /var/lib/chainproxy/test-origin-ca.pem
P=$(free_port)
runuser -u chainproxy -- env CHAINPROXY_HOME=/var/lib/chainproxy \
  /usr/bin/chainproxy --listen "127.0.0.1:$P" \
  --upstream-ca /var/lib/chainproxy/test-origin-ca.pem \
  2> "$WORK/installed.log" &
IPID=$!
CP_PIDS+=($IPID)
PROXY_LOG=$WORK/installed.log
wait_port "$P"
out=$(curl -sS --max-time 20 --cacert /var/lib/chainproxy/root.pem \
  -x "http://127.0.0.1:$P" "https://localhost:$OP_TLS/hello") ||
  fail "through the installed chainproxy: $out"
assert_eq "$out" "hello from origin" "body through the installed binary"
assert_eq "$(stat -c '%U %a' /var/lib/chainproxy/root.key)" "chainproxy 600" \
  "the CA key the service user made"
kill "$IPID"
wait "$IPID" 2> /dev/null
purge || fail "dpkg --purge"
getent passwd chainproxy > /dev/null && fail "the user survived the purge"
[ -e /var/lib/chainproxy ] && fail "/var/lib/chainproxy survived the purge"
[ -e /usr/bin/chainproxy ] && fail "/usr/bin/chainproxy survived the purge"
say "ok"
