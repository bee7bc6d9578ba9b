"""Decode one data file (CSV, XLSX, Parquet) into an Arrow table whose every column is text.

CSV is the hot path: pyarrow parses it; Python only looks at the header line and, for GB18030 files,
transcodes once. Encodings are detected, never guessed: UTF-8 (with or without BOM) is tried first,
then GB18030, and a GB18030 reading is accepted only if it yields plausible Chinese text (not another
CJK encoding: ``connectors.intake.encoding``); UTF-8 that was once read as Latin-1 is refused as mojibake.
XLSX is streamed within its limits by ``connectors.intake.xlsx``. Every problem is a ``ReadError`` with
its rule (FMT-003, FMT-007), row and column.
"""

from __future__ import annotations

import csv
import ctypes
import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.arrow_sources import read_csv as read_arrow_csv
from connectors.intake.encoding import (
    Mojibake,
    characters_before,
    count_ideographs,
    first_implausible,
    reads_as_other_cjk,
    refuse_mojibake,
)
from connectors.intake.headers import ReadError, check_header
from connectors.intake.limits import IntakeLimits
from connectors.intake.parquet import read_parquet

UTF8_BOM = b"\xef\xbb\xbf"


def format_of(path: str) -> str | None:
    lower = path.lower()
    for suffix, fmt in ((".csv", "csv"), (".txt", "csv"), (".xlsx", "xlsx"), (".parquet", "parquet"), (".pq", "parquet")):
        if lower.endswith(suffix):
            return fmt
    return None


Data = bytes | pa.Buffer  # a file's bytes; a large folder member arrives in Arrow memory (no copy to parse)


class Handover:
    """A file's bytes given to a reader to hold only while it needs them: a GB18030 file is parsed from
    its UTF-8, and its own bytes (a quarter of a gigabyte for a million rows) can go before that parse
    when the caller kept no reference of its own."""

    __slots__ = ("_data",)

    def __init__(self, data: Data) -> None:
        self._data: Data | None = data

    def peek(self) -> Data:
        if self._data is None:
            raise RuntimeError("the bytes were handed over already")
        return self._data

    def take(self) -> Data:
        data = self.peek()
        self._data = None
        return data


def read_table(data: Data | Handover, fmt: str, limits: IntakeLimits) -> tuple[pa.Table, str | None, list[tuple[int, str]]]:
    """(table of strings, CSV encoding, formula cells as (row, column)) for one file's bytes."""
    seen = data.peek() if isinstance(data, Handover) else data
    if len(seen) < 4096 and not _head(seen, 4096).strip(b" \t\r\n" + UTF8_BOM):  # a big file is not empty
        raise ReadError("文件为空", "the file is empty")
    del seen
    if fmt == "csv":
        table, encoding = read_csv(data, limits)
        return table, encoding, []
    if isinstance(data, Handover):
        data = data.take()
    if isinstance(data, pa.Buffer):  # the XLSX and Parquet readers take bytes (compressed: small beside CSV)
        data = data.to_pybytes()
    if fmt == "xlsx":
        table, formulas = read_xlsx(data, limits)
        return table, None, formulas
    if fmt == "parquet":
        return read_parquet(data, limits), None, []
    raise ReadError("不支持的文件类型", f"unsupported file type {fmt!r}")


# --- CSV -------------------------------------------------------------------------------------------

