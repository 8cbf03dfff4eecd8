"""A local port that opens a CONNECT tunnel through an HTTP proxy for each
connection, for clients that cannot use a proxy themselves (gnutls-cli).

  tunnel.py PROXY_PORT TARGET_HOST:PORT  -> prints "ready LISTEN_PORT"

Runs until killed; each connection is relayed until either side closes.
"""
import socket
import sys
import threading


def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(client, proxy_port, target):
    up = socket.create_connection(("127.0.0.1", proxy_port), timeout=20)
    up.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                % (target, target)).encode())
    head = b""
    while not head.endswith(b"\r\n\r\n") and len(head) < 16384:
        b = up.recv(1)
        if not b:
            break
        head += b
    if not head.startswith(b"HTTP/1.1 200"):
        client.close()
        up.close()
        return
    up.settimeout(None)
    t = threading.Thread(target=pipe, args=(up, client), daemon=True)
    t.start()
    pipe(client, up)
    t.join(30)
    client.close()
    up.close()


def main():
    proxy_port, target = int(sys.argv[1]), sys.argv[2]
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    print("ready %d" % ls.getsockname()[1], flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, proxy_port, target),
                         daemon=True).start()


if __name__ == "__main__":
    main()
