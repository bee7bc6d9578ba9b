"""A package folder's large files hashed while `danbao check` imports its libraries
(connectors/hash_ahead.py): the reader takes a hash computed ahead only for the very file it read in
place (same device, inode and size, under a lease held since the hash began), so the folder's digest
and every FMT-002 decision are those of a package read without it; a file replaced meanwhile is hashed
as it is read; a writer waits until the package has been read."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import connectors.intake.package as package_module
from connectors import hash_ahead
from connectors.intake import read_package
from connectors.synthetic import generate_period
from pipelines import cli
from tests.packages import copy_folder

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read leases are Linux's")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ahead")
    package = generate_period(root, 1, 6_000, "2026-10", "csv", seed=5)[0]
    assert (package / "guarantees.csv").stat().st_size > hash_ahead.SMALLEST  # hashed ahead
    return package


@pytest.fixture(autouse=True)
def nothing_left_over() -> Iterator[None]:
    yield
    hash_ahead.stop()


def _hashes_taken_ahead(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    taken: list[bool] = []
    real = package_module._Hash.__init__

    def spy(self, data, ahead=None) -> None:
        if len(data) > hash_ahead.SMALLEST:
            taken.append(ahead is not None)
        real(self, data, ahead)

    monkeypatch.setattr(package_module._Hash, "__init__", spy)
    return taken


def test_the_hash_taken_ahead_is_the_files_and_the_leases_go_with_the_read(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = read_package(folder)
    ahead = hash_ahead.start(folder)
    assert ahead is not None and hash_ahead.current() is ahead
    target = folder / "guarantees.csv"
    st = target.stat()
    digest = ahead.digest(target, (st.st_dev, st.st_ino, st.st_size))
    assert digest is not None and digest.result(timeout=60) == hashlib.sha256(target.read_bytes()).hexdigest()
    assert ahead.digest(target, (st.st_dev, st.st_ino, st.st_size + 1)) is None  # another file: not this hash
    taken = _hashes_taken_ahead(monkeypatch)
    filing = read_package(folder)
    assert taken == [True]
    assert filing.package_sha256 == expected.package_sha256
    assert hash_ahead.current() is None  # the reader gave the leases back
    with target.open("r+b"):  # no lease left: a writer opens it at once
        pass


def test_a_file_replaced_after_the_hash_began_is_hashed_as_read(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = copy_folder(folder, tmp_path)
    target = package / "guarantees.csv"
    assert hash_ahead.start(package) is not None
    replacement = tmp_path / "replacement.csv"
    replacement.write_bytes(target.read_bytes().replace(b"\n", b"\r\n", 1))  # other bytes, same rows
    os.replace(replacement, target)  # a new file under the old name: renaming needs no write access
    taken = _hashes_taken_ahead(monkeypatch)
    filing = read_package(package)
    assert taken == [False]
    # the manifest's hash is the old file's: FMT-002, with the hash of the file that was read
    found = [f for f in filing.findings.to_table().to_pylist() if f["rule_id"] == "FMT-002"]
    assert [f["value"] for f in found] == [hashlib.sha256(target.read_bytes()).hexdigest()]


def test_a_file_open_for_writing_is_not_hashed_ahead(folder: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    package = copy_folder(folder, tmp_path)
    with (package / "guarantees.csv").open("r+b"):
        assert hash_ahead.start(package) is None  # no lease while a writer holds it
    taken = _hashes_taken_ahead(monkeypatch)
    assert read_package(package).package_sha256 == read_package(folder).package_sha256
    assert not any(taken)


def test_a_writer_waits_while_the_file_is_held(folder: Path, tmp_path: Path) -> None:
    package = copy_folder(folder, tmp_path)
    target = package / "guarantees.csv"
    assert hash_ahead.start(package) is not None
    code = f"open({str(target)!r}, 'r+b').truncate(0); print('truncated', flush=True)"
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert writer.poll() is None  # held up by the lease
    hash_ahead.stop()
    out, _ = writer.communicate(timeout=30)
    assert out.strip() == "truncated" and target.stat().st_size == 0


def test_the_check_command_starts_it_for_the_folder_it_names(folder: Path) -> None:
    cli._hash_ahead(["--json", str(folder), "--registry", str(folder / "manifest.json")])
    assert hash_ahead.current() is not None
    hash_ahead.stop()
    cli._hash_ahead(["--json", str(folder / "manifest.json")])  # no folder named: nothing to hash
    assert hash_ahead.current() is None


def test_a_package_past_the_intake_limit_is_not_hashed_ahead(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hash_ahead, "LARGEST_PACKAGE", 1 << 20)
    assert hash_ahead.start(folder) is None


def test_a_folder_with_many_entries_is_not_walked_to_its_end(tmp_path: Path, folder: Path) -> None:
    big = copy_folder(folder, tmp_path)
    for i in range(hash_ahead.MOST_ENTRIES):
        (big / f"extra-{i}.txt").write_bytes(b"x")
    assert hash_ahead.start(big) is None  # no package holds that many files: not hashed ahead
