#!/bin/bash
# deploy/k8s checked without a cluster: every manifest against a schema of
# the Kubernetes fields it uses and the links between them
# (tests/tools/k8s_check.py, python3-jsonschema), the container's args
# parsed by the real binary, the rules ConfigMap loaded by the real rules
# parser, and, where a kubectl is installed, `kubectl kustomize` renders
# the directory offline.
. "$(dirname "$0")/lib.sh"
need curl
PY=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import yaml, jsonschema' 2> /dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || need python3-yaml-and-jsonschema
K=$CP_SRC/deploy/k8s

mapfile -t args < <(WORK=$WORK "$PY" "$CP_SRC/tests/tools/k8s_check.py" "$K") ||
  fail "the manifests do not check"
[ "${#args[@]}" -gt 0 ] || fail "k8s_check.py: $(WORK=$WORK "$PY" \
  "$CP_SRC/tests/tools/k8s_check.py" "$K" 2>&1)"
"$CP_BIN" "${args[@]}" --version > /dev/null ||
  fail "the Deployment's args do not parse: ${args[*]}"
# The rules the ConfigMap ships, through the real parser.
start_proxy --rules "$WORK/k8s-rules.json" --control "127.0.0.1:$(free_port)"
stop_proxy
assert_eq "$PROXY_EXIT" 0 "chainproxy with the ConfigMap's rules"
if command -v kubectl > /dev/null; then
  out=$(kubectl kustomize "$K" 2>&1) || fail "kubectl kustomize: $out"
  assert_contains "$out" "kind: Deployment" "kubectl kustomize output"
else
  say "no kubectl: the kustomization was checked by schema only"
fi
# A broken manifest is caught (the check can fail).
mkdir -p "$WORK/bad"
cp "$K"/*.yaml "$WORK/bad/"
sed -i 's/port: control$/port: controll/' "$WORK/bad/servicemonitor.example.yaml"
if WORK=$WORK "$PY" "$CP_SRC/tests/tools/k8s_check.py" "$WORK/bad" \
  > /dev/null 2>&1; then
  fail "a ServiceMonitor on a port the Service lacks passed the check"
fi
say "ok"
