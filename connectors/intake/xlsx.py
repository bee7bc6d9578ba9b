"""XLSX filings, read as a stream with limits (FMT-007) that hold before anything is materialised.

A workbook is a ZIP of XML parts; a hostile one is a bomb (a 1 MB file whose shared strings inflate to
a gigabyte, a table of millions of strings, a row numbered 1,048,576) or malformed XML. So this reader
does not hand the workbook to a library that loads whole parts: it inflates each part it needs in
1 MiB chunks, counting bytes against the expansion ratio and ``max_xlsx_expanded_bytes``, and feeds
them to expat, counting shared strings, their characters and cells as they come. Nothing is held but
the shared-string table (bounded) and the columns being built (in Arrow chunks).

Which sheet: the first *visible* sheet of the workbook, in tab order (``workbook.xml``), found by its
name through the workbook's relationships; hidden and very hidden sheets are never read. Header in
row 1; data row N is sheet row N + 1; empty rows inside the data stay rows, trailing ones are dropped.
Cells become text as Excel shows their stored value: shared and inline strings as written, numbers in
their shortest form (``1``, ``0.008``), booleans ``true``/``false``, numbers in a date format as
``YYYY-MM-DD`` (with the time when there is one). Formula cells are returned apart: a filing holds
values (FMT-005).

A plain workbook (no formula, date format, error cell, escape or oddity of the XML, shown by a C-speed
scan within the same limits) is read by python-calamine instead (``connectors.intake.xlsx_fast``), to
the same table; everything else is read here.
"""

from __future__ import annotations

import contextlib
import functools
import io
import posixpath
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any
from xml.parsers import expat

import pyarrow as pa
from isal import isal_zlib

from connectors.intake.headers import check_header
from connectors.intake.limits import IntakeLimits
from connectors.intake.xlsx_cells import cell_text
from connectors.intake.xlsx_fast import read_plain

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and legacy .xls are OLE2 containers
MAX_ROW = 1_048_576
MAX_COLUMN = 16_384
_CHUNK_ROWS = 65_536  # rows gathered in Python before they become Arrow arrays
_INFLATED_CHUNK = 1 << 22
_MAX_STYLES = 65_536  # Excel's own limit of cell formats; later ones are read as "not a date"
# built-in number formats that are dates or times: 14-22 and 45-47 everywhere, 27-36 and 50-58 in the
# Chinese, Japanese and Korean locales (yyyy"年"m"月"d"日" and the like)
_DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell's text (and a formula's is less)
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, isal_zlib.error, OSError, EOFError, ValueError, KeyError,
               RuntimeError, NotImplementedError)


class XlsxError(Exception):
    """The workbook cannot be read (FMT-003) or breaks a limit (FMT-007)."""

    def __init__(self, message_zh: str, message_en: str, *, rule_id: str = "FMT-003", row: int | None = None,
                 column: str | None = None) -> None:
        super().__init__(message_en)
        self.message_zh, self.message_en = message_zh, message_en
        self.rule_id, self.row, self.column = rule_id, row, column


def _limit(zh: str, en: str, **where: Any) -> XlsxError:
    return XlsxError(zh, en, rule_id="FMT-007", **where)


