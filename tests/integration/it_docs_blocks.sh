#!/bin/bash
# Issue 28, "docs that run as written": every shell block of README.md,
# docs/quickstart.md, docs/scenarios.md, docs/qa.md and docs/install.md
# is marked as run by a test, or as not runnable with the reason. The
# blocks marked for this test run exactly as printed (docs_blocks.py: in
# order, one shell per document, a private /tmp and HOME, the catalogue
# for the names the docs use), each document in a network namespace of
# its own, so the docs' fixed ports collide with nothing. Prints the table of every
# block and how it is checked.
. "$(dirname "$0")/lib.sh"
need python3 curl jq openssl unshare squid
need_netns
[ "$(id -u)" = 0 ] || {
  [ "${CI:-}" = true ] && fail "runs the docs as root (mount namespace, squid)"
  skip "runs the docs as root (mount namespace, squid)"
}

# A planted unmarked block must fail the check, and be named.
mkdir -p "$WORK/self/docs"
printf '# t\n\n```sh\necho hi\n```\n' > "$WORK/self/docs/t.md"
if out=$(python3 "$CP_IT/docs_blocks.py" --src "$WORK/self" --bin "$CP_BIN" \
  --work "$WORK/self" --list-only docs/t.md 2>&1); then
  fail "an unmarked block passed: $out"
fi
assert_contains "$out" "docs/t.md:3: a shell block with no" "the unmarked block's report"
# A run block whose output differs from the doc must fail, with the line.
printf '# t\n\n<!-- run: it.docs.blocks -->\n```console\n$ echo one\ntwo\n```\n' \
  > "$WORK/self/docs/t.md"
if out=$(python3 "$CP_IT/docs_blocks.py" --src "$WORK/self" --bin "$CP_BIN" \
  --work "$WORK/self" docs/t.md 2>&1); then
  fail "a block printing something else passed: $out"
fi
assert_contains "$out" "docs/t.md:4: expected output (line 5) not printed: two" "the mismatch report"
# ... and one whose command fails, with the command.
printf '# t\n\n<!-- run: it.docs.blocks -->\n```sh\ntrue\nls /nonexistent-dir\n```\n' \
  > "$WORK/self/docs/t.md"
if out=$(python3 "$CP_IT/docs_blocks.py" --src "$WORK/self" --bin "$CP_BIN" \
  --work "$WORK/self2" docs/t.md 2>&1); then
  fail "a failing block passed: $out"
fi
assert_contains "$out" "line 6: exit status 2: ls /nonexistent-dir" "the failure report"

chmod 755 "$WORK" # squid's helpers (docs/scenarios.md) run as its own user
python3 "$CP_IT/docs_blocks.py" --src "$CP_SRC" --bin "$CP_BIN" \
  --work "$WORK/docs" README.md docs/quickstart.md docs/scenarios.md \
  docs/qa.md docs/install.md || fail "the docs do not run as written (above)"
say "ok"