def read_csv(data: Data | Handover, limits: IntakeLimits) -> tuple[pa.Table, str]:
    if isinstance(data, Handover):
        data = data.take()
    # NUL (binary content) is looked for here; 0xC3 (UTF-8 once read as Latin-1 always holds
    # U+00C2..U+00F4, C3 xx) matters only once the file is parsed: on a second core meanwhile
    latin = _find_beside(data, 0xC3)
    (nul,) = _find_bytes(data, (0,))
    if nul >= 0:
        raise ReadError("文件含二进制内容，不是文本", "binary content (NUL bytes), not CSV text",
                        row=_line_index(data, nul))
    encoding = "utf-8"
    if _head(data, len(UTF8_BOM)) == UTF8_BOM:
        encoding = "utf-8-sig"
        data = data.slice(len(UTF8_BOM)) if isinstance(data, pa.Buffer) else data[len(UTF8_BOM):]
    _refuse_cr_only(data, limits)
    try:
        table = _parse_csv(data, limits)
    except _NotUtf8:
        position = _first_invalid_utf8(data)
        if encoding == "utf-8-sig":
            raise ReadError("带 BOM 的 UTF-8 文件含无效字节", "UTF-8 file with BOM holds invalid bytes",
                            row=_line_index(data, position)) from None
    else:
        if latin() >= 0:
            _refuse_mojibake(table)
        return table, encoding
    # outside the handler, whose traceback would keep the failed parse's frame (and the bytes) alive
    utf8 = _transcode_gb18030(data, position)
    del data  # the GB18030 bytes go now, unless the caller kept them: Arrow parses the UTF-8
    return _parse_csv(utf8, limits, utf8_known=True), "gb18030"


def _refuse_mojibake(table: pa.Table) -> None:
    try:
        refuse_mojibake(table)
    except Mojibake as exc:
        raise ReadError(
            f"乱码：文本像是 UTF-8 被当作 Latin-1 读取后又保存（“{exc.value[:40]}”应为“{exc.repaired[:40]}”）",
            f"mojibake: the text looks like UTF-8 once read as Latin-1/Windows-1252 and saved again "
            f"({exc.value[:40]!r} would be {exc.repaired[:40]!r}); save the original as UTF-8",
            row=exc.row, column=exc.column,
        ) from None


class _NotUtf8(Exception):
    pass


_SCAN = 8 << 20  # bytes compared per step when scanning a buffer with numpy


def _libc_memchr() -> Callable[[int, int, int], int | None] | None:
    """``memchr`` of the C library this process runs on, None where ctypes cannot name one."""
    try:
        function = ctypes.CDLL(None).memchr
    except (OSError, AttributeError, TypeError):  # no C library by that name (Windows)
        return None
    function.restype = ctypes.c_void_p
    function.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    return function


_MEMCHR = _libc_memchr()


def _find_byte(data: Data, value: int) -> int:
    """The first offset of a byte value, -1 if absent."""
    return _find_bytes(data, (value,))[0]


def _find_bytes(data: Data, values: tuple[int, ...]) -> list[int]:
    """The first offset of each byte value, -1 if absent: ``bytes.find``, or the C library's ``memchr``
    over a buffer (vectorised, without the interpreter's lock: twice as fast as numpy's comparisons),
    or else numpy over the buffer in steps, each step compared with every value not found yet while it
    is in the cache (one scratch array, so a scan of hundreds of megabytes allocates 8 MB)."""
    if not isinstance(data, pa.Buffer):
        return [data.find(bytes((value,))) for value in values]
    if _MEMCHR is not None:
        return [_memchr_offset(data, value) for value in values]
    return _find_bytes_numpy(data, values)


def _find_beside(data: Data, value: int) -> Callable[[], int]:
    """The first offset of ``value`` (-1 if absent), asked for later: a large file is scanned on a
    second thread, which lets go of the bytes when done (the caller may drop them meanwhile)."""
    if len(data) < _SECOND_CORE:
        (found,) = _find_bytes(data, (value,))
        return lambda: found
    scanner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan")
    try:
        future = scanner.submit(_find_bytes, data, (value,))
    finally:
        scanner.shutdown(wait=False)  # the thread ends with its one scan
    return lambda: future.result()[0]


def _memchr_offset(data: pa.Buffer, value: int) -> int:
    if not data.size:
        return -1
    hit = _MEMCHR(data.address, value, data.size)
    return -1 if hit is None else hit - data.address


def _find_bytes_numpy(data: pa.Buffer, values: tuple[int, ...]) -> list[int]:
    found = [-1] * len(values)
    view = np.frombuffer(data, dtype=np.uint8)
    scratch = np.empty(min(len(view), _SCAN), dtype=bool)
    start, step = 0, 1 << 16  # a byte that is near (the next line feed) is found without a long compare
    while start < len(view) and -1 in found:
        part = view[start : start + step]
        hits = scratch[: len(part)]
        for k, value in enumerate(values):
            if found[k] < 0:
                np.equal(part, value, out=hits)
                if hits.any():
                    found[k] = start + int(np.argmax(hits))
        start, step = start + len(part), min(2 * step, _SCAN)
    return found


