#!/bin/bash
# Every C file is as clang-format (.clang-format at the top) writes it.
# Fix with: clang-format -i proxy/*.[ch] proxy/*/*.[ch] tests/unit/*.c tests/integration/clients/*.c bench/*.c fuzz/*.c
set -u
src=${1:?usage: check_format.sh SOURCE_DIR}
if ! command -v clang-format >/dev/null 2>&1; then
  [ "${CI:-}" = true ] && { echo "clang-format is not installed" >&2; exit 1; }
  echo "SKIP: clang-format is not installed"
  exit 77
fi
cd "$src" || exit 1
files=$(ls proxy/*.[ch] proxy/*/*.[ch] tests/unit/*.c tests/integration/clients/*.c bench/*.c fuzz/*.c 2>/dev/null)
bad=0
for f in $files; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (clang-format -i $f)"
    bad=$((bad + 1))
  fi
done
[ "$bad" = 0 ] || { echo "FAIL: $bad file(s) not formatted"; exit 1; }
echo "ok: $(echo "$files" | wc -l) files formatted"
