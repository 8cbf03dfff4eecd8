#!/usr/bin/env python3
"""Test origin for chainproxy's integration tests (standard library only).

Routes:
  GET  /file/NAME        a file from --root, with Content-Length
  GET  /bytes/N          N bytes of a fixed pattern, Content-Length
  GET  /chunked/N        N bytes, Transfer-Encoding: chunked
  GET  /close/N          N bytes, no length: the body ends at EOF
  GET  /slow?ms=M        waits M ms, then answers "slow"
  GET  /hello            "hello from origin\n"
  GET  /peer             the client's source port: which TCP connection
                         the request came on
  POST|PUT /upload       reads the body (length or chunked), answers JSON
                         {"bytes": n, "sha256": hex}
  HEAD on any GET route
Prints "ready PORT" on stdout once listening.
"""
import argparse
import hashlib
import http.server
import json
import os
import socketserver
import ssl
import sys
import time
import urllib.parse

PATTERN = bytes(range(256)) * 256  # 64 KiB


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cp-test-origin/1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, body, headers=(), length=True):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _stream(self, n, chunked=False):
        sent = 0
        while sent < n:
            piece = PATTERN[: min(len(PATTERN), n - sent)]
            if chunked:
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            else:
                self.wfile.write(piece)
            sent += len(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        query = urllib.parse.parse_qs(url.query)
        if parts[0] == "hello":
            self._send(200, b"hello from origin\n",
                       [("Content-Type", "text/plain"),
                        ("X-Seen-Host", self.headers.get("Host", "")),
                        ("X-Seen-Via", self.headers.get("Via", "")),
                        ("X-Seen-Proxy-Connection",
                         self.headers.get("Proxy-Connection", "")),
                        ("X-Seen-Path", self.path)])
        elif parts[0] == "peer":
            self._send(200, b"%d\n" % self.client_address[1],
                       [("Content-Type", "text/plain")])
        elif parts[0] == "file" and len(parts) == 2:
            path = os.path.join(self.server.root, os.path.basename(parts[1]))
            size = os.path.getsize(path)
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command != "HEAD":
                with open(path, "rb") as f:
                    while True:
                        buf = f.read(1 << 20)
                        if not buf:
                            break
                        self.wfile.write(buf)
        elif parts[0] in ("bytes", "chunked", "close") and len(parts) == 2:
            n = int(parts[1])
            self.send_response(200)
            if parts[0] == "bytes":
                self.send_header("Content-Length", str(n))
            elif parts[0] == "chunked":
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self._stream(n, chunked=parts[0] == "chunked")
        elif parts[0] == "sse":
            # Server-sent events with a silence between them: n events,
            # gap ms apart, chunked, then the end of the stream.
            n = int(query.get("n", ["2"])[0])
            gap = int(query.get("gap", ["1000"])[0]) / 1000.0
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(n):
                if i:
                    time.sleep(gap)
                ev = b"data: event %d\n\n" % (i + 1)
                self.wfile.write(b"%x\r\n" % len(ev) + ev + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif parts[0] == "slow":
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000.0)
            self._send(200, b"slow\n")
        else:
            self._send(404, b"no such route\n")

    def _read_body(self, sink):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = size
                while left:
                    buf = self.rfile.read(min(left, 1 << 20))
                    if not buf:
                        raise ConnectionError("short chunk")
                    sink(buf)
                    left -= len(buf)
                self.rfile.readline()
        left = int(self.headers.get("Content-Length", "0"))
        while left:
            buf = self.rfile.read(min(left, 1 << 20))
            if not buf:
                raise ConnectionError("short body")
            sink(buf)
            left -= len(buf)

    def do_POST(self):
        h = hashlib.sha256()
        n = [0]

        def sink(b):
            h.update(b)
            n[0] += len(b)

        self._read_body(sink)
        body = json.dumps({"bytes": n[0], "sha256": h.hexdigest()}).encode()
        self._send(200, body + b"\n", [("Content-Type", "application/json")])

    do_PUT = do_POST


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--root", default=".")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    if ":" in args.host:
        Server.address_family = __import__("socket").AF_INET6
    srv = Server((args.host, args.port), Handler)
    srv.root = args.root
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        # As most HTTP/1.1 servers do; chainproxy answers its clients with
        # the origin's choice.
        ctx.set_alpn_protocols(["http/1.1"])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
