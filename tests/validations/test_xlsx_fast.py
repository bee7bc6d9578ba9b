"""The column-wise reader of plain sheets (connectors.intake.xlsx_fast) against the streaming reader on
the same bytes: every workbook must give the very same table or the very same error (FMT-005 and
FMT-003 then judge the same text), and a workbook outside the forms the fast reader knows must go to
the streaming reader."""

from __future__ import annotations

import datetime as dt
import io
import mmap
import random
import re
import threading

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.intake import xlsx, xlsx_fast
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


def _outcome(data: bytes) -> object:
    try:
        table, formulas = xlsx.read_xlsx(data, LIMITS)
    except xlsx.XlsxError as exc:
        return ("error", exc.rule_id, exc.message_en, exc.row, exc.column)
    return ("table", table.column_names, table.to_pydict(), formulas)


def _both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object, bool]:
    """(outcome with the fast reader, outcome of the streaming reader alone, whether the fast one answered)."""
    answered: list[bool] = []
    real = xlsx.read_plain

    def spy(*args: object) -> object:
        table = real(*args)
        answered.append(table is not None)
        return table

    monkeypatch.setattr(xlsx, "read_plain", spy)
    fast = _outcome(data)
    monkeypatch.setattr(xlsx, "read_plain", lambda *args: None)
    slow = _outcome(data)
    monkeypatch.undo()
    return fast, slow, bool(answered and answered[0])


def _sheet(body: str, sst: list[str] | None = None) -> bytes:
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{body}</sheetData></worksheet>'
    strings = None
    if sst is not None:
        strings = (f'<?xml version="1.0"?><sst xmlns="{MAIN}">' + "".join(f"<si>{s}</si>" for s in sst)
                   + "</sst>").encode()
    return zip_members(workbook([("s", "visible", sheet.encode())], strings))


HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" t="inlineStr"><is><t>b</t></is></c></row>'


HEADER = ["guarantee_id", "loan_amount", "fee_rate", "party_name"]


def test_openpyxl_workbook_with_numbers_dates_and_booleans_is_read_alike(monkeypatch):
    rows = [HEADER,
            ["G1", "1000.00", 0.008, "张三"],
            ["G2", 12345678901234, 1.0, "0111"],
            [None, None, None, None],  # an empty row inside the data stays a row
            ["G3", -0.0, 3.14159, "a&b<c>"],
            ["G4", 100000, 1e-7, " padded "],
            ["G5", dt.date(2026, 10, 31), True, "   "],  # a date-formatted cell, a boolean, spaces only
            ["G6", 12345678901234567, 0.1 + 0.2, dt.datetime(2026, 1, 2, 3, 4, 5)],
            [None, None, None, None]]  # trailing: dropped
    fast, slow, answered = _both(_book(rows), monkeypatch)
    assert answered and fast == slow
    columns = fast[2]
    assert columns["fee_rate"][:6] == ["0.008", "1", "", "3.14159", "1e-07", "true"]
    assert columns["loan_amount"][3:7] == ["0", "100000", "2026-10-31", "1.234567890123457e+16"]
    assert columns["party_name"][3:7] == ["a&b<c>", " padded ", "   ", "2026-01-02T03:04:05"]
    assert len(columns["guarantee_id"]) == 7


@pytest.mark.parametrize("value", ["1_000", " 7 ", "+5", "007", "1.50", "1e3", "-0", "0.00001", "1E+20",
                                   "123456789012345678901", "12.3456789012345678", "nan", "0x1F", "١٢"])
def test_numbers_written_otherwise_give_the_streaming_readers_text(monkeypatch, value):
    body = HEADER_ROW + f'<row r="2"><c r="A2"><v>{value}</v></c><c r="B2" t="n"><v>{value}</v></c></row>'
    fast, slow, answered = _both(_sheet(body), monkeypatch)
    assert answered and fast == slow


@pytest.mark.parametrize("strings", [
    ["<t>a</t>", '<t xml:space="preserve">x </t>', "<t>y</t>"],
    ["<t>a</t>", "<t> x </t>", "<t>&lt;&amp;&gt;&quot;&apos;</t>"],
    ["<t>a</t>", "<t></t>", "<t>重庆</t>"],
])
def test_plain_shared_strings_are_read_alike(monkeypatch, strings):
    body = ('<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'
            '<row r="3"><c r="A3" t="s"><v>2</v></c></row>')
    fast, slow, answered = _both(_sheet(body, strings), monkeypatch)
    assert answered and fast == slow


