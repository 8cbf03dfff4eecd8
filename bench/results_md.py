#!/usr/bin/env python3
"""bench/RESULTS.md from one run of bench/run.sh: the machine, the table
(rates at concurrency 16, 64 in parentheses), the ratios the targets are
stated in, the sweeps, and the idle tunnels. Usage:
results_md.py RESULTS_TSV IDLE_TSV [SPEED_TXT [EVENTS_TSV]]"""
import os
import platform
import subprocess
import sys

COLS = ["anchor", "mode", "conc", "hosts", "rate", "mbps", "p50", "p99",
        "ops", "errors", "cpu", "hwm_kb", "origin_conns", "origin_resumed"]


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            v = line.rstrip("\n").split("\t")
            if len(v) == len(COLS):
                rows.append(dict(zip(COLS, v)))
    return rows


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def cmd(*argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except OSError:
        return "?"


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    nginx = cmd("sh", "-c", "nginx -v 2>&1").replace("nginx version: ", "")
    squid = cmd("sh", "-c", "squid -v 2>/dev/null | head -1")
    return ("%d cores (%s), %.0f GiB, Linux %s; %s; %s; %s" %
            (os.cpu_count(), model, mem, platform.release(),
             cmd("openssl", "version"), nginx, squid))


def floor_ms(path):
    """The primitives one tunnel cannot avoid, from `openssl speed -mr`
    lines (+F4: ECDSA P-256 sign/s and verify/s; +F5: X25519 op/s): an
    X25519 key pair and derivation on each leg (4 operations), one P-256
    signature for the client, and two P-256 verifications of the origin
    (its CertificateVerify and its certificate's signature)."""
    sign = verify = x25519 = None
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                v = line.strip().split(":")
                if v[0] == "+F4" and len(v) >= 5:
                    sign, verify = num(v[3]), num(v[4])
                elif v[0] == "+F5" and len(v) >= 4:
                    x25519 = num(v[3])
    if not (sign and verify and x25519):
        return None, ""
    ms = 1000.0 * (4 / x25519 + 1 / sign + 2 / verify)
    return ms, ("X25519 %.0f op/s, P-256 sign %.0f/s, verify %.0f/s: "
                "4 X25519 + 1 sign + 2 verify = %.3f ms" %
                (x25519, sign, verify, ms))


def cpu_per_tunnel(r):
    """Milliseconds of the proxy's CPU per `new` tunnel in row r."""
    cpu, rate = num(r.get("cpu")), num(r.get("rate"))
    return 10.0 * cpu / rate if cpu and rate else None


def main():
    rows = load(sys.argv[1])
    idle = []
    if len(sys.argv) > 2 and os.path.exists(sys.argv[2]):
        with open(sys.argv[2]) as f:
            idle = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    get = {}
    for r in rows:
        get[(r["anchor"], r["mode"], r["conc"], r["hosts"])] = r

    def cell(a, m, key="rate"):
        v = [get.get((a, m, c, "1"), {}).get(key) for c in ("16", "64")]
        if v[0] is None:
            return "–"
        return "%s (%s)" % (v[0], v[1] if v[1] is not None else "–")

    def ratio(a, b, m, key="rate", conc="16"):
        x = num(get.get((a, m, conc, "1"), {}).get(key))
        y = num(get.get((b, m, conc, "1"), {}).get(key))
        return "%.2f×" % (x / y) if x and y else "–"

    anchors = []
    for r in rows:
        if r["anchor"] not in anchors:
            anchors.append(r["anchor"])
    out = ["# Benchmark results", "",
           "Written by `bench/run.sh` (one run, every anchor on the same "
           "machine, one after the other; the load generator is "
           "`bench/loadgen.c`). Machine: " + machine() + ".", "",
           "Rates at concurrency 16, concurrency 64 in parentheses. `new`: "
           "a fresh tunnel with a full client handshake and one GET /1k; "
           "`keepalive`: GET /1k repeatedly on open tunnels; `bulk`: GET "
           "/1m repeatedly (MB/s). Peak RSS: the proxy's process tree "
           "(VmHWM summed) at the end of its cases.", "",
           "| anchor | new conn/s | keep-alive req/s | bulk MB/s | "
           "p99 keep-alive ms | peak RSS MiB | proxy CPU % (new) | "
           "origin TLS conns (resumed), new c16 | errors |",
           "|---|---|---|---|---|---|---|---|---|"]
    for a in anchors:
        hwm = [num(r["hwm_kb"]) for r in rows if r["anchor"] == a]
        hwm = [h for h in hwm if h]
        errs = sum(int(num(r["errors"]) or 0) for r in rows
                   if r["anchor"] == a)
        nc = get.get((a, "new", "16", "1"), {})
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s (%s) | %d |" % (
            a, cell(a, "new"), cell(a, "keepalive"), cell(a, "bulk", "mbps"),
            cell(a, "keepalive", "p99"),
            "%.1f" % (max(hwm) / 1024) if hwm else "–",
            nc.get("cpu", "–"), nc.get("origin_conns", "–"),
            nc.get("origin_resumed", "–"), errs))
    out += ["", "## Ratios (concurrency 16; 64 in parentheses)", "",
            "| target | measured |", "|---|---|"]
    for what, a, b, m, key in [
            ("new, full upstream handshake ≥ 1.5× nginx_nopool",
             "chainproxy_full", "nginx_nopool", "new", "rate"),
            ("new, full upstream handshake ≥ 1.5× squid_nopool",
             "chainproxy_full", "squid_nopool", "new", "rate"),
            ("new, with resumption ≥ 1.0× nginx (pooled)",
             "chainproxy", "nginx", "new", "rate"),
            ("new, with --upstream-pool ≥ 1.0× nginx (pooled)",
             "chainproxy_pool", "nginx", "new", "rate"),
            ("keepalive ≥ 1.1× nginx (pooled)",
             "chainproxy", "nginx", "keepalive", "rate"),
            ("bulk ≥ 1.1× nginx (pooled)", "chainproxy", "nginx", "bulk",
             "mbps"),
            ("keep-alive p99 ≤ nginx's (lower is better)", "chainproxy",
             "nginx", "keepalive", "p99")]:
        out.append("| %s | %s (%s) |" % (what, ratio(a, b, m, key, "16"),
                                         ratio(a, b, m, key, "64")))
    sweep_c = [r for r in rows if r["anchor"] == "chainproxy" and
               r["mode"] == "new" and r["hosts"] == "1"]
    sweep_h = [r for r in rows if r["mode"] == "hosts"]
    if len(sweep_c) > 2:
        out += ["", "## chainproxy `new` against concurrency", "",
                "| concurrency | conn/s | p50 ms | p99 ms | proxy CPU % |",
                "|---|---|---|---|---|"]
        seen = set()
        for r in sorted(sweep_c, key=lambda r: int(r["conc"])):
            if r["conc"] in seen:
                continue
            seen.add(r["conc"])
            out.append("| %s | %s | %s | %s | %s |" % (
                r["conc"], r["rate"], r["p50"], r["p99"], r["cpu"]))
    if sweep_h:
        out += ["", "## chainproxy `new` against distinct host names "
                "(concurrency 16)", "",
                "Each name is a leaf minted on first use and a full upstream "
                "handshake until its session is cached.", "",
                "| host names | conn/s | p99 ms | origin TLS conns "
                "(resumed) |", "|---|---|---|---|"]
        for r in sorted(sweep_h, key=lambda r: int(r["hosts"])):
            out.append("| %s | %s | %s | %s (%s) |" % (
                r["hosts"], r["rate"], r["p99"], r["origin_conns"],
                r["origin_resumed"]))
    floor, how = floor_ms(sys.argv[3] if len(sys.argv) > 3 else None)
    out += ["", "## CPU per new tunnel (concurrency 16)", "",
            "The proxy's CPU time (user + system, all its processes) per "
            "`new` tunnel: CPU % / 100 / rate. The crypto floor is what "
            "`openssl speed` says the primitives a tunnel needs cost on "
            "this machine" + (" (" + how + ")" if how else "") + "; the "
            "origin's and the load generator's share of the two cores is "
            "not in it.", "",
            "| anchor | CPU ms per tunnel | × crypto floor |",
            "|---|---|---|"]
    for a in anchors:
        ms = cpu_per_tunnel(get.get((a, "new", "16", "1"), {}))
        if ms is None or a == "direct":
            continue
        out.append("| %s | %.2f | %s |" % (
            a, ms, "%.1f×" % (ms / floor) if floor else "–"))
    ev = []
    if len(sys.argv) > 4 and os.path.exists(sys.argv[4]):
        with open(sys.argv[4]) as f:
            ev = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    if ev:
        out += ["", "## The event log", "",
                "chainproxy_events is the defaults with `--events FILE`; "
                "events per second are the lines the case added to the "
                "file over its duration.", "",
                "| mode | concurrency | events/s | rate with --events "
                "against without |", "|---|---|---|---|"]
        for m, c, n, el in ev:
            out.append("| %s | %s | %.0f | %s |" % (
                m, c, (num(n) or 0) / (num(el) or 1),
                ratio("chainproxy_events", "chainproxy", m,
                      "mbps" if m == "bulk" else "rate", c)))
    if idle:
        out += ["", "## Idle connections", "",
                "RSS growth of the proxy per idle connection (a tunnel "
                "that carried one GET and stays open), after all are up.",
                "", "| anchor | connections | KiB each |", "|---|---|---|"]
        for v in idle:
            out.append("| %s | %s | %s |" % (v[0], v[2], v[4]
                                             if len(v) > 4 else "–"))
    print("\n".join(out))


if __name__ == "__main__":
    main()
