#!/bin/bash
# The web view in a real browser: Debian's chromium, headless, driven
# through its DevTools protocol (tests/integration/clients/ui_browser.py).
# While a modern, a legacy and a broken-upstream request run through the
# proxy, the page must show each row with its outcome; the failing
# upstream's row opens a drawing whose red element names the failing
# certificate, and each family's simulated path beside it, the failing
# element in red with its errors; a button on the page switches the legacy host back to the
# modern chain and the next connection is served it; the page makes no
# request to any other origin. Screenshots go to $CP_UI_SHOTS when set
# (docs/ui-*.png were made so).
. "$(dirname "$0")/lib.sh"
need curl chromium
PY=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import websockets' 2> /dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || need python3-websockets

make_origin_pki
start_origin --tls
OA=$ORIGIN_PORT
# An origin chainproxy cannot trust: a self-signed leaf.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$WORK/broken.key" -out "$WORK/broken.pem" -days 30 \
  -subj "/CN=Broken Origin" -addext "subjectAltName=IP:127.0.0.1" 2> /dev/null ||
  fail "openssl could not make the broken origin"
OB=$(free_port)
openssl s_server -accept "127.0.0.1:$OB" -cert "$WORK/broken.pem" \
  -key "$WORK/broken.key" -www -quiet > /dev/null 2>&1 < /dev/null &
CP_PIDS+=($!)
wait_port "$OB"

printf '[{"host": "localhost", "chain": "legacy"}]\n' > "$WORK/rules.json"
CTL_PORT=$(free_port)
start_proxy --upstream-ca "$ORIGIN_CA" --rules "$WORK/rules.json" \
  --control "127.0.0.1:$CTL_PORT"
wait_port "$CTL_PORT"

DP=$(free_port)
chromium --headless=new --no-sandbox --disable-gpu --no-first-run \
  --no-default-browser-check --disable-background-networking \
  --disable-component-update --disable-sync --disable-extensions \
  --disable-dev-shm-usage --mute-audio --user-data-dir="$WORK/chrome" \
  --remote-debugging-address=127.0.0.1 --remote-debugging-port="$DP" \
  about:blank > "$WORK/chromium.log" 2>&1 &
CP_PIDS+=($!)
wait_port "$DP"

SHOTS=${CP_UI_SHOTS:-$WORK/shots}
mkdir -p "$SHOTS"
P=$PROXY_URL
LEGACY=$PROXY_CA/legacy-root.pem
out=$("$PY" "$CP_IT/clients/ui_browser.py" "$DP" "http://127.0.0.1:$CTL_PORT/ui" "$SHOTS" -- \
  "{\"curl\": [\"-o\", \"/dev/null\", \"--cacert\", \"$ROOT\", \"-x\", \"$P\", \"https://127.0.0.1:$OA/hello\"]}" \
  "{\"curl\": [\"-o\", \"/dev/null\", \"--cacert\", \"$LEGACY\", \"-x\", \"$P\", \"https://localhost:$OA/hello\"]}" \
  "{\"curl\": [\"-o\", \"/dev/null\", \"--cacert\", \"$ROOT\", \"-x\", \"$P\", \"https://127.0.0.1:$OB/\"]}" \
  '{"wait_rows": [["127.0.0.1", "accepted", ""], ["localhost", "rejected", null], ["127.0.0.1", "accepted", "blocked"]]}' \
  '{"text": ["tr[data-host=\"localhost\"] .client", "alert certificate_expired"]}' \
  '{"text": ["#status", "live"]}' \
  '{"shot": "ui-connections"}' \
  '{"open": "tr[data-upstream=\"blocked\"]"}' \
  '{"text": ["#detail .cert.failing h4", "Broken Origin"]}' \
  '{"text": ["#detail .cert.failing .error", "self-signed certificate"]}' \
  '{"text": ["#detail .family-paths [data-family=\"openssl3\"] .pathel.failing", "Broken Origin"]}' \
  '{"text": ["#detail .family-paths [data-family=\"openssl3\"] .pathel.failing", "self_signed"]}' \
  '{"shot": "ui-failing-chain"}' \
  '{"open": "tr[data-host=\"localhost\"][data-client=\"rejected\"]"}' \
  '{"click": "#detail button:nth-of-type(2)"}' \
  '{"text": ["#detail-msg", "rule set: localhost → modern"]}' \
  "{\"curl\": [\"-o\", \"/dev/null\", \"--cacert\", \"$ROOT\", \"-x\", \"$P\", \"https://localhost:$OA/hello\"]}" \
  '{"shot": "ui-narrow", "width": 480}' 2>&1) || fail "the browser run: $out"
assert_contains "$out" "ok" "the browser steps"
# The switch made from the page: the next connection got the modern chain.
expect_event 'select(.event == "client_handshake" and .host == "localhost" and
  .profile == "modern" and .accepted == true)' \
  "the next localhost connection served the modern chain"
# Nothing but the control API was asked for.
others=$(grep '^url ' <<< "$out" | grep -v "^url http://127.0.0.1:$CTL_PORT/" || true)
[ -z "$others" ] || fail "the page asked another origin: $others"
n=$(grep -c '^url ' <<< "$out")
[ "$n" -ge 3 ] || fail "the page made only $n requests"
for s in ui-connections ui-failing-chain ui-narrow; do
  [ -s "$SHOTS/$s.png" ] || fail "no screenshot $s"
done
say "ok ($n requests, all to the control API)"