@pytest.mark.parametrize(("body", "sst"), [
    ('<row r="2"><c r="A2"><f>1+1</f><v>2</v></c></row>', None),  # a formula: FMT-005 needs the cell
    ('<row r="2"><c r="A2" t="s"><v>0</v></c></row>', ["<r><t>x</t></r><r><t>z</t></r>"]),  # rich text
    ('<row r="2"><c r="A2" t="s"><v>0</v></c></row>', ['<t>x</t><rPh sb="0" eb="1"><t>y</t></rPh>']),
    ('<row r="2"><x:c r="A2" xmlns:x="urn:x"><x:v>1</x:v></x:c></row>', None),  # a prefixed cell
    ('<row r="2"><!-- note --><c r="A2"><v>1</v></c></row>', None),
    ('<row r="2"><c r="A2" t="inlineStr"><is><t>a&#65;</t></is></c></row>', None),  # a character reference
    ('<row r="2"><c r="A2" t="inlineStr"><is><t>a\r\nb</t></is></c></row>', None),  # XML turns CR LF into LF
    ('<row r="2"><c r="A2" t="s" s="0"><v>0</v></c></row>', ["<t>x</t>"]),  # attributes in another order
    ('<row r="2"><c r="A2" t = "s"><v>0</v></c></row>', ["<t>x</t>"]),
    ("<row r=\"2\"><c r=\"A2\" t='s'><v>0</v></c></row>", ["<t>x</t>"]),
    ('<row r="2"><c r="A2" cm="1"><v>1</v></c></row>', None),  # an attribute Excel adds for dynamic arrays
    ('<row r="2"><c r="B2"><v>1</v></c><c r="A2"><v>2</v></c></row>', None),  # out of order
    ('<row r="2"><c r="A5"><v>1</v></c></row>', None),  # a reference outside its row
    ('<row r="2"><c r="A02"><v>1</v></c></row>', None),
    ('<row r="2"><c r="A21"><v>1</v></c></row>', None),  # the row's digits, then more
    ('<row r="12"><c r="A1"><v>1</v></c></row>', None),  # a prefix of the row's digits
    ('<row r="2"><c r="A2 "><v>1</v></c></row>', None),
    ('<row r="2"><c r="ZZZ2"><v>1</v></c></row>', None),
    ('<row r="2"><c r="C2"><v>1</v></c></row>', None),  # a value beyond the header
    ('<row r="2"></row><c r="A3"><v>1</v></c>', None),  # a cell outside any row
    ('<row r="2"><v>1</v><c r="A2"><v>2</v></c></row>', None),  # a value outside any cell
    ('<row r="2"><c r="A2" t="s"><v>7</v></c></row>', ["<t>x</t>"]),  # no such shared string
    ('<row r="2"><c r="A2" t="s"><v>-1</v></c></row>', ["<t>x</t>"]),
    ('<row r="2"><c r="A2"><v>1</c></v></row>', None),  # malformed inside a cell
    ('<row r="2" spans=1:2><c r="A2"><v>1</v></c></row>', None),  # malformed around the cells
    ('<row r="2"><c r="A2" t="inlineStr"><is><t>a&nbsp;b</t></is></c></row>', None),  # an undeclared entity
    ('<row r="2"><c r="A2" t="inlineStr"><is><t>a\x01b</t></is></c></row>', None),  # a control character
    ('<row r="2"><c r="A2" t="inlineStr"><is><t>a]]>b</t></is></c></row>', None),
    ('<row r="2"><c r="A2" t="e"><v>#N/A</v></c><c r="B2" t="b"><v>1</v></c></row>', None),
    ('<row r="2"><c r="A2" t="d"><v>2026-10-31T00:00:00</v></c></row>', None),
    ('<row r="2"><c r="A2"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>', None),  # a row twice
    ('<row r="3"><c r="A3"><v>1</v></c></row><row r="1048577"></row>', None),
])
def test_every_other_workbook_gives_the_streaming_readers_outcome(monkeypatch, body, sst):
    fast, slow, answered = _both(_sheet(HEADER_ROW + body, sst), monkeypatch)
    assert fast == slow
    plain = body.endswith(('t="b"><v>1</v></c></row>', 't="d"><v>2026-10-31T00:00:00</v></c></row>'))
    assert answered == plain  # error, boolean and date cells are read here through cell_text


