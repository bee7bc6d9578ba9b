"""Sending one delivery over HTTP and reading the receiver's answer (outputs.md §5).

The wire half of delivery: sign a body, send it with its idempotency key, and classify the answer as
delivered (with its JSON receipt), to retry (timeouts, connection errors, 408/425/429, 5xx) or failed
(any other 4xx, with the receiver's message). It knows nothing of the outbox: the application
(``filings.publication.delivery``) decides what to send and records what happened.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from connectors.publish.endpoints import url_for
from connectors.publish.signing import IDEMPOTENCY_HEADER, INSTITUTION_HEADER, SIGNATURE_HEADER, sign

RETRYABLE_STATUS = frozenset({408, 425, 429})
KIND_HEADER = "X-Danbao-Kind"


@dataclass(frozen=True)
class SenderConfig:
    endpoints: Mapping[str, str]  # "pboc"/"cbrc" → base URL (connectors.publish.endpoints)
    connect_timeout: float = 3.0
    read_timeout: float = 30.0
    max_attempts: int = 10  # then the item is failed, for an operator to requeue
    backoff_base: float = 0.5  # seconds; attempt n waits up to base × 2^(n-1) ...
    backoff_max: float = 60.0  # ... but never more than this
    lease_margin: float = 2.0  # a claim outlives one attempt's timeouts by this much
    max_wait: float = 300.0  # how long one run waits for scheduled retries before returning
    workers: int = 1

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.connect_timeout + self.read_timeout + self.lease_margin)

    def backoff(self, attempts: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base × 2^(attempts-1))]."""
        return rng.uniform(0.0, min(self.backoff_max, self.backoff_base * 2 ** max(attempts - 1, 0)))


def config_with(config: SenderConfig, **changes: Any) -> SenderConfig:
    return dataclasses.replace(config, **changes)


@dataclass(frozen=True)
class Delivery:
    """One body to send: what the outbox item says, with the bytes already read and checked."""

    kind: str  # pboc, cbrc, cbrc_summary
    method: str
    path: str  # under the kind's endpoint
    body: bytes
    body_sha256: str
    content_type: str
    idempotency_key: str
    institution_id: str | None


@dataclass(frozen=True)
class Outcome:
    kind: str  # delivered, retry, failed
    status: int | None = None
    receipt: dict[str, Any] | None = None
    error: str | None = None
    retry_after: float | None = None


def send(http: requests.Session, key: bytes, delivery: Delivery, config: SenderConfig) -> Outcome:
    """Sign and send ``delivery``; never raises for what the network or the receiver does."""
    headers = {
        "Content-Type": delivery.content_type,
        IDEMPOTENCY_HEADER: delivery.idempotency_key,
        SIGNATURE_HEADER: sign(key, delivery.body),
        KIND_HEADER: str(delivery.kind),
    }
    if delivery.institution_id:
        headers[INSTITUTION_HEADER] = delivery.institution_id
    url = url_for(config.endpoints, delivery.kind, delivery.path)
    try:
        response = http.request(delivery.method, url, data=delivery.body, headers=headers,
                                timeout=(config.connect_timeout, config.read_timeout))
    except requests.Timeout as exc:
        return Outcome("retry", error=f"timeout: {type(exc).__name__}")
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        return Outcome("retry", error=f"connection error: {_short(exc)}")
    except requests.RequestException as exc:  # an invalid URL and the like: retrying will not help
        return Outcome("failed", error=f"request error: {_short(exc)}")
    status = response.status_code
    if 200 <= status < 300:
        return _receipt(delivery, response)
    message = _message(response)
    if status >= 500 or status in RETRYABLE_STATUS:
        return Outcome("retry", status=status, error=f"HTTP {status}: {message}",
                       retry_after=_retry_after(response))
    return Outcome("failed", status=status, error=f"HTTP {status}: {message}")


def _receipt(delivery: Delivery, response: requests.Response) -> Outcome:
    try:
        receipt = response.json()
    except ValueError:
        receipt = None
    if not isinstance(receipt, dict):
        return Outcome("retry", status=response.status_code, error="the receiver's answer is not a JSON receipt")
    if receipt.get("idempotency_key", delivery.idempotency_key) != delivery.idempotency_key:
        return Outcome("failed", status=response.status_code, error="the receipt names another idempotency key")
    if receipt.get("sha256", delivery.body_sha256) != delivery.body_sha256:
        return Outcome("failed", status=response.status_code, error="the receipt's SHA-256 is not the body's")
    return Outcome("delivered", status=response.status_code, receipt=receipt)


def fetch_signed(http: requests.Session, key: bytes, base_url: str, path: str, institution_id: str | None,
                 timeout: tuple[float, float]) -> requests.Response:
    """GET ``path`` under ``base_url`` with the path signed (how the PBOC receiver serves feedback files)."""
    headers = {SIGNATURE_HEADER: sign(key, path.encode("utf-8"))}
    if institution_id:
        headers[INSTITUTION_HEADER] = institution_id
    return http.get(base_url.rstrip("/") + path, headers=headers, timeout=timeout)


def _message(response: requests.Response) -> str:
    """The receiver's error, as ``CODE: message`` when it answered in JSON."""
    try:
        payload = response.json()
    except ValueError:
        return clip(response.text or response.reason or "")
    if isinstance(payload, dict):
        code, message = payload.get("code"), payload.get("message") or payload.get("error")
        return clip(f"{code}: {message}" if code else str(message))
    return clip(str(payload))


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _short(exc: BaseException) -> str:
    return clip(f"{type(exc).__name__}: {exc}")


def clip(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clone_session(http: requests.Session) -> requests.Session:
    """A session per worker thread (``requests.Session`` is not meant to be shared), set up alike."""
    clone = requests.Session()
    clone.headers = http.headers.copy()
    for name in ("auth", "proxies", "verify", "cert", "trust_env"):
        setattr(clone, name, getattr(http, name))
    return clone
