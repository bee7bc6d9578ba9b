"""Refusals: one exception for every clear 4xx the portal gives (``web.errors`` renders them)."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """A request the portal will not serve. ``code`` is stable (clients branch on it); ``message`` is
    for people; ``detail`` goes to the audit trail only."""

    def __init__(self, status: int, code: str, message: str, *, detail: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.detail, self.headers = detail or {}, headers


def not_found(what: str = "not found") -> Refused:
    """The answer for anything a caller may not see, so that existence cannot be inferred."""
    return Refused(404, "not_found", what)
