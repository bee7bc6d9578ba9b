"""Arrow never reads from a Python object (connectors/arrow_sources.py): pyarrow drops a read's source on
its own threads after returning, and dropping a Python object there during interpreter shutdown aborts
the process ("terminate called without an active exception", exit -6)."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.arrow_sources import owned_buffer, read_csv, read_parquet
from connectors.intake.limits import IntakeLimits
from connectors.intake.readers import read_table
from connectors.publish.pboc import STATE_SCHEMA, state_from_parquet, state_to_parquet
from connectors.versioned import VersionedParquet

ROOT = Path(__file__).resolve().parents[1]
TABLE = pa.table({"x": pa.array(range(50_000)), "s": pa.array([str(i % 97) for i in range(50_000)])})


def _parquet(table: pa.Table = TABLE) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=5_000)
    return sink.getvalue()


def _held_by_arrow_after(read, data: bytes, times: int = 40) -> int:
    """How often ``data`` was still referenced (by Arrow) when ``read(data)`` returned. Handing pyarrow
    the bytes themselves does this in about a quarter of the reads."""
    held = 0
    for _ in range(times):
        base = sys.getrefcount(data)
        read(data)
        held += sys.getrefcount(data) > base
    return held


def test_no_read_leaves_a_python_object_in_arrows_hands():
    data = _parquet()
    csv = ("a,b\n" + "".join(f"{i},x{i}\n" for i in range(100_000))).encode()
    assert read_parquet(data).equals(TABLE) and read_csv(csv).num_rows == 100_000
    assert _held_by_arrow_after(read_parquet, data) == 0
    assert _held_by_arrow_after(read_csv, csv) == 0
    assert _held_by_arrow_after(lambda d: read_table(d, "parquet", IntakeLimits()), data) == 0
    assert _held_by_arrow_after(lambda d: read_table(d, "csv", IntakeLimits()), csv) == 0
    state = STATE_SCHEMA.empty_table()
    assert _held_by_arrow_after(state_from_parquet, state_to_parquet(state)) == 0
    owned = owned_buffer(b"abc")
    assert owned.to_pybytes() == b"abc" and owned.is_mutable and owned_buffer(b"").size == 0


def test_the_archive_reads_a_local_version_by_path(tmp_path):
    store = VersionedParquet(tmp_path)
    version = store.write("p", {"t": TABLE})
    assert store.read(version)["t"].equals(TABLE)
    remote = VersionedParquet(f"memory://{tmp_path.name}")  # an fsspec file system: its bytes, copied
    assert remote.read(remote.write("p", {"t": TABLE}))["t"].equals(TABLE)


def test_nothing_else_hands_pyarrow_a_reader_source():
    """pq.read_table, pacsv.read_csv/open_csv and pq.ParquetFile are called in connectors/arrow_sources.py only."""
    pattern = re.compile(r"\b(pq\.read_table|pq\.ParquetFile|pacsv\.read_csv|pacsv\.open_csv|pyarrow\.dataset)\b")
    offenders = []
    for package in ("schemas", "validations", "connectors", "store", "filings", "web", "pipelines"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "arrow_sources.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
