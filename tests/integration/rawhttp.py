#!/usr/bin/env python3
"""Sends raw bytes to HOST:PORT and prints what comes back until the peer
closes or --timeout passes. Used for requests curl refuses to send.

  rawhttp.py PORT [--host H] [--timeout S] [--hold S] < request-bytes
  rawhttp.py PORT --headers-size N   (a GET with N bytes of header fields)
Exit status: 0 when the peer closed, 3 on timeout.
"""
import argparse
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--headers-size", type=int, default=0)
    args = ap.parse_args()
    if args.headers_size:
        fields = b"".join(b"X-Filler-%06d: %s\r\n" % (i, b"a" * 80)
                          for i in range(args.headers_size // 100 + 1))
        data = b"GET http://127.0.0.1:9/ HTTP/1.1\r\n" + fields + b"\r\n"
    else:
        data = sys.stdin.buffer.read()
    s = socket.create_connection((args.host, args.port), timeout=args.timeout)
    try:
        if data:
            s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    out = b""
    deadline = time.time() + args.timeout
    rc = 0
    while True:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            b = s.recv(65536)
        except socket.timeout:
            rc = 3
            break
        except ConnectionResetError:
            break
        if not b:
            break
        out += b
    sys.stdout.buffer.write(out)
    return rc


if __name__ == "__main__":
    sys.exit(main())
