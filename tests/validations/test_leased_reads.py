"""A large CSV of a package folder is read in place, mapped under a read lease (connectors/leased_map.py):
the same tables as a copy, a writer that comes meanwhile waits until the reading is over, nothing of the
mapping outlives the read (a truncation afterwards harms nothing), and without a lease the file is
copied as before."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import connectors.intake.package as package_module
from connectors.intake import read_package
from connectors.leased_map import map_leased
from connectors.synthetic import generate_period
from tests.packages import copy_folder

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="read leases are Linux's")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("leased")
    package = generate_period(root, 1, 6_000, "2026-10", "csv", seed=3)[0]
    assert (package / "guarantees.csv").stat().st_size > package_module._ARROW_READ  # read in place
    return package


def _writer(path: Path) -> subprocess.Popen:
    """Another process that opens the file for writing (truncating it) and says when it could."""
    code = f"print('opening', flush=True); open({str(path)!r}, 'r+b').truncate(0); print('truncated', flush=True)"
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_in_place_and_copied_reads_agree(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    leased: list[object] = []
    real = package_module.map_leased
    monkeypatch.setattr(package_module, "map_leased", lambda *a: leased.append(real(*a)) or leased[-1])
    in_place = read_package(folder)
    assert leased and all(lease is not None for lease in leased)
    monkeypatch.setattr(package_module, "map_leased", lambda *a: None)
    copied = read_package(folder)
    assert in_place.package_sha256 == copied.package_sha256
    assert in_place.files.keys() == copied.files.keys()
    for name, file in in_place.files.items():
        assert file.table.equals(copied.files[name].table)


def test_a_writer_waits_until_the_reading_is_over(folder: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    package = copy_folder(folder, tmp_path)
    target = package / "guarantees.csv"
    expected = read_package(folder)
    real = package_module.read_table
    waited: list[bool] = []

    def read_while_a_writer_comes(data, fmt, limits):
        if fmt == "csv" and len(data.peek()) > package_module._ARROW_READ:
            writer = _writer(target)
            assert writer.stdout.readline().strip() == "opening"
            time.sleep(0.5)
            waited.append(writer.poll() is None)  # its open is held up by the lease
            result = real(data, fmt, limits)
            read_while_a_writer_comes.writer = writer
            return result
        return real(data, fmt, limits)

    monkeypatch.setattr(package_module, "read_table", read_while_a_writer_comes)
    filing = read_package(package)
    assert waited == [True]
    writer = read_while_a_writer_comes.writer
    out, _ = writer.communicate(timeout=30)  # the lease was given back: the writer went on at once
    assert out.strip() == "truncated" and target.stat().st_size == 0
    assert filing.package_sha256 == expected.package_sha256  # what was read is the file as it was
    assert filing.files["guarantees"].table.equals(expected.files["guarantees"].table)


def test_nothing_read_in_place_outlives_the_read(folder: Path, tmp_path: Path) -> None:
    """The tables are the parser's own memory: the file truncated after the read, every value is still
    read (a mapping left behind would end this process with SIGBUS, hence the subprocess)."""
    package = copy_folder(folder, tmp_path)
    code = (
        "import sys; from pathlib import Path; from connectors.intake import read_package\n"
        f"filing = read_package({str(package)!r})\n"
        f"Path({str(package / 'guarantees.csv')!r}).open('r+b').truncate(0)\n"
        "table = filing.files['guarantees'].table\n"
        "print(table.num_rows, sum(len(''.join(c.to_pylist())) for c in table.columns))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    rows, characters = map(int, done.stdout.split())
    assert rows == 6_000 and characters > 100_000


def test_a_file_open_for_writing_is_copied_instead(folder: Path, tmp_path: Path) -> None:
    package = copy_folder(folder, tmp_path)
    target = package / "guarantees.csv"
    with target.open("r+b"):  # a writer holds it open: no lease, so no mapping
        assert map_leased(target, target.stat().st_size) is None
        filing = read_package(package)
    assert filing.files["guarantees"].table.equals(read_package(folder).files["guarantees"].table)


def test_a_file_of_another_length_than_listed_is_not_mapped(folder: Path) -> None:
    target = folder / "guarantees.csv"
    size = target.stat().st_size
    assert map_leased(target, size - 1) is None and map_leased(target, size + 1) is None
    lease = map_leased(target, size)
    assert lease is not None
    assert lease.take().to_pybytes() == target.read_bytes()
    with pytest.raises(RuntimeError):
        lease.take()  # the bytes are the caller's now: the lease holds only the file
    lease.release()
    lease.release()  # twice is harmless
