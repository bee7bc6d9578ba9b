"""Phase 1, per file: map headers (English or Chinese aliases) to template columns (FMT-004, FMT-008)
and parse every cell to its type (FMT-005), column-wise.

One table per file: the typed table holds every template column; a value that does not parse, or is
empty, is null there. Text and code columns are that table's own strings (an empty cell is null there
and "" in the text view, over the same buffers). Only the columns of other types keep their filed text
beside it (the reader's buffers, trimmed), because a finding reports the value as filed ("012.340",
not 12.34). Each column's dictionary codes are computed once and shared by the phases: a code list's,
and those of the columns later phases group by, here, beside the column's parse; the others on demand.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.template import Column, ColumnType, FileSpec
from validations.catalog import rule
from validations.codes import Codes, Encoded, encode
from validations.exact import AMOUNT, AMOUNT_INTEGER_DIGITS, RATIO, RATIO_INTEGER_DIGITS, RATIO_SCALE
from validations.findings import Findings
from validations.side_by_side import in_order

# exactly what the decimal types hold (leading zeros and trailing zeros are fine: 012.340 is 12.34)
_AMOUNT = rf"^[+-]?(0*[0-9]{{1,{AMOUNT_INTEGER_DIGITS}}}(\.[0-9]{{0,2}}0*)?|\.[0-9]{{1,2}}0*)$"
_DECIMAL = (
    rf"^[+-]?(0*[0-9]{{1,{RATIO_INTEGER_DIGITS}}}(\.[0-9]{{0,{RATIO_SCALE}}}0*)?|\.[0-9]{{1,{RATIO_SCALE}}}0*)$"
)
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TRUE_VALUES = ("true", "1", "yes", "y", "t", "是")
FALSE_VALUES = ("false", "0", "no", "n", "f", "否")

_TYPE_TEXT = {
    ColumnType.AMOUNT: (f"金额（元，最多两位小数、{AMOUNT_INTEGER_DIGITS} 位整数）",
                        f"an amount in yuan with at most two decimals and {AMOUNT_INTEGER_DIGITS} integer digits"),
    ColumnType.RATE: (f"小数形式的年利率（最多 {RATIO_SCALE} 位小数）", f"a decimal rate (at most {RATIO_SCALE} decimals)"),
    ColumnType.DECIMAL: (f"小数（最多 {RATIO_SCALE} 位小数）", f"a decimal number (at most {RATIO_SCALE} decimals)"),
    ColumnType.DATE: ("YYYY-MM-DD 格式的有效日期", "a valid date YYYY-MM-DD"),
    ColumnType.BOOL: ("布尔值（true/false）", "a boolean (true/false)"),
}


@dataclass
class ParsedFile:
    spec: FileSpec
    typed: pa.Table  # template columns in their Arrow types, null where empty or unparsable
    present: frozenset[str]  # template columns the file carried
    filed: dict[str, pa.ChunkedArray]  # the trimmed filed text of the columns that are not text or codes
    codes: Codes = field(init=False)  # dictionary codes of the typed table's columns, computed on demand
    text: TextView = field(init=False)  # every template column as trimmed text ("" where empty)

    def __post_init__(self) -> None:
        self.codes = Codes(self.typed)
        self.text = TextView(self)

    def release_text(self) -> None:
        """Let go of the filed text and the text views once phases 1–3 are done: what reports a value
        as filed ends there (phase 4 reads the typed table), and on a million-row ledger the text of
        the typed columns is a few hundred MB. Reading the text afterwards is an error."""
        self.filed = {}
        self.text = TextView(self, released=True)

    @property
    def num_rows(self) -> int:
        return self.typed.num_rows

    def empty(self, name: str) -> np.ndarray:
        """Rows where the column's cell is empty. Read from the typed table's validity, which is exact
        once phase 1 has passed (no cell failed to parse, so a null is an empty cell)."""
        return np.asarray(pc.is_null(self.typed[name]).to_numpy(zero_copy_only=False), dtype=bool)

    def text_in(self, name: str, values: Iterable[str]) -> np.ndarray:
        """Rows whose text is one of ``values`` ("" for an empty cell): through the shared dictionary
        codes for text and code columns, on the text otherwise."""
        wanted = sorted(set(values))
        if self.spec.column(name).type in (ColumnType.STRING, ColumnType.CODE):
            hit = self.codes.is_in(name, wanted)
            return hit | self.codes.is_null(name) if "" in wanted else hit
        found = pc.is_in(self.text[name], value_set=pa.array(wanted, pa.string()))
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


class TextView(Mapping[str, pa.ChunkedArray]):
    """A parsed file's columns as trimmed text, "" where empty: what rules compare as text and what
    findings report. Text and code columns are views of the typed table's strings (no copy)."""

    def __init__(self, parsed: ParsedFile, *, released: bool = False) -> None:
        self._parsed = parsed
        self._cache: dict[str, pa.ChunkedArray] = {}
        self._released = released

    def __getitem__(self, name: str) -> pa.ChunkedArray:
        if self._released:
            raise RuntimeError(f"{self._parsed.spec.name}.{name}: the filed text was released after phase 3")
        if name in self._parsed.filed:
            return self._parsed.filed[name]
        if name not in self._cache:
            column = self._parsed.typed[name]  # KeyError for a column the template lacks
            self._cache[name] = pa.chunked_array([_empty_for_null(c) for c in column.chunks], pa.string())
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed.typed.column_names)

    def __len__(self) -> int:
        return self._parsed.typed.num_columns


