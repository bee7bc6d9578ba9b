"""Request signing (outputs.md §5): a signature over the body with the institution's key, by one of
two schemes chosen by configuration (``DANBAO_SIGNATURE``):

- ``hmac-sha256`` (the default): HMAC-SHA256 with a shared key, header ``sha256=<hex>``; keys
  ``DANBAO_SIGNING_KEY`` for the deployment and ``DANBAO_SIGNING_KEY_<INSTITUTION_ID>`` for a guarantor
  with its own;
- ``sm2-sm3``: an SM2 signature (GB/T 32918) over SM3(Z‖body) with the default user ID
  ``1234567812345678``, header ``sm2-sm3=<hex r‖s>``; the sender holds the private key
  (``DANBAO_SM2_PRIVATE_KEY[_<INSTITUTION_ID>]``, 64 hex digits), the receiver the public one
  (``DANBAO_SM2_PUBLIC_KEY[_<INSTITUTION_ID>]``, 128 hex digits x‖y). The curve arithmetic is
  ``gmssl``'s; SM3 is OpenSSL's through ``hashlib`` where it has it, else ``gmssl``'s.

Keys come from the environment, never from code or the store. Sender and reference receivers resolve
a key the same way, so an item signed for one guarantor cannot pass as another's. A ``GET`` (a
feedback file) is signed over its path, since it has no body.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

ENV_SCHEME = "DANBAO_SIGNATURE"
HMAC_SHA256, SM2_SM3 = "hmac-sha256", "sm2-sm3"
ENV_SM2_PRIVATE = "DANBAO_SM2_PRIVATE_KEY"
ENV_SM2_PUBLIC = "DANBAO_SM2_PUBLIC_KEY"
ENV_KEY = "DANBAO_SIGNING_KEY"
SIGNATURE_HEADER = "X-Danbao-Signature"
INSTITUTION_HEADER = "X-Danbao-Institution"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_PREFIX = "sha256="


class MissingKeyError(LookupError):
    """No signing key is configured for this institution (nor for the deployment)."""


@dataclass(frozen=True)
class Sm2Key:
    """An SM2 key pair as hex (the private half only on the signing side)."""

    public: str
    private: str | None = None

    def __repr__(self) -> str:
        return f"Sm2Key(public={self.public[:8]}…, private={'set' if self.private else 'unset'})"


@dataclass(frozen=True)
class SigningKeys:
    """The deployment key and any per-institution keys: bytes (HMAC) or ``Sm2Key``."""

    default: bytes | Sm2Key | None = None
    per_institution: Mapping[str, bytes | Sm2Key] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SigningKeys:
        env = os.environ if environ is None else environ
        scheme = (env.get(ENV_SCHEME) or HMAC_SHA256).lower()
        if scheme == SM2_SM3:
            return cls._sm2_from_env(env)
        if scheme != HMAC_SHA256:
            raise ValueError(f"{ENV_SCHEME} must be {HMAC_SHA256} or {SM2_SM3}, not {scheme!r}")
        default = env.get(ENV_KEY) or None
        own: dict[str, bytes | Sm2Key] = {
            name[len(ENV_KEY) + 1 :]: value.encode("utf-8")
            for name, value in env.items()
            if name.startswith(ENV_KEY + "_") and value
        }
        return cls(default.encode("utf-8") if default else None, own)

    @classmethod
    def _sm2_from_env(cls, env: Mapping[str, str]) -> SigningKeys:
        def pair(suffix: str) -> Sm2Key | None:
            private, public = env.get(ENV_SM2_PRIVATE + suffix) or None, env.get(ENV_SM2_PUBLIC + suffix) or None
            if public is None and private is not None:
                public = sm2_public_key(private)
            return Sm2Key(public, private) if public else None

        ids = {name.split("_KEY_", 1)[1] for name in env if name.startswith((ENV_SM2_PRIVATE + "_", ENV_SM2_PUBLIC + "_"))}
        own: dict[str, bytes | Sm2Key] = {i: k for i in ids if (k := pair("_" + i)) is not None}
        return cls(pair(""), own)

    @classmethod
    def of(cls, default: str | bytes | None, **per_institution: str | bytes) -> SigningKeys:
        """Keys given in code (tests, the demo)."""
        return cls(_bytes(default) if default else None, {k: _bytes(v) for k, v in per_institution.items()})

    def key_for(self, institution_id: str | None) -> bytes | Sm2Key:
        """The institution's own key if it has one, else the deployment key."""
        if institution_id and institution_id in self.per_institution:
            return self.per_institution[institution_id]
        if self.default:
            return self.default
        who = f"institution {institution_id}" if institution_id else "the deployment"
        raise MissingKeyError(f"no signing key for {who}: set {ENV_KEY} (or {ENV_KEY}_<INSTITUTION_ID>; with "
                              f"{ENV_SCHEME}={SM2_SM3}, {ENV_SM2_PRIVATE} or {ENV_SM2_PUBLIC})")

    def __repr__(self) -> str:  # never print a key
        return f"SigningKeys(default={'set' if self.default else 'unset'}, per_institution={sorted(self.per_institution)})"


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def sign(key: bytes | Sm2Key, payload: bytes) -> str:
    """The signature header's value for ``payload``."""
    if isinstance(key, Sm2Key):
        if not key.private:
            raise MissingKeyError("an SM2 signature needs the private key")
        return _SM2_PREFIX + _sm2(key).sign(sm3_digest_for_sm2(key.public, payload), secrets.token_hex(32))
    return _PREFIX + hmac.new(key, payload, hashlib.sha256).hexdigest()


