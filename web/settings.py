"""The portal's settings, read from the environment once, when the app is made.

Tests build ``WebSettings`` directly, so nothing in the app reads ``os.environ`` after start-up.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from connectors.intake import IntakeLimits
from store.blobs import is_remote
from store.config import danbao_home
from store.db import database_url

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_BYTES = 100 << 20  # a month's filing of a large guarantor is a few MB zipped
DEFAULT_SESSION_HOURS = 8
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class WebSettings:
    database_url: str
    blob_root: Path | str  # a folder, or an fsspec URL (shared storage)
    datasets_dir: Path | str
    tables_url: str  # the pipeline's table archive (BIZ-010 reads the previous accepted filing from it)
    secret: bytes  # signs session cookies and CSRF tokens
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    inline_validation: bool = False
    session_max_age_s: int = DEFAULT_SESSION_HOURS * 3600
    limits: IntakeLimits = field(default_factory=IntakeLimits)
    auto_migrate: bool = True
    datadocs_dir: Path | None = None  # GX Data Docs of submissions (`danbao suites run --submission ID`)

    @classmethod
    def from_env(cls, **overrides: Any) -> WebSettings:
        """``DANBAO_DATABASE_URL`` (else SQLite in ``DANBAO_HOME``), ``DANBAO_BLOB_ROOT``,
        ``DANBAO_DATASETS_DIR``, ``DANBAO_TABLES_URL``, ``DANBAO_WEB_SECRET``,
        ``DANBAO_WEB_MAX_UPLOAD_BYTES``, ``DANBAO_WEB_INLINE_VALIDATION`` (``1``), ``DANBAO_WEB_SESSION_HOURS``
        and the intake limits (``DANBAO_MAX_*``)."""
        home = danbao_home()
        env = os.environ.get
        settings = cls(
            database_url=database_url(),
            blob_root=_location(env("DANBAO_BLOB_ROOT"), home / "blobs"),
            datasets_dir=_location(env("DANBAO_DATASETS_DIR"), home / "datasets"),
            tables_url=env("DANBAO_TABLES_URL") or str(home / "tables"),
            secret=secret_from_env(),
            max_upload_bytes=int(env("DANBAO_WEB_MAX_UPLOAD_BYTES") or DEFAULT_MAX_UPLOAD_BYTES),
            inline_validation=(env("DANBAO_WEB_INLINE_VALIDATION") or "").lower() in ("1", "true", "yes"),
            session_max_age_s=int(float(env("DANBAO_WEB_SESSION_HOURS") or DEFAULT_SESSION_HOURS) * 3600),
            limits=IntakeLimits.from_env(),
            datadocs_dir=Path(env("DANBAO_DATADOCS_DIR") or home / "datadocs"),
        )
        return replace(settings, **overrides)


def secret_from_env() -> bytes:
    """``DANBAO_WEB_SECRET``; without it a random secret for this process (sessions then end when the
    server restarts, which is fine for a demo and says so in the log)."""
    value = os.environ.get("DANBAO_WEB_SECRET")
    if value:
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"DANBAO_WEB_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        return value.encode()
    log.warning("DANBAO_WEB_SECRET is not set: using a random secret; sessions end when the server stops")
    return secrets.token_bytes(32)


def _location(value: str | None, default: Path) -> Path | str:
    """A folder as a ``Path``; an fsspec URL (``s3://…``) kept as text, which ``Path`` would mangle."""
    if not value:
        return default
    return value if is_remote(value) else Path(value.removeprefix("file://"))
