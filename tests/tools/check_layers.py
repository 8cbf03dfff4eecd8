#!/usr/bin/env python3
"""The layers of proxy/ (docs/architecture.md):

1. the module graph has no cycle: no two files call each other, directly
   or through others. Read from the symbol tables of the compiled objects
   with nm: an edge A -> B when A's object uses a symbol B's defines;
2. folders form a one-way stack: every arrow between folders, by symbol or
   by #include, is one the table FOLDER_DEPS below allows (an arrow that
   points up fails, naming the files);
3. "never" rules read from the source: nothing in NO_UV includes <uv.h>,
   only CONN_USERS include a conn/ header, only HTTP_PARSER_SEAM includes
   <http_parser.h>, no file includes the same header twice;
4. every field of the connection record is assigned in one module.

usage: check_layers.py SOURCE_DIR OBJECT_DIR... [--dot] [--doc=ARCH.md]
With --doc, also fails when the document's folder arrows differ from
FOLDER_DEPS or a module of SOURCE_DIR is not in its tables.
SOURCE_DIR is proxy/. Only objects of its .c files count (a build tree may
hold stale ones). Prints the module graph as "a -> b, c" lines (or
Graphviz with --dot), then the folder arrows; exits 1 on any failure."""
import os
import re
import subprocess
import sys

# folder -> the folders it may use. Lower folders never name higher ones.
FOLDER_DEPS = {
    "base": set(),
    "diag": {"base"},
    "http": {"base"},
    "events": {"diag", "base"},
    "tls": {"http", "diag", "base"},
    "pki": {"events", "diag", "base"},
    "net": {"tls", "base"},
    "rules": {"pki", "tls", "http", "diag", "base"},
    "config": {"rules", "http", "diag", "base"},
    "control": {"config", "rules", "net", "pki", "events", "http", "diag",
                "base"},
    "conn": {"config", "rules", "net", "pki", "tls", "events", "http", "diag",
             "base"},
    "app": {"conn", "control", "config", "rules", "net", "pki", "tls",
            "events", "http", "diag", "base"},
    ".": {"app", "conn", "control", "config", "rules", "net", "pki", "tls",
          "events", "http", "diag", "base"},
}
NO_UV = {"base", "diag", "http", "pki"}
# base/err names libuv's error codes (uv_err_name, no handles): the one
# file below net/ that may include <uv.h>.
UV_NAMES_ONLY = {"base/err"}
CONN_USERS = {"conn", "app", "."}
# http-parser stays behind one seam: a change of parser edits only these.
HTTP_PARSER_SEAM = {"http/http_parse", "http/http_parse_status"}
INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^">]+)[">]', re.M)


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


def folder(module):
    return module.split("/")[0] if "/" in module else "."


def sources(top):
    """module ("diag/verify", "main") -> list of its .c/.h paths."""
    mods = {}
    for root, _, files in os.walk(top):
        for f in files:
            if f.endswith((".c", ".h")):
                rel = os.path.relpath(os.path.join(root, f), top)
                mods.setdefault(rel[:-2], []).append(os.path.join(root, f))
    return mods


def check_sources(mods, arrows):
    """The never rules, and folder arrows by #include."""
    bad = []
    for mod, paths in sorted(mods.items()):
        here = folder(mod)
        if here != "." and here not in FOLDER_DEPS:
            bad.append("%s: the folder %s/ is not in the layer table"
                       % (mod, here))
            continue
        for path in paths:
            text = open(path, encoding="utf-8", errors="replace").read()
            found = INCLUDE.findall(text)
            for twice in sorted({n for _, n in found
                                 if sum(1 for _, m in found if m == n) > 1}):
                bad.append("%s includes %s more than once" % (path, twice))
            for kind, name in found:
                if kind == "<":
                    if name == "http_parser.h" and mod not in HTTP_PARSER_SEAM:
                        bad.append("%s includes <http_parser.h>; only %s do"
                                   % (path, ", ".join(sorted(HTTP_PARSER_SEAM))))
                    if (name == "uv.h" and here in NO_UV and
                            mod not in UV_NAMES_ONLY):
                        bad.append("%s includes <uv.h>; %s/ never uses libuv"
                                   % (path, here))
                    continue
                if "/" not in name:
                    bad.append("%s includes \"%s\": include by path from "
                               "proxy/ (\"folder/%s\")" % (path, name, name))
                    continue
                there = name.split("/")[0]
                if there == "conn" and here not in CONN_USERS:
                    bad.append("%s includes \"%s\": only %s use conn/"
                               % (path, name, ", ".join(sorted(CONN_USERS))))
                if there != here:
                    arrows.setdefault((here, there), set()).add(
                        "%s includes %s" % (mod, name))
    return bad


