"""The regulator's registry (filing-template.md §5): its columns and the checks of one row.

Shared by the store (which keeps the registry) and by `danbao check --registry CSV` (which reads it
without a database), so that both doors accept exactly the same file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from schemas.codes import INSTITUTION_KINDS, INSTITUTION_RATINGS, INSTITUTION_STATUSES

REGISTRY_COLUMNS = (
    "institution_id",
    "name",
    "kind",
    "focus_small_micro_agri",
    "district_code",
    "license_no",
    "pboc_area_code",
    "status",
)
#: template 1.1-draft's registry fields (五(十一), 六(十六): third-party rating; 六(十四): systemic importance)
RATING_COLUMNS = ("rating_agency", "rating_grade", "rating_date", "systemic")
OPTIONAL_REGISTRY_COLUMNS = ("pull_url", *RATING_COLUMNS)

_USCC_SHAPE = re.compile(r"[0-9A-Z]{18}")  # the shape only; the check digit is FMT's business
_DISTRICT = re.compile(r"\d{6}")
_PBOC_AREA = re.compile(r"[0-9A-Z]{14}")



def load_registry_csv(path: Path | str) -> list[dict[str, Any]]:
    """Read and check the regulator's registry CSV (filing-template.md §5).

    Returns one dict per row with the registry columns (``focus_small_micro_agri`` as a bool), plus
    ``pull_url`` only when the file has that column, so that a registry without it leaves the pull
    URLs already in the store alone. Raises ``ValueError`` naming the row and column of the first
    bad value. UTF-8 (with or without BOM) is expected; GB18030 is accepted, as office tools write it.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise ValueError(f"{path}: neither UTF-8 nor GB18030 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    if not header:
        raise ValueError(f"{path}: empty file, expected a header row")
    if len(set(header)) != len(header):
        raise ValueError(f"{path}: duplicate column names in the header: {header}")
    missing = [name for name in REGISTRY_COLUMNS if name not in header]
    unknown = [name for name in header if name not in REGISTRY_COLUMNS + OPTIONAL_REGISTRY_COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(map(repr, missing))}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(map(repr, unknown))}")
        raise ValueError(f"{path}: {'; '.join(problems)}")
    reader.fieldnames = header

    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, record in enumerate(reader, start=1):
        where = f"{path}: row {number} (line {reader.line_num})"
        if None in record:
            raise ValueError(f"{where}: more fields than the header has columns")
        if not any((value or "").strip() for value in record.values()):
            continue  # a blank row, as spreadsheet exports leave at the end
        row = normalise_institution(record, where)
        institution_id = row["institution_id"]
        if institution_id in seen:
            raise ValueError(
                f"{where}, column 'institution_id': {institution_id} already appears in row {seen[institution_id]}"
            )
        seen[institution_id] = number
        rows.append(row)
    return rows


def normalise_institution(record: Mapping[str, Any], where: str = "registry row") -> dict[str, Any]:
    """Check one registry row (strings as read from CSV, or already typed values) and return it
    typed and stripped; raises ``ValueError`` naming ``where`` and the column."""

    def fail(column: str, problem: str) -> ValueError:
        return ValueError(f"{where}, column {column!r}: {problem}")

    def text(column: str, pattern: re.Pattern[str] | None = None, what: str = "", max_len: int = 255) -> str:
        value = record.get(column)
        value = "" if value is None else str(value).strip()
        if not value:
            raise fail(column, "empty")
        if pattern is not None and not pattern.fullmatch(value):
            raise fail(column, f"{value!r} is not {what}")
        if len(value) > max_len:
            raise fail(column, f"longer than {max_len} characters")
        return value

    def one_of(column: str, allowed: Iterable[str]) -> str:
        value = text(column)
        allowed = [str(a) for a in allowed]
        if value not in allowed:
            raise fail(column, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    out: dict[str, Any] = {
        "institution_id": text("institution_id", _USCC_SHAPE, "18 digits or capital letters (a USCC)"),
        "name": text("name"),
        "kind": one_of("kind", INSTITUTION_KINDS),
    }
    focus = record.get("focus_small_micro_agri")
    if isinstance(focus, bool):
        out["focus_small_micro_agri"] = focus
    else:
        flag = "" if focus is None else str(focus).strip().lower()
        if flag not in ("true", "false"):
            raise fail("focus_small_micro_agri", f"{focus!r} is not true or false")
        out["focus_small_micro_agri"] = flag == "true"
    out["district_code"] = text("district_code", _DISTRICT, "a 6-digit district code")
    out["license_no"] = text("license_no", max_len=64)
    out["pboc_area_code"] = text("pboc_area_code", _PBOC_AREA, "a 14-character area code")
    out["status"] = one_of("status", INSTITUTION_STATUSES)
    if "pull_url" in record:
        url = record["pull_url"]
        url = None if url is None or not str(url).strip() else str(url).strip()
        if url is not None and not re.match(r"https?://\S+$", url):
            raise fail("pull_url", f"{url!r} is not an http(s) URL")
        if url is not None and len(url) > 2048:
            raise fail("pull_url", "longer than 2048 characters")
        out["pull_url"] = url
    if any(name in record for name in RATING_COLUMNS):
        out.update(_rating(record, fail))
    return out


def _rating(record: Mapping[str, Any], fail: Any) -> dict[str, Any]:
    """The 1.1-draft registry fields, each optional: a rating is agency, grade and date together."""

    def value(column: str) -> str:
        raw = record.get(column)
        if isinstance(raw, dt.date):
            return raw.isoformat()
        return "" if raw is None else str(raw).strip()

    agency, grade, date = value("rating_agency"), value("rating_grade"), value("rating_date")
    if any((agency, grade, date)) and not all((agency, grade, date)):
        raise fail("rating_agency" if not agency else "rating_grade" if not grade else "rating_date",
                   "a rating needs its agency, grade and date together")
    if len(agency) > 120:
        raise fail("rating_agency", "longer than 120 characters")
    if grade and grade not in INSTITUTION_RATINGS:
        raise fail("rating_grade", f"{grade!r} is not on the rating scale ({', '.join(INSTITUTION_RATINGS)})")
    if date:
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            raise fail("rating_date", f"{date!r} is not a date YYYY-MM-DD") from None
    systemic = record.get("systemic")
    if isinstance(systemic, bool) or systemic is None:
        flag = bool(systemic)
    else:
        text = str(systemic).strip().lower()
        if text not in ("true", "false", ""):
            raise fail("systemic", f"{systemic!r} is not true or false")
        flag = text == "true"
    return {"rating_agency": agency or None, "rating_grade": grade or None, "rating_date": date or None,
            "systemic": flag}
