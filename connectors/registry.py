"""The regulator's registry as a CSV file (filing-template.md §5)."""

from __future__ import annotations

import csv
from pathlib import Path

from schemas.codes import INSTITUTION_KINDS, INSTITUTION_STATUSES
from validations.context import Institution

REGISTRY_COLUMNS = (
    "institution_id", "name", "kind", "focus_small_micro_agri",
    "district_code", "license_no", "pboc_area_code", "status",
)  # fmt: skip
_BOOLS = {"true": True, "false": False, "1": True, "0": False}


class RegistryError(ValueError):
    """A registry file that cannot be used, with the row and column at fault."""


def institution_from_row(row: dict[str, str], where: str = "") -> Institution:
    """One registry row (strings) as an ``Institution``; RegistryError names the bad column."""
    missing = [c for c in REGISTRY_COLUMNS if c not in row]
    if missing:
        raise RegistryError(f"{where}missing column(s) {', '.join(missing)}")
    values = {c: (row[c] or "").strip() for c in REGISTRY_COLUMNS}
    if values["kind"] not in INSTITUTION_KINDS:
        raise RegistryError(f"{where}column kind: {values['kind']!r} is not one of {', '.join(INSTITUTION_KINDS)}")
    if values["status"] not in INSTITUTION_STATUSES:
        raise RegistryError(f"{where}column status: {values['status']!r} is not one of {', '.join(INSTITUTION_STATUSES)}")
    flag = values["focus_small_micro_agri"].lower()
    if flag not in _BOOLS:
        raise RegistryError(f"{where}column focus_small_micro_agri: {values['focus_small_micro_agri']!r} is not true/false")
    if len(values["institution_id"]) != 18:
        raise RegistryError(f"{where}column institution_id: {values['institution_id']!r} is not 18 characters")
    return Institution(
        institution_id=values["institution_id"],
        name=values["name"],
        kind=values["kind"],
        focus_small_micro_agri=_BOOLS[flag],
        district_code=values["district_code"],
        license_no=values["license_no"],
        pboc_area_code=values["pboc_area_code"],
        status=values["status"],
    )


def read_registry_csv(path: str | Path) -> dict[str, Institution]:
    """institution_id → Institution; RegistryError with file, row and column for a bad file."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RegistryError(f"{path}: cannot read the registry ({exc})") from None
    registry: dict[str, Institution] = {}
    for number, row in enumerate(rows, start=1):
        institution = institution_from_row(row, f"{path} row {number}: ")
        registry[institution.institution_id] = institution
    return registry
