#!/usr/bin/env python3
"""WebSocket clients through chainproxy, for it_websocket_python.sh.

usage: ws_client.py wss PROXY_PORT HOST ORIGIN_PORT CAFILE
         python3-websockets over an intercepted CONNECT tunnel (wss://)
       ws_client.py ws PROXY_PORT ORIGIN_PORT
         a raw RFC 6455 client sending an absolute-form request (ws://)
Sends text and binary messages of 1 byte to 1 MiB, checks every echo, and
closes with the close handshake. Prints one line per check; exit 1 on any
failure."""
import asyncio
import base64
import hashlib
import os
import socket
import ssl
import struct
import sys

SIZES = [1, 125, 126, 65535, 65536, 1 << 20]
failed = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failed.append(what)


def connect_tunnel(proxy_port, authority):
    s = socket.create_connection(("127.0.0.1", proxy_port))
    s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n"
              % (authority.encode(), authority.encode()))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise RuntimeError("proxy closed during CONNECT")
        head += chunk
    check(head.startswith(b"HTTP/1.1 200"), "CONNECT answered 200")
    return s


async def wss(proxy_port, host, origin_port, cafile):
    import websockets

    sock = connect_tunnel(proxy_port, "%s:%s" % (host, origin_port))
    ctx = ssl.create_default_context(cafile=cafile)
    uri = "wss://%s:%s/echo" % (host, origin_port)
    async with websockets.connect(uri, sock=sock, ssl=ctx,
                                  server_hostname=host,
                                  max_size=4 << 20) as ws:
        check(await ws.recv() == "hello from origin",
              "the origin's first message arrives")
        for n in SIZES:
            text = "x" * n
            await ws.send(text)
            check(await ws.recv() == text, "text echo of %d bytes" % n)
            data = os.urandom(n)
            await ws.send(data)
            check(await ws.recv() == data, "binary echo of %d bytes" % n)
    check(ws.close_code == 1000, "close handshake (code %s)" % ws.close_code)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    return buf


def send_frame(s, opcode, payload):
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    s.sendall(head + mask + masked)


def recv_frame(s):
    b0, b1 = recv_exact(s, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(s, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(s, 8))[0]
    return b0 & 0x0F, recv_exact(s, n)


def ws_absolute(proxy_port, origin_port):
    s = socket.create_connection(("127.0.0.1", proxy_port))
    key = base64.b64encode(os.urandom(16))
    s.sendall(b"GET http://127.0.0.1:%d/echo HTTP/1.1\r\n"
              b"Host: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n"
              % (origin_port, origin_port, key))
    head = b""
    while b"\r\n\r\n" not in head:
        head += recv_exact(s, 1)
    want = base64.b64encode(hashlib.sha1(
        key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    check(head.startswith(b"HTTP/1.1 101 "), "101 Switching Protocols")
    check(b"\r\nSec-WebSocket-Accept: " + want in head, "accept key relayed")
    check(b"\r\nUpgrade: websocket" in head.replace(b"WebSocket", b"websocket"),
          "Upgrade relayed")
    op, msg = recv_frame(s)
    check(op == 1 and msg == b"hello from origin",
          "the origin's first message arrives")
    for n in SIZES:
        data = os.urandom(n)
        send_frame(s, 2, data)
        op, got = recv_frame(s)
        check(op == 2 and got == data, "binary echo of %d bytes" % n)
    send_frame(s, 8, struct.pack("!H", 1000))
    op, got = recv_frame(s)
    check(op == 8 and got[:2] == struct.pack("!H", 1000),
          "close handshake answered")
    check(s.recv(1) == b"", "then the connection closes")
    s.close()


def main():
    if sys.argv[1] == "wss":
        asyncio.run(wss(int(sys.argv[2]), sys.argv[3], sys.argv[4],
                        sys.argv[5]))
    else:
        ws_absolute(int(sys.argv[2]), int(sys.argv[3]))
    return 1 if failed else 0


sys.exit(main())
