"""A folder member of 1 MiB or more is read straight into Arrow memory and parsed without a copy
(``connectors.arrow_sources.read_file_buffer``). Every decision the CSV reader takes on bytes (NUL bytes,
BOM, bare CR, GB18030, Latin-1, mojibake, ragged rows, long lines and headers: FMT-003/FMT-007 with their
rows) must be the same on that buffer: each case is read both ways and the outcomes compared, then a
whole package is read as a folder and as a ZIP."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from connectors import arrow_sources
from connectors.arrow_sources import read_file_buffer
from connectors.intake import readers
from connectors.intake.headers import ReadError
from connectors.intake.limits import IntakeLimits
from connectors.intake.package import read_package
from connectors.intake.readers import read_table
from connectors.synthetic import generate_period

HEADER = "guarantee_id,party_name,amount\n"
ROW = "G{:07d},重庆顺达融资担保有限公司,1000.00\n"
ROWS = 25_000  # ≈ 1.2 MB: over the 1 MiB from which a folder member is read into Arrow memory


def _body(rows: int = ROWS) -> str:
    return "".join(ROW.format(i) for i in range(rows))


CASES = {
    "plain": (HEADER + _body()).encode(),
    "bom": b"\xef\xbb\xbf" + (HEADER + _body()).encode(),
    "crlf": (HEADER + _body()).replace("\n", "\r\n").encode(),
    "bare_cr": (HEADER + _body()).replace("\n", "\r").encode(),
    "nul_late": (HEADER + _body() + "G9,x\x00y,1\n").encode(),
    "gb18030": (HEADER + _body()).encode("gb18030"),
    "latin1": (HEADER + _body()).encode() + "G9,café,1\n".encode("latin-1"),
    "mojibake": (HEADER + _body() + "G9," + "é".encode().decode("latin-1") + ",1\n").encode(),
    "ragged": (HEADER + _body(ROWS // 2) + "G9,x\n" + _body(ROWS // 2)).encode(),
    "long_line": (HEADER + _body() + "G9," + "x" * 70_000 + ",1\n").encode(),
    "long_header": ("a" * 70_000 + "\n" + _body()).encode(),
}
EXPECTED = {"plain": "utf-8", "bom": "utf-8-sig", "crlf": "utf-8", "gb18030": "gb18030", "bare_cr": "FMT-003",
            "nul_late": "FMT-003", "latin1": "FMT-003", "mojibake": "FMT-003", "ragged": "FMT-003",
            "long_line": "FMT-007", "long_header": "FMT-007"}


def _outcome(data: bytes | pa.Buffer, limits: IntakeLimits):
    try:
        table, encoding, formulas = read_table(data, "csv", limits)
    except ReadError as exc:
        return ("error", exc.rule_id, exc.row, exc.column, exc.message_zh, exc.message_en)
    return ("table", encoding, formulas, table.column_names, table.num_rows, table.to_pydict())


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_large_member_in_arrow_memory_reads_as_its_bytes_do(case: str, tmp_path: Path) -> None:
    data = CASES[case]
    assert len(data) >= 1 << 20
    limits = IntakeLimits(max_line_bytes=65_536)
    path = tmp_path / "guarantees.csv"
    path.write_bytes(data)
    buffer = read_file_buffer(path, len(data))
    assert buffer is not None and buffer.to_pybytes() == data
    outcome = _outcome(buffer, limits)
    assert outcome == _outcome(data, limits)
    assert outcome[1] == EXPECTED[case]  # the case is what it says: read, or refused by its rule


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_scans_on_a_second_core_decide_as_in_one_pass(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large file's 0xC3 scan runs beside the parse and its UTF-8 check in two parts: with the
    thresholds lowered to these cases' size, every outcome is still the one-pass outcome."""
    limits = IntakeLimits(max_line_bytes=65_536)
    data = pa.py_buffer(CASES[case])
    one_pass = _outcome(data, limits)
    monkeypatch.setattr(readers, "_SECOND_CORE", 1 << 20)
    assert _outcome(data, limits) == one_pass
    assert one_pass[1] == EXPECTED[case]


def test_a_file_that_is_not_its_stated_size_is_not_read_into_arrow_memory(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"x" * 100)
    assert read_file_buffer(path, 99) is None  # longer than stated
    assert read_file_buffer(path, 101) is None  # shorter
    assert read_file_buffer(path, 100).to_pybytes() == b"x" * 100


@pytest.mark.parametrize("size", [1, 99, 100, 101, 1_000_003])
def test_a_file_read_in_two_halves_is_its_bytes(size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large file is read as two halves on two threads: every byte lands where it belongs, and a file
    that is not its stated size is still refused, whichever half runs short."""
    monkeypatch.setattr(arrow_sources, "_SPLIT_READ", 1)
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert read_file_buffer(path, size).to_pybytes() == data
    assert read_file_buffer(path, size - 1) is None  # longer than stated
    assert read_file_buffer(path, size + 1) is None  # shorter: the second half runs out
    assert read_file_buffer(path, 2 * size + 2) is None  # much shorter: both halves run out


def test_a_large_folder_package_reads_as_its_zip(tmp_path: Path) -> None:
    folder = generate_period(tmp_path / "folder", 1, 6_000, "2026-10", "csv", seed=3)[0]
    zipped = generate_period(tmp_path / "zip", 1, 6_000, "2026-10", "csv", seed=3, zip=True)[0]
    assert (folder / "guarantees.csv").stat().st_size >= 1 << 20
    a, b = read_package(folder), read_package(zipped)
    assert a.findings.to_table().to_pylist() == b.findings.to_table().to_pylist()
    assert a.files.keys() == b.files.keys()
    for name in a.files:
        assert a.files[name].table.equals(b.files[name].table), name
        assert a.files[name].encoding == b.files[name].encoding
