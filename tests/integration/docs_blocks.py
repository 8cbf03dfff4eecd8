#!/usr/bin/env python3
"""The shell blocks of chainproxy's docs, run as written (it.docs.blocks).

Every fenced shell block (```sh, ```bash, ```console, ```shell, or an
untagged block whose first line starts with "$ ") of the documents given
must follow an HTML comment that says how it is checked:

  <!-- run: it.docs.blocks[; OPTION]... -->   this test runs it
  <!-- run: OTHER-TEST -->                    another test runs it verbatim
  <!-- not run: REASON -->                    not runnable here, and why

Options of a block this test runs:
  exits N[,N]...   commands of the block may exit with these statuses
                   (any other non-zero status fails)
  background       the block runs in the background (a proxy a reader
                   starts in its own terminal), stopped at the end
  waits PORT[,PORT]...
                   after the block, wait until 127.0.0.1:PORT listens

The blocks this test runs are run exactly as printed ("$ " prompts
stripped), in order, in one bash per document, in a private network
namespace (loopback only) and a private mount namespace whose /tmp is the
document's own directory, with HOME there and
the built binary on PATH as chainproxy; the working directory holds
build/, certs/ and docker/ as in the source tree. Expected output (the
lines without "$ " of a console block, or an untagged block right after
the block) must appear in order in what the block printed; "..." or "…"
in an expected line matches any text. Every command that exits non-zero
(outside the statuses allowed) fails the test, with document, line and
command. Whatever a document left running is stopped at its end.

Usage: docs_blocks.py --src DIR --bin FILE --work DIR [--table] DOC...
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

SHELL_TAGS = {"sh", "bash", "console", "shell"}
OUTPUT_TAGS = {"", "text"}
FENCE = re.compile(r"^(```+|~~~+)\s*([A-Za-z0-9_.+-]*)\s*$")
COMMENT = re.compile(r"^<!--(.*)-->\s*$")
MARK = re.compile(r"^\s*(run|not run):\s*(.*?)\s*$")
SELF = "it.docs.blocks"
BLOCK_TIMEOUT = 120  # seconds for one block; a bound, not an assertion


class Block:
    def __init__(self, doc, line, tag, body, closing):
        self.doc, self.line, self.tag, self.body = doc, line, tag, body
        self.closing = closing  # line number of the closing fence
        self.mark = None  # ("run", test, options) or ("not run", reason)
        self.expected = []  # expected output lines
        self.expected_line = None
        self.script = []  # (doc line, text) of the commands

    def shell(self):
        if self.tag in SHELL_TAGS:
            return True
        return self.tag == "" and bool(self.body) and self.body[0].startswith("$ ")


def parse(path, name):
    """All fenced blocks of a document, with their markers."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m.group(1)
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        b = Block(name, i + 1, m.group(2), lines[i + 1:j], j + 1)
        # The HTML comments just before the fence (blank lines allowed).
        k = i - 1
        while k >= 0 and (lines[k].strip() == "" or COMMENT.match(lines[k])):
            c = COMMENT.match(lines[k])
            if c:
                mm = MARK.match(c.group(1))
                if mm and b.mark is None:
                    b.mark = (mm.group(1), mm.group(2))
            k -= 1
        blocks.append(b)
        i = j + 1
    # An output block right after a shell block (blank lines between).
    for n, b in enumerate(blocks[:-1]):
        nxt = blocks[n + 1]
        between = lines[b.closing:nxt.line - 1]
        if (b.shell() and not nxt.shell() and nxt.tag in OUTPUT_TAGS
                and all(s.strip() == "" for s in between)):
            b.expected = list(nxt.body)
            b.expected_line = nxt.line
    for b in blocks:
        if b.shell():
            split_commands(b)
    return [b for b in blocks if b.shell()]


