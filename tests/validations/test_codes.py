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