class _Workbook:
    """The workbook's ZIP: parts by name, inflated as counted streams."""

    def __init__(self, data: bytes, limits: IntakeLimits) -> None:
        self.limits = limits
        if data.startswith(OLE2_MAGIC):
            raise XlsxError("XLSX 文件已加密（设有密码）或是旧版 .xls 文件，请另存为不加密的 .xlsx",
                            "the workbook is encrypted (password-protected) or a legacy .xls file: "
                            "save it as .xlsx without a password")
        try:
            self.data = data
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except _ZIP_ERRORS as exc:
            raise XlsxError("XLSX 文件损坏（不是 ZIP）", f"corrupt XLSX: not a readable ZIP ({_plain(exc)})") from None
        self.parts: dict[str, zipfile.ZipInfo] = {}
        duplicated: set[str] = set()
        for info in infos:
            key = info.filename.replace("\\", "/").lstrip("/")
            if key.casefold() in duplicated:
                raise XlsxError(f"XLSX 中部件 {key} 重复", f"corrupt XLSX: the part {key!r} appears twice")
            duplicated.add(key.casefold())
            self.parts[key] = info
        self.expanded = 0

    def has(self, name: str) -> bool:
        return name in self.parts

    def stream(self, name: str) -> Iterator[bytes]:
        """The part's bytes in chunks, counted while inflating (header sizes are not trusted)."""
        info = self.parts[name]
        if info.flag_bits & 0x1 or stat.S_ISLNK(info.external_attr >> 16):
            raise XlsxError(f"XLSX 部件 {name} 已加密或是链接", f"corrupt XLSX: the part {name!r} is encrypted or a link")
        limits = self.limits
        budget = max(int(info.compress_size * limits.max_xlsx_expansion_ratio), 1 << 20)
        size = 0
        try:
            for chunk in self._inflated(info):
                size += len(chunk)
                self.expanded += len(chunk)
                if size > budget:
                    raise _limit(f"XLSX 部件 {name} 解压比例超过 {limits.max_xlsx_expansion_ratio:g}:1",
                                 f"the XLSX part {name} expands more than {limits.max_xlsx_expansion_ratio:g}:1")
                if self.expanded > limits.max_xlsx_expanded_bytes:
                    raise _limit(f"XLSX 解压后超过 {limits.max_xlsx_expanded_bytes} 字节",
                                 f"the XLSX expands past {limits.max_xlsx_expanded_bytes} bytes")
                yield chunk
        except XlsxError:
            raise
        except _ZIP_ERRORS as exc:
            raise XlsxError(f"XLSX 部件 {name} 已损坏", f"corrupt XLSX: the part {name} is damaged ({_plain(exc)})") from None

    def _inflated(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """A member's bytes in chunks of at most 4 MiB, CRC-checked. Deflate goes through ISA-L (about
        five times zlib's speed here, and zipfile's reader adds as much again); other methods through
        zipfile."""
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            with self.zip.open(info) as member:
                while chunk := member.read(_INFLATED_CHUNK):
                    yield chunk
            return
        header = self.data[info.header_offset: info.header_offset + zipfile.sizeFileHeader]
        if len(header) != zipfile.sizeFileHeader or header[:4] != zipfile.stringFileHeader:
            raise zipfile.BadZipFile("bad local file header")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        start = info.header_offset + zipfile.sizeFileHeader + name_length + extra_length
        stored = memoryview(self.data)[start: start + info.compress_size]
        if len(stored) != info.compress_size:
            raise zipfile.BadZipFile("truncated member")
        crc = 0
        if info.compress_type == zipfile.ZIP_STORED:
            for offset in range(0, len(stored), _INFLATED_CHUNK):
                chunk = bytes(stored[offset: offset + _INFLATED_CHUNK])
                crc = isal_zlib.crc32(chunk, crc)
                yield chunk
        else:
            inflater = isal_zlib.decompressobj(-15)
            for offset in range(0, len(stored), 1 << 18):
                piece: bytes | memoryview = stored[offset: offset + (1 << 18)]
                while piece and not inflater.eof:
                    chunk = inflater.decompress(piece, _INFLATED_CHUNK)  # bounded: a bomb inflates no further
                    piece = inflater.unconsumed_tail
                    if chunk:
                        crc = isal_zlib.crc32(chunk, crc)
                        yield chunk
            if not inflater.eof:
                raise zlib.error("the deflate stream is truncated")
        if crc != info.CRC:
            raise zipfile.BadZipFile(f"bad CRC-32 for {info.filename!r}")

    def parse(self, name: str, start: Callable[[str, dict[str, str]], None] | None = None,
              end: Callable[[str], None] | None = None, text: Callable[[str], None] | None = None,
              *, prefixed: bool = False) -> None:
        """Feed one part to expat with the given handlers, which get element names without their prefix
        (``x:c`` is ``c``) unless ``prefixed``: then they strip it themselves (the hot parts do, to save
        a call per element)."""
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.buffer_size = 1 << 16
        parser.StartDoctypeDeclHandler = _no_dtd
        parser.EntityDeclHandler = _no_dtd
        if start is not None:
            parser.StartElementHandler = start if prefixed else lambda tag, attrs: start(_local(tag), attrs)
        if end is not None:
            parser.EndElementHandler = end if prefixed else lambda tag: end(_local(tag))
        if text is not None:
            parser.CharacterDataHandler = text
        try:
            for chunk in self.stream(name):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise XlsxError(f"XLSX 部件 {name} 的 XML 格式错误（第 {exc.lineno} 行）",
                            f"corrupt XLSX: malformed XML in {name} (line {exc.lineno}, column {exc.offset}: "
                            f"{expat.ErrorString(exc.code)})") from None
        except _Dtd:
            raise XlsxError(f"XLSX 部件 {name} 含 DTD", f"corrupt XLSX: {name} declares a DTD or entities") from None
        except (LookupError, ValueError, UnicodeError) as exc:  # an XML declaration naming an unknown encoding
            raise XlsxError(f"XLSX 部件 {name} 的 XML 无法解码", f"corrupt XLSX: {name} cannot be decoded ({_plain(exc)})") from None


class _Dtd(Exception):
    pass


def _local(tag: str) -> str:
    return tag[tag.find(":") + 1:]


def _no_dtd(*_: Any) -> None:
    raise _Dtd


def _plain(exc: BaseException) -> str:
    text = str(exc)
    return type(exc).__name__ if not text or "<" in text or len(text) > 160 else text


def _attr(attrs: dict[str, str], local: str) -> str | None:
    """An attribute by its local name, whatever its prefix (``r:id``, ``ns1:id``)."""
    for key, value in attrs.items():
        if key == local or key.endswith(":" + local):
            return value
    return None


def _relationships(book: _Workbook, rels: str) -> dict[str, tuple[str, str]]:
    """Id → (type, target) of a ``.rels`` part; empty when there is none."""
    found: dict[str, tuple[str, str]] = {}
    if not book.has(rels):
        return found

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "Relationship" and len(found) < 10_000:
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), attrs.get("Target", ""))

    book.parse(rels, start=start)
    return found


