"""End-to-end, as a QA suite drives chainproxy: flip a host to `legacy`
through the control API, watch a client that trusts only the old root and
an OpenSSL-1.0.2-style client that trusts both roots fail, read the
rejections back from /events, flip to `modern`, watch them pass, then
check /stats, /metrics and every error status of the API.

Standard library only. Arguments come from it_qa_python.sh:
  qa_e2e.py CONTROL_URL PROXY_PORT ORIGIN_PORT CA_DIR OLDSSL_CLIENT
"""
import http.client
import json
import re
import ssl
import time
import subprocess
import sys
import urllib.parse

CONTROL, PROXY_PORT, ORIGIN_PORT, CA_DIR, OLDSSL = sys.argv[1:6]
PROXY_PORT, ORIGIN_PORT = int(PROXY_PORT), int(ORIGIN_PORT)
CTL = urllib.parse.urlsplit(CONTROL)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def api(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(CTL.hostname, CTL.port, timeout=10)
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    conn.request(method, path, body=data, headers=headers or {})
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    ctype = resp.getheader("Content-Type", "")
    doc = json.loads(raw) if ctype.startswith("application/json") else raw
    return resp.status, doc, resp


def python_client(cafile):
    """Python's own stack through the proxy; returns 'ok' or the error."""
    ctx = ssl.create_default_context(cafile=cafile)
    conn = http.client.HTTPSConnection("127.0.0.1", PROXY_PORT, context=ctx,
                                       timeout=20)
    conn.set_tunnel("localhost", ORIGIN_PORT)
    try:
        conn.request("GET", "/hello")
        return "ok" if conn.getresponse().status == 200 else "bad status"
    except ssl.SSLCertVerificationError as e:
        return e.verify_message
    finally:
        conn.close()


def old_client(cafile):
    out = subprocess.run([OLDSSL, "1.0.2", "127.0.0.1:%d" % PROXY_PORT,
                          "localhost:%d" % ORIGIN_PORT, cafile],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


root = CA_DIR + "/root.pem"
legacy_only = CA_DIR + "/legacy-root.pem"
both = CA_DIR + "/both.pem"
with open(both, "w") as f:
    f.write(open(root).read() + open(legacy_only).read())

# The CA is downloadable from the API, byte for byte.
status, pem, _ = api("GET", "/ca.pem")
check(status == 200 and pem == open(root, "rb").read(), "GET /ca.pem")
status, pem, _ = api("GET", "/ca/legacy-root.pem")
check(status == 200 and pem == open(legacy_only, "rb").read(),
      "GET /ca/legacy-root.pem")
status, doc, _ = api("GET", "/healthz")
check(status == 200 and doc["ok"] is True, "GET /healthz")

# Flip localhost to legacy, for the origin's port only.
status, doc, _ = api("PUT", "/rules/localhost",
                     {"chain": "legacy", "port": ORIGIN_PORT})
check(status == 200 and doc["rule"]["chain"] == "legacy", "PUT legacy rule")
status, doc, _ = api("GET", "/rules")
check(doc["rules"] == [{"host": "localhost", "port": ORIGIN_PORT,
                        "chain": "legacy"}], "GET /rules shows it")
status, doc, _ = api("GET", "/events?since=0&limit=1000")
mark = doc["next"]

r = python_client(legacy_only)
check(r == "certificate has expired",
      "legacy: Python trusting only legacy-root.pem fails (%s)" % r)
r = old_client(both)
check(r.startswith("error 10: certificate has expired"),
      "legacy: 1.0.2-style client trusting both roots fails (%s)" % r)
r = python_client(root)
check(r == "ok", "legacy: a current client trusting root.pem passes (%s)" % r)

status, doc, _ = api("GET", "/events?since=%d&limit=1000" % mark)
rejected = [e for e in doc["events"] if e["event"] == "client_handshake"
            and not e["accepted"]]
check(status == 200 and doc["dropped"] == 0, "GET /events since the mark")
check(len(rejected) == 2 and
      all(e["profile"] == "legacy" and e["alert"] == "certificate_expired"
          for e in rejected),
      "/events: two rejections of legacy with alert certificate_expired")
check(all(len(e["served"]) == 3 for e in rejected),
      "/events: legacy served leaf + intermediate + cross-sign")
ids = [e["id"] for e in doc["events"]]
check(ids == sorted(ids) and doc["next"] == ids[-1], "event ids and next")

# Flip to modern: both clients that failed for the old chain now pass.
status, doc, _ = api("PUT", "/rules/localhost",
                     {"chain": "modern", "port": ORIGIN_PORT})
check(status == 200, "PUT modern rule (replaces the legacy one)")
status, doc, _ = api("GET", "/rules")
check(len(doc["rules"]) == 1 and doc["rules"][0]["chain"] == "modern",
      "one rule, now modern")
r = old_client(both)
check(r == "ok", "modern: 1.0.2-style client trusting both passes (%s)" % r)
r = python_client(root)
check(r == "ok", "modern: Python trusting root.pem passes (%s)" % r)
r = python_client(legacy_only)
check(r == "unable to get local issuer certificate",
      "modern: the Datadog Agent 5 store (legacy root only) fails (%s)" % r)

# Counters. A request is counted when its exchange ends, which may be
# after the client has its answer: wait (bounded) for the connections to
# close.
for _ in range(100):
    status, st, _ = api("GET", "/stats")
    if st["connections"]["open"] == 0:
        break
    time.sleep(0.05)
hs = st["client_handshakes"]
check(status == 200 and hs["refused"] == 3 and hs["accepted"] == 3,
      "/stats: 3 accepted, 3 refused handshakes (%s)" % hs)
check(hs["refused_by_alert"].get("certificate_expired") == 2 and
      hs["refused_by_alert"].get("unknown_ca") == 1,
      "/stats: refusals by alert")
check(st["upstream_verify"]["ok"] == 6 and st["connections"]["accepted"] >= 6,
      "/stats: six verified upstreams and connections (%s, %s)"
      % (st["upstream_verify"], st["connections"]))
# (accepted also counts the harness probing the port.) The old-stack
# client only handshakes; the two passing Python runs send
# one request each.
check(st["requests"] == 2, "/stats: two requests relayed (%s)"
      % st["requests"])

status, text, resp = api("GET", "/metrics")
text = text.decode()
check(status == 200 and
      resp.getheader("Content-Type").startswith("text/plain; version=0.0.4"),
      "/metrics content type")
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*='
                    r'"[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? '
                    r'-?[0-9.eE+]+$')
bad = [line for line in text.splitlines() if line and
       not line.startswith("# HELP ") and not line.startswith("# TYPE ") and
       not sample.match(line)]
check(not bad, "/metrics: every line is Prometheus text format %s" % bad[:2])
check('chainproxy_client_rejections_total{alert="certificate_expired"} 2'
      in text, "/metrics: rejections by alert")
check("# TYPE chainproxy_connections_open gauge" in text, "/metrics: gauge")

# Every error status.
for method, path, body, want, what in [
        ("PUT", "/rules/localhost", b"{not json", 400, "bad JSON"),
        ("PUT", "/rules/localhost", {"chain": "vintage"}, 400,
         "unknown profile"),
        ("PUT", "/rules/localhost", {"chain": "modern", "port": 0}, 400,
         "bad port"),
        ("PUT", "/rules/localhost", {"chain": "modern", "extra": 1}, 400,
         "unknown field"),
        ("PUT", "/rules/bad%20host", {"chain": "modern"}, 400, "bad host"),
        ("GET", "/events?since=x", None, 400, "bad since"),
        ("GET", "/events?limit=5000", None, 400, "limit too large"),
        ("GET", "/nowhere", None, 404, "unknown path"),
        ("DELETE", "/rules/absent.test", None, 404, "delete a missing rule"),
        ("POST", "/rules", b"{}", 405, "wrong method on /rules"),
        ("GET", "/rules/localhost", None, 405, "GET on a rule"),
        ("DELETE", "/stats", None, 405, "wrong method on /stats")]:
    status, doc, resp = api(method, path, body)
    check(status == want and isinstance(doc, dict) and doc.get("error"),
          "%d for %s: %s" % (want, what, doc))
    if want == 405:
        check(resp.getheader("Allow") is not None, "Allow header on 405")
status, doc, _ = api("DELETE", "/rules/localhost")
check(status == 200 and doc["rules"] == 1, "DELETE the rule")

if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all checks passed")
