"""Refusing mojibake: text that decodes, but not as what was written.

The spec's encodings are detected, never guessed (UTF-8, UTF-8 with BOM, GB18030/GBK). Two readings
decode without error and still garble the names, so they are refused (FMT-003) rather than accepted:

- **Another CJK encoding read as GB18030.** GB18030 maps almost every byte pair to a character, so a
  Shift-JIS file decodes "successfully" into rare ideographs (山田太郎 becomes 嶳揷懢榊). A Chinese
  filing's ideographs are overwhelmingly in GB2312 (the 6,763 common characters); Japanese text read
  this way lands almost entirely outside it. A GB18030 reading is refused when at least
  ``RARE_MIN`` ideographs, and more than half of them, are outside GB2312.
- **UTF-8 that was once read as Latin-1 (or Windows-1252) and saved again.** Every such character
  becomes two to four characters in U+0080..U+00FF (é becomes Ã©, 张 becomes å¼ ); the sequence,
  encoded back to those bytes, is valid UTF-8. Legitimate text (Société, Müller) does not form such
  sequences.
"""

from __future__ import annotations

import contextlib
import functools
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

RARE_MIN = 3
_CJK = (0x3400, 0xA000)  # CJK Extension A and the Unified Ideographs block

# Windows-1252's characters for the bytes 0x80..0x9F (where Latin-1 has C1 controls)
_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
_CONT = "\u0080-\u00bf" + _CP1252_HIGH  # what a UTF-8 continuation byte becomes
_MOJIBAKE = f"[\u00c2-\u00df][{_CONT}]|[\u00e0-\u00ef][{_CONT}]{{2}}|[\u00f0-\u00f4][{_CONT}]{{3}}"
_MOJIBAKE_RE = re.compile(_MOJIBAKE)
MOJIBAKE_RE2 = "".join(f"\\x{{{ord(c):x}}}" if ord(c) > 0x7F else c for c in _MOJIBAKE)  # for Arrow (RE2)


class Mojibake(ValueError):
    def __init__(self, column: str | None, row: int | None, value: str, repaired: str) -> None:
        super().__init__(value)
        self.column, self.row, self.value, self.repaired = column, row, value, repaired


# Code points a GB18030 filing plausibly holds (inclusive ranges): tab, LF, CR, ASCII text, Latin-1
# punctuation, general and CJK punctuation, Roman numerals (Ⅰ级资产), CJK ideographs, full-width forms.
PLAUSIBLE = ((0x09, 0x0A), (0x0D, 0x0D), (0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2160, 0x217F),
             (0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF))


@functools.cache
def _gb2312_lut() -> np.ndarray:
    """For each code point of the CJK range: is it one of GB2312's characters? GB2312 is one code pair
    (rows and cells 0xA1..0xFE) per character, so decoding every pair of a row at once lists its
    characters; a row with undefined cells is decoded pair by pair."""
    lut = np.zeros(_CJK[1] - _CJK[0], dtype=bool)
    chars: list[str] = []
    for row in range(0xA1, 0xFF):
        pairs = [bytes((row, cell)) for cell in range(0xA1, 0xFF)]
        try:
            chars.append(b"".join(pairs).decode("gb2312"))
        except UnicodeDecodeError:
            for pair in pairs:
                with contextlib.suppress(UnicodeDecodeError):
                    chars.append(pair.decode("gb2312"))
    codes = np.frombuffer("".join(chars).encode("utf-32-le"), dtype=np.uint32)
    codes = codes[(codes >= _CJK[0]) & (codes < _CJK[1])]
    lut[codes - _CJK[0]] = True
    return lut


@functools.cache
def _plausible_lut() -> np.ndarray:
    """For each BMP code point, and one more entry standing for every code point above it: plausible?"""
    lut = np.zeros(0x10001, dtype=bool)
    for low, high in PLAUSIBLE:
        lut[low: high + 1] = True
    return lut


def _implausible(codes: np.ndarray) -> np.ndarray:
    return ~_plausible_lut()[np.minimum(codes, 0x10000)]


_IMPLAUSIBLE_RE2 = "[^" + "".join(f"\\x{{{low:x}}}-\\x{{{high:x}}}" for low, high in PLAUSIBLE) + "]"


