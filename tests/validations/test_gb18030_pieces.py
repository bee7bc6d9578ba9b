"""GB18030 is transcoded a piece of whole lines at a time (connectors/intake/readers.py): whatever the
piece size, the UTF-8 is the whole file's, and a refusal (not GB18030, implausible text, another CJK
encoding) names the same line as a reading of the whole file at once."""

from __future__ import annotations

import weakref

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.intake import IntakeLimits, readers
from connectors.intake.headers import ReadError

WHOLE = 1 << 30  # one piece: the whole file at once
SIZES = (1, 2, 3, 7, 64, WHOLE)

_lines = st.lists(st.lists(st.sampled_from([*"ab,1.", "张三", "李四", "有限公司", "\u3000", "Ⅲ", "é", "㐀"]),
                           max_size=12).map("".join), min_size=1, max_size=12).map("\n".join)


def _transcode(data: bytes, size: int, monkeypatch: pytest.MonkeyPatch, as_buffer: bool = False) -> bytes:
    monkeypatch.setattr(readers, "_TRANSCODE_PIECE", size)
    source = pa.py_buffer(data) if as_buffer else data
    return readers._transcode_gb18030(source, 0).to_pybytes()


def _refusal(data: bytes, size: int, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, int | None]:
    with pytest.raises(ReadError) as caught:
        _transcode(data, size, monkeypatch)
    return caught.value.message_zh, caught.value.message_en, caught.value.row


def _outcome(data: bytes, size: int, monkeypatch: pytest.MonkeyPatch, as_buffer: bool) -> bytes | tuple:
    try:
        return _transcode(data, size, monkeypatch, as_buffer)
    except ReadError as refused:  # e.g. three Extension A ideographs: not GB2312, refused as another encoding
        return refused.message_en, refused.row


@settings(max_examples=80, deadline=None)
@given(text=_lines, size=st.sampled_from(SIZES), as_buffer=st.booleans())
def test_pieces_make_the_whole_files_utf8(text: str, size: int, as_buffer: bool) -> None:
    data = text.encode("gb18030")
    with pytest.MonkeyPatch.context() as monkeypatch:
        whole = _outcome(data, WHOLE, monkeypatch, as_buffer)
        assert _outcome(data, size, monkeypatch, as_buffer) == whole
    assert whole == text.encode("utf-8") or isinstance(whole, tuple)


def _lines_of(*rows: bytes) -> bytes:
    return b"\n".join([b"guarantee_id,party_name", *rows]) + b"\n"


CASES = {
    "not GB18030": _lines_of(*[f"G{i},张三".encode("gb18030") for i in range(40)], b"G40,\x81\x20", b"G41,x"),
    "implausible": _lines_of(*[f"G{i},李四".encode("gb18030") for i in range(40)], b"G40,\x01", b"G41,x"),
    "another CJK encoding": _lines_of(*[f"G{i},abc".encode() for i in range(40)],
                                      *["山田太郎,鈴木一郎".encode("shift_jis")] * 3),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("size", SIZES[:-1])
def test_a_refusal_names_the_line_the_whole_reading_names(case: str, size: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _refusal(CASES[case], WHOLE, monkeypatch)
    assert whole[2] == 41  # the 42nd line: after the header and 40 good rows
    assert _refusal(CASES[case], size, monkeypatch) == whole


def test_the_gb18030_bytes_go_before_their_utf8_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handed over, a GB18030 file's own bytes are let go once transcoded: on a million rows they are a
    quarter of a gigabyte that the parse of the UTF-8 would otherwise hold beside its own."""
    class Tracked(bytearray):  # what a buffer wraps, observable by a weak reference
        pass

    raw = Tracked(("guarantee_id,party_name\n" + "G1,张三有限公司\n" * 5_000).encode("gb18030"))
    alive = weakref.ref(raw)
    handed = readers.Handover(pa.py_buffer(raw))
    del raw
    released_at_parse: list[bool] = []
    real = readers._parse_csv

    def spy(data, limits, **options):
        released_at_parse.append(alive() is None)
        return real(data, limits, **options)

    monkeypatch.setattr(readers, "_parse_csv", spy)
    table, encoding = readers.read_csv(handed, IntakeLimits())
    assert encoding == "gb18030" and table.num_rows == 5_000 and table["party_name"][0].as_py() == "张三有限公司"
    assert released_at_parse == [False, True]  # held for the UTF-8 attempt, gone for the GB18030 parse
    with pytest.raises(RuntimeError):
        handed.take()  # handed over once


@pytest.mark.parametrize("size", (64, 256))
def test_an_earlier_pieces_finding_comes_before_a_later_pieces(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A piece's checks run on another core while the next piece is decoded: when a later piece does not
    decode, an implausible character in an earlier one is still what is reported, as when each piece was
    decoded and checked before the next."""
    data = _lines_of(*[f"G{i},李四".encode("gb18030") for i in range(40)], b"G40,\x01",
                     *[f"G{i},张三".encode("gb18030") for i in range(41, 60)], b"G60,\x81\x20")
    _, message_en, row = _refusal(data, size, monkeypatch)
    assert "implausible" in message_en and row == 41


def test_the_rare_ideograph_counts_add_up_across_checked_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """The GB2312 test counts over the whole file, whichever core counted each piece: Extension A
    ideographs spread over many small pieces are refused once there are enough of them, with the line
    of the first."""
    rows = [f"G{i},abc".encode("gb18030") for i in range(30)]
    rows[12] = "G12,㐀㐁".encode("gb18030")
    rows[25] = "G25,㐂".encode("gb18030")
    data = _lines_of(*rows)
    whole = _refusal(data, WHOLE, monkeypatch)
    assert "outside GB2312" in whole[1] and whole[2] == 13
    assert _refusal(data, 32, monkeypatch) == whole
