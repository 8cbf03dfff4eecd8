#!/bin/bash
# The trust recipes `chainproxy ca --bundle FILE` prints, run as printed
# (only the URL and the app put in): curl both ways, Python, Node, npm
# (its cafile, with a registry document served locally), git (a dumb
# HTTP repository), Java (keytool, then HttpsURLConnection), apt (a flat
# repository) and the Debian store, each through the proxy to a local TLS
# origin whose CA the proxy trusts upstream. The bundle keeps the
# system's roots.
. "$(dirname "$0")/lib.sh"
need curl python3 node git openssl java javac keytool

make_origin_pki
SITE=$WORK/site
mkdir -p "$SITE"
echo "hello through a recipe" > "$SITE/hello"
# An npm registry document for a package called "recipe-pkg".
printf '{"name":"recipe-pkg","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":"recipe-pkg","version":"1.0.0","description":"served locally"}}}\n' \
  > "$SITE/recipe-pkg"
# A bare git repository served over dumb HTTP.
git init -q "$WORK/src" && git -C "$WORK/src" -c user.name=t -c user.email=t@t \
  commit -q --allow-empty -m one && git clone -q --bare "$WORK/src" "$SITE/repo.git" &&
  git -C "$SITE/repo.git" update-server-info || fail "git repository"
python3 - "$SITE" "$ORIGIN_CERT" "$ORIGIN_KEY" > "$WORK/site.port" <<'PY' &
import functools, http.server, ssl, sys
root, cert, key = sys.argv[1:4]
handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                            directory=root)
handler.log_message = lambda *a: None
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
CP_PIDS+=($!)
PORT=$(wait_file "$WORK/site.port")
URL=https://localhost:$PORT

start_proxy --upstream-ca "$ORIGIN_CA"
out=$("$CP_BIN" ca --ca-dir "$PROXY_CA" --bundle "$WORK/bundle.pem") ||
  fail "chainproxy ca --bundle"
n=$(grep -c "BEGIN CERTIFICATE" "$WORK/bundle.pem")
[ "$n" -gt 10 ] || fail "the bundle holds $n certificates, not the system's roots"
tail -n 20 "$WORK/bundle.pem" | grep -q "END CERTIFICATE" || fail "bundle end"
export HTTPS_PROXY=$PROXY_URL https_proxy=$PROXY_URL

# recipe LABEL [N]: the Nth line printed for LABEL (the command part).
recipe() {
  printf '%s\n' "$out" | grep "^  $1: " | sed -n "${2:-1}p" |
    sed "s/^  $1: *//; s|https://example.test/|$URL/|"
}
run() { # LABEL COMMAND: runs it, checks it printed what it fetched
  say "$1: $2" >&2
  got=$(bash -c "$2" 2> "$WORK/recipe.err") ||
    fail "$1 recipe failed: $(cat "$WORK/recipe.err")"
  printf '%s' "$got"
}

got=$(run curl "$(recipe curl 1)hello")
assert_eq "$got" "hello through a recipe" "curl --cacert"
got=$(run curl "$(recipe curl 2)hello")
assert_eq "$got" "hello through a recipe" "CURL_CA_BUNDLE"

cat > "$WORK/app.py" <<PY
import urllib.request
print(urllib.request.urlopen("$URL/hello", timeout=10).read().decode(), end="")
PY
got=$(run Python "$(recipe Python | sed "s|python3 app.py|python3 $WORK/app.py|")")
assert_eq "$got" "hello through a recipe" "Python with SSL_CERT_FILE"

cat > "$WORK/app.js" <<JS
// No ca option: the trust comes from NODE_EXTRA_CA_CERTS alone.
const http = require('http'), https = require('https');
const proxy = new URL(process.env.HTTPS_PROXY);
http.request({host: proxy.hostname, port: proxy.port, method: 'CONNECT',
              path: 'localhost:$PORT'}).on('connect', (res, socket) => {
  https.get({host: 'localhost', port: $PORT, path: '/hello', socket,
             agent: false}, (r) => r.pipe(process.stdout))
    .on('error', (e) => { console.error(e.message); process.exit(1); });
}).end();
JS
got=$(run Node "$(recipe Node | sed "s|node app.js|node $WORK/app.js|")")
assert_eq "$got" "hello through a recipe" "Node with NODE_EXTRA_CA_CERTS"

# npm is not in the test packages: Debian's npm package conflicts with
# the Node builds many machines carry (nodesource's includes npm). Run
# when present.
if command -v npm > /dev/null 2>&1; then
  export NPM_CONFIG_USERCONFIG=$WORK/npmrc NPM_CONFIG_CACHE=$WORK/npm-cache
  # No update check: it would look up registry.npmjs.org.
  export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_AUDIT=false
  run npm "$(recipe npm)" > /dev/null
  got=$(run npm "npm view recipe-pkg description --registry $URL/ --fetch-retries 0")
  assert_eq "$got" "served locally" "npm with the bundle as cafile"
