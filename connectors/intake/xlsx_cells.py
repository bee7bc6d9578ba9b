"""A cell's stored value as the text a filing holds: the one definition both XLSX readers apply.

Excel shows a cell by its type (``t``) and number format: shared and inline strings as written, numbers
in their shortest form (``1``, ``0.008``), booleans ``true``/``false``, numbers in a date format as
``YYYY-MM-DD`` (with the time when there is one). Shared strings are resolved by the reader that holds
the table; everything else is decided here, so the streaming reader and the column-wise one cannot
disagree on a cell they both read.
"""

from __future__ import annotations

import datetime as dt
import re

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
NUMBER_CHARS = 40  # longer number text is shown as written: FMT-005 judges it, Python never converts it


def cell_text(kind: str, raw: str, date_style: bool, date1904: bool) -> str:
    """The text of a cell of type ``kind`` (anything but ``s``) whose character data is ``raw``."""
    if kind == "inlineStr" or kind == "str" or kind == "e":
        return raw
    if kind == "b":
        return "true" if raw.strip() in ("1", "true") else "false"
    if kind == "d":
        try:
            return _datetime_text(dt.datetime.fromisoformat(raw.strip()))
        except ValueError:
            return raw
    raw = raw.strip()
    if raw == "" or len(raw) > NUMBER_CHARS or not raw.isascii():
        return raw
    try:
        number: int | float = int(raw) if _INTEGER.fullmatch(raw) else float(raw)
    except ValueError:
        return raw
    if date_style:
        value = _excel_date(number, date1904)
        if value is not None:
            return _datetime_text(value)
    if isinstance(number, float):
        if number != number or number in (float("inf"), float("-inf")):
            return raw
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return str(number)


def _excel_date(number: float, date1904: bool) -> dt.datetime | dt.time | None:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    try:
        return from_excel(number, CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900)
    except (ValueError, OverflowError, TypeError):
        return None


def _datetime_text(value: dt.datetime | dt.date | dt.time) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    return value.isoformat()
