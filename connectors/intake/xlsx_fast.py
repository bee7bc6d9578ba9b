"""The fast path for plain workbooks: python-calamine (Rust) reads the sheet, after a C-speed scan has
shown that the streaming reader (``connectors.intake.xlsx``) would give the same table.

The streaming reader calls Python for every XML element, which makes a 300,000-row sheet minutes of
work. calamine reads it in seconds but sees less: it returns a formula's cached value, trims text that
is only whitespace, decodes ``_x000D_`` escapes, has its own idea of date formats, parses numbers to
doubles, and loads the sheet as a dense rectangle (a bomb, for a sheet with one cell at XFD1048576).
So calamine only gets a workbook that none of this can touch, which the scan decides without a Python
call per element:

- every part it needs is inflated in 1 MiB chunks, counted against the same expansion limits, and fed
  to expat *without element handlers* (well-formed, no DTD: C speed);
- byte searches on those chunks: no ``_x`` escape or character reference, no error, date or boolean
  cell, no prefix bound to the SpreadsheetML namespace; shared strings within their limits;
- in the sheet, each tag classified by numpy from the bytes after its ``<``: no formula (``<f``),
  phonetic run, comment or CDATA (``<!``); row numbers strictly increasing and at most 1,048,576; each
  cell's reference in its own row, in order, with at most two column letters, so that the rectangle
  calamine builds (rows × last column) is within the cell limit; no text with whitespace at an end
  unless ``xml:space="preserve"``, none made only of whitespace; number values of at most 40 characters.

Then, on calamine's rows: no date-formatted cell format in the styles, no value that is not text, a
number or a boolean, numbers below 10¹⁵ (where a double and the written decimal give the same text),
no value beyond the header. Anything else returns ``None`` and the streaming reader decides, so every
finding (and every message) stays the streaming reader's. Tests compare both paths on the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, Protocol
from xml.parsers import expat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.intake.headers import check_header
from connectors.intake.limits import IntakeLimits

MAX_ROW = 1_048_576
_EXACT_BELOW = 1e15  # numbers under this give the same text from a double as from their decimal
_MAIN_NS = b'spreadsheetml/2006/main"'
_DEFAULT_MAIN_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_ANYWHERE = (b"<!", b"_x", b"<rPh", b"<f>", b"<f ", b"<f/", b"&#")
_TEXT_TYPES = (b' t="s"', b' t="inlineStr"', b' t="str"')


class _Book(Protocol):
    limits: IntakeLimits

    def has(self, name: str) -> bool: ...

    def stream(self, name: str) -> Iterator[bytes]: ...


class _NotPlain(Exception):
    pass


def _no_dtd(*_: Any) -> None:
    raise _NotPlain


def _chunks(book: _Book, part: str) -> Iterator[bytes]:
    """The part's bytes, cut after the last ``<`` of each chunk so that no tag start is split; each is
    also fed to expat without element handlers (well-formedness at C speed)."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    carry = b""
    try:
        for chunk in book.stream(part):
            parser.Parse(chunk, False)
            data = carry + chunk
            cut = data.rfind(b"<")
            if cut <= 0:
                carry = data
                continue
            carry = data[cut:]
            yield data[:cut]
        parser.Parse(b"", True)
    except (expat.ExpatError, LookupError, ValueError, UnicodeError):
        raise _NotPlain from None
    if carry:
        yield carry


def _common(data: bytes) -> None:
    for needle in _ANYWHERE:
        if needle in data:
            raise _NotPlain
    if data.count(_MAIN_NS) != data.count(_DEFAULT_MAIN_NS):
        raise _NotPlain
    buf, lt, b1, b2 = _text_tags(data)
    t_plain, t_attrs = (b1 == 116) & (b2 == 62), (b1 == 116) & (b2 == 32)
    _texts(buf, lt, np.append(lt, len(data)), np.flatnonzero(t_plain), np.flatnonzero(t_attrs))


def _scan_strings(book: _Book, part: str | None) -> None:
    if part is None or not book.has(part):
        return
    limits = book.limits
    size = count = elements = 0
    for data in _chunks(book, part):
        _common(data)
        size += len(data)
        count += data.count(b"<si>") + data.count(b"<si ")
        elements += data.count(b"<")
        # characters ≤ bytes, so under these bounds the streaming reader's limits cannot trip
        if size > limits.max_xlsx_shared_string_chars or count > limits.max_xlsx_shared_strings \
                or elements > 16 * limits.max_xlsx_shared_strings:
            raise _NotPlain


_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 13, 32]] = True
_PRESERVE = np.frombuffer(b'<t xml:space="preserve">', dtype=np.uint8)
_SHEET_BYTES = (b"_x", b"&#", b't="e"', b't="d"', b't="b"', b"t='")


