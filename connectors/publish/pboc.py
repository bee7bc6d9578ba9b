"""The PBOC credit-information feed (征信报送, outputs.md §3): feed state, incremental diff, file layout.

Everything here is column-wise Arrow: a guarantor's 10,000 guarantees become a state table, a diff
and a fixed-width file without a Python loop over rows. The layout (docs/pboc-feed.md, generated from
``RECORD_LAYOUT`` and checked against it by the tests):

- a file per record type (``440`` for USCC parties, ``230`` for RIC parties), guarantor and feed,
  named by the 30-character rule plus ``.txt``: area code (14) + report date ``YYYYMMDD`` + record
  type (3) + ``0`` + serial (3) + ``0``;
- UTF-8, ``\\n`` line ends; a 50-character header line, then one 417-byte record per line;
- fields are fixed-width in **bytes** (a Chinese character is three bytes in UTF-8); text is
  left-aligned and padded with spaces, amounts right-aligned and zero-filled (``000000000220000.00``),
  dates ``YYYYMMDD`` or blank.

The feed state is one row per account (``guarantee_id``) holding the field values as last sent. A new
feed is the diff of the filing against the state the PBOC has *accepted*: ``10`` new account, ``20``
closed in the period (open before, ended now), ``30`` balance changed, ``50`` any other field changed;
an unchanged account sends nothing. Every record carries all three segments, so a ``30`` also carries
any other change made at the same time.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.arrow_sources import read_parquet
from schemas.codes import FINANCING_BUSINESS_TYPES
from validations.context import BEIJING

VERSION = "1.0"  # header: version of this file layout
TEMPLATE = "0001"  # header: template type — full record (base, basic information, status segments)
HEADER_BYTES = 50
NAME_CHARS = 30
ENTERPRISE, PERSON = "440", "230"
RECORD_TYPES = (ENTERPRISE, PERSON)
NEW, CLOSED, BALANCE_CHANGED, OTHER_CHANGE = "10", "20", "30", "50"
REPORT_DATE_CODES = (NEW, CLOSED, BALANCE_CHANGED, OTHER_CHANGE)

RECORD_TYPE_OF_ID = {"USCC": ENTERPRISE, "RIC": PERSON}
ID_TYPE = {"USCC": "20", "RIC": "10"}
ID_TYPE_OF_RECORD = {ENTERPRISE: "20", PERSON: "10"}
DETAIL_LINE = {"loan": "11", "housing_loan": "12", "bond": "13", "other_financing": "19", "non_financing": "21"}
GUARANTEE_MODE = {"none": "0", "guarantee": "1", "pledge": "2", "mortgage": "3", "combination": "9"}
AREA_CODE = re.compile(r"[0-9A-Z]{14}")
FILE_NAME = re.compile(r"(?P<area>[0-9A-Z]{14})(?P<date>\d{8})(?P<type>440|230)0(?P<serial>\d{3})0\.txt")


@dataclass(frozen=True)
class Field:
    """One fixed-width field of a record. ``width`` counts bytes of UTF-8."""

    name: str
    width: int
    segment: str  # base, basic, status
    source: str  # the filing column(s) it comes from, or how it is made
    zh: str
    numeric: bool = False  # right-aligned, zero-filled


RECORD_LAYOUT: tuple[Field, ...] = (
    Field("record_type", 3, "base", "`party_id_type`: USCC → 440, RIC → 230", "信息记录类型"),
    Field("account_code", 60, "base", "`guarantee_id`", "账户标识码"),
    Field("report_date", 8, "base", "the period's last day", "信息报告日期"),
    Field("report_date_code", 2, "base", "the diff: 10 new, 20 closed, 30 balance, 50 other", "报告时点说明代码"),
    Field("party_name", 240, "base", "`party_name` (control characters → space)", "债务人名称"),
    Field("id_type", 2, "base", "`party_id_type`: USCC → 20, RIC → 10", "债务人身份标识类型"),
    Field("id_number", 18, "base", "`party_id`", "债务人身份标识号码"),
    Field("area_code", 14, "base", "registry `pboc_area_code`", "数据提供机构区段码"),
    Field("business_line", 1, "basic", "`business_type`: financing → 1, `non_financing` → 2", "担保业务大类"),
    Field("detail_line", 2, "basic", "`business_type`: loan 11, housing_loan 12, bond 13, other_financing 19, non_financing 21", "担保业务种类细分"),
    Field("open_date", 8, "basic", "`start_date`", "开户日期"),
    Field("guaranteed_amount", 18, "basic", "`guaranteed_amount`", "担保金额", numeric=True),
    Field("currency", 3, "basic", "`CNY`", "币种"),
    Field("due_date", 8, "basic", "`maturity_date`", "到期日期"),
    Field("guarantee_mode", 1, "basic", "`counter_guarantee`: none 0, guarantee 1, pledge 2, mortgage 3, combination 9", "反担保方式"),
    Field("account_status", 1, "status", "`status`: active → 1, released/compensated → 2", "账户状态"),
    Field("balance", 18, "status", "`outstanding_balance`", "在保余额", numeric=True),
    Field("five_category", 1, "status", "`five_category`", "五级分类"),
    Field("compensation_flag", 1, "status", "`status` = compensated → 1, else 0", "代偿（垫款）标志"),
    Field("close_date", 8, "status", "`closed_date`, blank while open", "账户关闭日期"),
)  # fmt: skip
RECORD_BYTES = sum(f.width for f in RECORD_LAYOUT)
OFFSETS: dict[str, tuple[int, int]] = {}
_at = 0
for _f in RECORD_LAYOUT:
    OFFSETS[_f.name] = (_at, _at + _f.width)
    _at += _f.width
WIDTH = {f.name: f.width for f in RECORD_LAYOUT}

HEADER_LAYOUT: tuple[tuple[str, int, str], ...] = (
    ("marker", 1, "`A`"),
    ("header_length", 3, "`050`"),
    ("record_type", 3, "`440` or `230`"),
    ("version", 3, f"`{VERSION}`"),
    ("template_type", 4, f"`{TEMPLATE}`: base, basic information and status segments"),
    ("area_code", 14, "the guarantor's `pboc_area_code`"),
    ("created_at", 14, "creation time, Beijing, `YYYYMMDDHHMMSS`"),
    ("reserved", 1, "`0`"),
    ("record_count", 7, "records in the file, zero-filled"),
)
assert sum(w for _, w, _ in HEADER_LAYOUT) == HEADER_BYTES

#: Per-file fields (not kept in the state): they come from the file, not from the account.
_PER_FILE = ("report_date", "report_date_code", "area_code")
#: The feed state: one row per account, the field values as last sent, and the filing row they came from.
STATE_COLUMNS: tuple[str, ...] = tuple(f.name for f in RECORD_LAYOUT if f.name not in _PER_FILE)
STATE_SCHEMA = pa.schema([*(pa.field(name, pa.string(), nullable=False) for name in STATE_COLUMNS),
                          pa.field("filing_row", pa.int64())])
RECORD_SCHEMA = pa.schema([*STATE_SCHEMA, pa.field("report_date_code", pa.string(), nullable=False)])
#: Fields whose change is a ``50`` (the balance is ``30``; open → closed is ``20``).
OTHER_TRACKED = tuple(name for name in STATE_COLUMNS if name not in ("account_code", "balance"))


class FeedError(ValueError):
    """The data cannot be represented in the feed's layout."""


