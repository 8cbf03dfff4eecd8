"""CONNECT through chainproxy, then TLS: the one copy the integration
tests share (import it with sys.path.insert(0, os.environ["CP_CLIENTS"])).

    s, head = connect(proxy_port, "localhost", origin_port)
    t = tls(s, ca_file, "localhost", alpn=["http/1.1"])
"""
import socket
import ssl


def connect(proxy_port, host, port, extra=b"", timeout=10, proxy="127.0.0.1"):
    """A socket to the proxy after CONNECT host:port and the proxy's whole
    answer head (read byte by byte so nothing of the tunnel is consumed).
    extra: more header lines, each ending in CRLF."""
    s = socket.create_connection((proxy, int(proxy_port)), timeout=timeout)
    target = ("%s:%s" % (host, port)).encode()
    s.sendall(b"CONNECT " + target + b" HTTP/1.1\r\n" + extra + b"\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(1)
        if not b:
            break
        head += b
    return s, head


def context(ca_file, alpn=None):
    ctx = ssl.create_default_context(cafile=ca_file)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def tls(s, ca_file, server_hostname, alpn=None):
    """TLS over the tunnel s, verifying against ca_file."""
    return context(ca_file, alpn).wrap_socket(s,
                                              server_hostname=server_hostname)