def _at(buf: np.ndarray, pos: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` bytes at each position, as rows."""
    return buf[pos[:, None] + np.arange(width)]


def _numbers(buf: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """The decimal numbers of 1-7 digits that end in ``"`` at each position."""
    digits = _at(buf, pos, 8).astype(np.int64)
    quote = digits == 34
    length = np.argmax(quote, axis=1)
    valid = quote.any(axis=1) & (length >= 1)
    value = np.zeros(len(pos), dtype=np.int64)
    for k in range(7):
        inside = k < length
        d = digits[:, k] - 48
        valid &= ~inside | ((d >= 0) & (d <= 9))
        value = np.where(inside, value * 10 + d, value)
    if not valid.all():
        raise _NotPlain
    return value


class _SheetScan:
    """The sheet's tags classified with numpy by the bytes after each ``<``: no Python call per element."""

    def __init__(self, limits: IntakeLimits) -> None:
        self.limits = limits
        self.cells = self.others = 0
        self.row = 0  # the current (last seen) row number
        self.column = 0  # the last cell's column in that row (1-based)
        self.last_column = 1
        self.numbers = False

    def chunk(self, data: bytes) -> None:
        for needle in _SHEET_BYTES:
            if needle in data:
                raise _NotPlain
        if data.count(_MAIN_NS) != data.count(_DEFAULT_MAIN_NS):
            raise _NotPlain
        n = len(data)
        buf = np.frombuffer(data + bytes(32), dtype=np.uint8)
        lt = np.flatnonzero(buf[:n] == 60)
        b1, b2, b3, b4 = (buf[lt + k] for k in (1, 2, 3, 4))
        closing, decl = b1 == 47, b1 == 63
        cell = (b1 == 99) & (b2 == 32)
        value = (b1 == 118) & (b2 == 62)
        t_plain, t_attrs = (b1 == 116) & (b2 == 62), (b1 == 116) & (b2 == 32)
        inline = (b1 == 105) & (b2 == 115) & (b3 == 62)
        row = (b1 == 114) & (b2 == 111) & (b3 == 119) & ((b4 == 32) | (b4 == 62) | (b4 == 47))
        if ((b1 == 33)  # comments, CDATA, DTD
                | ((b1 == 99) & ((b2 == 62) | (b2 == 47)))  # a cell without its reference
                | ((b1 == 102) & ((b2 == 62) | (b2 == 32) | (b2 == 47)))  # a formula
                | ((b1 == 114) & (b2 == 80) & (b3 == 104))).any():  # a phonetic run
            raise _NotPlain
        starts = int((~closing & ~decl).sum())
        known = cell | value | t_plain | t_attrs | inline | row
        self.others += starts - int(known.sum())
        ends = np.append(lt, n)  # each tag's text runs to the next "<"
        self._rows_and_cells(buf, lt[row], lt[cell])
        _texts(buf, lt, ends, np.flatnonzero(t_plain), np.flatnonzero(t_attrs))
        typed = sum(data.count(t) for t in _TEXT_TYPES)
        if int(cell.sum()) != typed:
            self.numbers = True  # untyped or t="n": the streaming reader shows values over 40 characters as written
            v = np.flatnonzero(value)
            if (ends[v + 1] - (lt[v] + 3) > 40).any():
                raise _NotPlain
        if self.cells > self.limits.max_xlsx_cells or self.others > self.limits.max_xlsx_cells:
            raise _NotPlain

    def _rows_and_cells(self, buf: np.ndarray, rows: np.ndarray, cells: np.ndarray) -> None:
        if len(rows):
            if not (_at(buf, rows + 4, 4) == np.frombuffer(b' r="', dtype=np.uint8)).all():
                raise _NotPlain
            numbers = _numbers(buf, rows + 8)
            if numbers[0] <= self.row or (np.diff(numbers) <= 0).any() or numbers[-1] > MAX_ROW:
                raise _NotPlain
        else:
            numbers = np.zeros(0, dtype=np.int64)
        self.cells += len(cells)
        if len(cells):
            if not (_at(buf, cells + 3, 3) == np.frombuffer(b'r="', dtype=np.uint8)).all():
                raise _NotPlain
            letters = _at(buf, cells + 6, 3)
            is_letter = (letters >= 65) & (letters <= 90)
            two = is_letter[:, 0] & is_letter[:, 1]
            if not is_letter[:, 0].all() or (two & is_letter[:, 2]).any():
                raise _NotPlain  # no column letter, or three (beyond ZZ)
            first = letters[:, 0].astype(np.int64) - 64
            column = np.where(two, 26 * first + letters[:, 1].astype(np.int64) - 64, first)
            ref_row = _numbers(buf, cells + 7 + two)
            owner = np.searchsorted(rows, cells) - 1  # the <row> each cell lies in
            row_of = np.where(owner >= 0, numbers[np.maximum(owner, 0)] if len(numbers) else 0, self.row)
            if (ref_row != row_of).any():
                raise _NotPlain  # a reference outside its row: the streaming reader refuses it
            previous = np.concatenate(([self.row], row_of[:-1]))
            previous_column = np.concatenate(([self.column], column[:-1]))
            if ((row_of == previous) & (column <= previous_column)).any():
                raise _NotPlain  # cells out of order or twice within a row
            self.column = int(column[-1])
            self.last_column = max(self.last_column, int(column.max()))
        if len(numbers):
            last_row = int(numbers[-1])
            if len(cells) == 0 or rows[-1] > cells[-1]:
                self.column = 0
            self.row = last_row


def _texts(buf: np.ndarray, lt: np.ndarray, ends: np.ndarray, plain: np.ndarray, attrs: np.ndarray) -> None:
    """Text at an end of whitespace: calamine trims it unless preserved, and drops blank text even then.
    ``plain`` and ``attrs`` index ``lt`` (the positions of ``<``) at ``<t>`` and ``<t ...>``."""
    if len(attrs):
        if not (_at(buf, lt[attrs], len(_PRESERVE)) == _PRESERVE).all():
            raise _NotPlain
        start, end = lt[attrs] + len(_PRESERVE), ends[attrs + 1]
        some = start < end
        for i in np.flatnonzero(some & _WHITESPACE[buf[start]]):
            if _WHITESPACE[buf[start[i]: end[i]]].all():
                raise _NotPlain
    if len(plain):
        start, end = lt[plain] + 3, ends[plain + 1]
        some = start < end
        if (some & (_WHITESPACE[buf[start]] | _WHITESPACE[buf[np.maximum(end - 1, 0)]])).any():
            raise _NotPlain


def _text_tags(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(bytes, positions of ``<``, the first two bytes after each) of a chunk, padded for look-ahead."""
    buf = np.frombuffer(data + bytes(32), dtype=np.uint8)
    lt = np.flatnonzero(buf[: len(data)] == 60)
    return buf, lt, buf[lt + 1], buf[lt + 2]


def _scan_sheet(book: _Book, part: str) -> bool:
    """Whether the sheet holds number cells, when it is plain (see the module docstring)."""
    scan = _SheetScan(book.limits)
    for data in _chunks(book, part):
        scan.chunk(data)
    if scan.row * scan.last_column > book.limits.max_xlsx_cells:
        raise _NotPlain
    return scan.numbers


def _text(value: Any) -> str:
    """A calamine value as the streaming reader writes it (numbers in their shortest form)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if abs(value) >= _EXACT_BELOW:
            raise _NotPlain
        return str(value)
    if isinstance(value, float):
        if not abs(value) < _EXACT_BELOW:  # also NaN
            raise _NotPlain
        return str(int(value)) if value.is_integer() else repr(value)
    raise _NotPlain  # dates, times, durations: the streaming reader applies the styles itself


def _column(values: tuple[Any, ...], numbers: bool) -> pa.Array:
    try:
        column = pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.array([_text(v) for v in values], pa.string())
    return _checked(column, numbers)


def _checked(column: pa.Array, numbers: bool) -> pa.Array:
    if numbers and (pc.any(pc.not_equal(column, pc.utf8_trim_whitespace(column))).as_py()
                    or pc.any(pc.match_substring(column, "_")).as_py()):
        # text calamine could not parse as a number may be a number cell that Python parses (" 1",
        # "1_000"): only the streaming reader knows which cell it was
        raise _NotPlain
    return column


def _columns(body: list[list[Any]], row_width: int, width: int, numbers: bool) -> list[pa.Array]:
    """Column-wise: all rows in one Arrow list array (each calamine row is ``row_width`` long), then
    each column taken out of its values; rows with other values than text go through ``_text``."""
    try:
        values = pa.array(body, pa.list_(pa.string())).flatten()
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        columns = list(zip(*body, strict=True))[:width] if body else [()] * width
        return [_column(c, numbers) for c in columns]
    starts = np.arange(len(body), dtype=np.int64) * row_width
    return [_checked(values.take(pa.array(starts + j)), numbers) for j in range(width)]


def read_plain(data: bytes, book: _Book, sheet_name: str, sheet_part: str, strings_part: str | None,
               has_date_styles: bool, sheet_names: list[str]) -> pa.Table | None:
    """The sheet's table of strings, or None when the streaming reader must decide."""
    if has_date_styles or sheet_names.count(sheet_name) != 1:
        return None
    try:
        _scan_strings(book, strings_part)
        numbers = _scan_sheet(book, sheet_part)
        import python_calamine

        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        finally:
            workbook.close()
        if not rows:
            return None
        first = [_text(v) for v in rows[0]]
        while first and first[-1] == "":  # an empty cell is no cell; one of spaces is (and is stripped)
            first.pop()
        names = check_header([v.strip() for v in first])
        width = len(names)
        end = len(rows)
        while end > 1 and all(v == "" for v in rows[end - 1]):
            end -= 1  # trailing empty rows are dropped, empty rows inside the data stay
        body = rows[1:end]
        if body and len(rows[0]) > width and any(v != "" for row in body for v in row[width:]):
            return None  # a value beyond the header: the streaming reader reports it
        return pa.table(_columns(body, len(rows[0]), width, numbers), names=names)
    except Exception:  # anything unexpected: the streaming reader decides, exactly
        return None
