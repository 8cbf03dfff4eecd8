#!/bin/bash
# The trust recipes `chainproxy ca --bundle FILE --proxy URL` prints, run
# as printed (only the URL and the app put in), each as the consumer runs
# it: curl both ways, Python, Node (the preload that tunnels Node 20's
# https module through HTTPS_PROXY, NODE_USE_ENV_PROXY where Node has it,
# and an existing NODE_EXTRA_CA_CERTS kept), Go's loopback rule (no
# proxy for localhost), npm (its cafile, with a
# registry document served locally), git (a dumb HTTP repository), Java
# (keytool, then HttpsURLConnection), Chromium (its NSS database, headless,
# loopback not bypassed), apt (a flat repository, fetched by apt's own
# sandbox user _apt) and the Debian store, each through the proxy to a
# local TLS origin whose CA the proxy trusts upstream. The bundle keeps
# the system's roots; the public copies are 0644 in a 0755 directory
# beside the 0700 CA directory.
. "$(dirname "$0")/lib.sh"
need curl python3 node git openssl java javac keytool

make_origin_pki
SITE=$WORK/site
mkdir -p "$SITE"
echo "hello through a recipe" > "$SITE/hello"
# A browser renders text/plain; a file without a suffix would be a download.
cp "$SITE/hello" "$SITE/hello.txt"
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
# The bundle where the issue's user put it: inside the 0700 CA directory.
unset NODE_EXTRA_CA_CERTS
out=$("$CP_BIN" ca --ca-dir "$PROXY_CA" --bundle "$PROXY_CA/bundle.pem" \
  --proxy "$PROXY_URL") || fail "chainproxy ca --bundle"
n=$(grep -c "BEGIN CERTIFICATE" "$PROXY_CA/bundle.pem")
[ "$n" -gt 10 ] || fail "the bundle holds $n certificates, not the system's roots"
tail -n 20 "$PROXY_CA/bundle.pem" | grep -q "END CERTIFICATE" || fail "bundle end"
assert_contains "$out" "HTTPS_PROXY=$PROXY_URL)" "the proxy in use, named"
PUB=$PROXY_CA-public
assert_eq "$(stat -c %a "$PROXY_CA")" 700 "the CA directory's mode"
assert_eq "$(stat -c %a "$PUB") $(stat -c %a "$PUB/root.pem") $(stat -c %a "$PUB/legacy-root.pem") $(stat -c %a "$PROXY_CA/bundle.pem")" \
  "755 644 644 644" "the public directory's and files' modes"
cmp -s "$PUB/root.pem" "$ROOT" || fail "the public root.pem is not the root"
assert_contains "$out" "curl --cacert $PUB/root.pem" "recipes name the public copy"
export HTTPS_PROXY=$PROXY_URL https_proxy=$PROXY_URL