CONN_FIELD = (r"(?:\bc|->c)->((?:http|tls|fault|h2|dial)\.[a-z_0-9]+|"
              r"[a-z_0-9]+)")


def check_conn_writers(top):
    """The connection record has one writer per field: every assignment
    to a field of c (=, op=, ++, --, or the destination of snprintf,
    memcpy, strcpy, memset) in conn/ happens in one module."""
    writers = {}
    d = os.path.join(top, "conn")
    if not os.path.isdir(d):
        return []
    for f in sorted(os.listdir(d)):
        if not f.endswith(".c"):
            continue
        text = open(os.path.join(d, f), encoding="utf-8").read()
        found = re.findall(CONN_FIELD + r"(?:\.[a-z_0-9]+)*(?:\[[^\]]*\])?\s*"
                           r"(?:=(?!=)|\+=|-=|\|=|&=|\+\+|--)", text)
        found += re.findall(r"(?:\+\+|--)\s*" + CONN_FIELD, text)
        found += re.findall(r"(?:snprintf|memcpy|strcpy|memset)\(\s*&?" +
                            CONN_FIELD, text)
        for field in found:
            writers.setdefault(field, set()).add(f[:-2])
    return ["the connection's field %s is assigned in %s; one module owns it "
            "(conn.h)" % (k, ", ".join(sorted(v)))
            for k, v in sorted(writers.items()) if len(v) > 1]


def check_doc(path, mods):
    text = open(path, encoding="utf-8").read()
    bad = []
    drawn = {}
    for f, deps in re.findall(r"^(\w+)\s+-> (.*)$", text, re.M):
        drawn[f] = {d.strip() for d in deps.split(",")} - {"-"}
    for f, deps in FOLDER_DEPS.items():
        if f != "." and drawn.get(f) != deps:
            bad.append("%s draws %s/ -> %s; the check allows %s"
                       % (path, f, ", ".join(sorted(drawn.get(f, []))) or "-",
                          ", ".join(sorted(deps)) or "-"))
    for mod in sorted(mods):
        if "/" in mod and ("`%s.c`" % mod) not in text and \
                ("`%s.h`" % mod) not in text:
            bad.append("%s does not list the module %s" % (path, mod))
    return bad


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    mods = sources(args[0])
    objs = {}
    for top in args[1:]:
        for root, _, files in os.walk(top):
            for f in files:
                if not f.endswith(".c.o"):
                    continue
                rel = os.path.relpath(os.path.join(root, f), top)
                rel = rel[len("proxy/"):] if rel.startswith("proxy/") else rel
                name = rel[:-len(".c.o")]
                if name in mods:
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
    arrows = {}
    for name, (_, used) in table.items():
        for sym in used:
            if sym in owner and owner[sym] != name:
                graph[name].add(owner[sym])
                a, b = folder(name), folder(owner[sym])
                if a != b:
                    arrows.setdefault((a, b), set()).add(
                        "%s calls %s (%s)" % (name, owner[sym], sym))
    if "--dot" in sys.argv:
        print("digraph proxy {")
        for n in sorted(graph):
            for m in sorted(graph[n]):
                print('  "%s" -> "%s";' % (n, m))
        print("}")
    else:
        for n in sorted(graph):
            print("%s -> %s" % (n, ", ".join(sorted(graph[n])) or "-"))
    bad = check_sources(mods, arrows)
    bad += check_conn_writers(args[0])
    for a in sys.argv[1:]:
        if a.startswith("--doc="):
            bad += check_doc(a[len("--doc="):], mods)
    for (a, b), why in sorted(arrows.items()):
        if b not in FOLDER_DEPS.get(a, set()):
            bad.append("the arrow %s/ -> %s/ points up: %s"
                       % (a, b, "; ".join(sorted(why)[:3])))
    folders = {}
    for a, b in arrows:
        folders.setdefault(a, set()).add(b)
    for a in sorted(folders):
        print("folder %s/ -> %s" % (a, ", ".join(sorted(f + "/" for f in
                                                        folders[a]))))
    cycle = find_cycle(graph)
    if cycle:
        bad.append("the module graph has a cycle: " + " -> ".join(cycle))
    for line in bad:
        print("FAIL: " + line, file=sys.stderr)
    if bad:
        return 1
    print("ok: %d modules, %d arrows, no cycle; %d folders, every arrow "
          "points down" % (len(graph), sum(len(v) for v in graph.values()),
                           len(folders)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
