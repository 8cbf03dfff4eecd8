#!/bin/bash
# The chain-profile matrix: every profile x every client x three trust
# stores, through the real proxy to a local origin, with the outcome and
# the exact error text each client prints. Then the old-stack emulations
# on modern and legacy (DESIGN.md's 2020 table). The observed matrix is
# written as Markdown and must equal the one in docs/profiles.md
# (CP_UPDATE_DOCS=1 rewrites the docs instead), so the docs cannot drift
# from what the clients really do.
. "$(dirname "$0")/lib.sh"
need curl jq openssl python3 gnutls-cli node java keytool

CLIENTS_BIN=$CP_BUILD/tests
[ -x "$CLIENTS_BIN/curl_strerror" ] || {
  [ "${CI:-}" = true ] && fail "curl_strerror was not built (libcurl-dev?)"
  skip "curl_strerror was not built (libcurl development files missing)"
}
CL=$CP_IT/clients
PROFILES="modern legacy expired not-yet-valid wrong-host self-signed untrusted-root incomplete mirror"
STORES="root legacy-root both"
CLIENT_NAMES="curl libcurl s_client python gnutls java node"

# The CA first, so the proxies share it without racing to create it.
"$CP_BIN" ca --ca-dir "$PROXY_CA" > /dev/null || fail "chainproxy ca"
cp "$PROXY_CA/root.pem" "$WORK/store-root.pem"
cp "$PROXY_CA/legacy-root.pem" "$WORK/store-legacy-root.pem"
cat "$PROXY_CA/root.pem" "$PROXY_CA/legacy-root.pem" > "$WORK/store-both.pem"
for s in $STORES; do
  args=(-storetype PKCS12 -storepass changeit -keystore "$WORK/store-$s.p12")
  case $s in
    root|both) keytool -importcert -noprompt -alias modern \
                 -file "$PROXY_CA/root.pem" "${args[@]}" >/dev/null 2>&1 ;;
  esac
  case $s in
    legacy-root|both) keytool -importcert -noprompt -alias legacy \
                        -file "$PROXY_CA/legacy-root.pem" "${args[@]}" \
                        >/dev/null 2>&1 ;;
  esac
  [ -s "$WORK/store-$s.p12" ] || fail "keytool could not make store-$s.p12"
done

start_origin --tls --host 127.0.0.1
O=$ORIGIN_PORT
declare -A PP PPID_OF
cells=()
for p in $PROFILES; do
  EVENTS_FILE=$WORK/events-$p.jsonl start_proxy --chain "$p" \
    --upstream-ca "$ORIGIN_CA"
  PP[$p]=$PROXY_PORT
  PPID_OF[$p]=$PROXY_PID
  cells+=("$p=$PROXY_PORT")
done

# --- what each cell should give -------------------------------------------
# ok for current stacks: DESIGN.md's table, and every defect fails.
expect_ok() {
  case $1 in
    modern|legacy|mirror) [ "$2" != legacy-root ] ;;
    *) return 1 ;;
  esac
}

# The failure OpenSSL reports first for profile $1 with store $2.
kind() {
  expect_ok "$1" "$2" && { echo ok; return; }
  case $1 in
    legacy) echo expired ;;
    self-signed) echo self_signed ;;
    untrusted-root) echo in_chain ;;
    incomplete) echo incomplete ;;
    *) if [ "$2" = legacy-root ]; then echo unknown_issuer; else
         case $1 in
           expired) echo expired ;;
           not-yet-valid) echo not_yet_valid ;;
           wrong-host) echo hostname ;;
         esac
       fi ;;
  esac
}

