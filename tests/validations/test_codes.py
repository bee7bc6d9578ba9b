"""Dictionary codes in the smallest type that holds them: the null code k must still fit and stay
distinct at the boundaries (255 and 256 distinct values for one byte, 65,535 and 65,536 for two)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from validations.codes import Codes


@pytest.mark.parametrize(("distinct", "dtype"), [(1, np.uint8), (255, np.uint8), (256, np.uint16),
                                                  (65_535, np.uint16), (65_536, np.uint32)])
def test_codes_take_the_smallest_type_and_the_null_code_stays_apart(distinct: int, dtype: type) -> None:
    values = [f"v{i}" for i in range(distinct)] + [None, "v0"]
    codes = Codes(pa.table({"c": pa.array(values, pa.string())}))
    indices, dictionary = codes.encoded("c")
    assert indices.dtype == dtype and len(dictionary) == distinct
    assert indices[-2] == distinct and indices[-1] == 0  # the null's code is k, a repeat keeps its first code
    assert codes.is_null("c").tolist() == [False] * distinct + [True, False]
    assert codes.distinct("c") == distinct
    wanted = codes.is_in("c", [f"v{distinct - 1}", "absent"])
    assert np.flatnonzero(wanted).tolist() == [i for i, v in enumerate(values) if v == f"v{distinct - 1}"]


def test_prefetched_codes_are_the_codes() -> None:
    """Codes encoded on the background thread are those encoded on demand; asking twice, or for a
    column being prefetched, gives the same arrays."""
    values = pa.chunked_array([pa.array(["b", "a", None, "b"]), pa.array(["c", "a"])])
    table = pa.table({"c": values, "d": pa.array(["x"] * 6)})
    direct = Codes(table)
    prefetched = Codes(table)
    prefetched.prefetch(["c", "d", "c"])
    for column in ("c", "d"):
        got, want = prefetched.encoded(column), direct.encoded(column)
        assert np.array_equal(got[0], want[0]) and got[1].equals(want[1])
    assert prefetched.encoded("c")[0].tolist() == [0, 1, 3, 0, 2, 1]
    prefetched.prefetch(["c"])  # already done: nothing to start
    assert prefetched.indices("c") is prefetched.indices("c")
