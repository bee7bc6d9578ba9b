"""FMT-007 for Parquet data files: the rows a file declares are checked before any row is decoded, and
values that would expand beyond the limit (a dictionary entry repeated a million times) are measured
without being expanded; within the limits a Parquet file reads exactly as its CSV twin."""

from __future__ import annotations

import io
import time

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.intake import IntakeLimits
from tests.validations.vcheck import hits, rule_ids, run


def _parquet(table: pa.Table, **options) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def _ledger_as_parquet(pkg) -> int:
    header, rows = pkg.rows("guarantees")
    pkg.write_bytes("guarantees.parquet", _parquet(pa.table({h: [r[i] for r in rows] for i, h in enumerate(header)})),
                    "guarantees")
    return len(rows)


def test_fmt007_a_parquet_file_may_declare_as_many_rows_as_the_limit_and_not_one_more(pkg):
    csv_findings = run(pkg.root).findings.to_pylist()
    rows = _ledger_as_parquet(pkg)
    at_limit = run(pkg.root, limits=IntakeLimits(max_parquet_rows=rows))
    assert "FMT-007" not in rule_ids(at_limit)
    assert at_limit.findings.to_pylist() == csv_findings  # the same filing, whatever its file format
    [found] = hits(run(pkg.root, limits=IntakeLimits(max_parquet_rows=rows - 1)), "FMT-007")
    assert found["file"] == "guarantees" and f"declares {rows} rows, over {rows - 1}" in found["message_en"]


def test_fmt007_a_parquet_dictionary_bomb_is_refused_before_it_expands(pkg):
    rows, value = 1_000_000, "担" * 400  # 1,200 bytes of UTF-8 per row once expanded: 1.2 GB
    column = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), pa.array([value]))
    bomb = _parquet(pa.table({"guarantee_id": column}), compression="zstd", write_statistics=False)
    assert len(bomb) < 100_000  # a thousand times smaller than what it expands to
    pkg.write_bytes("guarantees.parquet", bomb, "guarantees")
    started = time.monotonic()
    [found] = hits(run(pkg.root, limits=IntakeLimits(max_expanded_bytes=256 << 20)), "FMT-007")
    assert found["file"] == "guarantees" and "expand beyond 268435456 bytes" in found["message_en"]
    assert time.monotonic() - started < 30  # measured, not expanded (expanding alone would take 1.2 GB)


def test_the_expanded_size_counts_each_row_of_a_dictionary_not_the_dictionary_once(pkg):
    rows, value = 10_000, "x" * 100  # 10,000 × (100 bytes + a 4-byte offset) = 1,040,000 bytes once expanded
    column = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), pa.array([value]))
    pkg.write_bytes("guarantees.parquet", _parquet(pa.table({"guarantee_id": column})), "guarantees")
    assert hits(run(pkg.root, limits=IntakeLimits(max_expanded_bytes=1_040_000)), "FMT-007") == []
    assert len(hits(run(pkg.root, limits=IntakeLimits(max_expanded_bytes=1_039_999)), "FMT-007")) == 1
