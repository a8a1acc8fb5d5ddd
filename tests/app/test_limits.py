"""A server that may face a network, on real uvicorn (configured as `edgemnist serve` is): hundreds of stalled
requests are each closed by the server within the deadline (seen from the client side: the 408, then the end of
the stream) while a normal request is answered; past the connection cap a newcomer reads a 503."""

from __future__ import annotations

import json
import selectors
import socket
import sys
import time
from urllib.parse import urlsplit

import httpx
import pytest

from .conftest import running

DEADLINE_S = 3.0
MARGIN_S = 3.0  # a loaded machine's scheduling, not the server's semantics
STALLED = 300
UPLOAD_HEAD = (
    b"POST /api/predict HTTP/1.1\r\nHost: edgemnist\r\nContent-Type: image/png\r\nContent-Length: 5000\r\n\r\n"
)
STALLS = {  # how a request stops: each kind is a third of the stalled connections
    "nothing sent": b"",
    "half a head": UPLOAD_HEAD[:40],
    "half a body": UPLOAD_HEAD + b"\x89PNG\r\n\x1a\n" + bytes(1000),
}


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or 80


def stalled_connection(url: str, stall: bytes) -> socket.socket:
    sock = socket.create_connection(address(url), timeout=30)
    sock.sendall(stall)
    return sock


def wait_for_close(sockets: dict[socket.socket, float], until: float) -> dict[socket.socket, tuple[bytes, float]]:
    """Read every socket until the server closes it (recv gives b"") or ``until``: what each read, and when it
    closed (client clock). A socket still open at ``until`` is missing from the answer."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    received = {sock: b"" for sock in sockets}
    closed: dict[socket.socket, tuple[bytes, float]] = {}
    while len(closed) < len(sockets) and time.monotonic() < until:
        for key, _ in selector.select(timeout=max(0.0, until - time.monotonic())):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            data = sock.recv(65536)
            if data:
                received[sock] += data
            else:
                closed[sock] = (received[sock], time.monotonic())
                selector.unregister(sock)
    selector.close()
    return closed


@pytest.fixture(scope="module")
def guarded_url(app):
    with running(app, body_timeout=DEADLINE_S, max_connections=STALLED + 50) as url:
        yield url


def test_stalled_requests_are_closed_by_the_deadline_while_a_normal_request_is_answered(guarded_url, mnist):
    opened = {}
    kinds = {}
    for i in range(STALLED):
        kind = list(STALLS)[i % len(STALLS)]
        sock = stalled_connection(guarded_url, STALLS[kind])
        opened[sock], kinds[sock] = time.monotonic(), kind
    try:
        with httpx.Client(base_url=guarded_url, timeout=30) as http:
            answer = http.post("/api/predict", json={"digit": mnist.x_test[0].tolist()})
        answered = time.monotonic()
        assert answer.status_code == 200 and answer.json()["label"] == str(mnist.y_test[0])
        closed = wait_for_close(opened, until=max(opened.values()) + DEADLINE_S + MARGIN_S)
        assert len(closed) == STALLED, f"{STALLED - len(closed)} stalled connections still open"
        assert answered < min(at for _, at in closed.values())  # answered while all 300 were open
        for sock, (data, at) in closed.items():
            assert DEADLINE_S - 0.1 <= at - opened[sock] <= DEADLINE_S + MARGIN_S
            if kinds[sock] == "half a body":  # the head is in: the client is told why
                head, _, body = data.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 408 ") and b"connection: close" in head.lower()
                assert "within 3 s" in json.loads(body)["error"]
            else:  # no request to answer: the connection is closed
                assert data == b""
    finally:
        for sock in opened:
            sock.close()


def test_a_kept_alive_connection_gets_a_new_deadline_for_each_request(guarded_url, mnist):
    """The first request completes; the second stalls halfway through its body and is dropped."""
    digit = json.dumps({"digit": mnist.x_test[0].tolist()}).encode()
    request = (
        f"POST /api/predict HTTP/1.1\r\nHost: edgemnist\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(digit)}\r\n\r\n"
    ).encode()
    with socket.create_connection(address(guarded_url), timeout=30) as sock:
        time.sleep(DEADLINE_S / 2)  # an idle start uses part of the first request's time, not the second's
        sock.sendall(request + digit)
        first = sock.recv(65536)
        while b'"server_us"' not in first:
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        time.sleep(DEADLINE_S / 2)
        sent = time.monotonic()
        sock.sendall(request + digit[:100])
        closed = wait_for_close({sock: sent}, until=sent + DEADLINE_S + MARGIN_S)
    assert sock in closed, "the stalled second request is still open"
    data, at = closed[sock]
    assert data.startswith(b"HTTP/1.1 408 ") and DEADLINE_S - 0.1 <= at - sent


def test_a_slow_upload_that_ends_in_time_is_answered(guarded_url, mnist):
    from .test_server import png_bytes

    body = png_bytes(mnist.x_test[0])
    head = f"POST /api/predict HTTP/1.1\r\nHost: edgemnist\r\nContent-Type: image/png\r\nContent-Length: {len(body)}"
    with socket.create_connection(address(guarded_url), timeout=30) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n")
        for start in range(0, len(body), len(body) // 4 + 1):  # in four pieces over about a third of the deadline
            time.sleep(DEADLINE_S / 12)
            sock.sendall(body[start : start + len(body) // 4 + 1])
        answer = sock.makefile("rb").readline()
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_past_the_connection_cap_a_newcomer_reads_a_503_and_is_served_once_a_place_frees(app, mnist):
    cap = 5
    good = {"json": {"digit": mnist.x_test[0].tolist()}}
    with running(app, max_connections=cap) as url:
        held = [stalled_connection(url, STALLS["half a body"]) for _ in range(cap - 1)]
        try:
            with httpx.Client(base_url=url, timeout=30) as http:  # the cap's last place
                assert http.post("/api/predict", **good).status_code == 200
            held.append(stalled_connection(url, STALLS["half a body"]))
            with httpx.Client(base_url=url, timeout=30) as http:
                refused = http.post("/api/predict", **good)
            assert refused.status_code == 503 and refused.text == "Service Unavailable"
            assert refused.headers["connection"] == "close"
        finally:
            for sock in held:
                sock.close()
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(100):  # the server notices the closed connections on its own loop: give it a moment
                if (answer := http.post("/api/predict", **good)).status_code == 200:
                    break
                time.sleep(0.05)
        assert answer.status_code == 200 and answer.json()["label"] == str(mnist.y_test[0])


def test_a_uvicorn_without_its_h11_module_still_serves_and_says_the_deadline_is_off(app, mnist, monkeypatch):
    """deadline.py extends a uvicorn module outside its documented API: without it, plain h11 serves."""
    monkeypatch.setitem(sys.modules, "edgemnist.app.deadline", None)  # its import fails, as on a uvicorn that moved it
    with pytest.warns(RuntimeWarning, match=r"not cut at the 3 s deadline \(--body-timeout\)"):
        with running(app, body_timeout=DEADLINE_S) as url, httpx.Client(base_url=url, timeout=30) as http:
            answer = http.post("/api/predict", json={"digit": mnist.x_test[0].tolist()})
    assert answer.status_code == 200 and answer.json()["label"] == str(mnist.y_test[0])