def _resolve(base_dir: str, target: str) -> str:
    path = target.lstrip("/") if target.startswith("/") else posixpath.join(base_dir, target)
    return posixpath.normpath(path)


class _Sheets:
    def __init__(self) -> None:
        self.sheets: list[tuple[str, str, str | None]] = []  # (name, state, relationship id)
        self.date1904 = False

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "sheet" and len(self.sheets) < 10_000:
            self.sheets.append((attrs.get("name", ""), attrs.get("state", "visible"), _attr(attrs, "id")))
        elif tag == "workbookPr":
            self.date1904 = attrs.get("date1904", "").lower() in ("1", "true")


def read_xlsx(data: bytes, limits: IntakeLimits) -> tuple[pa.Table, list[tuple[int, str]]]:
    """(table of strings, formula cells as (data row, column)) of the workbook's first visible sheet."""
    book = _Workbook(data, limits)
    root_rels = _relationships(book, "_rels/.rels")
    workbook_part = next((_resolve("", t) for kind, t in root_rels.values() if kind.endswith("/officeDocument")),
                         "xl/workbook.xml")
    if not book.has(workbook_part):
        raise XlsxError("XLSX 文件缺少 workbook.xml", "corrupt XLSX: no workbook part")
    base = posixpath.dirname(workbook_part)
    rels = _relationships(book, posixpath.join(base, "_rels", posixpath.basename(workbook_part) + ".rels"))
    info = _Sheets()
    book.parse(workbook_part, start=info.start)
    visible = [(name, rid) for name, state, rid in info.sheets if state not in ("hidden", "veryHidden")]
    if not visible:
        raise XlsxError("XLSX 文件没有可见的工作表", "the XLSX file has no visible sheet")
    sheet_name, rid = visible[0]
    target = rels.get(rid or "")
    sheet_part = _resolve(base, target[1]) if target else None
    if sheet_part is None or not book.has(sheet_part):
        raise XlsxError(f"XLSX 中找不到工作表“{sheet_name}”", f"corrupt XLSX: the sheet {sheet_name!r} has no part")
    by_type = {kind.rsplit("/", 1)[-1]: _resolve(base, t) for kind, t in rels.values()}
    expanded = book.expanded
    try:
        fast = read_plain(book, sheet_part, by_type.get("sharedStrings"),
                          _date_styles(book, by_type.get("styles")), info.date1904)
    except XlsxError:
        fast = None
    if fast is not None:
        return fast, []  # a plain sheet holds no formula
    book.expanded = expanded  # the streaming reader counts its parts afresh, in its own order
    strings = _shared_strings(book, by_type.get("sharedStrings"), limits)
    dates = _date_styles(book, by_type.get("styles"))
    reader = _SheetReader(strings, dates, info.date1904, limits)
    book.parse(sheet_part, start=reader.start, end=reader.end, text=reader.text, prefixed=True)
    return reader.table(), reader.formulas


