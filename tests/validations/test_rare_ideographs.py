"""The GB2312 test of a GB18030 reading, counted on UTF-8 bytes, against a count character by character."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.intake.encoding import _CJK, RARE_MIN, _gb2312_lut, rare_ideographs

_chars = st.sampled_from([*"ab,\n1.张三李四有限公司", "嶳", "揷", "懢", "榊", "㐀", "鿿", "\u3000", "々", "ꀀ", "é", "😀"])


def _reference(text: str) -> tuple[int, int, int] | None:
    lut = _gb2312_lut()
    positions = [i for i, c in enumerate(text) if _CJK[0] <= ord(c) < _CJK[1]]
    rare = [i for i in positions if not lut[ord(text[i]) - _CJK[0]]]
    if len(rare) >= RARE_MIN and 2 * len(rare) > len(positions):
        return len(rare), len(positions), rare[0]
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(_chars, max_size=60).map("".join), st.integers(1, 40))
def test_byte_count_is_the_character_count(text: str, chunk: int) -> None:
    assert rare_ideographs(text, text.encode("utf-8"), chunk=chunk) == _reference(text)


def test_shift_jis_read_as_gb18030_is_refused_where_it_starts() -> None:
    text = "ab,山田\n" + "山田太郎".encode("shift_jis").decode("gb18030")
    assert rare_ideographs(text, text.encode("utf-8")) == _reference(text) is not None
