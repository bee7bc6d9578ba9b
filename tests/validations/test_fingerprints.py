"""SCH-006's fast path: distinct fingerprints prove that no value repeats; anything else goes to the
exact dictionary codes, so a repeat is never missed."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from validations.fingerprints import all_different, fingerprints

texts = st.text(alphabet=st.sampled_from(list("0123456789ABCDEFGHJKLMNPQRTUWXY-_ 担保机构\x00é")), max_size=40)


def _chunked(values: list[str], cut: int) -> pa.ChunkedArray:
    cut = min(cut, len(values))
    whole = pa.array(values, pa.string())
    return pa.chunked_array([whole.slice(0, cut), whole.slice(cut)], pa.string())  # the second is offset


@settings(max_examples=400, deadline=None)
@given(st.lists(texts, max_size=60), st.integers(0, 60))
def test_proven_distinct_means_no_repeat_and_equal_values_share_a_fingerprint(values: list[str], cut: int) -> None:
    column = _chunked(values, cut)
    prints = fingerprints(column)
    assert prints is not None and len(prints) == len(values)
    by_value: dict[str, int] = {}
    for value, fingerprint in zip(values, prints.tolist(), strict=True):
        assert by_value.setdefault(value, fingerprint) == fingerprint
    if all_different(column):
        assert len(set(values)) == len(values)
    else:  # a 64-bit collision among 60 short values is not expected: "not proven" means a repeat here
        assert len(set(values)) < len(values)


def test_values_that_differ_only_past_the_first_word_or_in_length() -> None:
    values = ["91500113T0B4K9UJE6", "91500113T0B4K9UJE7", "91500113", "91500113\x00", "", "9150011"]
    assert all_different(pa.chunked_array([pa.array(values)]))
    assert not all_different(pa.chunked_array([pa.array([*values, "91500113T0B4K9UJE7"])]))


def test_a_million_distinct_ids_and_one_repeat() -> None:
    ids = pa.array([f"G{i:09d}" for i in range(1_000_000)])
    assert all_different(ids)
    repeated = pa.concat_arrays([ids, pa.array(["G000500000"])])
    assert not all_different(repeated)


def test_what_it_does_not_take_is_not_proven() -> None:
    assert not all_different(pa.array(["a", None, "b"]))  # a null: SCH-001's, and not "all filled"
    assert fingerprints(pa.array(["x" * 257, "y"])) is None  # longer than 256 bytes: the exact path
    assert fingerprints(pa.array(["x" * 256, "y"])) is not None
    assert fingerprints(pa.array([1, 2])) is None
    assert all_different(pa.array([], pa.string()))
    assert np.array_equal(fingerprints(pa.array(["a" * 256])), fingerprints(pa.array(["a" * 256])))


def test_a_value_has_one_fingerprint_whatever_its_neighbours() -> None:
    alone = fingerprints(pa.array(["0"]))
    beside_a_long_one = fingerprints(pa.array(["0", "x" * 30]))
    assert alone is not None and beside_a_long_one is not None and alone[0] == beside_a_long_one[0]


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, max_size=60), st.integers(0, 60), st.booleans(), st.integers(0, 59))
def test_sorted_columns_are_proven_by_order_and_a_repeat_in_them_is_still_found(
    values: list[str], cut: int, descending: bool, at: int
) -> None:
    distinct = sorted(set(values), reverse=descending)  # code point order is UTF-8 byte order
    assert all_different(_chunked(distinct, cut))
    if distinct:
        repeated = [*distinct[: at % len(distinct) + 1], *distinct[at % len(distinct):]]  # one value twice, in order
        assert not all_different(_chunked(repeated, cut))


def test_order_decides_only_when_strict() -> None:
    assert all_different(pa.array(["A2", "A1", "A0"]))
    assert not all_different(pa.array(["A0", "A1", "A1", "A2"]))  # ascending but not strictly: a repeat
    assert all_different(pa.array(["A0", "A2", "A1"]))  # neither order: the fingerprints prove it
    assert not all_different(pa.array(["A0", None, "A1"]))
