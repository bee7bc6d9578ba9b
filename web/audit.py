"""The audit trail and the request-size guard, as one ASGI middleware.

Recorded: every request that changes something (any method but GET/HEAD/OPTIONS), every refusal (4xx)
and failure (5xx), and the reads a handler marks with :func:`note` (downloads of findings and
datasets). Who is the request's authenticated token when there is one; ``detail`` carries identifiers
and reasons only, never a secret, a package's bytes or a resident ID number.

The size guard refuses a body larger than the route allows with 413 before the app reads it (by
``Content-Length``), and stops a chunked body at the limit while it is read.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store import portal as store_portal

log = logging.getLogger(__name__)

QUIET_PATHS = ("/static/", "/api/health", "/favicon.ico")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SMALL_BODY_BYTES = 1 << 20  # forms and JSON bodies
MULTIPART_SLACK = 64 << 10  # boundaries, headers and form fields around an uploaded package
_DETAIL_VALUE_CHARS = 200
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")  # GB 11643 shape


class BodyTooLarge(Exception):
    """The request body passed the route's limit while it was read."""


def note(request: Request, outcome: str, **detail: Any) -> None:
    """Say how this request ended for the audit trail (and that it is worth recording)."""
    request.state.audit = {"outcome": outcome, "detail": {**getattr(request.state, "audit", {}).get("detail", {}), **detail}}


def set_principal(request: Request, principal: Any) -> None:
    request.state.principal = principal


class AuditMiddleware:
    def __init__(self, app: ASGIApp, portal: Callable[[], Any], upload_paths: Callable[[str], bool]) -> None:
        self.app, self.portal, self.is_upload = app, portal, upload_paths

    def limit_for(self, path: str) -> int:
        if self.is_upload(path):
            return self.portal().settings.max_upload_bytes + MULTIPART_SLACK
        return SMALL_BODY_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        path: str = scope["path"]
        limit = self.limit_for(path)
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                # recorded before the answer leaves, so a client that sees the answer finds the record
                await self._maybe_record(scope, state, message["status"])
            await send(message)

        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        try:
            declared = _content_length(scope)
            if declared is not None and declared > limit:
                state["audit"] = {"outcome": "too_large", "detail": {"content_length": declared, "limit": limit}}
                await _too_large(send_wrapper, limit)
            else:
                await self.app(scope, receive_limited, send_wrapper)
        except BodyTooLarge:
            state["audit"] = {"outcome": "too_large", "detail": {"limit": limit}}
            if not started:
                await _too_large(send_wrapper, limit)
        except Exception:
            if not started:
                await self._maybe_record(scope, state, 500)
            raise

    async def _maybe_record(self, scope: Scope, state: dict[str, Any], status: int) -> None:
        audit = state.get("audit")
        if scope["path"].startswith(QUIET_PATHS):
            return
        if scope["method"] not in SAFE_METHODS or status >= 400 or audit:
            await anyio.to_thread.run_sync(self._record, scope, state, status, audit)

    def _record(self, scope: Scope, state: dict[str, Any], status: int, audit: dict[str, Any] | None) -> None:
        principal = state.get("principal")
        outcome = (audit or {}).get("outcome") or _outcome(status)
        detail = _clean((audit or {}).get("detail") or {})
        try:
            with self.portal().session() as session:
                store_portal.record_audit(
                    session,
                    method=scope["method"],
                    route=scope["path"],
                    status=status,
                    outcome=outcome,
                    token_id=getattr(principal, "token_id", None),
                    role=str(principal.role) if principal is not None else None,
                    institution_id=getattr(principal, "institution_id", None),
                    detail=detail or None,
                )
        except Exception:  # the trail must never turn a served request into a failure
            log.exception("could not record the audit event for %s %s", scope["method"], scope["path"])


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": "too_large", "message": f"the request body is larger than {limit} bytes"}).encode()
    await send({
        "type": "http.response.start",
        "status": 413,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": body})


def _outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (401, 403, 404):
        return "refused"
    return "invalid" if status < 500 else "error"


def _clean(detail: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe, short values: the trail records facts about a request, not its payload. Free text
    that a client chose (a file or member name) has anything shaped like a resident ID number masked."""
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if isinstance(value, (bool, int, float)) or value is None:
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = [_text(key, v) for v in list(value)[:20]]
        else:
            out[key] = _text(key, value)
    return out


def _text(key: str, value: object) -> str:
    text = str(value)[:_DETAIL_VALUE_CHARS]
    return text if key.endswith(("institution_id", "sha256")) else _RESIDENT_ID.sub("[RIC]", text)