# recipe LABEL [N]: the Nth line printed for LABEL (the command part).
recipe() {
  printf '%s\n' "${3:-$out}" | grep "^  $1: " | sed -n "${2:-1}p" |
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

# Node: an app that uses https.get as apps do, no proxy code of its own.
cat > "$WORK/app.js" <<JS
const https = require('https');
https.get('$URL/hello', (r) => r.pipe(process.stdout))
  .on('error', (e) => { console.error(e.code || e.message); process.exit(1); });
JS
# Node 20 ignores HTTPS_PROXY: without the preload it goes direct, and
# the origin's own CA is not trusted.
got=$(NODE_EXTRA_CA_CERTS=$ROOT node "$WORK/app.js" 2>&1) &&
  fail "Node went through the proxy without the preload: $got"
say "Node without the preload: $got"
before=$(count_events '.event == "client_handshake" and .accepted == true')
got=$(run "Node 20" "$(recipe "Node 20" | sed "s| app.js$| $WORK/app.js|")")
assert_eq "$got" "hello through a recipe" "Node 20 with the preload and NODE_EXTRA_CA_CERTS"
after=$(count_events '.event == "client_handshake" and .accepted == true')
[ "$after" -gt "$before" ] || fail "Node's request did not go through chainproxy"
if node --help 2> /dev/null | grep -q -- --use-env-proxy; then
  got=$(run Node "$(recipe Node | sed "s| app.js$| $WORK/app.js|")")
  assert_eq "$got" "hello through a recipe" "Node with NODE_USE_ENV_PROXY"
else
  say "node $(node --version) has no --use-env-proxy: the NODE_USE_ENV_PROXY recipe was not run"
fi
# An existing NODE_EXTRA_CA_CERTS (a corporate bundle: here the origin's
# CA) is added to, not replaced: the app reaches the origin directly with
# its own agent and through chainproxy with the default one.
node_out=$(NODE_EXTRA_CA_CERTS=$ORIGIN_CA "$CP_BIN" ca --ca-dir "$PROXY_CA" \
  --proxy "$PROXY_URL") || fail "chainproxy ca with NODE_EXTRA_CA_CERTS set"
node_line=$(recipe "Node 20" 1 "$node_out" | sed "s| app.js$| $WORK/both.js|")
assert_contains "$node_line" "cat '$ORIGIN_CA' $PUB/root.pem >" "the combined file"
cat > "$WORK/both.js" <<JS
const https = require('https');
const get = (agent) => new Promise((ok, ko) => https.get('$URL/hello', {agent},
  (r) => { let b = ''; r.on('data', (d) => b += d); r.on('end', () => ok(b)); })
  .on('error', ko));
(async () => {
  const direct = await get(new https.Agent());
  const proxied = await get(undefined);
  console.log(direct === proxied ? 'both ok' : 'differ');
})().catch((e) => { console.error(e.code || e.message); process.exit(1); });
JS
got=$(NODE_EXTRA_CA_CERTS=$ORIGIN_CA run "Node 20, corporate bundle kept" "$node_line")
assert_eq "$got" "both ok" "Node with the corporate bundle and chainproxy's root"

# Go: the printed line with an app that uses http.Get as apps do. Go's
# ProxyFromEnvironment never proxies localhost: the request goes direct
# (no connection through chainproxy) and fails on the origin's own CA,
# as the recipe's note says.
if command -v go > /dev/null 2>&1; then
  mkdir -p "$WORK/goapp"
  cat > "$WORK/goapp/main.go" <<GO
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	r, err := http.Get("$URL/hello")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	b, _ := io.ReadAll(r.Body)
	fmt.Print(string(b))
}
GO
  ( cd "$WORK/goapp" && GOCACHE=$WORK/gocache GOPATH=$WORK/gopath GO111MODULE=off \
      go build -o app main.go ) || fail "go build"
  go_line=$(recipe Go | sed "s|go run .|$WORK/goapp/app|")
  assert_contains "$(printf '%s\n' "$out" | grep -A1 '^  Go: ')" "never proxies localhost" "Go's loopback rule"
  nconn=$(count_events '.event == "connect" and .host == "localhost"')
  got=$(bash -c "$go_line" 2>&1) && fail "Go reached localhost through the proxy: $got"
  assert_contains "$got" "certificate signed by unknown authority" "Go going direct to localhost"
  assert_eq "$(count_events '.event == "connect" and .host == "localhost"')" "$nconn" \
    "Go bypasses the proxy for localhost"
  say "Go to localhost with HTTPS_PROXY set: $got"
else
  [ "${CI:-}" = true ] && fail "go is not installed"
  say "go is not installed: Go's loopback rule was not checked"
fi

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
java_props="-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=$PROXY_PORT"
java_props+=" -Dhttp.nonProxyHosts="
java_app="$java_props -cp $WORK/java HsClient $URL/hello"
java_line=$(printf '%s\n' "$out" | grep -A1 "^  Java: " | tail -n 1 |
  sed "s/^ *//; s|\.\.\.|-cp $WORK/java HsClient $URL/hello|")
# The printed line names the proxy itself: Java reads no HTTPS_PROXY.
assert_contains "$java_line" "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=$PROXY_PORT" \
  "the Java recipe's proxy properties"
got=$(cd "$WORK/java" && run Java "$java_line")
assert_eq "$got" "ok 200" "Java with the keytool store"
got=$(cd "$WORK/java" && java $java_app 2>&1)
assert_contains "$got" "unable to find valid certification path" \
  "Java without the store fails as users see it"

