"""The calamine fast path (connectors.intake.xlsx_fast) against the streaming reader on the same bytes:
a plain workbook must give the very same table (FMT-005 then judges the same text), and a workbook the
fast path cannot read exactly must go to the streaming reader."""

from __future__ import annotations

import contextlib
import datetime as dt
import io

import openpyxl
import pytest

from connectors.intake import xlsx
from connectors.intake.limits import IntakeLimits
from tests.hostile import MAIN, workbook, zip_members

LIMITS = IntakeLimits()


def _book(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    sheet = wb.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object, bool]:
    """(fast-path result, streaming result, whether the fast path answered)."""
    answered: list[bool] = []
    real = xlsx.read_plain

    def spy(*args: object) -> object:
        table = real(*args)
        answered.append(table is not None)
        return table

    monkeypatch.setattr(xlsx, "read_plain", spy)
    fast = xlsx.read_xlsx(data, LIMITS)
    monkeypatch.setattr(xlsx, "read_plain", lambda *args: None)
    slow = xlsx.read_xlsx(data, LIMITS)
    return fast, slow, bool(answered and answered[0])


HEADER = ["guarantee_id", "loan_amount", "fee_rate", "party_name"]


def test_plain_text_and_numbers_give_the_same_table(monkeypatch):
    rows = [HEADER,
            ["G1", "1000.00", 0.008, "张三"],
            ["G2", 12345678901234, 1.0, "0111"],
            [None, None, None, None],  # an empty row inside the data stays a row
            ["G3", -0.0, 3.14159, "a&b<c>"],
            ["G4", 100000, 1e-7, "x"],
            [None, None, None, None]]  # trailing: dropped
    fast, slow, answered = _both(_book(rows), monkeypatch)
    assert answered
    assert fast[0].equals(slow[0]) and fast[1] == slow[1] == []
    assert fast[0].column("fee_rate").to_pylist() == ["0.008", "1", "", "3.14159", "1e-07"]
    assert fast[0].num_rows == 5


@pytest.mark.parametrize("padded", ["x y", " x y "])  # calamine trims unpreserved whitespace: streaming reader
def test_inline_strings_of_the_hostile_corpus_give_the_same_table(monkeypatch, padded):
    rows = [["a", "b", "c"], ["1", "", padded], ["", "", ""], ["2", "z", ""]]
    cells = "".join(
        f'<row r="{r + 1}">' + "".join(
            f'<c r="{chr(65 + c)}{r + 1}" t="inlineStr"><is><t>{v}</t></is></c>' for c, v in enumerate(row) if v)
        + "</row>" for r, row in enumerate(rows))
    sheet = f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>{cells}</sheetData></worksheet>'.encode()
    fast, slow, answered = _both(zip_members(workbook([("s", "visible", sheet)])), monkeypatch)
    assert answered == (padded == padded.strip()) and fast[0].equals(slow[0])
    assert fast[0].column("b").to_pylist() == ["", "", "z"]


@pytest.mark.parametrize("value", [
    "=1+1",  # a formula: calamine sees only its cached value (FMT-005 needs the cell)
    dt.date(2026, 10, 31),  # a date format: the streaming reader applies the styles
    True,  # booleans
    "   ",  # text of spaces only: calamine trims it away
    12345678901234567,  # beyond a double's exact integers
])
def test_what_calamine_cannot_tell_goes_to_the_streaming_reader(monkeypatch, value):
    fast, slow, answered = _both(_book([HEADER, ["G1", value, 0.5, "x"]]), monkeypatch)
    assert not answered
    assert fast[0].equals(slow[0]) and fast[1] == slow[1]


def test_padded_text_beside_number_cells_goes_to_the_streaming_reader(monkeypatch):
    # calamine gives an unparsable number cell as text: padded text could be one (" 1" reads as 1)
    fast, slow, answered = _both(_book([HEADER, ["G1", 5, 0.5, " 张三 "]]), monkeypatch)
    assert not answered and fast[0].equals(slow[0])


def test_a_number_cell_python_parses_but_calamine_does_not(monkeypatch):
    sheet = (f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>'
             '<row r="2"><c r="A2"><v>1_000</v></c></row></sheetData></worksheet>').encode()
    fast, slow, answered = _both(zip_members(workbook([("s", "visible", sheet)])), monkeypatch)
    assert not answered and fast[0].equals(slow[0])
    assert fast[0].column("a").to_pylist() == ["1000"]


def test_value_beyond_the_header_is_the_streaming_readers_finding(monkeypatch):
    data = _book([["a", "b"], ["1", "2", "3"]])
    with pytest.raises(xlsx.XlsxError, match="row 1 has a value beyond the header"):
        xlsx.read_xlsx(data, LIMITS)


@pytest.mark.parametrize("cells", [
    '<c r="A5" t="inlineStr"><is><t>x</t></is></c>',  # a reference outside its row
    '<c r="B2" t="inlineStr"><is><t>x</t></is></c><c r="A2" t="inlineStr"><is><t>y</t></is></c>',  # out of order
    '<c r="ZZZ2" t="inlineStr"><is><t>x</t></is></c>',  # three letters: the dense rectangle would be a bomb
])
def test_cells_calamine_would_place_elsewhere_go_to_the_streaming_reader(monkeypatch, cells):
    sheet = (f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" t="inlineStr"><is><t>b</t></is></c>'
             f'</row><row r="2">{cells}</row></sheetData></worksheet>').encode()
    data = zip_members(workbook([("s", "visible", sheet)]))
    answered: list[object] = []
    real = xlsx.read_plain
    monkeypatch.setattr(xlsx, "read_plain", lambda *args: answered.append(real(*args)) or answered[-1])
    with contextlib.suppress(xlsx.XlsxError):  # the streaming reader's finding, tested in tests/hostile.py
        xlsx.read_xlsx(data, LIMITS)
    assert answered == [None]


@pytest.mark.parametrize(("strings", "fast_path"), [
    (['<t>a</t>', '<t xml:space="preserve">x </t>', "<t>y</t>"], True),  # preserved: calamine keeps it
    (['<t>a</t>', "<t>x </t>", "<t>y</t>"], False),  # unpreserved: calamine trims it
    (['<t>a</t>', '<t xml:space="preserve">  </t>', "<t>y</t>"], False),  # blank: calamine drops it
    (['<t>a</t>', "<r><t>x</t></r><r><t>z</t></r>", "<t>y</t>"], True),  # rich text runs
])
def test_shared_strings_give_the_same_table(monkeypatch, strings, fast_path):
    sst = (f'<?xml version="1.0"?><sst xmlns="{MAIN}">' + "".join(f"<si>{s}</si>" for s in strings)
           + "</sst>").encode()
    sheet = (f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>'
             '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'
             '<row r="3"><c r="A3" t="s"><v>2</v></c></row></sheetData></worksheet>').encode()
    fast, slow, answered = _both(zip_members(workbook([("s", "visible", sheet)], sst)), monkeypatch)
    assert answered == fast_path and fast[0].equals(slow[0])