# What client $1 prints for failure kind $2 (profile $3 for Node, which
# reports the last error OpenSSL saw, not the first).
expected_text() {
  local client=$1 k=$2 p=$3
  if [ "$client" = node ] && [ "$k" = unknown_issuer ]; then
    case $p in expired) k=expired ;; not-yet-valid) k=not_yet_valid ;; esac
  fi
  case $client:$k in
    *:ok) echo ok ;;
    libcurl:*) echo "SSL peer certificate or SSH remote key was not OK" ;;
    curl:expired|s_client:expired|python:expired) echo "certificate has expired" ;;
    curl:not_yet_valid|s_client:not_yet_valid|python:not_yet_valid)
      echo "certificate is not yet valid" ;;
    curl:hostname) echo "no alternative certificate subject name matches target host name 'localhost'" ;;
    s_client:hostname) echo "hostname mismatch" ;;
    python:hostname) echo "Hostname mismatch, certificate is not valid for 'localhost'." ;;
    curl:self_signed|s_client:self_signed|python:self_signed)
      echo "self-signed certificate" ;;
    curl:in_chain|s_client:in_chain|python:in_chain)
      echo "self-signed certificate in certificate chain" ;;
    curl:*|s_client:*|python:*) echo "unable to get local issuer certificate" ;;
    node:expired) echo "CERT_HAS_EXPIRED: certificate has expired" ;;
    node:not_yet_valid) echo "CERT_NOT_YET_VALID: certificate is not yet valid" ;;
    node:hostname) echo "ERR_TLS_CERT_ALTNAME_INVALID" ;;
    node:self_signed) echo "DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate" ;;
    node:in_chain) echo "SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain" ;;
    node:incomplete) echo "UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate" ;;
    node:*) echo "UNABLE_TO_GET_ISSUER_CERT_LOCALLY: unable to get local issuer certificate" ;;
    gnutls:expired) echo "The certificate chain uses expired certificate." ;;
    gnutls:not_yet_valid) echo "The certificate chain uses not yet valid certificate." ;;
    gnutls:hostname) echo "The name in the certificate does not match the expected." ;;
    gnutls:*) echo "The certificate issuer is unknown." ;;
    java:expired|java:not_yet_valid) echo "validity check failed" ;;
    java:hostname) echo "No subject alternative DNS name matching localhost found." ;;
    java:*) echo "unable to find valid certification path to requested target" ;;
  esac
}

# --- run every client ------------------------------------------------------
declare -A GOT
URL=https://localhost:$O/hello

# gnutls-cli cannot use a proxy: one CONNECT tunnel port per proxy.
declare -A TUN
for p in $PROFILES; do
  python3 "$CL/tunnel.py" "${PP[$p]}" "localhost:$O" > "$WORK/tunnel.$p" 2>&1 &
  CP_PIDS+=($!)
done
for p in $PROFILES; do
  for i in $(seq 1 100); do
    grep -q '^ready ' "$WORK/tunnel.$p" 2>/dev/null && break
    sleep 0.05
  done
  TUN[$p]=$(awk '/^ready /{print $2}' "$WORK/tunnel.$p")
  [ -n "${TUN[$p]}" ] || fail "tunnel for $p did not start"
done

for s in $STORES; do
  store=$WORK/store-$s.pem
  for p in $PROFILES; do
    px=http://127.0.0.1:${PP[$p]}
    out=$(curl -sS -o /dev/null --max-time 20 --cacert "$store" -x "$px" "$URL" 2>&1 | head -1)
    GOT[curl:$p:$s]=${out:-ok}
    out=$("$CLIENTS_BIN/curl_strerror" "$URL" "$px" "$store")
    [ "$out" = "ok 200" ] && out=ok
    GOT[libcurl:$p:$s]=$out
    out=$(openssl s_client -proxy "127.0.0.1:${PP[$p]}" -connect "localhost:$O" \
            -servername localhost -verify_hostname localhost \
            -verify_return_error -CAfile "$store" </dev/null 2>&1)
    if grep -q 'Verify return code: 0 (ok)' <<<"$out"; then
      GOT[s_client:$p:$s]=ok
    else
      GOT[s_client:$p:$s]=$(grep -m1 'verify error:' <<<"$out" || echo "no verify error: $(tail -2 <<<"$out")")
    fi
    out=$(timeout 20 gnutls-cli --x509cafile="$store" -p "${TUN[$p]}" localhost \
            </dev/null 2>&1)
    if grep -q 'Handshake was completed' <<<"$out"; then
      GOT[gnutls:$p:$s]=ok
    else
      GOT[gnutls:$p:$s]=$(grep -m1 'Status:' <<<"$out" | sed 's/^- Status: The certificate is NOT trusted. //; s/ *$//' || echo "no status")
    fi
  done
  while IFS=$'\t' read -r p text; do
    [ "$text" = "ok 200" ] && text=ok
    GOT[python:$p:$s]=$text
  done < <(python3 "$CL/py_client.py" 127.0.0.1 0 localhost "$O" "$store" "${cells[@]}")
  while IFS=$'\t' read -r p text; do
    GOT[node:$p:$s]=$text
  done < <(node "$CL/node_client.js" 127.0.0.1 localhost "$O" "$store" "${cells[@]}")
  while IFS=$'\t' read -r p text; do
    GOT[java:$p:$s]=$text
  done < <(java "$CL/JavaClient.java" "$WORK/store-$s.p12" changeit 127.0.0.1 localhost "$O" "${cells[@]}" 2>&1)