else
  say "npm is not installed: its recipe was not run"
fi

got=$(run git "$(recipe git | sed "s|$URL/repo.git|$URL/repo.git|")")
assert_contains "$got" "refs/heads/" "git ls-remote with GIT_SSL_CAINFO"

# Java: the keytool line makes the store in the current directory, the
# java line runs the app with it (the proxy from the usual properties).
mkdir -p "$WORK/java"
javac -d "$WORK/java" "$CP_IT/clients/HsClient.java" || fail "javac"
( cd "$WORK/java" && run Java "$(recipe Java 1)" > /dev/null ) || exit 1
java_app="-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=$PROXY_PORT"
java_app+=" -Dhttp.nonProxyHosts= -cp $WORK/java HsClient $URL/hello"
java_line=$(printf '%s\n' "$out" | grep -A1 "^  Java: " | tail -n 1 |
  sed "s/^ *//; s|\.\.\.|$java_app|")
got=$(cd "$WORK/java" && run Java "$java_line")
assert_eq "$got" "ok 200" "Java with the keytool store"
got=$(cd "$WORK/java" && java $java_app 2>&1)
assert_contains "$got" "unable to find valid certification path" \
  "Java without the store fails as users see it"

# The apt and Debian store recipes change the machine's trust: it runs in a
# private mount namespace over throwaway copies of the store's two
# directories, and curl then trusts chainproxy with no --cacert.
if [ "$(id -u)" = 0 ] && command -v update-ca-certificates > /dev/null &&
   unshare -m true 2> /dev/null; then
  debian=$(recipe Debian)
  say "Debian: $debian"
  got=$(unshare -m bash -c '
    set -e
    mount -t tmpfs tmpfs /usr/local/share/ca-certificates
    mount -t tmpfs tmpfs /etc/ssl/certs
    update-ca-certificates --fresh > /dev/null 2>&1
    '"$debian"' > /dev/null 2>&1
    curl -sS '"$URL"'/hello' 2> "$WORK/debian.err") ||
    fail "Debian store recipe: $(cat "$WORK/debian.err")"
  assert_eq "$got" "hello through a recipe" "curl trusting the Debian store"
  apt_update() { # [the recipe's line]: apt-get update of the local repository
    unshare -m bash -c '
      set -e
      mount -t tmpfs tmpfs /etc/apt/apt.conf.d
      { '"${1:-true}"'; } > /dev/null
      apt-get update --error-on=any -o Dir::Etc::SourceList='"$WORK"'/apt.list \
        -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists='"$WORK"'/apt-lists \
        -o Dir::Cache='"$WORK"'/apt-cache -o APT::Sandbox::User=root \
        -o Acquire::https::Proxy='"$PROXY_URL"' -o Acquire::Retries=0 2>&1'
  }
  mkdir -p "$SITE/apt" "$WORK/apt-lists/partial" "$WORK/apt-cache"
  printf 'Package: recipe-pkg\nVersion: 1.0\nArchitecture: all\nFilename: x.deb\nSize: 1\nDescription: served locally\n\n' \
    > "$SITE/apt/Packages"
  { printf 'Origin: chainproxy-test\nLabel: chainproxy-test\nSuite: test\n'
    printf 'Codename: test\nDate: %s\nArchitectures: all\nSHA256:\n' \
      "$(LC_ALL=C date -u -R -d yesterday)"
    printf ' %s %s Packages\n' "$(sha256sum < "$SITE/apt/Packages" | cut -d' ' -f1)" \
      "$(stat -c %s "$SITE/apt/Packages")"; } > "$SITE/apt/Release"
  echo "deb [trusted=yes] $URL/apt ./" > "$WORK/apt.list"
  got=$(apt_update) && fail "apt trusted chainproxy without the recipe: $got"
  assert_contains "$got" "certificate" "apt without the recipe"
  apt_recipe=$(recipe apt)
  say "apt: $apt_recipe"
  got=$(apt_update "$apt_recipe") || fail "apt with the recipe: $got"
  ls "$WORK"/apt-lists/*Packages > /dev/null 2>&1 ||
    fail "apt fetched no Packages file: $got"
elif [ "${CI:-}" = true ]; then
  fail "the Debian store and apt recipes need root and a mount namespace in CI"
else
  say "no root or no mount namespace: the Debian store and apt recipes were not run"
fi

stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok"
