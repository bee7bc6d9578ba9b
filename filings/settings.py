"""Every ``DANBAO_*`` setting in one typed class: its type, default, meaning and whether it is a secret.

:func:`load` reads the environment (an empty variable counts as unset) and checks every value once with
pydantic, so a mistyped setting is one readable error naming the variable. The
application, the portal, the Dagster code location and the command line read their settings here;
``danbao config`` prints the effective values with secrets masked (``SecretStr``), and the README's
configuration table is generated from this class (a test keeps them equal).

The lower layers (``store``, ``connectors``) do not import the application: they take explicit
arguments (``IntakeLimits``, endpoints, keys, an envelope) that the methods here build, and keep a
small reader of their own variables for callers that pass nothing (``store.db.database_url``,
``store.config.danbao_home``); ``tests/filings/test_settings.py`` shows both agree. Variables whose
names are data (``DANBAO_SIGNING_KEY_<USCC>``, ``DANBAO_SM2_*_KEY_<USCC>``) are read by
``connectors.publish.signing`` and listed by :func:`effective` as they are found.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from connectors.intake.limits import IntakeLimits
from connectors.publish.endpoints import DEFAULT_PORTS
from connectors.publish.signing import ENV_KEY, ENV_SM2_PRIVATE, ENV_SM2_PUBLIC
from store.blobs import is_remote
from store.config import private_dir

PREFIX = "DANBAO_"
_LIMITS = IntakeLimits()


def _setting(default: Any, meaning: str, group: str, shown: str | None = None, **constraints: Any) -> Any:
    """A field with its meaning, its group in ``danbao config`` and, when the default is computed at
    run time (under ``DANBAO_HOME``), how that default reads."""
    extra = {"group": group, **({"shown": shown} if shown else {})}
    return Field(default, description=meaning, json_schema_extra=extra, **constraints)


class DanbaoSettings(BaseModel):
    """The effective configuration of one process, from ``DANBAO_*`` environment variables (read by
    :func:`load`, which hands over the values without the prefix)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # -- the store and local folders ----------------------------------------------------------------
    home: Path = _setting(Path("./var"), "where everything local lives (created 0700)", "store", "./var")
    database_url: SecretStr | None = _setting(None, "the store: SQLAlchemy URL (postgresql://… in production)",
                                              "store", "SQLite $DANBAO_HOME/danbao.db")
    blob_root: str | None = _setting(None, "filed packages, byte for byte (folder or fsspec URL)", "store",
                                     "$DANBAO_HOME/blobs")
    tables_url: str | None = _setting(None, "the result archive (folder or fsspec URL)", "store",
                                      "$DANBAO_HOME/tables")
    datasets_dir: str | None = _setting(None, "the published datasets (folder or fsspec URL)", "store",
                                        "$DANBAO_HOME/datasets")
    datadocs_dir: Path | None = _setting(None, "GX Data Docs of submissions (`danbao suites run --submission`)",
                                         "store", "$DANBAO_HOME/datadocs")

    # -- intake limits (FMT-007) --------------------------------------------------------------------
    max_package_bytes: int = _setting(_LIMITS.max_package_bytes, "largest package as received", "intake", gt=0)
    max_expanded_bytes: int = _setting(_LIMITS.max_expanded_bytes, "a ZIP's members uncompressed, together",
                                       "intake", gt=0)
    max_expansion_ratio: float = _setting(_LIMITS.max_expansion_ratio, "uncompressed / compressed, per ZIP member",
                                          "intake", gt=0)
    max_line_bytes: int = _setting(_LIMITS.max_line_bytes, "longest CSV line", "intake", gt=0)
    max_xlsx_expanded_bytes: int = _setting(_LIMITS.max_xlsx_expanded_bytes, "an XLSX's parts uncompressed, together",
                                            "intake", gt=0)
    max_xlsx_expansion_ratio: float = _setting(_LIMITS.max_xlsx_expansion_ratio, "uncompressed / compressed, per XLSX part",
                                               "intake", gt=0)
    max_xlsx_cells: int = _setting(_LIMITS.max_xlsx_cells, "cells of an XLSX sheet", "intake", gt=0)
    max_xlsx_shared_strings: int = _setting(_LIMITS.max_xlsx_shared_strings, "entries of an XLSX shared-string table",
                                            "intake", gt=0)
    max_xlsx_shared_string_chars: int = _setting(_LIMITS.max_xlsx_shared_string_chars,
                                                 "characters of all shared strings together", "intake", gt=0)
    max_parquet_rows: int = _setting(_LIMITS.max_parquet_rows, "rows a Parquet data file may declare", "intake", gt=0)

    # -- the pipeline -------------------------------------------------------------------------------
    landing: str | None = _setting(None, "the landing folder the intake sensor watches (folder or fsspec URL)", "pipeline",
                                    "$DANBAO_HOME/landing")
    pull_endpoints: Path | None = _setting(None, "guarantors' endpoints file (CSV: institution_id,url[,token_env])",
                                           "pipeline")
    pull_token: SecretStr | None = _setting(None, "default bearer token of the pull connector", "pipeline")
    deadline_day: int = _setting(15, "filing deadline, day of the following month (rules.md §5)", "pipeline",
                                 ge=1, le=27)
    first_period: str | None = _setting(None, "first partitioned period, YYYY-MM", "pipeline",
                                        "a rolling window", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    partition_months: int = _setting(12, "months in the rolling partition window", "pipeline", ge=1)
    run_layout: Literal["batch", "per_submission"] = _setting("batch", "submissions per run: `batch` or one each",
                                                               "pipeline")
    batch_size: int = _setting(50, "submissions per batch run", "pipeline", ge=1)
    validation_lease_seconds: float = _setting(1800.0, "how long a claim or an unfinished run is trusted alive",
                                               "pipeline", gt=0, allow_inf_nan=False)
    engine: Literal["in_process", "celery"] = _setting("in_process", "where batch runs execute", "pipeline")
    celery_broker: SecretStr | None = _setting(None, "the Celery broker URL (`DANBAO_ENGINE=celery`)", "pipeline")
    celery_backend: SecretStr | None = _setting(None, "the Celery result backend", "pipeline", "rpc://")
    celery_queue: str = _setting("danbao", "the Celery queue batch steps go to", "pipeline",
                                 pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    code_server_host: str | None = _setting(None, "the code server's host (deploy/workspace.yaml)", "pipeline",
                                            "localhost")

    # -- publication --------------------------------------------------------------------------------
    pseudonym_key: SecretStr | None = _setting(None, "HMAC key for resident ID numbers in datasets", "publication",
                                               "local key under $DANBAO_HOME/secrets (make demo only)",
                                               min_length=16)
    signing_key: SecretStr | None = _setting(None, "HMAC key signing deliveries (sender and reference receivers)",
                                             "publication", "local key in $DANBAO_HOME/secrets/signing.key")
    signature: Literal["hmac-sha256", "sm2-sm3"] = _setting("hmac-sha256", "the signature scheme", "publication")
    sm2_private_key: SecretStr | None = _setting(None, "SM2 private key of the sender (64 hex digits)", "publication")
    sm2_public_key: str | None = _setting(None, "SM2 public key of the receiver (128 hex digits)", "publication")
    pboc_url: str = _setting(f"http://127.0.0.1:{DEFAULT_PORTS['pboc']}", "the PBOC receiver", "publication")
    cbrc_url: str = _setting(f"http://127.0.0.1:{DEFAULT_PORTS['cbrc']}", "the CBRC receiver", "publication")
    pboc_envelope: Literal["sm4", "command"] = _setting("sm4", "the PBOC files' envelope", "publication")
    pboc_sm4_key: SecretStr | None = _setting(None, "SM4 key of the PBOC envelope (32 hex digits)", "publication",
                                              "local key in $DANBAO_HOME/secrets/pboc-sm4.key")
    pboc_seal_cmd: str | None = _setting(None, "the PBOC tool sealing a file (`{in}`, `{out}`)", "publication")
    pboc_open_cmd: str | None = _setting(None, "the PBOC tool opening a file (`{in}`, `{out}`)", "publication")

    # -- the portal ---------------------------------------------------------------------------------
    web_secret: SecretStr | None = _setting(None, "signs portal sessions and CSRF tokens (≥ 32 bytes)", "portal",
                                            "random per process")
    web_max_upload_bytes: int = _setting(100 << 20, "largest upload", "portal", gt=0)
    web_inline_validation: bool = _setting(False, "validate uploads in the portal process", "portal")
    web_session_hours: float = _setting(8.0, "browser session lifetime", "portal", gt=0)

    # -- the command line ---------------------------------------------------------------------------
    token: SecretStr | None = _setting(None, "API token of `danbao submit/status/findings`", "client")
    url: str = _setting("http://127.0.0.1:8000", "the portal of `danbao submit/status/findings`", "client")
    debug: bool = _setting(False, "tracebacks for internal errors of `danbao check`/`suites`", "client")
    progress: Literal["", "always", "never"] = _setting(
        "", "progress display: on a terminal by default, `always` or `never`", "client", "on a terminal")

    # -- what the rest of the code asks ---------------------------------------------------------------

    def home_dir(self) -> Path:
        """``DANBAO_HOME`` as an absolute path, created 0700 (as ``store.config.danbao_home``)."""
        return private_dir(self.home.expanduser().resolve())

    def database(self) -> str:
        """The store's URL: ``DANBAO_DATABASE_URL``, else SQLite in ``DANBAO_HOME``."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.home_dir() / 'danbao.db'}"

    def blobs_dir(self) -> Path | str:
        return _location(self.blob_root) or self.home_dir() / "blobs"

    def tables(self) -> str:
        return self.tables_url or str(self.home_dir() / "tables")

    def datasets(self) -> Path | str:
        return _location(self.datasets_dir) or self.home_dir() / "datasets"

    def datadocs(self) -> Path:
        return self.datadocs_dir or self.home_dir() / "datadocs"

    def secrets_dir(self) -> Path:
        """Where the embedded setup keeps its local secrets (``filings.secrets``)."""
        return self.home_dir() / "secrets"

    def intake_limits(self) -> IntakeLimits:
        return IntakeLimits(**{name: getattr(self, name) for name in _LIMIT_FIELDS})

    def endpoints(self) -> dict[str, str]:
        """The regulators' base URLs, as ``connectors.publish.endpoints`` names them."""
        return {"pboc": self.pboc_url.rstrip("/"), "cbrc": self.cbrc_url.rstrip("/")}


def _location(value: str | None) -> Path | str | None:
    """A folder as a ``Path``; an fsspec URL (``s3://…``) kept as text, which ``Path`` would mangle."""
    if not value:
        return None
    return value if is_remote(value) else Path(value.removeprefix("file://")).expanduser()


_LIMIT_FIELDS = tuple(name for name in DanbaoSettings.model_fields if name.startswith("max_"))


class SettingsError(ValueError):
    """A setting that does not parse: one line per variable, naming it."""


def load(environ: Mapping[str, str] | None = None) -> DanbaoSettings:
    """The settings from ``environ`` (default: the process's environment), or ``SettingsError``.

    Read at every use, so a changed environment is seen at once; parsed once per distinct set of
    ``DANBAO_*`` values (the object is frozen, so sharing it is safe)."""
    env = os.environ if environ is None else environ
    return _parse(tuple(sorted((name, value) for name, value in env.items() if name.startswith(PREFIX) and value)))


@functools.lru_cache(maxsize=64)
def _parse(items: tuple[tuple[str, str], ...]) -> DanbaoSettings:
    values = {name[len(PREFIX):].lower(): value for name, value in items
              if name[len(PREFIX):].lower() in DanbaoSettings.model_fields}
    try:
        return DanbaoSettings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{variable(str(e['loc'][0]))}: {e['msg']} (got {_shown_input(e)})"
                             for e in exc.errors())
        raise SettingsError(problems) from None


def variable(field: str) -> str:
    return PREFIX + field.upper()


def _shown_input(error: Any) -> str:
    field = DanbaoSettings.model_fields.get(str(error["loc"][0]))
    if field is not None and _is_secret(field.annotation):
        return "a secret"
    return repr(error.get("input"))


def _is_secret(annotation: Any) -> bool:
    return "SecretStr" in str(annotation)


# -- what `danbao config` prints ---------------------------------------------------------------------


@dataclass(frozen=True)
class Effective:
    name: str
    value: str | None
    source: str  # "environment" or "default"
    meaning: str
    secret: bool
    group: str


def mask(value: str | None) -> str | None:
    """A secret as its length and nothing else; a URL keeps its scheme, user and host, never a password."""
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
    """Every setting with its value (secrets masked) and whether the environment or the default gave it;
    then the per-guarantor keys found in the environment."""
    env = os.environ if environ is None else environ
    settings = load(env)
    out = []
    for name, field in DanbaoSettings.model_fields.items():
        extra = field.json_schema_extra or {}
        secret = _is_secret(field.annotation)
        value = getattr(settings, name)
        if name in settings.model_fields_set:
            text = mask(value.get_secret_value()) if isinstance(value, SecretStr) else _text(value)
            source = "environment"
        else:
            text, source = (extra.get("shown") or _text(value)), "default"
        out.append(Effective(variable(name), text, source, field.description or "", secret, str(extra["group"])))
    dynamic = (ENV_KEY + "_", ENV_SM2_PRIVATE + "_", ENV_SM2_PUBLIC + "_")
    for name in sorted(k for k in env if k.startswith(dynamic) and env[k]):
        secret = not name.startswith(ENV_SM2_PUBLIC)
        out.append(Effective(name, mask(env[name]) if secret else env[name], "environment",
                             "a guarantor's own key", secret, "publication"))
    return out


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def markdown_table() -> str:
    """The README's configuration table: every variable, its default, whether it is a secret, its meaning."""
    lines = ["| variable | default | secret | what |", "|---|---|---|---|"]
    for name, field in DanbaoSettings.model_fields.items():
        extra = field.json_schema_extra or {}
        default = extra.get("shown") or _text(field.default) or "none"
        secret = "yes" if _is_secret(field.annotation) else ""
        lines.append(f"| `{variable(name)}` | {default} | {secret} | {field.description} |")
    return "\n".join(lines) + "\n"
