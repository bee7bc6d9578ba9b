"""Building blocks of a filing template: columns, files, the template itself.

A template version is plain data built from these classes, so that version 1.1 can stand beside 1.0
without touching the validation code that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa


class ColumnType(StrEnum):
    """Logical column types of the template; each maps to one Arrow type and one parser."""

    STRING = "string"
    CODE = "code"
    BOOL = "bool"
    AMOUNT = "amount"  # yuan, at most two decimals
    RATE = "rate"  # annual decimal
    DECIMAL = "decimal"
    DATE = "date"


#: Amounts are exact (rules.md 1.1): yuan as decimal128(18, 2), whole fen, at most 16 integer digits so
#: that every amount in fen fits an int64. Never float64: a binary float is not a whole number of fen.
AMOUNT_TYPE = pa.decimal128(18, 2)
#: Rates and shares are exact too: any filed decimal with at most 18 decimals and 20 integer digits.
RATIO_TYPE = pa.decimal128(38, 18)

ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.STRING: pa.string(),
    ColumnType.CODE: pa.string(),
    ColumnType.BOOL: pa.bool_(),
    ColumnType.AMOUNT: AMOUNT_TYPE,
    ColumnType.RATE: RATIO_TYPE,
    ColumnType.DECIMAL: RATIO_TYPE,
    ColumnType.DATE: pa.date32(),
}


@dataclass(frozen=True)
class Condition:
    """A conditional requirement: the column is required where ``column``'s value is in ``values``."""

    column: str
    values: frozenset[str]
    description_en: str
    description_zh: str


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    type: ColumnType
    required: bool = False  # unconditionally required (SCH-001)
    required_when: tuple[Condition, ...] = ()  # conditional requirements that depend on the row itself
    max_length: int | None = None
    exact_length: int | None = None
    codes: tuple[str, ...] | None = None  # the code list (SCH-002)
    # SCH-005 range: amounts default to >= 0; ``*_open`` excludes the bound itself
    lower: float | None = None
    lower_open: bool = False
    upper: float | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


@dataclass(frozen=True)
class FileSpec:
    """One data file of the package, e.g. ``guarantees``."""

    name: str
    zh: str
    columns: tuple[Column, ...]
    optional: bool = False  # may be absent from the manifest (``compensations``)
    exactly_one_row: bool = False  # ``financials``

    def column(self, name: str) -> Column:
        return self._by_name[name]

    @property
    def _by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def header_aliases(self) -> dict[str, str]:
        """Header text (English or Chinese) → column name."""
        aliases = {c.name: c.name for c in self.columns}
        aliases.update({c.zh: c.name for c in self.columns})
        return aliases

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])


@dataclass(frozen=True)
class Template:
    version: str
    manifest_keys: tuple[str, ...]
    files: tuple[FileSpec, ...]
    registry_columns: tuple[str, ...] = field(default=())

    def file(self, name: str) -> FileSpec:
        for spec in self.files:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def file_names(self) -> list[str]:
        return [f.name for f in self.files]
