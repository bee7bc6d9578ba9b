"""A guarantor's package endpoint on loopback, as the pull connector expects one: bearer-token auth,
strong ETags and ``If-None-Match`` → 304. For the demo, the tests and guarantors' own integration
testing; ``faults`` scripts failures (5xx, stalls, 404) for the next requests to a path.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class PackageEndpoint:
    """Serves ``packages[path] = bytes`` at ``http://127.0.0.1:<port>/<path>``; use as a context manager."""

    def __init__(self, token: str | None = None, stall_seconds: float = 3.0) -> None:
        self.token = token
        self.stall_seconds = stall_seconds
        self.packages: dict[str, bytes] = {}
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="package-endpoint", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def publish(self, path: str, data: bytes) -> str:
        with self._lock:
            self.packages[path.lstrip("/")] = data
        return self.url(path)

    def fail_next(self, path: str, *faults: str) -> None:
        """Script the next responses for ``path``: ``"500"``/``"503"``/``"404"`` (that status), ``"stall"``
        (answer only after ``stall_seconds``, past a client's read timeout)."""
        with self._lock:
            self.faults[path.lstrip("/")].extend(faults)

    def hits(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"] == path.lstrip("/")]

    def __enter__(self) -> PackageEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the demo print their own
                return

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0].lstrip("/")
                with endpoint._lock:
                    fault = endpoint.faults[path].popleft() if endpoint.faults[path] else None
                    data = endpoint.packages.get(path)
                    endpoint.requests.append({"path": path, "fault": fault, "headers": dict(self.headers)})
                if fault == "stall":
                    time.sleep(endpoint.stall_seconds)
                elif fault is not None:
                    return self._send(int(fault), b"scripted failure\n")
                if endpoint.token and self.headers.get("Authorization") != f"Bearer {endpoint.token}":
                    return self._send(401, b"missing or wrong bearer token\n", {"WWW-Authenticate": "Bearer"})
                if data is None:
                    return self._send(404, b"no package published\n")
                etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", {"ETag": etag})
                return self._send(200, data, {"ETag": etag, "Content-Type": "application/zip"})

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    if status != 304:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if status != 304:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a stalled answer)
                    pass

        return Handler