def test_invalid_utf8_in_a_value_is_the_streaming_readers_finding(monkeypatch):
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode() + HEADER_ROW.encode()
             + b'<row r="2"><c r="A2" t="inlineStr"><is><t>\xff\xfe</t></is></c></row></sheetData></worksheet>')
    fast, slow, answered = _both(zip_members(workbook([("s", "visible", sheet)])), monkeypatch)
    assert not answered and fast == slow and fast[0] == "error"


def test_a_sheet_over_several_pieces_is_read_alike(monkeypatch):
    monkeypatch.setattr(xlsx_fast, "_PIECE", 512)  # a piece of whole rows every ~512 bytes
    rng = random.Random(7)
    rows = [HEADER_ROW]
    for r in range(2, 400):
        if rng.random() < 0.1:
            continue  # a gap: empty rows inside the data
        cells = f'<c r="A{r}" t="inlineStr"><is><t>G{r}&amp;x</t></is></c>'
        if rng.random() < 0.7:
            cells += f'<c r="B{r}"><v>{rng.randint(0, 10**6) / 100}</v></c>'
        rows.append(f'<row r="{r}">{cells}</row>')
    rows.append('<row r="500"></row><row r="501"><c r="A501"/></row>')  # trailing empty rows: dropped
    data = _sheet("".join(rows))
    fast, slow, answered = _both(data, monkeypatch)
    assert answered and fast == slow
    assert len(fast[2]["a"]) == 398


@pytest.mark.parametrize("scatter", [1, 1 << 22])  # a column at a time, or all at once
def test_a_sparse_sheet_is_placed_a_few_columns_at_a_time_alike(monkeypatch, scatter):
    """A piece's values are scattered into an index of at most ``_SCATTER`` entries: rows far apart (a
    piece spanning many empty rows) are placed a column or a few at a time, with the same table."""
    monkeypatch.setattr(xlsx_fast, "_SCATTER", scatter)
    rows = [HEADER_ROW]
    for r in (2, 3, 40, 41, 300):
        rows.append(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>G{r}</t></is></c><c r="B{r}"><v>{r}.5</v></c></row>')
    fast, slow, answered = _both(_sheet("".join(rows)), monkeypatch)
    assert answered and fast == slow
    assert fast[2]["a"][:3] == ["G2", "G3", ""] and fast[2]["b"][-1] == "300.5" and len(fast[2]["a"]) == 299


_TEXTS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(
    " &<>\"'\t\n_x000D_"), max_size=12)
_NUMBERS = st.one_of(st.integers(-10**20, 10**20).map(str), st.floats(allow_nan=False, allow_infinity=False).map(repr),
                     st.from_regex(r"[ +-]?[0-9]{1,6}(\.[0-9]{0,6})?([eE][+-]?[0-9]{1,3})? ?", fullmatch=True))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["inlineStr", "n", "", "str", "s", "b"]), _TEXTS, _NUMBERS), min_size=1,
                max_size=30))
def test_generated_cells_are_read_alike(monkeypatch, cells):
    """Property: on generated text and number cells of every type, both readers agree exactly."""
    strings, rows = [], [HEADER_ROW]
    for r, (kind, text, number) in enumerate(cells, start=2):
        if kind == "inlineStr":
            cell = f'<c r="A{r}" t="inlineStr"><is><t xml:space="preserve">{_escape(text)}</t></is></c>'
        elif kind == "s":
            strings.append(f'<t xml:space="preserve">{_escape(text)}</t>')
            cell = f'<c r="A{r}" t="s"><v>{len(strings) - 1}</v></c>'
        elif kind == "str":
            cell = f'<c r="A{r}" t="str"><v>{_escape(text)}</v></c>'
        else:
            cell = f'<c r="A{r}"{f" t={chr(34)}{kind}{chr(34)}" if kind else ""}><v>{number}</v></c>'
        rows.append(f'<row r="{r}">{cell}<c r="B{r}"><v>{number}</v></c></row>')
    fast, slow, answered = _both(_sheet("".join(rows), strings or None), monkeypatch)
    assert answered and fast == slow


