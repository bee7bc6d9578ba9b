"""The append-only blob store."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from store.blobs import BlobCorruptedError, BlobStore


def test_put_get_round_trips_bytes_exactly(blob_store: BlobStore) -> None:
    data = bytes(range(256)) * 4099 + "担保\r\n\x00".encode("gb18030")  # > one 1 MiB chunk, odd tail
    key = blob_store.put(data)
    digest = hashlib.sha256(data).hexdigest()
    assert key == f"sha256/{digest[:2]}/{digest}"
    assert blob_store.get(key) == data
    assert blob_store.open_path(key) == blob_store.root / key
    assert blob_store.open_path(key).read_bytes() == data
    assert blob_store.put(b"") == blob_store.put(b"")
    assert blob_store.get(blob_store.put(b"")) == b""


def test_blobs_are_read_only_and_no_temporary_files_remain(blob_store: BlobStore) -> None:
    path = blob_store.open_path(blob_store.put(b"manifest"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o400  # read-only, and the owner's only
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in blob_store.root.iterdir()] == ["sha256"]


def test_put_is_idempotent_and_never_rewrites(blob_store: BlobStore) -> None:
    key = blob_store.put(b"package bytes")
    before = blob_store.open_path(key).stat()
    assert blob_store.put(b"package bytes") == key
    after = blob_store.open_path(key).stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_nlink) == (before.st_ino, before.st_mtime_ns, 1)


def test_put_never_overwrites_an_existing_blob_even_a_damaged_one(blob_store: BlobStore) -> None:
    key = blob_store.put(b"original")
    path = blob_store.open_path(key)
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")  # same length, different bytes
    os.chmod(path, 0o444)
    assert blob_store.put(b"original") == key
    assert path.read_bytes() == b"tampered"  # left as found: evidence, not silently "repaired"
    with pytest.raises(BlobCorruptedError):
        blob_store.get(key)
    path.chmod(0o644)
    path.write_bytes(b"short")
    with pytest.raises(BlobCorruptedError):
        blob_store.put(b"original")  # a size mismatch is noticed even on put
    assert path.read_bytes() == b"short"


def test_concurrent_puts_of_the_same_bytes(blob_store: BlobStore) -> None:
    data = os.urandom(300_000)
    barrier = threading.Barrier(8)

    def put(_: int) -> str:
        barrier.wait()
        return blob_store.put(data)

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(put, range(8)))
    assert len(keys) == 1
    assert blob_store.get(keys.pop()) == data
    assert [p.name for p in blob_store.root.iterdir()] == ["sha256"]


def test_put_file_streams_a_file(blob_store: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "package.zip"
    source.write_bytes(b"PK\x03\x04" + os.urandom(3 * 1024 * 1024 + 17))
    key = blob_store.put_file(source)
    assert blob_store.get(key) == source.read_bytes()
    assert not blob_store.is_folder(key)


def test_folder_round_trips_byte_for_byte(blob_store: BlobStore, tmp_path: Path) -> None:
    package = tmp_path / "package"
    (package / "data" / "子目录").mkdir(parents=True)
    files = {
        "manifest.json": b'{"period": "2026-10"}\n',
        "guarantees.csv": "担保编号,金额\r\nG1,100.00\r\n".encode("gb18030"),
        "data/financials.parquet": os.urandom(5000),
        "data/子目录/compensations.csv": b"\xef\xbb\xbfguarantee_id\n",
        ".hidden": b"",
    }
    for rel, data in files.items():
        (package / rel).write_bytes(data)

    key = blob_store.put_folder(package)
    assert blob_store.is_folder(key)
    index = blob_store.folder_index(key)
    assert set(index) == set(files)
    assert all(blob_store.get(index[rel]) == data for rel, data in files.items())
    assert blob_store.put_folder(package) == key  # same folder, same key

    restored = blob_store.restore_folder(key, tmp_path / "restored")
    assert {
        p.relative_to(restored).as_posix(): p.read_bytes() for p in restored.rglob("*") if p.is_file()
    } == files

    (package / "guarantees.csv").write_bytes(b"changed")
    assert blob_store.put_folder(package) != key
    assert blob_store.get(index["guarantees.csv"]) == files["guarantees.csv"]  # the old one is kept


def test_folder_with_a_symlink_is_refused(blob_store: BlobStore, tmp_path: Path) -> None:
    package = tmp_path / "package"
    package.mkdir()
    (package / "manifest.json").write_bytes(b"{}")
    (package / "secrets").symlink_to("/etc/hostname")
    with pytest.raises(ValueError, match="symbolic link"):
        blob_store.put_folder(package)


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "sha256/ab/" + "c" * 64, "sha256/ab/" + "ab" * 31, "sha256/AB/" + "AB" * 32]
)
def test_malformed_keys_are_refused(blob_store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="not a blob key"):
        blob_store.get(key)


def test_missing_blob(blob_store: BlobStore) -> None:
    with pytest.raises(FileNotFoundError):
        blob_store.get("sha256/ab/" + "ab" * 32)
    assert not blob_store.exists("sha256/ab/" + "ab" * 32)


def test_root_defaults_to_danbao_home(danbao_home: Path) -> None:
    store = BlobStore()
    assert store.root == danbao_home.resolve() / "blobs"
    assert store.root.is_dir()
