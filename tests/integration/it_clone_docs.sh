#!/usr/bin/env bash
# docs/profiles.md "Structural clones": the worked example runs as written
# from the source tree and prints what the page says it prints.
. "$(dirname "$0")/lib.sh"
need openssl csplit

DOC=$CP_SRC/docs/profiles.md
awk '/<!-- clone-example -->/ { on = 1; next }
     on && /^```sh$/ { inblock = 1; next }
     inblock && /^```$/ { exit }
     inblock { print }' "$DOC" >"$WORK/example.sh"
awk '/<!-- clone-example -->/ { on = 1 }
     on && /^```text$/ { inblock = 1; next }
     inblock && /^```$/ { exit }
     inblock { print }' "$DOC" >"$WORK/expected.txt"
[ -s "$WORK/example.sh" ] && [ -s "$WORK/expected.txt" ] ||
  fail "no clone example in $DOC"
mkdir -p "$WORK/run/bin"
ln -s "$CP_SRC/certs" "$WORK/run/certs"
ln -s "$CP_BIN" "$WORK/run/bin/chainproxy"
(cd "$WORK/run" && PATH=$WORK/run/bin:$PATH bash -e "$WORK/example.sh") \
  >"$WORK/got.txt" 2>&1 || { cat "$WORK/got.txt"; fail "the example failed"; }
diff -u "$WORK/expected.txt" "$WORK/got.txt" || fail "the example prints something else"
end=$(openssl x509 -in "$WORK/run/dst-now/store.pem" -noout -enddate | cut -d= -f2)
left=$(($(date -u -d "$end" +%s) - $(date +%s)))
[ "$left" -le -3500 ] && [ "$left" -ge -3700 ] ||
  fail "the shifted DST root expires $end ($left s from now)"
say "ok"
