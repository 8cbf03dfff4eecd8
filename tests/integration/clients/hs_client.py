"""One HTTPS request with Python's ssl + http.client (what requests, pip
and urllib use underneath), printing what the app sees: "ok STATUS" or
"ExceptionType: text" (without the _ssl.c line that varies by build).
It offers http/1.1 in ALPN, as urllib3 2 (requests) and http.client do.

  hs_client.py URL CAFILE [--proxy HOST:PORT] [--tls-max 1.0|1.2]
               [--ciphers LIST] [--timeout SEC]
"""
import argparse
import http.client
import re
import ssl
import sys
import urllib.parse
import warnings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("cafile")
    ap.add_argument("--proxy")
    ap.add_argument("--tls-max")
    ap.add_argument("--ciphers")
    ap.add_argument("--timeout", type=float, default=5)
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    warnings.simplefilter("ignore")  # TLS 1.0 is deprecated: on purpose
    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    if a.tls_max:
        v = {"1.0": ssl.TLSVersion.TLSv1, "1.2": ssl.TLSVersion.TLSv1_2}
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = v[a.tls_max]
    if a.ciphers:
        ctx.set_ciphers(a.ciphers)
    if a.proxy:
        host, port = a.proxy.rsplit(":", 1)
        conn = http.client.HTTPSConnection(host, int(port), context=ctx,
                                           timeout=a.timeout)
        conn.set_tunnel(u.hostname, u.port)
    else:
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx,
                                           timeout=a.timeout)
    try:
        conn.request("GET", u.path or "/")
        print("ok %d" % conn.getresponse().status)
    except Exception as e:  # the app's view, whatever it is
        print("%s: %s" % (type(e).__name__,
                          re.sub(r" ?\(?_ssl\.c:\d+\)?:?", "", str(e))))
        sys.exit(1)
    finally:
        conn.close()


if __name__ == "__main__":
    main()