def _head(data: Data, n: int) -> bytes:
    """The first ``n`` bytes as ``bytes``."""
    return data.slice(0, min(n, len(data))).to_pybytes() if isinstance(data, pa.Buffer) else data[:n]


def _line_index(data: Data, position: int) -> int | None:
    """The 0-based physical line of a byte offset, which is the data row for a line after the header
    (None for the header line itself)."""
    if isinstance(data, pa.Buffer):
        before = np.frombuffer(data, dtype=np.uint8, count=min(max(position, 0), len(data)))
        return int(np.count_nonzero(before == 0x0A)) or None
    return data.count(b"\n", 0, max(position, 0)) or None


def _decode(data: Data, encoding: str) -> str:
    return str(memoryview(data), encoding) if isinstance(data, pa.Buffer) else data.decode(encoding)


def _first_invalid_utf8(data: Data) -> int:
    """The offset of the first byte that is not UTF-8, -1 if none: the leading megabyte's whole lines
    first (where a GBK ledger nearly always shows itself), then the rest."""
    for part in (_leading_lines(data, _SNIFF_BYTES), data):
        try:
            _decode(part, "utf-8")
        except UnicodeDecodeError as exc:
            return exc.start
    return -1


def _utf8_ok(data: Data) -> bool:
    """Whether the bytes are UTF-8, checked by Arrow without copying them into a Python string. A large
    file is checked in two parts on two cores, cut after a line feed near the middle: no byte of a
    multi-byte character is 0x0A, so the whole is UTF-8 exactly when both parts are."""
    source = data if isinstance(data, pa.Buffer) else pa.py_buffer(data)
    if len(source) >= _SECOND_CORE:
        middle = len(source) // 2
        line_feed = source.slice(middle, _UTF8_CUT_WINDOW).to_pybytes().find(b"\n")
        if line_feed >= 0:
            cut = middle + line_feed + 1
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="utf8") as other:
                second = other.submit(_utf8_part_ok, source.slice(cut))
                first = _utf8_part_ok(source.slice(0, cut))
                return second.result() and first
    return _utf8_part_ok(source)


_SECOND_CORE = 16 << 20  # bytes from which a scan is worth a second thread (below, the thread costs more)
_UTF8_CUT_WINDOW = 1 << 16  # where a line feed is looked for after the middle (else one part)


def _utf8_part_ok(source: pa.Buffer) -> bool:
    offsets = pa.array([0, len(source)], pa.int64()).buffers()[1]
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, source]).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _refuse_cr_only(data: Data, limits: IntakeLimits) -> None:
    """FMT-003 for lines ending in a bare CR (classic Mac OS): the header line, read up to the first LF,
    holds a CR that no LF follows."""
    data = _head(data, limits.max_line_bytes + 2)  # what is looked at: the header line and one byte more
    end = data.find(b"\n", 0, limits.max_line_bytes + 1)
    head_end = min(len(data), limits.max_line_bytes + 1) if end < 0 else end
    cr = data.find(b"\r", 0, head_end)
    while cr >= 0:
        if cr + 1 < len(data) and data[cr + 1] != 0x0A:
            raise ReadError("行以单独的 CR 结尾（旧版 Mac 格式），请以 LF 或 CRLF 换行保存",
                            "lines end in a bare CR (classic Mac OS): save the file with LF or CRLF line ends")
        cr = data.find(b"\r", cr + 1, head_end)


_TRANSCODE_PIECE = 1 << 20  # GB18030 is decoded and checked a piece of whole lines at a time


