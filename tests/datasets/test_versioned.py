"""The one versioned writer: a version killed half-way is never read, and the next writer gets on with it."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from connectors.versioned import MANIFEST, VersionedParquet, VersionExistsError, version_dir

TABLE = pa.table({"x": [1, 2, 3]})


def test_a_version_without_a_whole_manifest_is_not_read_and_is_completed_by_its_next_writer(tmp_path):
    store = VersionedParquet(tmp_path)
    first = store.write("p", {"t": TABLE}, {"n": 1}, number=1)
    folder = tmp_path / "p" / version_dir(2)
    folder.mkdir()
    (folder / "t.parquet").write_bytes(b"PAR1 half of it")  # killed while writing the table
    assert [v.number for v in store.versions("p")] == [1] and store.version("p", 2) is None
    (folder / MANIFEST).write_text('{"partition": "p", "tab', encoding="utf-8")  # … or its manifest (older writers)
    assert [v.number for v in store.versions("p")] == [1] and store.latest("p").number == 1
    second = store.write("p", {"t": TABLE}, {"n": 2}, number=2)  # the run again: completes version 2
    assert store.read(second)["t"].equals(TABLE) and store.version("p", 2).meta == {"n": 2}
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST, "t.parquet"]  # nothing left aside
    assert all(p.stat().st_mode & 0o222 == 0 for p in folder.iterdir())  # read-only
    with pytest.raises(VersionExistsError):
        store.write("p", {"t": TABLE}, number=2)
    assert json.loads((folder / MANIFEST).read_text())["version"] == 2 and first.number == 1


def test_the_next_version_skips_a_folder_a_killed_writer_claimed(tmp_path):
    store = VersionedParquet(tmp_path)
    store.write("p", {"t": TABLE})
    (tmp_path / "p" / version_dir(2)).mkdir()  # claimed, then killed before the manifest
    third = store.write("p", {"t": pa.table({"x": [4]})})
    assert third.number == 3 and [v.number for v in store.versions("p")] == [1, 3]
    assert store.write("p", {"t": pa.table({"x": [4]})}, unless_same=True).number == 3  # identical: nothing written
