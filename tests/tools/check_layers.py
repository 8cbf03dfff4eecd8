#!/usr/bin/env python3
"""The module graph of proxy/ must have no cycle: no two files call each
other, directly or through others (docs/architecture.md). Reads the symbol
tables of the compiled objects with nm: an edge A -> B when A's object
uses a function or variable that B's object defines.

usage: check_layers.py SOURCE_DIR OBJECT_DIR... [--dot]
Only objects of SOURCE_DIR/*.c count (a build tree may hold stale ones).
Prints the graph as "a -> b, c" lines (or Graphviz with --dot) and exits 1
on a cycle, naming it."""
import os
import subprocess
import sys


def symbols(path):
    out = subprocess.run(["nm", "--defined-only", "-g", path],
                         capture_output=True, text=True, check=True).stdout
    defined = {line.split()[-1] for line in out.splitlines() if line.strip()}
    out = subprocess.run(["nm", "-u", path], capture_output=True, text=True,
                         check=True).stdout
    used = {line.split()[-1] for line in out.splitlines() if line.strip()}
    return defined, used


def find_cycle(graph):
    state = {}
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    sources = {f[:-2] for f in os.listdir(args[0]) if f.endswith(".c")}
    objs = {}
    for top in args[1:]:
        for root, _, files in os.walk(top):
            for f in files:
                name = f[:-len(".c.o")]
                if f.endswith(".c.o") and name in sources:
                    objs[name] = os.path.join(root, f)
    if len(objs) < 5:
        print("check_layers: found only %d objects under %s"
              % (len(objs), " ".join(args[1:])), file=sys.stderr)
        return 2
    table = {name: symbols(path) for name, path in objs.items()}
    owner = {}
    for name, (defined, _) in table.items():
        for sym in defined:
            owner[sym] = name
    graph = {name: set() for name in table}
    for name, (_, used) in table.items():
        for sym in used:
            if sym in owner and owner[sym] != name:
                graph[name].add(owner[sym])
    if "--dot" in sys.argv:
        print("digraph proxy {")
        for n in sorted(graph):
            for m in sorted(graph[n]):
                print('  "%s" -> "%s";' % (n, m))
        print("}")
    else:
        for n in sorted(graph):
            print("%s -> %s" % (n, ", ".join(sorted(graph[n])) or "-"))
    cycle = find_cycle(graph)
    if cycle:
        print("FAIL: the module graph has a cycle: " + " -> ".join(cycle),
              file=sys.stderr)
        return 1
    print("ok: %d modules, %d arrows, no cycle"
          % (len(graph), sum(len(v) for v in graph.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
