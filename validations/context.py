"""What a check needs besides the filing: the guarantor's registry entry, the period, the clock."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Institution:
    """A row of the regulator's registry (filing-template.md §5)."""

    institution_id: str
    name: str
    kind: str  # government, commercial, mixed
    focus_small_micro_agri: bool
    district_code: str
    license_no: str
    pboc_area_code: str
    status: str  # active, suspended, exited
    # registry fields of template 1.1-draft (五(十一), 六(十六), 六(十四)); absent for older registries
    rating_agency: str | None = None
    rating_grade: str | None = None  # the PBOC scale, schemas.codes.INSTITUTION_RATINGS
    rating_date: str | None = None  # ISO date YYYY-MM-DD (kept as text: the archive stores it as JSON)
    systemic: bool = False

    @classmethod
    def from_record(cls, record: Any) -> Institution:
        """From a checked registry row: a mapping (the CSV loader's) or an object with these attributes
        (the store's). The one conversion, so the engine sees a guarantor alike whichever door read it."""
        get = record.__getitem__ if isinstance(record, Mapping) else lambda name: getattr(record, name)

        def optional(name: str) -> Any:
            if isinstance(record, Mapping):
                return record.get(name)
            return getattr(record, name, None)

        rating_date = optional("rating_date")
        rating_date = rating_date.isoformat() if isinstance(rating_date, dt.date) else (rating_date or None)
        return cls(
            institution_id=str(get("institution_id")),
            name=str(get("name")),
            kind=str(get("kind")),
            focus_small_micro_agri=bool(get("focus_small_micro_agri")),
            district_code=str(get("district_code")),
            license_no=str(get("license_no")),
            pboc_area_code=str(get("pboc_area_code")),
            status=str(get("status")),
            rating_agency=optional("rating_agency") or None,
            rating_grade=optional("rating_grade") or None,
            rating_date=rating_date,
            systemic=bool(optional("systemic") or False),
        )


@dataclass(frozen=True, order=True)
class Period:
    """A reporting month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        year, month = text.split("-")
        period = cls(int(year), int(month))
        if not 1 <= period.month <= 12:
            raise ValueError(f"not a month: {text}")
        return period

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def days(self) -> int:
        return self.end.day

    def next(self) -> Period:
        return Period(self.year + (self.month == 12), self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def is_closed(self, now: dt.datetime) -> bool:
        """The month has ended by ``now`` (Beijing time)."""
        return now.astimezone(BEIJING).date() > self.end

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def now_beijing() -> dt.datetime:
    return dt.datetime.now(BEIJING)