def split_commands(b):
    """Commands (prompts stripped) and, for console blocks, the output."""
    if not any(s.startswith("$ ") for s in b.body):
        b.script = [(b.line + 1 + n, s) for n, s in enumerate(b.body)]
        return
    out = []
    cont = False
    for n, s in enumerate(b.body):
        ln = b.line + 1 + n
        if s.startswith("$ "):
            b.script.append((ln, s[2:]))
            cont = s.endswith("\\")
        elif cont:
            b.script.append((ln, s))
            cont = s.endswith("\\")
        else:
            out.append(s)
    if out:
        b.expected = out
        b.expected_line = b.line + 1


def options(text):
    """'it.docs.blocks; exits 1,60; waits 8080' -> test, options."""
    parts = [p.strip() for p in text.split(";")]
    opts = {"exits": set(), "background": False, "waits": []}
    for p in parts[1:]:
        if p.startswith("exits "):
            opts["exits"] = {int(x) for x in p[6:].split(",")}
        elif p == "background":
            opts["background"] = True
        elif p.startswith("waits "):
            opts["waits"] = [int(x) for x in p[6:].split(",")]
        elif p:
            raise ValueError("unknown option '%s'" % p)
    return parts[0], opts


def other_test(src, test):
    """The file of the test a marker names: it.a.b is
    tests/integration/it_a_b.sh; anything else a path in the tree
    (.ci/run)."""
    if test.startswith("it."):
        return os.path.join(src, "tests", "integration",
                            "it_" + test[3:].replace(".", "_") + ".sh")
    return os.path.join(src, test)


def line_re(expected):
    pieces = re.split(r"\.\.\.|…", expected.rstrip())
    return re.compile("^" + ".*".join(re.escape(p) for p in pieces) + "$")


def match_output(expected, got):
    """Each expected line, in order, matches a line of got; None or the
    first expected line that did not."""
    got = [g.rstrip() for g in got]
    pos = 0
    for e in expected:
        if e.strip() in ("", "...", "…"):
            continue
        r = line_re(e)
        while pos < len(got) and not r.match(got[pos]):
            pos += 1
        if pos == len(got):
            return e
        pos += 1
    return None


DRIVER_HEAD = r"""
set -E
__cp_dir=/tmp/.docs-blocks
__cp_err() { # STATUS LINE COMMAND
  case $3 in 'source $__cp_dir/block.'*) return ;; esac # the block's own status
  local c=${3//$'\n'/\\n}
  printf '%s\t%s\t%s\n' "$1" "$2" "${c//$'\t'/ }" >> "$__cp_dir/err.$__cp_block"
}
trap '__cp_err $? $LINENO "$BASH_COMMAND"' ERR
__cp_wait() { # PORT: until something listens, at most ~20 s
  local i
  for i in $(seq 1 400); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  printf '%s\t0\tnothing listens on 127.0.0.1:%s\n' 1 "$1" >> "$__cp_dir/err.$__cp_block"
}
"""


