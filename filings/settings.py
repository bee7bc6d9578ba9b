"""The effective configuration, read from the environment: what ``danbao config`` prints, and the
local signing key of the embedded setup.

Every setting the project reads is listed here once with its default, whether it is a secret, and
where it is used. Modules keep reading their own variables (the Dagster resources, ``web.settings``);
this module is the one place a person asks "what is in force?", with secrets masked.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from connectors.publish.endpoints import DEFAULT_PORTS
from connectors.publish.signing import ENV_KEY, SigningKeys
from store.config import danbao_home, private_dir

LOCAL_SIGNING_KEY = Path("secrets") / "signing.key"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Callable[[], str] | str | None
    meaning: str
    secret: bool = False
    group: str = "store"


def _home(sub: str) -> Callable[[], str]:
    return lambda: str(danbao_home() / sub)


SETTINGS: tuple[Setting, ...] = (
    Setting("DANBAO_HOME", lambda: str(danbao_home()), "where everything local lives"),
    Setting("DANBAO_DATABASE_URL", lambda: f"sqlite:///{danbao_home() / 'danbao.db'}", "the store", secret=True),
    Setting("DANBAO_BLOB_ROOT", _home("blobs"), "filed packages, byte for byte (folder or fsspec URL)"),
    Setting("DANBAO_TABLES_URL", _home("tables"), "the table archive (folder or fsspec URL)"),
    Setting("DANBAO_DATASETS_DIR", _home("datasets"), "the published datasets (folder or fsspec URL)"),
    Setting("DANBAO_DATADOCS_DIR", _home("datadocs"), "GX Data Docs of submissions (danbao suites run --submission)"),
    Setting("DANBAO_LANDING", _home("landing"), "the landing folder (folder or fsspec URL)", group="pipeline"),
    Setting("DANBAO_PULL_ENDPOINTS", None, "guarantors' endpoints file (CSV)", group="pipeline"),
    Setting("DANBAO_PULL_TOKEN", None, "default bearer token of the pull connector", secret=True, group="pipeline"),
    Setting("DANBAO_DEADLINE_DAY", "15", "filing deadline, day of the following month", group="pipeline"),
    Setting("DANBAO_FIRST_PERIOD", None, "first partitioned period (else a rolling window)", group="pipeline"),
    Setting("DANBAO_PARTITION_MONTHS", "12", "months in the rolling partition window", group="pipeline"),
    Setting("DANBAO_RUN_LAYOUT", "batch", "batch or per_submission", group="pipeline"),
    Setting("DANBAO_BATCH_SIZE", "50", "submissions per batch run", group="pipeline"),
    Setting("DANBAO_VALIDATION_LEASE_SECONDS", "1800", "claim lease of a validating submission", group="pipeline"),
    Setting("DANBAO_PSEUDONYM_KEY", lambda: f"local key in {danbao_home() / 'secrets' / 'pseudonym.key'}",
            "HMAC key for resident ID numbers in datasets", secret=True, group="publication"),
    Setting(ENV_KEY, lambda: f"local key in {danbao_home() / LOCAL_SIGNING_KEY}",
            "HMAC key signing deliveries (sender and reference receivers)", secret=True, group="publication"),
    Setting("DANBAO_PBOC_URL", f"http://127.0.0.1:{DEFAULT_PORTS['pboc']}", "PBOC receiver", group="publication"),
    Setting("DANBAO_CBRC_URL", f"http://127.0.0.1:{DEFAULT_PORTS['cbrc']}", "CBRC receiver", group="publication"),
    Setting("DANBAO_WEB_SECRET", "random per process", "signs portal sessions and CSRF tokens", secret=True,
            group="portal"),
    Setting("DANBAO_WEB_MAX_UPLOAD_BYTES", str(100 << 20), "largest upload", group="portal"),
    Setting("DANBAO_WEB_INLINE_VALIDATION", "0", "validate uploads in the portal process", group="portal"),
    Setting("DANBAO_WEB_SESSION_HOURS", "8", "browser session lifetime", group="portal"),
    Setting("DANBAO_TOKEN", None, "API token of `danbao submit/status/findings`", secret=True, group="client"),
    Setting("DANBAO_URL", "http://127.0.0.1:8000", "the portal for `danbao submit/status/findings`", group="client"),
)


@dataclass(frozen=True)
class Effective:
    name: str
    value: str | None
    source: str  # "environment" or "default"
    meaning: str
    secret: bool
    group: str


def mask(value: str | None) -> str | None:
    """A secret as its length and nothing else; a URL keeps its scheme and host, never a password."""
    if value is None:
        return None
    if "://" in value and "@" in value:  # postgresql://user:password@host/db
        scheme, rest = value.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:****@{host}"
    if "://" in value:
        return value
    return f"****（{len(value)} 字符 chars）"


def effective(environ: Mapping[str, str] | None = None) -> list[Effective]:
    env = os.environ if environ is None else environ
    out = []
    for s in SETTINGS:
        raw = env.get(s.name) or None
        if raw is not None:
            value, source = (mask(raw) if s.secret else raw), "environment"
        else:
            default = s.default() if callable(s.default) else s.default
            value, source = default, "default"
        out.append(Effective(s.name, value, source, s.meaning, s.secret, s.group))
    extra = sorted(k for k in env if k.startswith(ENV_KEY + "_") and env[k])
    for name in extra:
        out.append(Effective(name, mask(env[name]), "environment", "a guarantor's own signing key", True, "publication"))
    return out


def local_signing_key(home: Path | None = None) -> bytes:
    """The embedded setup's signing key: created once under ``$DANBAO_HOME/secrets/`` (0600 in a 0700
    folder, never in the repository), shared by ``danbao publish`` and ``danbao receivers serve`` on one
    machine so the README's commands work without configuration."""
    path = (home or danbao_home()) / LOCAL_SIGNING_KEY
    if not path.exists():
        private_dir(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_text().strip().encode()
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def signing_keys(environ: Mapping[str, str] | None = None) -> tuple[SigningKeys, str]:
    """The signing keys and where they come from: ``$DANBAO_SIGNING_KEY`` (and per-guarantor keys) when
    set, else the local key of the embedded setup."""
    keys = SigningKeys.from_env(environ)
    if keys.default is not None or keys.per_institution:
        return keys, "environment"
    return SigningKeys(local_signing_key(), {}), f"local key {danbao_home() / LOCAL_SIGNING_KEY}"
