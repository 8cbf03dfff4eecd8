#!/usr/bin/env python3
"""An HTTP/2 client by prior knowledge: TLS inside a CONNECT tunnel with
no ALPN at all, then the HTTP/2 preface and one GET of /hello (HPACK by hand: static
table entries and one literal). Prints what came back:
  "status 200 body <first bytes>" when relayed, or
  "goaway <error code> <debug data>" when refused.
usage: h2_prior.py PROXY_PORT HOST PORT CAFILE"""
import struct
import sys

from connect_tls import connect, tls

proxy_port, host, port, cafile = sys.argv[1], sys.argv[2], sys.argv[3], \
    sys.argv[4]
s, head = connect(proxy_port, host, port, extra=b"Host: x\r\n", timeout=None)
t = tls(s, cafile, host)  # no ALPN offered


def frame(ftype, flags, sid, payload):
    return struct.pack("!I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack("!I", sid) + payload


authority = ("%s:%s" % (host, port)).encode()
# :method GET, :scheme https, :path /hello, :authority (literals indexed).
block = b"\x82\x87" + b"\x44\x06/hello" + b"\x41" + \
    bytes([len(authority)]) + authority
t.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"") +
          frame(1, 0x05, 1, block))  # HEADERS, END_STREAM|END_HEADERS
buf = b""
status = None
body = b""
t.settimeout(10)
while True:
    while len(buf) < 9 or len(buf) < 9 + struct.unpack("!I", b"\0" +
                                                          buf[:3])[0]:
        chunk = t.recv(65536)
        if not chunk:
            print("closed" if status is None else
                  "status %s body %s" % (status, body[:40].decode()))
            sys.exit(0)
        buf += chunk
    n = struct.unpack("!I", b"\0" + buf[:3])[0]
    ftype, flags = buf[3], buf[4]
    payload, buf = buf[9:9 + n], buf[9 + n:]
    if ftype == 7:  # GOAWAY
        code = struct.unpack("!I", payload[4:8])[0]
        if code != 0 or status is None:
            print("goaway %d %s" % (code, payload[8:].decode()))
            sys.exit(0)
    elif ftype == 1:  # HEADERS: the first byte of :status 200 is 0x88
        status = 200 if payload[:1] == b"\x88" else "other"
    elif ftype == 0:
        body += payload
        if flags & 1:
            print("status %s body %s" % (status, body[:40].decode()))
            sys.exit(0)
