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
