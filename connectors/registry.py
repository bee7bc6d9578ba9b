"""The regulator's registry as a CSV file, read into the engine's ``Institution`` objects."""

from __future__ import annotations

from pathlib import Path

from schemas.registry import load_registry_csv
from validations.context import Institution

RegistryError = ValueError  # the loader names the file, row and column of the first bad value


def read_registry_csv(path: str | Path) -> dict[str, Institution]:
    """institution_id → Institution; ValueError naming file, row and column for a bad file."""
    try:
        rows = load_registry_csv(path)
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the registry ({exc.strerror or exc})") from None
    return {row["institution_id"]: Institution.from_record(row) for row in rows}
