"""The HTTP limits (README, "Limits"), one test each, on a real `tieslod serve` on a loopback port.
Raw sockets where the client must misbehave (slow, huge, silent)."""
from __future__ import annotations

import socket
import time

import httpx
import pytest

HEADER_TIMEOUT, BODY_TIMEOUT, SEND_TIMEOUT = 1.5, 1.5, 2.0
MAX_BODY = 10_000
IN_FLIGHT = 4
BIG = "SELECT * { ?a ?b ?c . ?d ?e ?f } LIMIT 100000"   # ~35 MB of SPARQL JSON


@pytest.fixture(scope="module")
def server(tieslod_serve, real_settings):
    return tieslod_serve("--out", str(real_settings.out_dir), "--workers", "2", "--cache-mb", "0",
                         "--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT),
                         "--send-timeout", str(SEND_TIMEOUT), "--max-body-bytes", str(MAX_BODY),
                         "--max-in-flight", str(IN_FLIGHT), "--timeout", "20", "--client-query-seconds", "0",
                         "--client-concurrent", "0")


def port_of(server) -> int:
    return int(server.url.rstrip("/").rsplit(":", 1)[1])


def connect(server, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(("127.0.0.1", port_of(server)))
    sock.settimeout(10)
    return sock


def status_of(sock: socket.socket) -> int | None:
    """The status of the answer, or None if the server closed without one."""
    try:
        head = sock.recv(4096)
    except ConnectionResetError:
        return None
    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None


def ask(server, raw: bytes) -> int | None:
    with connect(server) as sock:
        sock.sendall(raw)
        return status_of(sock)


def seconds_until_closed(sock: socket.socket, drip: bytes | None, limit: float) -> tuple[float, bytes]:
    """Send `drip` every 0.2 s until the server closes the connection; (seconds, what it sent)."""
    start, got = time.monotonic(), b""
    sock.settimeout(0.2)
    while time.monotonic() - start < limit:
        try:
            if drip:
                sock.sendall(drip)
            data = sock.recv(4096)
            if not data:
                break
            got += data
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            break
    return time.monotonic() - start, got


def test_request_head_over_the_limit_is_431(server):
    assert ask(server, b"GET /sparql HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n") == 431
    assert ask(server, b"GET /sparql HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8_000 + b"\r\n\r\n") == 200


def test_more_than_100_headers_is_431(server):
    many = b"".join(b"X-%d: a\r\n" % i for i in range(100))
    assert ask(server, b"GET /sparql HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n") == 431
    assert ask(server, b"GET /sparql HTTP/1.1\r\nHost: x\r\n" + many[:-9 * 20] + b"\r\n") == 200


def test_headers_sent_slowly_are_cut_off(server):
    with connect(server) as sock:
        sock.sendall(b"GET /sparql HTTP/1.1\r\nHost: x\r\n")
        took, _ = seconds_until_closed(sock, b"X", limit=HEADER_TIMEOUT + 10)
    assert took < HEADER_TIMEOUT + 1.5


def test_idle_keep_alive_connection_is_closed(server):
    with connect(server) as sock:
        sock.sendall(b"GET /sparql HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(sock) == 200
        took, _ = seconds_until_closed(sock, None, limit=HEADER_TIMEOUT + 10)
    assert took < HEADER_TIMEOUT + 1.5


def test_body_sent_slowly_is_408(server):
    with connect(server) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                     b"Content-Length: 5000\r\n\r\n")
        took, got = seconds_until_closed(sock, b"A", limit=BODY_TIMEOUT + 10)
    assert got.startswith(b"HTTP/1.1 408 ") and took < BODY_TIMEOUT + 1.5


@pytest.mark.parametrize("path, content_type, streamed_status", [
    ("/sparql", "application/sparql-query", 413),
    ("/sparql", "application/x-www-form-urlencoded", 413),
    ("/reconcile", "application/x-www-form-urlencoded", 413),
    ("/reconcile", "application/json", 413),
    ("/", "text/plain", 405),   # a GET-only page never reads the body it is sent
])
def test_body_over_the_limit_is_413_on_every_route(server, path, content_type, streamed_status):
    body = b"a" * (MAX_BODY + 1)
    declared = httpx.post(server.url.rstrip("/") + path, content=body, headers={"Content-Type": content_type})
    assert declared.status_code == 413 and "limit" in declared.text

    def chunks():   # no Content-Length: the limit holds while reading
        for _ in range(20):
            yield b"a" * 1000
    streamed = httpx.post(server.url.rstrip("/") + path, content=chunks(), headers={"Content-Type": content_type})
    assert streamed.status_code == streamed_status


def test_url_over_65_kb_is_414(server):
    for size in (66_000, 70_000):
        assert ask(server, b"GET /sparql?query=" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n") == 414, size
    # longer than the whole request head may be: that limit answers first
    assert ask(server, b"GET /sparql?query=" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n") == 431
    query = "ASK { FILTER(" + " || ".join(["true"] * 5000) + ") }"   # ~40 kB: still a GET
    assert httpx.get(server.sparql, params={"query": query}, timeout=30).status_code == 200


def test_long_accept_header_is_431_at_once(server):
    start = time.monotonic()
    response = httpx.get(server.sparql, params={"query": "ASK {}"},
                         headers={"Accept": ", ".join(f"text/x-{i};q=0.{i % 9 + 1}" for i in range(2000))})
    assert response.status_code == 431 and "Accept" in response.text
    assert time.monotonic() - start < 1.0
    assert server.wait_for('"GET /sparql" 431')   # refusals are in the access log like any answer
    ok = httpx.get(server.sparql, params={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"})
    assert ok.status_code == 200


def test_a_reader_that_does_not_read_is_cut_off(server):
    request = httpx.Request("GET", server.sparql, params={"query": BIG})
    with connect(server) as sock:
        sock.sendall(f"GET {request.url.raw_path.decode()} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head = sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 200 ")
        length = int(head.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
        time.sleep(SEND_TIMEOUT + 2)   # not reading: the server must give up on us
        sock.settimeout(10)
        got, closed = len(head), False
        try:
            while data := sock.recv(1 << 20):   # now read as fast as we can
                got += len(data)
            closed = True
        except (TimeoutError, ConnectionResetError):
            pass
    # Without the delivery deadline the whole answer arrives (measured: 51 MB in 6.5 s after a 4 s pause).
    assert length > 20_000_000 and closed and got < length


def test_requests_in_flight_are_bounded(server):
    """IN_FLIGHT slow uploads hold every slot; one more request waits until the body deadline frees them."""
    held = [connect(server) for _ in range(IN_FLIGHT)]
    try:
        for sock in held:
            sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                         b"Content-Length: 100\r\n\r\nASK")
        time.sleep(0.3)
        start = time.monotonic()
        response = httpx.get(server.sparql, params={"query": "ASK {}"}, timeout=30)
        waited = time.monotonic() - start
        assert response.status_code == 200
        assert waited > BODY_TIMEOUT * 0.5   # it could not start before a slot was freed
        assert all(status_of(sock) == 408 for sock in held)
    finally:
        for sock in held:
            sock.close()
