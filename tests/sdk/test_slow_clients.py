"""Slow clients against the real binary: on both listeners, a connection that
sends half a request head is closed after the header-read timeout the settings give, while other
clients are served; `/health` and `/ready` answer on the gateway listener too."""

import socket

import sdkhelpers as h
from portico_server import Server

# Reached only when a connection is never closed; the timeouts below are far shorter.
NEVER = 20.0


def closed_by_the_server(sock):
    sock.settimeout(NEVER)
    try:
        while sock.recv(1024):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError(f"the connection is still open after {NEVER:.0f} s")


def test_half_sent_headers_are_cut_off_on_both_listeners(tmp_path):
    (tmp_path / "data").mkdir()
    server = Server(tmp_path / "data", tmp_path, env={
        "PORTICO_HEADER_READ_TIMEOUT_MS": "300",
        "PORTICO_GATEWAY_HEADER_READ_TIMEOUT_MS": "300",
    })
    server.start()
    try:
        gateway_url = f"http://127.0.0.1:{server.gateway_port}"
        slow = []
        for port in (server.port, server.gateway_port):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: slow.example\r\nX-Half: ")
            slow.append(sock)
        with h.http_session() as s:
            for url in (server.base_url, gateway_url):
                for path, text in (("/health", "OK"), ("/ready", "READY")):
                    response = s.get(url + path, timeout=10)
                    assert (response.status_code, response.text) == (200, text), (url, path, response.text)
        for sock in slow:
            closed_by_the_server(sock)
            sock.close()
    finally:
        server.stop()