def test_pieces_inflated_ahead_arrive_in_order_and_errors_where_they_happened() -> None:
    """The sheet is inflated on a thread of its own, a few pieces ahead: the pieces come in order, the
    producer's error comes where its piece was expected, and a reader that stops early stops it."""
    def pieces(n: int, fail_at: int | None = None):
        for i in range(n):
            if i == fail_at:
                raise xlsx_fast._NotPlain
            yield f"piece {i}".encode()

    assert list(xlsx_fast._ahead(pieces(50))) == [f"piece {i}".encode() for i in range(50)]
    seen = []
    with pytest.raises(xlsx_fast._NotPlain):
        for piece in xlsx_fast._ahead(pieces(50, fail_at=7)):
            seen.append(piece)
    assert len(seen) == 7
    before = {t for t in threading.enumerate() if t.name == "xlsx-inflate"}
    reader = xlsx_fast._ahead(pieces(10_000))
    assert next(reader) == b"piece 0"
    reader.close()  # the reader stops after one piece of 10,000
    assert not [t for t in threading.enumerate() if t.name == "xlsx-inflate" and t not in before]


class _ChunkedPart:
    """A part's bytes handed out in chunks of the given sizes, as the workbook inflates them."""

    limits = LIMITS

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.sizes = data, sizes

    def has(self, name: str) -> bool:
        return True

    def stream(self, name: str):
        at = 0
        for size in self.sizes:
            if at >= len(self.data):
                return
            yield self.data[at: at + size]
            at += size
        if at < len(self.data):
            yield self.data[at:]


@given(st.lists(st.integers(1, 3000), min_size=1, max_size=40), st.lists(st.integers(0, 2500), min_size=1,
                                                                          max_size=60))
@settings(max_examples=60, deadline=None)
def test_pieces_hold_the_parts_bytes_in_order_each_in_a_mapping_of_its_own(chunks, row_lengths) -> None:
    """Every piece holds its bytes while it is held, whatever the chunks and however long the rows
    (longer than a piece's mapping too): the mappings are reused only after their pieces are gone."""
    rows = [b"<row " + b"x" * length for length in row_lengths]
    part = b'<?xml version="1.0"?><sheetData>' + b"".join(rows)
    original = (xlsx_fast._PIECE, xlsx_fast._CHUNK_ROOM)
    xlsx_fast._PIECE, xlsx_fast._CHUNK_ROOM = 1024, 512
    try:
        held = list(xlsx_fast._pieces(_ChunkedPart(part, chunks), "sheet", b"<row "))
        # read as the reader does, each piece dropped once read: its mapping is reused for later pieces
        assert b"".join(bytes(p.data[: p.n]) for p in xlsx_fast._pieces(_ChunkedPart(part, chunks), "s", b"<row ")) \
            == part
    finally:
        xlsx_fast._PIECE, xlsx_fast._CHUNK_ROOM = original
    assert b"".join(piece.data[: piece.n] for piece in held) == part
    assert len({id(piece.data) for piece in held}) == len(held)
    for piece in held:
        assert piece.data[piece.n: piece.n + xlsx_fast._PAD] == xlsx_fast._SENTINEL
    for piece in held[1:]:
        assert piece.data[:5] == b"<row "


def test_a_row_longer_than_the_largest_piece_is_left_to_the_streaming_reader(monkeypatch) -> None:
    monkeypatch.setattr(xlsx_fast, "_PIECE", 1024)
    monkeypatch.setattr(xlsx_fast, "_CHUNK_ROOM", 512)
    monkeypatch.setattr(xlsx_fast, "_MAX_PIECE", 4096)
    part = b'<?xml version="1.0"?><sheetData><row ' + b"x" * 4000 + b"<row "
    assert b"".join(p.data[: p.n] for p in xlsx_fast._pieces(_ChunkedPart(part, [1000] * 5), "s", b"<row ")) == part
    longer = part.replace(b"x" * 4000, b"x" * 5000)  # a row of 5,005 bytes: over the largest piece
    with pytest.raises(xlsx_fast._NotPlain):
        list(xlsx_fast._pieces(_ChunkedPart(longer, [1000] * 6), "s", b"<row "))