# -- filing → state fields ------------------------------------------------------------------------


def fields(guarantees: pa.Table) -> pa.Table:
    """The feed's view of a filing's typed ``guarantees``: one row per account, ``STATE_SCHEMA``."""
    n = guarantees.num_rows
    g = {name: guarantees[name].combine_chunks() for name in guarantees.column_names}
    status = g["status"]
    closed = pc.invert(pc.fill_null(pc.equal(status, "active"), False))
    name = pc.replace_substring_regex(pc.fill_null(g["party_name"], ""), r"[\x00-\x1f\x7f]", " ")
    columns = {
        "account_code": _required(g["guarantee_id"], "guarantee_id"),
        "record_type": _lookup(g["party_id_type"], RECORD_TYPE_OF_ID, "party_id_type"),
        "party_name": _fit_bytes(name, WIDTH["party_name"]),
        "id_type": _lookup(g["party_id_type"], ID_TYPE, "party_id_type"),
        "id_number": _required(g["party_id"], "party_id"),
        "business_line": pc.if_else(
            pc.is_in(g["business_type"], value_set=pa.array(sorted(FINANCING_BUSINESS_TYPES))), "1", "2"
        ),
        "detail_line": _lookup(g["business_type"], DETAIL_LINE, "business_type"),
        "open_date": _date(g["start_date"], "start_date"),
        "guaranteed_amount": _amount(g["guaranteed_amount"], "guaranteed_amount"),
        "currency": pa.repeat(pa.scalar("CNY"), n),
        "due_date": _date(g["maturity_date"], "maturity_date"),
        "guarantee_mode": _lookup(g["counter_guarantee"], GUARANTEE_MODE, "counter_guarantee"),
        "account_status": pc.if_else(closed, "2", "1"),
        "balance": _amount(g["outstanding_balance"], "outstanding_balance"),
        "five_category": _required(g["five_category"], "five_category"),
        "compensation_flag": pc.if_else(pc.fill_null(pc.equal(status, "compensated"), False), "1", "0"),
        "close_date": pc.fill_null(_yyyymmdd(g["closed_date"]), ""),
        "filing_row": pa.array(np.arange(1, n + 1, dtype=np.int64)),
    }
    table = pa.table({name: columns[name] for name in STATE_SCHEMA.names}).cast(STATE_SCHEMA)
    return _sorted(table)