def _empty_for_null(chunk: pa.Array) -> pa.Array:
    """A string chunk with "" for null: the same buffers without the validity bitmap when every null
    slot is already empty (as ``_null_where_empty`` leaves it), else a filled copy."""
    if chunk.null_count == 0:
        return chunk
    parts = chunk.buffers()
    if chunk.type == pa.string() and chunk.offset == 0 and parts[0] is not None:
        offsets = np.frombuffer(parts[1], dtype=np.int32, count=len(chunk) + 1)
        valid = np.unpackbits(np.frombuffer(parts[0], dtype=np.uint8), count=len(chunk), bitorder="little")
        if not np.diff(offsets)[valid == 0].any():
            return pa.Array.from_buffers(pa.string(), len(chunk), [None, parts[1], parts[2]], null_count=0)
    return pc.fill_null(chunk, "")


def parse_file(spec: FileSpec, raw: pa.Table, findings: Findings, encode_also: Collection[str] = ()) -> ParsedFile | None:
    """Typed view of one file; None when a required column is missing (FMT-004). Code-list columns and
    ``encode_also`` (what later phases group by) are dictionary-encoded on the parse threads, each
    beside its own parse, where the work of all columns is spread evenly over the cores."""
    aliases = spec.header_aliases
    mapped: dict[str, pa.ChunkedArray] = {}
    for header, column in zip(raw.column_names, raw.columns, strict=True):
        name = aliases.get(header)
        if name is None:
            findings.add(rule("FMT-008").finding(f"未知列 {header}", f"unknown column {header!r}", file=spec.name,
                                                 column=header))
        elif name in mapped:
            findings.add(rule("FMT-003").finding(f"列 {name} 出现两次（中英文表头）",
                                                 f"column {name} appears twice (English and Chinese header)",
                                                 file=spec.name, column=name))
            return None
        else:
            mapped[name] = column
    missing = [c.name for c in spec.columns if _header_required(c) and c.name not in mapped]
    for name in missing:
        findings.add(rule("FMT-004").finding(f"缺少列 {name}（{spec.column(name).zh}）", f"missing column {name}",
                                             file=spec.name, column=name))
    if missing:
        return None
    n = raw.num_rows

    def parse(column: Column) -> tuple[pa.ChunkedArray, pa.ChunkedArray, Findings, Encoded | None]:
        filed = mapped.get(column.name)
        if filed is None:
            values = pa.chunked_array([pa.repeat(pa.scalar("", pa.string()), n)], pa.string())
        else:  # names may end in an ideographic space: free text is trimmed as Unicode
            values = _trimmed(filed, column.type == ColumnType.STRING)
        found = Findings()
        typed = _parse_column(spec.name, column, values, found)
        # a code list's column is encoded here, on the same thread: phases 2-4 all ask for its codes
        wanted = column.type == ColumnType.CODE or column.name in encode_also
        return values, typed, found, encode(typed) if wanted else None

    filed, typed_columns, encoded = {}, {}, {}
    for column, (values, typed, found, codes) in zip(spec.columns, in_order(parse, spec.columns, n, "parse"), strict=True):
        if column.type not in (ColumnType.STRING, ColumnType.CODE):
            filed[column.name] = values
        typed_columns[column.name] = typed
        if codes is not None:
            encoded[column.name] = codes
        findings.extend_table(found.to_table())  # in the template's column order, whatever ran first
    if spec.exactly_one_row and n != 1:
        findings.add(rule("FMT-003").finding(f"{spec.name} 应恰好一行数据，实为 {n} 行",
                                             f"{spec.name} must hold exactly one data row, found {n}", file=spec.name))
    parsed = ParsedFile(spec, pa.table(typed_columns), frozenset(mapped), filed)
    for name, codes in encoded.items():
        parsed.codes.seed(name, codes)
    return parsed


