"""SCH-003 checks ids a window of 65,536 rows at a time: a bad id on either side of a window's edge,
in a column whose chunks do not line up with the windows, is found exactly where it is."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from validations.checksums import party_ids_valid, ric_check_char, uscc_check_char


def test_bad_ids_at_window_edges_across_unaligned_chunks() -> None:
    n = 140_000
    uscc = "91500113MA5U" + "00000"
    ric = "50011319900101" + "123"
    good_uscc, good_ric = uscc + uscc_check_char(uscc), ric + ric_check_char(ric)
    is_ric = np.zeros(n, dtype=bool)
    is_ric[1::3] = True
    values = np.where(is_ric, good_ric, good_uscc).astype(object)
    bad_rows = [0, 65_535, 65_536, 65_537, 131_071, 131_072, n - 1]
    for row in bad_rows:
        wrong = "0" if values[row][-1] != "0" else "1"
        values[row] = values[row][:-1] + wrong
    values[100_000] = "short"  # a USCC row of the wrong length
    whole = pa.array(values.tolist(), pa.string())
    chunked = pa.chunked_array([whole.slice(0, 40_000), whole.slice(40_000, 50_000), whole.slice(90_000)])
    ok = party_ids_valid(chunked, ~is_ric, is_ric, np.datetime64("2026-10-31"))
    assert sorted(np.flatnonzero(~ok).tolist()) == sorted([*bad_rows, 100_000])


# --- the column-wise checks against the standards read one id at a time ---------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from validations.checksums import RIC_CHECK, USCC_ALPHABET, ric_valid, uscc_valid  # noqa: E402

# the alphabets, their lower case, and bytes just outside them (I O S V Z are not USCC characters)
_CHARS = st.sampled_from(list(USCC_ALPHABET + USCC_ALPHABET.lower() + "IOSVZiosvz/:@[`{x -é"))


def _uscc_reference(text: str) -> bool:
    """GB 32100-2015: 18 characters of the alphabet (either case), the 18th the check character."""
    upper = text.upper()
    if len(text.encode()) != 18 or any(c not in USCC_ALPHABET for c in upper):
        return False
    return uscc_check_char(upper[:17]) == upper[17]


def _ric_reference(text: str, latest: str) -> bool:
    """GB 11643-1999: 17 digits, the check character (x for X), a real birth date from 1900 on, not
    after ``latest``."""
    import datetime as dt

    if len(text.encode()) != 18 or not all("0" <= c <= "9" for c in text[:17]):
        return False
    if text[17].upper() not in RIC_CHECK or ric_check_char(text[:17]) != text[17].upper():
        return False
    try:
        born = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return born.year >= 1900 and born.isoformat() <= latest


def _near_valid_ids(draw: st.DrawFn) -> str:
    """An id that is often well-formed: right characters but now and then one that is not, a birth
    date that may not exist, the right check character (either case) or another."""
    kind = draw(st.sampled_from(["uscc", "ric", "noise"]))
    if kind == "noise":
        return "".join(draw(st.lists(_CHARS, min_size=16, max_size=19)))
    if kind == "uscc":
        chars = draw(st.lists(st.sampled_from(list(USCC_ALPHABET + USCC_ALPHABET.lower())), min_size=17, max_size=17))
        if draw(st.booleans()) and draw(st.booleans()):
            chars[draw(st.integers(0, 16))] = draw(_CHARS)
        body = "".join(chars)
        check = uscc_check_char(body.upper()) if all(c in USCC_ALPHABET for c in body.upper()) else "0"
        check = draw(st.sampled_from([check, check.lower(), "0", "A"]))
    else:
        year = draw(st.integers(1890, 2030))
        month, day = draw(st.integers(0, 13)), draw(st.integers(0, 32))
        serial = draw(st.text("0123456789", min_size=3, max_size=3))
        body = f"500113{year:04d}{month:02d}{day:02d}{serial}"
        check = ric_check_char(body)
        check = draw(st.sampled_from([check, check.lower(), "0", "X"]))
    return body + check


@settings(max_examples=80, deadline=None)
@given(st.lists(st.composite(lambda draw: _near_valid_ids(draw))(), min_size=1, max_size=200))
def test_column_wise_checks_read_ids_as_the_standards_do(ids: list[str]) -> None:
    column = pa.array(ids, pa.string())
    assert uscc_valid(column).tolist() == [_uscc_reference(i) for i in ids]
    assert ric_valid(column, np.datetime64("2026-10-31")).tolist() == [_ric_reference(i, "2026-10-31") for i in ids]
