"""GET / from one catalogue case with Python's ssl module, trusting only
the catalogue CA: prints "ok <body's first line>" or "error <what Python
said>" and exits 0 or 1.

    catalogue_py.py CA_FILE NAME PORT [--alpn]  (--alpn: offer http/1.1, as http.client does)
"""
import socket
import ssl
import sys


def main():
    ca_file, name, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ctx = ssl.create_default_context(cafile=ca_file)
    if "--alpn" in sys.argv[4:]:
        ctx.set_alpn_protocols(["http/1.1"])
    host = "%s.chainproxy.test" % name
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname=host) as t:
                t.sendall(b"GET / HTTP/1.1\r\nHost: " + host.encode() +
                          b"\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    b = t.recv(4096)
                    if not b:
                        break
                    data += b
    except (OSError, ssl.SSLError) as e:
        print("error %s" % e)
        return 1
    body = data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace")
    print("ok %s" % body.splitlines()[0] if body else "error empty answer")
    return 0 if body else 1


if __name__ == "__main__":
    sys.exit(main())