# --- shared strings --------------------------------------------------------------------------------

def _shared_strings(book: _Workbook, part: str | None, limits: IntakeLimits) -> list[str]:
    strings: list[str] = []
    if part is None or not book.has(part):
        return strings
    pieces: list[str] = []
    state = {"in_t": False, "phonetic": 0, "chars": 0, "other": 0}
    max_count, max_chars = limits.max_xlsx_shared_strings, limits.max_xlsx_shared_string_chars

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "t":
            state["in_t"] = True
        elif tag == "si":
            pieces.clear()
            if len(strings) >= max_count:
                raise _limit(f"XLSX 共享字符串超过 {max_count} 个",
                             f"the XLSX shared-string table holds more than {max_count} strings")
        elif tag == "rPh":  # phonetic guide (furigana, pinyin): not part of the text
            state["phonetic"] += 1
        elif ":" in tag:
            start(_local(tag), attrs)
        else:
            state["other"] += 1
            if state["other"] > 16 * max_count:
                raise _limit(f"XLSX 共享字符串表含超过 {16 * max_count} 个其他元素",
                             f"the XLSX shared-string table holds more than {16 * max_count} other elements")

    def end(tag: str) -> None:
        if tag == "t":
            state["in_t"] = False
        elif tag == "si":
            strings.append("".join(pieces))
        elif tag == "rPh":
            state["phonetic"] -= 1
        elif ":" in tag:
            end(_local(tag))

    def text(data: str) -> None:
        if state["in_t"] and not state["phonetic"]:
            state["chars"] += len(data)
            if state["chars"] > max_chars:
                raise _limit(f"XLSX 共享字符串合计超过 {max_chars} 个字符",
                             f"the XLSX shared strings hold more than {max_chars} characters")
            pieces.append(data)

    book.parse(part, start=start, end=end, text=text, prefixed=True)
    return strings


# --- styles: which cell formats are dates ------------------------------------------------------------

def _is_date_format(code: str) -> bool:
    """openpyxl's own test, imported only for a workbook with custom number formats."""
    from openpyxl.styles.numbers import is_date_format

    return bool(is_date_format(code))


def _date_styles(book: _Workbook, part: str | None) -> list[bool]:
    """For each cell format (the ``s`` of a cell): does it show a date or time?"""
    custom: dict[int, bool] = {}
    formats: list[int] = []
    depth = {"cellXfs": False}
    if part is None or not book.has(part):
        return []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "numFmt" and len(custom) < _MAX_STYLES:
            with contextlib.suppress(ValueError):
                custom[int(attrs.get("numFmtId", ""))] = _is_date_format(attrs.get("formatCode", ""))
        elif tag == "cellXfs":
            depth["cellXfs"] = True
        elif tag == "xf" and depth["cellXfs"] and len(formats) < _MAX_STYLES:
            try:
                formats.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                formats.append(0)

    def end(tag: str) -> None:
        if tag == "cellXfs":
            depth["cellXfs"] = False

    book.parse(part, start=start, end=end)
    return [custom.get(f, f in _DATE_FORMAT_IDS) for f in formats]


# --- the sheet -------------------------------------------------------------------------------------

@functools.cache
def _column_letters() -> dict[str, int]:
    """Column letters → 0-based index, A..XFD: built when the streaming reader first needs it (20 ms
    that a plain sheet's reading never spends)."""
    alphabet = [chr(65 + r) for r in range(26)]
    names = [*alphabet, *(a + b for a in alphabet for b in alphabet),
             *(a + b + c for a in alphabet for b in alphabet for c in alphabet)]
    return {name: i for i, name in enumerate(names[:MAX_COLUMN])}


