"""The reference servers' HTTP stack: a Starlette app served by uvicorn in a thread of the calling process,
the stack the portal runs on (FastAPI is Starlette), so that one server implementation is tested and kept.

``LoopbackServer`` binds its socket before starting (port 0: a free port, known at once), serves in a
daemon thread, and stops within a second. Fault injection needs one thing ASGI cannot say: close the
connection without answering, as a receiver that crashes after storing does. uvicorn's h11 protocol is
kept, and the connection's transport is handed to the app in the request's state (``drop_connection``).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn
from starlette.requests import Request
from uvicorn.protocols.http.h11_impl import H11Protocol

_TRANSPORT = "danbao.transport"


class _DroppableH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with this connection's transport in every request's ``scope["state"]``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.app_state = {**self.app_state, _TRANSPORT: transport}


async def drop_connection(request: Request) -> None:
    """Close ``request``'s connection without an answer (FIN, no status line); returns once uvicorn has
    seen it closed, so that it does not try to answer for the app."""
    transport = request.scope.get("state", {}).get(_TRANSPORT)
    if transport is None:  # pragma: no cover - served by another server
        raise RuntimeError("drop_connection needs LoopbackServer")
    transport.close()
    for _ in range(3):  # connection_lost runs on the next turns of the loop
        await asyncio.sleep(0)


class LoopbackServer:
    """``app`` served by uvicorn on ``host:port`` in a daemon thread; ``start``/``stop`` or a ``with`` block."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, name: str = "danbao-http",
                 **options: Any) -> None:
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = host, self._socket.getsockname()[1]
        config = uvicorn.Config(app, http=_DroppableH11Protocol, lifespan="off", log_level="warning",
                                access_log=False, timeout_graceful_shutdown=1, **options)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=name, daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