def _required(values: pa.Array, column: str) -> pa.Array:
    if values.null_count:
        raise FeedError(f"{values.null_count} row(s) without {column}")
    return pc.cast(values, pa.string())


def _lookup(values: pa.Array, mapping: dict[str, str], column: str) -> pa.Array:
    keys = pa.array(list(mapping), pa.string())
    out = pc.take(pa.array(list(mapping.values()), pa.string()), pc.index_in(values, value_set=keys))
    if out.null_count:
        raise FeedError(f"{out.null_count} row(s) with an unknown or empty {column}")
    return out


def _date(values: pa.Array, column: str) -> pa.Array:
    return _required(_yyyymmdd(values), column)


def _yyyymmdd(values: pa.Array) -> pa.Array:
    """date32 as ``YYYYMMDD`` (null stays null): ISO text without its dashes, twenty times faster than
    ``strftime``, which goes through time zones."""
    return pc.replace_substring(pc.cast(values, pa.string()), "-", "")


def _amount(values: pa.Array, column: str) -> pa.Array:
    """Yuan with two decimals as text (``220000.00``): the filing's exact decimal (amounts are whole fen
    from the parse on), checked to fit the field; a float column (an older archive) goes through
    decimal too, so 0.1 is ``0.10``."""
    exact = pa.types.is_decimal(values.type)
    try:
        text = pc.cast(pc.cast(values, pa.decimal128(17, 2), safe=exact), pa.string())
    except pa.ArrowInvalid as exc:
        raise FeedError(f"{column} does not fit the feed's amount field") from exc
    if pc.any(pc.starts_with(pc.fill_null(text, ""), "-")).as_py():
        raise FeedError(f"negative {column}")
    return _required(text, column)