done

# --- check and write the matrix -------------------------------------------
MD=$WORK/matrix.md
bad=0
{
  echo "Generated by \`tests/integration/it_profiles_matrix.sh\`: what each"
  echo "client printed, through chainproxy, for each profile and trust store."
  for s in $STORES; do
    echo
    echo "#### Client trusts \`$( [ $s = both ] && echo 'root.pem + legacy-root.pem' || echo "$s.pem")\`"
    echo
    printf '| profile |'; for c in $CLIENT_NAMES; do printf ' %s |' "$c"; done; echo
    printf '|---|'; for c in $CLIENT_NAMES; do printf -- '---|'; done; echo
    for p in $PROFILES; do
      printf '| `%s` |' "$p"
      for c in $CLIENT_NAMES; do
        printf ' %s |' "${GOT[$c:$p:$s]//|/\\|}"
      done
      echo
    done
  done
} > "$MD"
for s in $STORES; do
  for p in $PROFILES; do
    k=$(kind "$p" "$s")
    for c in $CLIENT_NAMES; do
      got=${GOT[$c:$p:$s]:-<nothing>}
      want=$(expected_text "$c" "$k" "$p")
      if [ "$want" = ok ]; then
        [ "$got" = ok ] || { say "cell $p/$s/$c: expected ok, got: $got"; bad=1; }
      elif [ "$got" = ok ] || [[ "$got" != *"$want"* ]]; then
        say "cell $p/$s/$c: expected '$want', got: $got"; bad=1
      fi
    done
  done
done