def run_document(args, name, blocks, results):
    """Runs the blocks of one document marked for this test."""
    mine = [b for b in blocks if b.mark and b.mark[0] == "run"
            and options(b.mark[1])[0] == SELF]
    if not mine:
        return
    base = os.path.join(args.work, re.sub(r"[^A-Za-z0-9]", "_", name))
    tmp = os.path.join(base, "tmp")
    d = os.path.join(tmp, ".docs-blocks")
    home = os.path.join(tmp, "home")
    run = os.path.join(tmp, "src")
    bindir = os.path.join(d, "bin")
    for p in (d, home, run, bindir):
        os.makedirs(p, exist_ok=True)
    os.chmod(tmp, 0o1777)
    os.chmod(base, 0o755)
    # The source tree as the docs expect it ("./build/chainproxy", "certs/").
    build = os.path.dirname(os.path.abspath(args.bin))
    binds = []  # (real path, path inside the private /tmp)

    # A tree under /tmp stays at its own path inside the private /tmp:
    # the binary names its data files by absolute path (CP_DATA_DIR).
    def visible(real):
        real = os.path.realpath(real)
        if real == "/tmp":
            sys.exit("docs_blocks.py: the source tree cannot be /tmp itself")
        if real.startswith("/tmp/"):
            rel = real[len("/tmp/"):]
            if rel.split("/")[0] in (".docs-blocks", "home", "src"):
                sys.exit("docs_blocks.py: %s hides the documents' own /tmp/%s:"
                         " move the tree elsewhere" % (real, rel.split("/")[0]))
            inner = os.path.join(tmp, rel)
            os.makedirs(inner, exist_ok=True)
            binds.append((real, inner))
        return real

    src_v = visible(args.src)
    build_v = src_v + build[len(os.path.realpath(args.src)):] \
        if os.path.realpath(build).startswith(os.path.realpath(args.src) + "/") \
        else visible(build)
    for link, target in (("build", build_v),
                         ("certs", os.path.join(src_v, "certs")),
                         ("docker", os.path.join(src_v, "docker")),
                         ("docs", os.path.join(src_v, "docs"))):
        os.symlink(target, os.path.join(run, link))
    os.symlink(os.path.join(build_v, os.path.basename(args.bin)),
               os.path.join(bindir, "chainproxy"))
    inner = lambda p: "/tmp" + p[len(tmp):]
    drv = [DRIVER_HEAD]
    drv.append("export HOME=%s PATH=%s:$PATH\nunset CHAINPROXY_HOME\ncd %s\n"
               % (inner(home), inner(bindir), inner(run)))
    for n, b in enumerate(mine):
        _, opts = options(b.mark[1])
        f = os.path.join(d, "block.%d.sh" % n)
        with open(f, "w", encoding="utf-8") as fh:
            fh.write("\n".join(s for _, s in b.script) + "\n")
        drv.append("__cp_block=%d\n" % n)
        src = "source %s/block.%d.sh" % ("$__cp_dir", n)
        out = "$__cp_dir/out.%d" % n
        if opts["background"]:
            drv.append("{ %s; } > %s 2>&1 < /dev/null &\n" % (src, out))
        else:
            drv.append("{ %s; } > %s 2>&1 < /dev/null\n" % (src, out))
        for p in opts["waits"]:
            drv.append("__cp_wait %d\n" % p)
        drv.append("jobs -l > $__cp_dir/jobs.%d 2>&1\n" % n)
        drv.append(": > $__cp_dir/done.%d\n" % n)
    # A server a block started that died since (a port already taken).
    drv.append("jobs -l > $__cp_dir/jobs.end 2>&1\n")
    with open(os.path.join(d, "driver.sh"), "w", encoding="utf-8") as fh:
        fh.write("".join(drv))
    setup = ["ip link set lo up", "mount --make-rprivate /"]
    for real, inn in binds:
        setup.append("mount --rbind '%s' '%s'" % (real, inn))
    setup.append("mount --rbind '%s' /tmp" % tmp)
    setup.append("exec bash /tmp/.docs-blocks/driver.sh")
    log = open(os.path.join(base, "driver.log"), "w")
    # Each document in its own network namespace too: its fixed ports
    # (8080, 8081, 18543, ...) collide with no other document or test.
    p = subprocess.Popen(["unshare", "-m", "-n", "bash", "-c", " && ".join(setup)],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True)
    deadline = time.monotonic() + BLOCK_TIMEOUT * len(mine)
    while p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    timed_out = p.poll() is None
    # Stop whatever the document left running (its proxies, origins).
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            break
        for _ in range(100):
            try:
                os.killpg(p.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    p.wait()
    log.close()
    end = os.path.join(d, "jobs.end")
    if os.path.exists(end):
        allowed = set()
        for b in mine:
            allowed |= options(b.mark[1])[1]["exits"]
        with open(end, encoding="utf-8", errors="replace") as fh:
            for j in fh.read().splitlines():
                m = re.search(r"\bExit (\d+)\s+(.*)$", j)
                if m and int(m.group(1)) not in allowed:
                    results[(name, 0)] = (["a background job exited %s before "
                                           "the end of the document: %s"
                                           % (m.group(1), m.group(2).strip())], [])
    for n, b in enumerate(mine):
        _, opts = options(b.mark[1])
        problems = []
        if not os.path.exists(os.path.join(d, "done.%d" % n)):
            problems.append("did not finish%s" % (
                " (timed out)" if timed_out else ""))
        errf = os.path.join(d, "err.%d" % n)
        if os.path.exists(errf):
            with open(errf, encoding="utf-8", errors="replace") as fh:
                for e in fh.read().splitlines():
                    st, ln, cmd = (e.split("\t", 2) + ["", ""])[:3]
                    if int(st) in opts["exits"]:
                        continue
                    where = b.script[int(ln) - 1][0] if 0 < int(ln) <= len(b.script) else b.line
                    problems.append("line %d: exit status %s: %s" % (where, st, cmd))
        jobsf = os.path.join(d, "jobs.%d" % n)
        if os.path.exists(jobsf):
            with open(jobsf, encoding="utf-8", errors="replace") as fh:
                for j in fh.read().splitlines():
                    m = re.search(r"\bExit (\d+)\s+(.*)$", j)
                    if m and int(m.group(1)) not in opts["exits"]:
                        problems.append("background job exited %s: %s"
                                        % (m.group(1), m.group(2).strip()))
        got = []
        outf = os.path.join(d, "out.%d" % n)
        if os.path.exists(outf):
            with open(outf, encoding="utf-8", errors="replace") as fh:
                got = fh.read().splitlines()
        if b.expected and not opts["background"]:
            miss = match_output(b.expected, got)
            if miss is not None:
                problems.append("expected output (line %d) not printed: %s"
                                % (b.expected_line, miss))
        results[(b.doc, b.line)] = (problems, got)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--list-only", action="store_true")
    ap.add_argument("docs", nargs="+")
    args = ap.parse_args()
    failures = []
    table = []
    results = {}
    per_doc = []
    for name in args.docs:
        blocks = parse(os.path.join(args.src, name), name)
        per_doc.append((name, blocks))
        for b in blocks:
            if b.mark is None:
                failures.append("%s:%d: a shell block with no <!-- run: ... --> "
                                "or <!-- not run: REASON --> marker" % (name, b.line))
                continue
            if b.mark[0] == "not run" and not b.mark[1]:
                failures.append("%s:%d: not run, but no reason given" % (name, b.line))
            if b.mark[0] == "run":
                try:
                    test, _ = options(b.mark[1])
                except ValueError as e:
                    failures.append("%s:%d: %s" % (name, b.line, e))
                    continue
                if test != SELF and not os.path.exists(other_test(args.src, test)):
                    failures.append("%s:%d: run by %s, which does not exist (%s)"
                                    % (name, b.line, test, other_test(args.src, test)))
    if not failures and not args.list_only:
        for name, blocks in per_doc:
            run_document(args, name, blocks, results)
    for (doc, line), (problems, _) in results.items():
        if line == 0:
            failures += ["%s: %s" % (doc, pr) for pr in problems]
    for name, blocks in per_doc:
        for b in blocks:
            first = b.script[0][1] if b.script else ""
            if b.mark is None:
                status = "UNMARKED"
            elif b.mark[0] == "not run":
                status = "not-run: " + b.mark[1]
            else:
                test, _ = options(b.mark[1])
                status = "run-by-this-test" if test == SELF else "run-by-" + test
            if (b.doc, b.line) in results:
                problems, got = results[(b.doc, b.line)]
                status += " (FAIL)" if problems else " (ok)"
                for pr in problems:
                    failures.append("%s:%d: %s\n    block: %s" % (b.doc, b.line, pr, first))
                if problems:
                    failures.append("    printed:\n" + "\n".join(
                        "      | " + g for g in got[-40:]))
            table.append((b.doc, b.line, status, first[:60]))
    w = max(len(t[0]) for t in table) if table else 10
    print("%-*s  %5s  %s" % (w, "document", "line", "status | first line"))
    for doc, line, status, first in table:
        print("%-*s  %5d  %s | %s" % (w, doc, line, status, first))
    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