def _fit_bytes(values: pa.Array, width: int) -> pa.Array:
    """Cut values longer than ``width`` UTF-8 bytes at a character boundary. Names of at most 80 BMP
    characters always fit 240 bytes, so the few rows this touches are handled one by one."""
    too_long = pc.greater(pc.binary_length(values), width)
    if not pc.any(too_long).as_py():
        return values
    picked = pc.filter(values, too_long).to_pylist()
    cut = [value.encode("utf-8")[:width].decode("utf-8", "ignore") for value in picked]
    return pc.replace_with_mask(values, too_long, pa.array(cut, pa.string()))


def _sorted(table: pa.Table) -> pa.Table:
    return table.take(pc.sort_indices(table, sort_keys=[("account_code", "ascending")]))


# -- the diff -------------------------------------------------------------------------------------


def empty_state() -> pa.Table:
    return STATE_SCHEMA.empty_table()


def diff(previous_state: pa.Table | None, current: pa.Table) -> pa.Table:
    """The records to send: ``current`` (a typed ``guarantees`` table, or its ``fields``) against the
    last accepted state. ``RECORD_SCHEMA``, sorted by account code; unchanged accounts are absent."""
    cur = current if "account_code" in current.column_names else fields(current)
    cur = cur.cast(STATE_SCHEMA)
    if previous_state is None or previous_state.num_rows == 0:
        return cur.append_column("report_date_code", pa.repeat(pa.scalar(NEW), cur.num_rows)).cast(RECORD_SCHEMA)
    prev = previous_state.select(list(STATE_COLUMNS))
    prev = prev.rename_columns([c if c == "account_code" else f"prev_{c}" for c in prev.column_names])
    joined = cur.join(prev, keys="account_code", join_type="left outer")

    def changed(name: str) -> pa.ChunkedArray:
        return pc.fill_null(pc.not_equal(joined[name], joined[f"prev_{name}"]), False)

    is_new = pc.is_null(joined["prev_record_type"])
    closed = pc.fill_null(
        pc.and_(pc.equal(joined["prev_account_status"], "1"), pc.equal(joined["account_status"], "2")), False
    )
    other = changed(OTHER_TRACKED[0])
    for name in OTHER_TRACKED[1:]:
        other = pc.or_(other, changed(name))
    conditions = pc.make_struct(is_new, closed, changed("balance"), other,
                                field_names=["new", "closed", "balance", "other"])
    code = pc.case_when(conditions, NEW, CLOSED, BALANCE_CHANGED, OTHER_CHANGE)
    records = joined.select([*STATE_SCHEMA.names]).append_column("report_date_code", code)
    records = records.filter(pc.is_valid(code)).cast(RECORD_SCHEMA)
    return _sorted(records)


def apply(previous_state: pa.Table | None, records: pa.Table) -> pa.Table:
    """The state after ``records`` are accepted: their accounts replaced, every other account kept."""
    sent = records.select(STATE_SCHEMA.names).cast(STATE_SCHEMA)
    if previous_state is None or previous_state.num_rows == 0:
        return _sorted(sent)
    keep = previous_state.filter(
        pc.invert(pc.is_in(previous_state["account_code"], value_set=sent["account_code"].combine_chunks()))
    )
    return _sorted(pa.concat_tables([keep.cast(STATE_SCHEMA), sent]))


def revert(pending: pa.Table, base: pa.Table | None, account_codes: list[str]) -> pa.Table:
    """``pending`` with the given accounts put back as they were in ``base`` (dropped if new): the
    state the PBOC actually holds after it rejected those records."""
    if not account_codes:
        return pending
    rejected = pa.array(sorted(set(account_codes)), pa.string())
    keep = pending.filter(pc.invert(pc.is_in(pending["account_code"], value_set=rejected)))
    if base is None or base.num_rows == 0:
        return _sorted(keep)
    restore = base.filter(pc.is_in(base["account_code"], value_set=rejected))
    return _sorted(pa.concat_tables([keep.cast(STATE_SCHEMA), restore.cast(STATE_SCHEMA)]))