# --- old TLS stacks (OpenSSL 3 building chains as 1.0.2 / 1.0.1 did) ------
OLD_MD=$WORK/old.md
declare -A OLD
{
  echo
  echo "#### Old TLS stacks"
  echo
  echo "| client trusts | stack | \`modern\` | \`legacy\` |"
  echo "|---|---|---|---|"
} > "$OLD_MD"
# stack store modern-expect legacy-expect ("ok" or the error text)
while read -r mode s want_modern want_legacy; do
  [ -n "$mode" ] || continue
  row="| \`$( [ $s = both ] && echo 'root.pem + legacy-root.pem' || echo "$s.pem")\` | $mode |"
  for p in modern legacy; do
    got=$("$CLIENTS_BIN/oldssl_client" "$mode" "127.0.0.1:${PP[$p]}" \
            "localhost:$O" "$WORK/store-$s.pem")
    OLD[$mode:$s:$p]=$got
    want=$want_modern; [ $p = legacy ] && want=$want_legacy
    want=${want//_/ }
    if [ "$want" = ok ]; then
      [ "$got" = ok ] || { say "old $mode/$s/$p: expected ok, got: $got"; bad=1; }
    elif [[ "$got" != *"$want"* ]]; then
      say "old $mode/$s/$p: expected '$want', got: $got"; bad=1
    fi
    row="$row $got |"
  done
  echo "$row" >> "$OLD_MD"
done <<'EOF'
current root ok ok
current both ok ok
1.0.2 both ok error_10:_certificate_has_expired
1.0.2 root ok ok
1.0.1 root ok error_20:_unable_to_get_local_issuer_certificate
1.0.1 both ok error_10:_certificate_has_expired
current legacy-root error_20: error_10:_certificate_has_expired
1.0.2 legacy-root error_20: error_10:_certificate_has_expired
EOF
cat "$OLD_MD" >> "$MD"
cp "$MD" "$CP_BUILD/profile-matrix.md" 2>/dev/null || true

# Every served chain is recorded with its profile and fingerprints.
for p in $PROFILES; do
  EVENTS=$WORK/events-$p.jsonl
  want=$p; [ $p = mirror ] && want=modern
  expect_event ".event == \"client_handshake\" and .profile == \"$want\" and
    (.served | length) >= 1 and (.served[0] | length) == 64"
  expect_event ".event == \"client_handshake\" and .accepted == false and
    .alert != null"
done
EVENTS=$WORK/events-legacy.jsonl
expect_event '.event == "client_handshake" and .profile == "legacy" and
  (.served | length) == 3'
EVENTS=$WORK/events-mirror.jsonl
expect_event '.event == "client_handshake" and .mirrored == true'

# --- who breaks: chainproxy's prediction against every observed cell ----
# `verify --proxy` sees the chain each client saw; its per-family
# verdicts must match: pass where the client passed, fail (with the
# client's words where the family names them) where it failed.
family_of() {
  case $1 in
    curl|libcurl|s_client|python|current) echo openssl3 ;;
    1.0.2) echo openssl102 ;;
    1.0.1) echo openssl101 ;;
    *) echo "$1" ;;
  esac
}
check_prediction() { # CELL OBSERVED FAMILY JSON
  local cell=$1 got=$2 fam=$3 json=$4 verdict err
  verdict=$(jq -r ".clients[] | select(.family == \"$fam\") | .verdict" <<< "$json")
  err=$(jq -r ".clients[] | select(.family == \"$fam\") | .error // \"\"" <<< "$json")
  if [ "$got" = ok ] && [ "$verdict" != pass ]; then
    say "prediction $cell: $fam predicted $verdict ($err), the client passed"; bad=1
  elif [ "$got" != ok ] && [ "$verdict" != fail ]; then
    say "prediction $cell: $fam predicted $verdict, the client failed: $got"; bad=1
  elif [ "$got" != ok ] && [ -n "$err" ] &&
       { [ "$c" = curl ] || [ "$c" = s_client ] || [ "$c" = python ] ||
         [ "$fam" = gnutls ] || [ "$fam" = java ]; } &&
       ! { [ "$c" = curl ] && [ "$err" = "hostname mismatch" ]; } &&
       [[ "${got,,}" != *"${err,,}"* ]]; then
    # (curl checks the name itself and words the mismatch its own way;
    # Python capitalises OpenSSL's text.)
    say "prediction $cell: $fam predicted '$err', the client printed: $got"; bad=1
  fi
  predicted=$((predicted + 1))
}
predicted=0
for s in $STORES; do
  for p in $PROFILES; do
    json=$("$CP_BIN" verify "localhost:$O" --proxy "http://127.0.0.1:${PP[$p]}" \
             --upstream-ca "$WORK/store-$s.pem" --json 2>/dev/null)
    for c in $CLIENT_NAMES; do
      check_prediction "$p/$s/$c" "${GOT[$c:$p:$s]}" "$(family_of "$c")" "$json"
    done
    for mode in current 1.0.2 1.0.1; do
      [ -n "${OLD[$mode:$s:$p]:-}" ] || continue
      c=$mode
      check_prediction "$p/$s/$mode" "${OLD[$mode:$s:$p]}" \
        "$(family_of "$mode")" "$json"
    done
  done
done
say "$predicted predicted cells checked against the clients"
[ "$predicted" -ge 200 ] || fail "only $predicted cells predicted"

[ $bad = 0 ] || { cat "$MD" >&2; fail "the matrix differs from the expected outcomes"; }
for p in $PROFILES; do
  PROXY_PID=${PPID_OF[$p]}
  stop_proxy
  assert_eq "$PROXY_EXIT" 0 "proxy --chain $p exit status"
done

# The docs carry the same matrix.
DOC=$CP_SRC/docs/profiles.md
block=$(sed -n '/<!-- matrix:begin -->/,/<!-- matrix:end -->/p' "$DOC" | sed '1d;$d')
if [ "${CP_UPDATE_DOCS:-0}" = 1 ]; then
  python3 - "$DOC" "$MD" <<'PY'
import sys
doc, md = sys.argv[1], open(sys.argv[2]).read()
s = open(doc).read()
a = s.index("<!-- matrix:begin -->") + len("<!-- matrix:begin -->")
b = s.index("<!-- matrix:end -->")
open(doc, "w").write(s[:a] + "\n" + md + s[b:])
PY
  say "docs/profiles.md updated"
elif [ "$block" != "$(cat "$MD")" ]; then
  diff <(echo "$block") "$MD" >&2
  fail "docs/profiles.md's matrix differs from what the clients did; run CP_UPDATE_DOCS=1 ctest -R it.profiles.matrix"
fi
say "ok: $(echo $PROFILES | wc -w) profiles x $(echo $CLIENT_NAMES | wc -w) clients x 3 stores, and the old stacks"
