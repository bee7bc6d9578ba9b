"""The HTTP side shared by the reference receivers: a threading server, signatures, idempotency keys,
fault injection.

A write (``PUT``/``POST``) goes through, in order:

1. fault: a ``fail_rate`` share is answered 500 before anything else (nothing is stored);
2. signature (``X-Danbao-Signature``, HMAC-SHA256 of the body with the key of ``X-Danbao-Institution``
   or the deployment key): 401 if missing or wrong;
3. idempotency key (``Idempotency-Key``, required): the same key with the same body gets the original
   receipt again (200, ``Idempotent-Replayed: true``), with another body 409;
4. the endpoint's own checks (400 with a code), then storage and a 201 receipt;
5. faults after storing: a ``drop_rate`` share has its connection closed without an answer, a
   ``delay_rate`` share is answered only after ``delay`` seconds (past the client's timeout), and
   every answer waits ``latency`` seconds.

So a client that retries with the same key, whatever went wrong, ends with exactly one stored copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from connectors.publish.signing import (
    IDEMPOTENCY_HEADER,
    INSTITUTION_HEADER,
    SIGNATURE_HEADER,
    MissingKeyError,
    SigningKeys,
    verify,
)
from connectors.receivers.store import ReceiverStore

log = logging.getLogger("danbao.receivers")
MAX_BODY = 1 << 30


@dataclass(frozen=True)
class Faults:
    fail_rate: float = 0.0
    drop_rate: float = 0.0
    delay_rate: float = 0.0
    delay: float = 0.0
    latency: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("fail_rate", "drop_rate", "delay_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if self.fail_rate + self.drop_rate + self.delay_rate > 1.0:
            raise ValueError("fail_rate + drop_rate + delay_rate must not exceed 1")
        if self.delay < 0 or self.latency < 0:
            raise ValueError("delays cannot be negative")


class Rejected(Exception):
    """A request the endpoint refuses: answered with ``status`` and a JSON ``{code, message}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Accepted:
    """What an endpoint stores for a new write: the receipt and the delivery's description."""

    receipt: dict[str, Any]
    kind: str
    institution_id: str | None = None
    name: str | None = None
    period: str | None = None
    extra: Any = None  # passed to ``App.store_extra`` in the same transaction


