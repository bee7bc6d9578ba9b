"""Idle and slow clients are timed out (``web.server``, as ``danbao serve`` configures uvicorn), with
real sockets against a real server on loopback: connections that send nothing, a request head sent one
byte every two seconds (slowloris), a body trickled in, an idle kept-alive connection, an oversized
head, and more connections than the concurrency limit. Honest clients, a slow but steady upload
included, are served meanwhile.

The server here runs with short limits (``LIMITS``) so that the tests take seconds; ``danbao serve``'s
defaults are checked as configuration, and the command itself in ``test_cli.py``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.web.conftest import Live, Published, start_live
from web.server import GuardedH11Protocol, ServerLimits, uvicorn_config

LIMITS = ServerLimits(request_timeout=3.0, timeout_keep_alive=1, limit_concurrency=60)
SLACK = 2.0  # scheduling on two busy cores


@pytest.fixture(scope="module")
def guarded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            published: Published) -> Iterator[Live]:
    yield from start_live(request, tmp_path_factory.mktemp("portal-timeouts"), published, "sqlite", limits=LIMITS)


def _connect(live: Live) -> socket.socket:
    host, port = live.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.settimeout(30)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        answer = _read_until_closed(sock)
    except TimeoutError:
        raise AssertionError(f"the connection was still open after {seconds} s") from None
    return answer, time.monotonic() - started


def test_danbao_serve_defaults():
    """What ``danbao serve`` runs with unless told otherwise."""
    limits = ServerLimits()
    config = uvicorn_config(object(), limits=limits)
    assert (limits.request_timeout, limits.timeout_keep_alive, limits.limit_concurrency) == (10.0, 5, 100)
    assert config.timeout_keep_alive == 5 and config.limit_concurrency == 100
    assert config.h11_max_incomplete_event_size == 16 << 10 and config.timeout_graceful_shutdown == 10
    assert issubclass(config.http, GuardedH11Protocol) and config.http.request_timeout == 10.0


def test_thirty_idle_connections_are_closed_and_others_are_served(guarded):
    idle = [_connect(guarded) for _ in range(30)]
    try:
        started = time.monotonic()
        assert requests.get(guarded.url + "/api/health", timeout=5).status_code == 200  # not starved
        for sock in idle:
            answer, _ = _closed_within(sock, LIMITS.request_timeout + SLACK)
            assert answer == b""  # nothing sent, nothing answered: closed
        assert time.monotonic() - started < LIMITS.request_timeout + SLACK
    finally:
        for sock in idle:
            sock.close()
    assert requests.get(guarded.url + "/api/health", timeout=5).status_code == 200


def test_a_head_sent_one_byte_every_two_seconds_is_cut_with_408(guarded):
    sock = _connect(guarded)
    head = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    started = time.monotonic()
    stop = threading.Event()

    def trickle() -> None:
        for byte in head:
            if stop.wait(2.0):
                return
            try:
                sock.send(bytes([byte]))
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        answer, _ = _closed_within(sock, LIMITS.request_timeout + 2 * SLACK)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        sender.join(timeout=5)
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert LIMITS.request_timeout - 0.5 < elapsed < LIMITS.request_timeout + 2 * SLACK


def test_a_trickled_body_is_cut_with_408(guarded):
    """The login form reads its body before anything else: a body of 1,000 bytes sent at 2 bytes a second."""
    sock = _connect(guarded)
    sock.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: 1000\r\n\r\n")
    started = time.monotonic()
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            try:
                sock.send(b"a")
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        answer, _ = _closed_within(sock, LIMITS.request_timeout + 2 * SLACK)
    finally:
        stop.set()
        sender.join(timeout=5)
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < LIMITS.request_timeout + 2 * SLACK


def test_a_slow_but_steady_upload_is_not_cut(guarded):
    """60 KiB at about 15 KiB/s takes longer than the request timeout, but each byte buys time
    (1 s per ``min_body_rate`` bytes), so it arrives and is answered."""
    body = b"token=" + b"x" * (60 << 10)
    sock = _connect(guarded)
    try:
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
        started = time.monotonic()
        for i in range(0, len(body), 3 << 10):
            sock.sendall(body[i:i + (3 << 10)])
            time.sleep(0.2)
        assert time.monotonic() - started > LIMITS.request_timeout
        answer = _read_until_closed(sock)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 403 ")  # the form without its CSRF token: read, and refused
    assert b"408" not in answer.split(b"\r\n", 1)[0]


def test_an_idle_kept_alive_connection_is_closed(guarded):
    sock = _connect(guarded)
    try:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer, elapsed = _closed_within(sock, LIMITS.timeout_keep_alive + SLACK + 1)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b"HTTP/1.1") == 1
    assert elapsed < LIMITS.timeout_keep_alive + SLACK + 1


def test_the_next_request_on_a_kept_alive_connection_has_its_own_deadline(guarded):
    sock = _connect(guarded)
    try:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while b'{"status":"ok"}' not in first:
            first += sock.recv(65536)
        sock.sendall(b"GET /api/he")  # the next request begins, and stops
        answer, elapsed = _closed_within(sock, LIMITS.request_timeout + SLACK)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert elapsed > LIMITS.request_timeout - 0.5


def test_an_oversized_request_head_is_refused(guarded):
    sock = _connect(guarded)
    try:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (LIMITS.max_head_bytes + 1024))
        answer, _ = _closed_within(sock, SLACK + 1)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 400 ")


def test_beyond_the_concurrency_limit_requests_get_503(request, tmp_path_factory, published):
    limits = ServerLimits(request_timeout=3.0, limit_concurrency=5)
    for live in start_live(request, tmp_path_factory.mktemp("portal-limited"), published, "sqlite", limits=limits):
        idle = [_connect(live) for _ in range(5)]
        try:
            time.sleep(0.2)
            assert requests.get(live.url + "/api/health", timeout=5).status_code == 503
        finally:
            for sock in idle:
                sock.close()
        time.sleep(0.3)
        assert requests.get(live.url + "/api/health", timeout=5).status_code == 200