def _transcode_gb18030(data: Data, utf8_error: int) -> pa.Buffer:
    """The bytes as UTF-8 when they are plausible GB18030/GBK, else FMT-003 ("unknown encoding").

    Whole lines at a time (no GB18030 sequence holds the byte 0x0A): each piece is decoded and written
    into one buffer from Arrow's system allocator, sized for the most UTF-8 can take (1.5 × the GB18030
    bytes: a two-byte character becomes at most three; pages never written are never touched). The
    file is never held as one Python string (four bytes a character for ideographs) nor as UTF-8 bytes
    beside a copy for Arrow. Python's codecs hold the interpreter, so each piece's checks (plausible
    characters, the GB2312 counts: Arrow and numpy, which do not) run on another core while the next
    piece is decoded; a piece's finding is raised before anything found in a later piece, as a reading
    one piece after the other would. The GB2312 test counts over the whole file."""
    utf8_line = (_line_index(data, utf8_error) or 0) + 1
    out = pa.allocate_buffer(len(data) * 3 // 2 + 1, memory_pool=pa.system_memory_pool())
    written = lines = 0
    checked: list[Future[_PieceCounts]] = []
    with memoryview(out).cast("B") as target, ThreadPoolExecutor(1, thread_name_prefix="gb18030") as checker:
        for begin, end in _line_pieces(data, _TRANSCODE_PIECE):
            try:
                text = _decode(data[begin:end] if isinstance(data, bytes) else data.slice(begin, end - begin),
                               "gb18030")
            except UnicodeDecodeError as exc:
                for piece in checked:  # an earlier piece's finding comes first
                    piece.result()
                raise ReadError(
                    "无法识别的编码（应为 UTF-8 或 GB18030/GBK）",
                    f"unknown encoding (expected UTF-8 or GB18030/GBK): not UTF-8 (line {utf8_line}) "
                    f"and not GB18030 (line {(_line_index(data, begin + exc.start) or 0) + 1})",
                    row=_line_index(data, begin + exc.start),
                ) from None
            utf8 = text.encode("utf-8")
            if len(checked) >= 2:  # at most two pieces wait for their checks: bounded memory
                checked[-2].result()
            checked.append(checker.submit(_checked_piece, text, utf8, lines))
            target[written: written + len(utf8)] = utf8
            written += len(utf8)
            lines += text.count("\n")
            del text, utf8
        counts = [piece.result() for piece in checked]
    rare, total = sum(c.rare for c in counts), sum(c.total for c in counts)
    first_rare = next((c.first_rare for c in counts if c.first_rare is not None), None)
    if reads_as_other_cjk(rare, total) and first_rare is not None:
        line, sample = first_rare
        raise ReadError(
            f"无法识别的编码：按 GB18030 解码，{total} 个汉字中有 {rare} 个不在 GB2312 常用字中（第 {line + 1} 行“{sample}”），"
            "疑为 Shift-JIS 等其他编码",
            f"unknown encoding: read as GB18030, {rare} of its {total} Chinese characters are outside GB2312 "
            f"(line {line + 1}: {sample!r}): likely Shift-JIS or another encoding, not GBK",
            row=line or None,
        )
    return out.slice(0, written)


@dataclass(frozen=True)
class _PieceCounts:
    rare: int  # ideographs outside GB2312
    total: int  # all ideographs
    first_rare: tuple[int, str] | None  # (line, the text there) of the first rare one


def _checked_piece(text: str, utf8: bytes, lines_before: int) -> _PieceCounts:
    """One decoded piece's plausibility (FMT-003 for a character no GB18030 filing holds) and its
    GB2312 counts; ``lines_before``: the lines of the pieces before it."""
    odd = first_implausible(text, utf8)
    if odd >= 0:
        line = lines_before + text.count("\n", 0, odd)
        raise ReadError(
            "无法识别的编码：按 GB18030 解码得到不合理的字符",
            f"unknown encoding: read as GB18030 it yields implausible text ({text[odd]!r}, line {line + 1})",
            row=line or None,
        )
    rare, total, first = count_ideographs(utf8)
    first_rare = None
    if first >= 0:
        position = characters_before(utf8, first)
        first_rare = (lines_before + text.count("\n", 0, position), text[position: position + 6].split("\n")[0])
    return _PieceCounts(rare, total, first_rare)


def _line_pieces(data: Data, size: int) -> list[tuple[int, int]]:
    """(start, end) of consecutive pieces of about ``size`` bytes, each ending after a line feed (the
    last at the end of the data)."""
    pieces, start, n = [], 0, len(data)
    while start < n:
        end = min(start + size, n)
        if end < n:
            found = data.find(b"\n", end) if isinstance(data, bytes) else _find_byte(data.slice(end), 0x0A)
            end = n if found < 0 else (found if isinstance(data, bytes) else end + found) + 1
        pieces.append((start, end))
        start = end
    return pieces


def _check_line_length(data: Data, max_line: int) -> None:
    """FMT-007 for a line longer than the limit, located with numpy (used when Arrow met a line longer
    than its block, which the limit keeps above ``max_line``)."""
    if len(data) <= max_line:
        return
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    bounds = np.concatenate(([-1], newlines, [len(buf)]))
    lengths = np.diff(bounds) - 1
    worst = int(np.argmax(lengths))
    if lengths[worst] > max_line:
        raise ReadError(
            f"第 {worst + 1} 行超过 {max_line} 字节的行长限制",
            f"line {worst + 1} is longer than the {max_line}-byte limit",
            rule_id="FMT-007",
            row=worst if worst > 0 else None,
        )


def _parse_header(data: Data, max_line: int) -> list[str]:
    data = _head(data, max_line + 1)  # a longer header line was refused before
    end = data.find(b"\n")
    try:
        line = (data if end < 0 else data[:end]).decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        raise _NotUtf8 from None
    try:
        names = [name.strip() for name in next(csv.reader([line], strict=True), [])]
    except csv.Error as exc:
        raise ReadError("表头行无法解析", f"the header line cannot be parsed ({exc})") from None
    return check_header(names)


def _parse_csv(data: Data, limits: IntakeLimits, *, utf8_known: bool = False) -> pa.Table:
    """The rows as text columns; ``utf8_known`` for bytes this module encoded itself."""
    header_end = _head(data, limits.max_line_bytes + 1).find(b"\n")
    if (len(data) if header_end < 0 else header_end) > limits.max_line_bytes:
        raise ReadError("表头行过长", f"the header line is longer than {limits.max_line_bytes} bytes", rule_id="FMT-007")
    names = _parse_header(data, limits.max_line_bytes)
    if not utf8_known and not _utf8_ok(data):
        # the encoding is decided before anything else is read: a field is a run of bytes between
        # ASCII delimiters, so the whole file is UTF-8 exactly when every field is (Arrow then reads
        # the fields as bytes, without checking each value again)
        raise _NotUtf8
    try:
        table = _arrow_csv(data, len(names), limits, use_threads=True)
    except _Straddling:
        _check_line_length(data, limits.max_line_bytes)
        raise ReadError("行过长", "a line is longer than the reader's block", rule_id="FMT-007") from None
    except _Ragged:
        bad_rows: list[tuple[int | None, int, int]] = []
        _arrow_csv(data, len(names), limits, use_threads=False, bad_rows=bad_rows)
        number, expected, actual = bad_rows[0]
        row = number - 1 if number else None
        raise ReadError(
            f"{len(bad_rows)} 行的列数与表头不符（应为 {expected} 列，实为 {actual} 列）",
            f"{len(bad_rows)} row(s) do not have the header's {expected} columns (first has {actual})",
            row=row,
        ) from None
    _check_row_lengths(table, limits.max_line_bytes)
    return pa.table([_as_text(column) for column in table.columns], names=names)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column read as bytes, viewed as the UTF-8 text it was checked to be (no copy, no second check)."""
    return pa.chunked_array([chunk.view(pa.string()) for chunk in column.chunks], pa.string())


_SNIFF_BYTES = 1 << 20  # where the first byte that is not UTF-8 is looked for first: a GBK ledger shows itself there


def _leading_lines(data: Data, n: int) -> bytes:
    """The whole lines within the first ``n`` bytes (all of a shorter file; nothing when no line ends
    there, so that a character cut at ``n`` is never judged)."""
    if len(data) <= n:
        return _head(data, n)
    head = _head(data, n)
    return head[: head.rfind(b"\n") + 1]


class _Ragged(Exception):
    pass


class _Straddling(Exception):
    pass


def _check_row_lengths(table: pa.Table, max_line: int) -> None:
    """FMT-007 for a row whose fields (plus separators) exceed the line limit: column-wise, after parsing,
    so the common case costs a few additions instead of a scan of every byte."""
    if table.num_rows == 0 or table.num_columns == 0:
        return
    lengths = pc.binary_length(table.column(0))
    for column in table.columns[1:]:
        lengths = pc.add(lengths, pc.binary_length(column))
    lengths = pc.add(lengths, table.num_columns - 1)
    worst = pc.max(lengths).as_py()
    if worst is not None and worst > max_line:
        row = pc.index(lengths, worst).as_py() + 1
        raise ReadError(
            f"第 {row} 行超过 {max_line} 字节的行长限制", f"row {row} is longer than the {max_line}-byte line limit",
            rule_id="FMT-007", row=row,
        )


def _arrow_csv(
    data: Data, width: int, limits: IntakeLimits, *, use_threads: bool,
    bad_rows: list[tuple[int | None, int, int]] | None = None,
) -> pa.Table:
    """Arrow's parse of the rows after the header, every column as bytes (the caller has checked that
    they are UTF-8). Without ``bad_rows`` a row with the wrong number of fields raises ``_Ragged``; with
    it, such rows are skipped and listed."""
    generated = [f"c{i}" for i in range(width)]
    handler = None
    if bad_rows is not None:
        def handler(row: pacsv.InvalidRow) -> str:
            bad_rows.append((row.number, row.expected_columns, row.actual_columns))
            return "skip"

    def parse(threads: bool) -> pa.Table:
        return read_arrow_csv(  # from a copy in Arrow's memory (connectors.arrow_sources)
            data,
            read_options=pacsv.ReadOptions(
                column_names=generated, skip_rows=1, use_threads=threads,
                block_size=max(4 << 20, 2 * limits.max_line_bytes),
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(generated, pa.binary()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )

    try:
        return parse(use_threads)
    except pa.ArrowInvalid as exc:
        message = str(exc)
        lower = message.lower()
        if "utf8" in lower or "utf-8" in lower:
            raise _NotUtf8 from None
        if "straddl" in lower:
            raise _Straddling from None
        if bad_rows is None and _EXPECTED_COLUMNS.search(message):
            raise _Ragged from None
        if use_threads:  # row numbers are known only to a single-threaded parse
            return _arrow_csv(data, width, limits, use_threads=False, bad_rows=bad_rows)
        found = _ARROW_ROW.search(message)
        row = int(found.group(1)) - 1 if found else None
        detail = _ARROW_PREFIX.sub("", message).split("\n")[0][:200]
        raise ReadError(
            f"CSV 解析失败{f'（第 {row} 行）' if row else ''}", f"CSV parse error{f' in row {row}' if row else ''}: {detail}",
            row=row or None,
        ) from None


_EXPECTED_COLUMNS = re.compile(r"Expected \d+ columns, got \d+")
_ARROW_ROW = re.compile(r"Row #(\d+)")
_ARROW_PREFIX = re.compile(r"^(CSV parse error: )+(Row #\d+: )?")


# --- XLSX ------------------------------------------------------------------------------------------

def read_xlsx(data: bytes, limits: IntakeLimits) -> tuple[pa.Table, list[tuple[int, str]]]:
    """The first visible sheet, streamed within the XLSX limits (``connectors.intake.xlsx``)."""
    from connectors.intake.xlsx import XlsxError
    from connectors.intake.xlsx import read_xlsx as stream_xlsx

    try:
        table, formulas = stream_xlsx(data, limits)
    except XlsxError as exc:
        raise ReadError(exc.message_zh, exc.message_en, rule_id=exc.rule_id, row=exc.row, column=exc.column) from None
    if _holds_c3(table):  # as for CSV: mojibake always holds U+00C2..U+00F4, whose UTF-8 starts with C3
        _refuse_mojibake(table)
    return table, formulas


def _holds_c3(table: pa.Table) -> bool:
    """Whether any string buffer of the table holds the byte C3 (at memory speed, before any regex)."""
    for column in table.columns:
        for chunk in column.chunks:
            data = chunk.buffers()[2] if len(chunk.buffers()) > 2 else None
            if data is not None and data.size and (np.frombuffer(data, dtype=np.uint8) == 0xC3).any():
                return True
    return False
