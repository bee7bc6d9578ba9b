"""Dictionary codes in the smallest type that holds them: the null code k must still fit and stay
distinct at the boundaries (255 and 256 distinct values for one byte, 65,535 and 65,536 for two)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789ABX担", min_size=3, max_size=3), min_size=1, max_size=40),
       st.integers(0, 40), st.booleans())
def test_values_of_one_width_encode_as_any_other_column(values: list[str], cut: int, with_other: bool) -> None:
    """Equal-width values (party ids) are hashed as fixed-size keys: the same codes and dictionary as
    the string path, whatever the chunks (an offset chunk included)."""
    from validations.codes import _common_width, encode

    if with_other:
        values = [*values, "12"]  # another width: the string path
    whole = pa.array(values, pa.string())
    cut = min(cut, len(values))
    column = pa.chunked_array([whole.slice(0, cut), whole.slice(cut)], pa.string())
    indices, dictionary = encode(column)
    expected = list(dict.fromkeys(values))
    assert dictionary.type == pa.string() and dictionary.to_pylist() == expected
    assert indices.tolist() == [expected.index(v) for v in values]
    widths = {len(v.encode()) for v in values}
    assert (_common_width(column) is not None) == (len(widths) == 1)


def test_a_null_or_an_empty_value_keeps_the_string_path() -> None:
    from validations.codes import _common_width, encode

    assert _common_width(pa.array(["AB", None, "CD"])) is None
    assert _common_width(pa.array(["", ""])) is None
    indices, dictionary = encode(pa.array(["AB", None, "AB"]))
    assert indices.tolist() == [0, 1, 0] and dictionary.to_pylist() == ["AB"]