def _header_required(column: Column) -> bool:
    """A column must be in the file when any of its values can be required by the row itself."""
    return column.required or bool(column.required_when)


# --- column helpers on Arrow's buffers: no pass over the text when nothing needs one ----------------

_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20]] = True  # what ascii_trim_whitespace strips
_MAYBE_SPACE = _ASCII_SPACE.copy()  # what utf8_trim_whitespace may strip, by a value's end byte
_MAYBE_SPACE[0x1C:0x20] = True  # the information separators are Unicode whitespace
_MAYBE_SPACE[0x80:] = True  # a non-ASCII character might be Unicode whitespace (U+3000, U+00A0, ...)
_IDEOGRAPH_LEAD = np.zeros(256, dtype=bool)
_IDEOGRAPH_LEAD[0xE4:0xEA] = True  # lead bytes of U+4000..U+9FFF: ideographs, never whitespace


def _buffers(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets, data bytes) of a plain string chunk without nulls, else None (the generic path)."""
    if chunk.null_count:
        return None
    return _slots(chunk)


def _slots(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets, data bytes) of a plain string chunk, null slots included (what they span is read as
    if it were a value, which can only make a bound on the values larger), else None."""
    if chunk.type != pa.string() or chunk.offset:
        return None
    buffers = chunk.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(chunk) + 1)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def _needs_trim(column: pa.ChunkedArray, unicode: bool) -> bool:
    """Whether any value may begin or end with whitespace: a chunk without a byte that could be
    whitespace needs no more; otherwise only each value's first and last bytes are looked at
    (conservatively for non-ASCII, except an ideograph at either end)."""
    for chunk in column.chunks:
        parts = _buffers(chunk)
        if parts is None:
            return True
        offsets, data = parts
        if data.size == 0 or offsets[-1] == offsets[0]:
            continue
        used = data[offsets[0]:offsets[-1]]
        if used.min() > 0x20 and (not unicode or used.max() < 0x80):
            continue  # no byte of any value could be whitespace: two passes at memory speed settle it
        # an empty value reads its neighbours' bytes: those are judged as their own values anyway
        first = data[np.minimum(offsets[:-1], data.size - 1)]
        last = data[np.maximum(offsets[1:] - 1, 0)]
        if not unicode:
            if (_ASCII_SPACE[first] | _ASCII_SPACE[last]).any():
                return True
            continue
        suspect_first = _MAYBE_SPACE[first] & ~_IDEOGRAPH_LEAD[first]
        # a lead byte E4..E9 three bytes before the end starts the value's last character (valid UTF-8)
        tail = data[np.maximum(offsets[1:] - 3, 0)]
        suspect_last = _MAYBE_SPACE[last] & ~((last >= 0x80) & _IDEOGRAPH_LEAD[tail])
        if (suspect_first | suspect_last).any():
            return True
    return False


def _trimmed(column: pa.ChunkedArray, unicode: bool) -> pa.ChunkedArray:
    if not _needs_trim(column, unicode):
        return column
    return pc.utf8_trim_whitespace(column) if unicode else pc.ascii_trim_whitespace(column)