class App:
    """One endpoint (PBOC or CBRC): routes, checks, and what it stores beside the delivery."""

    endpoint = ""

    def __init__(self, store: ReceiverStore, keys: SigningKeys, faults: Faults) -> None:
        self.store, self.keys, self.faults = store, keys, faults
        self._rng = random.Random(faults.seed)
        self._rng_lock = threading.Lock()
        self.stats: Counter[str] = Counter()

    # -- to be provided by an endpoint ------------------------------------------------------------

    def write_route(self, method: str, path: str) -> str | None:
        """The kind of write ``path`` is, or None if it is not a write route."""
        raise NotImplementedError

    def check(self, db: Any, kind: str, path: str, key: str, institution_id: str | None, body: bytes,
              sha256: str, received_at: str) -> Accepted:
        """Check a new write (inside the store's transaction) and describe what to store, or raise
        ``Rejected``."""
        raise NotImplementedError

    def store_extra(self, db: Any, accepted: Accepted) -> None:
        pass

    def read(self, handler: Handler, path: str) -> None:
        self.respond_json(handler, 404, {"code": "NOT_FOUND", "message": f"no such resource: {path}"})

    # -- shared -----------------------------------------------------------------------------------

    def decide(self) -> str | None:
        f = self.faults
        with self._rng_lock:
            draw = self._rng.random()
        if draw < f.fail_rate:
            return "fail"
        if draw < f.fail_rate + f.drop_rate:
            return "drop"
        if draw < f.fail_rate + f.drop_rate + f.delay_rate:
            return "delay"
        return None

    def key_for(self, institution_id: str | None) -> bytes | None:
        try:
            return self.keys.key_for(institution_id)
        except MissingKeyError:
            return None

    def write(self, handler: Handler, method: str, path: str) -> None:
        kind = self.write_route(method, path)
        if kind is None:
            self.respond_json(handler, 404 if method in ("PUT", "POST") else 405,
                              {"code": "NOT_FOUND", "message": f"no such endpoint: {method} {path}"})
            return
        body = handler.read_body()
        if body is None:
            return
        self.stats["requests"] += 1
        fault = self.decide()
        if fault == "fail":
            self.stats["fault_500"] += 1
            self.respond_json(handler, 500, {"code": "FAULT500", "message": "injected failure"})
            return
        institution_id = handler.headers.get(INSTITUTION_HEADER) or None
        key = self.key_for(institution_id)
        if key is None or not verify(key, body, handler.headers.get(SIGNATURE_HEADER)):
            self.stats["unauthorised"] += 1
            self.respond_json(handler, 401, {"code": "SIG001", "message": "missing or invalid signature"})
            return
        idempotency_key = handler.headers.get(IDEMPOTENCY_HEADER) or ""
        if not idempotency_key or len(idempotency_key) > 255:
            self.respond_json(handler, 400, {"code": "IDM001", "message": "an Idempotency-Key header is required"})
            return
        sha256 = hashlib.sha256(body).hexdigest()
        try:
            status, receipt, replayed = self._store(kind, path, idempotency_key, institution_id, body, sha256)
        except Rejected as exc:
            self.stats[f"rejected_{exc.status}"] += 1
            self.respond_json(handler, exc.status, {"code": exc.code, "message": exc.message})
            return
        self.stats["replayed" if replayed else "stored"] += 1
        if fault == "drop":
            self.stats["fault_drop"] += 1
            handler.drop()
            return
        if fault == "delay":
            self.stats["fault_delay"] += 1
            time.sleep(self.faults.delay)
        if self.faults.latency:
            time.sleep(self.faults.latency)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        self.respond_json(handler, status, receipt, headers)

    def _store(self, kind: str, path: str, key: str, institution_id: str | None, body: bytes,
               sha256: str) -> tuple[int, dict[str, Any], bool]:
        from connectors.receivers.store import now_iso

        with self.store.transaction() as db:
            found = self.store.find(db, self.endpoint, key)
            if found is not None:
                stored_sha, receipt = found
                if stored_sha != sha256:
                    raise Rejected(409, "IDM002", "this Idempotency-Key was used with another body")
                self.store.count_replay(db, self.endpoint, key)
                return 200, receipt, True
            accepted = self.check(db, kind, path, key, institution_id, body, sha256, now_iso())
            self.store.add(db, endpoint=self.endpoint, key=key, kind=accepted.kind, sha256=sha256, body=body,
                           receipt=accepted.receipt, institution_id=accepted.institution_id, name=accepted.name,
                           period=accepted.period)
            self.store_extra(db, accepted)
            return 201, accepted.receipt, False

    def holdings(self) -> dict[str, Any]:
        held = self.store.holdings(self.endpoint)
        return {"endpoint": self.endpoint, "count": len(held), "items": held, "stats": dict(self.stats)}

    @staticmethod
    def respond_json(handler: Handler, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        handler.respond(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                        "application/json", headers or {})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: ReceiverServer

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.rstrip("/") == f"/{self.server.app.endpoint}/received":
            App.respond_json(self, 200, self.server.app.holdings())
            return
        self.server.app.read(self, path)

    def do_PUT(self) -> None:
        self.server.app.write(self, "PUT", urlsplit(self.path).path)

    def do_POST(self) -> None:
        self.server.app.write(self, "POST", urlsplit(self.path).path)

    def read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            App.respond_json(self, 411, {"code": "LEN001", "message": "Content-Length is required"})
            return None
        if int(length) > MAX_BODY:
            self.close_connection = True
            App.respond_json(self, 413, {"code": "LEN002", "message": "body too large"})
            return None
        return self.rfile.read(int(length))

    def respond(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a delay past its timeout)
            self.close_connection = True

    def drop(self) -> None:
        """Close the connection without answering: the body was read (and stored)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)  # request lines hold file names, never ID numbers


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, Handler)
        self.app = app

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"
