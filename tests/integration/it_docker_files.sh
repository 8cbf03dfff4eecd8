#!/bin/bash
# No Docker engine here, so the image files are checked for what can go
# wrong without one: every path they copy exists, they install from the
# same package lists as the README's commands, the runtime list covers
# every shared library the binary needs, the image's command line parses,
# and the compose file points at the Dockerfile, the ports and the volume.
. "$(dirname "$0")/lib.sh"
need python3

D=$CP_SRC/docker
DF=$D/Dockerfile
CF=$D/compose.yaml
[ -f "$DF" ] || fail "docker/Dockerfile is missing"
[ -f "$CF" ] || fail "docker/compose.yaml is missing"

# 1. COPY sources exist (relative to the build context, the repo root).
while read -r src; do
  [ -e "$CP_SRC/$src" ] || fail "Dockerfile copies $src, which does not exist"
done < <(awk '/^COPY / && !/--from=/ { for (i = 2; i < NF; i++) print $i }' "$DF")

# 2. One source of truth for packages: the Dockerfile installs the lists
#    the README's commands install.
grep -q 'COPY docker/packages-build.txt' "$DF" || fail "build stage does not use packages-build.txt"
grep -q 'COPY docker/packages-runtime.txt' "$DF" || fail "runtime stage does not use packages-runtime.txt"
[ "$(grep -c 'apt-get install -y --no-install-recommends \$(cat /tmp/packages-' "$DF")" = 2 ] ||
  fail "the Dockerfile installs packages not from the lists"
readme_run=$(sed -n '/<!-- run-command -->/,/^```$/p' "$CP_SRC/README.md")
readme_test=$(sed -n '/<!-- test-command -->/,/^```$/p' "$CP_SRC/README.md")
assert_contains "$readme_run" 'cat docker/packages-build.txt' "README run command list"
assert_contains "$readme_test" 'cat docker/packages-build.txt docker/packages-test.txt' "README test command lists"
for f in packages-build.txt packages-runtime.txt packages-test.txt; do
  grep -vqE '^[a-z0-9][a-z0-9.+-]*$' "$D/$f" && fail "$f has a line that is not a package name"
  [ -s "$D/$f" ] || fail "$f is empty"
done

# 3. The runtime list covers the binary's shared libraries.
if command -v ldd >/dev/null && command -v dpkg >/dev/null; then
  # A sanitizer build also links the sanitizer runtimes (and what they
  # need), which the release image never has.
  for lib in $(ldd "$CP_BIN" | awk '/=> \// {print $3}' |
               grep -vE '/lib(asan|ubsan|lsan|tsan|gcc_s|stdc\+\+)\.so'); do
    real=$(readlink -f "$lib")
    pkg=
    # dpkg may know the file under /lib or /usr/lib (merged /usr).
    for f in "$real" "/usr$real" "$lib" "/usr$lib"; do
      pkg=$(dpkg -S "$f" 2>/dev/null | head -1 | cut -d: -f1)
      [ -n "$pkg" ] && break
    done
    [ -n "$pkg" ] || fail "no Debian package owns $lib"
    case $pkg in
      libc6) ;;  # in every Debian image
      *) grep -qx "$pkg" "$D/packages-runtime.txt" ||
           fail "$CP_BIN needs $lib from $pkg, which packages-runtime.txt lacks" ;;
    esac
  done
fi

# 4. The image's command line is one the binary accepts (--version parses
#    every option first), and it runs as a non-root user with the CA on the
#    volume.
args=$(python3 - "$DF" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
cmd = re.search(r'^CMD (\[.*\])$', text, re.M).group(1)
print(" ".join(json.loads(cmd)))
PY
) || fail "no exec-form CMD in the Dockerfile"
"$CP_BIN" $args --version > /dev/null || fail "the image's CMD does not parse: $args"
grep -q '^USER chainproxy$' "$DF" || fail "the runtime image does not run as chainproxy"
home=$(awk -F= '/^ENV CHAINPROXY_HOME=/ {print $2}' "$DF")
grep -q "^VOLUME \[\"$home\"\]" "$DF" || fail "the CA directory $home is not a volume"
grep -q '^EXPOSE 8080 8081$' "$DF" || fail "ports 8080 and 8081 are not exposed"
# The image installs the package, whose binary (/usr/bin) reads its data
# beside it, /usr/share/chainproxy, which is also the compiled-in path.
grep -q 'CP_DATA_DIR=/usr/share/chainproxy' "$DF" ||
  fail "the image's build does not compile in /usr/share/chainproxy"
grep -q 'cpack -G DEB' "$DF" && grep -q 'dpkg -i /tmp/chainproxy.deb' "$DF" ||
  fail "the image does not install the Debian package"

# 5. Compose: builds this Dockerfile from the repo root, maps both ports,
#    keeps the CA in a volume, and the client goes through HTTPS_PROXY.
python3 - "$CF" "$CP_SRC" <<'PY' || fail "compose.yaml check failed"
import os, re, sys
text = open(sys.argv[1]).read()
root = sys.argv[2]
def need(pattern, what):
    if not re.search(pattern, text, re.M):
        sys.exit("compose.yaml: " + what)
ctx = re.search(r'context:\s*(\S+)', text).group(1)
df = re.search(r'dockerfile:\s*(\S+)', text).group(1)
base = os.path.normpath(os.path.join(os.path.dirname(sys.argv[1]), ctx))
if base != os.path.normpath(root) or not os.path.isfile(os.path.join(base, df)):
    sys.exit("compose.yaml: build context/dockerfile do not point at docker/Dockerfile")
need(r'"127\.0\.0\.1:8080:8080"', "port 8080 is not mapped to loopback")
need(r'"127\.0\.0\.1:8081:8081"', "port 8081 is not mapped to loopback")
need(r'chainproxy-ca:/var/lib/chainproxy', "the CA volume is not mounted")
need(r'HTTPS_PROXY: http://chainproxy:8080', "the client does not use HTTPS_PROXY")
need(r'http://chainproxy:8081/ca\.pem', "the client does not fetch the CA")
PY

# 6. The replicas' compose file: the same haproxy.cfg and rsyslog.conf that
#    it.replicas.haproxy runs, three replicas on one CA volume whose stdout
#    goes to the shipper's port, and a replica command the binary parses.
RF=$D/compose.replicas.yaml
args=$(python3 - "$RF" "$D" <<'PY'
import json, os, re, sys
text = open(sys.argv[1]).read()
for f in ("replicas/haproxy.cfg", "replicas/rsyslog.conf"):
    if "./" + f not in text or not os.path.isfile(os.path.join(sys.argv[2], f)):
        sys.exit("compose.replicas.yaml: does not mount " + f)
for r in ("r1", "r2", "r3"):
    if not re.search(r"^  %s:\n    <<: \*replica" % r, text, re.M):
        sys.exit("compose.replicas.yaml: %s is not a replica" % r)
port = re.search(r'port="(\d+)"', open(os.path.join(sys.argv[2], "replicas/rsyslog.conf")).read()).group(1)
if 'syslog-address: "tcp://127.0.0.1:%s"' % port not in text:
    sys.exit("compose.replicas.yaml: replicas do not log to rsyslog's port " + port)
if "chainproxy-ca:/var/lib/chainproxy" not in text:
    sys.exit("compose.replicas.yaml: the replicas do not share the CA volume")
cmd = re.search(r"command: (\[[^\]]*\])", text, re.S).group(1)
print(" ".join(json.loads(cmd)))
PY
) || fail "compose.replicas.yaml check failed"
"$CP_BIN" $args --version > /dev/null || fail "the replicas' command does not parse: $args"
say "ok"
