"""The embedded setup's local secrets, where production sets variables, in one place.

On one machine with nothing configured, the sender and the reference receivers must share a signing
key and an SM4 key, and ``make demo``'s datasets a pseudonym key: each is a random secret created once
under ``$DANBAO_HOME/secrets`` (``connectors.local_secret``: 0600 in a 0700 folder, never in the
repository). A deployment sets the variables instead (``filings.settings``), and then no file is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from connectors.local_secret import local_secret_hex
from connectors.publish.envelope import Envelope, envelope_from_env
from connectors.publish.signing import SigningKeys
from filings.settings import DanbaoSettings, load

SIGNING_KEY_FILE = "signing.key"
SM4_KEY_FILE = "pboc-sm4.key"
PSEUDONYM_KEY_FILE = "pseudonym.key"


def secrets_dir(settings: DanbaoSettings | None = None) -> Path:
    return (settings or load()).secrets_dir()


def local_signing_key(folder: Path | None = None) -> bytes:
    """The embedded setup's HMAC signing key (64 hex digits) in ``folder`` (default the secrets folder),
    shared by ``danbao publish`` and ``danbao receivers serve`` on one machine so the README's commands
    work without configuration."""
    return local_secret_hex((folder or secrets_dir()) / SIGNING_KEY_FILE, 32).encode()


def signing_keys(environ: Mapping[str, str] | None = None) -> tuple[SigningKeys, str]:
    """The signing keys and where they come from: ``$DANBAO_SIGNING_KEY`` (and per-guarantor keys, or
    the SM2 keys) when set, else the local key of the embedded setup."""
    keys = SigningKeys.from_env(environ)
    if keys.default is not None or keys.per_institution:
        return keys, "environment"
    folder = load(environ).secrets_dir()
    return SigningKeys(local_signing_key(folder), {}), f"local key {folder / SIGNING_KEY_FILE}"


def default_envelope() -> Envelope:
    """``$DANBAO_PBOC_SM4_KEY`` (or the PBOC's own tool), else the embedded setup's local SM4 key."""
    return envelope_from_env(local_key_file=secrets_dir() / SM4_KEY_FILE)


def local_pseudonym_key_file(settings: DanbaoSettings | None = None) -> Path:
    """Where ``make demo``'s home keeps its pseudonym key (only there: see ``pipelines.resources``)."""
    return secrets_dir(settings) / PSEUDONYM_KEY_FILE
