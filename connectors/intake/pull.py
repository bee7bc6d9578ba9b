"""The pull connector: fetch a package from a guarantor's own HTTPS endpoint.

Guarantors that publish their monthly package on their own server are polled from the 1st of the month
to the deadline. Polling daily must not download an unchanged package daily: the ETag from the last
fetch goes back as ``If-None-Match`` and a ``304`` costs nothing. Their servers are not ours, so every
request has connect and read timeouts, and timeouts, connection errors, 429 and 5xx are retried with
exponential backoff and jitter (or the server's Retry-After), a bounded number of times, by tenacity;
other 4xx are final (retrying a 401 or 404 does not change the answer).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
    wait_random_exponential,
)

PullStatus = Literal["new", "unchanged", "failed"]
USER_AGENT = "danbao-pull/1"


@dataclass(frozen=True)
class PullResult:
    status: PullStatus
    data: bytes | None = None
    etag: str | None = None
    attempts: int = 0
    error: str | None = None
    http_status: int | None = None

    @property
    def not_published(self) -> bool:
        """The endpoint says there is no package (yet): 404 or 410, the usual answer before filing."""
        return self.http_status in (404, 410)


class PullClient:
    """Conditional GETs with timeouts and bounded retries (tenacity) over one ``requests.Session``.

    A client (its session) belongs to one thread; pull in parallel with one client per worker.
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_bytes: int = 1 << 30,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.session = session or requests.Session()
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_bytes = max_bytes
        self.sleep = sleep

    def fetch(self, url: str, token: str | None = None, etag: str | None = None) -> PullResult:
        """GET ``url``: ``new`` with the bytes and the new ETag, ``unchanged`` on 304, ``failed`` with
        the reason once retries are exhausted or the answer is final."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/zip, application/octet-stream"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if etag:
            headers["If-None-Match"] = etag
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_result(lambda outcome: isinstance(outcome, _Transient)),
            sleep=self.sleep,
            retry_error_callback=lambda state: state.outcome.result(),  # the last transient answer
        )
        outcome = retrying(self._attempt, url, headers, etag)
        attempts = retrying.statistics["attempt_number"]
        if isinstance(outcome, _Transient):
            return PullResult("failed", attempts=attempts, error=outcome.error, http_status=outcome.http_status)
        return dataclasses.replace(outcome, attempts=attempts)

    def _attempt(self, url: str, headers: dict[str, str], etag: str | None) -> PullResult | _Transient:
        """One GET: a final ``PullResult`` (its ``attempts`` filled in by ``fetch``), or ``_Transient``:
        a timeout, a connection error (also in the middle of the body), 429 or 5xx."""
        status: int | None = None
        try:
            with self.session.get(url, headers=headers, timeout=self.timeout, stream=True) as response:
                status = response.status_code
                if status == 304:
                    return PullResult("unchanged", etag=etag, http_status=status)
                if status == 200:
                    data = self._read_body(response)
                    return PullResult("new", data, response.headers.get("ETag"), http_status=status)
                error = f"HTTP {status} {response.reason or ''}".strip()
                if status != 429 and not 500 <= status < 600:
                    return PullResult("failed", error=error, http_status=status)
                return _Transient(error, status, _retry_after(response.headers.get("Retry-After")))
        except _TooLarge as exc:
            return PullResult("failed", error=str(exc), http_status=status)
        except requests.Timeout as exc:
            return _Transient(f"timeout ({type(exc).__name__})")
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            return _Transient(f"connection error ({type(exc).__name__}: {exc})")
        except requests.RequestException as exc:  # invalid URL, too many redirects …: final
            return PullResult("failed", error=f"{type(exc).__name__}: {exc}")

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, half to all of the step (``backoff × 2^(n-1)``, at most
        ``max_backoff``), or the server's Retry-After when longer, never past ``max_backoff``."""
        half = wait_exponential(multiplier=self.backoff / 2, max=self.max_backoff / 2)
        jittered = half + wait_random_exponential(multiplier=self.backoff / 2, max=self.max_backoff / 2)
        outcome = state.outcome.result() if state.outcome is not None else None
        retry_after = outcome.retry_after if isinstance(outcome, _Transient) else None
        return min(self.max_backoff, max(jittered(state), retry_after or 0.0))

    def _read_body(self, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise _TooLarge(f"package of {declared} bytes is over the {self.max_bytes}-byte limit")
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=1 << 20):
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge(f"package is over the {self.max_bytes}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)


class _TooLarge(Exception):
    pass


@dataclass(frozen=True)
class _Transient:
    """An answer worth asking again, and when the server said to (Retry-After, seconds)."""

    error: str
    http_status: int | None = None
    retry_after: float | None = None


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


class EtagCache:
    """ETags of the last package fetched per (period, guarantor, URL), in a small JSON file.

    Written atomically (temporary file, then rename); a lost or corrupt file only costs one full
    download per endpoint, which the store then recognises by its SHA-256.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._entries: dict[str, dict[str, str]] = {}
        with contextlib.suppress(OSError, ValueError, TypeError):
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self._entries = {k: v for k, v in loaded.items() if isinstance(v, dict)}

    @staticmethod
    def key(period: str, institution_id: str, url: str) -> str:
        return f"{period} {institution_id} {url}"

    def get(self, period: str, institution_id: str, url: str) -> dict[str, str] | None:
        return self._entries.get(self.key(period, institution_id, url))

    def put(self, period: str, institution_id: str, url: str, etag: str, sha256: str) -> None:
        self._entries[self.key(period, institution_id, url)] = {"etag": etag, "sha256": sha256}

    def drop(self, period: str, institution_id: str, url: str) -> None:
        self._entries.pop(self.key(period, institution_id, url), None)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".etags-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self._entries, out, sort_keys=True, indent=1)
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
