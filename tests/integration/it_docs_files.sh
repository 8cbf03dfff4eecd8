#!/bin/bash
# Docs are part of the feature: every option the binary accepts is in
# docs/cli.md and the man page, every control API path is in
# docs/control-api.md, every diagnosis cause in docs/diagnosis.md, and the
# man page renders without warnings.
. "$(dirname "$0")/lib.sh"
need man

help=$("$CP_BIN" --help)
opts=$(grep -E '^  -' <<<"$help" | grep -oE -- '--[a-z][a-z-]+' | sort -u)
[ -n "$opts" ] || fail "no options in --help"
for o in $opts; do
  grep -qF -- "\`$o" "$CP_SRC/docs/cli.md" || fail "docs/cli.md does not document $o"
  grep -qF -- "$(sed 's/-/\\-/g' <<<"$o")" "$CP_SRC/docs/chainproxy.1" ||
    fail "docs/chainproxy.1 does not document $o"
done
verify_opts=$("$CP_BIN" verify --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
for o in $verify_opts; do
  grep -qF -- "\`$o" "$CP_SRC/docs/diagnosis.md" || fail "docs/diagnosis.md does not document verify $o"
done
for p in /healthz /ca.pem /ca/legacy-root.pem /rules /events /events/stream \
         /stats /metrics; do
  grep -qF -- "$p" "$CP_SRC/docs/control-api.md" || fail "docs/control-api.md lacks $p"
done
for c in untrusted_root self_signed_leaf incomplete_chain unknown_issuer \
         expired_cross_sign expired_root expired_intermediate expired_leaf \
         not_yet_valid weak_key weak_signature bad_usage hostname_mismatch \
         revoked invalid_ca path_length name_constraints critical_extension \
         policy bad_eku bad_signature malformed other; do
  grep -qF -- "\`$c\`" "$CP_SRC/docs/diagnosis.md" || fail "docs/diagnosis.md lacks cause $c"
done
for e in connect request upstream_verify client_handshake error close fault \
         dropped; do
  grep -qF -- "\"event\":\"$e\"" "$CP_SRC/docs/events.md" ||
    fail "docs/events.md has no example of the $e event"
done
warn=$(MANWIDTH=80 man --warnings -l "$CP_SRC/docs/chainproxy.1" 2>&1 >/dev/null)
[ -z "$warn" ] || fail "man page warnings: $warn"
MANWIDTH=80 man -l "$CP_SRC/docs/chainproxy.1" 2>/dev/null | grep -q 'TLS-intercepting diagnostic forward proxy' ||
  fail "the man page does not render"
say "ok"