def test_a_pieces_mapping_is_reused_once_the_piece_is_gone_and_nothing_reads_it() -> None:
    mappings = xlsx_fast._Mappings(4096)
    mapping = mappings.take(0)
    piece = xlsx_fast._Piece(mapping, 0)
    mappings.give(mapping, piece)
    assert mappings.take(0) is not mapping  # its piece is held
    view = np.frombuffer(mapping, dtype=np.uint8)
    del piece
    assert mappings.take(0) is not mapping  # a view reads it still
    del view
    assert mappings.take(len(mapping) + 1) is not mapping  # too small
    assert mappings.take(0) is mapping


def _piece_of(text: bytes) -> xlsx_fast._Piece:
    """A piece of ``text``, followed by the sentinel, as ``_pieces`` leaves it."""
    data = mmap.mmap(-1, len(text) + xlsx_fast._PAD)
    data[: len(text)] = text
    data[len(text):] = xlsx_fast._SENTINEL
    return xlsx_fast._Piece(data, len(text))


def _row_by_row(pieces):
    """``_pieces`` with each piece cut again before every row: a piece per row."""
    def cut(book, part, at):
        for piece in pieces(book, part, at):
            assert piece.data[piece.n: piece.n + xlsx_fast._PAD] == xlsx_fast._SENTINEL
            text = piece.data[: piece.n]
            bounds = [m.start() for m in re.finditer(re.escape(at), text)]
            starts = sorted({0, *bounds})
            yield from (_piece_of(text[i:j]) for i, j in zip(starts, [*starts[1:], len(text)], strict=True) if j > i)
    return cut


def test_a_sheet_read_in_many_pieces_is_a_chunk_per_sixteen_pieces(monkeypatch) -> None:
    """Pieces of one row each (one take per block of columns, each column over its own bytes): the
    table equals the streaming reader's, and each column's chunks are joined sixteen pieces at a time
    (while the next are read), each chunk's offsets starting at 0, as phase 1's fast paths read them."""

    def pieces_of_one_row() -> None:
        monkeypatch.setattr(xlsx_fast, "_pieces", _row_by_row(xlsx_fast._pieces))

    pieces_of_one_row()
    rows = [HEADER_ROW]
    for r in range(2, 400):
        rows.append(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>名{r}</t></is></c>'
                    + (f'<c r="B{r}"><v>{r}.25</v></c>' if r % 3 else "") + "</row>")
    data = _sheet("".join(rows))
    fast, slow, answered = _both(data, monkeypatch)
    assert answered and fast == slow
    pieces_of_one_row()  # again: _both undid it
    table, _ = xlsx.read_xlsx(data, LIMITS)
    assert xlsx_fast._JOIN_PIECES == 16
    for column in table.columns:
        assert [len(chunk) for chunk in column.chunks] == [16] * 24 + [14]  # 398 data rows, one a piece
        for chunk in column.chunks:
            assert chunk.offset == 0 and chunk.null_count == 0
            assert int.from_bytes(chunk.buffers()[1].to_pybytes()[:4], "little") == 0
    assert table["b"].to_pylist()[:3] == ["2.25", "", "4.25"] and table["a"][-1].as_py() == "名399"


def test_the_streaming_readers_column_letters_are_bijective_base_26() -> None:
    """A..Z, AA..ZZ, AAA..XFD: each name's index from the bijective base-26 reading of its letters."""
    from connectors.intake.xlsx import MAX_COLUMN, _column_letters

    letters = _column_letters()
    assert len(letters) == MAX_COLUMN and letters["A"] == 0 and letters["Z"] == 25 and letters["AA"] == 26
    assert letters["XFD"] == MAX_COLUMN - 1 and "XFE" not in letters
    for name, index in letters.items():
        value = 0
        for char in name:
            value = 26 * value + ord(char) - 64
        assert value - 1 == index
