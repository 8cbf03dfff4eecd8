#!/bin/bash
# check_layers.py must fail on what it exists to catch: a copy of proxy/
# with an upward include, <uv.h> in diag/, a bare include and a header
# included twice.
set -u
src=${1:?usage: check_layers_selftest.sh SOURCE_DIR BUILD_DIR}
build=${2:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/proxy" "$tmp/proxy"
sed -i '1i #include "conn/conn.h"' "$tmp/proxy/base/buf.c"
sed -i '1i #include <uv.h>' "$tmp/proxy/diag/cert.c"
sed -i '1i #include "host.h"' "$tmp/proxy/http/alpn.c"
sed -i '1i #include <http_parser.h>' "$tmp/proxy/http/parent.c"
sed -i '1i #include "base/buf.h"\n#include "base/buf.h"' "$tmp/proxy/base/esc.c"
sed -i 's/^void cp_conn_tunnel_entry(cp_conn_t \*c) {$/&\n  c->requests++;/' "$tmp/proxy/conn/conn_tunnel.c"
echo '/* a module the docs do not list */' > "$tmp/proxy/base/unlisted.c"
out=$(python3 "$src/tests/tools/check_layers.py" "$tmp/proxy" \
  "$build/CMakeFiles/cp_core.dir" "$build/CMakeFiles/chainproxy.dir" \
  --doc="$src/docs/architecture.md" 2>&1)
rc=$?
fail=0
[ "$rc" = 1 ] || { echo "FAIL: exit $rc on a broken tree, want 1"; fail=1; }
for want in 'base/buf.c includes "conn/conn.h": only' \
  'diag/cert.c includes <uv.h>' 'http/alpn.c includes "host.h": include by path' \
  'the arrow base/ -> conn/ points up' \
  'does not list the module base/unlisted' \
  'http/parent.c includes <http_parser.h>' \
  'base/esc.c includes base/buf.h more than once' \
  "field requests is assigned in conn, conn_tunnel"; do
  case $out in
    *"$want"*) ;;
    *) echo "FAIL: no complaint like: $want"; fail=1 ;;
  esac
done
[ "$fail" = 0 ] && echo "ok: the layer check fails on each planted defect"
exit $fail
