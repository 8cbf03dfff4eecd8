"""One TLS handshake with Python's ssl module, as an app that trusts only
CAFILE sees it: prints "ok" or the verification error, exit 1 on error.

  py_verify.py HOST PORT SERVERNAME CAFILE [strict|default]

strict adds VERIFY_X509_STRICT and VERIFY_X509_PARTIAL_CHAIN, Python
3.13's defaults.
"""
import socket
import ssl
import sys

host, port, name, ca = sys.argv[1:5]
mode = sys.argv[5] if len(sys.argv) > 5 else "default"
ctx = ssl.create_default_context(cafile=ca)
if mode == "strict":
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
try:
    with socket.create_connection((host, int(port)), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=name):
            print("ok")
except (ssl.SSLError, OSError) as e:
    print(getattr(e, "verify_message", None) or e)
    sys.exit(1)