def _null_where_empty(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """The values with null for "", from the offsets: the text is not copied. A cell is empty exactly
    where the result is null (``pc.is_null``), which is asked only where a check needs it."""
    typed = []
    for chunk in values.chunks:
        parts = _buffers(chunk)
        if parts is None:
            typed.append(pc.if_else(pc.equal(chunk, ""), pa.scalar(None, pa.string()), chunk))
            continue
        offsets, _ = parts
        filled = offsets[1:] > offsets[:-1]
        n = len(chunk)
        validity = pa.py_buffer(np.packbits(filled, bitorder="little"))
        buffers = chunk.buffers()
        typed.append(pa.Array.from_buffers(pa.string(), n, [validity, buffers[1], buffers[2]],
                                           null_count=n - int(np.count_nonzero(filled))))
    return pa.chunked_array(typed, pa.string())


def _max_bytes(values: pa.ChunkedArray) -> int | None:
    """The longest value in bytes, from the offsets (None when a chunk is not a plain string array); a
    bound, not less than the longest value, when null slots span bytes."""
    longest = 0
    for chunk in values.chunks:
        parts = _slots(chunk)
        if parts is None:
            return None
        if len(chunk):
            longest = max(longest, int(np.diff(parts[0]).max()))
    return longest


def _has_exponent(values: pa.ChunkedArray) -> bool:
    """Whether any value holds an ``e`` or ``E`` (Arrow's decimal cast would read ``1e3``); the bytes
    of null slots are looked at too, which can only send a column to the slow path."""
    for chunk in values.chunks:
        parts = _slots(chunk)
        if parts is None:
            return bool(pc.any(pc.or_(pc.match_substring(chunk, "e"), pc.match_substring(chunk, "E"))).as_py())
        offsets, data = parts
        used = data[offsets[0]:offsets[-1]]
        # digits, signs, points and spaces all lie below "E" (0x45): a maximum at memory speed
        # settles most columns without a comparison of every byte
        if used.size and used.max() >= ord("E") and ((used | 0x20) == ord("e")).any():
            return True
    return False


def _parse_column(file: str, column: Column, values: pa.ChunkedArray, findings: Findings) -> pa.ChunkedArray:
    candidates = _null_where_empty(values)
    kind = column.type
    if kind in (ColumnType.STRING, ColumnType.CODE):
        typed = candidates
        longest = _max_bytes(values) if column.max_length is not None else None
        if column.max_length is not None and (longest is None or longest > column.max_length):
            too_long = pc.greater(pc.utf8_length(values), column.max_length)
            findings.add_rows(
                rule_id="FMT-005", severity=rule("FMT-005").severity, file=file, column=column.name, mask=too_long,
                values=values, **_msg(f"长度超过 {column.max_length} 个字符", f"longer than {column.max_length} characters"),
            )
        return typed
    if kind == ColumnType.BOOL:
        empty = pc.is_null(candidates)
        is_true, is_false = _bool_words(values, empty)
        bad = pc.and_(pc.invert(empty), pc.invert(pc.or_(is_true, is_false)))
        typed = pc.if_else(pc.or_(is_true, is_false), is_true, pa.scalar(None, pa.bool_()))
    else:
        typed, ok = _parse_dates(candidates) if kind == ColumnType.DATE else _parse_numbers(candidates, kind)
        if ok is None:  # the whole column cast: every filled cell parsed, no FMT-005 to look for
            return typed
        empty = pc.is_null(candidates)
        bad = pc.and_(pc.invert(empty), pc.invert(ok))
    zh, en = _TYPE_TEXT[kind]
    findings.add_rows(
        rule_id="FMT-005", severity=rule("FMT-005").severity, file=file, column=column.name, mask=bad, values=values,
        **_msg(f"应为{zh}", f"expected {en}"),
    )
    return typed


def _bool_words(values: pa.ChunkedArray, empty: pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """(is one of TRUE_VALUES, is one of FALSE_VALUES), in any case. When every filled cell is
    written ``true`` or ``false`` exactly (as the template and most exports write them), two byte
    comparisons decide; otherwise each cell is lowered and looked up."""
    is_true, is_false = pc.equal(values, "true"), pc.equal(values, "false")
    if pc.all(pc.or_(pc.or_(is_true, is_false), empty), skip_nulls=False).as_py():
        return is_true, is_false
    lower = pc.utf8_lower(values)
    return pc.is_in(lower, pa.array(TRUE_VALUES)), pc.is_in(lower, pa.array(FALSE_VALUES))


def _parse_numbers(candidates: pa.ChunkedArray, kind: ColumnType) -> tuple[pa.ChunkedArray, pa.ChunkedArray | None]:
    """(exact decimal values, mask of parsed cells or None when every filled cell parsed): amounts as
    decimal128(18, 2), rates and shares as decimal128(38, 18), never through a binary float (rules.md
    1.1: amounts are exact).

    Fast path: one Arrow cast of the whole column, which refuses a digit the type cannot hold (a third
    decimal of an amount, a 17th integer digit), NaN and inf, plus a literal scan that refuses exponents
    (the cast would read ``1e3``). Arrow's cast is exact only while the value, brought to the target's
    scale, fits 128 bits: pyarrow 26 casts 1 followed by 30 zeros to decimal128(38, 18) as a wrong
    number instead of refusing it, 39 nines to a negative one, and ``1.5`` followed by 60 zeros to 0.00.
    So the fast path is taken only when every value has at most 38 − scale bytes (hence digits); a
    column that does not take it pays for the regular expression that finds the bad cells, which
    accepts exactly what the types hold, and the values it accepts lose their leading and trailing
    zeros before the cast, which leaves them small enough."""
    target = AMOUNT if kind == ColumnType.AMOUNT else RATIO
    longest = _max_bytes(candidates)
    exact = longest is not None and longest + target.scale <= _CAST_DIGITS
    if exact and not _has_exponent(candidates):
        try:
            return _cast_through_distinct(candidates, target), None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    ok = pc.fill_null(pc.match_substring_regex(candidates, _AMOUNT if kind == ColumnType.AMOUNT else _DECIMAL), False)
    typed = pc.cast(_without_padding_zeros(pc.if_else(ok, candidates, pa.scalar(None, pa.string()))), target)
    return typed, ok


_CAST_DIGITS = 38  # a value below 10^38 fits decimal128's 128 bits: Arrow's cast decides it exactly
_SAMPLE_ROWS = 1 << 16


def _cast_through_distinct(candidates: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """``pc.cast(candidates, target)``, computed once per distinct value when the values repeat a lot
    (rates, shares, round amounts: a decimal parse costs three times a hash). Casting is value by
    value, so the result, and whether it raises, is the same either way. The first rows decide: at
    most one distinct value in eight of them, and at most half the column empty (an empty cell costs
    the direct cast nothing): ``_repetitive``."""
    if not _repetitive(candidates):
        return pc.cast(candidates, target)
    encoded = pc.dictionary_encode(candidates.combine_chunks())
    return pa.chunked_array([pc.take(pc.cast(encoded.dictionary, target), encoded.indices)], target)


def _repetitive(candidates: pa.ChunkedArray) -> bool:
    """At least 1,024 of the first rows filled, at most one distinct value in eight of them, and at
    most half the column empty."""
    if 2 * candidates.null_count > len(candidates):
        return False
    sample = candidates.slice(0, _SAMPLE_ROWS)
    filled = len(sample) - sample.null_count
    return filled >= 1024 and 8 * pc.count_distinct(sample).as_py() <= filled


def _without_padding_zeros(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Numbers the regular expression accepted, without leading zeros or trailing decimal zeros
    ("007.50" → "7.5", "-00.000" → "-0.", ".0" → ".0"), in forms Arrow's cast reads, so that none holds
    more digits than its type."""
    values = pc.replace_substring_regex(values, r"^([+-]?)0+([0-9])", r"\1\2")
    values = pc.replace_substring_regex(values, r"(\.[0-9]*?)0+$", r"\1")
    return pc.replace_substring_regex(values, r"^([+-]?)\.$", r"\1.0")


def _parse_dates(candidates: pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.ChunkedArray | None]:
    """(date32 values, mask of parsed cells, None when every filled cell parsed). Arrow's cast accepts only real YYYY-MM-DD dates but fails
    the whole column, so it is the fast path; strptime, which rolls 02-30 over to 03-02, and a check of
    the day find the bad cells otherwise."""
    try:
        return pc.cast(candidates, pa.date32()), None
    except pa.ArrowInvalid:
        pass
    shaped = pc.match_substring_regex(candidates, _DATE)
    candidates = pc.if_else(shaped, candidates, pa.scalar(None, pa.string()))
    stamps = pc.strptime(candidates, format="%Y-%m-%d", unit="s", error_is_null=True)
    day = pc.cast(pc.utf8_slice_codeunits(candidates, 8, 10), pa.int64())
    ok = pc.fill_null(pc.equal(pc.day(stamps), day), False)
    return pc.if_else(ok, pc.cast(stamps, pa.date32()), pa.scalar(None, pa.date32())), ok


def _msg(detail_zh: str, detail_en: str, rule_id: str = "FMT-005") -> dict[str, str]:
    zh, en = rule(rule_id).messages(detail_zh, detail_en)
    return {"message_zh": zh, "message_en": en}
