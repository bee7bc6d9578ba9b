"""Request signing (outputs.md §5): HMAC-SHA256 over the body with the institution's key.

Keys come from the environment, never from code or the store: ``DANBAO_SIGNING_KEY`` for the
deployment, and ``DANBAO_SIGNING_KEY_<INSTITUTION_ID>`` for a guarantor with its own key. Sender and
reference receivers resolve a key the same way, so an item signed for one guarantor cannot pass as
another's. A ``GET`` (a feedback file) is signed over its path, since it has no body.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

ENV_KEY = "DANBAO_SIGNING_KEY"
SIGNATURE_HEADER = "X-Danbao-Signature"
INSTITUTION_HEADER = "X-Danbao-Institution"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_PREFIX = "sha256="


class MissingKeyError(LookupError):
    """No signing key is configured for this institution (nor for the deployment)."""


@dataclass(frozen=True)
class SigningKeys:
    """The deployment key and any per-institution keys, as bytes."""

    default: bytes | None = None
    per_institution: Mapping[str, bytes] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SigningKeys:
        env = os.environ if environ is None else environ
        default = env.get(ENV_KEY) or None
        own = {
            name[len(ENV_KEY) + 1 :]: value.encode("utf-8")
            for name, value in env.items()
            if name.startswith(ENV_KEY + "_") and value
        }
        return cls(default.encode("utf-8") if default else None, own)

    @classmethod
    def of(cls, default: str | bytes | None, **per_institution: str | bytes) -> SigningKeys:
        """Keys given in code (tests, the demo)."""
        return cls(_bytes(default) if default else None, {k: _bytes(v) for k, v in per_institution.items()})

    def key_for(self, institution_id: str | None) -> bytes:
        """The institution's own key if it has one, else the deployment key."""
        if institution_id and institution_id in self.per_institution:
            return self.per_institution[institution_id]
        if self.default:
            return self.default
        who = f"institution {institution_id}" if institution_id else "the deployment"
        raise MissingKeyError(f"no signing key for {who}: set {ENV_KEY} (or {ENV_KEY}_<INSTITUTION_ID>)")

    def __repr__(self) -> str:  # never print a key
        return f"SigningKeys(default={'set' if self.default else 'unset'}, per_institution={sorted(self.per_institution)})"


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def sign(key: bytes, payload: bytes) -> str:
    """The signature header's value for ``payload``."""
    return _PREFIX + hmac.new(key, payload, hashlib.sha256).hexdigest()


def verify(key: bytes, payload: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``payload`` under ``key`` (constant-time)."""
    if not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(key, payload), header.strip())
