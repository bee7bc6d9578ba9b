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
    return {row["institution_id"]: institution_from_row(row) for row in rows}


def institution_from_row(row: dict) -> Institution:
    """A checked registry row (see schemas.registry.normalise_institution) as an ``Institution``."""
    return Institution(**{name: row[name] for name in Institution.__dataclass_fields__})