# Chromium: the root in its own NSS database (in a throwaway HOME), then
# headless with the printed flags, fetching the intercepted origin on
# localhost; the proxy's event shows Chromium accepted chainproxy's chain.
if command -v chromium > /dev/null 2>&1 && command -v certutil > /dev/null 2>&1; then
  chrome() { # LINE: the printed chromium line, headless, dumping the page
    HOME=$WORK/home timeout 60 bash -c "$(sed "s|^chromium |chromium --headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage --user-data-dir=$WORK/chrome-\$RANDOM --dump-dom |" <<< "$1")" 2> "$WORK/chrome.err"
  }
  mkdir -p "$WORK/home"
  line2=$(recipe Chromium 2 | sed "s|$URL/$|$URL/hello.txt|")
  assert_contains "$line2" "--proxy-server=$PROXY_URL --proxy-bypass-list='<-loopback>'" "Chromium's flags"
  got=$(chrome "$line2")
  case $got in *"hello through a recipe"*) fail "Chromium trusted chainproxy before the NSS step: $got" ;; esac
  expect_event '.event == "client_handshake" and .accepted == false' "Chromium refusing the chain before the NSS step"
  HOME=$WORK/home run Chromium "$(recipe Chromium 1)" > /dev/null
  certutil -d "sql:$WORK/home/.pki/nssdb" -L | grep -q chainproxy || fail "chainproxy is not in the NSS database"
  nacc=$(count_events '.event == "client_handshake" and .accepted == true')
  got=$(chrome "$line2")
  assert_contains "$got" "hello through a recipe" "Chromium with the NSS database through the proxy"
  [ "$(count_events '.event == "client_handshake" and .accepted == true')" -gt "$nacc" ] ||
    fail "no accepted handshake from Chromium in the events"
  expect_event '.event == "request" and .host == "localhost" and .port == '"$PORT"' and .path == "/hello.txt"' \
    "Chromium's request in the events"
  # Without <-loopback> Chromium goes to localhost directly: no event.
  nconn=$(count_events '.event == "connect" and .host == "localhost"')
  got=$(chrome "$(sed "s| --proxy-bypass-list='<-loopback>'||" <<< "$line2")")
  assert_eq "$(count_events '.event == "connect" and .host == "localhost"')" "$nconn" "Chromium without <-loopback> bypasses the proxy"
else
  [ "${CI:-}" = true ] && fail "chromium and certutil (libnss3-tools) are not installed"
  say "chromium or certutil is not installed: the browser recipe was not run"
fi

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
  # apt as apt runs: its https method drops to the _apt user (no
  # APT::Sandbox::User=root), so the lists directory must be one _apt can
  # write (apt would otherwise fall back to root with a warning, checked
  # below) and the CA file one _apt can read. /etc/apt is a throwaway
  # tmpfs: the recipe writes there.
  id _apt > /dev/null 2>&1 || fail "no _apt user"
  chmod 0755 "$WORK"
  apt_update() { # [the recipe's line]: apt-get update of the local repository
    unshare -m bash -c '
      set -e
      mount -t tmpfs -o mode=0755 tmpfs /etc/apt
      mkdir -p /etc/apt/apt.conf.d /etc/apt/preferences.d /etc/apt/trusted.gpg.d
      { '"${1:-true}"'; } > /dev/null
      apt-get update --error-on=any -o Dir::Etc::SourceList='"$WORK"'/apt.list \
        -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists='"$WORK"'/apt-lists \
        -o Dir::Cache='"$WORK"'/apt-cache -o Acquire::Retries=0 2>&1'
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
  got=$(apt_update) && fail "apt trusted the origin without the recipe: $got"
  assert_contains "$got" "certificate" "apt without the recipe"
  # The recipe chainproxy printed before: CAInfo naming the bundle in the
  # 0700 CA directory. _apt cannot read it.
  old_recipe="echo 'Acquire::https::CAInfo \"$PROXY_CA/bundle.pem\";' > /etc/apt/apt.conf.d/99chainproxy"
  old_recipe+=" && echo 'Acquire::https::Proxy \"$PROXY_URL\";' >> /etc/apt/apt.conf.d/99chainproxy"
  got=$(apt_update "$old_recipe") && fail "apt as _apt read a file in the 0700 CA directory: $got"
  assert_contains "$got" "Could not load certificates" "apt as _apt with a CA file it cannot read"
  say "apt with the old recipe: $(grep -m1 'Could not load' <<< "$got")"
  apt_recipe=$(recipe apt)
  say "apt: $apt_recipe"
  assert_contains "$apt_recipe" "Acquire::https::Proxy \"$PROXY_URL\"" "apt's recipe names the proxy in use"
  nreq=$(count_events '.event == "request" and (.path // "" | startswith("/apt/")) and .status == 200')
  got=$(apt_update "$apt_recipe") || fail "apt with the recipe: $got"
  case $got in *unsandboxed*) fail "apt ran its download as root: $got" ;; esac
  ls "$WORK"/apt-lists/*Packages > /dev/null 2>&1 ||
    fail "apt fetched no Packages file: $got"
  [ "$(count_events '.event == "request" and (.path // "" | startswith("/apt/")) and .status == 200')" -gt "$nreq" ] ||
    fail "apt's fetch did not go through chainproxy"
  expect_event '.event == "client_handshake" and .accepted == true and .port == '"$PORT" \
    "apt accepted chainproxy's chain"
elif [ "${CI:-}" = true ]; then
  fail "the Debian store and apt recipes need root and a mount namespace in CI"
else
  say "no root or no mount namespace: the Debian store and apt recipes were not run"
fi

stop_proxy
assert_eq "$PROXY_EXIT" 0 "proxy exit status"
say "ok"
