#!/usr/bin/env python3
"""A WebSocket echo origin for the tests, on Debian's python3-websockets.

usage: ws_origin.py [--cert PEM --key PEM]
Listens on 127.0.0.1 (a free port), prints "ready PORT". Each connection
first gets the text message "hello from origin" (the server speaks first,
so the relay is tested upstream to client before any client byte), then
every message is echoed back as it came (text or binary)."""
import argparse
import asyncio
import ssl

import websockets


async def echo(ws, path=None):
    await ws.send("hello from origin")
    async for msg in ws:
        await ws.send(msg)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    ctx = None
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
    async with websockets.serve(echo, "127.0.0.1", 0, ssl=ctx,
                                max_size=4 << 20) as server:
        port = server.sockets[0].getsockname()[1]
        print("ready %d" % port, flush=True)
        await asyncio.Future()


asyncio.run(main())
