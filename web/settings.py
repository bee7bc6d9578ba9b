"""The portal's settings, taken from ``filings.settings`` once, when the app is made.

Tests build ``WebSettings`` directly, so nothing in the app reads the environment after start-up.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from connectors.intake import IntakeLimits
from filings.settings import DanbaoSettings, load

log = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_BYTES = DanbaoSettings.model_fields["web_max_upload_bytes"].default
DEFAULT_SESSION_HOURS = DanbaoSettings.model_fields["web_session_hours"].default
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
    session_max_age_s: int = int(DEFAULT_SESSION_HOURS * 3600)
    limits: IntakeLimits = field(default_factory=IntakeLimits)
    auto_migrate: bool = True
    datadocs_dir: Path | None = None  # GX Data Docs of submissions (`danbao suites run --submission ID`)

    @classmethod
    def from_env(cls, **overrides: Any) -> WebSettings:
        """``DANBAO_DATABASE_URL`` (else SQLite in ``DANBAO_HOME``), ``DANBAO_BLOB_ROOT``,
        ``DANBAO_DATASETS_DIR``, ``DANBAO_TABLES_URL``, ``DANBAO_WEB_SECRET``,
        ``DANBAO_WEB_MAX_UPLOAD_BYTES``, ``DANBAO_WEB_INLINE_VALIDATION`` (``1``), ``DANBAO_WEB_SESSION_HOURS``
        and the intake limits (``DANBAO_MAX_*``)."""
        env = load()
        settings = cls(
            database_url=env.database(),
            blob_root=env.blobs_dir(),
            datasets_dir=env.datasets(),
            tables_url=env.tables(),
            secret=secret_from_env(env),
            max_upload_bytes=env.web_max_upload_bytes,
            inline_validation=env.web_inline_validation,
            session_max_age_s=int(env.web_session_hours * 3600),
            limits=env.intake_limits(),
            datadocs_dir=env.datadocs(),
        )
        return replace(settings, **overrides)


def secret_from_env(env: DanbaoSettings | None = None) -> bytes:
    """``DANBAO_WEB_SECRET``; without it a random secret for this process (sessions then end when the
    server restarts, which is fine for a demo and says so in the log)."""
    secret = (env or load()).web_secret
    value = secret.get_secret_value() if secret is not None else None
    if value:
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"DANBAO_WEB_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        return value.encode()
    log.warning("DANBAO_WEB_SECRET is not set: using a random secret; sessions end when the server stops")
    return secrets.token_bytes(32)
