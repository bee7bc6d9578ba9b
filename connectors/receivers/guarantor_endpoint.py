"""A guarantor's package endpoint on loopback, as the pull connector expects one: bearer-token auth,
strong ETags and ``If-None-Match`` → 304. For the demo, the tests and guarantors' own integration
testing; ``faults`` scripts failures (5xx, 429 with Retry-After, stalls, 404) for the next requests to a
path. A Starlette app served by uvicorn (``connectors.http_server``), the portal's stack.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import defaultdict, deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.http_server import LoopbackServer


class PackageEndpoint:
    """Serves ``packages[path] = bytes`` at ``http://127.0.0.1:<port>/<path>``; use as a context manager."""

    def __init__(self, token: str | None = None, stall_seconds: float = 3.0) -> None:
        self.token = token
        self.stall_seconds = stall_seconds
        self.packages: dict[str, bytes] = {}
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        app = Starlette(routes=[Route("/{path:path}", self._get, methods=["GET"])])
        self._server = LoopbackServer(app, name="package-endpoint")

    @property
    def port(self) -> int:
        return self._server.port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def publish(self, path: str, data: bytes) -> str:
        with self._lock:
            self.packages[path.lstrip("/")] = data
        return self.url(path)

    def fail_next(self, path: str, *faults: str) -> None:
        """Script the next responses for ``path``: ``"500"``/``"503"``/``"404"``/``"429"`` (that status;
        ``"429:SECONDS"`` adds ``Retry-After: SECONDS``), ``"stall"`` (answer only after
        ``stall_seconds``, past a client's read timeout)."""
        with self._lock:
            self.faults[path.lstrip("/")].extend(faults)

    def hits(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"] == path.lstrip("/")]

    def __enter__(self) -> PackageEndpoint:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    async def _get(self, request: Request) -> Response:
        path = request.path_params["path"]
        with self._lock:
            fault = self.faults[path].popleft() if self.faults[path] else None
            data = self.packages.get(path)
            self.requests.append({"path": path, "fault": fault, "headers": request.headers})
        if fault == "stall":
            await asyncio.sleep(self.stall_seconds)
        elif fault is not None:
            status, _, retry_after = fault.partition(":")
            return Response(b"scripted failure\n", int(status), {"Retry-After": retry_after} if retry_after else None)
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return Response(b"missing or wrong bearer token\n", 401, {"WWW-Authenticate": "Bearer"})
        if data is None:
            return Response(b"no package published\n", 404)
        etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(data, 200, {"ETag": etag}, media_type="application/zip")
