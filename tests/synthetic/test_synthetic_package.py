"""Packages: every format round-trips, the manifest signs what was written, the engine accepts the result."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from connectors.registry import read_registry_csv
from connectors.synthetic import FORMATS, REGISTRY_FILE, generate_period, write_package
from tests.synthetic.helpers import PERIOD, check, filing


@pytest.fixture(scope="module")
def small() -> dict[str, pa.Table]:
    return filing(600, seed=8)


def read_back(data: bytes, fmt: str, names: list[str]) -> pa.Table:
    """Read a written file with pyarrow or openpyxl alone, every column as text."""
    if fmt.startswith("csv"):
        if fmt == "csv-bom":
            assert data.startswith(b"\xef\xbb\xbf")
            data = data[3:]
        encoding = "gb18030" if fmt == "csv-gbk" else "utf8"
        return pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(encoding=encoding),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        header, *rows = list(sheet.iter_rows(values_only=True))
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
        return pa.table({h: pa.array(["" if v is None else v for v in col], pa.string())
                         for h, col in zip(header, columns, strict=True)})
    return pq.read_table(io.BytesIO(data))


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_round_trips_and_is_signed(tmp_path, small, registry_table, fmt):
    institution = registry_table.to_pylist()[0]
    package = write_package(tmp_path, institution, PERIOD, small, fmt)
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["template_version"] == "1.0"
    assert manifest["institution_id"] == institution["institution_id"]
    assert manifest["institution_name"] == institution["name"]
    assert manifest["period"] == PERIOD
    assert manifest["submitted_at"] == "2026-11-05T10:00:00+08:00"
    assert set(manifest["files"]) == {"guarantees", "financials", "compensations"}
    for name, entry in manifest["files"].items():
        data = (package / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert read_back(data, fmt, small[name].column_names).equals(small[name]), name
    if fmt == "csv-gbk":
        text = (package / "guarantees.csv").read_bytes()
        with pytest.raises(UnicodeDecodeError):
            text.decode("utf-8")
        assert "重庆".encode("gb18030") in text
    if fmt == "csv":  # unquoted, like the shared samples
        assert (package / "financials.csv").read_text().splitlines()[0].startswith("period_end,paid_in_capital,")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_zip_holds_the_files_at_its_root_and_the_engine_accepts_it(tmp_path, small, registry_table, registry, fmt):
    institution = registry_table.to_pylist()[0]
    path = write_package(tmp_path, institution, PERIOD, small, fmt, zip=True)
    assert path.name == f"{institution['institution_id']}_{PERIOD}.zip"
    suffix = {"csv": ".csv", "xlsx": ".xlsx", "parquet": ".parquet"}[fmt]
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(
            ["manifest.json", *(f"{name}{suffix}" for name in ("guarantees", "financials", "compensations"))]
        )
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"].values():
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    result = check(path, registry)
    assert str(result.status) == "accepted", result.findings.to_pylist()[:5]
    assert result.phases_run == [1, 2, 3, 4]


def test_compensations_left_out_when_there_are_none(tmp_path, registry_table, registry):
    tables = filing(30, seed=1)
    tables["compensations"] = tables["compensations"].slice(0, 0)
    package = write_package(tmp_path, registry_table.to_pylist()[1], PERIOD, tables)
    assert "compensations" not in json.loads((package / "manifest.json").read_text())["files"]
    assert not (package / "compensations.csv").exists()
    assert str(check(package, registry).status) == "accepted"


def test_rewriting_in_another_format_leaves_no_stale_files(tmp_path, small, registry_table):
    institution = registry_table.to_pylist()[0]
    write_package(tmp_path, institution, PERIOD, small, "csv")
    package = write_package(tmp_path, institution, PERIOD, small, "parquet")
    assert sorted(p.name for p in package.iterdir()) == [
        "compensations.parquet", "financials.parquet", "guarantees.parquet", "manifest.json"]


@pytest.mark.parametrize(("error", "rule_id", "file"), [("bad_sha", "FMT-002", "guarantees"),
                                                        ("bad_manifest", "FMT-001", "manifest.json")])
def test_package_errors(tmp_path, small, registry_table, registry, error, rule_id, file):
    package = write_package(tmp_path, registry_table.to_pylist()[0], PERIOD, small, package_errors=[error])
    result = check(package, registry)
    assert str(result.status) == "rejected"
    assert {(f["rule_id"], f["file"]) for f in result.findings.to_pylist()} == {(rule_id, file)}
    with pytest.raises(ValueError, match="unknown package errors"):
        write_package(tmp_path, registry_table.to_pylist()[0], PERIOD, small, package_errors=["nope"])


def test_generate_period_writes_registry_and_accepted_packages(tmp_path):
    packages = generate_period(tmp_path, 3, 400, PERIOD, "csv-bom", seed=2, zip=True)
    registry = read_registry_csv(tmp_path / REGISTRY_FILE)
    assert len(packages) == 3 and all(p.suffix == ".zip" for p in packages)
    assert [p.name.split("_")[0] for p in packages] == list(registry)
    for package in packages:
        result = check(package, registry)
        assert str(result.status) == "accepted", (package, result.findings.to_pylist()[:5])
    again = tmp_path / "again"
    generate_period(again, 3, 400, PERIOD, "csv-bom", seed=2, zip=False)
    first = json.loads(zipfile.ZipFile(packages[0]).read("manifest.json"))
    second = json.loads((again / packages[0].stem / "manifest.json").read_text())
    assert first == second  # same seed, same bytes


def test_generate_period_with_injection_writes_expectations(tmp_path):
    packages = generate_period(tmp_path, 2, 300, PERIOD, "csv", seed=1, inject_kinds=["bad_uscc:2", "overdue_active"])
    registry = read_registry_csv(tmp_path / REGISTRY_FILE)
    for package in packages:
        sidecar = json.loads(Path(f"{package}.expected.json").read_text(encoding="utf-8"))
        assert sidecar["status"] == "rejected"
        assert {f["rule_id"] for f in sidecar["injected"]} == {"SCH-003", "BIZ-006"}
        assert {f["rule_id"] for f in sidecar["findings"]} == {"SCH-003"}  # phase 3 hides behind the error
        result = check(package, registry)
        assert {(f["rule_id"], f["file"], f["row"]) for f in result.findings.to_pylist()} == {
            (f["rule_id"], f["file"], f["row"]) for f in sidecar["findings"]}
