#!/bin/bash
# The recipes of docs/qa.md, run as written: each fenced block after a
# `<!-- qa-recipe: NAME -->` marker, in a directory holding the origin's
# CA as origin-ca.pem, with $ORIGIN set and chainproxy on PATH. The shell
# recipe runs in bash, the pytest one through its test functions (with
# pytest when installed), the Node one in node.
. "$(dirname "$0")/lib.sh"
need curl python3 node

start_origin --tls
cd "$WORK" || fail "cd"
cp "$ORIGIN_CA" origin-ca.pem
export ORIGIN=https://localhost:$ORIGIN_PORT/hello
export PATH=$(dirname "$CP_BIN"):$PATH

recipe() { # NAME: the fenced block after its marker
  awk -v m="<!-- qa-recipe: $1 -->" '
    $0 == m { want = 1; next }
    want && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$CP_SRC/docs/qa.md"
}
for r in shell pytest node; do
  [ -n "$(recipe "$r")" ] || fail "docs/qa.md has no $r recipe"
done

recipe shell > recipe.sh
bash -e recipe.sh > shell.out 2>&1 || fail "the shell recipe: $(tail -20 shell.out)"
python3 -c "import xml.etree.ElementTree as E; \
  assert E.parse('junit.xml').getroot().get('failures') == '0'" ||
  fail "the shell recipe's junit.xml"

recipe pytest > test_recipe.py
if python3 -c 'import pytest' 2> /dev/null; then
  python3 -m pytest -q test_recipe.py > pytest.out 2>&1 ||
    fail "the pytest recipe: $(tail -20 pytest.out)"
else
  python3 -c 'import test_recipe as t
for n in dir(t):
    if n.startswith("test_"):
        getattr(t, n)()
        print(n, "passed")' > pytest.out 2>&1 ||
    fail "the pytest recipe: $(tail -20 pytest.out)"
fi

recipe node > recipe.js
node recipe.js > node.out 2>&1 || fail "the node recipe: $(tail -20 node.out)"
say "ok"
