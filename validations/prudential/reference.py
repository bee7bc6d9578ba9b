"""Reference data in force on a date: the one-year LPR, the negative list and the phase-4 parameters.

The values are data files under ``validations/reference/`` (see its README), versioned by effective
date, so that a later rate or threshold is a new row and never an edit of code or of the past. A period
is checked with the values in force on its last day (``ReferenceData.as_of(period.end)``); only the LPR
is looked up per guarantee, on its ``start_date`` (NEG-003).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from validations.exact import scaled

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "reference"
_EPOCH = dt.date(1970, 1, 1)


class ReferenceError(ValueError):
    """A reference file that cannot be used, or a value that is not in force on the date asked."""


@dataclass(frozen=True)
class ListEntry:
    effective_date: dt.date
    rule_id: str
    industry_code: str
    note: str


@dataclass(frozen=True)
class Parameter:
    effective_date: dt.date
    name: str
    value: str
    source: str


@dataclass(frozen=True)
class ReferenceData:
    """Every dated row of the reference files, as loaded; ``as_of`` selects what is in force."""

    lpr: tuple[tuple[dt.date, Decimal], ...]  # sorted by date
    negative_list: tuple[ListEntry, ...]
    parameters: tuple[Parameter, ...]
    source: Path | None = None

    @classmethod
    def load(cls, dir: str | Path | None = None) -> ReferenceData:
        root = Path(dir) if dir is not None else DEFAULT_DIR
        lpr = sorted((_date(r, "effective_date"), _decimal(r, "rate")) for r in _rows(root / "lpr_1y.csv"))
        if len({d for d, _ in lpr}) != len(lpr):
            raise ReferenceError(f"{root / 'lpr_1y.csv'}: an effective_date repeats")
        negative = tuple(
            ListEntry(_date(r, "effective_date"), r["rule_id"], r["industry_code"], r.get("note", ""))
            for r in _rows(root / "negative_list.csv")
        )
        params = tuple(
            Parameter(_date(r, "effective_date"), r["name"], r["value"], r.get("source", ""))
            for r in _rows(root / "parameters.csv")
        )
        return cls(tuple(lpr), negative, params, root)

    def as_of(self, day: dt.date) -> ReferenceValues:
        """The values in force on ``day``: for each item, the latest effective_date ≤ ``day``."""
        params: dict[str, Parameter] = {}
        for p in self.parameters:
            if p.effective_date <= day and (
                p.name not in params or p.effective_date >= params[p.name].effective_date
            ):
                params[p.name] = p
        latest: dict[str, dt.date] = {}
        for e in self.negative_list:
            if e.effective_date <= day:
                latest[e.rule_id] = max(latest.get(e.rule_id, e.effective_date), e.effective_date)
        lists: dict[str, set[str]] = {}
        for e in self.negative_list:
            if latest.get(e.rule_id) == e.effective_date:
                lists.setdefault(e.rule_id, set()).add(e.industry_code)
        lpr = tuple((d, r) for d, r in self.lpr if d <= day)
        return ReferenceValues(
            day=day,
            params={name: p.value for name, p in params.items()},
            lists={rule_id: frozenset(codes) for rule_id, codes in lists.items()},
            lpr=lpr,
        )


@dataclass(frozen=True)
class ReferenceValues:
    """What is in force on ``day``: typed access to the parameters, the lists and the LPR table."""

    day: dt.date
    params: dict[str, str]
    lists: dict[str, frozenset[str]]
    lpr: tuple[tuple[dt.date, Decimal], ...]

    def text(self, name: str) -> str:
        try:
            return self.params[name]
        except KeyError:
            raise ReferenceError(f"parameter {name!r} is not in force on {self.day}") from None

    def decimal(self, name: str) -> Decimal:
        """Thresholds stay Decimal, so that a boundary is compared exactly (10% of 320,000,000.00)."""
        return Decimal(self.text(name))

    def number(self, name: str) -> float:
        return float(self.decimal(name))

    def scaled(self, name: str, scale: int) -> int:
        """A parameter × 10^scale as an int, exact (a rate limit in the units of ``Rows.fee_rate``)."""
        return scaled(self.decimal(name), scale)

    def integer(self, name: str) -> int:
        value = self.decimal(name)
        if value != value.to_integral_value():
            raise ReferenceError(f"parameter {name!r} is not an integer: {value}")
        return int(value)

    def industries(self, rule_id: str) -> frozenset[str]:
        return self.lists.get(rule_id, frozenset())

    def lpr_on(self, days: np.ndarray) -> np.ndarray:
        """The LPR in force on each date (int days since 1970-01-01), as floats for messages; NaN before
        the first LPR.

        ``searchsorted(side="right") - 1`` picks the last change on or before the date, so a guarantee
        starting on a change day gets the new rate.
        """
        return self._lookup(days, [float(r) for _, r in self.lpr])

    def high_interest_limit(self, days: np.ndarray) -> np.ndarray:
        """NEG-003's limit per date as floats, for display: multiple × LPR, multiplied in Decimal; NaN
        before the first LPR. The rule itself decides on ``high_interest_limit_scaled``."""
        multiple = self.decimal("lpr_multiple_high_interest")
        return self._lookup(days, [float(multiple * r) for _, r in self.lpr])

    def high_interest_limit_scaled(self, days: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
        """NEG-003's limit per date as exact integers: (multiple × LPR × 10^scale as int64, whether an LPR
        was in force). 4 × 0.0310 is exactly 124 × 10^15 at scale 18, and a filed ``0.124`` is the same
        integer, so "exceeds" is decided without a float."""
        multiple = self.decimal("lpr_multiple_high_interest")
        limits = np.array([0, *(scaled(multiple * r, scale) for _, r in self.lpr)], dtype=np.int64)
        index = self.lpr_index(days)
        return limits[index], index > 0

    def lpr_index(self, days: np.ndarray) -> np.ndarray:
        """Per date, 1 + the index of the LPR change in force (0 before the first LPR)."""
        changes = np.array([(d - _EPOCH).days for d, _ in self.lpr], dtype=np.int64)
        return np.searchsorted(changes, np.asarray(days, dtype=np.int64), side="right")

    def _lookup(self, days: np.ndarray, values: list[float]) -> np.ndarray:
        table = np.array([np.nan, *values], dtype=np.float64)
        return table[self.lpr_index(days)]


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]
    except OSError as exc:
        raise ReferenceError(f"{path}: cannot read ({exc})") from None
    for number, row in enumerate(rows, start=1):
        if not row.get("effective_date"):
            raise ReferenceError(f"{path} row {number}: effective_date is empty")
    return rows


def _date(row: dict[str, str], column: str) -> dt.date:
    try:
        return dt.date.fromisoformat(row[column])
    except ValueError:
        raise ReferenceError(f"{column} {row[column]!r} is not a date YYYY-MM-DD") from None


def _decimal(row: dict[str, str], column: str) -> Decimal:
    try:
        return Decimal(row[column])
    except ArithmeticError:
        raise ReferenceError(f"{column} {row[column]!r} is not a number") from None
