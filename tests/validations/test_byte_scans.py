"""The CSV reader looks for NUL (binary content) and 0xC3 (UTF-8 once read as Latin-1) in a buffer with
the C library's ``memchr``, or, where there is none, in one numpy pass in steps that grow from 64 kB to
8 MB: each byte's first offset is found wherever it falls, across step edges, as ``bytes.find`` finds it."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.intake.readers import _MEMCHR, _find_bytes, _find_bytes_numpy

EDGES = [0, 1, (1 << 16) - 1, 1 << 16, (1 << 16) + 1, 3 * (1 << 16) - 1, 3 * (1 << 16), 7 * (1 << 16) + 5]


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 8 * (1 << 16)), nul=st.sampled_from([None, *EDGES]), latin=st.sampled_from([None, *EDGES]),
       more=st.lists(st.integers(0, 8 * (1 << 16)), max_size=3))
def test_each_bytes_first_offset_is_found_as_bytes_find_finds_it(size: int, nul: int | None, latin: int | None,
                                                                 more: list[int]) -> None:
    data = bytearray(b"a,b\n" * (size // 4 + 1))[:size]
    for at, value in [(nul, 0), (latin, 0xC3), *((m, 0) for m in more), *((m + 1, 0xC3) for m in more)]:
        if at is not None and at < size:
            data[at] = value
    expected = [bytes(data).find(b"\x00"), bytes(data).find(b"\xc3")]
    assert _find_bytes(pa.py_buffer(bytes(data)), (0, 0xC3)) == expected
    assert _find_bytes_numpy(pa.py_buffer(bytes(data)), (0, 0xC3)) == expected
    assert _find_bytes(bytes(data), (0, 0xC3)) == expected
    sliced = pa.py_buffer(b"\x00\xc3" + bytes(data)).slice(2)  # a buffer that starts inside another
    assert _find_bytes(sliced, (0, 0xC3)) == expected


def test_this_platform_has_memchr() -> None:
    assert _MEMCHR is not None  # Linux: the reader's scans take the C library's path
    assert _find_bytes(pa.py_buffer(b""), (0, 0xC3)) == [-1, -1]