def verify(key: bytes | Sm2Key, payload: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``payload`` under ``key`` (HMAC: constant-time)."""
    if not header:
        return False
    if isinstance(key, Sm2Key):
        if not header.startswith(_SM2_PREFIX):
            return False
        signature = header.strip()[len(_SM2_PREFIX):]
        if len(signature) != 128 or any(c not in "0123456789abcdefABCDEF" for c in signature):
            return False
        try:
            return bool(_sm2(key).verify(signature, sm3_digest_for_sm2(key.public, payload)))
        except (ValueError, ZeroDivisionError):
            return False
    if not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(key, payload), header.strip())


# -- SM2 with SM3 ------------------------------------------------------------------------------------

_SM2_PREFIX = "sm2-sm3="
_DEFAULT_ID = b"1234567812345678"


def _sm3(data: bytes) -> bytes:
    if "sm3" in hashlib.algorithms_available:
        return hashlib.new("sm3", data).digest()
    from gmssl import func, sm3

    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(data)))


def _sm2(key: Sm2Key):
    from gmssl import sm2

    return sm2.CryptSM2(private_key=key.private or "", public_key=key.public)


def sm3_digest_for_sm2(public_key: str, payload: bytes) -> bytes:
    """e = SM3(Z_A ‖ M), Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) (GB/T 32918.2 §5.5)."""
    from gmssl import sm2

    table = sm2.default_ecc_table
    z = bytes.fromhex(f"{len(_DEFAULT_ID) * 8:04x}") + _DEFAULT_ID + bytes.fromhex(table["a"] + table["b"] + table["g"] + public_key)
    return _sm3(_sm3(z) + payload)


def sm2_public_key(private_key: str) -> str:
    """The public key (x‖y, 128 hex digits) of an SM2 private key."""
    from gmssl import sm2

    crypt = sm2.CryptSM2(private_key=private_key, public_key="")
    return crypt._kg(int(private_key, 16), sm2.default_ecc_table["g"])  # gmssl has no public API for k·G


def new_sm2_key() -> Sm2Key:
    """A fresh SM2 key pair (tests, the demo)."""
    from gmssl import sm2

    while True:
        private = secrets.token_hex(32)
        if 0 < int(private, 16) < int(sm2.default_ecc_table["n"], 16) - 1:
            return Sm2Key(sm2_public_key(private), private)
