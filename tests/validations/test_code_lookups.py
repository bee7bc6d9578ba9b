"""Rows selected through a code column's dictionary (``Codes.is_in``, ``Codes.where``): one-byte codes
go through ``bytes.translate``, wider ones through ``np.take``; both select what a lookup row by row
selects, the null slot included, and the mask they give can be changed in place by the rule using it."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from validations.codes import Codes, _looked_up


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), rows=st.integers(0, 2000), seed=st.integers(0, 2**32 - 1))
def test_looked_up_is_the_row_by_row_lookup(size: int, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lookup = rng.random(size) < 0.5
    for dtype in (np.uint8, np.uint16, np.uint32):
        if size > np.iinfo(dtype).max + 1:
            continue
        indices = rng.integers(0, size, rows).astype(dtype)
        got = _looked_up(lookup, indices)
        assert got.dtype == np.bool_ and got.flags.writeable
        assert got.tolist() == [bool(lookup[i]) for i in indices.tolist()]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["micro", "small", "medium", "large", "farmer", "张"])),
                min_size=1, max_size=60),
       st.sets(st.sampled_from(["micro", "small", "farmer", "x"])))
def test_is_in_and_where_select_as_the_text_does(values: list[str | None], wanted: set[str]) -> None:
    table = pa.table({"c": pa.chunked_array([pa.array(values[: len(values) // 2], pa.string()),
                                             pa.array(values[len(values) // 2:], pa.string())])})
    codes = Codes(table)
    assert codes.is_in("c", wanted).tolist() == [v is not None and v in wanted for v in values]
    starts_s = codes.where("c", lambda d: pc.starts_with(d, "s"), null=True)
    assert starts_s.tolist() == [True if v is None else v.startswith("s") for v in values]
