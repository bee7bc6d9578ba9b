"""How the portal is served: uvicorn with limits on idle and slow clients.

uvicorn times out a keep-alive connection between requests (``timeout_keep_alive``) and bounds an
incomplete request head (``h11_max_incomplete_event_size``), but it has no deadline for *reading* a
request: a client that opens a connection and sends nothing, or one byte every two seconds (slowloris),
holds its connection for ever. :class:`GuardedH11Protocol` adds that deadline to uvicorn's h11
protocol: from the moment a connection opens, or the first byte of the next request on a kept-alive
connection, the client has ``request_timeout`` seconds to send the request, plus one second per
``min_body_rate`` bytes it has sent (so a large upload at any honest speed is not cut, while a trickle
is). The clock stops once the whole request is read, and does not run while uvicorn has paused reading
because the application is not keeping up. When time is up, a connection that sent nothing is closed
and one that sent part of a request gets ``408 Request Timeout`` and is closed.

``limit_concurrency`` answers 503 at once to new requests beyond so many connections or tasks, so that
idle connections cannot starve the others while they wait for their deadline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

_REQUEST_READ = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)
_TIMEOUT_BODY = b"the request took too long to arrive\n"
_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                     b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY))


@dataclass(frozen=True)
class ServerLimits:
    """The limits ``danbao serve`` runs with (docs/portal.md, "Timeouts and limits")."""

    request_timeout: float = 10.0  # to send a request's head (and its body, with the allowance below)
    min_body_rate: float = 4096.0  # bytes per second: each byte received extends the deadline by 1/rate s
    timeout_keep_alive: int = 5  # an idle kept-alive connection is closed after this many seconds
    max_head_bytes: int = 16 << 10  # h11_max_incomplete_event_size: a longer request head is a 400
    limit_concurrency: int = 100  # connections or tasks beyond this get 503 at once
    timeout_graceful_shutdown: int = 10


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-read deadline (see the module's docstring)."""

    request_timeout: float = ServerLimits.request_timeout
    min_body_rate: float = ServerLimits.min_body_rate

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timer: asyncio.TimerHandle | None = None
        self._read_started = 0.0
        self._read_bytes = 0

    @classmethod
    def with_limits(cls, limits: ServerLimits) -> type[GuardedH11Protocol]:
        return type(cls.__name__, (cls,), {"request_timeout": limits.request_timeout,
                                           "min_body_rate": limits.min_body_rate})

    # -- the clock --------------------------------------------------------------------------------

    def _start_clock(self) -> None:
        self._stop_clock()
        self._read_started = self.loop.time()
        self._read_bytes = 0
        self._read_timer = self.loop.call_later(self.request_timeout, self._on_deadline)

    def _stop_clock(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _request_read(self) -> bool:
        return self.conn.their_state in _REQUEST_READ

    def _on_deadline(self) -> None:
        self._read_timer = None
        if self.transport.is_closing() or self._request_read():
            return
        now = self.loop.time()
        if self.flow.read_paused:  # the application is not reading: not the client's fault
            self._read_started, self._read_bytes = now, 0
            self._read_timer = self.loop.call_later(self.request_timeout, self._on_deadline)
            return
        deadline = self._read_started + self.request_timeout + self._read_bytes / self.min_body_rate
        if now < deadline:
            self._read_timer = self.loop.call_later(deadline - now, self._on_deadline)
            return
        self.logger.warning("Request read timed out after %.1f s (%d bytes received).",
                            now - self._read_started, self._read_bytes)
        cycle = self.cycle
        responding = cycle is not None and not cycle.response_complete and cycle.response_started
        if self._read_bytes and not responding:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()

    # -- uvicorn's protocol -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._read_timer is None and self.conn.their_state is h11.IDLE:
            self._start_clock()  # the first byte of the next request on a kept-alive connection
        if self._read_timer is not None:
            self._read_bytes += len(data)
        super().data_received(data)
        if self._read_timer is not None and self._request_read():
            self._stop_clock()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._read_timer is None and self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            self._start_clock()  # a pipelined request whose body is still coming


def uvicorn_config(app: Any, *, host: str = "127.0.0.1", port: int = 8000, limits: ServerLimits | None = None,
                   **kwargs: Any) -> uvicorn.Config:
    """The uvicorn configuration of ``danbao serve`` (the tests serve the portal with it too)."""
    limits = limits or ServerLimits()
    return uvicorn.Config(
        app, host=host, port=port, http=GuardedH11Protocol.with_limits(limits),
        timeout_keep_alive=limits.timeout_keep_alive, h11_max_incomplete_event_size=limits.max_head_bytes,
        limit_concurrency=limits.limit_concurrency, timeout_graceful_shutdown=limits.timeout_graceful_shutdown,
        **kwargs,
    )
