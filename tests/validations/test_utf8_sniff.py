"""A CSV whose first lines are not UTF-8 goes to the GB18030 reading without a whole UTF-8 parse
failing first; what it reads as, or which finding it gets, is the same either way."""

from __future__ import annotations

import pyarrow as pa
import pytest

from connectors.intake import IntakeLimits, readers
from connectors.intake.headers import ReadError

HEADER = "guarantee_id,party_name,amount\n"


def _read(data: bytes, monkeypatch: pytest.MonkeyPatch, sniff: bool) -> tuple[list, str] | tuple[str, str | None]:
    if not sniff:
        monkeypatch.setattr(readers, "_SNIFF_BYTES", 0)  # nothing leading is looked at: the parse decides
    try:
        table, encoding = readers.read_csv(pa.py_buffer(data), IntakeLimits())
    except ReadError as exc:
        return exc.rule_id, exc.row
    finally:
        monkeypatch.undo()
    return table.to_pylist(), encoding


CASES = {
    "gbk from the first line": (HEADER + "G1,张三有限公司,1.00\n" * 3 + "G2,李四,2.00\n").encode("gb18030"),
    "gbk after a megabyte of ascii": (HEADER + "G1,abc,1.00\n" * 100_000 + "G2,张三,2.00\n").encode("gb18030"),
    "utf-8": (HEADER + "G1,张三有限公司,1.00\n" * 100_000).encode("utf-8"),
    "neither": HEADER.encode() + b"G1,\xff\xfe\x80\x80,1.00\n" * 3,
    "shift-jis": (HEADER + "G1,山田太郎株式会社,1.00\n" * 5).encode("shift_jis"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_sniff_changes_nothing_but_the_time(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = CASES[case]
    assert _read(data, monkeypatch, sniff=True) == _read(data, monkeypatch, sniff=False)


def test_leading_lines_never_cut_a_character() -> None:
    text = ("G1,张三\n" * 200_000).encode("utf-8")
    head = readers._leading_lines(pa.py_buffer(text), 1 << 20)
    assert head.endswith(b"\n") and len(head) <= 1 << 20 and readers._utf8_ok(head)
    assert readers._leading_lines(pa.py_buffer(b"x" * 100), 1 << 20) == b"x" * 100
    assert readers._leading_lines(pa.py_buffer(b"x" * (2 << 20)), 1 << 20) == b""  # no line end: nothing judged


def test_a_gbk_ledger_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parses = []
    real = readers._arrow_csv
    monkeypatch.setattr(readers, "_arrow_csv", lambda *a, **k: parses.append(1) or real(*a, **k))
    table, encoding = readers.read_csv(pa.py_buffer(CASES["gbk from the first line"]), IntakeLimits())
    assert encoding == "gb18030" and table.num_rows == 4 and len(parses) == 1  # the UTF-8 text it became


def test_fields_are_text_checked_once_for_the_whole_file() -> None:
    """Arrow reads the fields as bytes; the file was checked as UTF-8 as a whole, so the columns are
    text, and a byte that is not UTF-8 deep inside a quoted field still sends the file to GB18030."""
    table, encoding = readers.read_csv(pa.py_buffer(CASES["utf-8"]), IntakeLimits())
    assert encoding == "utf-8" and all(column.type == pa.string() for column in table.columns)
    assert table.column("party_name")[0].as_py() == "张三有限公司"
    quoted = (HEADER + "G1,abc,1.00\n" * 100_000 + 'G2,"说""明",2.00\n').encode("gb18030")
    table, encoding = readers.read_csv(pa.py_buffer(quoted), IntakeLimits())
    assert encoding == "gb18030" and table.column("party_name")[-1].as_py() == '说"明'
    with pytest.raises(ReadError) as refused:
        readers.read_csv(pa.py_buffer(HEADER.encode() + b"G1,abc,1.00\n" * 100_000 + b'G2,"x""\xff\xfe",2\n'),
                         IntakeLimits())
    assert refused.value.rule_id == "FMT-003" and refused.value.row == 100_001


@pytest.mark.parametrize("where", ["nowhere", "first part", "just before the cut", "just after the cut",
                                   "second part", "last byte"])
def test_a_large_file_checked_in_two_parts_is_utf8_exactly_when_whole(where: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Two parts cut after a line feed near the middle: a bad byte anywhere, on either side of the cut
    or a character cut short at the very end, is still found; a clean file is still UTF-8."""
    monkeypatch.setattr(readers, "_SECOND_CORE", 1 << 16)
    line = "G1,张三有限公司,1.00\n".encode()
    data = bytearray(HEADER.encode() + line * 20_000)
    cut = len(data) // 2 + data[len(data) // 2:].find(b"\n") + 1
    at = {"first part": 100, "just before the cut": cut - 2, "just after the cut": cut,
          "second part": len(data) - 100, "last byte": None}.get(where)
    if where == "last byte":
        data += "张".encode()[:2]  # a character cut short
    elif at is not None:
        data[at] = 0xFF
    assert readers._utf8_ok(pa.py_buffer(bytes(data))) == (where == "nowhere")
    assert readers._utf8_ok(bytes(data)) == (where == "nowhere")