def record_counts(records: pa.Table) -> dict[str, dict[str, int]]:
    """{record type: {report-date code: n}} for the feed's description."""
    counts: dict[str, dict[str, int]] = {}
    grouped = records.group_by(["record_type", "report_date_code"]).aggregate([([], "count_all")])
    for row in grouped.to_pylist():
        counts.setdefault(row["record_type"], {})[row["report_date_code"]] = row["count_all"]
    return counts


def state_to_parquet(state: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(state.cast(STATE_SCHEMA), buffer, compression="zstd")
    return buffer.getvalue()


def state_from_parquet(data: bytes) -> pa.Table:
    return read_parquet(data).cast(STATE_SCHEMA)


# -- the file -------------------------------------------------------------------------------------


def file_name(area_code: str, report_date: dt.date, record_type: str, serial: int) -> str:
    """The 30-character name plus ``.txt``."""
    _check_area(area_code)
    if record_type not in RECORD_TYPES:
        raise FeedError(f"not a record type: {record_type!r}")
    if not 1 <= serial <= 999:
        raise FeedError(f"serial {serial} outside 1–999")
    name = f"{area_code}{report_date:%Y%m%d}{record_type}0{serial:03d}0"
    assert len(name) == NAME_CHARS
    return name + ".txt"


def feedback_name(name: str) -> str:
    """The feedback file's name: the file's, with its 30th character ``1``."""
    stem = name.removesuffix(".txt")
    return f"{stem[:NAME_CHARS - 1]}1.txt"


def render_header(record_type: str, area_code: str, created_at: dt.datetime, count: int, marker: str = "A") -> str:
    if created_at.tzinfo is None:
        raise FeedError("created_at must be timezone-aware")
    if not 0 <= count <= 9_999_999:
        raise FeedError(f"{count} records do not fit the header's 7 digits")
    header = (f"{marker}{HEADER_BYTES:03d}{record_type}{VERSION}{TEMPLATE}{area_code}"
              f"{created_at.astimezone(BEIJING):%Y%m%d%H%M%S}0{count:07d}")
    assert len(header) == HEADER_BYTES, header
    return header


def render_lines(records: pa.Table, area_code: str, report_date: dt.date) -> pa.Array:
    """One fixed-width line (with its ``\\n``) per record, column by column."""
    _check_area(area_code)
    constants = {"area_code": area_code, "report_date": f"{report_date:%Y%m%d}"}
    parts: list[pa.Array | pa.Scalar] = []
    for f in RECORD_LAYOUT:
        if f.name in constants:
            parts.append(pa.scalar(_pad_scalar(constants[f.name], f)))
        else:
            parts.append(_pad(records[f.name].combine_chunks(), f))
    parts.append(pa.scalar("\n"))
    return pc.binary_join_element_wise(*parts, "")


def render_file(
    records: pa.Table, area_code: str, report_date: dt.date, serial: int, created_at: dt.datetime
) -> tuple[str, bytes]:
    """(file name, file bytes) for records of one record type."""
    types = pc.unique(records["record_type"]).to_pylist() if records.num_rows else []
    if len(types) > 1:
        raise FeedError(f"one record type per file, got {types}")
    record_type = types[0] if types else ENTERPRISE
    name = file_name(area_code, report_date, record_type, serial)
    header = render_header(record_type, area_code, created_at, records.num_rows)
    lines = render_lines(records, area_code, report_date)
    return name, (header + "\n").encode("utf-8") + _buffer_bytes(lines)


def _pad(values: pa.Array, f: Field) -> pa.Array:
    length = pc.binary_length(values)
    longest = pc.max(length).as_py() if len(values) else 0
    if longest and longest > f.width:
        raise FeedError(f"{f.name}: a value of {longest} bytes does not fit {f.width}")
    if f.numeric:
        return pc.utf8_lpad(values, f.width, "0")  # ASCII digits: characters are bytes
    return pc.binary_join_element_wise(values, pc.binary_repeat(" ", pc.subtract(f.width, length)), "")


def _pad_scalar(value: str, f: Field) -> str:
    size = len(value.encode("utf-8"))
    if size > f.width:
        raise FeedError(f"{f.name}: {size} bytes do not fit {f.width}")
    return value.rjust(f.width, "0") if f.numeric else value + " " * (f.width - size)


def _buffer_bytes(strings: pa.Array) -> bytes:
    """The concatenated values of a string array: its data buffer between the first and last offset."""
    if len(strings) == 0:
        return b""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)[strings.offset : strings.offset + len(strings) + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    return strings.buffers()[2].slice(start, end - start).to_pybytes()


def _check_area(area_code: str) -> None:
    if not AREA_CODE.fullmatch(area_code or ""):
        raise FeedError(f"not a 14-character area code: {area_code!r}")


# -- parsing (the receiver's side, and tests) -----------------------------------------------------


def split_record(line: bytes) -> dict[str, bytes]:
    """A record line's fields as raw bytes (padding kept)."""
    return {name: line[start:end] for name, (start, end) in OFFSETS.items()}


def parse_header(line: str) -> dict[str, str]:
    values, at = {}, 0
    for name, width, _ in HEADER_LAYOUT:
        values[name] = line[at : at + width]
        at += width
    return values


# -- feedback files -------------------------------------------------------------------------------

#: A feedback line: record number (7), account code (60 bytes), report-date code (2), error code (6).
FEEDBACK_LAYOUT: tuple[tuple[str, int], ...] = (
    ("record_no", 7), ("account_code", 60), ("report_date_code", 2), ("error_code", 6),
)  # fmt: skip


def render_feedback(
    name: str, record_type: str, area_code: str, processed_at: dt.datetime, rejections: list[dict]
) -> tuple[str, bytes]:
    """The feedback file of ``name``: a header (marker ``F``, the last seven digits counting rejection
    lines, the reserved character ``1`` when any record was rejected) and a line per rejection."""
    header = render_header(record_type, area_code, processed_at, len(rejections), marker="F")
    if rejections:
        header = header[:-8] + "1" + header[-7:]
    lines = [header]
    for r in rejections:
        code = r["account_code"].encode("utf-8")[:60].decode("utf-8", "ignore")
        pad = 60 - len(code.encode("utf-8"))
        lines.append(f"{int(r['record_no']):07d}{code}{' ' * pad}{r['report_date_code']:<2.2}{r['error_code']:<6.6}")
    return feedback_name(name), ("\n".join(lines) + "\n").encode("utf-8")


def parse_feedback(data: bytes) -> tuple[dict[str, str], list[dict[str, str | int]]]:
    """(header fields, rejections) of a feedback file."""
    text = data.decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or len(lines[0]) != HEADER_BYTES or not lines[0].startswith("F"):
        raise FeedError("not a feedback file")
    header = parse_header(lines[0])
    rejections = []
    for line in lines[1:]:
        raw = line.encode("utf-8")
        rejections.append({
            "record_no": int(raw[0:7]),
            "account_code": raw[7:67].decode("utf-8", "replace").rstrip(" "),
            "report_date_code": raw[67:69].decode("ascii", "replace").strip(),
            "error_code": raw[69:75].decode("ascii", "replace").strip(),
        })  # fmt: skip
    if len(rejections) != int(header["record_count"]):
        raise FeedError("feedback file: the header's count does not match its lines")
    return header, rejections


#: Record-level error codes of a feedback file: (Chinese, English, the filing column at fault).
#: ABE004 and ABR002 are the PBOC's; ABS001/ABS002 are this layout's syntax codes.
FEEDBACK_CODES: dict[str, tuple[str, str, str | None]] = {
    "ABS001": ("记录长度或编码不符合格式", "record length or encoding does not match the layout", None),
    "ABS002": ("数据项取值不符合格式或代码表", "a field's value does not match its format or code list", None),
    "ABE004": ("身份标识号码未通过校验", "the ID number fails its check", "party_id"),
    "ABR002": ("重复记录", "duplicate record", "guarantee_id"),
}