class _SheetReader:
    """expat handlers that turn ``<row><c><v>`` into columns of text, within the cell limit. They run
    once per element of a sheet of millions: the common elements come first, prefixed names last."""

    def __init__(self, strings: list[str], dates: list[bool], date1904: bool, limits: IntakeLimits) -> None:
        self.strings, self.dates, self.limits = strings, dates, limits
        self.columns = _column_letters()
        self.max_cells = limits.max_xlsx_cells
        self.date1904 = date1904
        self.names: list[str] | None = None  # the header, once row 1 has been read
        self.width = 0
        self.rows: list[list[str]] = []  # the current chunk of data rows
        self.chunks: list[list[pa.Array]] = []
        self.emitted = 0  # data rows in ``chunks``
        self.pending_blank = 0  # empty rows not yet known to lie inside the data
        self.formulas: list[tuple[int, str]] = []
        self.cells_seen = 0
        self.row_number = 0  # sheet row of the current <row>
        self.row_text = "0"
        self.cells: dict[int, str] = {}
        self.row_formulas: list[int] = []
        self.column = -1
        self.kind = "n"
        self.style: str | None = None
        self.in_inline = False
        self.phonetic = 0
        self.value: list[str] = []
        self.formula: list[str] | None = None
        self.target: list[str] | None = None  # where character data goes
        self.cell_chars = 0
        self.other = 0  # elements that are neither rows nor cells nor their parts

    # handlers
    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "c":
            self.cells_seen += 1
            if self.cells_seen > self.max_cells:
                raise _limit(f"XLSX 工作表超过 {self.max_cells} 个单元格",
                             f"the sheet holds more than {self.max_cells} cells")
            ref = attrs.get("r")
            if ref is not None:
                letters = ref.rstrip("0123456789")
                column = self.columns.get(letters)
                if column is None or ref[len(letters):] != self.row_text:
                    raise XlsxError(f"XLSX 单元格引用 {ref[:20]} 无效", f"corrupt XLSX: invalid cell reference {ref[:20]!r}",
                                    row=self._data_row())
                self.column = column
            else:
                self.column += 1
                if self.column >= MAX_COLUMN:
                    raise XlsxError("XLSX 单元格列号超出范围", "corrupt XLSX: a cell lies beyond column XFD",
                                    row=self._data_row())
            self.kind = attrs.get("t", "n")
            self.style = attrs.get("s")
            self.value = []
            self.formula = None
            self.cell_chars = 0
        elif tag == "v":
            self.target = self.value
        elif tag == "t":
            if self.in_inline and not self.phonetic:
                self.target = self.value
        elif tag == "is":
            self.in_inline = True
        elif tag == "row":
            self._start_row(attrs.get("r"))
        elif tag == "f":
            self.formula = []
            self.target = self.formula
        elif tag == "rPh":  # phonetic guides (furigana, pinyin) are not the cell's text
            self.phonetic += 1
        elif ":" in tag:
            self.start(_local(tag), attrs)
        else:
            self.other += 1
            if self.other > self.max_cells:
                raise _limit(f"XLSX 工作表含超过 {self.max_cells} 个其他元素",
                             f"the sheet holds more than {self.max_cells} elements that are not cells")

    def end(self, tag: str) -> None:
        if tag == "c":
            text = self._cell_value() if self.value else ""
            if self.formula is not None:
                self.row_formulas.append(self.column)
                text = "=" + "".join(self.formula)
            if text != "":
                self.cells[self.column] = text
        elif tag == "v" or tag == "t" or tag == "f":
            self.target = None
        elif tag == "row":
            self._end_row()
        elif tag == "is":
            self.in_inline = False
        elif tag == "rPh":
            self.phonetic -= 1
        elif ":" in tag:
            self.end(_local(tag))

    def text(self, data: str) -> None:
        target = self.target
        if target is not None:
            self.cell_chars += len(data)
            if self.cell_chars > MAX_CELL_CHARS:
                raise _limit(f"XLSX 单元格超过 {MAX_CELL_CHARS} 个字符", f"a cell holds more than {MAX_CELL_CHARS} characters",
                             row=self._data_row(), column=self._column_name())
            target.append(data)

    def _start_row(self, ref: str | None) -> None:
        try:
            number = int(ref) if ref is not None and ref.isascii() else self.row_number + 1
        except ValueError:
            number = -1
        if not self.row_number < number <= MAX_ROW:
            raise XlsxError(f"XLSX 行号 {str(ref)[:12]} 无效或顺序错误",
                            f"corrupt XLSX: row number {str(ref)[:12]!r} is invalid or out of order",
                            row=self._data_row())
        self._blank_rows(number - self.row_number - 1)
        self.row_number = number
        self.row_text = str(number)
        self.cells = {}
        self.row_formulas = []
        self.column = -1

    # cells
    def _cell_value(self) -> str:
        raw = "".join(self.value)
        kind = self.kind
        if kind == "s":
            try:
                return self.strings[int(raw)]
            except (ValueError, IndexError):
                raise XlsxError(f"XLSX 共享字符串索引 {raw[:12]} 无效",
                                f"corrupt XLSX: shared-string index {raw[:12]!r} does not exist",
                                row=self._data_row(), column=self._column_name()) from None
        date_style = self.style is not None and self._is_date(self.style)
        return cell_text(kind, raw, date_style, self.date1904)

    def _is_date(self, style: str) -> bool:
        try:
            return self.dates[int(style)]
        except (ValueError, IndexError):
            return False

    # rows
    def _data_row(self) -> int | None:
        return self.row_number - 1 if self.row_number > 1 else None

    def _column_name(self) -> str | None:
        if self.names is not None and 0 <= self.column < self.width:
            return self.names[self.column]
        return None

    def _blank_rows(self, n: int) -> None:
        if n <= 0:
            return
        if self.names is None:  # rows before the header row: the header is row 1
            self._header({})
        self.pending_blank += n
        self._check_cells()

    def _header(self, cells: dict[int, str]) -> None:

        width = max(cells) + 1 if cells else 0
        header = [cells.get(i, "").strip() for i in range(width)]
        self.names = check_header(header)
        self.width = len(self.names)

    def _end_row(self) -> None:
        if self.names is None:
            self._header(self.cells)
            return
        cells = self.cells
        if not cells:
            self.pending_blank += 1
            return
        beyond = [i for i in cells if i >= self.width]
        if beyond:
            row = self.row_number - 1
            raise XlsxError(f"第 {row} 行在表头之外有值", f"row {row} has a value beyond the header", row=row)
        for _ in range(self.pending_blank):  # an empty row inside the data stays a row
            self._append([""] * self.width)
        self.pending_blank = 0
        for i in self.row_formulas:
            if i < self.width:
                self.formulas.append((self.row_number - 1, self.names[i]))
        self._append([cells.get(i, "") for i in range(self.width)])

    def _append(self, row: list[str]) -> None:
        self.rows.append(row)
        if len(self.rows) >= _CHUNK_ROWS:
            self._flush()
        self._check_cells()

    def _check_cells(self) -> None:
        rows = self.emitted + len(self.rows) + self.pending_blank
        if rows * max(self.width, 1) > self.limits.max_xlsx_cells:
            raise _limit(f"XLSX 工作表超过 {self.limits.max_xlsx_cells} 个单元格（{rows} 行 × {self.width} 列）",
                         f"the sheet holds more than {self.limits.max_xlsx_cells} cells ({rows} rows × {self.width} columns)")

    def _flush(self) -> None:
        if not self.rows:
            return
        columns = list(zip(*self.rows, strict=True)) if self.width else []
        self.chunks.append([pa.array(column, pa.string()) for column in columns])
        self.emitted += len(self.rows)
        self.rows = []

    def table(self) -> pa.Table:
        if self.names is None:
            raise XlsxError("XLSX 工作表为空", "the first visible sheet is empty")
        self._flush()
        arrays = [pa.chunked_array([chunk[i] for chunk in self.chunks], pa.string()) for i in range(self.width)]
        return pa.table(arrays, names=self.names)
