"""The HTTP side shared by the reference receivers: a Starlette app served by uvicorn (the portal's
stack, ``connectors.http_server``), signatures, idempotency keys, fault injection.

Each endpoint's work (the store's SQLite transaction, envelope and record checks, injected delays) is
plain blocking code, run in Starlette's thread pool; the app only reads the request and writes the
``Reply``.

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

import hashlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.http_server import drop_connection
from connectors.publish.signing import (
    IDEMPOTENCY_HEADER,
    INSTITUTION_HEADER,
    SIGNATURE_HEADER,
    MissingKeyError,
    SigningKeys,
    verify,
)
from connectors.receivers.store import ReceiverStore

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


@dataclass
class Reply:
    """What to answer: a JSON ``payload`` (or raw ``body``), or nothing at all (``drop``)."""

    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str = "application/json"
    drop: bool = False

    def response(self) -> Response:
        body = self.body if self.body is not None else json.dumps(self.payload, ensure_ascii=False).encode("utf-8")
        return Response(body, self.status, self.headers, media_type=self.content_type)


def error(status: int, code: str, message: str, **headers: str) -> Reply:
    return Reply(status, {"code": code, "message": message}, dict(headers))


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

    def read(self, path: str, headers: Mapping[str, str]) -> Reply:
        return error(404, "NOT_FOUND", f"no such resource: {path}")

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

    def write(self, kind: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """A write to a known route, its body read: faults, signature, idempotency key, the endpoint's
        checks and storage, in the order of the module's docstring (blocking: run in a thread)."""
        self.stats["requests"] += 1
        fault = self.decide()
        if fault == "fail":
            self.stats["fault_500"] += 1
            return error(500, "FAULT500", "injected failure")
        institution_id = headers.get(INSTITUTION_HEADER) or None
        key = self.key_for(institution_id)
        if key is None or not verify(key, body, headers.get(SIGNATURE_HEADER)):
            self.stats["unauthorised"] += 1
            return error(401, "SIG001", "missing or invalid signature")
        idempotency_key = headers.get(IDEMPOTENCY_HEADER) or ""
        if not idempotency_key or len(idempotency_key) > 255:
            return error(400, "IDM001", "an Idempotency-Key header is required")
        sha256 = hashlib.sha256(body).hexdigest()
        try:
            status, receipt, replayed = self._store(kind, path, idempotency_key, institution_id, body, sha256)
        except Rejected as exc:
            self.stats[f"rejected_{exc.status}"] += 1
            return error(exc.status, exc.code, exc.message)
        self.stats["replayed" if replayed else "stored"] += 1
        if fault == "drop":
            self.stats["fault_drop"] += 1
            return Reply(drop=True)
        if fault == "delay":
            self.stats["fault_delay"] += 1
            time.sleep(self.faults.delay)
        if self.faults.latency:
            time.sleep(self.faults.latency)
        return Reply(status, receipt, {"Idempotent-Replayed": "true"} if replayed else {})

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

    # -- HTTP -------------------------------------------------------------------------------------

    def asgi(self) -> Starlette:
        """The endpoint as a Starlette app (served by ``connectors.http_server.LoopbackServer``)."""
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "PUT", "POST"])])

    async def _handle(self, request: Request) -> Response:
        path, method = request.url.path, request.method
        if method == "GET":
            if path.rstrip("/") == f"/{self.endpoint}/received":
                reply = Reply(200, self.holdings())
            else:
                reply = await run_in_threadpool(self.read, path, request.headers)
            return reply.response()
        kind = self.write_route(method, path)
        if kind is None:
            return error(404, "NOT_FOUND", f"no such endpoint: {method} {path}").response()
        length = request.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return error(411, "LEN001", "Content-Length is required").response()
        if int(length) > MAX_BODY:  # not read: the connection closes after the answer
            return error(413, "LEN002", "body too large", Connection="close").response()
        body = await request.body()
        reply = await run_in_threadpool(self.write, kind, path, request.headers, body)
        if reply.drop:  # the body was read (and stored): close without answering
            await drop_connection(request)
        return reply.response()
