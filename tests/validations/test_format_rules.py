"""Phase 1 (FMT-001..008) and the bad-input corpus: every malformed input gives a finding that names
the rule and where, never an exception."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from decimal import Decimal

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.intake import IntakeLimits, read_package_bytes
from tests.packages import GOV_ID
from tests.validations.vcheck import NOW, hits, rule_ids, run, where
from validations.context import BEIJING
from validations.engine import FilingStatus, validate


def _only(result, rule_id):
    assert result.status == FilingStatus.REJECTED
    assert rule_id in rule_ids(result), result.findings.to_pylist()
    return hits(result, rule_id)


# --- FMT-001 manifest ------------------------------------------------------------------------------

def test_fmt001_missing_manifest(pkg):
    (pkg.root / "manifest.json").unlink()
    assert _only(run(pkg.root), "FMT-001")[0]["file"] == "manifest.json"


def test_fmt001_manifest_not_json(pkg):
    (pkg.root / "manifest.json").write_text("{not json", encoding="utf-8")
    _only(run(pkg.root), "FMT-001")


@pytest.mark.parametrize("key", ["institution_id", "period", "submitted_at", "files", "institution_name"])
def test_fmt001_manifest_missing_key(pkg, key):
    manifest = pkg.manifest
    del manifest[key]
    pkg.write_manifest(manifest)
    assert any(f["column"] == key for f in _only(run(pkg.root), "FMT-001"))


def test_fmt001_bad_period_and_unknown_version(pkg):
    manifest = pkg.manifest
    manifest["period"] = "2026-13"
    pkg.write_manifest(manifest)
    assert _only(run(pkg.root), "FMT-001")[0]["column"] == "period"
    manifest["template_version"] = "9.9"
    pkg.write_manifest(manifest)
    assert _only(run(pkg.root), "FMT-001")[0]["column"] == "template_version"


# --- FMT-002 files and hashes ----------------------------------------------------------------------

def test_fmt002_sha_mismatch(pkg):
    manifest = pkg.manifest
    manifest["files"]["financials"]["sha256"] = "0" * 64
    pkg.write_manifest(manifest)
    found = _only(run(pkg.root), "FMT-002")
    assert found[0]["file"] == "financials" and found[0]["column"] == "sha256"


def test_fmt002_missing_file(pkg):
    (pkg.root / "compensations.csv").unlink()
    assert _only(run(pkg.root), "FMT-002")[0]["file"] == "compensations"


def test_compensations_may_be_absent_from_the_manifest(pkg):
    manifest = pkg.manifest
    del manifest["files"]["compensations"]
    pkg.write_manifest(manifest)
    result = run(pkg.root)
    # the compensated row's payout is simply not reported: no phase-1..3 error
    assert not [f for f in result.findings.to_pylist() if f["severity"] == "error"]


# --- FMT-003 unreadable files ----------------------------------------------------------------------

def test_fmt003_binary_garbage_as_csv(pkg):
    pkg.write_bytes("guarantees.csv", bytes(range(256)) * 40, "guarantees")
    assert _only(run(pkg.root), "FMT-003")[0]["file"] == "guarantees"


def test_fmt003_unknown_encoding(pkg):
    text = (pkg.root / "guarantees.csv").read_text(encoding="utf-8")
    pkg.write_bytes("guarantees.csv", text.encode("utf-16"), "guarantees")
    _only(run(pkg.root), "FMT-003")


def test_fmt003_latin1_bytes_are_not_silently_read_as_gb18030(pkg):
    header, rows = pkg.rows("guarantees")
    rows[0][header.index("party_name")] = "Société Générale Ä"
    data = "\n".join(",".join(r) for r in [header, *rows]).encode("latin-1", errors="replace")
    pkg.write_bytes("guarantees.csv", data, "guarantees")
    assert "encoding" in _only(run(pkg.root), "FMT-003")[0]["message_en"]


def test_fmt003_empty_file_and_header_only_financials(pkg):
    pkg.write_bytes("compensations.csv", b"", "compensations")
    header, _ = pkg.rows("financials")
    pkg.write_rows("financials", header, [])
    result = run(pkg.root)
    assert ("compensations", None, None) in where(result, "FMT-003")
    assert any(f["file"] == "financials" and "exactly one" in f["message_en"] for f in hits(result, "FMT-003"))


def test_header_only_guarantees_is_an_empty_ledger(pkg):
    header, _ = pkg.rows("guarantees")
    pkg.write_rows("guarantees", header, [])
    result = run(pkg.root)
    assert result.tables == {} or result.tables["guarantees"].num_rows == 0
    assert "FMT-003" not in rule_ids(result)


def test_fmt003_duplicate_header_names(pkg):
    header, rows = pkg.rows("guarantees")
    header[1] = "guarantee_id"
    pkg.write_rows("guarantees", header, rows)
    assert _only(run(pkg.root), "FMT-003")[0]["column"] == "guarantee_id"


def test_fmt003_english_and_chinese_header_for_the_same_column(pkg):
    header, rows = pkg.rows("guarantees")
    header[1] = "担保业务编号"
    pkg.write_rows("guarantees", header, rows)
    _only(run(pkg.root), "FMT-003")


def test_fmt003_ragged_row(pkg):
    header, rows = pkg.rows("guarantees")
    rows[4] = rows[4][:-2]
    pkg.write_rows("guarantees", header, rows)
    assert _only(run(pkg.root), "FMT-003")[0]["row"] == 5


def test_fmt003_truncated_zip(pkg, tmp_path):
    data = pkg.zip().read_bytes()
    filing = read_package_bytes(data[: len(data) // 2])
    result = validate(filing, {}, now=NOW)
    assert result.status == FilingStatus.REJECTED
    assert rule_ids(result) == {"FMT-003"}


def test_fmt003_zip_member_escaping_the_package(pkg):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", (pkg.root / "manifest.json").read_bytes())
        archive.writestr("../../etc/evil.csv", b"x")
    result = validate(read_package_bytes(buffer.getvalue()), {}, now=NOW)
    assert "unsafe ZIP member path" in hits(result, "FMT-003")[0]["message_en"]


def test_zip_package_with_a_top_level_folder_is_read(pkg, sample_registry):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member in pkg.root.iterdir():
            archive.write(member, f"valid-2026-10/{member.name}")
    result = validate(read_package_bytes(buffer.getvalue()), sample_registry, now=NOW)
    assert result.status != FilingStatus.REJECTED


def test_non_zip_bytes_are_fmt003():
    result = validate(read_package_bytes(b"PK not really"), {}, now=NOW)
    assert rule_ids(result) == {"FMT-003"}


def test_fmt003_corrupt_xlsx_and_not_parquet(pkg):
    pkg.write_bytes("guarantees.xlsx", b"PK\x03\x04 broken", "guarantees")
    pkg.write_bytes("financials.parquet", b"PAR1 nope", "financials")
    files = {f["file"] for f in _only(run(pkg.root), "FMT-003")}
    assert files == {"guarantees", "financials"}


def test_fmt003_unsupported_extension(pkg):
    pkg.write_bytes("guarantees.json", b"[]", "guarantees")
    _only(run(pkg.root), "FMT-003")


# --- FMT-004, FMT-005, FMT-008 ---------------------------------------------------------------------

def test_fmt004_missing_required_column(pkg):
    header, rows = pkg.rows("guarantees")
    i = header.index("fee_rate")
    pkg.write_rows("guarantees", [h for j, h in enumerate(header) if j != i], [[v for j, v in enumerate(r) if j != i] for r in rows])
    assert where(run(pkg.root), "FMT-004") == [("guarantees", None, "fee_rate")]


def test_optional_columns_may_be_absent(pkg, sample_registry):
    header, rows = pkg.rows("guarantees")
    keep = [j for j, h in enumerate(header) if h not in ("contract_no", "related_group_id")]
    pkg.write_rows("guarantees", [header[j] for j in keep], [[r[j] for j in keep] for r in rows])
    assert run(pkg.root).status != FilingStatus.REJECTED


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("loan_amount", "NaN"), ("loan_amount", "inf"), ("loan_amount", "1e309"), ("loan_amount", "12.345"),
        ("loan_amount", "1,000"), ("fee_rate", "1.5%"), ("start_date", "2026-02-30"), ("start_date", "2026/01/01"),
        ("agri", "maybe"), ("party_name", "名" * 81),
    ],
)  # fmt: skip
def test_fmt005_unparsable_values(pkg, column, value):
    pkg.set("guarantees", 7, column, value)
    found = _only(run(pkg.root), "FMT-005")
    assert [(f["row"], f["column"], f["value"]) for f in found] == [(7, column, value)]


def test_fmt008_unknown_column_is_a_warning_and_kept(pkg):
    header, rows = pkg.rows("guarantees")
    pkg.write_rows("guarantees", [*header, "remark"], [[*r, "x"] for r in rows])
    result = run(pkg.root)
    assert where(result, "FMT-008") == [("guarantees", None, "remark")]
    assert result.status == FilingStatus.NEEDS_CONFIRMATION


# --- FMT-006 registry and period -------------------------------------------------------------------

def test_fmt006_unknown_and_inactive_guarantor(pkg, sample_registry):
    assert _only(run(pkg.root, reg={}), "FMT-006")[0]["column"] == "institution_id"
    suspended = dict(sample_registry)
    suspended[GOV_ID] = dataclass_replace(suspended[GOV_ID], status="suspended")
    assert "suspended" in _only(run(pkg.root, reg=suspended), "FMT-006")[0]["message_en"]


def test_fmt006_period_must_be_closed(pkg):
    last_day = dt.datetime(2026, 10, 31, 23, 59, tzinfo=BEIJING)
    assert _only(run(pkg.root, now=last_day), "FMT-006")[0]["column"] == "period"
    first_day_after = dt.datetime(2026, 11, 1, 0, 0, tzinfo=BEIJING)
    assert "FMT-006" not in rule_ids(run(pkg.root, now=first_day_after))


def dataclass_replace(obj, **changes):
    import dataclasses

    return dataclasses.replace(obj, **changes)


# --- FMT-007 limits --------------------------------------------------------------------------------

def test_fmt007_package_too_large(pkg):
    assert rule_ids(run(pkg.root, limits=IntakeLimits(max_package_bytes=1000))) == {"FMT-007"}


def test_fmt007_zip_bomb(pkg):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in pkg.root.iterdir():
            if member.name != "guarantees.csv":
                archive.write(member, member.name)
        archive.writestr("guarantees.csv", b"0" * (50 << 20))  # 50 MiB of zeros: ~1000:1
    filing = read_package_bytes(buffer.getvalue())
    assert "FMT-007" in {f["rule_id"] for f in filing.findings.to_table().to_pylist()}


def test_fmt007_ten_megabyte_single_line(pkg):
    pkg.write_bytes("guarantees.csv", b"guarantee_id\n" + b"A" * (10 << 20), "guarantees")
    found = _only(run(pkg.root), "FMT-007")
    assert found[0]["file"] == "guarantees" and found[0]["row"] == 1


# --- accepted formats -----------------------------------------------------------------------------

def test_gb18030_csv_with_chinese_headers_is_read(pkg, sample_registry):
    header, rows = pkg.rows("guarantees")
    from schemas import get_template

    zh = [get_template("1.0").file("guarantees").column(h).zh for h in header]
    text = "\r\n".join(",".join(r) for r in [zh, *rows]) + "\r\n"
    pkg.write_bytes("guarantees.csv", text.encode("gb18030"), "guarantees")
    result = run(pkg.root)
    assert result.status != FilingStatus.REJECTED, result.findings.to_pylist()[:3]
    assert result.tables["guarantees"]["party_name"][24].as_py() == "张三"


def test_utf8_bom_csv_is_read(pkg):
    data = (pkg.root / "guarantees.csv").read_bytes()
    pkg.write_bytes("guarantees.csv", b"\xef\xbb\xbf" + data, "guarantees")
    assert run(pkg.root).status != FilingStatus.REJECTED


def test_xlsx_and_parquet_files_are_read(pkg):
    header, rows = pkg.rows("guarantees")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for r in rows:
        sheet.append([float(v) if h in ("loan_amount", "fee_rate") else v for h, v in zip(header, r, strict=True)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    pkg.write_bytes("guarantees.xlsx", buffer.getvalue(), "guarantees")
    fin_header, fin_rows = pkg.rows("financials")
    table = pa.table({h: [v] for h, v in zip(fin_header, fin_rows[0], strict=True)})
    table = table.set_column(0, "period_end", pa.array([dt.date(2026, 10, 31)]))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    pkg.write_bytes("financials.parquet", sink.getvalue(), "financials")
    result = run(pkg.root)
    assert result.status != FilingStatus.REJECTED, result.findings.to_pylist()[:3]
    # an XLSX number cell is read as the decimal it shows, exactly (rules.md 1.1)
    assert result.tables["guarantees"]["fee_rate"][0].as_py() == Decimal("0.008")


def test_xlsx_formulas_and_merged_header_cells(pkg):
    header, rows = pkg.rows("guarantees")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    sheet.cell(row=3, column=header.index("loan_amount") + 1, value="=1+1")
    buffer = io.BytesIO()
    workbook.save(buffer)
    pkg.write_bytes("guarantees.xlsx", buffer.getvalue(), "guarantees")
    found = _only(run(pkg.root), "FMT-005")
    assert (found[0]["row"], found[0]["column"]) == (2, "loan_amount") and "formula" in found[0]["message_en"]

    merged = openpyxl.Workbook()
    sheet = merged.active
    sheet.append(header)
    sheet.merge_cells(start_row=1, start_column=2, end_row=1, end_column=3)
    buffer = io.BytesIO()
    merged.save(buffer)
    pkg.write_bytes("guarantees.xlsx", buffer.getvalue(), "guarantees")
    assert "merged" in _only(run(pkg.root), "FMT-003")[0]["message_en"]


def test_manifest_is_read_from_json_with_bom(pkg):
    data = json.dumps(pkg.manifest).encode()
    (pkg.root / "manifest.json").write_bytes(b"\xef\xbb\xbf" + data)
    assert "FMT-001" not in rule_ids(run(pkg.root))


def test_zip_package_equals_folder_package(pkg, sample_registry):
    folder = run(pkg.root)
    zipped = run(pkg.zip())
    assert folder.findings.to_pylist() == zipped.findings.to_pylist()
    assert folder.status == zipped.status


def test_fmt007_line_longer_than_the_configured_limit_names_its_row(pkg):
    pkg.set("guarantees", 4, "contract_no", "C" * 60)
    pkg.set("guarantees", 4, "party_name", "名" * 80)  # row 4: ~520 bytes, longer than the header (~400)
    found = _only(run(pkg.root, limits=IntakeLimits(max_line_bytes=450)), "FMT-007")
    assert (found[0]["file"], found[0]["row"]) == ("guarantees", 4)
    assert "FMT-007" not in rule_ids(run(pkg.root, limits=IntakeLimits(max_line_bytes=700)))