def first_implausible(text: str, utf8: bytes, chunk: int = 1 << 22) -> int:
    """Offset of the first character outside ``PLAUSIBLE``, or -1. Arrow's RE2 answers whether there is
    one over the UTF-8 bytes (without copying them); only then does numpy find where."""
    offsets = pa.array([0, len(utf8)], pa.int64()).buffers()[1]
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(utf8)])
    if not pc.match_substring_regex(whole, _IMPLAUSIBLE_RE2)[0].as_py():
        return -1
    for start in range(0, len(text), chunk):
        codes = np.frombuffer(text[start: start + chunk].encode("utf-32-le"), dtype=np.uint32)
        odd = _implausible(codes)
        if odd.any():
            return start + int(np.argmax(odd))
    return -1


def rare_ideographs(text: str, utf8: bytes, chunk: int = 1 << 24) -> tuple[int, int, int] | None:
    """(ideographs outside GB2312, all ideographs, offset in ``text`` of the first outside one) when the
    text does not read as Chinese (see the module's docstring), else None. Counted with numpy on the
    text's UTF-8 bytes (``utf8``), where every ideograph of the range is three bytes led by E3..E9, in
    chunks: no copy of the text four bytes a character."""
    rare, total, first = count_ideographs(utf8, chunk)
    if not reads_as_other_cjk(rare, total):
        return None
    return rare, total, characters_before(utf8, first)


def count_ideographs(utf8: bytes | pa.Buffer, chunk: int = 1 << 24) -> tuple[int, int, int]:
    """(ideographs outside GB2312, all ideographs, byte offset of the first outside one or -1) in valid
    UTF-8: the counts of a text read in pieces add up."""
    lut = _gb2312_lut()
    data = np.frombuffer(utf8, dtype=np.uint8)
    rare = total = 0
    first = -1
    for start in range(0, len(data), chunk):
        part = data[start: start + chunk]
        leads = start + np.flatnonzero((part >= 0xE3) & (part <= 0xE9))  # valid UTF-8: two bytes follow each
        codes = ((data[leads].astype(np.int32) & 0x0F) << 12 | (data[leads + 1].astype(np.int32) & 0x3F) << 6
                 | (data[leads + 2].astype(np.int32) & 0x3F))
        cjk = (codes >= _CJK[0]) & (codes < _CJK[1])
        outside = ~lut[codes[cjk] - _CJK[0]]
        total += int(np.count_nonzero(cjk))
        n = int(np.count_nonzero(outside))
        if n and first < 0:
            first = int(leads[cjk][int(np.argmax(outside))])
        rare += n
    return rare, total, first


def reads_as_other_cjk(rare: int, total: int) -> bool:
    """The verdict of the GB2312 test (see the module's docstring) on the counts of a whole file."""
    return rare >= RARE_MIN and 2 * rare > total


def characters_before(utf8: bytes | pa.Buffer, position: int) -> int:
    """How many characters the valid UTF-8 holds before a byte offset."""
    return int(np.count_nonzero((np.frombuffer(utf8, dtype=np.uint8, count=position) & 0xC0) != 0x80))


def repaired(text: str) -> str | None:
    """The text as written, when it is UTF-8 read as Latin-1/Windows-1252 (see the docstring), else None."""
    found = False

    def fix(match: re.Match[str]) -> str:
        nonlocal found
        raw = bytearray()
        for c in match.group():
            raw += c.encode("cp1252") if c in _CP1252_HIGH else bytes([ord(c)])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return match.group()
        found = True
        return text

    fixed = _MOJIBAKE_RE.sub(fix, text)
    return fixed if found else None


def refuse_mojibake(table: pa.Table) -> None:
    """Raise ``Mojibake`` for the first header or cell that is UTF-8 read as Latin-1 (rows 1-based)."""
    for name in table.column_names:
        fixed = repaired(name)
        if fixed is not None:
            raise Mojibake(name, None, name, fixed)
    for name, column in zip(table.column_names, table.columns, strict=True):
        hits = pc.indices_nonzero(pc.fill_null(pc.match_substring_regex(column, MOJIBAKE_RE2), False))
        for index in hits.to_pylist()[:100]:
            value = column[index].as_py()
            fixed = repaired(value)
            if fixed is not None:
                raise Mojibake(name, index + 1, value, fixed)
