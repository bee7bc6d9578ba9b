"""The hostile-package corpus (tests/hostile.py): each case gives exactly its finding, never an exception,
through the functions every door uses (``read_package`` → ``validate``)."""

from __future__ import annotations

import re

import pytest

from connectors.intake import IntakeLimits, read_package
from connectors.registry import read_registry_csv
from connectors.synthetic import REGISTRY_FILE, generate_period
from tests.hostile import CASES
from tests.validations.vcheck import NOW, run
from validations.engine import FilingStatus, validate


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_case_gives_its_finding(tmp_path, sample_registry, name):
    case = CASES[name]
    path = case.build(tmp_path)
    result = validate(read_package(path, IntakeLimits()), sample_registry, now=NOW)
    findings = result.findings.to_pylist()
    if case.expect is None:
        assert not [f for f in findings if f["rule_id"].startswith("FMT") and f["severity"] == "error"], findings
        return
    expect = case.expect
    assert result.status == FilingStatus.REJECTED
    errors = [f for f in findings if f["severity"] == "error"]
    assert {f["rule_id"] for f in errors} == {expect.rule_id}, errors
    first = next(f for f in errors if f["file"] == expect.file)
    assert (first["file"], first["row"], first["column"]) == (expect.file, expect.row, expect.column), first
    assert re.search(expect.message, first["message_en"]), first["message_en"]
    assert "Traceback" not in first["message_en"] and "<" not in first["message_en"]  # no Python repr
    assert first["message_zh"]


def test_hidden_first_sheet_is_skipped_for_the_visible_one(tmp_path, sample_registry):
    path = CASES["hidden-first-sheet"].build(tmp_path)
    result = validate(read_package(path), sample_registry, now=NOW)
    assert result.status != FilingStatus.REJECTED, result.findings.to_pylist()[:3]
    assert result.tables["guarantees"]["party_name"][24].as_py() == "张三"


def test_generated_gbk_packages_still_pass(tmp_path):
    """The generator's csv-gbk packages (GB18030 bytes of Chinese names) are read, not refused as Shift-JIS."""
    packages = generate_period(tmp_path, 3, 400, "2026-10", "csv-gbk", seed=7)
    registry = read_registry_csv(tmp_path / REGISTRY_FILE)
    for package in packages:
        result = validate(read_package(package), registry, now=NOW)
        assert result.status != FilingStatus.REJECTED, result.findings.to_pylist()[:3]
        assert not any(f["rule_id"].startswith("FMT") for f in result.findings.to_pylist())


def test_gbk_with_a_few_rare_characters_is_read(pkg):
    header, rows = pkg.rows("guarantees")
    i = header.index("party_name")
    rows[0][i], rows[1][i], rows[2][i] = "张喆", "王堃", "香港華潤集團有限公司"  # outside GB2312, inside GBK
    pkg.write_bytes("guarantees.csv", ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode("gbk"),
                    "guarantees")
    result = run(pkg.root)
    assert result.status != FilingStatus.REJECTED, result.findings.to_pylist()[:3]
    assert result.tables["guarantees"]["party_name"][2].as_py() == "香港華潤集團有限公司"


def test_latin_names_in_utf8_are_not_mojibake(pkg):
    pkg.set("guarantees", 1, "party_name", "Société Générale Müller Ærø «été»")
    assert run(pkg.root).status != FilingStatus.REJECTED
