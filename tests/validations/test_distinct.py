"""``distinct`` is ``np.unique`` by one sort: the same values, in the same order, for every dtype the
phases pass (dictionary codes of each width, code pairs, negative numbers) and for nothing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from validations.distinct import distinct


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(st.sampled_from([np.uint8, np.uint16, np.uint32, np.int64]), st.integers(0, 300)))
def test_distinct_is_np_unique(values: np.ndarray) -> None:
    got, want = distinct(values), np.unique(values)
    assert got.dtype == want.dtype and np.array_equal(got, want)


@pytest.mark.parametrize("values", [np.array([], np.int64), np.array([-3, 5, -3, 0, 5], np.int64),
                                    np.zeros(10, np.uint8)])
def test_edges(values: np.ndarray) -> None:
    assert np.array_equal(distinct(values), np.unique(values))
