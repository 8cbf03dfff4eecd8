"""Python's ssl + http.client through an HTTP proxy (CONNECT), as requests
and pip do underneath.

  py_client.py PROXY_HOST PROXY_PORT HOST PORT CAFILE LABEL=PROXY_PORT...

For each LABEL (a chain profile) the proxy port given replaces
PROXY_PORT; prints "LABEL<TAB>ok 200" or "LABEL<TAB><error text>".
"""
import http.client
import re
import ssl
import sys


def one(proxy_host, proxy_port, host, port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    conn = http.client.HTTPSConnection(proxy_host, proxy_port, context=ctx,
                                       timeout=20)
    conn.set_tunnel(host, port)
    try:
        conn.request("GET", "/hello")
        return "ok %d" % conn.getresponse().status
    except ssl.SSLCertVerificationError as e:
        # The text users see, without the source line that varies by build.
        return re.sub(r" \(_ssl\.c:\d+\)", "", str(e))
    except (ssl.SSLError, OSError) as e:
        return "%s: %s" % (type(e).__name__, e)
    finally:
        conn.close()


def main():
    proxy_host, _, host, port, cafile = sys.argv[1:6]
    for arg in sys.argv[6:]:
        label, pport = arg.split("=")
        print("%s\t%s" % (label, one(proxy_host, int(pport), host, int(port),
                                     cafile)), flush=True)


if __name__ == "__main__":
    main()
